/* query.c: the OpenFold3 query format (spec/data.md §1.2-1.6) read into of3_query_set_t, the
 * dispatch to the AlphaFold3 dialects (query_af3.c), and the checks both share.
 *
 * Names, defaults and coercions follow OpenFold3's pydantic models; where OpenFold3 accepts
 * something and then silently does the wrong thing (duplicate chain ids, a non-canonical
 * position outside the sequence, lower-case or non-letter sequence characters, a ligand with
 * both or neither of smiles/ccd_codes, ...) we refuse it: docs/DEVIATIONS.md lists each case,
 * docs/QUERY.md the whole format. CCD codes are only checked for form here (ccd.c knows which
 * exist) and SMILES only for being non-empty (smiles.c parses them). */
#include "query.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "query_internal.h"

#define NAME_SHOWN 64 /* longest query name or id shown in a message */
#define IDS_SHOWN  6  /* chain ids listed in a message before "..." */

/* ---------------------------------------------------------------------------------------- */
/* Messages                                                                                  */

static size_t put(char *buf, size_t n, size_t k, const char *fmt, ...) OF3_PRINTF(4, 5);
static size_t put(char *buf, size_t n, size_t k, const char *fmt, ...)
{
	if (k >= n)
		return k;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf + k, n - k, fmt, ap);
	va_end(ap);
	return w < 0 ? n : k + (size_t)w;
}

static size_t put_name(char *buf, size_t n, size_t k, const char *s)
{
	int len = (int)strlen(s);
	return put(buf, n, k, "%.*s%s", len > NAME_SHOWN ? NAME_SHOWN : len, s,
	           len > NAME_SHOWN ? "..." : "");
}

/* "query 'mcl1', chain 2 (ids F, G, H): " */
static void location(const of3_qloc_t *at, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = 0;
	if (at->query) {
		k = put(buf, n, k, "query '");
		k = put_name(buf, n, k, at->query);
		k = put(buf, n, k, "'");
	} else if (at->i_query >= 0) {
		k = put(buf, n, k, "job %d", at->i_query + 1);
	}
	const of3_chain_t *c = at->chain;
	if (c) {
		k = put(buf, n, k, "%schain %d", k ? ", " : "", c->index + 1);
		if (c->n_ids > 0) {
			k = put(buf, n, k, " (id%s ", c->n_ids > 1 ? "s" : "");
			for (int i = 0; i < c->n_ids && i < IDS_SHOWN; i++) {
				k = put(buf, n, k, "%s", i ? ", " : "");
				k = put_name(buf, n, k, c->ids[i]);
			}
			if (c->n_ids > IDS_SHOWN)
				k = put(buf, n, k, ", ... (%d ids)", c->n_ids);
			k = put(buf, n, k, ")");
		}
	}
	if (k)
		put(buf, n, k, ": ");
}

int of3_query_fail(const of3_qloc_t *at, const char *fmt, ...)
{
	char where[512], msg[768];
	location(at, where, sizeof where);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return of3_err(OF3_ERR_INPUT, "%s: %s%s", at->label, where, msg);
}

const char *of3_query_kind(const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return "null";
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsArray(v))
		return "a list";
	if (cJSON_IsObject(v))
		return "an object";
	return "an unknown value";
}

/* ---------------------------------------------------------------------------------------- */
/* Small shared checks                                                                       */

const cJSON *of3_query_get(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return v && !cJSON_IsNull(v) ? v : NULL;
}

int of3_query_keys(const of3_qloc_t *at, const cJSON *obj, const char *const *known, int strict,
                   const char *what)
{
	unsigned long long seen = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, obj)
	{
		const char *key = item->string ? item->string : "";
		int i = 0;
		while (known[i] && strcmp(known[i], key) != 0)
			i++;
		if (known[i]) {
			if (seen & (1ull << i))
				return of3_query_fail(at, "\"%s\" is given twice in %s", key, what);
			seen |= 1ull << i;
			continue;
		}
		if (!strict)
			continue;
		char list[512];
		size_t k = 0;
		for (int j = 0; known[j]; j++)
			k = put(list, sizeof list, k, "%s%s", j ? ", " : "", known[j]);
		return of3_query_fail(at, "unknown field \"%.*s\" in %s (its fields are: %s)",
		                      NAME_SHOWN, key, what, list);
	}
	return OF3_OK;
}

int of3_query_integer(const cJSON *v, long long lo, long long hi, long long *out)
{
	if (!cJSON_IsNumber(v))
		return -1;
	double d = v->valuedouble;
	/* the comparisons are false for NaN; 2^53 bounds the doubles that are exact integers */
	if (!(d >= (double)lo && d <= (double)hi && d > -9007199254740992.0 &&
	      d < 9007199254740992.0))
		return -1;
	long long i = (long long)d;
	if ((double)i != d)
		return -1;
	*out = i;
	return 0;
}

