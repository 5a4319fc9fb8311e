/* test_diffuse_sampler.c: the diffusion sampler (of3-diffuse/sampler.c, spec/diffusion_heads.md
 * §2) against the real OpenFold3 on the tiny random checkpoint.
 *
 * For both tiny queries the fixture tiny_*_sample records a 10-step, 2-sample run of
 * OpenFold3's SampleDiffusion with every random draw (noise_init, then per step quaternion,
 * translation, noise) and, per step, t̂, the module's input x̂ and output; the run here replays
 * those draws through of3_sample_diffusion() and compares: the noise schedule, t̂ per step,
 * x̂ and the denoised coordinates per step (relative Frobenius error), and the final
 * coordinates (RMSD per sample, bar 1e-3 Å; issue #8). The features and trunk outputs go
 * through of3_diffuse_inputs_view(), as of3-diffuse reads them. Then the Philox source: the
 * same seed gives the same bytes, sample k does not depend on the number of samples, and
 * another seed gives other coordinates. Last, every product of a run has its operands on 16-byte
 * boundaries, where D*A is odd too (cuBLAS's fast kernels need it; see alignment_checks).
 *
 * The module runs on the backend of tests/test_device.h (the CPU, or CUDA under
 * `make test-gpu`). In bf16 mode the bars against the reference become 5e-2 (per-step tensors)
 * and 0.1 Å (final RMSD), and the bar is checked as well: the bf16 coordinates within
 * 0.1 Å RMSD of the fp32 run's on the same device with the same (replayed) noise. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/bundle.h"
#include "../common/checkpoint.h"
#include "../kernels/backend.h"
#include "../of3-diffuse/diffuse_inputs.h"
#include "../of3-diffuse/sampler.h"
#include "check.h"
#include "fixture_io.h"
#include "test_device.h"

#define CKPT         "tests/fixtures/of3_tiny_random.pt"
#define BAR_REL      td_bar(1e-4, 5e-2) /* per-step tensors, relative Frobenius */
#define BAR_RMSD     td_bar(1e-3, 0.1)  /* Å, final coordinates per sample */
#define BAR_BF16_F32 0.1                /* Å, bf16 against fp32 with the same noise (issue #10) */

/* The features bundle with the trunk outputs added as float32: a trunk bundle as of3-trunk
 * writes it. */
static of3_bundle_t *trunk_bundle(const char *q, const of3_diffusion_module_w_t *w)
{
	char path[256];
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_features.bundle.gz", q);
	of3_bundle_t *b = read_gz(path);
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_trunk.bundle.gz", q);
	of3_bundle_t *t = read_gz(path);
	const of3_tensor_t *tm = b ? of3_bundle_tensor(b, "token_mask") : NULL;
	int rc = b && t && tm ? OF3_OK : OF3_ERR_INPUT;
	const int64_t n = tm ? tm->shape[0] : 0;
	const char *name[3] = {"s_input", "s_trunk", "z_trunk"};
	const int64_t sh[3][3] = {{n, w->c_si}, {n, w->c_s}, {n, n, w->c_z}};
	for (int k = 0; k < 3 && rc == 0; k++) {
		const int64_t numel = sh[k][0] * sh[k][1] * (k == 2 ? sh[k][2] : 1);
		float *src = tap_f32(t, name[k], numel);
		float *dst = of3_bundle_new_tensor(b, name[k], OF3_DTYPE_F32, k == 2 ? 3 : 2, sh[k],
		                                   &rc);
		if (src && dst)
			memcpy(dst, src, (size_t)numel * sizeof *dst);
		else
			rc = OF3_ERR_INPUT;
		free(src);
	}
	of3_bundle_free(t);
	if (rc) {
		of3_bundle_free(b);
		return NULL;
	}
	return b;
}

/* The recorded draws as float32 (fixture f64). */
static int replay_source(of3_noise_src_t *src, const of3_bundle_t *s, int64_t D, int64_t T,
                         int64_t A)
{
	src->init = tap_f32(s, "sample_noise_init", D * A * 3);
	src->quat = tap_f32(s, "sample_aug_quat", T * D * 4);
	src->trans = tap_f32(s, "sample_aug_trans", T * D * 3);
	src->noise = tap_f32(s, "sample_noise_step", T * D * A * 3);
	return src->init && src->quat && src->trans && src->noise;
}

