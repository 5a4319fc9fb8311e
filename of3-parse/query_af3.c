/* query_af3.c: the two AlphaFold3 JSON dialects mapped onto OpenFold3 queries (spec/data.md
 * §1.7; docs/QUERY.md has the table).
 *
 * "alphafold3" (google-deepmind/alphafold3 docs/input.md, versions 1-4): one job per file,
 * {"dialect": "alphafold3", "version": N, "name", "modelSeeds", "sequences": [{"protein" |
 * "rna" | "dna" | "ligand": {...}}], ...}. The AlphaFold Server form (google-deepmind/alphafold
 * server/README.md): a list of jobs whose sequences are proteinChain / dnaSequence /
 * rnaSequence / ligand / ion entries with a copy count and "CCD_"-prefixed codes. Keys are
 * checked as strictly as AlphaFold3 checks them. What OpenFold3 cannot express (bonds, a
 * user CCD, inline MSAs, templates, glycans, multi-component ligands) is refused by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "query_internal.h"

#define MAX_SERVER_CHAINS 100000 /* copies in one AlphaFold Server job, all entities together */

/* The job name as AlphaFold3 names its outputs (Input.sanitised_name): spaces become '_',
 * only letters, digits, '_', '-' and '.' are kept. */
static int job_name(const of3_qloc_t *at, const cJSON *v, char **out)
{
	if (!v)
		return of3_query_fail(at, "missing \"name\"");
	if (!cJSON_IsString(v))
		return of3_query_fail(at, "\"name\": expected a string, got %s", of3_query_kind(v));
	char *s = malloc(strlen(v->valuestring) + 1), *w = s;
	if (!s)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (const char *p = v->valuestring; *p; p++) {
		char c = *p == ' ' ? '_' : *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || c == '.')
			*w++ = c;
	}
	*w = 0;
	*out = s;
	if (!s[0] || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
	    strspn(v->valuestring, " ") == strlen(v->valuestring))
		return of3_query_fail(at,
		                      "\"name\" needs a letter, digit, '_', '-' or '.' (it names "
		                      "the output)");
	return OF3_OK;
}

