/* msa.c: the MSA features (spec/data.md §4.3, §6.4, §6.7): chains grouped into representatives
 * (chains with the same files, or without files and with the same sequence), their files read
 * and checked against the chain's sequence, the paired block (precomputed or paired online),
 * the main block (deduplicated against the paired rows), and the stack of query, paired and
 * main rows mapped onto the tokens. The ways this differs from OpenFold3 are in
 * docs/DEVIATIONS.md ("of3-featurize: MSAs"). */
#include "msa.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msa_files.h"
#include "msa_pair.h"
#include "msa_parse.h"

enum { N_CLASS = 32, GAP_CLASS = 31 };
#define MAX_ROWS        16384 /* MSASettings.max_rows */
#define MAX_ROWS_PAIRED 8191  /* MSASettings.max_rows_paired */
#define PROFILE_CHUNK   1000  /* calculate_profile_del_mean's msa_profile_chunk_size */

/* Main MSA files in stacking order (MSASettings.aln_order); "dummy" is the query-only MSA of a
 * chain without files. Paired: paired_msa_order. Online pairing: msas_to_pair ("uniprot" is in
 * OpenFold3's list too but never read, having no row limit). */
static const char *const aln_order[] = {"uniref90_hits",
                                        "bfd_uniclust_hits",
                                        "bfd_uniref_hits",
                                        "cfdb_uniref30",
                                        "mgnify_hits",
                                        "rfam_hits",
                                        "rnacentral_hits",
                                        "nt_hits",
                                        "concat_cfdb_uniref100_filtered",
                                        "colabfold_main",
                                        "dummy",
                                        NULL};
static const char *const paired_order[] = {"colabfold_paired", NULL};
static const char *const pair_source = "uniprot_hits";

typedef struct {
	int mol_type, first_chain;
	char *key; /* what makes two chains share this representative */
	int n_main_files, n_paired_files;
	of3_msa_file_t *main_files, *paired_files; /* sorted by stem */
	of3_msa_t *main_msa, *paired_msa;          /* parallel to the files */
	int64_t n_cols;
	const char *query; /* row 0 of the first file (by stem): the stack's query row */
	int64_t n_main;    /* the main block: rows of the main files, minus paired duplicates */
	const char **main_res;
	const int32_t **main_del;
	of3_msa_t paired; /* the paired block: P rows (none when P is 0) */
	float *profile;   /* [n_cols, 32] */
	float *del_mean;  /* [n_cols] */
} rep_t;

static void rep_free(rep_t *r)
{
	for (int i = 0; i < r->n_main_files; i++)
		of3_msa_free(&r->main_msa[i]);
	for (int i = 0; i < r->n_paired_files; i++)
		of3_msa_free(&r->paired_msa[i]);
	of3_msa_files_free(r->main_files, r->n_main_files);
	of3_msa_files_free(r->paired_files, r->n_paired_files);
	free(r->main_msa);
	free(r->paired_msa);
	free(r->key);
	free(r->main_res);
	free(r->main_del);
	of3_msa_free(&r->paired);
	free(r->profile);
	free(r->del_mean);
}

static int nomem(void)
{
	return of3_err(OF3_ERR_NOMEM, "out of memory building MSA features");
}

/* ---- representatives ---- */

static char *make_key(const of3_fchain_t *c, const of3_msa_file_t *mf, int n_m,
                      const of3_msa_file_t *pf, int n_p)
{
	size_t n = 16 + (c->sequence ? strlen(c->sequence) : 0);
	for (int i = 0; i < n_m; i++)
		n += strlen(mf[i].real) + 3;
	for (int i = 0; i < n_p; i++)
		n += strlen(pf[i].real) + 3;
	char *k = malloc(n), *at = k;
	if (!k)
		return NULL;
	at += sprintf(at, "%d", c->mol_type);
	if (n_m + n_p == 0)
		at += sprintf(at, "d:%s", c->sequence);
	for (int i = 0; i < n_m; i++)
		at += sprintf(at, "\nm:%s", mf[i].real);
	for (int i = 0; i < n_p; i++)
		at += sprintf(at, "\np:%s", pf[i].real);
	return k;
}