static void free_source(of3_noise_src_t *src)
{
	free((void *)src->init), free((void *)src->quat), free((void *)src->trans);
	free((void *)src->noise);
}

/* RMSD of sample d of ours [D,A,3] against the fixture's float64 tensor. */
static double rmsd(const float *ours, const double *ref, int64_t A)
{
	double s = 0;
	for (int64_t i = 0; i < A * 3; i++)
		s += (ours[i] - ref[i]) * (ours[i] - ref[i]);
	return sqrt(s / (double)A);
}

typedef struct {
	of3_diffuse_inputs_t v;
	of3_diffusion_in_t in; /* in backend memory (hf: the host features) */
	float *cache, *scratch;
} run_t;

static int run_open(run_t *r, const of3_bundle_t *b, int64_t D, const of3_diffusion_module_w_t *w,
                    of3_backend_t *be)
{
	memset(r, 0, sizeof *r);
	int rc = of3_diffuse_inputs_view(&r->v, b, w->c_si, w->c_s, w->c_z);
	if (rc)
		return rc;
	const int64_t N = r->v.n_tok, A = r->v.n_atom;
	const of3_diffusion_in_t host = {.n_tok = N,
	                                 .n_atom = A,
	                                 .n_sample = D,
	                                 .s_input = r->v.s_input,
	                                 .s_trunk = r->v.s_trunk,
	                                 .z_trunk = r->v.z_trunk,
	                                 .f = r->v.f};
	td_in(&r->in, &host, w->c_si, w->c_s, w->c_z);
	r->cache = of3_backend_alloc(be, of3_diffusion_cache_size(w, N, A) * sizeof(float));
	r->scratch = of3_backend_alloc(be, of3_sampler_scratch(w, N, A, D) * sizeof(float));
	if (!r->cache || !r->scratch)
		return OF3_ERR_NOMEM;
	return of3_diffusion_prepare(r->cache, NULL, &r->in, w, r->scratch, be);
}

static void run_close(run_t *r)
{
	td_free(r->cache), td_free(r->scratch);
	if (r->in.s_trunk)
		td_in_free(&r->in);
	of3_diffuse_inputs_free(&r->v);
}

/* x[D,A,3] of a replayed T-step run at fp32 on the test's device: the reference for bf16. */
static int replay_fp32(float *x, const of3_bundle_t *b, int64_t D, int64_t T,
                       const of3_noise_src_t *src, const of3_diffusion_module_w_t *w,
                       of3_backend_t *be)
{
	run_t r;
	of3_backend_set_precision(be, OF3_PRECISION_FP32);
	int rc = run_open(&r, b, D, w, be);
	rc = rc ? rc
	        : of3_sample_diffusion(x, T, &r.in, w, r.cache, src, NULL, NULL, NULL, r.scratch,
	                               be);
	run_close(&r);
	of3_backend_set_precision(be, OF3_PRECISION_BF16);
	return rc;
}

