/* norm.c: LayerNorm over the last dimension on the CPU (spec/trunk.md §0: biased variance,
 * eps 1e-5, optional weight and bias). Mean and variance are summed in double and the variance
 * is taken around the mean (two passes), as torch does, so rows with a large offset keep their
 * precision. */
#include <math.h>

#include "cpu_ops.h"

void of3_cpu_layer_norm(float *y, const float *x, const float *w, const float *b, int64_t n_r,
                        int64_t n_c, float eps)
{
	for (int64_t r = 0; r < n_r; r++) {
		const float *xr = x + r * n_c;
		float *yr = y + r * n_c;
		double mean = 0, var = 0;
		for (int64_t c = 0; c < n_c; c++)
			mean += xr[c];
		mean /= (double)n_c;
		for (int64_t c = 0; c < n_c; c++) {
			double d = xr[c] - mean;
			var += d * d;
		}
		var /= (double)n_c;
		double inv = 1.0 / sqrt(var + eps);
		for (int64_t c = 0; c < n_c; c++) {
			double v = (xr[c] - mean) * inv;
			if (w)
				v *= w[c];
			if (b)
				v += b[c];
			yr[c] = (float)v;
		}
	}
}

void of3_cpu_layer_norm_t(float *y, const float *x, const float *w, const float *b, int64_t n_i,
                          int64_t n_j, int64_t n_c, float eps)
{
	for (int64_t i = 0; i < n_i; i++)
		for (int64_t j = 0; j < n_j; j++)
			of3_cpu_layer_norm(y + (j * n_i + i) * n_c, x + (i * n_j + j) * n_c, w, b,
			                   1, n_c, eps);
}