int of3_query_strdup(const char *s, char **out)
{
	*out = strdup(s);
	return *out ? OF3_OK : of3_err(OF3_ERR_NOMEM, "out of memory");
}

int of3_query_add_id(const of3_qloc_t *at, of3_chain_t *chain, const char *field, const cJSON *v)
{
	if (!cJSON_IsString(v))
		return of3_query_fail(at, "%s: expected a chain id string, got %s", field,
		                      of3_query_kind(v));
	const char *s = v->valuestring;
	if (!s[0])
		return of3_query_fail(at, "%s: a chain id cannot be empty", field);
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c >= 0x7f)
			return of3_query_fail(at,
			                      "%s: chain id '%.*s' has a character other than "
			                      "printable ASCII (no spaces) at position %d",
			                      field, NAME_SHOWN, s, (int)(p - s) + 1);
	}
	int rc = of3_query_strdup(s, &chain->ids[chain->n_ids]);
	if (rc == OF3_OK)
		chain->n_ids++;
	return rc;
}

/* How a character that is not a sequence letter reads in a message: 'b', a space, 'é'. */
static void describe_char(const char *s, char *buf, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	if (c == ' ')
		snprintf(buf, n, "a space");
	else if (c == '\t')
		snprintf(buf, n, "a tab");
	else if (c == '\n' || c == '\r')
		snprintf(buf, n, "a line break");
	else if (c < 0x20 || c == 0x7f)
		snprintf(buf, n, "control character 0x%02X", c);
	else if (c < 0x80)
		snprintf(buf, n, "'%c'", c);
	else {
		int len = 1; /* one UTF-8 character, as many bytes as its lead byte says */
		int want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		while (len < want && ((unsigned char)s[len] & 0xc0) == 0x80)
			len++;
		snprintf(buf, n, "'%.*s'", len, s);
	}
}

int of3_query_sequence(const of3_qloc_t *at, of3_chain_t *chain, const char *field, const cJSON *v)
{
	const char *type = of3_query_mol_type_name(chain->type);
	const char *a = chain->type == OF3_MOL_RNA ? "an" : "a";
	if (!v)
		return of3_query_fail(at,
		                      "missing \"%s\": %s %s chain needs its one-letter sequence",
		                      field, a, type);
	if (!cJSON_IsString(v))
		return of3_query_fail(at, "\"%s\": expected a string of one-letter codes, got %s",
		                      field, of3_query_kind(v));
	const char *s = v->valuestring;
	if (!s[0])
		return of3_query_fail(at, "\"%s\" is empty: %s %s chain needs at least one residue",
		                      field, a, type);
	/* Letters OpenFold3 has no residue for (B, J, O, U, Z in a protein, T in RNA, U in DNA)
	 * are kept: the assembly maps them to UNK/N/DN as OpenFold3 does. Everything else is an
	 * error here, where OpenFold3 would also turn it into the unknown residue. Every
	 * character before the first bad one is ASCII, so its byte offset is its position. */
	for (const char *p = s; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			continue;
		char what[48];
		describe_char(p, what, sizeof what);
		if (*p >= 'a' && *p <= 'z')
			return of3_query_fail(at,
			                      "%s position %d: %s is not an upper-case one-letter "
			                      "code (write '%c')",
			                      field, (int)(p - s) + 1, what, *p - 'a' + 'A');
		return of3_query_fail(at, "%s position %d: %s is not an upper-case one-letter code",
		                      field, (int)(p - s) + 1, what);
	}
	if (strlen(s) > INT32_MAX / 2)
		return of3_query_fail(at, "\"%s\" is too long", field);
	return of3_query_strdup(s, &chain->sequence);
}

int of3_query_ccd_code(const of3_qloc_t *at, const char *what, const char *code)
{
	size_t n = strlen(code);
	int ok = n >= 1 && n <= 5;
	for (size_t i = 0; ok && i < n; i++)
		ok = (code[i] >= 'A' && code[i] <= 'Z') || (code[i] >= '0' && code[i] <= '9');
	if (ok)
		return OF3_OK;
	return of3_query_fail(at,
	                      "%s: '%.*s' is not a CCD code (1 to 5 upper-case letters or "
	                      "digits%s)",
	                      what, NAME_SHOWN, code,
	                      strncmp(code, "CCD_", 4) == 0 ? "; drop the CCD_ prefix" : "");
}