/* A chain without MSA files: the query-only "dummy" MSA (OpenFold3 with --use_msa_server=False). */
static int make_dummy(rep_t *r, const char *seq)
{
	size_t n = strlen(seq);
	r->main_files = calloc(1, sizeof *r->main_files);
	r->main_msa = calloc(1, sizeof *r->main_msa);
	if (!r->main_files || !r->main_msa)
		return nomem();
	r->n_main_files = 1;
	of3_msa_t *m = r->main_msa;
	r->main_files->stem = strdup("dummy");
	r->main_files->path = strdup("(query sequence)");
	r->main_files->real = strdup("");
	m->res = malloc(n ? n : 1);
	m->del = calloc(n ? n : 1, sizeof *m->del);
	m->header_text = strdup("query");
	m->header = calloc(1, sizeof *m->header);
	if (!r->main_files->stem || !r->main_files->path || !r->main_files->real || !m->res ||
	    !m->del || !m->header_text || !m->header)
		return nomem();
	memcpy(m->res, seq, n);
	m->n_rows = 1;
	m->n_cols = (int64_t)n;
	return OF3_OK;
}

static int read_files(const of3_msa_file_t *f, int n, of3_msa_t *out)
{
	for (int i = 0; i < n; i++) {
		int rc = of3_msa_read(f[i].path, of3_msa_stem_max_rows(f[i].stem), &out[i]);
		if (rc < 0)
			return rc;
	}
	return OF3_OK;
}

/* Row 0 of every file must be the chain's sequence (OpenFold3 takes row 0 of the first file as
 * the query without looking: spec/data.md §6.2). Case is ignored: Stockholm keeps lower case. */
static int check_query(const rep_t *r, const of3_fchain_t *c)
{
	int64_t n = (int64_t)strlen(c->sequence);
	for (int k = 0; k < r->n_main_files + r->n_paired_files; k++) {
		int main = k < r->n_main_files;
		const of3_msa_t *m = main ? &r->main_msa[k] : &r->paired_msa[k - r->n_main_files];
		const char *path =
		        main ? r->main_files[k].path : r->paired_files[k - r->n_main_files].path;
		if (m->n_cols != n)
			return of3_err(
			        OF3_ERR_INPUT,
			        "MSA file '%s': its first sequence (the query row) has %lld "
			        "aligned residues, chain %s's sequence %lld; the first sequence "
			        "of an MSA must be the chain's sequence",
			        path, (long long)m->n_cols, c->id, (long long)n);
		for (int64_t j = 0; j < n; j++) {
			char a = m->res[j], b = c->sequence[j];
			if (a >= 'a' && a <= 'z')
				a = (char)(a - 'a' + 'A');
			if (a != b)
				return of3_err(
				        OF3_ERR_INPUT,
				        "MSA file '%s': its first sequence (the query row) has "
				        "'%c' at position %lld where chain %s's sequence has '%c'; "
				        "the first sequence of an MSA must be the chain's sequence",
				        path, m->res[j], (long long)j + 1, c->id, b);
		}
	}
	return OF3_OK;
}

