/* linear.c: y = x W^T + b on the CPU, W as torch stores it ([out, in]). Each dot product is a
 * contiguous row of x against a contiguous row of W, summed in double: the reference, not the
 * fast path (the CUDA backend uses cuBLAS). linear_acc is the same
 * product added into y. to_bf16 makes the bf16 weight copies linear_stack_lp takes; the CPU's
 * linear_stack_lp ignores them and is linear_stack (the reference stays fp32), and so is
 * linear_stack_lpx, whose x_lp the CPU's producers never write. */
#include <string.h>

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

void of3_cpu_to_bf16(void *y, const float *x, int64_t n)
{
	uint16_t *o = y;
	for (int64_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &x[i], sizeof u);
		if ((u & 0x7fffffffu) > 0x7f800000u) {
			o[i] = 0x7fff; /* a NaN: the canonical one, as CUDA's conversion gives */
			continue;
		}
		/* round to nearest even on the 16 bits dropped: add 0x7fff plus the kept lowest
		 * bit, the carry running into the exponent where it must (to infinity past the
		 * largest finite bf16) */
		u += 0x7fffu + ((u >> 16) & 1u);
		o[i] = (uint16_t)(u >> 16);
	}
}

void of3_cpu_linear_stack_lp(float *y, const float *x, int64_t x_stride, const float *w,
                             const void *w_lp, const float *b, int64_t n_stack, int64_t n_r,
                             int64_t n_in, int64_t n_out)
{
	(void)w_lp; /* the reference keeps fp32 operands */
	of3_cpu_linear_stack(y, x, x_stride, w, b, n_stack, n_r, n_in, n_out);
}

void of3_cpu_linear_stack_lpx(float *y, const float *x, const void *x_lp, int64_t x_stride,
                              const float *w, const void *w_lp, const float *b, int64_t n_stack,
                              int64_t n_r, int64_t n_in, int64_t n_out)
{
	(void)x_lp, (void)w_lp; /* fp32 operands: x_lp was never written here */
	of3_cpu_linear_stack(y, x, x_stride, w, b, n_stack, n_r, n_in, n_out);
}
