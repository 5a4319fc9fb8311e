/* test_featurize_msa.c: the MSA features of of3-featurize (msa.c, msa_parse.c, msa_pair.c,
 * msa_files.c): the A3M and Stockholm readers on small texts, every kind of bad MSA input (each
 * must be OF3_ERR_INPUT with a message naming the file, the line or the chain), the OpenFold3
 * failure modes we make work (spec/data.md §6.8), and parity with OpenFold3's MSA features on
 * the six example queries (tests/fixtures/features_query_*.bundle.gz, query-only MSAs) and on
 * real A3M/Stockholm inputs (tests/fixtures/msa/, tools/reference/make_msa_fixtures.py).
 * Runs bin/of3-parse (build/san/bin/of3-parse for the sanitizer build) from the repository root. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../of3-featurize/msa.h"
#include "../of3-featurize/msa_pair.h"
#include "../of3-featurize/msa_parse.h"
#include "check.h"

static const char *bin_dir = "bin";
static char tmp_dir[64];

static const char *const msa_names[] = {
        "msa",     "has_deletion", "deletion_value",  "deletion_mean",
        "profile", "msa_mask",     "num_paired_seqs", NULL};

/* ---- helpers ---- */

static const char *tmp_path(const char *name)
{
	static char buf[8][256];
	static int k;
	k = (k + 1) % 8;
	snprintf(buf[k], sizeof buf[k], "%s/%s", tmp_dir, name);
	return buf[k];
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Every bundle of a command's output (NULL-terminated array), or NULL. */
static of3_bundle_t **read_cmd(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return NULL;
	of3_breader_t *r;
	of3_bundle_t **v = calloc(64, sizeof *v);
	int n = 0, rc = of3_breader_open_fd(&r, fileno(p), cmd), opened = rc == OF3_OK;
	while (rc == OF3_OK && n < 63) {
		rc = of3_breader_next(r, &v[n]);
		if (rc == OF3_OK)
			n++;
	}
	if (rc != OF3_END)
		printf("# %s: %s\n", cmd, of3_errmsg());
	if (opened)
		of3_breader_close(r);
	int st = pclose(p);
	if (rc != OF3_END || st != 0 || n == 0) {
		for (int i = 0; i < n; i++)
			of3_bundle_free(v[i]);
		free(v);
		return NULL;
	}
	return v;
}

static void free_bundles(of3_bundle_t **v)
{
	for (int i = 0; v && v[i]; i++)
		of3_bundle_free(v[i]);
	free(v);
}

static of3_bundle_t **parse_query(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "%s/of3-parse '%s' 2>&1", bin_dir, path);
	return read_cmd(cmd);
}

/* The MSA features of one assembly bundle into a new bundle; status in *rc. */
static of3_bundle_t *msa_features(const of3_bundle_t *assembly, int *rc)
{
	of3_tokens_t t;
	of3_bundle_t *out = of3_bundle_init("features", assembly->query);
	*rc = of3_tokens_init(&t, assembly);
	if (*rc == OF3_OK)
		*rc = of3_msa_features(&t, out);
	of3_tokens_free(&t);
	if (*rc < 0) {
		of3_bundle_free(out);
		return NULL;
	}
	return out;
}