static void replay_query(const char *q, const of3_diffusion_module_w_t *w, of3_backend_t *be)
{
	char path[256];
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_sample.bundle.gz", q);
	of3_bundle_t *s = read_gz(path), *b = trunk_bundle(q, w);
	const of3_tensor_t *xt = s ? of3_bundle_tensor(s, "atom_positions_predicted") : NULL;
	const of3_tensor_t *th = s ? of3_bundle_tensor(s, "sample_t_hat") : NULL;
	const of3_tensor_t *sc = s ? of3_bundle_tensor(s, "noise_schedule") : NULL;
	CHECK(s && b && xt && xt->ndim == 3 && xt->dtype == OF3_DTYPE_F64 && th && sc,
	      "%s: sample fixture and trunk bundle", q);
	if (!s || !b || !xt || xt->ndim != 3 || xt->dtype != OF3_DTYPE_F64 || !th || !sc) {
		of3_bundle_free(s), of3_bundle_free(b);
		return;
	}
	const int64_t D = xt->shape[0], A = xt->shape[1], T = th->shape[0];

	/* schedule, float32 as the reference's; the fixture's is float64 (the 7th power turns
	 * float32 rounding into ~1e-6 relative) */
	float *c = malloc((size_t)(T + 1) * sizeof *c);
	of3_noise_schedule(c, T);
	double worst = 0;
	for (int64_t i = 0; i <= T; i++) {
		const double r = ((const double *)sc->data)[i];
		worst = fmax(worst, fabs(c[i] - r) / r);
	}
	CHECK(worst < 5e-6,
	      "%s: noise schedule of %lld steps: c_0 %.4f, c_T %.6f, max rel. "
	      "difference %.2e (float64 fixture)",
	      q, (long long)T, c[0], c[T], worst);
	free(c);

	run_t r;
	of3_noise_src_t src = {0};
	double *t_hat = malloc((size_t)T * sizeof *t_hat);
	float *xn = malloc((size_t)(T * D * A * 3) * sizeof *xn);
	float *xd = malloc((size_t)(T * D * A * 3) * sizeof *xd);
	float *x = malloc((size_t)(D * A * 3) * sizeof *x);
	int rc = run_open(&r, b, D, w, be);
	CHECK(rc == 0 && replay_source(&src, s, D, T, A) && t_hat && xn && xd && x,
	      "%s: %lld samples x %lld steps, %lld atoms; inputs viewed, cache prepared %s", q,
	      (long long)D, (long long)T, (long long)A, rc ? of3_errmsg() : "");
	if (rc == 0 && src.noise) {
		const of3_sampler_trace_t tr = {t_hat, xn, xd};
		rc = of3_sample_diffusion(x, T, &r.in, w, r.cache, &src, &tr, NULL, NULL, r.scratch,
		                          be);
		CHECK(rc == 0, "%s: sampling %s", q, rc ? of3_errmsg() : "");
	}
	if (rc == 0 && src.noise && td_bf16()) {
		float *x32 = malloc((size_t)(D * A * 3) * sizeof *x32);
		rc = x32 ? replay_fp32(x32, b, D, T, &src, w, be) : OF3_ERR_NOMEM;
		CHECK(rc == 0, "%s: the same run in fp32 %s", q, rc ? of3_errmsg() : "");
		for (int64_t d = 0; rc == 0 && d < D; d++) {
			double m = 0;
			for (int64_t i = 0; i < A * 3; i++) {
				const double e = x[d * A * 3 + i] - x32[d * A * 3 + i];
				m += e * e;
			}
			m = sqrt(m / (double)A);
			CHECK(m <= BAR_BF16_F32,
			      "%s: sample %lld: bf16 coordinates against fp32's, same noise: RMSD "
			      "%.3e Å (bar %.1f Å)",
			      q, (long long)d, m, BAR_BF16_F32);
		}
		free(x32);
	}
	if (rc == 0 && src.noise) {
		double e = 0;
		for (int64_t i = 0; i < T; i++)
			e = fmax(e, fabs(t_hat[i] - ((const double *)th->data)[i]) /
			                    ((const double *)th->data)[i]);
		CHECK(e < 1e-6, "%s: t_hat of every step, max rel. difference %.2e", q, e);
		double mx;
		e = rel_err(xn, s, "sample_x_noisy", T * D * A * 3, &mx);
		CHECK(e >= 0 && e <= BAR_REL,
		      "%s: x_noisy of every step: relative Frobenius error %.3e (max abs %.3e Å)",
		      q, e, mx);
		e = rel_err(xd, s, "sample_x_denoised", T * D * A * 3, &mx);
		CHECK(e >= 0 && e <= BAR_REL,
		      "%s: x_denoised of every step: relative Frobenius error %.3e (max abs %.3e "
		      "Å)",
		      q, e, mx);
		for (int64_t d = 0; d < D; d++) {
			const double m =
			        rmsd(x + d * A * 3, (const double *)xt->data + d * A * 3, A);
			CHECK(m <= BAR_RMSD,
			      "%s: sample %lld: final coordinates RMSD %.3e Å (bar %.0e Å)", q,
			      (long long)d, m, BAR_RMSD);
		}
	}
	run_close(&r);
	free_source(&src);
	free(t_hat), free(xn), free(xd), free(x);
	of3_bundle_free(s), of3_bundle_free(b);
}

