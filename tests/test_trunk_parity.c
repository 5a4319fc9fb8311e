/* test_trunk_parity.c: the whole trunk (of3-trunk/trunk.c) against the real OpenFold3 on the
 * tiny random checkpoint (tests/fixtures/of3_tiny_random.pt, issue #7).
 *
 * For both tiny queries the features fixture runs through of3_trunk_run with 3 cycles (the
 * tiny configuration's num_recycles 2 + 1) in float32 on the CPU backend, and s_input, s and z
 * after every cycle (s_cycle, z_cycle) and the final s_trunk, z_trunk are compared with the
 * float64 reference taps by relative Frobenius error, bar 1e-4 (spec/trunk.md §2.1, §6). The
 * measured errors are printed either way. On a GPU (OF3_TEST_DEVICE=cuda, test_backend.h) the
 * same in fp32; in bf16 (OF3_TEST_PRECISION=bf16) the bar against the reference is 1e-2 and
 * the outputs are also compared with an fp32 run on the same card (issue #10: within 1e-2
 * relative); and a second run of the same query must give identical bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/bundle.h"
#include "../common/checkpoint.h"
#include "../kernels/backend.h"
#include "../of3-trunk/trunk.h"
#include "check.h"
#include "fixture_io.h"
#include "test_backend.h"

#define CKPT     "tests/fixtures/of3_tiny_random.pt"
#define BAR      1e-4
#define N_CYCLES 3

/* ||ours - ref|| / ||ref|| against the float64 tap `name`, offset values in. */
static void compare(const char *q, const char *what, const float *ours, const of3_bundle_t *ref,
                    const char *name, int64_t offset, int64_t n)
{
	const of3_tensor_t *t = of3_bundle_tensor(ref, name);
	if (!t || t->dtype != OF3_DTYPE_F64 || offset + n > of3_tensor_numel(t)) {
		CHECK(0, "%s: reference tap %s [%lld values at %lld] present", q, name,
		      (long long)n, (long long)offset);
		return;
	}
	double num = 0, den = 0, max_abs = 0;
	for (int64_t i = 0; i < n; i++) {
		double r = ((const double *)t->data)[offset + i], d = ours[i] - r;
		num += d * d;
		den += r * r;
		max_abs = fabs(d) > max_abs ? fabs(d) : max_abs;
	}
	double e = sqrt(num) / (den > 0 ? sqrt(den) : 1);
	CHECK(e <= test_bar(BAR), "%s: %s: relative Frobenius error %.3e (max abs %.3e, bar %.0e)",
	      q, what, e, max_abs, test_bar(BAR));
}

/* ||a - b|| / ||b|| over n floats. */
static double rel_diff(const float *a, const float *b, int64_t n)
{
	double num = 0, den = 0;
	for (int64_t i = 0; i < n; i++) {
		double d = (double)a[i] - (double)b[i];
		num += d * d;
		den += (double)b[i] * b[i];
	}
	return sqrt(num) / (den > 0 ? sqrt(den) : 1);
}

/* The outputs of one run, host memory. */
typedef struct {
	of3_trunk_out_t o;
	int64_t n_si, n_s, n_z;
} outs_t;

static int outs_alloc(outs_t *x, const of3_trunk_dims_t *d, int64_t n)
{
	x->n_si = n * d->c_s_input;
	x->n_s = n * d->c_s;
	x->n_z = n * n * d->c_z;
	x->o = (of3_trunk_out_t){
	        .s_input = malloc((size_t)x->n_si * sizeof(float)),
	        .s_trunk = malloc((size_t)x->n_s * sizeof(float)),
	        .z_trunk = malloc((size_t)x->n_z * sizeof(float)),
	        .s_cycle = malloc((size_t)(N_CYCLES * x->n_s) * sizeof(float)),
	        .z_cycle = malloc((size_t)(N_CYCLES * x->n_z) * sizeof(float)),
	};
	return x->o.s_input && x->o.s_trunk && x->o.z_trunk && x->o.s_cycle && x->o.z_cycle;
}

static void outs_free(outs_t *x)
{
	free(x->o.s_input);
	free(x->o.s_trunk);
	free(x->o.z_trunk);
	free(x->o.s_cycle);
	free(x->o.z_cycle);
}