/* Compares the MSA tensors of ours and the reference; ints exact, floats within 1e-6. */
static void compare(const of3_bundle_t *ours, const of3_bundle_t *ref, const char *what)
{
	for (int i = 0; msa_names[i]; i++) {
		const of3_tensor_t *a = of3_bundle_tensor(ours, msa_names[i]);
		const of3_tensor_t *b = of3_bundle_tensor(ref, msa_names[i]);
		if (!a || !b) {
			CHECK(0, "%s: %s present in both", what, msa_names[i]);
			continue;
		}
		int same = a->dtype == b->dtype && a->ndim == b->ndim;
		for (int d = 0; same && d < a->ndim; d++)
			same = a->shape[d] == b->shape[d];
		if (!same) {
			CHECK(0,
			      "%s: %s: shape [%lld, ...] vs reference [%lld, ...] (ndim %d vs %d)",
			      what, msa_names[i], (long long)a->shape[0], (long long)b->shape[0],
			      a->ndim, b->ndim);
			continue;
		}
		int64_t n = of3_tensor_numel(a), n_diff = 0, first = -1;
		double max_err = 0;
		for (int64_t k = 0; k < n; k++) {
			double x, y;
			if (a->dtype == OF3_DTYPE_I32) {
				x = ((const int32_t *)a->data)[k];
				y = ((const int32_t *)b->data)[k];
			} else {
				x = ((const float *)a->data)[k];
				y = ((const float *)b->data)[k];
			}
			double e = x > y ? x - y : y - x;
			if (e > max_err)
				max_err = e;
			if (e > (a->dtype == OF3_DTYPE_I32 ? 0 : 1e-6) && n_diff++ == 0)
				first = k;
		}
		CHECK(n_diff == 0, "%s: %s %s [%lld%s] %s (max abs error %.3g%s)", what,
		      msa_names[i], of3_dtype_name(a->dtype), (long long)a->shape[0],
		      a->ndim > 1 ? ", ..." : "",
		      a->dtype == OF3_DTYPE_I32 ? "identical" : "within 1e-6", max_err,
		      n_diff ? "" : "");
		if (n_diff)
			printf("#   %lld elements differ, first at flat index %lld\n",
			       (long long)n_diff, (long long)first);
	}
}

/* Parity of every query of a query file against a fixture stream. */
static void parity(const char *query_file, const char *fixture)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "gzip -dc '%s'", fixture);
	of3_bundle_t **asm_ = parse_query(query_file), **ref = read_cmd(cmd);
	CHECK(asm_ && ref, "%s: of3-parse and the fixture %s read", query_file, fixture);
	for (int i = 0; asm_ && ref && (asm_[i] || ref[i]); i++) {
		if (!asm_[i] || !ref[i] || strcmp(asm_[i]->query, ref[i]->query) != 0) {
			CHECK(0, "%s: queries in the same order as the fixture", query_file);
			break;
		}
		int rc;
		of3_bundle_t *ours = msa_features(asm_[i], &rc);
		char what[300];
		snprintf(what, sizeof what, "%s query '%s'", query_file, asm_[i]->query);
		CHECK(ours != NULL, "%s: MSA features computed%s%s", what, ours ? "" : ": ",
		      ours ? "" : of3_errmsg());
		if (ours)
			compare(ours, ref[i], what);
		of3_bundle_free(ours);
	}
	free_bundles(asm_);
	free_bundles(ref);
}

/* ---- the readers ---- */

static int parse_a3m(const char *text, of3_msa_t *m)
{
	return of3_msa_parse_a3m(text, strlen(text), "t.a3m", INT64_MAX, m);
}

static int parse_sto(const char *text, of3_msa_t *m)
{
	return of3_msa_parse_sto(text, strlen(text), "t.sto", INT64_MAX, m);
}

static int row_is(const of3_msa_t *m, int64_t r, const char *res, const int32_t *del)
{
	if ((int64_t)strlen(res) != m->n_cols || memcmp(m->res + r * m->n_cols, res, strlen(res)))
		return 0;
	for (int64_t c = 0; c < m->n_cols; c++)
		if (m->del[r * m->n_cols + c] != del[c])
			return 0;
	return 1;
}