int of3_query_noncanonical_add(const of3_qloc_t *at, of3_chain_t *chain, const char *field,
                               long long position, const char *code)
{
	int len = (int)strlen(chain->sequence);
	if (position < 1 || position > len)
		return of3_query_fail(at, "%s: position %lld is outside the sequence (1 to %d)",
		                      field, position, len);
	char what[96];
	snprintf(what, sizeof what, "%s: position %lld", field, position);
	int rc = of3_query_ccd_code(at, what, code);
	if (rc < 0)
		return rc;
	of3_noncanonical_t *nc = &chain->noncanonical[chain->n_noncanonical++];
	nc->position = (int)position;
	snprintf(nc->ccd, sizeof nc->ccd, "%s", code);
	return OF3_OK;
}

static int by_position(const void *a, const void *b)
{
	const of3_noncanonical_t *x = a, *y = b;
	return (x->position > y->position) - (x->position < y->position);
}

int of3_query_noncanonical_done(const of3_qloc_t *at, of3_chain_t *chain, const char *field)
{
	if (chain->n_noncanonical > 1)
		qsort(chain->noncanonical, (size_t)chain->n_noncanonical,
		      sizeof *chain->noncanonical, by_position);
	for (int i = 1; i < chain->n_noncanonical; i++)
		if (chain->noncanonical[i].position == chain->noncanonical[i - 1].position)
			return of3_query_fail(at, "%s: position %d is given twice", field,
			                      chain->noncanonical[i].position);
	return OF3_OK;
}

int of3_query_path(const of3_qloc_t *at, const char *what, const char *path, int allow_dir,
                   char **out)
{
	struct stat st;
	if (!path[0])
		return of3_query_fail(at, "%s: the path is empty", what);
	if (stat(path, &st) != 0)
		return of3_query_fail(at, "%s: '%s' %s", what, path,
		                      errno == ENOENT || errno == ENOTDIR ? "does not exist"
		                                                          : strerror(errno));
	if (S_ISDIR(st.st_mode) && !allow_dir)
		return of3_query_fail(at, "%s: '%s' is a directory, not a file", what, path);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return of3_query_fail(at, "%s: '%s' is not a regular file%s", what, path,
		                      allow_dir ? " or a directory" : "");
	return of3_query_strdup(path, out);
}

/* A seed: a JSON integer or a string of decimal digits (the AlphaFold Server writes seeds as
 * strings; pydantic's lax int accepts them too), 0..2^32-1. */
static int seed_value(const cJSON *v, long long *out)
{
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		long long x = 0;
		if (!s[0] || strlen(s) > 10)
			return -1;
		for (; *s; s++) {
			if (*s < '0' || *s > '9')
				return -1;
			x = 10 * x + (*s - '0');
		}
		if (x > 4294967295ll)
			return -1;
		*out = x;
		return 0;
	}
	return of3_query_integer(v, 0, 4294967295ll, out);
}

int of3_query_seeds(const of3_qloc_t *at, const char *field, const cJSON *v, int *n,
                    long long **out)
{
	*n = 0;
	*out = NULL;
	if (!cJSON_IsArray(v))
		return of3_query_fail(at, "\"%s\": expected a list of integer seeds, got %s", field,
		                      of3_query_kind(v));
	int size = cJSON_GetArraySize(v);
	if (size == 0)
		return OF3_OK;
	long long *seeds = calloc((size_t)size, sizeof *seeds);
	if (!seeds)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	const cJSON *item;
	int i = 0;
	cJSON_ArrayForEach(item, v)
	{
		if (seed_value(item, &seeds[i]) < 0) {
			free(seeds);
			return of3_query_fail(at,
			                      "\"%s\" item %d: expected a whole number from 0 to "
			                      "4294967295, got %s",
			                      field, i + 1, of3_query_kind(item));
		}
		i++;
	}
	*n = size;
	*out = seeds;
	return OF3_OK;
}

typedef struct {
	const char *id;
	int chain, order; /* chain index; order of appearance in the query */
} id_ref_t;

