/* test_trunk_pairformer.c: parity of one Pairformer block (kernels/layers/pairformer.c) with the
 * real OpenFold3 on the tiny random checkpoint (tests/fixtures/of3_tiny_random.pt, issue #7).
 *
 * For both tiny queries: block 0's inputs are the cycle-0 taps s_recycled_cycle0 (s after the
 * single recycling update) and msa_module_out_z (nothing happens to z between the MSA module
 * and the Pairformer stack, spec/trunk.md §2.1); the block runs in float32 on the CPU backend
 * and its outputs are compared with pairformer_block0_out_s/_z (float64 taps) by relative
 * Frobenius error, bar 1e-4 (1e-2 in bf16 on a GPU: OF3_TEST_DEVICE, OF3_TEST_PRECISION,
 * test_backend.h). Then the whole two-block stack is compared with the cycle-0
 * outputs s_cycle[0], z_cycle[0]. Also: dimensions learnt from the shapes, a missing key named
 * in the error, and the confidence head's Pairformer block bound by the same code. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/bundle.h"
#include "../common/checkpoint.h"
#include "../kernels/backend.h"
#include "../kernels/layers/pairformer.h"
#include "check.h"
#include "fixture_io.h"
#include "test_backend.h"

#define CKPT    "tests/fixtures/of3_tiny_random.pt"
#define BAR     1e-4
#define MAX_BLK 8

/* The tensor as float32 (malloc'ed; NULL when absent), optionally skipping `offset` values. */
static float *tensor_f32(const of3_bundle_t *b, const char *name, int64_t offset, int64_t n)
{
	const of3_tensor_t *t = of3_bundle_tensor(b, name);
	if (!t || offset + n > of3_tensor_numel(t) ||
	    (t->dtype != OF3_DTYPE_F64 && t->dtype != OF3_DTYPE_F32))
		return NULL;
	float *out = malloc((size_t)n * sizeof *out);
	for (int64_t i = 0; out && i < n; i++)
		out[i] = t->dtype == OF3_DTYPE_F64 ? (float)((const double *)t->data)[offset + i]
		                                   : ((const float *)t->data)[offset + i];
	return out;
}

/* ||ours - ref|| / ||ref|| against the float64 tap (offset values in). */
static double rel_err_at(const float *ours, const of3_bundle_t *b, const char *name, int64_t offset,
                         int64_t n, double *max_abs)
{
	const of3_tensor_t *t = of3_bundle_tensor(b, name);
	double num = 0, den = 0;
	*max_abs = 0;
	for (int64_t i = 0; i < n; i++) {
		double ref = ((const double *)t->data)[offset + i], d = ours[i] - ref;
		num += d * d;
		den += ref * ref;
		if (fabs(d) > *max_abs)
			*max_abs = fabs(d);
	}
	return sqrt(num) / (den > 0 ? sqrt(den) : 1);
}

static void compare(const char *q, const char *what, const float *ours, const of3_bundle_t *b,
                    const char *name, int64_t offset, int64_t n)
{
	double max_abs;
	double e = rel_err_at(ours, b, name, offset, n, &max_abs);
	CHECK(e <= test_bar(BAR),
	      "%s: %s vs %s: relative Frobenius error %.3e (max abs %.3e, bar %.0e)", q, what, name,
	      e, max_abs, test_bar(BAR));
}