static void test_readers(void)
{
	of3_msa_t m;
	int rc = parse_a3m(">q\nMKVL\n>s\nMaaK-Lb\n", &m);
	CHECK(rc == OF3_OK && m.n_rows == 2 && m.n_cols == 4 &&
	              row_is(&m, 1, "MK-L", (int32_t[]){0, 2, 0, 0}),
	      "a3m: spec §6.3 example MaaK-Lb vs MKVL -> MK-L, deletions 0 2 0 0");
	of3_msa_free(&m);

	rc = parse_a3m("# comment\n\n>query  desc \n MK\nVL \n>s1 x\nmk\n#skip\nMKv..VL\n>s2\n"
	               "-KVLaa\n",
	               &m);
	CHECK(rc == OF3_OK && m.n_rows == 3 && row_is(&m, 0, "MKVL", (int32_t[]){0, 0, 0, 0}) &&
	              row_is(&m, 1, "MKVL", (int32_t[]){2, 0, 1, 0}) &&
	              row_is(&m, 2, "-KVL", (int32_t[]){0, 0, 0, 0}) &&
	              strcmp(of3_msa_header(&m, 0), "query  desc") == 0 &&
	              strcmp(of3_msa_header(&m, 1), "s1 x") == 0,
	      "a3m: wrapped sequences, comments, blank lines, leading/trailing insertions, '.'");
	of3_msa_free(&m);

	rc = of3_msa_parse_a3m(">q\nMKVL\n>a\nMKVA\n>b\nMKVB\n>c\nMKV-\n", 24, "t.a3m", 2, &m);
	CHECK(rc == OF3_OK && m.n_rows == 2, "a3m: row limit keeps the first rows");
	of3_msa_free(&m);

	rc = parse_sto("# STOCKHOLM 1.0\n#=GF ID x\nq   M-K.VL\ns1  MAKaVL\n\n"
	               "q   A\ns1  -\n#=GC RF xxxxxxx\n//\n",
	               &m);
	CHECK(rc == OF3_OK && m.n_rows == 2 && row_is(&m, 0, "MKVLA", (int32_t[]){0, 0, 0, 0, 0}) &&
	              row_is(&m, 1, "MKVL-", (int32_t[]){0, 1, 1, 0, 0}) &&
	              strcmp(of3_msa_header(&m, 1), "s1") == 0,
	      "sto: blocks concatenate, query-gap columns removed, their residues counted");
	of3_msa_free(&m);

	rc = parse_sto("q MKV\ns mkv\n", &m);
	CHECK(rc == OF3_OK && m.res[3] == 'm', "sto: lower case kept (maps to unknown later)");
	of3_msa_free(&m);

	size_t n;
	const char *s = of3_msa_species("tr|A0A1W9RZR3|A0A1W9RZR3_9BACT/19-121", &n);
	CHECK(s && n == 5 && memcmp(s, "9BACT", 5) == 0, "species of a UniProt header");
	s = of3_msa_species("sp|P1|X_HUMAN", &n);
	CHECK(s && n == 5 && memcmp(s, "HUMAN", 5) == 0, "species of a 4-field header");
	CHECK(of3_msa_species("UniRef100_A0A", &n) == NULL, "no species in a 2-field header");
}

/* Each bad text gives OF3_ERR_INPUT and a message with every wanted piece. */
static void bad_text(int sto, const char *text, const char *why, const char *want1,
                     const char *want2)
{
	of3_msa_t m;
	int rc = sto ? parse_sto(text, &m) : parse_a3m(text, &m);
	const char *msg = of3_errmsg();
	CHECK(rc == OF3_ERR_INPUT && strstr(msg, want1) && (!want2 || strstr(msg, want2)),
	      "%s: %s (%s)", sto ? "sto" : "a3m", why, rc == OF3_ERR_INPUT ? msg : "accepted");
	if (rc == OF3_OK)
		of3_msa_free(&m);
}

static void test_bad_texts(void)
{
	bad_text(0, "MKVL\n>q\nMKVL\n", "sequence before the first header", "t.a3m line 1",
	         "before the first '>'");
	bad_text(0, ">q\nMKVL\n>s\nMKV\n", "row shorter than the query", "t.a3m line 3",
	         "3 aligned columns");
	bad_text(0, ">q\nMKVL\n>s\nMKVLA\n", "row longer than the query", "t.a3m line 3",
	         "5 aligned columns");
	bad_text(0, ">q\nMKVL\n>s\nMK1L\n", "a digit", "t.a3m line 4", "'1'");
	bad_text(0, ">q\nMKVL\n>s\nMK*L\n", "a '*'", "t.a3m line 4", "'*'");
	bad_text(0, ">q\nMK\xc3\xa9L\n", "non-ASCII", "t.a3m line 2", "0xc3");
	bad_text(0, "", "an empty file", "t.a3m: no sequences", NULL);
	bad_text(0, ">q\n>s\nMKVL\n", "an empty first sequence", "t.a3m line 1", "empty");
	bad_text(1, "q MKVL\ns MK VL\n", "three fields", "t.sto line 2", "two fields");
	bad_text(1, "q MKVL\ns\n", "one field", "t.sto line 2", "one field");
	bad_text(1, "q MKVL\ns MKV\n", "sequence length mismatch", "t.sto line 2", "3 columns");
	bad_text(1, "q MKVL\ns MK#L\n", "a '#' in a sequence", "t.sto line 2", "'#'");
	bad_text(1, "# STOCKHOLM 1.0\n//\n", "no sequences", "t.sto: no sequences", NULL);
	bad_text(1, "q --..\ns MKVL\n", "a query of gaps only", "t.sto line 1", "no residues");
}