static int by_id(const void *a, const void *b)
{
	const id_ref_t *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* OpenFold3 does not check this; a repeated id silently merges two chains into one segment
 * with a wrong asym_id (spec/data.md §1.4). Sorting keeps a 100 MB query file fast; of all
 * repeats the one whose second use comes first in the file is reported. */
static int check_duplicate_ids(const of3_qloc_t *query_at, const of3_query_t *q)
{
	size_t n = 0;
	for (int i = 0; i < q->n_chains; i++)
		n += (size_t)q->chains[i].n_ids;
	if (n < 2)
		return OF3_OK;
	id_ref_t *refs = malloc(n * sizeof *refs);
	if (!refs)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	size_t k = 0;
	for (int i = 0; i < q->n_chains; i++)
		for (int j = 0; j < q->chains[i].n_ids; j++, k++)
			refs[k] = (id_ref_t){q->chains[i].ids[j], i, (int)k};
	qsort(refs, n, sizeof *refs, by_id);
	size_t worst = 0; /* index of the second use that comes first */
	for (size_t i = 1; i < n; i++)
		if (strcmp(refs[i].id, refs[i - 1].id) == 0 &&
		    (worst == 0 || refs[i].order < refs[worst].order))
			worst = i;
	int rc = OF3_OK;
	if (worst) {
		of3_qloc_t at = *query_at;
		at.chain = &q->chains[refs[worst].chain];
		if (refs[worst].chain == refs[worst - 1].chain)
			rc = of3_query_fail(&at, "chain id '%.*s' is given twice", NAME_SHOWN,
			                    refs[worst].id);
		else
			rc = of3_query_fail(&at,
			                    "chain id '%.*s' is already used by chain %d (every id "
			                    "names one chain of the query)",
			                    NAME_SHOWN, refs[worst].id, refs[worst - 1].chain + 1);
	}
	free(refs);
	return rc;
}

int of3_query_finish(const of3_qloc_t *at, of3_query_t *q, const cJSON *json, int n_seeds,
                     const long long *seeds)
{
	int rc = check_duplicate_ids(at, q);
	if (rc < 0)
		return rc;
	q->json = cJSON_PrintUnformatted(json);
	if (!q->json)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	if (n_seeds > 0) {
		q->seeds = malloc((size_t)n_seeds * sizeof *q->seeds);
		if (!q->seeds)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		memcpy(q->seeds, seeds, (size_t)n_seeds * sizeof *q->seeds);
		q->n_seeds = n_seeds;
	}
	return OF3_OK;
}

static int by_name(const void *a, const void *b)
{
	const of3_query_t *const *x = a, *const *y = b;
	int c = strcmp((*x)->name, (*y)->name);
	return c ? c : (*x > *y) - (*x < *y);
}

int of3_query_names_unique(const char *label, const of3_query_set_t *qs)
{
	if (qs->n_queries < 2)
		return OF3_OK;
	const of3_query_t **sorted = malloc((size_t)qs->n_queries * sizeof *sorted);
	if (!sorted)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; i < qs->n_queries; i++)
		sorted[i] = &qs->queries[i];
	qsort(sorted, (size_t)qs->n_queries, sizeof *sorted, by_name);
	const of3_query_t *first = NULL, *second = NULL;
	for (int i = 1; i < qs->n_queries; i++)
		if (strcmp(sorted[i]->name, sorted[i - 1]->name) == 0 &&
		    (!second || sorted[i] < second))
			first = sorted[i - 1], second = sorted[i];
	free(sorted);
	if (!second)
		return OF3_OK;
	of3_qloc_t at = {label, second->name, (int)(second - qs->queries), NULL};
	return of3_query_fail(&at,
	                      "the name is also used by query %d; each query needs its own name "
	                      "(it names the output)",
	                      (int)(first - qs->queries) + 1);
}

/* ---------------------------------------------------------------------------------------- */
/* The OpenFold3 format                                                                      */

static const char *const top_keys[] = {"queries", "seeds", NULL};
static const char *const query_keys[] = {
        "chains",        "query_name",     "use_msas", "use_paired_msas",
        "use_main_msas", "covalent_bonds", NULL};
static const char *const chain_keys[] = {"molecule_type",
                                         "chain_ids",
                                         "sequence",
                                         "non_canonical_residues",
                                         "smiles",
                                         "ccd_codes",
                                         "main_msa_file_paths",
                                         "paired_msa_file_paths",
                                         "template_alignment_file_path",
                                         "template_entry_chain_ids",
                                         "sdf_file_path",
                                         NULL};

/* pydantic's lax bool: true/false, 0/1, and these strings in any case. */
static int parse_bool(const of3_qloc_t *at, const cJSON *obj, const char *key, int *out)
{
	static const char *const yes[] = {"true", "1", "yes", "y", "on", "t", NULL};
	static const char *const no[] = {"false", "0", "no", "n", "off", "f", NULL};
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	long long i;
	*out = 1;
	if (!v)
		return OF3_OK;
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v);
		return OF3_OK;
	}
	if (of3_query_integer(v, 0, 1, &i) == 0) {
		*out = (int)i;
		return OF3_OK;
	}
	for (int k = 0; cJSON_IsString(v) && yes[k]; k++) {
		if (strcasecmp(v->valuestring, yes[k]) == 0)
			return OF3_OK;
		if (strcasecmp(v->valuestring, no[k]) == 0) {
			*out = 0;
			return OF3_OK;
		}
	}
	return of3_query_fail(at, "\"%s\": expected true or false, got %s", key, of3_query_kind(v));
}