/* Groups the protein and RNA chains into representatives and reads their files. */
static int build_reps(const of3_tokens_t *t, rep_t *reps, int *n_reps, int *chain_rep)
{
	*n_reps = 0;
	for (int i = 0; i < t->n_chains; i++) {
		const of3_fchain_t *c = &t->chains[i];
		chain_rep[i] = -1;
		if ((c->mol_type != OF3_MOL_PROTEIN_ID && c->mol_type != OF3_MOL_RNA_ID) ||
		    !c->sequence)
			continue;
		of3_msa_file_t *mf = NULL, *pf = NULL;
		int n_m = 0, n_p = 0;
		int rc = of3_msa_files_expand(c->main_msa_paths, c->n_main_msa, &mf, &n_m);
		if (rc == OF3_OK)
			rc = of3_msa_files_expand(c->paired_msa_paths, c->n_paired_msa, &pf, &n_p);
		char *key = rc == OF3_OK ? make_key(c, mf, n_m, pf, n_p) : NULL;
		if (rc == OF3_OK && !key)
			rc = nomem();
		int r = 0;
		while (rc == OF3_OK && r < *n_reps && strcmp(reps[r].key, key) != 0)
			r++;
		if (rc < 0 || r < *n_reps) {
			of3_msa_files_free(mf, n_m);
			of3_msa_files_free(pf, n_p);
			free(key);
		}
		if (rc < 0)
			return of3_err_prefix(rc, "chain %s", c->id);
		chain_rep[i] = r;
		if (r < *n_reps) {
			if ((rc = check_query(&reps[r], c)) < 0)
				return rc;
			continue;
		}
		rep_t *p = &reps[(*n_reps)++];
		p->mol_type = c->mol_type;
		p->first_chain = i;
		p->key = key;
		if (n_m + n_p == 0) {
			rc = make_dummy(p, c->sequence);
		} else {
			p->main_files = mf;
			p->n_main_files = n_m;
			p->paired_files = pf;
			p->n_paired_files = n_p;
			p->main_msa = calloc((size_t)(n_m ? n_m : 1), sizeof *p->main_msa);
			p->paired_msa = calloc((size_t)(n_p ? n_p : 1), sizeof *p->paired_msa);
			rc = p->main_msa && p->paired_msa ? OF3_OK : nomem();
			if (rc == OF3_OK)
				rc = read_files(mf, n_m, p->main_msa);
			if (rc == OF3_OK)
				rc = read_files(pf, n_p, p->paired_msa);
		}
		if (rc == OF3_OK)
			rc = check_query(p, c);
		if (rc < 0)
			return of3_err_prefix(rc, "chain %s", c->id);
		const of3_msa_t *q = n_m ? &p->main_msa[0] : n_p ? &p->paired_msa[0] : p->main_msa;
		p->query = q->res;
		p->n_cols = q->n_cols;
	}
	return OF3_OK;
}

static const of3_msa_t *find_file(const of3_msa_file_t *f, const of3_msa_t *m, int n,
                                  const char *stem)
{
	for (int i = 0; i < n; i++)
		if (strcmp(f[i].stem, stem) == 0)
			return &m[i];
	return NULL;
}

/* ---- the paired block ---- */

/* Pads (or creates) a representative's paired block to p rows with gap rows. */
static int pad_block(of3_msa_t *b, int64_t n_cols, int64_t p)
{
	if (b->n_rows >= p && b->res)
		return OF3_OK;
	size_t cells = (size_t)(p * n_cols), have = (size_t)(b->n_rows * n_cols);
	char *res = realloc(b->res, cells ? cells : 1);
	if (res)
		b->res = res;
	int32_t *del = realloc(b->del, (cells ? cells : 1) * sizeof *del);
	if (del)
		b->del = del;
	if (!res || !del)
		return nomem();
	memset(b->res + have, '-', cells - have);
	memset(b->del + have, 0, (cells - have) * sizeof *del);
	b->n_rows = p;
	b->n_cols = n_cols;
	return OF3_OK;
}

/* Precomputed paired MSAs (create_paired_from_preprocessed): each representative's paired files
 * in paired_order, at most MAX_ROWS_PAIRED rows; P is the longest. */
