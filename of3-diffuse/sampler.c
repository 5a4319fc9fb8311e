/* sampler.c: noise schedule, augmentation and the sampling loop (spec/diffusion_heads.md §2).
 *
 * The loop's arithmetic is float32 where the reference's is (the schedule, t̂, the noise and
 * update steps); the rotation is built in double from the float quaternion, a difference far
 * below the loop's 1e-3 Å parity bar. The loop runs on the host (D x A x 3 floats): each step
 * uploads x̂ to the backend and downloads the module's output, a trivial transfer beside the
 * module's work. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/rigid.h"
#include "../common/rng.h"

void of3_noise_schedule(float *c, int64_t n_step)
{
	/* the two roots are Python doubles in the reference, rounded to float32 where they meet
	 * the float32 tensor t */
	const double r_max = pow(OF3_SCHED_S_MAX, 1.0 / OF3_SCHED_P);
	const double r_min = pow(OF3_SCHED_S_MIN, 1.0 / OF3_SCHED_P);
	for (int64_t tau = 0; tau <= n_step; tau++) {
		const float t = (float)tau / (float)n_step;
		const float base = (float)r_max + t * (float)(r_min - r_max);
		c[tau] = (float)OF3_DIFF_SIGMA_DATA * powf(base, (float)OF3_SCHED_P);
	}
}

/* Word offsets of the draws in a sample's Philox stream (§2.4 order): 3A initial normals, then
 * per step 4 + 3 + 3A. */
static uint64_t step_offset(int64_t n_atom, int64_t tau)
{
	return (uint64_t)(3 * n_atom) + (uint64_t)(tau - 1) * (uint64_t)(7 + 3 * n_atom);
}

static void philox_fill(float *out, uint64_t seed, int64_t sample, uint64_t pos, int64_t n)
{
	of3_rng_t rng;
	of3_rng_init(&rng, seed, OF3_RNG_STREAM_DIFFUSION + (uint64_t)sample);
	of3_rng_seek(&rng, pos);
	of3_rng_normal_fill(&rng, out, (size_t)n);
}

/* The initial noise ε_0 [D,A,3]. */
static void draw_init(float *eps, const of3_noise_src_t *src, int64_t n_sample, int64_t n_atom)
{
	const int64_t n = n_atom * 3;
	if (src->init) {
		memcpy(eps, src->init, (size_t)(n_sample * n) * sizeof *eps);
		return;
	}
	for (int64_t d = 0; d < n_sample; d++)
		philox_fill(eps + d * n, src->seed, d, 0, n);
}

/* Step τ's quaternions quat [D,4], translations trans [D,3] and noise ε_τ [D,A,3]. */
static void draw_step(float *quat, float *trans, float *eps, const of3_noise_src_t *src,
                      int64_t tau, int64_t n_sample, int64_t n_atom)
{
	const int64_t D = n_sample, n = n_atom * 3;
	if (src->quat) {
		memcpy(quat, src->quat + (tau - 1) * D * 4, (size_t)(D * 4) * sizeof *quat);
		memcpy(trans, src->trans + (tau - 1) * D * 3, (size_t)(D * 3) * sizeof *trans);
		memcpy(eps, src->noise + (tau - 1) * D * n, (size_t)(D * n) * sizeof *eps);
		return;
	}
	for (int64_t d = 0; d < D; d++) {
		const uint64_t pos = step_offset(n_atom, tau);
		philox_fill(quat + d * 4, src->seed, d, pos, 4);
		philox_fill(trans + d * 3, src->seed, d, pos + 4, 3);
		philox_fill(eps + d * n, src->seed, d, pos + 7, n);
	}
}

/* §2.3 on one sample x[A,3]: centre on the masked centroid, rotate by the unit quaternion
 * q / |q| (scalar first), translate by t, mask. */
static void centre_random_augment(float *x, const float *q4, const float *t, const float *mask,
                                  int64_t n_atom)
{
	double mu[3] = {0, 0, 0}, msum = 0, R[3][3];
	const double q[4] = {q4[0], q4[1], q4[2], q4[3]};
	of3_quat_rotation(q, R);
	for (int64_t l = 0; l < n_atom; l++) {
		for (int k = 0; k < 3; k++)
			mu[k] += (double)mask[l] * x[l * 3 + k];
		msum += mask[l];
	}
	for (int k = 0; k < 3; k++)
		mu[k] = msum > 0 ? mu[k] / msum : 0;
	for (int64_t l = 0; l < n_atom; l++) {
		const double v[3] = {x[l * 3] - mu[0], x[l * 3 + 1] - mu[1], x[l * 3 + 2] - mu[2]};
		for (int k = 0; k < 3; k++)
			x[l * 3 + k] =
			        (float)((R[k][0] * v[0] + R[k][1] * v[1] + R[k][2] * v[2] + t[k]) *
			                mask[l]);
	}
}

