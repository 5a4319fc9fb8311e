/* elementwise.c: the CPU's pointwise ops: sigmoid, products, residual add, SwiGLU's
 * silu(a)*b (spec/trunk.md §3.0.1), row masks and the pair-tensor transpose, and the
 * fused pair-block gates (tri_mul_gate, swiglu_rows). */
#include <math.h>

#include "cpu_ops.h"

static float sigm(float x)
{
	return (float)(1.0 / (1.0 + exp(-(double)x)));
}

void of3_cpu_sigmoid(float *y, const float *x, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = sigm(x[i]);
}

void of3_cpu_mul(float *y, const float *a, const float *b, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = a[i] * b[i];
}

void of3_cpu_add(float *y, const float *x, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] += x[i];
}

void of3_cpu_swiglu(float *y, const float *a, const float *b, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = a[i] * sigm(a[i]) * b[i];
}

void of3_cpu_swiglu_lp(float *y, void *y_lp, const float *a, const float *b, int64_t n)
{
	(void)y_lp; /* as adaln_apply_lp: untouched on the CPU */
	of3_cpu_swiglu(y, a, b, n);
}

void of3_cpu_sigmoid_mul(float *y, const float *g, const float *x, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = sigm(g[i]) * x[i];
}

void of3_cpu_mask_rows(float *x, const float *mask, int64_t n_r, int64_t n_c)
{
	for (int64_t r = 0; r < n_r; r++)
		for (int64_t c = 0; c < n_c; c++)
			x[r * n_c + c] *= mask[r];
}

void of3_cpu_transpose_pair(float *y, const float *x, int64_t n_i, int64_t n_j, int64_t n_c)
{
	for (int64_t i = 0; i < n_i; i++)
		for (int64_t j = 0; j < n_j; j++)
			for (int64_t c = 0; c < n_c; c++)
				y[(j * n_i + i) * n_c + c] = x[(i * n_j + j) * n_c + c];
}

void of3_cpu_tri_mul_gate(float *a, float *b, const float *p, const float *mask, int64_t n_r,
                          int64_t n_c)
{
	const int64_t n = n_r * n_c;
	for (int64_t r = 0; r < n_r; r++)
		for (int64_t c = 0; c < n_c; c++) {
			const int64_t i = r * n_c + c;
			/* each product rounded to float, as sigmoid_mul then mask_rows stored it */
			float ta = sigm(p[n + i]) * p[i], tb = sigm(p[3 * n + i]) * p[2 * n + i];
			a[i] = ta * mask[r];
			b[i] = tb * mask[r];
		}
}

void of3_cpu_swiglu_rows(float *y, const float *a, const float *b, const float *mask, int64_t n_r,
                         int64_t n_c)
{
	for (int64_t r = 0; r < n_r; r++)
		for (int64_t c = 0; c < n_c; c++) {
			const int64_t i = r * n_c + c;
			float t = a[i] * sigm(a[i]) * b[i];
			y[i] = mask ? t * mask[r] : t;
		}
}
