/* writer.c: the files of one query in the OpenFold3 or AlphaFold3 layout (writer.h). JSON
 * through cJSON; NaN (disorder without scorable residues) becomes null, which JSON can hold. */
#include "writer.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cif.h"
#include "metrics.h"
#include "pdb.h"
#include "sbuf.h"

#define PATH_BYTES 4096

/* snprintf into a path buffer; a path that does not fit is an error, not a cut name. */
static int pathf(char *buf, size_t n, const char *fmt, ...) OF3_PRINTF(3, 4);
static int pathf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return k < 0 || (size_t)k >= n ? of3_err(OF3_ERR_INPUT, "output path too long: %s...", buf)
	                               : OF3_OK;
}

static int make_dir(const char *path)
{
	struct stat st;
	if (mkdir(path, 0777) == 0)
		return OF3_OK;
	if (errno == EEXIST && stat(path, &st) == 0)
		return S_ISDIR(st.st_mode) ? OF3_OK
		                           : of3_err(OF3_ERR_RUNTIME,
		                                     "cannot create directory '%s': a file of that "
		                                     "name is in the way",
		                                     path);
	return of3_err(OF3_ERR_SYS, "cannot create directory '%s'", path);
}

/* mkdir -p */
static int make_dirs(const char *path)
{
	char p[PATH_BYTES];
	snprintf(p, sizeof p, "%s", path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			int rc = make_dir(p);
			*s = '/';
			if (rc < 0)
				return rc;
		}
	return make_dir(p);
}

static int write_json(const char *path, cJSON *j)
{
	if (!j)
		return of3_err(OF3_ERR_NOMEM, "out of memory building '%s'", path);
	char *s = cJSON_Print(j);
	cJSON_Delete(j);
	if (!s)
		return of3_err(OF3_ERR_NOMEM, "out of memory printing '%s'", path);
	size_t n = strlen(s);
	s[n] = '\n';
	int rc = of3_write_file(path, s, n + 1);
	cJSON_free(s);
	return rc;
}