static void run_query(const char *q, of3_pairformer_block_w_t *blk, int n_blk, of3_backend_t *be)
{
	char path[256];
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_features.bundle.gz", q);
	of3_bundle_t *feat = read_gz(path);
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_trunk.bundle.gz", q);
	of3_bundle_t *trunk = read_gz(path);
	CHECK(feat && trunk, "%s: fixtures read", q);
	if (!feat || !trunk)
		goto done;
	const of3_tensor_t *tm = of3_bundle_tensor(feat, "token_mask");
	const int64_t n = tm ? tm->shape[0] : 0, c_s = blk[0].c_s, c_z = blk[0].c_z;
	const of3_tensor_t *s_in = of3_bundle_tensor(trunk, "s_recycled_cycle0");
	CHECK(tm && s_in && s_in->ndim == 2 && s_in->shape[0] == n && s_in->shape[1] == c_s,
	      "%s: %lld tokens, s [%lld, %lld]", q, (long long)n, (long long)n, (long long)c_s);
	if (!tm || !s_in || s_in->shape[0] != n || s_in->shape[1] != c_s)
		goto done;
	float *mask = tensor_f32(feat, "token_mask", 0, n);
	float *pair_mask = malloc((size_t)(n * n) * sizeof *pair_mask);
	float *s = tensor_f32(trunk, "s_recycled_cycle0", 0, n * c_s);
	float *z = tensor_f32(trunk, "msa_module_out_z", 0, n * n * c_z);
	size_t n_scratch = 0;
	for (int b = 0; b < n_blk; b++) {
		size_t k = of3_pairformer_block_scratch(&blk[b], n);
		n_scratch = k > n_scratch ? k : n_scratch;
	}
	float *scratch = test_alloc(be, (int64_t)n_scratch);
	CHECK(mask && pair_mask && s && z && scratch, "%s: inputs as float32, %zu scratch floats",
	      q, n_scratch);
	if (mask && pair_mask && s && z && scratch) {
		for (int64_t i = 0; i < n; i++)
			for (int64_t j = 0; j < n; j++)
				pair_mask[i * n + j] = mask[i] * mask[j];
		double d_s, d_z, max_abs;
		d_s = rel_err_at(s, trunk, "pairformer_block0_out_s", 0, n * c_s, &max_abs);
		d_z = rel_err_at(z, trunk, "pairformer_block0_out_z", 0, n * n * c_z, &max_abs);
		CHECK(d_s > 10 * BAR && d_z > 10 * BAR,
		      "%s: the block changes its inputs (input vs output: s %.3e, z %.3e), so the "
		      "comparison is not vacuous",
		      q, d_s, d_z);
		/* on the backend: inputs up, outputs down */
		float *dm = test_up(be, mask, n), *dpm = test_up(be, pair_mask, n * n);
		float *ds = test_up(be, s, n * c_s), *dz = test_up(be, z, n * n * c_z);
		of3_pairformer_block(ds, dz, dm, dpm, &blk[0], n, scratch, be);
		int rc = test_down(be, s, ds, n * c_s);
		rc = rc ? rc : test_down(be, z, dz, n * n * c_z);
		CHECK(rc == 0, "%s: block 0 ran on %s %s", q, be->desc, rc ? of3_errmsg() : "");
		compare(q, "pairformer block 0 s", s, trunk, "pairformer_block0_out_s", 0, n * c_s);
		compare(q, "pairformer block 0 z", z, trunk, "pairformer_block0_out_z", 0,
		        n * n * c_z);
		for (int b = 1; b < n_blk; b++)
			of3_pairformer_block(ds, dz, dm, dpm, &blk[b], n, scratch, be);
		rc = test_down(be, s, ds, n * c_s);
		rc = rc ? rc : test_down(be, z, dz, n * n * c_z);
		CHECK(rc == 0, "%s: the stack ran %s", q, rc ? of3_errmsg() : "");
		char what[64];
		snprintf(what, sizeof what, "pairformer stack (%d blocks) s", n_blk);
		compare(q, what, s, trunk, "s_cycle", 0, n * c_s);
		snprintf(what, sizeof what, "pairformer stack (%d blocks) z", n_blk);
		compare(q, what, z, trunk, "z_cycle", 0, n * n * c_z);
		of3_backend_free(be, dm);
		of3_backend_free(be, dpm);
		of3_backend_free(be, ds);
		of3_backend_free(be, dz);
	}
	of3_backend_free(be, scratch);
	scratch = NULL;
	free(mask);
	free(pair_mask);
	free(s);
	free(z);
done:
	of3_bundle_free(feat);
	of3_bundle_free(trunk);
}

