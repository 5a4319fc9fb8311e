/* test_writecif_output.c: what of3-writecif's writer puts into the confidence JSON files and
 * ranking.csv (values equal to the metrics, key order, two seeds merged best first), and its
 * failures: an unwritable directory (OF3_ERR_SYS, no file), NaN coordinates (OF3_ERR_INPUT). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../of3-writecif/metrics.h"
#include "../of3-writecif/writer.h"
#include "check.h"
#include "test_writecif_fixture.h"

static const of3_wc_opts_t OF3_WC_DEFAULTS = {OF3_LAYOUT_OPENFOLD3, 0};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n)
		free(s), s = NULL;
	if (s)
		s[n] = 0;
	fclose(f);
	return s;
}

static cJSON *json(const char *path)
{
	char *s = slurp(path);
	cJSON *j = s ? cJSON_Parse(s) : NULL;
	free(s);
	return j;
}

static double get(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void aggregated(const char *dir)
{
	of3_bundle_t *d = wc_fixture_diffuse("tiny_protein_ligand", NULL);
	of3_wc_query_t q;
	if (!d || of3_wc_query_load(&q, d) != OF3_OK) {
		CHECK(0, "fixture loads");
		of3_bundle_free(d);
		return;
	}
	int rc = of3_wc_write(&q, dir, &OF3_WC_DEFAULTS, NULL);
	CHECK(rc == OF3_OK, "OpenFold3 layout written: %s", rc ? of3_errmsg() : "");
	char path[1024];
	for (int s = 0; s < q.n_sample; s++) {
		of3_wc_metrics_t m;
		if (of3_wc_metrics_compute(&m, &q, s) != OF3_OK) {
			CHECK(0, "metrics");
			of3_wc_metrics_free(&m);
			continue;
		}
		snprintf(path, sizeof path,
		         "%s/protein_ligand/seed_42/"
		         "protein_ligand_seed_42_sample_%d_confidences_aggregated.json",
		         dir, s + 1);
		cJSON *a = json(path);
		CHECK(a != NULL, "sample %d: aggregated JSON parses", s + 1);
		static const char *const keys[] = {"avg_plddt",
		                                   "gpde",
		                                   "iptm",
		                                   "ptm",
		                                   "disorder",
		                                   "has_clash",
		                                   "sample_ranking_score",
		                                   "chain_ptm",
		                                   "chain_pair_iptm",
		                                   "bespoke_iptm"};
		int k = 0, order = 1;
		for (const cJSON *it = a ? a->child : NULL; it; it = it->next, k++)
			order &= k < 10 && !strcmp(it->string, keys[k]);
		CHECK(order && k == 10, "sample %d: the ten keys in OpenFold3's order", s + 1);
		double dmax = fmax(fabs(get(a, "avg_plddt") - m.avg_plddt),
		                   fabs(get(a, "gpde") - m.gpde));
		dmax = fmax(dmax, fabs(get(a, "ptm") - m.ptm));
		dmax = fmax(dmax, fabs(get(a, "iptm") - m.iptm));
		dmax = fmax(dmax, fabs(get(a, "sample_ranking_score") - m.ranking_score));
		dmax = fmax(dmax, fabs(get(a, "disorder") - m.disorder));
		const cJSON *cpi = cJSON_GetObjectItemCaseSensitive(a, "chain_pair_iptm");
		const cJSON *bi = cJSON_GetObjectItemCaseSensitive(a, "bespoke_iptm");
		const cJSON *cp = cJSON_GetObjectItemCaseSensitive(a, "chain_ptm");
		dmax = fmax(dmax, fabs(get(cpi, "(A, C)") - m.chain_pair_iptm[1]));
		dmax = fmax(dmax, fabs(get(bi, "(B, C)") - m.bespoke_iptm[2]));
		dmax = fmax(dmax, fabs(get(cp, "B") - m.chain_ptm[1]));
		CHECK(dmax < 1e-12, "sample %d: values equal the metrics (max diff %.1e)", s + 1,
		      dmax);
		CHECK(get(a, "has_clash") == 0, "sample %d: has_clash 0", s + 1);
		cJSON_Delete(a);
		snprintf(path, sizeof path,
		         "%s/protein_ligand/seed_42/"
		         "protein_ligand_seed_42_sample_%d_confidences.json",
		         dir, s + 1);
		cJSON *c = json(path);
		const cJSON *pl = cJSON_GetObjectItemCaseSensitive(c, "plddt");
		const cJSON *pde = cJSON_GetObjectItemCaseSensitive(c, "pde");
		double dp = 0;
		int i = 0;
		for (const cJSON *v = pl ? pl->child : NULL; v; v = v->next, i++)
			dp = fmax(dp, i < q.n_atom ? fabs(v->valuedouble - m.plddt[i]) : 1e9);
		CHECK(i == q.n_atom && dp < 1e-4,
		      "sample %d: plddt [%d] as computed (max diff %.1e)", s + 1, q.n_atom, dp);
		CHECK(cJSON_GetArraySize(pde) == q.n_token &&
		              cJSON_GetArraySize(cJSON_GetArrayItem(pde, 3)) == q.n_token &&
		              fabs(cJSON_GetArrayItem(cJSON_GetArrayItem(pde, 3), 5)->valuedouble -
		                   m.pde[3 * q.n_token + 5]) < 1e-4,
		      "sample %d: pde [%d][%d]", s + 1, q.n_token, q.n_token);
		cJSON_Delete(c);
		of3_wc_metrics_free(&m);
	}
	/* a second seed joins the ranking; writing seed 42 again replaces its rows */
	q.seed = 7;
	rc = of3_wc_write(&q, dir, &OF3_WC_DEFAULTS, NULL);
	q.seed = 42;
	if (rc == OF3_OK)
		rc = of3_wc_write(&q, dir, &OF3_WC_DEFAULTS, NULL);
	snprintf(path, sizeof path, "%s/protein_ligand/ranking.csv", dir);
	char *csv = slurp(path);
	int rows = 0, sorted = 1, n42 = 0, n7 = 0;
	double prev = INFINITY;
	for (char *l = csv ? strchr(csv, '\n') : NULL; l && l[1]; l = strchr(l + 1, '\n')) {
		long long seed;
		int k;
		double score;
		if (sscanf(l + 1, "%lld,%d,%lf", &seed, &k, &score) != 3)
			break;
		rows++, n42 += seed == 42, n7 += seed == 7;
		sorted &= score <= prev;
		prev = score;
	}
	CHECK(rc == OF3_OK && rows == 4 && n42 == 2 && n7 == 2 && sorted,
	      "ranking.csv: 2 seeds x 2 samples, each once, best first (%d rows)", rows);
	free(csv);
	of3_wc_query_free(&q);
	of3_bundle_free(d);
}