static cJSON *num(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *floats(const float *v, int64_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (int64_t i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

static cJSON *matrix(const float *v, int n)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, floats(v + (int64_t)i * n, n))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

/* cJSON_Add* return NULL on failure; one flag collects them. */
static void add(cJSON *o, const char *key, cJSON *v, int *bad)
{
	if (!o || !v || !cJSON_AddItemToObject(o, key, v))
		*bad = 1, cJSON_Delete(v);
}

#define PATHF(buf, ...)                                             \
	do {                                                        \
		if ((rc = pathf(buf, sizeof buf, __VA_ARGS__)) < 0) \
			return rc;                                  \
	} while (0)

/* The structure files of sample s: stem.cif, and stem.pdb with pdb. */
static int write_model(const char *stem, const of3_wc_query_t *q, int s, const of3_wc_metrics_t *m,
                       int pdb)
{
	char cif[PATH_BYTES + 300], pdb_path[PATH_BYTES + 300];
	int rc;
	PATHF(cif, "%s.cif", stem);
	PATHF(pdb_path, "%s.pdb", stem);
	const float *x = q->x + (int64_t)s * q->n_atom * 3;
	of3_sbuf_t b = {0};
	rc = of3_wc_cif(&b, q, x, m->plddt, m->avg_plddt);
	if (rc == OF3_OK)
		rc = of3_write_file(cif, b.data, b.len);
	if (rc == OF3_OK && pdb) {
		b.len = 0;
		if ((rc = of3_wc_pdb(&b, q, x, m->plddt)) == OF3_OK)
			rc = of3_write_file(pdb_path, b.data, b.len);
	}
	of3_sbuf_free(&b);
	return rc;
}

/* ---- OpenFold3 layout ---- */

static int of3_confidences(const char *path, const of3_wc_metrics_t *m)
{
	int bad = 0;
	cJSON *o = cJSON_CreateObject();
	add(o, "plddt", floats(m->plddt, m->n_atom), &bad);
	add(o, "pae", matrix(m->pae, m->n_token), &bad);
	add(o, "pde", matrix(m->pde, m->n_token), &bad);
	if (bad)
		cJSON_Delete(o), o = NULL;
	return write_json(path, o);
}

static int of3_aggregated(const char *path, const of3_wc_query_t *q, const of3_wc_metrics_t *m)
{
	int bad = 0;
	cJSON *o = cJSON_CreateObject(), *cp = cJSON_CreateObject(), *cpi = cJSON_CreateObject(),
	      *bi = cJSON_CreateObject();
	add(o, "avg_plddt", num(m->avg_plddt), &bad);
	add(o, "gpde", num(m->gpde), &bad);
	add(o, "iptm", num(m->iptm), &bad);
	add(o, "ptm", num(m->ptm), &bad);
	add(o, "disorder", num(m->disorder), &bad);
	add(o, "has_clash", num(m->has_clash), &bad);
	add(o, "sample_ranking_score", num(m->ranking_score), &bad);
	for (int c = 0; c < m->n_chain; c++)
		add(cp, q->chain_name[c], num(m->chain_ptm[c]), &bad);
	for (int p = 0; p < m->n_pair; p++) {
		char key[160];
		snprintf(key, sizeof key, "(%s, %s)", q->chain_name[m->pair_c1[p]],
		         q->chain_name[m->pair_c2[p]]);
		add(cpi, key, num(m->chain_pair_iptm[p]), &bad);
		add(bi, key, num(m->bespoke_iptm[p]), &bad);
	}
	add(o, "chain_ptm", cp, &bad);
	add(o, "chain_pair_iptm", cpi, &bad);
	add(o, "bespoke_iptm", bi, &bad);
	if (bad)
		cJSON_Delete(o), o = NULL;
	return write_json(path, o);
}

/* ---- ranking files: rows of earlier seeds are kept, this seed's replaced ---- */

typedef struct {
	long long seed;
	int sample;
	double score;
	char *line;
} row_t;

static int by_score(const void *a, const void *b)
{
	const row_t *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if (x->seed != y->seed)
		return x->seed < y->seed ? -1 : 1;
	return x->sample - y->sample;
}

static int by_seed(const void *a, const void *b)
{
	const row_t *x = a, *y = b;
	if (x->seed != y->seed)
		return x->seed < y->seed ? -1 : 1;
	return x->sample - y->sample;
}

/* Rewrites the CSV at path: its rows for other seeds plus `add` (n_add rows), sorted best first
 * (sorted 0: by seed and sample). *best gets the best row's seed. */
static int ranking_csv(const char *path, const char *header, row_t *add, int n_add, int sorted,
                       long long *best_seed, int *best_sample)
{
	row_t *rows = NULL;
	int n = 0, cap = 0, rc = OF3_OK;
	FILE *f = fopen(path, "r");
	char line[1024];
	while (f && fgets(line, sizeof line, f)) {
		row_t r;
		if (sscanf(line, "%lld,%d,%lf", &r.seed, &r.sample, &r.score) != 3 ||
		    r.seed == add[0].seed)
			continue;
		line[strcspn(line, "\n")] = 0;
		if (n == cap) {
			row_t *g = realloc(rows, (size_t)(cap = cap * 2 + 16) * sizeof *rows);
			if (!g) {
				rc = of3_err(OF3_ERR_NOMEM, "out of memory");
				goto done;
			}
			rows = g;
		}
		r.line = strdup(line);
		rows[n++] = r;
	}
	row_t *g = realloc(rows, (size_t)(n + n_add) * sizeof *rows);
	if (!g) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto done;
	}
	rows = g;
	for (int i = 0; i < n_add; i++) {
		rows[n] = add[i];
		rows[n++].line = strdup(add[i].line);
	}
	qsort(rows, (size_t)n, sizeof *rows, by_score);
	*best_seed = rows[0].seed, *best_sample = rows[0].sample;
	if (!sorted)
		qsort(rows, (size_t)n, sizeof *rows, by_seed);
	of3_sbuf_t b = {0};
	of3_sbuf_printf(&b, "%s\n", header);
	for (int i = 0; i < n; i++)
		of3_sbuf_printf(&b, "%s\n", rows[i].line ? rows[i].line : "");
	if ((rc = of3_sbuf_status(&b)) == OF3_OK)
		rc = of3_write_file(path, b.data, b.len);
	of3_sbuf_free(&b);
done:
	if (f)
		fclose(f);
	for (int i = 0; i < n; i++)
		free(rows[i].line);
	free(rows);
	return rc;
}

static int write_openfold3(const of3_wc_query_t *q, const of3_wc_metrics_t *ms, const char *qdir,
                           int pdb)
{
	char sdir[PATH_BYTES], path[PATH_BYTES + 256];
	int rc;
	PATHF(sdir, "%s/seed_%lld", qdir, (long long)q->seed);
	rc = make_dirs(sdir);
	for (int s = 0; s < q->n_sample && rc == OF3_OK; s++) {
		const of3_wc_metrics_t *m = &ms[s];
		PATHF(path, "%s/%s_seed_%lld_sample_%d_model", sdir, q->name, (long long)q->seed,
		      s + 1);
		if ((rc = write_model(path, q, s, m, pdb)) < 0)
			break;
		PATHF(path, "%s/%s_seed_%lld_sample_%d_confidences.json", sdir, q->name,
		      (long long)q->seed, s + 1);
		if ((rc = of3_confidences(path, m)) < 0)
			break;
		PATHF(path, "%s/%s_seed_%lld_sample_%d_confidences_aggregated.json", sdir, q->name,
		      (long long)q->seed, s + 1);
		rc = of3_aggregated(path, q, m);
	}
	if (rc < 0)
		return rc;
	PATHF(path, "%s/ranking.csv", qdir);
	row_t *rows = calloc((size_t)q->n_sample, sizeof *rows);
	char *lines = malloc((size_t)q->n_sample * 256);
	if (!rows || !lines) {
		free(rows), free(lines);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	for (int s = 0; s < q->n_sample; s++) {
		const of3_wc_metrics_t *m = &ms[s];
		rows[s] = (row_t){q->seed, s + 1, m->ranking_score, lines + 256 * s};
		snprintf(rows[s].line, 256, "%lld,%d,%.6f,%.6f,%.6f,%.4f,%.6f,%d,%.4f",
		         (long long)q->seed, s + 1, m->ranking_score, m->ptm, m->iptm, m->avg_plddt,
		         m->disorder, m->has_clash, m->gpde);
	}
	long long bs;
	int bk;
	rc = ranking_csv(
	        path, "seed,sample,sample_ranking_score,ptm,iptm,avg_plddt,disorder,has_clash,gpde",
	        rows, q->n_sample, 1, &bs, &bk);
	free(rows), free(lines);
	return rc;
}

/* ---- AlphaFold3 layout ---- */

static cJSON *strings_json(int n, const char *(*get)(const of3_wc_query_t *, int),
                           const of3_wc_query_t *q)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; a && i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(get(q, i)))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

static const char *atom_chain(const of3_wc_query_t *q, int a)
{
	return q->atom_chain_id[a];
}

static const char *token_chain(const of3_wc_query_t *q, int i)
{
	return q->chain_name[of3_wc_query_chain(q, q->asym_id[i])];
}

static int af3_confidences(const char *path, const of3_wc_query_t *q, const of3_wc_metrics_t *m)
{
	int bad = 0;
	cJSON *o = cJSON_CreateObject(), *res = cJSON_CreateArray();
	add(o, "atom_chain_ids", strings_json(q->n_atom, atom_chain, q), &bad);
	add(o, "atom_plddts", floats(m->plddt, q->n_atom), &bad);
	add(o, "contact_probs", matrix(m->contact_prob, q->n_token), &bad);
	add(o, "pae", matrix(m->pae, q->n_token), &bad);
	add(o, "token_chain_ids", strings_json(q->n_token, token_chain, q), &bad);
	for (int i = 0; res && i < q->n_token; i++)
		bad |= !cJSON_AddItemToArray(res, cJSON_CreateNumber(q->residue_index[i]));
	add(o, "token_res_ids", res, &bad);
	if (bad)
		cJSON_Delete(o), o = NULL;
	return write_json(path, o);
}

static int af3_summary(const char *path, const of3_wc_query_t *q, const of3_wc_metrics_t *m)
{
	int C = q->n_chain, N = q->n_token, bad = 0;
	double *cp = calloc((size_t)C * C + 1, sizeof *cp),
	       *pmin = malloc(((size_t)C * C + 1) * sizeof *pmin);
	int *chain = malloc(((size_t)N + 1) * sizeof *chain);
	if (!cp || !pmin || !chain) {
		free(cp), free(pmin), free(chain);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	for (int c = 0; c < C; c++)
		cp[c * C + c] = m->chain_ptm[c];
	for (int p = 0; p < m->n_pair; p++)
		cp[m->pair_c1[p] * C + m->pair_c2[p]] = cp[m->pair_c2[p] * C + m->pair_c1[p]] =
		        m->chain_pair_iptm[p];
	for (int i = 0; i < C * C; i++)
		pmin[i] = INFINITY;
	for (int i = 0; i < N; i++)
		chain[i] = of3_wc_query_chain(q, q->asym_id[i]);
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			double *v = &pmin[chain[i] * C + chain[j]];
			*v = fmin(*v, m->pae[(int64_t)i * N + j]);
		}
	cJSON *o = cJSON_CreateObject(), *ci = cJSON_CreateArray(), *cpi = cJSON_CreateArray(),
	      *cpp = cJSON_CreateArray(), *cpt = cJSON_CreateArray();
	for (int c = 0; c < C; c++) {
		double s = 0;
		for (int j = 0; j < C; j++)
			s += j == c ? 0 : cp[c * C + j];
		bad |= !cJSON_AddItemToArray(ci, num(C > 1 ? s / (C - 1) : NAN));
		bad |= !cJSON_AddItemToArray(cpt, num(m->chain_ptm[c]));
		cJSON *r1 = cJSON_CreateArray(), *r2 = cJSON_CreateArray();
		for (int j = 0; j < C; j++) {
			bad |= !cJSON_AddItemToArray(r1, num(cp[c * C + j]));
			bad |= !cJSON_AddItemToArray(r2, num(pmin[c * C + j]));
		}
		bad |= !cJSON_AddItemToArray(cpi, r1) || !cJSON_AddItemToArray(cpp, r2);
	}
	add(o, "chain_iptm", ci, &bad);
	add(o, "chain_pair_iptm", cpi, &bad);
	add(o, "chain_pair_pae_min", cpp, &bad);
	add(o, "chain_ptm", cpt, &bad);
	add(o, "fraction_disordered", num(m->disorder), &bad);
	add(o, "has_clash", num(m->has_clash), &bad);
	add(o, "iptm", num(C > 1 ? m->iptm : NAN), &bad);
	add(o, "ptm", num(m->ptm), &bad);
	add(o, "ranking_score", num(m->ranking_score), &bad);
	free(cp), free(pmin), free(chain);
	if (bad)
		cJSON_Delete(o), o = NULL;
	return write_json(path, o);
}

static int af3_sample(const char *prefix, const of3_wc_query_t *q, int s, const of3_wc_metrics_t *m,
                      int pdb)
{
	char path[PATH_BYTES + 64];
	int rc;
	PATHF(path, "%smodel", prefix);
	if ((rc = write_model(path, q, s, m, pdb)) < 0)
		return rc;
	PATHF(path, "%sconfidences.json", prefix);
	if ((rc = af3_confidences(path, q, m)) < 0)
		return rc;
	PATHF(path, "%ssummary_confidences.json", prefix);
	return af3_summary(path, q, m);
}

static int write_alphafold3(const of3_wc_query_t *q, const of3_wc_metrics_t *ms, const char *qdir,
                            int pdb)
{
	char sdir[PATH_BYTES], path[PATH_BYTES + 64];
	int rc = OF3_OK;
	for (int s = 0; s < q->n_sample && rc == OF3_OK; s++) {
		PATHF(sdir, "%s/seed-%lld_sample-%d", qdir, (long long)q->seed, s);
		if ((rc = make_dirs(sdir)) == OF3_OK) {
			PATHF(path, "%s/", sdir);
			rc = af3_sample(path, q, s, &ms[s], pdb);
		}
	}
	if (rc < 0)
		return rc;
	PATHF(path, "%s/ranking_scores.csv", qdir);
	row_t *rows = calloc((size_t)q->n_sample, sizeof *rows);
	char *lines = malloc((size_t)q->n_sample * 64);
	if (!rows || !lines) {
		free(rows), free(lines);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	for (int s = 0; s < q->n_sample; s++) {
		rows[s] = (row_t){q->seed, s, ms[s].ranking_score, lines + 64 * s};
		snprintf(rows[s].line, 64, "%lld,%d,%.6f", (long long)q->seed, s,
		         ms[s].ranking_score);
	}
	long long bs;
	int bk;
	rc = ranking_csv(path, "seed,sample,ranking_score", rows, q->n_sample, 0, &bs, &bk);
	free(rows), free(lines);
	if (rc < 0 || bs != q->seed || bk < 0 || bk >= q->n_sample)
		return rc;
	PATHF(path, "%s/%s_", qdir, q->name);
	return af3_sample(path, q, bk, &ms[bk], pdb);
}

int of3_wc_write(const of3_wc_query_t *q, const char *dir, const of3_wc_opts_t *opts,
                 double *best_score)
{
	if (!*q->name || strchr(q->name, '/') || !strcmp(q->name, ".") || !strcmp(q->name, ".."))
		return of3_err(OF3_ERR_INPUT, "query name '%s' cannot be a directory name",
		               q->name);
	char qdir[PATH_BYTES];
	int rc;
	/* before any file, so a query the PDB format cannot hold leaves nothing behind */
	if (opts->pdb && (rc = of3_wc_pdb_check(q)) < 0)
		return rc;
	PATHF(qdir, "%s/%s", dir, q->name);
	double best = -INFINITY;
	of3_wc_metrics_t *ms = calloc((size_t)q->n_sample, sizeof *ms);
	if (!ms)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int s = 0; s < q->n_sample && rc == OF3_OK; s++) {
		rc = of3_wc_metrics_compute(&ms[s], q, s);
		best = fmax(best, ms[s].ranking_score);
	}
	if (rc == OF3_OK)
		rc = make_dirs(qdir);
	if (rc == OF3_OK)
		rc = opts->layout == OF3_LAYOUT_ALPHAFOLD3
		             ? write_alphafold3(q, ms, qdir, opts->pdb)
		             : write_openfold3(q, ms, qdir, opts->pdb);
	for (int s = 0; s < q->n_sample; s++)
		of3_wc_metrics_free(&ms[s]);
	free(ms);
	if (best_score)
		*best_score = best;
	return rc;
}