size_t of3_sampler_scratch(const of3_diffusion_module_w_t *w, int64_t n_tok, int64_t n_atom,
                           int64_t n_sample)
{
	const size_t n = (size_t)of3_align(n_sample * n_atom * 3);
	return 2 * n + of3_diffusion_module_scratch(w, n_tok, n_atom, n_sample);
}

int of3_sample_diffusion(float *x, int64_t n_step, of3_diffusion_in_t *in,
                         const of3_diffusion_module_w_t *w, const float *cache,
                         const of3_noise_src_t *noise, const of3_sampler_trace_t *trace,
                         of3_sampler_progress_t progress, void *progress_ctx, float *scratch,
                         of3_backend_t *be)
{
	const int64_t D = in->n_sample, A = in->n_atom, n = D * A * 3;
	const of3_diffusion_feats_t *hf = of3_diffusion_host_feats(in, be);
	const float *mask = hf ? hf->atom_mask : NULL;
	/* each at an of3_align boundary: the module's products take cuBLAS's aligned kernels only
	 * when its scratch starts on one (off by 8 bytes, a step took 9.5 instead of ~7 ms) */
	float *xd = scratch;              /* [D,A,3] x̂ on the backend, the module's input */
	float *dd = xd + of3_align(n);    /* [D,A,3] the module's output there */
	float *inner = dd + of3_align(n);
	if (n_step < 1 || n_step > OF3_SAMPLER_MAX_STEPS)
		return of3_err(OF3_ERR_USAGE, "diffusion steps: %lld, expected 1..%d",
		               (long long)n_step, OF3_SAMPLER_MAX_STEPS);
	if (!mask)
		return of3_err(OF3_ERR_RUNTIME,
		               "sampler: the atom mask's host copy (hf) is missing "
		               "on a device backend");
	/* host side of the loop */
	float *xh = malloc((size_t)(3 * n + 7 * D + n_step + 1) * sizeof *xh); /* [D,A,3] x̂ */
	if (!xh)
		return of3_err(OF3_ERR_NOMEM, "out of memory (sampler, %lld samples)",
		               (long long)D);
	float *den = xh + n;         /* [D,A,3] the module's output */
	float *eps = den + n;        /* [D,A,3] ε */
	float *quat = eps + n;       /* [D,4] */
	float *trans = quat + 4 * D; /* [D,3] */
	float *c = trans + 3 * D;    /* [T+1] the schedule */
	int rc = OF3_OK;
	of3_diffusion_graphs_t graphs = {0}; /* the step, recorded at the second and replayed */
	of3_noise_schedule(c, n_step);
	draw_init(eps, noise, D, A);
	for (int64_t i = 0; i < n; i++)
		x[i] = c[0] * eps[i];
	for (int64_t tau = 1; tau <= n_step; tau++) {
		draw_step(quat, trans, eps, noise, tau, D, A);
		for (int64_t d = 0; d < D; d++)
			centre_random_augment(x + d * A * 3, quat + d * 4, trans + d * 3, mask, A);
		/* γ switches off (strictly) at c_τ <= γ_min; ε is drawn either way */
		const float gamma = c[tau] > OF3_SAMPLER_GAMMA_MIN ? OF3_SAMPLER_GAMMA_0 : 0.0f;
		const float t_hat = c[tau - 1] * (gamma + 1.0f);
		const float sigma =
		        OF3_SAMPLER_NOISE_SCALE * sqrtf(t_hat * t_hat - c[tau - 1] * c[tau - 1]);
		for (int64_t i = 0; i < n; i++)
			xh[i] = x[i] + sigma * eps[i];
		in->t_hat = t_hat;
		in->x_noisy = xd;
		const of3_diffusion_out_t out = {.x_denoised = dd};
		rc = of3_backend_upload(be, xd, xh, (size_t)n * sizeof *xh);
		rc = rc ? rc : of3_diffusion_module_forward(&out, in, w, cache, inner, &graphs, be);
		rc = rc ? rc : of3_backend_download(be, den, dd, (size_t)n * sizeof *den);
		if (rc)
			break;
		/* x = x̂ + η (c_τ − t̂) (x̂ − D) / t̂: the update starts from x̂ ("changed from SI") */
		const float dt = c[tau] - t_hat;
		for (int64_t i = 0; i < n; i++)
			x[i] = xh[i] + OF3_SAMPLER_STEP_SCALE * dt * ((xh[i] - den[i]) / t_hat);
		if (trace && trace->t_hat)
			trace->t_hat[tau - 1] = t_hat;
		if (trace && trace->x_noisy)
			memcpy(trace->x_noisy + (tau - 1) * n, xh, (size_t)n * sizeof *xh);
		if (trace && trace->x_denoised)
			memcpy(trace->x_denoised + (tau - 1) * n, den, (size_t)n * sizeof *den);
		if (progress)
			progress(progress_ctx, tau, n_step);
	}
	of3_diffusion_graphs_free(&graphs, be);
	in->x_noisy = NULL; /* it pointed into scratch: nothing a caller may free or read */
	free(xh);
	return rc;
}
