/* test_trunk_msa.c: parity of the MSA module embedder and the MSA module
 * (of3-trunk/msa_module.c) with the real OpenFold3 on the tiny random checkpoint
 * (tests/fixtures/of3_tiny_random.pt, issue #7).
 *
 * For both tiny queries: the rows chosen for cycle 0 give the mask msa_module_in_mask; the
 * embedding of those rows from the features and the s_input tap is compared with
 * msa_module_in_m, and the module run on msa_module_in_z with msa_module_out_z (float64 taps),
 * by relative Frobenius error, bar 1e-4, in float32 on the CPU backend (or a GPU, bar 1e-2 in
 * bf16: OF3_TEST_DEVICE, OF3_TEST_PRECISION, test_backend.h). The seeded entry point
 * gives exactly what replaying its rows gives. Subsampling (spec/trunk.md §3.4.1) on synthetic
 * masks: valid rows first in order; a random choice among more than 1024 valid rows, different
 * per cycle, the same for the same seed and cycle. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/bundle.h"
#include "../common/checkpoint.h"
#include "../kernels/backend.h"
#include "../of3-trunk/msa_module.h"
#include "../of3-trunk/trunk_features.h"
#include "check.h"
#include "fixture_io.h"
#include "test_backend.h"

#define CKPT "tests/fixtures/of3_tiny_random.pt"
#define BAR  1e-4

static void compare(const char *q, const char *what, const float *ours, const of3_bundle_t *b,
                    const char *name, int64_t n)
{
	double max_abs;
	double e = rel_err(ours, b, name, n, &max_abs);
	CHECK(e <= test_bar(BAR),
	      "%s: %s vs %s: relative Frobenius error %.3e (max abs %.3e, bar %.0e)", q, what, name,
	      e, max_abs, test_bar(BAR));
}

static void run_query(const char *q, const of3_msa_w_t *w, of3_backend_t *be)
{
	char path[256];
	of3_trunk_features_t f;
	of3_trunk_dev_t fd = {0};
	float *d_si = NULL, *d_z = NULL, *d_z2 = NULL, *d_m = NULL, *scratch = NULL;
	int64_t rows[OF3_MSA_MAX_ROWS];
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_features.bundle.gz", q);
	of3_bundle_t *feat = read_gz(path);
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_trunk.bundle.gz", q);
	of3_bundle_t *trunk = read_gz(path);
	CHECK(feat && trunk, "%s: fixtures read", q);
	if (!feat || !trunk)
		goto done;
	int rc = of3_trunk_features_view(&f, feat);
	CHECK(rc == 0, "%s: features viewed %s", q, rc ? of3_errmsg() : "");
	if (rc)
		goto done;
	const int64_t n = f.n_token, r = n * n, c_z = w->c_z, c_m = w->c_m;
	const of3_tensor_t *tm = of3_bundle_tensor(trunk, "msa_module_in_mask");
	const int64_t n_rows = of3_msa_subsample(&f, 42, 0, rows);
	int same_mask = tm && tm->ndim == 2 && tm->shape[0] == n_rows && tm->shape[1] == n;
	for (int64_t s = 0; same_mask && s < n_rows; s++)
		for (int64_t i = 0; i < n; i++)
			same_mask &= f.msa_mask[rows[s] * n + i] ==
			             ((const double *)tm->data)[s * n + i];
	CHECK(same_mask, "%s: %lld of %lld MSA rows kept, their mask is msa_module_in_mask", q,
	      (long long)n_rows, (long long)f.n_msa);
	if (!same_mask)
		goto done;
	float *s_input = tap_f32(trunk, "s_input", n * w->c_s_input);
	float *z = tap_f32(trunk, "msa_module_in_z", r * c_z);
	float *z2 = tap_f32(trunk, "msa_module_in_z", r * c_z);
	float *m = malloc((size_t)(n_rows * n * c_m) * sizeof *m);
	size_t n_scratch = of3_msa_module_scratch(w, n, f.n_msa);
	scratch = test_alloc(be, (int64_t)n_scratch);
	d_si = test_up(be, s_input, n * w->c_s_input);
	d_z = test_up(be, z, r * c_z);
	d_z2 = test_up(be, z2, r * c_z);
	d_m = test_alloc(be, n_rows * n * c_m);
	CHECK(s_input && z && z2 && m && scratch && d_si && d_z && d_z2 && d_m,
	      "%s: %lld tokens, %zu scratch floats", q, (long long)n, n_scratch);
	if (!s_input || !z || !z2 || !m || !scratch || !d_si || !d_z || !d_z2 || !d_m)
		goto free;
	rc = of3_trunk_dev_upload(&fd, &f, be);
	rc = rc ? rc
	        : of3_msa_module_forward_rows(be, w, &fd, rows, n_rows, d_si, d_z, d_m, scratch);
	rc = rc ? rc : test_down(be, m, d_m, n_rows * n * c_m);
	rc = rc ? rc : test_down(be, z, d_z, r * c_z);
	CHECK(rc == 0, "%s: MSA module runs on the replayed rows on %s %s", q, be->desc,
	      rc ? of3_errmsg() : "");
	compare(q, "MSA embedding", m, trunk, "msa_module_in_m", n_rows * n * c_m);
	compare(q, "MSA module z", z, trunk, "msa_module_out_z", r * c_z);
	rc = of3_msa_module_forward(be, w, &f, &fd, d_si, d_z2, 42, 0, scratch);
	rc = rc ? rc : test_down(be, z2, d_z2, r * c_z);
	CHECK(rc == 0 && memcmp(z, z2, (size_t)(r * c_z) * sizeof *z) == 0,
	      "%s: the seeded entry point gives exactly the replayed result", q);
free:
	free(s_input);
	free(z);
	free(z2);
	free(m);
done:
	of3_backend_free(be, scratch);
	of3_backend_free(be, d_si);
	of3_backend_free(be, d_z);
	of3_backend_free(be, d_z2);
	of3_backend_free(be, d_m);
	of3_trunk_dev_free(&fd, be);
	of3_bundle_free(feat);
	of3_bundle_free(trunk);
}

/* Subsampling on n_msa rows of 3 tokens, rows with r % every == 1 fully masked. */
static void test_subsample(int64_t n_msa, int every, const char *what)
{
	const int64_t n = 3;
	float *mask = calloc((size_t)(n_msa * n), sizeof *mask);
	int64_t *a = malloc(OF3_MSA_MAX_ROWS * sizeof *a),
	        *b = malloc(OF3_MSA_MAX_ROWS * sizeof *b);
	int64_t *c = malloc(OF3_MSA_MAX_ROWS * sizeof *c);
	unsigned char *seen = calloc((size_t)n_msa, 1);
	int64_t n_valid = 0;
	for (int64_t s = 0; s < n_msa; s++) {
		int valid = s % every != 1;
		mask[s * n + (s % n)] = valid ? 1.0f : 0.0f;
		n_valid += valid;
	}
	of3_trunk_features_t f = {0};
	f.n_token = n;
	f.n_msa = n_msa;
	f.msa_mask = mask;
	int64_t na = of3_msa_subsample(&f, 7, 0, a);
	int64_t nb = of3_msa_subsample(&f, 7, 0, b);
	int64_t nc = of3_msa_subsample(&f, 7, 1, c);
	int64_t want = n_msa < OF3_MSA_MAX_ROWS ? n_msa : OF3_MSA_MAX_ROWS;
	int distinct = 1, order = 1, ascending_prefix = 1, differ = 0;
	for (int64_t i = 0; i < na; i++) {
		distinct &= a[i] >= 0 && a[i] < n_msa && !seen[a[i]];
		if (a[i] >= 0 && a[i] < n_msa)
			seen[a[i]] = 1;
		int valid = a[i] % every != 1;
		if (n_valid > OF3_MSA_MAX_ROWS)
			order &= valid;
		else
			order &= valid == (i < n_valid);
		if (i > 0 && i < n_valid && n_valid <= OF3_MSA_MAX_ROWS)
			ascending_prefix &= a[i] > a[i - 1];
		differ |= i < nc && a[i] != c[i];
	}
	CHECK(na == want && nb == na && memcmp(a, b, (size_t)na * sizeof *a) == 0 && distinct &&
	              order && ascending_prefix,
	      "subsampling %s: %lld rows (%lld valid) give %lld distinct rows, valid first, "
	      "repeatable",
	      what, (long long)n_msa, (long long)n_valid, (long long)na);
	if (n_valid > OF3_MSA_MAX_ROWS || n_msa - n_valid > OF3_MSA_MAX_ROWS - n_valid + 1)
		CHECK(nc == na && differ, "subsampling %s: cycle 1 draws another choice", what);
	free(mask);
	free(a);
	free(b);
	free(c);
	free(seen);
}

