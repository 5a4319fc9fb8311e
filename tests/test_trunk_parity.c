/* test_trunk_parity.c: the whole trunk (of3-trunk/trunk.c) against the real OpenFold3 on the
 * tiny random checkpoint (tests/fixtures/of3_tiny_random.pt, issue #7).
 *
 * For both tiny queries the features fixture runs through of3_trunk_run with 3 cycles (the
 * tiny configuration's num_recycles 2 + 1) in float32 on the CPU backend, and s_input, s and z
 * after every cycle (s_cycle, z_cycle) and the final s_trunk, z_trunk are compared with the
 * float64 reference taps by relative Frobenius error, bar 1e-4 (spec/trunk.md §2.1, §6). The
 * measured errors are printed either way. */
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
	CHECK(e <= BAR, "%s: %s: relative Frobenius error %.3e (max abs %.3e, bar %.0e)", q, what,
	      e, max_abs, BAR);
}

static void run_query(const char *q, const of3_trunk_t *trunk, const of3_backend_t *be)
{
	char path[256];
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_features.bundle.gz", q);
	of3_bundle_t *feat = read_gz(path);
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_trunk.bundle.gz", q);
	of3_bundle_t *ref = read_gz(path);
	const of3_tensor_t *tm = feat ? of3_bundle_tensor(feat, "token_mask") : NULL;
	CHECK(feat && ref && tm && tm->ndim == 1, "%s: fixtures read", q);
	if (!feat || !ref || !tm || tm->ndim != 1)
		goto done;
	const of3_trunk_dims_t *d = of3_trunk_dims(trunk);
	const int64_t n = tm->shape[0], n_s = n * d->c_s, n_z = n * n * d->c_z;
	of3_trunk_out_t out = {
	        .s_input = malloc((size_t)(n * d->c_s_input) * sizeof(float)),
	        .s_trunk = malloc((size_t)n_s * sizeof(float)),
	        .z_trunk = malloc((size_t)n_z * sizeof(float)),
	        .s_cycle = malloc((size_t)(N_CYCLES * n_s) * sizeof(float)),
	        .z_cycle = malloc((size_t)(N_CYCLES * n_z) * sizeof(float)),
	};
	int rc = of3_trunk_run(trunk, feat, N_CYCLES, 42, &out, be);
	CHECK(rc == 0, "%s: %lld tokens, %d cycles %s", q, (long long)n, N_CYCLES,
	      rc ? of3_errmsg() : "");
	if (rc == 0) {
		compare(q, "s_input", out.s_input, ref, "s_input", 0, n * d->c_s_input);
		for (int c = 0; c < N_CYCLES; c++) {
			char what[64];
			snprintf(what, sizeof what, "s after cycle %d", c);
			compare(q, what, out.s_cycle + c * n_s, ref, "s_cycle", c * n_s, n_s);
			snprintf(what, sizeof what, "z after cycle %d", c);
			compare(q, what, out.z_cycle + c * n_z, ref, "z_cycle", c * n_z, n_z);
		}
		compare(q, "s_trunk", out.s_trunk, ref, "s_trunk", 0, n_s);
		compare(q, "z_trunk", out.z_trunk, ref, "z_trunk", 0, n_z);
	}
	free(out.s_input);
	free(out.s_trunk);
	free(out.z_trunk);
	free(out.s_cycle);
	free(out.z_cycle);
done:
	of3_bundle_free(feat);
	of3_bundle_free(ref);
}

int main(int argc, char **argv)
{
	of3_ckpt_t *ck = NULL;
	of3_trunk_t *trunk = NULL;
	of3_backend_t be;
	if (argc > 1 && chdir(argv[1]) != 0) {
		perror(argv[1]);
		return 1;
	}
	int rc = of3_backend_open(&be, "cpu", 1);
	CHECK(rc == 0 && be.ops, "cpu backend with its op table");
	rc = of3_ckpt_open(&ck, CKPT);
	CHECK(rc == 0, "open %s %s", CKPT, rc ? of3_errmsg() : "");
	if (rc == 0)
		rc = of3_trunk_load(&trunk, ck);
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
