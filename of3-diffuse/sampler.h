/* sampler.h: the diffusion sampler (spec/diffusion_heads.md §2, AF3 Alg. 18 as OpenFold3 runs
 * it): the noise schedule, the centre + random rigid augmentation and the 200-step loop around
 * the diffusion module, for D samples at once.
 *
 * Its random numbers come from a noise source: our Philox generator (DESIGN.md §4), or a
 * recorded stream replayed in OpenFold3's draw order (§2.4), which makes a run comparable
 * draw for draw with the reference (`of3-diffuse --noise-replay`). */
#ifndef OF3_DIFFUSE_SAMPLER_H
#define OF3_DIFFUSE_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "diffusion_module.h"

/* §2.1 (model_config.py architecture.noise_schedule) and §2.2 (sample_diffusion). */
#define OF3_SCHED_S_MAX         160.0
#define OF3_SCHED_S_MIN         4e-4
#define OF3_SCHED_P             7.0
#define OF3_SAMPLER_GAMMA_0     0.8f
#define OF3_SAMPLER_GAMMA_MIN   1.0f
#define OF3_SAMPLER_NOISE_SCALE 1.003f
#define OF3_SAMPLER_STEP_SCALE  1.5f
#define OF3_SAMPLER_MAX_STEPS   10000 /* more steps than this is refused as a mistake */

/* c[0..T] (T + 1 values), the EDM noise levels from σ_data·s_max down to σ_data·s_min, in
 * float32 as the reference computes them (t = τ/T in float32, the roots of s_max and s_min
 * rounded to float32, pow in float32). */
void of3_noise_schedule(float *c, int64_t n_step);

/* Where the sampler's draws come from. Philox (init, quat, trans, noise NULL): sample k draws
 * from its own stream (seed, OF3_RNG_STREAM_DIFFUSION + k), in the order of §2.4 (3A initial
 * normals, then per step 4 quaternion, 3 translation and 3A noise normals), so sample k is
 * the same whatever the number of samples. Replay: the recorded draws, float32:
 * init [D,A,3], quat [T,D,4], trans [T,D,3], noise [T,D,A,3]. */
typedef struct {
	uint64_t seed;
	const float *init, *quat, *trans, *noise;
} of3_noise_src_t;

/* Optional record of a run, for checks: t_hat [T], x_noisy and x_denoised [T,D,A,3] (the
 * module's input x̂ and output at each step). Any member may be NULL. */
typedef struct {
	double *t_hat;
	float *x_noisy, *x_denoised;
} of3_sampler_trace_t;

/* Called after each step (1..T); may be NULL. */
typedef void (*of3_sampler_progress_t)(void *ctx, int64_t step, int64_t n_step);

/* Floats of scratch (backend memory) of3_sample_diffusion() needs. */
size_t of3_sampler_scratch(const of3_diffusion_module_w_t *w, int64_t n_tok, int64_t n_atom,
                           int64_t n_sample);

/* x[D,A,3] = the sampled coordinates (atom_positions_predicted) after n_step steps, D =
 * in->n_sample; in's t_hat is set here, x_noisy and fourier during the run (NULL after). cache:
 * of3_diffusion_prepare() done on the same in. x, noise and trace are host memory, cache and
 * scratch the backend's. The loop's x stays on the backend (the augmentation, the noise and
 * the update are ops); the host draws each step's random numbers while the backend runs the
 * step before, into two page-locked slots, and waits only for the last step's x (or for each
 * step's x̂ and output when trace asks for them). Returns OF3_OK, OF3_ERR_NOMEM (the loop's
 * host buffers) or the module's or backend's error. */
int of3_sample_diffusion(float *x, int64_t n_step, of3_diffusion_in_t *in,
                         const of3_diffusion_module_w_t *w, const float *cache,
                         const of3_noise_src_t *noise, const of3_sampler_trace_t *trace,
                         of3_sampler_progress_t progress, void *progress_ctx, float *scratch,
                         of3_backend_t *be) OF3_WUR;

#endif