/* Philox: determinism, independence of the sample count, dependence on the seed. */
static void philox_checks(const of3_diffusion_module_w_t *w, of3_backend_t *be)
{
	const int64_t T = 3;
	of3_bundle_t *b = trunk_bundle("protein_ligand", w);
	run_t r1, r2;
	int rc = b ? run_open(&r1, b, 1, w, be) : OF3_ERR_INPUT;
	rc = rc ? rc : run_open(&r2, b, 2, w, be);
	CHECK(rc == 0, "philox: inputs prepared %s", rc ? of3_errmsg() : "");
	if (rc) {
		of3_bundle_free(b);
		return;
	}
	const int64_t A = r1.v.n_atom, n = A * 3;
	float *a = malloc((size_t)(2 * n) * sizeof *a), *a2 = malloc((size_t)(2 * n) * sizeof *a2);
	float *one = malloc((size_t)n * sizeof *one), *other = malloc((size_t)n * sizeof *other);
	of3_noise_src_t s42 = {.seed = 42}, s43 = {.seed = 43};
	rc = of3_sample_diffusion(a, T, &r2.in, w, r2.cache, &s42, NULL, NULL, NULL, r2.scratch,
	                          be);
	rc = rc ? rc
	        : of3_sample_diffusion(a2, T, &r2.in, w, r2.cache, &s42, NULL, NULL, NULL,
	                               r2.scratch, be);
	rc = rc ? rc
	        : of3_sample_diffusion(one, T, &r1.in, w, r1.cache, &s42, NULL, NULL, NULL,
	                               r1.scratch, be);
	rc = rc ? rc
	        : of3_sample_diffusion(other, T, &r1.in, w, r1.cache, &s43, NULL, NULL, NULL,
	                               r1.scratch, be);
	CHECK(rc == 0, "philox: four %lld-step runs %s", (long long)T, rc ? of3_errmsg() : "");
	if (rc == 0) {
		CHECK(!memcmp(a, a2, (size_t)(2 * n) * sizeof *a),
		      "philox: the same seed twice gives the same bytes");
		/* the noise of sample 0 never depends on --samples; its coordinates are the same
		 * bytes at fp32, and within the bf16 bar at bf16, whose cuBLAS products may pick
		 * another kernel (another summation order) for twice the rows */
		if (td_bf16()) {
			double e = 0;
			for (int64_t i = 0; i < n; i++)
				e += (a[i] - one[i]) * (a[i] - one[i]);
			e = sqrt(e / (double)A);
			CHECK(e < BAR_BF16_F32,
			      "philox: sample 0 of a 2-sample run against the 1-sample run's: RMSD "
			      "%.3e Å (bf16, bar %g Å)",
			      e, BAR_BF16_F32);
		} else {
			CHECK(!memcmp(a, one, (size_t)n * sizeof *a),
			      "philox: sample 0 of a 2-sample run equals the 1-sample run's");
		}
		CHECK(memcmp(a, a + n, (size_t)n * sizeof *a) != 0,
		      "philox: the two samples differ");
		double m = 0;
		for (int64_t i = 0; i < n; i++)
			m += (one[i] - other[i]) * (one[i] - other[i]);
		CHECK(sqrt(m / (double)A) > 1.0,
		      "philox: seed 43 differs from seed 42 (RMSD %.1f Å)", sqrt(m / (double)A));
	}
	free(a), free(a2), free(one), free(other);
	run_close(&r1), run_close(&r2);
	of3_bundle_free(b);
}

/* ---- every product of a run on 16-byte-aligned operands: cuBLAS takes its vectorised kernels
 * only then. The sampler's scratch once started the module's 8 bytes off whenever D*A was odd,
 * and a step took 9.5 instead of 7.9 ms at 256 tokens (H100). The products go through a copy of
 * the backend's table that notes each operand's address, then run as usual. ---- */

static const of3_ops_t *real_ops;
static long n_products, n_misaligned;
static char first_misaligned[128];

static void note(const char *op, const void *x, const void *w, const void *y)
{
	const void *p[3] = {x, w, y};
	const char *name[3] = {"x", "w", "y"};
	n_products++;
	for (int i = 0; i < 3; i++)
		if ((uintptr_t)p[i] % 16) {
			if (!n_misaligned++)
				snprintf(first_misaligned, sizeof first_misaligned,
				         "%s's %s at %p (call %ld)", op, name[i], p[i], n_products);
			return;
		}
}

static void linear_noted(float *y, const float *x, const float *w, const float *b, int64_t n_r,
                         int64_t n_in, int64_t n_out)
{
	note("linear", x, w, y);
	real_ops->linear(y, x, w, b, n_r, n_in, n_out);
}

