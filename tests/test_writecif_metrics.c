/* test_writecif_metrics.c: the confidence metrics of of3-writecif against the real OpenFold3's
 * (tests/fixtures/tiny_protein{,_ligand}_heads.bundle.gz), sample by sample; prints the largest
 * difference of each metric. Deliberate differences (docs/DEVIATIONS.md) are checked as such.
 *
 * Also the test tool of the command-line cases:
 *   test_writecif_metrics --make-diffuse NAME OUT [--nan|--far]
 * writes the diffuse bundle of fixture NAME (tiny_protein, tiny_protein_ligand) to OUT
 * ("-": stdout); --nan puts a NaN into one coordinate, --far 12345.6 (more than the PDB format's
 * columns hold). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../of3-writecif/metrics.h"
#include "check.h"
#include "test_writecif_fixture.h"

static double maxdiff_f(const float *a, const double *b, int64_t n)
{
	double m = 0;
	for (int64_t i = 0; i < n; i++)
		m = fmax(m, fabs(a[i] - b[i]));
	return m;
}

static const double *ref(const of3_bundle_t *h, const char *name)
{
	const of3_tensor_t *t = of3_bundle_tensor(h, name);
	return t && t->dtype == OF3_DTYPE_F64 ? t->data : NULL;
}

static void parity(const char *name)
{
	of3_bundle_t *h = NULL, *d = wc_fixture_diffuse(name, &h);
	CHECK(d != NULL, "%s: diffuse bundle assembled from the fixtures", name);
	if (!d)
		return;
	of3_wc_query_t q;
	int rc = of3_wc_query_load(&q, d);
	CHECK(rc == OF3_OK, "%s: query loads: %s", name, rc ? of3_errmsg() : "");
	if (rc) {
		of3_wc_query_free(&q), of3_bundle_free(d), of3_bundle_free(h);
		return;
	}
	int S = q.n_sample, A = q.n_atom, N = q.n_token, C = q.n_chain;
	const of3_tensor_t *ca = of3_bundle_tensor(h, "chain_asym_id");
	const of3_tensor_t *pa = of3_bundle_tensor(h, "chain_pair_asym_id");
	CHECK(ca && ca->shape[0] == C, "%s: %d chains, as the reference", name, C);
	CHECK(pa && pa->shape[0] == C * (C - 1) / 2, "%s: %d chain pairs", name, C * (C - 1) / 2);
	const uint8_t *ref_frame = of3_bundle_tensor(h, "has_frame")->data;
	double d_plddt = 0, d_pde = 0, d_pae = 0, d_avg = 0, d_gpde = 0, d_ptm = 0, d_iptm = 0;
	double d_dis = 0, d_score = 0, d_cptm = 0, d_cpi = 0, d_besp = 0, d_af3 = 0;
	int frame_diff = 0, clash_of3 = 0, clash = 0;
	for (int s = 0; s < S; s++) {
		of3_wc_metrics_t m;
		rc = of3_wc_metrics_compute(&m, &q, s);
		CHECK(rc == OF3_OK, "%s sample %d: metrics computed", name, s + 1);
		if (rc) {
			of3_wc_metrics_free(&m);
			continue;
		}
		const double *rp = ref(h, "plddt") + (int64_t)s * A;
		d_plddt = fmax(d_plddt, maxdiff_f(m.plddt, rp, A));
		double avg = 0;
		for (int a = 0; a < A; a++)
			avg += rp[a] / A;
		d_avg = fmax(d_avg, fabs(avg - m.avg_plddt));
		d_pde = fmax(d_pde,
		             maxdiff_f(m.pde, ref(h, "pde") + (int64_t)s * N * N, (int64_t)N * N));
		d_pae = fmax(d_pae,
		             maxdiff_f(m.pae, ref(h, "pae") + (int64_t)s * N * N, (int64_t)N * N));
		d_gpde = fmax(d_gpde, fabs(m.gpde - ref(h, "gpde")[s]));
		d_ptm = fmax(d_ptm, fabs(m.ptm - ref(h, "ptm")[s]));
		d_iptm = fmax(d_iptm, fabs(m.iptm - ref(h, "iptm")[s]));
		d_dis = fmax(d_dis, fabs(m.disorder - ref(h, "disorder")[s]));
		d_score = fmax(d_score,
		               fabs(m.ranking_score_of3 - ref(h, "sample_ranking_score")[s]));
		clash_of3 |= m.has_clash_of3 != (int)ref(h, "has_clash")[s];
		clash |= m.has_clash;
		double af3 = (C > 1 ? 0.8 * m.iptm + 0.2 * m.ptm : m.ptm) + 0.5 * m.disorder -
		             100 * m.has_clash;
		d_af3 = fmax(d_af3, fabs(af3 - m.ranking_score));
		for (int i = 0; i < N; i++)
			frame_diff += m.has_frame[i] != ref_frame[(int64_t)s * N + i];
		for (int c = 0; c < C; c++) {
			CHECK(((const int32_t *)ca->data)[c] == q.chain_asym[c] || c > 0,
			      "%s: chain %d has asym id %d", name, c, q.chain_asym[c]);
			d_cptm =
			        fmax(d_cptm, fabs(m.chain_ptm[c] - ref(h, "chain_ptm")[c * S + s]));
		}
		for (int p = 0; p < m.n_pair; p++) {
			const int32_t *pp = (const int32_t *)pa->data + 2 * p;
			int match = pp[0] == q.chain_asym[m.pair_c1[p]] &&
			            pp[1] == q.chain_asym[m.pair_c2[p]];
			if (s == 0)
				CHECK(match, "%s: chain pair %d is (%d, %d)", name, p, pp[0],
				      pp[1]);
			d_cpi = fmax(d_cpi, fabs(m.chain_pair_iptm[p] -
			                         ref(h, "chain_pair_iptm")[p * S + s]));
			d_besp = fmax(d_besp,
			              fabs(m.bespoke_iptm[p] - ref(h, "bespoke_iptm")[p * S + s]));
		}
		if (s == 0)
			printf("# %s sample 1: avg_plddt %.4f gpde %.4f ptm %.5f iptm %.5f "
			       "disorder %.4f "
			       "has_clash %d ranking %.5f (OpenFold3's formula %.5f)\n",
			       name, m.avg_plddt, m.gpde, m.ptm, m.iptm, m.disorder, m.has_clash,
			       m.ranking_score, m.ranking_score_of3);
		of3_wc_metrics_free(&m);
	}
	printf("# %s: max |diff| plddt %.2e avg_plddt %.2e pde %.2e pae %.2e gpde %.2e ptm %.2e "
	       "iptm %.2e chain_ptm %.2e chain_pair_iptm %.2e bespoke_iptm %.2e disorder %.2e "
	       "ranking(OpenFold3 formula) %.2e; has_frame mismatches %d\n",
	       name, d_plddt, d_avg, d_pde, d_pae, d_gpde, d_ptm, d_iptm, d_cptm, d_cpi, d_besp,
	       d_dis, d_score, frame_diff);
	const double tol = 0.01;
	CHECK(d_plddt < tol, "%s: per-atom pLDDT within %g (max %.2e)", name, tol, d_plddt);
	CHECK(d_avg < tol, "%s: mean pLDDT within %g (max %.2e)", name, tol, d_avg);
	CHECK(d_pde < tol, "%s: PDE within %g (max %.2e)", name, tol, d_pde);
	CHECK(d_pae < tol, "%s: PAE within %g (max %.2e)", name, tol, d_pae);
	CHECK(d_gpde < tol, "%s: gPDE within %g (max %.2e)", name, tol, d_gpde);
	CHECK(d_ptm < tol, "%s: pTM within %g (max %.2e)", name, tol, d_ptm);
	CHECK(d_iptm < tol, "%s: ipTM within %g (max %.2e)", name, tol, d_iptm);
	CHECK(d_cptm < tol, "%s: chain pTM within %g (max %.2e)", name, tol, d_cptm);
	CHECK(d_cpi < tol, "%s: chain-pair ipTM within %g (max %.2e)", name, tol, d_cpi);
	CHECK(d_besp < tol, "%s: bespoke ipTM within %g (max %.2e)", name, tol, d_besp);
	CHECK(d_dis < tol, "%s: disorder within %g (max %.2e)", name, tol, d_dis);
	CHECK(d_score < tol, "%s: OpenFold3's ranking formula within %g (max %.2e)", name, tol,
	      d_score);
	CHECK(frame_diff == 0, "%s: has_frame equal (%d tokens differ)", name, frame_diff);
	CHECK(!clash_of3, "%s: OpenFold3's has_clash reproduced (always 0)", name);
	CHECK(!clash, "%s: no clash by AlphaFold3's definition either", name);
	CHECK(d_af3 < 1e-12, "%s: ranking score is AlphaFold3's formula", name);
	of3_wc_query_free(&q);
	of3_bundle_free(d);
	of3_bundle_free(h);
}

/* Two polymer chains on top of each other clash by AlphaFold3's definition. */
static void clash_case(void)
{
	of3_bundle_t *d = wc_fixture_diffuse("tiny_protein_ligand", NULL);
	of3_wc_query_t q;
	if (!d || of3_wc_query_load(&q, d) != OF3_OK) {
		CHECK(0, "clash case: fixture loads");
		of3_bundle_free(d);
		return;
	}
	/* every atom of sample 1 at one of 3 points: the protein chain and the ligand overlap,
	 * but only polymer pairs count, so still no clash; then make chain B's atoms polymer */
	float *x = (float *)of3_bundle_tensor(d, "atom_positions_predicted")->data;
	for (int a = 0; a < q.n_atom; a++)
		for (int k = 0; k < 3; k++)
			x[3 * a + k] = (float)(a % 3) * 5;
	of3_wc_metrics_t m;
	int rc = of3_wc_metrics_compute(&m, &q, 0);
	CHECK(rc == OF3_OK && !m.has_clash, "protein on top of ligands: no polymer-polymer clash");
	of3_wc_metrics_free(&m);
	/* packed tight, every residue is buried: nothing is disordered */
	double dis = -1;
	for (int a = 0; a < q.n_atom; a++)
		x[3 * a] = (float)(a % 6), x[3 * a + 1] = (float)(a / 6 % 6),
		      x[3 * a + 2] = (float)(a / 36);
	rc = of3_wc_disorder(&q, x, &dis);
	CHECK(rc == OF3_OK && dis == 0, "buried residues: disorder %.3f", dis);
	int32_t *mt = (int32_t *)of3_bundle_tensor(d, "atom_molecule_type_id")->data;
	for (int a = 0; a < q.n_atom; a++)
		mt[a] = OF3_MOL_PROTEIN;
	rc = of3_wc_metrics_compute(&m, &q, 0);
	CHECK(rc == OF3_OK && m.has_clash && m.ranking_score < -99,
	      "overlapping polymer chains clash, ranking score %.3f (-100 penalty)",
	      m.ranking_score);
	CHECK(m.has_clash_of3 == 0 && m.ranking_score_of3 > 0,
	      "OpenFold3's has_clash stays 0 (score %.3f)", m.ranking_score_of3);
	of3_wc_metrics_free(&m);
	of3_wc_query_free(&q);
	of3_bundle_free(d);
}

static int make_diffuse(const char *name, const char *out, const char *flag)
{
	of3_bundle_t *d = wc_fixture_diffuse(name, NULL);
	if (!d) {
		fprintf(stderr, "cannot assemble fixture '%s'\n", name);
		return 1;
	}
	float *x = of3_bundle_tensor(d, "atom_positions_predicted")->data;
	if (!strcmp(flag, "--nan"))
		x[3 * 5 + 1] = NAN;
	else if (!strcmp(flag, "--far"))
		x[3 * 5 + 1] = 12345.6f;
	of3_bwriter_t *w = NULL;
	int rc = of3_bwriter_open(&w, out);
	if (rc == OF3_OK && (rc = of3_bwriter_bundle(w, d)) == OF3_OK)
		rc = of3_bwriter_close(w);
	else
		of3_bwriter_abort(w);
	of3_bundle_free(d);
	if (rc < 0)
		fprintf(stderr, "%s\n", of3_errmsg());
	return rc < 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "--make-diffuse"))
		return make_diffuse(argv[2], argv[3], argc > 4 ? argv[4] : "");
	parity("tiny_protein");
	parity("tiny_protein_ligand");
	clash_case();
	return check_summary();
}
