/* bcast_ops.c: the CPU's broadcast ops (kernels/ops.h, issue #10): the per-sample loops of the
 * diffusion step as one op each. Every op calls, or repeats, the single-sample ops it replaces in
 * their order, so the CPU numbers stay the bits they were before (and the CUDA versions are
 * checked against these). */
#include <math.h>
#include <string.h>

#include "../atom_blocks.h"
#include "cpu_ops.h"

/* elementwise.c's sigmoid, in double and rounded once, as sigmoid_mul takes it */
static float sigm(float x)
{
	return (float)(1.0 / (1.0 + exp(-(double)x)));
}

void of3_cpu_add_bcast(float *y, const float *x, int64_t n_rep, int64_t n)
{
	for (int64_t d = 0; d < n_rep; d++)
		of3_cpu_add(y + d * n, x, n);
}

void of3_cpu_repeat(float *y, const float *x, int64_t n_rep, int64_t n)
{
	for (int64_t d = 0; d < n_rep; d++)
		memcpy(y + d * n, x, (size_t)n * sizeof *y);
}

void of3_cpu_mask_rows_rep(float *x, const float *mask, int64_t n_mask, int64_t n_r, int64_t n_c)
{
	for (int64_t r = 0; r < n_r; r++)
		for (int64_t c = 0; c < n_c; c++)
			x[r * n_c + c] *= mask[r % n_mask];
}

void of3_cpu_adaln_apply(float *y, const float *x, const float *gate, const float *shift,
                         int64_t n_rep, int64_t n_r, int64_t n_c, float eps)
{
	const int64_t n = n_r * n_c;
	of3_cpu_layer_norm(y, x, NULL, NULL, n_rep * n_r, n_c, eps);
	for (int64_t d = 0; d < n_rep; d++) {
		of3_cpu_sigmoid_mul(y + d * n, gate, y + d * n, n);
		of3_cpu_add(y + d * n, shift, n);
	}
}

void of3_cpu_adaln_apply_lp(float *y, void *y_lp, const float *x, const float *gate,
                            const float *shift, int64_t n_rep, int64_t n_r, int64_t n_c, float eps)
{
	(void)y_lp; /* the CPU's products keep fp32 operands: no bf16 copy to make */
	of3_cpu_adaln_apply(y, x, gate, shift, n_rep, n_r, n_c, eps);
}

void of3_cpu_gated_residual(float *a, const float *g, const float *x, const float *mask,
                            int64_t n_rep, int64_t n_r, int64_t n_c)
{
	const int64_t n = n_r * n_c;
	for (int64_t d = 0; d < n_rep; d++)
		for (int64_t i = 0; i < n; i++) {
			/* each step rounded to float, as the three ops stored it */
			float t = sigm(g[i]) * x[d * n + i];
			if (mask)
				t *= mask[i / n_c];
			a[d * n + i] += t;
		}
}

void of3_cpu_gather_rows_rep(float *y, const float *x, const int32_t *idx, int64_t n_rep,
                             int64_t n_r, int64_t n_x, int64_t n_c)
{
	for (int64_t d = 0; d < n_rep; d++)
		of3_cpu_gather_rows(y + d * n_r * n_c, x + d * n_x * n_c, idx, n_r, n_c);
}

void of3_cpu_atom_windows_rep(float *y, const float *x, int64_t n_rep, int64_t n_atom, int64_t n_c,
                              int64_t n_win, int64_t first)
{
	const int64_t ny = of3_atom_n_block(n_atom) * n_win * n_c;
	for (int64_t d = 0; d < n_rep; d++)
		of3_cpu_atom_windows(y + d * ny, x + d * n_atom * n_c, n_atom, n_c, n_win, first);
}

void of3_cpu_linear_stack(float *y, const float *x, int64_t x_stride, const float *w,
                          const float *b, int64_t n_stack, int64_t n_r, int64_t n_in, int64_t n_out)
{
	for (int64_t t = 0; t < n_stack; t++)
		of3_cpu_linear(y + t * n_r * n_out, x + t * x_stride, w + t * n_out * n_in,
		               b ? b + t * n_out : NULL, n_r, n_in, n_out);
}