/* ---- whole queries ---- */

/* Writes a query file with one or more chains (JSON text after "chains": [) and parses it. */
static of3_bundle_t **query(const char *name, const char *flags, const char *chains)
{
	char buf[8192];
	snprintf(buf, sizeof buf, "{\"queries\": {\"q\": {%s\"chains\": [%s]}}}", flags, chains);
	const char *path = tmp_path(name);
	write_file(path, buf);
	return parse_query(path);
}

/* Featurizes a query that must fail with OF3_ERR_INPUT naming every wanted piece. */
static void bad_query(const char *why, of3_bundle_t **asm_, const char *want1, const char *want2)
{
	int rc = OF3_ERR_RUNTIME;
	of3_bundle_t *f = asm_ ? msa_features(asm_[0], &rc) : NULL;
	const char *msg = asm_ ? of3_errmsg() : "of3-parse failed";
	CHECK(rc == OF3_ERR_INPUT && strstr(msg, want1) && (!want2 || strstr(msg, want2)),
	      "bad input: %s (%s)", why, msg);
	of3_bundle_free(f);
	free_bundles(asm_);
}

#define PROT_A "\"molecule_type\": \"protein\", \"chain_ids\": [\"A\"], \"sequence\": \"MKVL\""

static void test_bad_queries(void)
{
	char chain[1024];
	write_file(tmp_path("uniref90_hits.a3m"), ">q\nMKVL\n>s\nMKVL\n");
	snprintf(chain, sizeof chain, "{%s, \"main_msa_file_paths\": \"%s\"}", PROT_A,
	         tmp_path("uniref90_hits.a3m"));
	of3_bundle_t **a = query("q1.json", "", chain);
	unlink(tmp_path("uniref90_hits.a3m"));
	bad_query("missing MSA file", a, tmp_path("uniref90_hits.a3m"), "chain A");

	mkdir(tmp_path("d"), 0755);
	write_file(tmp_path("d/uniref90_hits.a3m"), ">q\nMKVL\n>s\nMKxVL\n>t\nMKV\n");
	snprintf(chain, sizeof chain, "{%s, \"main_msa_file_paths\": \"%s\"}", PROT_A,
	         tmp_path("d"));
	bad_query("a3m row of the wrong length, in a directory", query("q2.json", "", chain),
	          "uniref90_hits.a3m' line 5", "chain A");

	write_file(tmp_path("mgnify_hits.sto"), "q MKVL\ns MKVL extra\n");
	snprintf(chain, sizeof chain, "{%s, \"main_msa_file_paths\": \"%s\"}", PROT_A,
	         tmp_path("mgnify_hits.sto"));
	bad_query("Stockholm line with three fields", query("q3.json", "", chain),
	          "mgnify_hits.sto' line 2", "two fields");

	write_file(tmp_path("d/uniref90_hits.a3m"), ">q\nMKIL\n>s\nMKVL\n");
	snprintf(chain, sizeof chain, "{%s, \"main_msa_file_paths\": \"%s\"}", PROT_A,
	         tmp_path("d"));
	bad_query("first row is not the chain's sequence", query("q4.json", "", chain),
	          "uniref90_hits.a3m", "'I' at position 3 where chain A's sequence has 'V'");

	write_file(tmp_path("d/uniref90_hits.a3m"), ">q\nMKVLA\n");
	bad_query("first row longer than the sequence", query("q5.json", "", chain),
	          "uniref90_hits.a3m", "5 aligned residues, chain A's sequence 4");

	write_file(tmp_path("x.npz"), "PK");
	snprintf(chain, sizeof chain, "{%s, \"main_msa_file_paths\": \"%s\"}", PROT_A,
	         tmp_path("x.npz"));
	bad_query("an .npz MSA", query("q6.json", "", chain), "x.npz",
	          "npz MSAs are not supported; give a3m or sto");

	write_file(tmp_path("hits.a3m"), ">q\nMKVL\n");
	snprintf(chain, sizeof chain, "{%s, \"main_msa_file_paths\": \"%s\"}", PROT_A,
	         tmp_path("hits.a3m"));
	bad_query("an A3M file of a name OpenFold3 does not read", query("q7.json", "", chain),
	          "hits.a3m", "rename the file");

	mkdir(tmp_path("e"), 0755);
	write_file(tmp_path("e/hits.a3m"), ">q\nMKVL\n");
	snprintf(chain, sizeof chain, "{%s, \"main_msa_file_paths\": \"%s\"}", PROT_A,
	         tmp_path("e"));
	bad_query("a directory without a file of a known name", query("q8.json", "", chain),
	          "no MSA file of a known name", "chain A");

	write_file(tmp_path("e/uniref90_hits.a3m"), "");
	bad_query("an empty A3M file", query("q9.json", "", chain), "uniref90_hits.a3m",
	          "no sequences");
	unlink(tmp_path("e/uniref90_hits.a3m"));
	unlink(tmp_path("e/hits.a3m"));
}