/* On a GPU: a second run gives identical bytes; in bf16, the outputs against an fp32 run. */
static void gpu_checks(const char *q, const of3_trunk_t *trunk, const of3_bundle_t *feat,
                       const outs_t *first, of3_backend_t *be)
{
	outs_t x;
	const int64_t n = first->n_s / of3_trunk_dims(trunk)->c_s;
	if (!outs_alloc(&x, of3_trunk_dims(trunk), n)) {
		CHECK(0, "%s: memory for a second run", q);
		outs_free(&x);
		return;
	}
	int rc = of3_trunk_run(trunk, feat, N_CYCLES, 42, &x.o, be);
	CHECK(rc == 0 &&
	              memcmp(x.o.s_trunk, first->o.s_trunk, (size_t)x.n_s * sizeof(float)) == 0 &&
	              memcmp(x.o.z_trunk, first->o.z_trunk, (size_t)x.n_z * sizeof(float)) == 0 &&
	              memcmp(x.o.s_input, first->o.s_input, (size_t)x.n_si * sizeof(float)) == 0,
	      "%s: %s, %s: a second run gives identical bytes %s", q, be->desc,
	      test_bf16 ? "bf16" : "fp32", rc ? of3_errmsg() : "");
	if (test_bf16) {
		of3_backend_set_precision(be, OF3_PRECISION_FP32);
		rc = of3_trunk_run(trunk, feat, N_CYCLES, 42, &x.o, be);
		of3_backend_set_precision(be, OF3_PRECISION_BF16);
		CHECK(rc == 0, "%s: the fp32 run %s", q, rc ? of3_errmsg() : "");
		if (rc == 0) {
			double e_si = rel_diff(first->o.s_input, x.o.s_input, x.n_si);
			double e_s = rel_diff(first->o.s_trunk, x.o.s_trunk, x.n_s);
			double e_z = rel_diff(first->o.z_trunk, x.o.z_trunk, x.n_z);
			CHECK(e_si <= 1e-2 && e_s <= 1e-2 && e_z <= 1e-2,
			      "%s: bf16 against fp32 on %s: s_input %.3e, s_trunk %.3e, z_trunk "
			      "%.3e (relative Frobenius, bar 1e-2)",
			      q, be->desc, e_si, e_s, e_z);
		}
	}
	outs_free(&x);
}

static void run_query(const char *q, const of3_trunk_t *trunk, of3_backend_t *be)
{
	char path[256];
	outs_t x = {0};
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_features.bundle.gz", q);
	of3_bundle_t *feat = read_gz(path);
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_trunk.bundle.gz", q);
	of3_bundle_t *ref = read_gz(path);
	const of3_tensor_t *tm = feat ? of3_bundle_tensor(feat, "token_mask") : NULL;
	CHECK(feat && ref && tm && tm->ndim == 1, "%s: fixtures read", q);
	if (!feat || !ref || !tm || tm->ndim != 1)
		goto done;
	const of3_trunk_dims_t *d = of3_trunk_dims(trunk);
	const int64_t n = tm->shape[0];
	if (!outs_alloc(&x, d, n)) {
		CHECK(0, "%s: memory for the outputs", q);
		goto done;
	}
	const int64_t n_s = x.n_s, n_z = x.n_z;
	int rc = of3_trunk_run(trunk, feat, N_CYCLES, 42, &x.o, be);
	CHECK(rc == 0, "%s: %lld tokens, %d cycles on %s %s", q, (long long)n, N_CYCLES, be->desc,
	      rc ? of3_errmsg() : "");
	if (rc == 0) {
		compare(q, "s_input", x.o.s_input, ref, "s_input", 0, n * d->c_s_input);
		for (int c = 0; c < N_CYCLES; c++) {
			char what[64];
			snprintf(what, sizeof what, "s after cycle %d", c);
			compare(q, what, x.o.s_cycle + c * n_s, ref, "s_cycle", c * n_s, n_s);
			snprintf(what, sizeof what, "z after cycle %d", c);
			compare(q, what, x.o.z_cycle + c * n_z, ref, "z_cycle", c * n_z, n_z);
		}
		compare(q, "s_trunk", x.o.s_trunk, ref, "s_trunk", 0, n_s);
		compare(q, "z_trunk", x.o.z_trunk, ref, "z_trunk", 0, n_z);
		if (be->kind != OF3_BACKEND_CPU)
			gpu_checks(q, trunk, feat, &x, be);
	}
done:
	outs_free(&x);
	of3_bundle_free(feat);
	of3_bundle_free(ref);
}

int main(int argc, char **argv)
{
	of3_ckpt_t *ck = NULL;
	of3_trunk_t *trunk = NULL;
	of3_backend_t be;
	if (test_start(argc, argv, &be, &ck, CKPT) < 0)
		return check_summary();
	int rc = of3_trunk_load(&trunk, ck, &be);
	of3_ckpt_close(ck);
	CHECK(rc == 0, "trunk bound from %s %s", CKPT, rc ? of3_errmsg() : "");
	if (rc == 0) {
		const of3_trunk_dims_t *d = of3_trunk_dims(trunk);
		CHECK(d->c_s == 32 && d->c_z == 16 && d->c_s_input == 97 &&
		              d->n_pairformer_block == 2,
		      "tiny dimensions from the shapes: c_s %lld, c_z %lld, c_s_input %lld, %d "
		      "pairformer blocks",
		      (long long)d->c_s, (long long)d->c_z, (long long)d->c_s_input,
		      d->n_pairformer_block);
		run_query("protein", trunk, &be);
		run_query("protein_ligand", trunk, &be);
	}
	of3_trunk_free(trunk);
	of3_backend_close(&be);
	return check_summary();
}
