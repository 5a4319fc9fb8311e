/* pointwise.c: the CPU's ReLU and divisions: by a scalar (the template average over its T
 * slots, spec/trunk.md §3.3.5) and row by row with an epsilon (the outer product mean's
 * normalisation, §3.5.1). Divisions stay divisions so that the numbers match PyTorch's. */
#include "cpu_ops.h"

void of3_cpu_relu(float *y, const float *x, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = x[i] > 0 ? x[i] : 0.0f;
}

void of3_cpu_div_scalar(float *y, const float *x, float d, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = x[i] / d;
}

void of3_cpu_div_rows(float *x, const float *den, float eps, int64_t n_r, int64_t n_c)
{
	for (int64_t r = 0; r < n_r; r++) {
		const float d = den[r] + eps;
		for (int64_t c = 0; c < n_c; c++)
			x[r * n_c + c] /= d;
	}
}