/* A query of fixture MSAs that OpenFold3 fails on; returns its features (or NULL). */
static of3_bundle_t *works(const char *why, const char *flags, const char *chains)
{
	of3_bundle_t **a = query("w.json", flags, chains);
	int rc = OF3_ERR_RUNTIME;
	of3_bundle_t *f = a ? msa_features(a[0], &rc) : NULL;
	CHECK(f != NULL, "OpenFold3 failure mode works: %s%s%s", why, f ? "" : ": ",
	      f ? "" : (a ? of3_errmsg() : "of3-parse failed"));
	free_bundles(a);
	return f;
}

static int32_t n_paired(const of3_bundle_t *f)
{
	return ((const int32_t *)of3_bundle_tensor(f, "num_paired_seqs")->data)[0];
}

#define FIX   "tests/fixtures/msa/"
#define SEQ_A "\"sequence\": \"%s\""

static void test_failure_modes(const char *seq_a, const char *seq_b, const char *rna)
{
	char c[4096];
	/* a heteromer where one protein has uniprot_hits and the other no MSA at all */
	snprintf(c, sizeof c,
	         "{\"molecule_type\": \"protein\", \"chain_ids\": [\"A\"], " SEQ_A
	         ", \"main_msa_file_paths\": \"" FIX "het_a\"},"
	         "{\"molecule_type\": \"protein\", \"chain_ids\": [\"B\"], " SEQ_A "}",
	         seq_a, seq_b);
	of3_bundle_t *f = works("heteromer, one protein without MSA files", "", c);
	CHECK(f && n_paired(f) == 1, "... nothing to pair (one chain with uniprot_hits)");
	of3_bundle_free(f);

	/* two pairable proteins and a third without files: it gets gap rows in the paired block */
	snprintf(c, sizeof c,
	         "{\"molecule_type\": \"protein\", \"chain_ids\": [\"A\"], " SEQ_A
	         ", \"main_msa_file_paths\": \"" FIX "het_a\"},"
	         "{\"molecule_type\": \"protein\", \"chain_ids\": [\"B\"], " SEQ_A
	         ", \"main_msa_file_paths\": \"" FIX "het_b\"},"
	         "{\"molecule_type\": \"protein\", \"chain_ids\": [\"D\"], \"sequence\": "
	         "\"GSHMK\"}",
	         seq_a, seq_b);
	f = works("heteromer, a third protein without uniprot_hits", "", c);
	if (f) {
		const of3_tensor_t *msa = of3_bundle_tensor(f, "msa");
		const float *mask = of3_bundle_tensor(f, "msa_mask")->data;
		int64_t n_tok = msa->shape[1], d0 = n_tok - 5;
		int gaps = 1;
		for (int r = 1; r < n_paired(f); r++)
			for (int64_t j = d0; j < n_tok; j++)
				gaps &= ((int32_t *)msa->data)[(r * n_tok + j) * 32 + 31] == 1 &&
				        mask[r * n_tok + j] == 1.0f;
		CHECK(n_paired(f) == 8 && gaps,
		      "... 7 paired rows, all gaps (mask 1) for the chain without MSA");
	}
	of3_bundle_free(f);

	/* use_main_msas false with MSAs: query + paired rows only, zero profile */
	snprintf(c, sizeof c,
	         "{\"molecule_type\": \"protein\", \"chain_ids\": [\"A\"], " SEQ_A
	         ", \"main_msa_file_paths\": \"" FIX "het_a\"},"
	         "{\"molecule_type\": \"protein\", \"chain_ids\": [\"B\"], " SEQ_A
	         ", \"main_msa_file_paths\": \"" FIX "het_b\"}",
	         seq_a, seq_b);
	f = works("use_main_msas false with MSAs", "\"use_main_msas\": false, ", c);
	if (f) {
		const of3_tensor_t *p = of3_bundle_tensor(f, "profile");
		int zero = 1;
		for (int64_t k = 0; k < of3_tensor_numel(p); k++)
			zero &= ((float *)p->data)[k] == 0;
		CHECK(of3_bundle_tensor(f, "msa")->shape[0] == 8 && zero,
		      "... 8 rows (query + 7 paired), profile 0");
	}
	of3_bundle_free(f);

	/* precomputed paired MSAs plus an RNA chain with an MSA: the RNA gets gap rows */
	snprintf(c, sizeof c,
	         "{\"molecule_type\": \"protein\", \"chain_ids\": [\"A\"], " SEQ_A
	         ", \"main_msa_file_paths\": \"" FIX
	         "pre_a_main\", \"paired_msa_file_paths\": \"" FIX "pre_a_paired\"},"
	         "{\"molecule_type\": \"rna\", \"chain_ids\": [\"R\"], " SEQ_A
	         ", \"main_msa_file_paths\": \"" FIX "rna\"}",
	         seq_a, rna);
	f = works("precomputed paired MSAs and an RNA chain with an MSA", "", c);
	CHECK(f && n_paired(f) == 7, "... 6 paired rows");
	of3_bundle_free(f);

	/* a chain with paired files only: no main rows, zero profile */
	snprintf(c, sizeof c,
	         "{\"molecule_type\": \"protein\", \"chain_ids\": [\"A\"], " SEQ_A
	         ", \"paired_msa_file_paths\": \"" FIX "pre_a_paired\"},"
	         "{\"molecule_type\": \"protein\", \"chain_ids\": [\"B\"], " SEQ_A
	         ", \"main_msa_file_paths\": \"" FIX
	         "pre_b_main\", \"paired_msa_file_paths\": \"" FIX "pre_b_paired\"}",
	         seq_a, seq_b);
	f = works("a chain with paired MSA files only", "", c);
	CHECK(f && n_paired(f) == 7 && of3_bundle_tensor(f, "msa")->shape[0] == 14,
	      "... 6 paired rows, B's 7 main rows");
	of3_bundle_free(f);
}