static void linear_stack_noted(float *y, const float *x, int64_t x_stride, const float *w,
                               const float *b, int64_t n_stack, int64_t n_r, int64_t n_in,
                               int64_t n_out)
{
	note("linear_stack", x, w, y);
	real_ops->linear_stack(y, x, x_stride, w, b, n_stack, n_r, n_in, n_out);
}

static void linear_stack_lp_noted(float *y, const float *x, int64_t x_stride, const float *w,
                                  const void *w_lp, const float *b, int64_t n_stack, int64_t n_r,
                                  int64_t n_in, int64_t n_out)
{
	note("linear_stack_lp", x, w_lp ? w_lp : (const void *)w, y);
	real_ops->linear_stack_lp(y, x, x_stride, w, w_lp, b, n_stack, n_r, n_in, n_out);
}

static void linear_stack_lpx_noted(float *y, const float *x, const void *x_lp, int64_t x_stride,
                                   const float *w, const void *w_lp, const float *b,
                                   int64_t n_stack, int64_t n_r, int64_t n_in, int64_t n_out)
{
	note("linear_stack_lpx", x_lp ? x_lp : (const void *)x, w_lp ? w_lp : (const void *)w, y);
	real_ops->linear_stack_lpx(y, x, x_lp, x_stride, w, w_lp, b, n_stack, n_r, n_in, n_out);
}

static void alignment_checks(const of3_diffusion_module_w_t *w, of3_backend_t *be)
{
	of3_bundle_t *b = trunk_bundle("protein_ligand", w); /* A = 187: D*A odd at D = 1, 3 */
	CHECK(b != NULL, "alignment: the protein_ligand inputs");
	for (int64_t D = 1; b && D <= 3; D += 2) {
		run_t r;
		int rc = run_open(&r, b, D, w, be);
		float *x = malloc((size_t)(D * r.v.n_atom * 3) * sizeof *x);
		of3_ops_t noted = *be->ops;
		noted.linear = linear_noted, noted.linear_stack = linear_stack_noted;
		noted.linear_stack_lp = linear_stack_lp_noted;
		noted.linear_stack_lpx = linear_stack_lpx_noted;
		real_ops = be->ops, be->ops = &noted;
		n_products = n_misaligned = 0;
		const of3_noise_src_t s42 = {.seed = 42};
		rc = rc || !x ? (rc ? rc : OF3_ERR_NOMEM)
		              : of3_sample_diffusion(x, 2, &r.in, w, r.cache, &s42, NULL, NULL,
		                                     NULL, r.scratch, be);
		be->ops = real_ops;
		CHECK(rc == 0 && n_products > 0 && n_misaligned == 0,
		      "alignment: D=%lld A=%lld, 2 steps: %ld products, %ld with an operand off a "
		      "16-byte boundary%s%s %s",
		      (long long)D, (long long)r.v.n_atom, n_products, n_misaligned,
		      n_misaligned ? ", the first " : "", first_misaligned, rc ? of3_errmsg() : "");
		free(x);
		run_close(&r);
	}
	of3_bundle_free(b);
}

/* of3_wbind_all's binding pass */
static int bind_module(void *w, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	return of3_diffusion_module_bind(w, ck, wb);
}

int main(int argc, char **argv)
{
	of3_ckpt_t *ck = NULL;
	of3_diffusion_module_w_t *w = malloc(sizeof *w);
	of3_wbuf_t wb = {0};
	CHECK(w != NULL, "memory for the weights' pointers");
	if (!w || test_start(argc, argv, &td_be, &ck, CKPT) < 0) {
		free(w);
		return check_summary();
	}
	int rc = of3_wbind_all(&wb, ck, &td_be, bind_module, w);
	CHECK(rc == 0, "bound the diffusion module %s", rc ? of3_errmsg() : "");
	if (rc == 0) {
		replay_query("protein", w, &td_be);
		replay_query("protein_ligand", w, &td_be);
		philox_checks(w, &td_be);
		alignment_checks(w, &td_be);
	}
	of3_wbuf_free(&wb, &td_be);
	free(w);
	of3_ckpt_close(ck);
	of3_backend_close(&td_be);
	return check_summary();
}