/* The checkpoint's pairformer blocks, of3_wbind_all's binding pass. */
typedef struct {
	of3_pairformer_block_w_t *blk;
	int n_blk;
} stack_t;

static int bind_stack(void *ctx, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	const stack_t *st = ctx;
	int rc = OF3_OK;
	for (int b = 0; b < st->n_blk && rc == 0; b++) {
		char prefix[64];
		snprintf(prefix, sizeof prefix, "pairformer_stack.blocks.%d.", b);
		rc = of3_pairformer_block_bind(&st->blk[b], ck, wb, prefix);
	}
	return rc;
}

int main(int argc, char **argv)
{
	of3_ckpt_t *ck = NULL;
	of3_backend_t be;
	of3_pairformer_block_w_t blk[MAX_BLK];
	of3_wbuf_t wb = {0};
	int rc, n_blk = 0;
	if (test_start(argc, argv, &be, &ck, CKPT) < 0)
		return check_summary();
	n_blk = (int)of3_ckpt_count_blocks(ck, "pairformer_stack.blocks");
	CHECK(n_blk >= 1 && n_blk <= MAX_BLK, "%d pairformer blocks in the checkpoint", n_blk);
	if (n_blk < 1 || n_blk > MAX_BLK)
		goto out;
	stack_t stack = {blk, n_blk};
	rc = of3_wbind_all(&wb, ck, &be, bind_stack, &stack);
	CHECK(rc == 0 && wb.base && wb.n_used == wb.n_cap,
	      "bound %d pairformer blocks, %zu floats %s", n_blk, wb.n_used,
	      rc ? of3_errmsg() : "");
	if (rc)
		goto out;
	CHECK(blk[0].c_s == 32 && blk[0].c_z == 16 && blk[0].pair.mul_out.h == 16 &&
	              blk[0].pair.transition.n_hidden == 64 && blk[0].single.n_hidden == 128,
	      "dimensions from the shapes: c_s %lld, c_z %lld, tri-mul hidden %lld, transitions "
	      "%lld/%lld, tri-att %lld x %lld, single attention %lld x %lld",
	      (long long)blk[0].c_s, (long long)blk[0].c_z, (long long)blk[0].pair.mul_out.h,
	      (long long)blk[0].pair.transition.n_hidden, (long long)blk[0].single.n_hidden,
	      (long long)blk[0].pair.att_start.mha.n_head,
	      (long long)blk[0].pair.att_start.mha.d_head, (long long)blk[0].apb.mha.n_head,
	      (long long)blk[0].apb.mha.d_head);

	/* a block the checkpoint lacks: the error names the key */
	of3_pairformer_block_w_t bad;
	of3_wbuf_t plan = {0};
	rc = of3_pairformer_block_bind(&bad, ck, &plan, "pairformer_stack.blocks.99.");
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "'pairformer_stack.blocks.99.pair_stack."
	                                                  "tri_mul_out.layer_norm_in.weight'"),
	      "missing block: %s", of3_errmsg());

	/* the confidence head's Pairformer binds through the same code (planning pass) */
	plan.n_used = 0;
	rc = of3_pairformer_block_bind(&bad, ck, &plan,
	                               "aux_heads.pairformer_embedding.pairformer_stack.blocks.0.");
	CHECK(rc == 0 && bad.c_s == blk[0].c_s && bad.c_z == blk[0].c_z,
	      "the confidence head's pairformer block binds too (%zu floats) %s", plan.n_used,
	      rc ? of3_errmsg() : "");

	run_query("protein", blk, n_blk, &be);
	run_query("protein_ligand", blk, n_blk, &be);
out:
	of3_wbuf_free(&wb, &be);
	of3_ckpt_close(ck);
	of3_backend_close(&be);
	return check_summary();
}