/* OF3_MSA_F_TRUE_PROFILE: the profile is the column frequencies of the main rows (for the
 * protein query of the fixtures, all its rows after the query row). */
static void test_true_profile(void)
{
	of3_bundle_t **a = parse_query(FIX "msa_queries.json");
	of3_tokens_t t;
	if (!a || of3_tokens_init(&t, a[0]) < 0) {
		CHECK(0, "true profile: the fixture query parses");
		free_bundles(a);
		return;
	}
	of3_bundle_t *out = of3_bundle_init("features", a[0]->query);
	int rc = of3_msa_features_flags(&t, OF3_MSA_F_TRUE_PROFILE, out);
	double max_err = 0;
	if (rc == OF3_OK) {
		const of3_tensor_t *m = of3_bundle_tensor(out, "msa");
		const float *prof = of3_bundle_tensor(out, "profile")->data;
		int64_t n_rows = m->shape[0], n_tok = m->shape[1];
		const of3_fchain_t *c = &t.chains[0];
		for (int j = c->first_token; j < c->first_token + c->n_tokens; j++)
			for (int k = 0; k < 32; k++) {
				double sum = 0;
				for (int64_t r = 1; r < n_rows; r++)
					sum += ((int32_t *)m->data)[(r * n_tok + j) * 32 + k];
				double e = sum / (double)(n_rows - 1) - prof[j * 32 + k];
				max_err = e > max_err ? e : -e > max_err ? -e : max_err;
			}
	}
	CHECK(rc == OF3_OK && max_err < 1e-6,
	      "OF3_MSA_F_TRUE_PROFILE: profile = column frequencies of the main rows (max error "
	      "%.2g)",
	      max_err);
	of3_bundle_free(out);
	of3_tokens_free(&t);
	free_bundles(a);
}