/* of3_wbind_all's binding pass */
static int bind_msa(void *w, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	return of3_msa_module_bind(w, ck, wb);
}

int main(int argc, char **argv)
{
	of3_ckpt_t *ck = NULL;
	of3_backend_t be;
	of3_msa_w_t w;
	of3_wbuf_t wb = {0};
	int rc;
	if (test_start(argc, argv, &be, &ck, CKPT) < 0)
		return check_summary();
	rc = of3_wbind_all(&wb, ck, &be, bind_msa, &w);
	CHECK(rc == 0 && wb.base && wb.n_used == wb.n_cap, "bound the MSA module, %zu floats %s",
	      wb.n_used, rc ? of3_errmsg() : "");
	if (rc)
		goto out;
	CHECK(w.c_m == 8 && w.c_z == 16 && w.c_s_input == 97 && w.n_block == 2 &&
	              w.block[0].has_msa_update && !w.block[1].has_msa_update,
	      "dimensions from the shapes: c_m %lld, c_z %lld, c_s_input %lld, %d blocks (the last "
	      "without the MSA update), OPM hidden %lld, pair-weighted averaging %lld x %lld",
	      (long long)w.c_m, (long long)w.c_z, (long long)w.c_s_input, w.n_block,
	      (long long)w.block[0].opm.c_o, (long long)w.block[0].pwa.mha.n_head,
	      (long long)w.block[0].pwa.mha.d_head);
	rc = of3_ckpt_check_unused(ck, "msa_module");
	CHECK(rc == 0, "every msa_module* key is bound %s", rc ? of3_errmsg() : "");

	test_subsample(10, 3, "few rows");
	test_subsample(1500, 2, "fewer valid rows than 1024");
	test_subsample(1500, 4, "more valid rows than 1024");

	run_query("protein", &w, &be);
	run_query("protein_ligand", &w, &be);
out:
	of3_wbuf_free(&wb, &be);
	of3_ckpt_close(ck);
	of3_backend_close(&be);
	return check_summary();
}
