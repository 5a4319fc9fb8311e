/* linear.c: y = x W^T + b on the CPU, W as torch stores it ([out, in]). Each dot product is a
 * contiguous row of x against a contiguous row of W, summed in double: the reference, not the
 * fast path (the CUDA backend uses cuBLAS). linear_acc is the same
 * product added into y. */
#include "cpu_ops.h"

void of3_cpu_linear(float *y, const float *x, const float *w, const float *b, int64_t n_r,
                    int64_t n_in, int64_t n_out)
{
	for (int64_t r = 0; r < n_r; r++) {
		const float *xr = x + r * n_in;
		float *yr = y + r * n_out;
		for (int64_t o = 0; o < n_out; o++) {
			const float *wo = w + o * n_in;
			double acc = b ? b[o] : 0.0;
			for (int64_t i = 0; i < n_in; i++)
				acc += (double)xr[i] * wo[i];
			yr[o] = (float)acc;
		}
	}
}

void of3_cpu_linear_acc(float *y, const float *x, const float *w, int64_t n_r, int64_t n_in,
                        int64_t n_out)
{
	for (int64_t r = 0; r < n_r; r++) {
		const float *xr = x + r * n_in;
		float *yr = y + r * n_out;
		for (int64_t o = 0; o < n_out; o++) {
			const float *wo = w + o * n_in;
			double acc = 0.0;
			for (int64_t i = 0; i < n_in; i++)
				acc += (double)xr[i] * wo[i];
			/* rounded before the add, as linear then add stored it */
			yr[o] += (float)acc;
		}
	}
}

void of3_cpu_linear_acc_t(float *y, const float *x, const float *w, int64_t n_i, int64_t n_j,
                          int64_t n_in, int64_t n_out)
{
	for (int64_t i = 0; i < n_i; i++)
		for (int64_t j = 0; j < n_j; j++)
			of3_cpu_linear_acc(y + (i * n_j + j) * n_out, x + (j * n_i + i) * n_in, w,
			                   1, n_in, n_out);
}