/* The sequences of the fixture queries, from the assembly of msa_queries.json. */
static void fixture_sequences(char *a, char *b, char *rna, size_t n)
{
	of3_bundle_t **v = parse_query(FIX "msa_queries.json");
	a[0] = b[0] = rna[0] = 0;
	for (int i = 0; v && v[i]; i++) {
		of3_tokens_t t;
		if (strcmp(v[i]->query, "msa_heteromer_online") != 0 ||
		    of3_tokens_init(&t, v[i]) < 0)
			continue;
		for (int c = 0; c < t.n_chains; c++) {
			const char *id = t.chains[c].id;
			char *dst = !strcmp(id, "A")   ? a
			            : !strcmp(id, "B") ? b
			            : !strcmp(id, "R") ? rna
			                               : NULL;
			if (dst)
				snprintf(dst, n, "%s", t.chains[c].sequence);
		}
		of3_tokens_free(&t);
	}
	free_bundles(v);
}

/* ---- --bench: featurizing MSAs of an example query with synthetic deep MSAs ---- */

static uint64_t lcg(uint64_t *state)
{
	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	return *state >> 33;
}

/* An A3M of n_rows rows for seq: substitutions, gap runs, lower-case insertions; with
 * species != 0, UniProt headers drawn from 64 species (for online pairing). */
static void write_synthetic_a3m(const char *path, const char *seq, int n_rows, int species,
                                uint64_t seed)
{
	static const char aa[] = "ACDEFGHIKLMNPQRSTVWY";
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	size_t n = strlen(seq);
	fprintf(f, ">query\n%s\n", seq);
	for (int r = 1; r < n_rows; r++) {
		if (species)
			fprintf(f, ">tr|S%06d|S%06d_SP%02d/1-%zu\n", r, r, (int)(lcg(&seed) % 64),
			        n);
		else
			fprintf(f, ">UniRef90_S%06d n=2 Tax=Synthetic\n", r);
		for (size_t j = 0; j < n; j++) {
			uint64_t x = lcg(&seed) % 100;
			if (x < 5)
				fputc("acdefghik"[lcg(&seed) % 9], f);
			x = lcg(&seed) % 100;
			fputc(x < 8 ? '-' : x < 38 ? aa[lcg(&seed) % 20] : seq[j], f);
		}
		fputc('\n', f);
	}
	fclose(f);
}