/* AlphaFold3 resolves a relative path against the input file's directory (_read_file). */
static int resolve(const char *label, const char *path, char **out)
{
	const char *slash = label ? strrchr(label, '/') : NULL;
	if (path[0] == '/' || !slash)
		return of3_query_strdup(path, out);
	size_t dir = (size_t)(slash - label) + 1, len = strlen(path);
	if (!(*out = malloc(dir + len + 1)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	memcpy(*out, label, dir);
	memcpy(*out + dir, path, len + 1);
	return OF3_OK;
}

/* unpairedMsa/unpairedMsaPath (or the paired pair) -> one MSA path. An empty or absent inline
 * MSA needs nothing: without MSA files a chain gets its query-only MSA in of3-featurize. */
static int msa_path(const of3_qloc_t *at, const char *label, const cJSON *body, const char *key,
                    const char *path_key, int *n, char ***out)
{
	const cJSON *inl = of3_query_get(body, key), *path = of3_query_get(body, path_key);
	if (inl && !cJSON_IsString(inl))
		return of3_query_fail(at, "\"%s\": expected an A3M string, got %s", key,
		                      of3_query_kind(inl));
	if (inl && inl->valuestring[0])
		return of3_query_fail(at,
		                      "\"%s\": inline MSAs are not supported; write the A3M to a "
		                      "file and give its path in \"%s\"",
		                      key, path_key);
	if (path && !cJSON_IsString(path))
		return of3_query_fail(at, "\"%s\": expected a path string, got %s", path_key,
		                      of3_query_kind(path));
	if (!path || !path->valuestring[0])
		return OF3_OK;
	char *full = NULL, what[48];
	int rc = resolve(label, path->valuestring, &full);
	if (rc < 0)
		return rc;
	if (!(*out = calloc(1, sizeof **out))) {
		free(full);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	snprintf(what, sizeof what, "\"%s\"", path_key);
	rc = of3_query_path(at, what, full, 1, &(*out)[0]);
	free(full);
	*n = rc == OF3_OK;
	return rc;
}

/* A list of {type, position} modifications -> non-canonical residues. The AlphaFold3 dialect
 * writes bare CCD codes; the server form prefixes them with "CCD_" (strip_prefix). */
static int modifications(const of3_qloc_t *at, const cJSON *body, of3_chain_t *ch, int strip_prefix)
{
	const cJSON *mods = of3_query_get(body, "modifications"), *m;
	if (!mods)
		return OF3_OK;
	if (!cJSON_IsArray(mods))
		return of3_query_fail(at, "\"modifications\": expected a list, got %s",
		                      of3_query_kind(mods));
	int protein = ch->type == OF3_MOL_PROTEIN, rc, i = 0;
	const char *type_key = protein ? "ptmType" : "modificationType";
	const char *pos_key = protein ? "ptmPosition" : "basePosition";
	const char *const known[] = {type_key, pos_key, NULL};
	int size = cJSON_GetArraySize(mods);
	if (size > 0 && !(ch->noncanonical = calloc((size_t)size, sizeof *ch->noncanonical)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(m, mods)
	{
		char what[48];
		snprintf(what, sizeof what, "modification item %d", ++i);
		if (!cJSON_IsObject(m))
			return of3_query_fail(
			        at, "\"modifications\" item %d: expected an object, got %s", i,
			        of3_query_kind(m));
		if ((rc = of3_query_keys(at, m, known, 1, what)) < 0)
			return rc;
		const cJSON *type = of3_query_get(m, type_key), *pos = of3_query_get(m, pos_key);
		long long position;
		if (!cJSON_IsString(type))
			return of3_query_fail(at,
			                      "\"modifications\" item %d: \"%s\": expected a CCD "
			                      "code string, got %s",
			                      i, type_key, of3_query_kind(type));
		if (of3_query_integer(pos, -(1ll << 40), 1ll << 40, &position) < 0)
			return of3_query_fail(at,
			                      "\"modifications\" item %d: \"%s\": expected a whole "
			                      "number (1-based), got %s",
			                      i, pos_key, of3_query_kind(pos));
		const char *code = type->valuestring;
		if (strip_prefix && strncmp(code, "CCD_", 4) == 0)
			code += 4;
		if ((rc = of3_query_noncanonical_add(at, ch, "modifications", position, code)) < 0)
			return rc;
	}
	return of3_query_noncanonical_done(at, ch, "modifications");
}

/* ---------------------------------------------------------------------------------------- */
/* "dialect": "alphafold3"                                                                   */

static const char *const af3_top_keys[] = {"dialect",    "version",     "name",
                                           "modelSeeds", "sequences",   "bondedAtomPairs",
                                           "userCCD",    "userCCDPath", NULL};
static const char *const af3_protein_keys[] = {"id",          "sequence",      "modifications",
                                               "description", "unpairedMsa",   "unpairedMsaPath",
                                               "pairedMsa",   "pairedMsaPath", "templates",
                                               NULL};
static const char *const af3_rna_keys[] = {
        "id", "sequence", "modifications", "description", "unpairedMsa", "unpairedMsaPath", NULL};
static const char *const af3_dna_keys[] = {"id", "sequence", "modifications", "description", NULL};
static const char *const af3_ligand_keys[] = {"id", "ccdCodes", "smiles", "description", NULL};

static int af3_ligand(const of3_qloc_t *at, const cJSON *body, of3_chain_t *ch)
{
	const cJSON *ccd = of3_query_get(body, "ccdCodes"), *smiles = of3_query_get(body, "smiles");
	if (ccd && smiles)
		return of3_query_fail(at, "give either \"ccdCodes\" or \"smiles\", not both");
	if (!ccd && !smiles)
		return of3_query_fail(at, "a ligand needs \"ccdCodes\" or \"smiles\"");
	if (smiles) {
		if (!cJSON_IsString(smiles))
			return of3_query_fail(at, "\"smiles\": expected a string, got %s",
			                      of3_query_kind(smiles));
		if (!smiles->valuestring[0])
			return of3_query_fail(at, "\"smiles\" is empty");
		return of3_query_strdup(smiles->valuestring, &ch->smiles);
	}
	if (!cJSON_IsArray(ccd))
		return of3_query_fail(at,
		                      "\"ccdCodes\": expected a list of CCD codes such as "
		                      "[\"ATP\"], got %s",
		                      of3_query_kind(ccd));
	int n = cJSON_GetArraySize(ccd);
	if (n == 0)
		return of3_query_fail(at, "\"ccdCodes\" is an empty list");
	if (n > 1)
		return of3_query_fail(at,
		                      "\"ccdCodes\" lists %d components: multi-component ligands "
		                      "(glycans) need bonds between them, which OpenFold3 does not "
		                      "support; give single-component ligands",
		                      n);
	if (!cJSON_IsString(ccd->child))
		return of3_query_fail(at, "\"ccdCodes\" item 1: expected a CCD code string, got %s",
		                      of3_query_kind(ccd->child));
	int rc = of3_query_ccd_code(at, "ccdCodes", ccd->child->valuestring);
	return rc < 0 ? rc : of3_query_strdup(ccd->child->valuestring, &ch->ccd_code);
}

static int af3_entity(of3_qloc_t at, const char *label, const cJSON *e, of3_chain_t *ch)
{
	static const char *const kinds[] = {"protein", "rna", "dna", "ligand"};
	static const char *const *const keys[] = {af3_protein_keys, af3_rna_keys, af3_dna_keys,
	                                          af3_ligand_keys};
	at.chain = ch;
	if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 1)
		return of3_query_fail(&at,
		                      "expected an object with one key (protein, rna, dna or "
		                      "ligand), got %s%s",
		                      of3_query_kind(e),
		                      cJSON_IsObject(e) ? " with other keys" : "");
	const cJSON *body = e->child, *item;
	int k = 0;
	while (k < 4 && strcmp(kinds[k], body->string) != 0)
		k++;
	if (k == 4)
		return of3_query_fail(&at,
		                      "unknown molecule type '%.60s' (protein, rna, dna or ligand)",
		                      body->string);
	ch->type = (of3_mol_type_t)k;
	if (!cJSON_IsObject(body))
		return of3_query_fail(&at, "\"%s\": expected an object, got %s", kinds[k],
		                      of3_query_kind(body));
	const cJSON *ids = of3_query_get(body, "id");
	if (!ids)
		return of3_query_fail(&at, "missing \"id\"");
	if (!cJSON_IsString(ids) && !cJSON_IsArray(ids))
		return of3_query_fail(&at, "\"id\": expected a string or a list of strings, got %s",
		                      of3_query_kind(ids));
	int n = cJSON_IsArray(ids) ? cJSON_GetArraySize(ids) : 1, rc = OF3_OK;
	if (n == 0)
		return of3_query_fail(&at, "\"id\" is an empty list");
	if (!(ch->ids = calloc((size_t)n, sizeof *ch->ids)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	if (cJSON_IsString(ids))
		rc = of3_query_add_id(&at, ch, "\"id\"", ids);
	const cJSON *list = cJSON_IsArray(ids) ? ids : NULL;
	cJSON_ArrayForEach(item, list)
	{
		char what[32];
		snprintf(what, sizeof what, "\"id\" item %d", ch->n_ids + 1);
		if ((rc = of3_query_add_id(&at, ch, what, item)) < 0)
			break;
	}
	if (rc < 0 || (rc = of3_query_keys(&at, body, keys[k], 1, kinds[k])) < 0)
		return rc;
	if (ch->type == OF3_MOL_LIGAND)
		return af3_ligand(&at, body, ch);
	if ((rc = of3_query_sequence(&at, ch, "sequence", of3_query_get(body, "sequence"))) < 0 ||
	    (rc = modifications(&at, body, ch, 0)) < 0)
		return rc;
	if (ch->type == OF3_MOL_DNA)
		return OF3_OK;
	if ((rc = msa_path(&at, label, body, "unpairedMsa", "unpairedMsaPath", &ch->n_main_msa,
	                   &ch->main_msa_paths)) < 0 ||
	    ch->type == OF3_MOL_RNA)
		return rc;
	if ((rc = msa_path(&at, label, body, "pairedMsa", "pairedMsaPath", &ch->n_paired_msa,
	                   &ch->paired_msa_paths)) < 0)
		return rc;
	const cJSON *templates = of3_query_get(body, "templates");
	if (templates && !cJSON_IsArray(templates))
		return of3_query_fail(&at, "\"templates\": expected a list, got %s",
		                      of3_query_kind(templates));
	if (templates && cJSON_GetArraySize(templates) > 0)
		return of3_query_fail(&at,
		                      "\"templates\" is not supported (OpenFold3 takes template "
		                      "hits as an alignment file, not mmCIF templates); remove "
		                      "them or give \"templates\": []");
	return OF3_OK;
}

/* An optional field with no OpenFold3 equivalent: fine when absent, null or empty. */
static int unsupported(const of3_qloc_t *at, const cJSON *obj, const char *key, const char *why)
{
	const cJSON *v = of3_query_get(obj, key);
	if (!v || (cJSON_IsString(v) && !v->valuestring[0]) ||
	    (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0))
		return OF3_OK;
	return of3_query_fail(at, "\"%s\" is not supported: %s", key, why);
}

int of3_query_parse_alphafold3(const cJSON *root, const char *label, of3_query_set_t *qs)
{
	of3_qloc_t at = {label, NULL, -1, NULL};
	int rc = of3_query_keys(&at, root, af3_top_keys, 1, "an AlphaFold3 input");
	long long version;
	if (rc < 0)
		return rc;
	const cJSON *v = of3_query_get(root, "version"), *item;
	if (!v)
		return of3_query_fail(&at, "missing \"version\" (1 to 4) beside \"dialect\": "
		                           "\"alphafold3\"");
	if (of3_query_integer(v, 1, 4, &version) < 0)
		return of3_query_fail(&at,
		                      "\"version\": expected an AlphaFold3 input version from 1 "
		                      "to 4, got %s",
		                      of3_query_kind(v));
	if (!(qs->queries = calloc(1, sizeof *qs->queries)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	of3_query_t *q = &qs->queries[qs->n_queries++];
	q->use_msas = q->use_paired_msas = q->use_main_msas = 1;
	const cJSON *name = of3_query_get(root, "name");
	if ((rc = job_name(&at, name, &q->name)) < 0)
		return rc;
	at.query = name->valuestring;
	at.i_query = 0;
	const cJSON *seeds = of3_query_get(root, "modelSeeds");
	if (seeds && (rc = of3_query_seeds(&at, "modelSeeds", seeds, &qs->n_seeds, &qs->seeds)) < 0)
		return rc;
	if (qs->n_seeds == 0)
		return of3_query_fail(&at, "\"modelSeeds\" needs at least one seed (AlphaFold3 "
		                           "requires it)");
	if ((rc = unsupported(&at, root, "bondedAtomPairs",
	                      "OpenFold3 has no covalent bonds between or within chains")) < 0 ||
	    (rc = unsupported(&at, root, "userCCD",
	                      "of3 reads one CCD (the shipped one or a components.cif given on "
	                      "the command line)")) < 0 ||
	    (rc = unsupported(&at, root, "userCCDPath",
	                      "of3 reads one CCD (the shipped one or a components.cif given on "
	                      "the command line)")) < 0)
		return rc;
	const cJSON *seqs = of3_query_get(root, "sequences");
	if (!seqs)
		return of3_query_fail(&at, "missing \"sequences\"");
	if (!cJSON_IsArray(seqs))
		return of3_query_fail(&at, "\"sequences\": expected a list, got %s",
		                      of3_query_kind(seqs));
	int n = cJSON_GetArraySize(seqs);
	if (n == 0)
		return of3_query_fail(&at, "\"sequences\" is empty: nothing to predict");
	if (!(q->chains = calloc((size_t)n, sizeof *q->chains)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(item, seqs)
	{
		of3_chain_t *ch = &q->chains[q->n_chains];
		ch->index = q->n_chains++;
		if ((rc = af3_entity(at, label, item, ch)) < 0)
			return rc;
	}
	return of3_query_finish(&at, q, root, qs->n_seeds, qs->seeds);
}

/* ---------------------------------------------------------------------------------------- */
/* The AlphaFold Server job list                                                             */

static const char *const job_keys[] = {"name",    "modelSeeds", "sequences",
                                       "dialect", "version",    NULL};
static const char *const server_kinds[] = {"proteinChain", "rnaSequence", "dnaSequence",
                                           "ligand",       "ion",         NULL};
static const char *const server_protein_keys[] = {
        "sequence", "glycans", "modifications", "count", "maxTemplateDate", "useStructureTemplate",
        NULL};
static const char *const server_nucleic_keys[] = {"sequence", "modifications", "count", NULL};
static const char *const server_ligand_keys[] = {"ligand", "ion", "count", NULL};

/* 1 -> A, 26 -> Z, 27 -> AA, 28 -> BA: AlphaFold3's "reverse spreadsheet" chain ids
 * (mmcif.int_id_to_str_id), given to server entities in order, copies included. */
static void spreadsheet_id(long long num, char *buf)
{
	int k = 0;
	for (num -= 1; num >= 0; num = num / 26 - 1)
		buf[k++] = (char)('A' + num % 26);
	buf[k] = 0;
}

static int server_entity(of3_qloc_t at, const cJSON *e, of3_chain_t *ch, long long *next_id)
{
	at.chain = ch;
	if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 1)
		return of3_query_fail(&at,
		                      "expected an object with one key (proteinChain, rnaSequence, "
		                      "dnaSequence, ligand or ion), got %s%s",
		                      of3_query_kind(e),
		                      cJSON_IsObject(e) ? " with other keys" : "");
	const cJSON *body = e->child;
	int k = 0, rc;
	while (server_kinds[k] && strcmp(server_kinds[k], body->string) != 0)
		k++;
	if (!server_kinds[k])
		return of3_query_fail(&at,
		                      "unknown entity type '%.60s' (proteinChain, rnaSequence, "
		                      "dnaSequence, ligand or ion)",
		                      body->string);
	const char *kind = server_kinds[k];
	ch->type = k >= 3 ? OF3_MOL_LIGAND : (of3_mol_type_t)k;
	if (!cJSON_IsObject(body))
		return of3_query_fail(&at, "\"%s\": expected an object, got %s", kind,
		                      of3_query_kind(body));
	const cJSON *count = of3_query_get(body, "count");
	long long n = 1;
	if (count && of3_query_integer(count, 1, MAX_SERVER_CHAINS, &n) < 0)
		return of3_query_fail(&at,
		                      "\"count\": expected a whole number from 1 to %d, got %s",
		                      MAX_SERVER_CHAINS, of3_query_kind(count));
	if (*next_id - 1 + n > MAX_SERVER_CHAINS)
		return of3_query_fail(&at, "the job has more than %d chains", MAX_SERVER_CHAINS);
	if (!(ch->ids = calloc((size_t)n, sizeof *ch->ids)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (long long i = 0; i < n; i++) {
		char id[16];
		spreadsheet_id((*next_id)++, id);
		if ((rc = of3_query_strdup(id, &ch->ids[ch->n_ids])) < 0)
			return rc;
		ch->n_ids++;
	}
	const char *const *known = k == 0  ? server_protein_keys
	                           : k < 3 ? server_nucleic_keys
	                                   : server_ligand_keys;
	if ((rc = of3_query_keys(&at, body, known, 1, kind)) < 0)
		return rc;
	if (ch->type == OF3_MOL_LIGAND) {
		const char *other = k == 3 ? "ion" : "ligand";
		const cJSON *code = of3_query_get(body, kind);
		if (of3_query_get(body, other))
			return of3_query_fail(&at, "the \"%s\" entry takes \"%s\", not \"%s\"",
			                      kind, kind, other);
		if (!code)
			return of3_query_fail(&at, "missing \"%s\" (its CCD code)", kind);
		if (!cJSON_IsString(code))
			return of3_query_fail(&at, "\"%s\": expected a CCD code string, got %s",
			                      kind, of3_query_kind(code));
		const char *s = code->valuestring;
		if (strncmp(s, "CCD_", 4) == 0)
			s += 4;
		rc = of3_query_ccd_code(&at, kind, s);
		return rc < 0 ? rc : of3_query_strdup(s, &ch->ccd_code);
	}
	if ((rc = of3_query_sequence(&at, ch, "sequence", of3_query_get(body, "sequence"))) < 0 ||
	    (rc = modifications(&at, body, ch, 1)) < 0 || k != 0)
		return rc;
	if ((rc = unsupported(&at, body, "glycans",
	                      "OpenFold3 cannot bond a glycan to a residue")) < 0)
		return rc;
	if (of3_query_get(body, "maxTemplateDate"))
		return of3_query_fail(&at, "\"maxTemplateDate\" is not supported: of3 does not "
		                           "search for templates");
	const cJSON *use = of3_query_get(body, "useStructureTemplate");
	if (use && !cJSON_IsBool(use))
		return of3_query_fail(&at,
		                      "\"useStructureTemplate\": expected true or false, got %s",
		                      of3_query_kind(use));
	return OF3_OK;
}

static int server_job(const char *label, int i_job, const cJSON *job, of3_query_t *q)
{
	of3_qloc_t at = {label, NULL, i_job, NULL};
	long long version;
	int rc;
	q->use_msas = q->use_paired_msas = q->use_main_msas = 1;
	if (!cJSON_IsObject(job))
		return of3_query_fail(&at, "expected a job object, got %s", of3_query_kind(job));
	if ((rc = of3_query_keys(&at, job, job_keys, 1, "an AlphaFold Server job")) < 0)
		return rc;
	const cJSON *dialect = of3_query_get(job, "dialect"), *v = of3_query_get(job, "version");
	if (!dialect != !v)
		return of3_query_fail(&at, "give both \"dialect\" and \"version\" or neither (as "
		                           "AlphaFold3 requires)");
	if (dialect &&
	    !(cJSON_IsString(dialect) && strcmp(dialect->valuestring, "alphafoldserver") == 0))
		return of3_query_fail(&at, "\"dialect\" of a job in a list must be "
		                           "\"alphafoldserver\"");
	if (v && (of3_query_integer(v, 1, 1, &version) < 0))
		return of3_query_fail(&at,
		                      "\"version\": the AlphaFold Server form has version 1, "
		                      "got %s",
		                      of3_query_kind(v));
	const cJSON *name = of3_query_get(job, "name"), *item;
	if ((rc = job_name(&at, name, &q->name)) < 0)
		return rc;
	at.query = name->valuestring;
	int n_seeds = 0;
	long long *seeds = NULL;
	const cJSON *model_seeds = of3_query_get(job, "modelSeeds");
	if (model_seeds &&
	    (rc = of3_query_seeds(&at, "modelSeeds", model_seeds, &n_seeds, &seeds)) < 0)
		return rc;
	const cJSON *seqs = of3_query_get(job, "sequences");
	if (!seqs || !cJSON_IsArray(seqs) || cJSON_GetArraySize(seqs) == 0) {
		free(seeds);
		return of3_query_fail(&at, "\"sequences\": expected a non-empty list, got %s",
		                      seqs && cJSON_IsArray(seqs) ? "an empty list"
		                                                  : of3_query_kind(seqs));
	}
	if (!(q->chains = calloc((size_t)cJSON_GetArraySize(seqs), sizeof *q->chains))) {
		free(seeds);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	long long next_id = 1;
	cJSON_ArrayForEach(item, seqs)
	{
		of3_chain_t *ch = &q->chains[q->n_chains];
		ch->index = q->n_chains++;
		if ((rc = server_entity(at, item, ch, &next_id)) < 0)
			break;
	}
	if (rc == OF3_OK)
		rc = of3_query_finish(&at, q, job, n_seeds, seeds);
	free(seeds);
	return rc;
}

int of3_query_parse_server(const cJSON *root, const char *label, of3_query_set_t *qs)
{
	of3_qloc_t at = {label, NULL, -1, NULL};
	const cJSON *job;
	int n = cJSON_GetArraySize(root), rc;
	if (n == 0)
		return of3_query_fail(&at, "an empty list: no AlphaFold Server jobs");
	if (!(qs->queries = calloc((size_t)n, sizeof *qs->queries)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(job, root)
	{
		of3_query_t *q = &qs->queries[qs->n_queries++];
		if ((rc = server_job(label, qs->n_queries - 1, job, q)) < 0)
			return rc;
	}
	return OF3_OK;
}
