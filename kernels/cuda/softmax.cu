/* softmax.cu: masked softmax over the last dimension on the GPU. The mask enters as the additive
 * bias INF*(mask - 1) of spec/trunk.md §0, added in float as the CPU and the reference do (and
 * written back into x like the CPU, which the next pass then reads), so a fully masked row
 * becomes uniform rather than NaN. One warp per row, fp32 sums in a fixed shuffle order. */
#include <math.h>

extern "C" {
#include "../ops.h"
}
#include "cuda_ops.h"

#define ROWS_PER_BLOCK 8

static __global__ void softmax_kernel(float *x, const float *mask, int64_t n_mask_rows, int64_t n_r,
                                      int64_t n_k)
{
	int64_t r = (int64_t)blockIdx.x * ROWS_PER_BLOCK + threadIdx.y;
	if (r >= n_r)
		return;
	float *xr = x + r * n_k;
	const float *mr = mask ? mask + (r % n_mask_rows) * n_k : NULL;
	float mx = -INFINITY;
	for (int64_t k = threadIdx.x; k < n_k; k += 32) {
		float v = xr[k];
		if (mr) {
			v += OF3_MASK_INF * (mr[k] - 1.0f);
			xr[k] = v;
		}
		mx = fmaxf(mx, v);
	}
	for (int o = 16; o > 0; o >>= 1)
		mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
	float sum = 0;
	for (int64_t k = threadIdx.x; k < n_k; k += 32)
		sum += expf(xr[k] - mx);
	for (int o = 16; o > 0; o >>= 1)
		sum += __shfl_xor_sync(0xffffffffu, sum, o);
	for (int64_t k = threadIdx.x; k < n_k; k += 32)
		xr[k] = expf(xr[k] - mx) / sum;
}

extern "C" void of3_cuda_softmax(float *x, const float *mask, int64_t n_mask_rows, int64_t n_r,
                                 int64_t n_k)
{
	if (n_r <= 0 || n_k <= 0)
		return;
	dim3 block(32, ROWS_PER_BLOCK);
	softmax_kernel<<<(unsigned)((n_r + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK), block, 0,
	                 of3_cuda_cur->stream>>>(x, mask, n_mask_rows, n_r, n_k);
	of3_cuda_launched("softmax");
}