static void failures(const char *dir)
{
	of3_bundle_t *d = wc_fixture_diffuse("tiny_protein", NULL);
	of3_wc_query_t q;
	if (!d || of3_wc_query_load(&q, d) != OF3_OK) {
		CHECK(0, "fixture loads");
		of3_bundle_free(d);
		return;
	}
	char ro[1024], path[1200];
	snprintf(ro, sizeof ro, "%s/readonly", dir);
	CHECK(mkdir(ro, 0555) == 0, "a read-only directory");
	int rc = of3_wc_write(&q, ro, &OF3_WC_DEFAULTS, NULL);
	snprintf(path, sizeof path, "%s/protein", ro);
	struct stat st;
	if (geteuid() != 0) {
		CHECK(rc == OF3_ERR_SYS && strstr(of3_errmsg(), "cannot create directory"),
		      "unwritable directory: %s", of3_errmsg());
		CHECK(stat(path, &st) != 0, "nothing created in it");
	}
	/* a path under a regular file fails for root too */
	snprintf(path, sizeof path, "%s/plainfile", dir);
	FILE *f = fopen(path, "w");
	CHECK(f && fclose(f) == 0, "a plain file");
	snprintf(ro, sizeof ro, "%s/plainfile/out", dir);
	rc = of3_wc_write(&q, ro, &OF3_WC_DEFAULTS, NULL);
	CHECK(rc == OF3_ERR_RUNTIME && strstr(of3_errmsg(), "cannot create directory") &&
	              strstr(of3_errmsg(), "plainfile"),
	      "output under a plain file: %s", of3_errmsg());
	of3_wc_query_free(&q);
	((float *)of3_bundle_tensor(d, "atom_positions_predicted")->data)[100] = NAN;
	rc = of3_wc_query_load(&q, d);
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "is NaN"), "NaN coordinates: %s",
	      of3_errmsg());
	of3_wc_query_free(&q);
	rmdir(ro);
	of3_bundle_free(d);
}

int main(void)
{
	char dir[] = "/tmp/of3_writecif_XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(0, "a scratch directory");
		return check_summary();
	}
	aggregated(dir);
	failures(dir);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "scratch directory removed");
	return check_summary();
}