static int paired_precomputed(rep_t *reps, int n_reps, int64_t *p)
{
	*p = 0;
	for (int r = 0; r < n_reps; r++) {
		rep_t *rp = &reps[r];
		of3_msa_t *b = &rp->paired;
		for (int k = 0; paired_order[k]; k++) {
			const of3_msa_t *m = find_file(rp->paired_files, rp->paired_msa,
			                               rp->n_paired_files, paired_order[k]);
			if (!m)
				continue;
			int64_t take = m->n_rows;
			if (b->n_rows + take > MAX_ROWS_PAIRED)
				take = MAX_ROWS_PAIRED - b->n_rows;
			int64_t have = b->n_rows;
			if (pad_block(b, rp->n_cols, have + take) < 0)
				return nomem();
			memcpy(b->res + have * rp->n_cols, m->res, (size_t)(take * rp->n_cols));
			memcpy(b->del + have * rp->n_cols, m->del,
			       (size_t)(take * rp->n_cols) * sizeof *b->del);
		}
		if (b->n_rows > *p)
			*p = b->n_rows;
	}
	for (int r = 0; r<n_reps && * p> 0; r++)
		if (pad_block(&reps[r].paired, reps[r].n_cols, *p) < 0)
			return nomem();
	return OF3_OK;
}

/* Online pairing when the proteins are neither one chain nor copies of one representative
 * (find_monomer_homomer). */
static int paired_online(const of3_tokens_t *t, const int *chain_rep, rep_t *reps, int n_reps,
                         int64_t *p)
{
	*p = 0;
	int n_prot_chains = 0, n_prot_reps = 0;
	for (int i = 0; i < t->n_chains; i++)
		n_prot_chains +=
		        chain_rep[i] >= 0 && reps[chain_rep[i]].mol_type == OF3_MOL_PROTEIN_ID;
	for (int r = 0; r < n_reps; r++)
		n_prot_reps += reps[r].mol_type == OF3_MOL_PROTEIN_ID;
	if (n_prot_chains == 1 || (n_prot_reps == 1 && n_prot_chains > 1))
		return OF3_OK;
	const of3_msa_t **to_pair = calloc((size_t)n_reps, sizeof *to_pair);
	int64_t *n_cols = malloc((size_t)n_reps * sizeof *n_cols);
	of3_msa_t *blocks = calloc((size_t)n_reps, sizeof *blocks);
	int rc = to_pair && n_cols && blocks ? OF3_OK : nomem();
	for (int r = 0; r < n_reps && rc == OF3_OK; r++) {
		n_cols[r] = reps[r].n_cols;
		if (reps[r].mol_type == OF3_MOL_PROTEIN_ID)
			to_pair[r] = find_file(reps[r].main_files, reps[r].main_msa,
			                       reps[r].n_main_files, pair_source);
	}
	if (rc == OF3_OK)
		rc = of3_msa_pair(n_reps, to_pair, n_cols, MAX_ROWS_PAIRED, blocks, p);
	for (int r = 0; r < n_reps && rc == OF3_OK && *p > 0; r++)
		reps[r].paired = blocks[r];
	free(to_pair);
	free(n_cols);
	free(blocks);
	return rc;
}

/* ---- the main block ---- */

