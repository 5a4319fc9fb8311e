/* sampler.c: noise schedule, augmentation and the sampling loop (spec/diffusion_heads.md §2).
 *
 * The loop's arithmetic is float32 where the reference's is (the schedule, t̂, the noise and
 * update steps); the rotation is built in double from the float quaternion, a difference far
 * below the loop's 1e-3 Å parity bar. The host draws the random numbers (ε, the rigid motions)
 * and makes t̂'s Fourier features; everything that touches x runs as backend ops
 * (augment_noise, the module, sampler_update), so on a GPU the host fills the next step's
 * draws while the device works on this one and x stays there from the first step to the
 * last. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* A step's draws and Fourier features, in this order (a slot): ε [D,A,3], quat [D,4],
 * trans [D,3], fe [n_f]. The host fills one slot while the backend works on the other. */
static int64_t slot_floats(const of3_diffusion_module_w_t *w, int64_t n_atom, int64_t n_sample)
{
	return n_sample * n_atom * 3 + 7 * n_sample + w->n_fourier;
}

size_t of3_sampler_scratch(const of3_diffusion_module_w_t *w, int64_t n_tok, int64_t n_atom,
                           int64_t n_sample)
{
	const size_t n = (size_t)of3_align(n_sample * n_atom * 3);
	return 3 * n + (size_t)of3_align(slot_floats(w, n_atom, n_sample)) +
	       of3_diffusion_module_scratch(w, n_tok, n_atom, n_sample);
}

/* t̂ of step τ: γ switches off (strictly) at c_τ <= γ_min */
static float step_t_hat(const float *c, int64_t tau)
{
	const float gamma = c[tau] > OF3_SAMPLER_GAMMA_MIN ? OF3_SAMPLER_GAMMA_0 : 0.0f;
	return c[tau - 1] * (gamma + 1.0f);
}

static void fill_slot(float *slot, const of3_noise_src_t *noise, const float *c, int64_t tau,
                      const of3_diffusion_module_w_t *w, int64_t n_sample, int64_t n_atom)
{
	const int64_t D = n_sample, n = D * n_atom * 3;
	draw_step(slot + n, slot + n + 4 * D, slot, noise, tau, D, n_atom);
	of3_diffusion_fourier(slot + n + 7 * D, step_t_hat(c, tau), w);
}

int of3_sample_diffusion(float *x, int64_t n_step, of3_diffusion_in_t *in,
                         const of3_diffusion_module_w_t *w, const float *cache,
                         const of3_noise_src_t *noise, const of3_sampler_trace_t *trace,
                         of3_sampler_progress_t progress, void *progress_ctx, float *scratch,
                         of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t D = in->n_sample, A = in->n_atom, n = D * A * 3;
	const int64_t n_slot = slot_floats(w, A, D);
	/* on the backend, each at an of3_align boundary: the module's products take cuBLAS's
	 * aligned kernels only when its scratch starts on one (off by 8 bytes, a step took 9.5
	 * instead of 7.9 ms at 256 tokens) */
	float *xs = scratch;           /* [D,A,3] x */
	float *xd = xs + of3_align(n); /* [D,A,3] x̂, the module's input */
	float *dd = xd + of3_align(n); /* [D,A,3] the module's output */
	float *nz = dd + of3_align(n); /* [n_slot] the step's slot */
	float *inner = nz + of3_align(n_slot);
	if (n_step < 1 || n_step > OF3_SAMPLER_MAX_STEPS)
		return of3_err(OF3_ERR_USAGE, "diffusion steps: %lld, expected 1..%d",
		               (long long)n_step, OF3_SAMPLER_MAX_STEPS);
	float *c = malloc((size_t)(n_step + 1) * sizeof *c); /* [T+1] the schedule */
	float *slots = of3_backend_host_alloc(be, (size_t)(2 * n_slot) * sizeof *slots);
	if (!c || !slots) {
		free(c);
		of3_backend_host_free(be, slots);
		return of3_err(OF3_ERR_NOMEM, "out of memory (sampler, %lld samples)",
		               (long long)D);
	}
	of3_noise_schedule(c, n_step);
	draw_init(slots, noise, D, A); /* ε_0, in slot 0 until step 1's draws */
	for (int64_t i = 0; i < n; i++)
		x[i] = c[0] * slots[i];
	int rc = of3_backend_upload(be, xs, x, (size_t)n * sizeof *x);
	of3_diffusion_graphs_t graphs = {0}; /* the step, recorded at the second and replayed */
	fill_slot(slots, noise, c, 1, w, D, A);
	of3_backend_warmup_wait(be); /* before the loop (of3_backend_warmup) */
	/* The step's own arithmetic runs as ops too, so nothing waits for the backend inside the
	 * loop: step τ's slot goes up under copy slot τ's parity while the host fills the other
	 * for τ + 1, once that one's last upload (τ - 1's) is done. */
	for (int64_t tau = 1; tau <= n_step && rc == OF3_OK; tau++) {
		const int k = (int)((tau - 1) & 1);
		const float *h = slots + k * n_slot;
		const float t_hat = step_t_hat(c, tau);
		const float sigma =
		        OF3_SAMPLER_NOISE_SCALE * sqrtf(t_hat * t_hat - c[tau - 1] * c[tau - 1]);
		rc = of3_backend_upload_async(be, nz, h, (size_t)n_slot * sizeof *h, k);
		if (rc)
			break;
		op->augment_noise(xd, xs, nz + n, nz + n + 4 * D, nz, in->f.atom_mask, sigma, D, A);
		in->t_hat = t_hat;
		in->x_noisy = xd;
		in->fourier = nz + n + 7 * D;
		const of3_diffusion_out_t out = {.x_denoised = dd};
		rc = of3_diffusion_module_forward(&out, in, w, cache, inner, &graphs, be);
		if (rc)
			break;
		/* x = x̂ + η (c_τ − t̂) (x̂ − D) / t̂: the update starts from x̂ ("changed from SI") */
		const float dt = c[tau] - t_hat;
		op->sampler_update(xs, xd, dd, OF3_SAMPLER_STEP_SCALE * dt, t_hat, n);
		if (trace && trace->t_hat)
			trace->t_hat[tau - 1] = t_hat;
		if (trace && trace->x_noisy)
			rc = of3_backend_download(be, trace->x_noisy + (tau - 1) * n, xd,
			                          (size_t)n * sizeof *x);
		if (!rc && trace && trace->x_denoised)
			rc = of3_backend_download(be, trace->x_denoised + (tau - 1) * n, dd,
			                          (size_t)n * sizeof *x);
		if (!rc && tau < n_step) {
			rc = of3_backend_copy_wait(be, k ^ 1);
			fill_slot(slots + (k ^ 1) * n_slot, noise, c, tau + 1, w, D, A);
		}
		if (!rc && progress)
			progress(progress_ctx, tau, n_step);
	}
	rc = rc ? rc : of3_backend_download(be, x, xs, (size_t)n * sizeof *x);
	of3_diffusion_graphs_free(&graphs, be);
	in->x_noisy = in->fourier = NULL; /* they pointed into scratch: nothing to free or read */
	of3_backend_host_free(be, slots);
	free(c);
	return rc;
}