static int parse_mol_type(const of3_qloc_t *at, const cJSON *chain, of3_mol_type_t *type)
{
	static const char *const names[] = {"protein", "rna", "dna", "ligand"};
	const cJSON *v = of3_query_get(chain, "molecule_type");
	long long i;
	if (!v)
		return of3_query_fail(at,
		                      "missing \"molecule_type\" (protein, rna, dna or ligand)");
	if (cJSON_IsString(v)) {
		for (int k = 0; k < 4; k++)
			if (strcasecmp(v->valuestring, names[k]) == 0) {
				*type = (of3_mol_type_t)k;
				return OF3_OK;
			}
		return of3_query_fail(at,
		                      "molecule_type '%.*s' is not one of protein, rna, dna, "
		                      "ligand",
		                      NAME_SHOWN, v->valuestring);
	}
	/* OpenFold3 takes the enum's integers too; a JSON true would be 1 (RNA) there */
	if (of3_query_integer(v, 0, 3, &i) == 0) {
		*type = (of3_mol_type_t)i;
		return OF3_OK;
	}
	return of3_query_fail(at,
	                      "molecule_type: expected protein, rna, dna or ligand (or 0 to 3), "
	                      "got %s",
	                      of3_query_kind(v));
}

/* A string or a list of strings (pydantic's _ensure_list) into a new array of copies; paths
 * are checked to exist. */