static uint64_t hash_row(const char *s, int64_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (int64_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

/* The main files in aln_order; rows equal (letters only) to a paired row are dropped. */
static int main_block(rep_t *r)
{
	int64_t total = 0;
	for (int k = 0; aln_order[k]; k++) {
		const of3_msa_t *m =
		        find_file(r->main_files, r->main_msa, r->n_main_files, aln_order[k]);
		total += m ? m->n_rows : 0;
	}
	r->main_res = malloc((size_t)(total ? total : 1) * sizeof *r->main_res);
	r->main_del = malloc((size_t)(total ? total : 1) * sizeof *r->main_del);
	if (!r->main_res || !r->main_del)
		return nomem();
	const of3_msa_t *pb = &r->paired;
	size_t tn = 1;
	while (pb->n_rows > 0 && tn < 2 * (size_t)pb->n_rows + 2)
		tn *= 2;
	int64_t *table = NULL;
	if (pb->n_rows > 0) {
		table = malloc(tn * sizeof *table);
		if (!table)
			return nomem();
		memset(table, 0xff, tn * sizeof *table);
		for (int64_t i = 0; i < pb->n_rows; i++) {
			size_t h = hash_row(pb->res + i * r->n_cols, r->n_cols) & (tn - 1);
			while (table[h] >= 0)
				h = (h + 1) & (tn - 1);
			table[h] = i;
		}
	}
	r->n_main = 0;
	for (int k = 0; aln_order[k]; k++) {
		const of3_msa_t *m =
		        find_file(r->main_files, r->main_msa, r->n_main_files, aln_order[k]);
		for (int64_t i = 0; m && i < m->n_rows; i++) {
			const char *row = m->res + i * r->n_cols;
			int dup = 0;
			if (table) {
				size_t h = hash_row(row, r->n_cols) & (tn - 1);
				for (; table[h] >= 0 && !dup; h = (h + 1) & (tn - 1))
					dup = memcmp(pb->res + table[h] * r->n_cols, row,
					             (size_t)r->n_cols) == 0;
			}
			if (dup)
				continue;
			r->main_res[r->n_main] = row;
			r->main_del[r->n_main] = m->del + i * r->n_cols;
			r->n_main++;
		}
	}
	free(table);
	return OF3_OK;
}

/* Letter -> class of STANDARD_RESIDUES_WITH_GAP_1 for a molecule type
 * (map_str_array_to_idx_array): the type's letters, '-' the gap, anything else unknown. */
static void class_table(int mol_type, uint8_t lut[256])
{
	const char *letters = mol_type == OF3_MOL_PROTEIN_ID ? "ARNDCQEGHILKMFPSTWYVX" : "AGCUN";
	int base = mol_type == OF3_MOL_PROTEIN_ID ? 0 : 21;
	int unknown = mol_type == OF3_MOL_PROTEIN_ID ? 20 : 25;
	for (int i = 0; i < 256; i++)
		lut[i] = (uint8_t)unknown;
	for (int i = 0; letters[i]; i++)
		lut[(unsigned char)letters[i]] = (uint8_t)(base + i);
	lut['-'] = GAP_CLASS;
}

/* Profile and mean deletion count over the whole main block (calculate_profile_del_mean). */
static int profile(rep_t *r, int true_profile)
{
	uint8_t lut[256];
	class_table(r->mol_type, lut);
	size_t nc = (size_t)r->n_cols;
	r->profile = calloc(nc * N_CLASS + 1, sizeof *r->profile);
	r->del_mean = calloc(nc + 1, sizeof *r->del_mean);
	int64_t *counts = calloc(nc * N_CLASS + 1, sizeof *counts);
	int64_t *dsum = calloc(nc + 1, sizeof *dsum);
	if (!r->profile || !r->del_mean || !counts || !dsum) {
		free(counts);
		free(dsum);
		return nomem();
	}
	for (int64_t i = 0; i < r->n_main; i++) {
		const char *row = r->main_res[i];
		const int32_t *del = r->main_del[i];
		for (size_t c = 0; c < nc; c++)
			dsum[c] += del[c];
		if (true_profile) {
			for (size_t c = 0; c < nc; c++)
				counts[c * N_CLASS + lut[(unsigned char)row[c]]]++;
			continue;
		}
		/* OpenFold3's calculate_profile counts blocks of PROFILE_CHUNK columns with
		 * np.bincount, flattening the block row by row but labelling the flat entries as
		 * if column by column (np.repeat where np.tile was meant): entry k of a block of
		 * width w is the letter of row k / w, column k % w, and is counted for column
		 * k / n_main of the block. Every column still sums to 1, so nothing looks wrong;
		 * the released weights were trained on it. Upstream: openfold-3 PR #312. */
		for (size_t cs = 0; cs < nc; cs += PROFILE_CHUNK) {
			size_t w = nc - cs < PROFILE_CHUNK ? nc - cs : PROFILE_CHUNK;
			for (size_t j = 0; j < w; j++) {
				size_t k = (size_t)i * w + j;
				counts[(cs + k / (size_t)r->n_main) * N_CLASS +
				       lut[(unsigned char)row[cs + j]]]++;
			}
		}
	}
	if (r->n_main > 0)
		for (size_t c = 0; c < nc; c++) {
			for (int k = 0; k < N_CLASS; k++)
				r->profile[c * N_CLASS + k] =
				        (float)((double)counts[c * N_CLASS + k] /
				                (double)r->n_main);
			r->del_mean[c] = (float)((double)dsum[c] / (double)r->n_main);
		}
	free(counts);
	free(dsum);
	return OF3_OK;
}

/* ---- features ---- */

/* (8/pi) atan(d/3), evaluated in float32 as OpenFold3's torch code does:
 * atan(float(d) / 3) * (2 / acos(0) * 2). */
static float deletion_value(int32_t d)
{
	const float scale = 2.0f / acosf(0.0f) * 2.0f;
	return atanf((float)d / 3.0f) * scale;
}

typedef struct {
	of3_tensor_t *msa, *has_del, *del_val, *del_mean, *profile, *mask, *n_paired;
} feats_t;

static int add_tensors(of3_bundle_t *out, int64_t n_rows, int64_t n_tok, feats_t *f)
{
	int64_t s3[3] = {n_rows, n_tok, N_CLASS}, s2[2] = {n_rows, n_tok}, sp[2] = {n_tok, N_CLASS};
	int64_t s1[1] = {n_tok}, one[1] = {1};
	int rc;
	if ((rc = of3_bundle_add_tensor(out, "msa", OF3_DTYPE_I32, 3, s3, 1, &f->msa)) < 0 ||
	    (rc = of3_bundle_add_tensor(out, "has_deletion", OF3_DTYPE_F32, 2, s2, 1,
	                                &f->has_del)) < 0 ||
	    (rc = of3_bundle_add_tensor(out, "deletion_value", OF3_DTYPE_F32, 2, s2, 1,
	                                &f->del_val)) < 0 ||
	    (rc = of3_bundle_add_tensor(out, "deletion_mean", OF3_DTYPE_F32, 1, s1, 1,
	                                &f->del_mean)) < 0 ||
	    (rc = of3_bundle_add_tensor(out, "profile", OF3_DTYPE_F32, 2, sp, 1, &f->profile)) <
	            0 ||
	    (rc = of3_bundle_add_tensor(out, "msa_mask", OF3_DTYPE_F32, 2, s2, 1, &f->mask)) < 0 ||
	    (rc = of3_bundle_add_tensor(out, "num_paired_seqs", OF3_DTYPE_I32, 1, one, 1,
	                                &f->n_paired)) < 0)
		return rc;
	return of3_bundle_meta_set_int(out, "n_msa", n_rows);
}

/* Writes the stack of one chain: query row, P paired rows, main rows, padding. */
static int fill_chain(const of3_tokens_t *t, const of3_fchain_t *c, const rep_t *r, int64_t p,
                      int64_t n_rows, const feats_t *f)
{
	uint8_t lut[256];
	class_table(r->mol_type, lut);
	float dv[256];
	for (int d = 0; d < 256; d++)
		dv[d] = deletion_value(d);
	int64_t n_tok = t->n_tokens;
	int32_t *msa = f->msa->data;
	float *has_del = f->has_del->data, *del_val = f->del_val->data, *mask = f->mask->data;
	float *prof = f->profile->data, *dmean = f->del_mean->data;
	int64_t *col = malloc((size_t)(c->n_tokens ? c->n_tokens : 1) * sizeof *col);
	if (!col)
		return nomem();
	for (int j = 0; j < c->n_tokens; j++) {
		int64_t tok = c->first_token + j;
		col[j] = (int64_t)t->res_id[tok] - 1;
		if (col[j] < 0 || col[j] >= r->n_cols) {
			free(col);
			return of3_err(OF3_ERR_INPUT,
			               "chain %s: token %lld has residue number %d outside the "
			               "sequence (1..%lld)",
			               c->id, (long long)tok, t->res_id[tok], (long long)r->n_cols);
		}
		memcpy(prof + tok * N_CLASS, r->profile + col[j] * N_CLASS, N_CLASS * sizeof *prof);
		dmean[tok] = r->del_mean[col[j]];
	}
	int64_t n_main = n_rows - 1 - p;
	if (n_main > r->n_main)
		n_main = r->n_main;
	for (int64_t i = 0; i < n_rows; i++) {
		const char *res = NULL;
		const int32_t *del = NULL;
		if (i == 0) {
			res = r->query;
		} else if (i <= p) {
			res = r->paired.res + (i - 1) * r->n_cols;
			del = r->paired.del + (i - 1) * r->n_cols;
		} else if (i - 1 - p < n_main) {
			res = r->main_res[i - 1 - p];
			del = r->main_del[i - 1 - p];
		}
		for (int j = 0; j < c->n_tokens; j++) {
			size_t at = (size_t)(i * n_tok + c->first_token + j);
			int32_t d = del ? del[col[j]] : 0;
			msa[at * N_CLASS + GAP_CLASS] = 0;
			msa[at * N_CLASS + (res ? lut[(unsigned char)res[col[j]]] : GAP_CLASS)] = 1;
			has_del[at] = d != 0;
			del_val[at] = d >= 0 && d < 256 ? dv[d] : deletion_value(d);
			mask[at] = res != NULL;
		}
	}
	free(col);
	return OF3_OK;
}

int of3_msa_features(const of3_tokens_t *t, of3_bundle_t *out)
{
	return of3_msa_features_flags(t, 0, out);
}

int of3_msa_features_flags(const of3_tokens_t *t, unsigned flags, of3_bundle_t *out)
{
	int n_reps = 0, rc = OF3_OK;
	int64_t n_tok = t->n_tokens, p = 0;
	rep_t *reps = calloc((size_t)t->n_chains + 1, sizeof *reps);
	int *chain_rep = calloc((size_t)t->n_chains + 1, sizeof *chain_rep);
	if (!reps || !chain_rep) {
		rc = nomem();
		goto done;
	}
	if (t->use_msas && (rc = build_reps(t, reps, &n_reps, chain_rep)) < 0)
		goto done;

	if (t->use_msas && t->use_paired_msas && n_reps > 0) {
		int any_precomputed = 0;
		for (int r = 0; r < n_reps; r++)
			any_precomputed |= reps[r].n_paired_files > 0;
		rc = any_precomputed ? paired_precomputed(reps, n_reps, &p)
		                     : paired_online(t, chain_rep, reps, n_reps, &p);
		if (rc < 0)
			goto done;
	}
	int64_t max_main = 0;
	for (int r = 0; r < n_reps; r++) {
		if (t->use_main_msas && (rc = main_block(&reps[r])) < 0)
			goto done;
		if ((rc = profile(&reps[r], (flags & OF3_MSA_F_TRUE_PROFILE) != 0)) < 0)
			goto done;
		max_main = reps[r].n_main > max_main ? reps[r].n_main : max_main;
	}
	int64_t n_rows = n_reps ? 1 + p + max_main : 1;
	if (n_rows > MAX_ROWS)
		n_rows = MAX_ROWS;

	feats_t f;
	if ((rc = add_tensors(out, n_rows, n_tok, &f)) < 0)
		goto done;
	int32_t *msa = f.msa->data;
	for (int64_t i = 0; i < n_rows * n_tok; i++)
		msa[i * N_CLASS + GAP_CLASS] = 1;
	((int32_t *)f.n_paired->data)[0] = (int32_t)(p + 1);
	for (int i = 0; i < t->n_chains; i++)
		if (chain_rep[i] >= 0 &&
		    (rc = fill_chain(t, &t->chains[i], &reps[chain_rep[i]], p, n_rows, &f)) < 0)
			goto done;
done:
	for (int r = 0; r < n_reps; r++)
		rep_free(&reps[r]);
	free(reps);
	free(chain_rep);
	if (rc < 0)
		return of3_err_prefix(rc, "query '%s'", t->assembly ? t->assembly->query : "?");
	return OF3_OK;
}