static int arg_int(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return *s && !*end && v > 0 && v <= 1000000 ? (int)v : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double now_s(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Adds "main_msa_file_paths" with n_rows-row uniref90_hits (and uniprot_hits) to every polymer
 * of an example query, featurizes its MSAs `runs` times and prints the times. */
static int bench(const char *example, int n_rows, int runs)
{
	FILE *f = fopen(example, "r");
	static char text[1 << 20], out[1 << 21];
	size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = 0;
	char *o = out;
	int k = 0;
	for (const char *p = text; *p;) {
		const char *hit = strstr(p, "\"sequence\"");
		if (!hit) {
			o += sprintf(o, "%s", p);
			break;
		}
		const char *q1 = strchr(hit + 10, '"'), *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
		if (!q2)
			return 1;
		char seq[8192], dir[300], path[400];
		snprintf(seq, sizeof seq, "%.*s", (int)(q2 - q1 - 1), q1 + 1);
		snprintf(dir, sizeof dir, "%s/bench_msa_%d", tmp_dir, k);
		mkdir(dir, 0755);
		snprintf(path, sizeof path, "%s/uniref90_hits.a3m", dir);
		write_synthetic_a3m(path, seq, n_rows, 0, 1000u + (unsigned)k);
		snprintf(path, sizeof path, "%s/uniprot_hits.a3m", dir);
		write_synthetic_a3m(path, seq, n_rows, 1, 2000u + (unsigned)k);
		o += sprintf(o, "%.*s\"main_msa_file_paths\": \"%s\", ", (int)(hit - p), p, dir);
		p = hit;
		o += sprintf(o, "\"sequence\"");
		p += 10;
		k++;
	}
	const char *qpath = tmp_path("bench.json");
	write_file(qpath, out);
	of3_bundle_t **a = parse_query(qpath);
	if (!a) {
		printf("bench: of3-parse %s failed\n", qpath);
		return 1;
	}
	double *wall = calloc((size_t)runs, sizeof *wall), *cpu = calloc((size_t)runs, sizeof *cpu);
	int rc = OF3_OK;
	int64_t shape[3] = {0, 0, 0};
	int32_t paired = 0;
	for (int i = 0; i < runs && rc == OF3_OK; i++) {
		double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
		of3_bundle_t *feats = msa_features(a[0], &rc);
		wall[i] = now_s(CLOCK_MONOTONIC) - w0;
		cpu[i] = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
		if (feats) {
			memcpy(shape, of3_bundle_tensor(feats, "msa")->shape, sizeof shape);
			paired = n_paired(feats) - 1;
		}
		of3_bundle_free(feats);
	}
	if (rc < 0)
		printf("bench: %s\n", of3_errmsg());
	else {
		qsort(wall, (size_t)runs, sizeof *wall, cmp_double);
		qsort(cpu, (size_t)runs, sizeof *cpu, cmp_double);
		printf("%s: %d polymer entries with %d-row uniref90_hits + uniprot_hits; msa "
		       "[%lld, "
		       "%lld, 32], %d paired rows; %d runs: wall median %.1f ms (min %.1f, max "
		       "%.1f), CPU median %.1f ms\n",
		       example, k, n_rows, (long long)shape[0], (long long)shape[1], paired, runs,
		       1e3 * wall[runs / 2], 1e3 * wall[0], 1e3 * wall[runs - 1],
		       1e3 * cpu[runs / 2]);
	}
	free(wall);
	free(cpu);
	free_bundles(a);
	return rc < 0;
}

int main(int argc, char **argv)
{
	if (strstr(argv[0], "build/san/"))
		bin_dir = "build/san/bin";
	snprintf(tmp_dir, sizeof tmp_dir, "/tmp/of3_test_msa.XXXXXX");
	if (!mkdtemp(tmp_dir)) {
		printf("not ok - cannot make a temporary directory\n");
		return 1;
	}
	if (argc >= 2 && strcmp(argv[1], "--bench") == 0) {
		/* --bench [EXAMPLE [ROWS [RUNS]]] */
		int rows = argc > 3 ? arg_int(argv[3]) : 1024,
		    runs = argc > 4 ? arg_int(argv[4]) : 11;
		if (rows < 1 || runs < 1) {
			printf("usage: test_featurize_msa --bench [EXAMPLE [ROWS [RUNS]]]\n");
			return 2;
		}
		int rc = bench(argc > 2 ? argv[2] : "examples/query_protein_ligand.json", rows,
		               runs);
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
		return system(cmd) != 0 || rc;
	}

	test_readers();
	test_bad_texts();
	test_bad_queries();

	char a[256], b[256], rna[256];
	fixture_sequences(a, b, rna, sizeof a);
	CHECK(a[0] && b[0] && rna[0], "fixture sequences read from %smsa_queries.json", FIX);
	test_failure_modes(a, b, rna);
	test_true_profile();

	static const char *const examples[] = {
	        "dna_ptm",   "homomer", "multimer", "protein_ligand", "protein_ligand_multiple",
	        "ubiquitin", NULL};
	for (int i = 0; examples[i]; i++) {
		char q[256], f[256];
		snprintf(q, sizeof q, "examples/query_%s.json", examples[i]);
		snprintf(f, sizeof f, "tests/fixtures/features_query_%s.bundle.gz", examples[i]);
		parity(q, f);
	}
	parity(FIX "msa_queries.json", FIX "msa_queries.features.bundle.gz");

	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmp_dir);
	return check_summary();
}