static int string_list(const of3_qloc_t *at, const cJSON *obj, const char *key, int path,
                       int allow_dir, int *n, char ***out)
{
	const cJSON *v = of3_query_get(obj, key), *item;
	if (!v)
		return OF3_OK;
	int size = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 1;
	if (!cJSON_IsArray(v) && !cJSON_IsString(v))
		return of3_query_fail(at, "\"%s\": expected a string or a list of strings, got %s",
		                      key, of3_query_kind(v));
	if (size == 0)
		return OF3_OK;
	if (!(*out = calloc((size_t)size, sizeof **out)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	int rc = OF3_OK;
	const cJSON *list = cJSON_IsArray(v) ? v : NULL;
	cJSON_ArrayForEach(item, list)
	{
		if (rc < 0)
			break;
		char what[96];
		snprintf(what, sizeof what, "\"%s\" item %d", key, *n + 1);
		if (!cJSON_IsString(item))
			rc = of3_query_fail(at, "%s: expected a string, got %s", what,
			                    of3_query_kind(item));
		else if (path)
			rc = of3_query_path(at, what, item->valuestring, allow_dir, &(*out)[*n]);
		else
			rc = of3_query_strdup(item->valuestring, &(*out)[*n]);
		*n += rc == OF3_OK;
	}
	if (!cJSON_IsArray(v)) {
		char what[96];
		snprintf(what, sizeof what, "\"%s\"", key);
		rc = path ? of3_query_path(at, what, v->valuestring, allow_dir, &(*out)[0])
		          : of3_query_strdup(v->valuestring, &(*out)[0]);
		*n += rc == OF3_OK;
	}
	return rc;
}

/* "17" -> 17: digits only (OpenFold3's int() would also take "+17" or " 17"). -1 when not a
 * number, -2 when too large to be a position. */
static int position_key(const char *s, long long *out)
{
	long long x = 0;
	if (!s || !s[0])
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (x > INT32_MAX)
			return -2;
		x = 10 * x + (*s - '0');
	}
	*out = x;
	return 0;
}

static int parse_polymer(const of3_qloc_t *at, const cJSON *c, of3_chain_t *ch)
{
	static const char *const ligand_only[] = {"smiles", "ccd_codes", "sdf_file_path", NULL};
	const char *type = of3_query_mol_type_name(ch->type);
	for (int k = 0; ligand_only[k]; k++)
		if (of3_query_get(c, ligand_only[k]))
			return of3_query_fail(at,
			                      "\"%s\" is for ligand chains; a %s chain is given by "
			                      "its \"sequence\"",
			                      ligand_only[k], type);
	int rc = of3_query_sequence(at, ch, "sequence", of3_query_get(c, "sequence"));
	const cJSON *nc = of3_query_get(c, "non_canonical_residues"), *item;
	if (rc < 0 || !nc)
		return rc;
	if (!cJSON_IsObject(nc))
		return of3_query_fail(at,
		                      "\"non_canonical_residues\": expected an object such as "
		                      "{\"3\": \"PSU\"}, got %s",
		                      of3_query_kind(nc));
	int size = cJSON_GetArraySize(nc);
	if (size > 0 && !(ch->noncanonical = calloc((size_t)size, sizeof *ch->noncanonical)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(item, nc)
	{
		long long pos;
		int key = position_key(item->string, &pos);
		if (key == -2)
			return of3_query_fail(
			        at,
			        "non_canonical_residues: position %.20s... is outside the "
			        "sequence (1 to %d)",
			        item->string, (int)strlen(ch->sequence));
		if (key < 0)
			return of3_query_fail(
			        at,
			        "non_canonical_residues: key '%.*s' is not a position "
			        "(a whole number from 1 to %d, written as a string)",
			        NAME_SHOWN, item->string ? item->string : "",
			        (int)strlen(ch->sequence));
		if (!cJSON_IsString(item))
			return of3_query_fail(
			        at,
			        "non_canonical_residues: position %lld: expected a CCD "
			        "code string, got %s",
			        pos, of3_query_kind(item));
		rc = of3_query_noncanonical_add(at, ch, "non_canonical_residues", pos,
		                                item->valuestring);
		if (rc < 0)
			return rc;
	}
	return of3_query_noncanonical_done(at, ch, "non_canonical_residues");
}

static int parse_ligand(const of3_qloc_t *at, const cJSON *c, of3_chain_t *ch)
{
	if (of3_query_get(c, "sequence"))
		return of3_query_fail(at,
		                      "\"sequence\" is for protein, rna and dna chains; a ligand "
		                      "takes \"ccd_codes\" or \"smiles\"");
	const cJSON *nc = of3_query_get(c, "non_canonical_residues");
	if (nc && !(cJSON_IsObject(nc) && cJSON_GetArraySize(nc) == 0))
		return of3_query_fail(at, "\"non_canonical_residues\" is for protein, rna and dna "
		                          "chains, not ligands");
	if (of3_query_get(c, "sdf_file_path"))
		return of3_query_fail(at,
		                      "\"sdf_file_path\" is not supported (OpenFold3 does not "
		                      "implement it either): give the ligand as \"ccd_codes\" or "
		                      "\"smiles\"");
	const cJSON *smiles = of3_query_get(c, "smiles"), *ccd = of3_query_get(c, "ccd_codes");
	if (smiles && ccd)
		return of3_query_fail(at, "give either \"ccd_codes\" or \"smiles\", not both");
	if (!smiles && !ccd)
		return of3_query_fail(at, "a ligand chain needs \"ccd_codes\" or \"smiles\"");
	if (smiles) {
		if (!cJSON_IsString(smiles))
			return of3_query_fail(at, "\"smiles\": expected a string, got %s",
			                      of3_query_kind(smiles));
		if (!smiles->valuestring[0])
			return of3_query_fail(at, "\"smiles\" is empty");
		return of3_query_strdup(smiles->valuestring, &ch->smiles);
	}
	const cJSON *code = ccd;
	if (cJSON_IsArray(ccd)) {
		int n = cJSON_GetArraySize(ccd);
		if (n == 0)
			return of3_query_fail(at, "\"ccd_codes\" is an empty list");
		if (n > 1)
			return of3_query_fail(
			        at,
			        "\"ccd_codes\" lists %d codes: only one CCD code per "
			        "ligand chain is supported (as in OpenFold3); give each "
			        "component its own chain",
			        n);
		code = ccd->child;
	}
	if (!cJSON_IsString(code))
		return of3_query_fail(at, "\"ccd_codes\": expected a CCD code string, got %s",
		                      of3_query_kind(code));
	int rc = of3_query_ccd_code(at, "ccd_codes", code->valuestring);
	return rc < 0 ? rc : of3_query_strdup(code->valuestring, &ch->ccd_code);
}

static int parse_chain(of3_qloc_t at, const cJSON *c, of3_chain_t *ch)
{
	at.chain = ch;
	if (!cJSON_IsObject(c))
		return of3_query_fail(&at, "expected a chain object, got %s", of3_query_kind(c));
	/* the ids first, so that every later message names them */
	const cJSON *ids = of3_query_get(c, "chain_ids"), *item;
	if (!ids)
		return of3_query_fail(&at, "missing \"chain_ids\"");
	if (!cJSON_IsString(ids) && !cJSON_IsArray(ids))
		return of3_query_fail(&at,
		                      "\"chain_ids\": expected a string or a list of strings, "
		                      "got %s",
		                      of3_query_kind(ids));
	int n = cJSON_IsArray(ids) ? cJSON_GetArraySize(ids) : 1;
	if (n == 0)
		return of3_query_fail(&at, "\"chain_ids\" is an empty list");
	if (!(ch->ids = calloc((size_t)n, sizeof *ch->ids)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	int rc = OF3_OK;
	if (cJSON_IsString(ids))
		rc = of3_query_add_id(&at, ch, "\"chain_ids\"", ids);
	const cJSON *list = cJSON_IsArray(ids) ? ids : NULL;
	cJSON_ArrayForEach(item, list)
	{
		char what[48];
		snprintf(what, sizeof what, "\"chain_ids\" item %d", ch->n_ids + 1);
		if ((rc = of3_query_add_id(&at, ch, what, item)) < 0)
			break;
	}
	if (rc < 0 || (rc = of3_query_keys(&at, c, chain_keys, 1, "a chain")) < 0 ||
	    (rc = parse_mol_type(&at, c, &ch->type)) < 0)
		return rc;
	rc = ch->type == OF3_MOL_LIGAND ? parse_ligand(&at, c, ch) : parse_polymer(&at, c, ch);
	if (rc < 0 ||
	    (rc = string_list(&at, c, "main_msa_file_paths", 1, 1, &ch->n_main_msa,
	                      &ch->main_msa_paths)) < 0 ||
	    (rc = string_list(&at, c, "paired_msa_file_paths", 1, 1, &ch->n_paired_msa,
	                      &ch->paired_msa_paths)) < 0 ||
	    (rc = string_list(&at, c, "template_entry_chain_ids", 0, 0, &ch->n_template_chain_ids,
	                      &ch->template_chain_ids)) < 0)
		return rc;
	const cJSON *tpl = of3_query_get(c, "template_alignment_file_path");
	if (!tpl)
		return OF3_OK;
	if (!cJSON_IsString(tpl))
		return of3_query_fail(&at,
		                      "\"template_alignment_file_path\": expected a path string, "
		                      "got %s",
		                      of3_query_kind(tpl));
	return of3_query_path(&at, "\"template_alignment_file_path\"", tpl->valuestring, 0,
	                      &ch->template_alignment_path);
}

/* The name becomes the query's output directory (of3-writecif), as in OpenFold3. */
static int check_query_name(const of3_qloc_t *at, const char *name)
{
	if (!name[0])
		return of3_query_fail(at, "a query name cannot be empty");
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
		return of3_query_fail(at,
		                      "the name cannot be '.', '..' or contain '/': it names the "
		                      "query's output directory");
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return of3_query_fail(at, "the name has a control character at position %d",
			                      (int)(p - name) + 1);
	return OF3_OK;
}

static int parse_query(const char *label, int i_query, const cJSON *v, of3_query_t *q, int n_seeds,
                       const long long *seeds)
{
	of3_qloc_t at = {label, v->string ? v->string : "", i_query, NULL};
	int rc = check_query_name(&at, at.query);
	if (rc < 0 || (rc = of3_query_strdup(at.query, &q->name)) < 0)
		return rc;
	if (!cJSON_IsObject(v))
		return of3_query_fail(&at, "expected an object with \"chains\", got %s",
		                      of3_query_kind(v));
	if ((rc = of3_query_keys(&at, v, query_keys, 0, "a query")) < 0 ||
	    (rc = parse_bool(&at, v, "use_msas", &q->use_msas)) < 0 ||
	    (rc = parse_bool(&at, v, "use_paired_msas", &q->use_paired_msas)) < 0 ||
	    (rc = parse_bool(&at, v, "use_main_msas", &q->use_main_msas)) < 0)
		return rc;
	const cJSON *name = of3_query_get(v, "query_name");
	if (name && !cJSON_IsString(name))
		return of3_query_fail(&at, "\"query_name\": expected a string, got %s",
		                      of3_query_kind(name));
	const cJSON *bonds = of3_query_get(v, "covalent_bonds");
	if (bonds && !cJSON_IsArray(bonds))
		return of3_query_fail(&at, "\"covalent_bonds\": expected a list, got %s",
		                      of3_query_kind(bonds));
	if (bonds && cJSON_GetArraySize(bonds) > 0)
		return of3_query_fail(&at, "\"covalent_bonds\" is not supported: OpenFold3 accepts "
		                           "the field but never uses it, so the bonds would be "
		                           "silently dropped; remove it");
	const cJSON *chains = cJSON_GetObjectItemCaseSensitive(v, "chains"), *item;
	if (!chains)
		return of3_query_fail(&at, "missing \"chains\"");
	if (!cJSON_IsArray(chains))
		return of3_query_fail(&at, "\"chains\": expected a list of chains, got %s",
		                      of3_query_kind(chains));
	int n = cJSON_GetArraySize(chains);
	if (n == 0)
		return of3_query_fail(&at, "\"chains\" is empty: a query needs at least one chain");
	if (!(q->chains = calloc((size_t)n, sizeof *q->chains)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(item, chains)
	{
		of3_chain_t *ch = &q->chains[q->n_chains];
		ch->index = q->n_chains++;
		if ((rc = parse_chain(at, item, ch)) < 0)
			return rc;
	}
	return of3_query_finish(&at, q, v, n_seeds, seeds);
}

static int parse_openfold3(const cJSON *root, const char *label, of3_query_set_t *qs)
{
	of3_qloc_t at = {label, NULL, -1, NULL};
	int rc = of3_query_keys(&at, root, top_keys, 0, "the top level");
	const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(root, "seeds"), *item;
	if (rc == OF3_OK && seeds)
		rc = of3_query_seeds(&at, "seeds", seeds, &qs->n_seeds, &qs->seeds);
	if (rc < 0)
		return rc;
	const cJSON *queries = cJSON_GetObjectItemCaseSensitive(root, "queries");
	if (!cJSON_IsObject(queries))
		return of3_query_fail(&at,
		                      "\"queries\": expected an object of named queries, got %s",
		                      of3_query_kind(queries));
	int n = cJSON_GetArraySize(queries);
	if (n == 0)
		return of3_query_fail(&at, "\"queries\" is empty: nothing to predict");
	if (!(qs->queries = calloc((size_t)n, sizeof *qs->queries)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(item, queries)
	{
		of3_query_t *q = &qs->queries[qs->n_queries++];
		if ((rc = parse_query(label, qs->n_queries - 1, item, q, qs->n_seeds, qs->seeds)) <
		    0)
			return rc;
	}
	return OF3_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Entry points                                                                              */

int of3_query_set_parse(const cJSON *root, const char *label, of3_query_set_t *qs)
{
	of3_qloc_t at = {label, NULL, -1, NULL};
	const cJSON *dialect;
	int rc;
	memset(qs, 0, sizeof *qs);
	if (cJSON_IsArray(root)) {
		qs->dialect = "alphafold-server";
		rc = of3_query_parse_server(root, label, qs);
	} else if (!cJSON_IsObject(root)) {
		rc = of3_query_fail(&at, "the top level is %s, not an object with \"queries\"",
		                    of3_query_kind(root));
	} else if (cJSON_GetObjectItemCaseSensitive(root, "queries")) {
		qs->dialect = "openfold3";
		rc = parse_openfold3(root, label, qs);
	} else if ((dialect = of3_query_get(root, "dialect"))) {
		if (cJSON_IsString(dialect) && strcmp(dialect->valuestring, "alphafold3") == 0) {
			qs->dialect = "alphafold3";
			rc = of3_query_parse_alphafold3(root, label, qs);
		} else if (cJSON_IsString(dialect) &&
		           strcmp(dialect->valuestring, "alphafoldserver") == 0) {
			rc = of3_query_fail(&at, "an AlphaFold Server job must be inside a list: "
			                         "[{\"name\": ...}] (as AlphaFold3 requires)");
		} else {
			rc = of3_query_fail(&at,
			                    "\"dialect\": %s%.*s%s is not one of \"alphafold3\" or "
			                    "\"alphafoldserver\"",
			                    cJSON_IsString(dialect) ? "'" : "", NAME_SHOWN,
			                    cJSON_IsString(dialect) ? dialect->valuestring
			                                            : of3_query_kind(dialect),
			                    cJSON_IsString(dialect) ? "'" : "");
		}
	} else if (cJSON_GetObjectItemCaseSensitive(root, "sequences")) {
		rc = of3_query_fail(&at,
		                    "this looks like an AlphaFold3 input but has no \"dialect\": "
		                    "\"alphafold3\" and \"version\"");
	} else {
		rc = of3_query_fail(&at, "missing \"queries\": not an OpenFold3 query file "
		                         "({\"queries\": {name: {\"chains\": [...]}}})");
	}
	if (rc == OF3_OK)
		rc = of3_query_names_unique(label, qs);
	if (rc < 0)
		of3_query_set_free(qs);
	return rc;
}

static void free_strings(char **s, int n)
{
	for (int i = 0; s && i < n; i++)
		free(s[i]);
	free(s);
}

void of3_query_set_free(of3_query_set_t *qs)
{
	if (!qs)
		return;
	for (int i = 0; qs->queries && i < qs->n_queries; i++) {
		of3_query_t *q = &qs->queries[i];
		for (int j = 0; q->chains && j < q->n_chains; j++) {
			of3_chain_t *c = &q->chains[j];
			free_strings(c->ids, c->n_ids);
			free(c->sequence);
			free(c->noncanonical);
			free(c->ccd_code);
			free(c->smiles);
			free_strings(c->main_msa_paths, c->n_main_msa);
			free_strings(c->paired_msa_paths, c->n_paired_msa);
			free(c->template_alignment_path);
			free_strings(c->template_chain_ids, c->n_template_chain_ids);
		}
		free(q->chains);
		free(q->name);
		cJSON_free(q->json);
		free(q->seeds);
	}
	free(qs->queries);
	free(qs->seeds);
	memset(qs, 0, sizeof *qs);
}

const char *of3_query_mol_type_name(of3_mol_type_t type)
{
	switch (type) {
	case OF3_MOL_PROTEIN: return "protein";
	case OF3_MOL_RNA: return "rna";
	case OF3_MOL_DNA: return "dna";
	case OF3_MOL_LIGAND: return "ligand";
	}
	return "unknown";
}
