/* norm.cu: LayerNorm over the last dimension on the GPU (spec/trunk.md §0: biased variance, eps,
 * optional weight and bias). One warp per row; the mean, then the variance around it (two passes,
 * as the CPU and torch do, so rows with a large offset keep their precision), summed in fp32 with
 * a fixed shuffle tree so that results are the same on every run; rows of OF3_WIDE_ROW_MIN
 * channels or more get a block each. layer_norm_t writes each row to its place in the transposed
 * pair tensor. */
#include <limits.h>

extern "C" {
#include "../ops.h"
}
#include "cuda_ops.h"

#define ROWS_PER_BLOCK 8

/* yr = (xr - mean) * inv, then *w and +b where given: the elements threadIdx.x, +step, ... */
static __device__ __forceinline__ void normalize_row(float *yr, const float *xr, const float *w,
                                                     const float *b, float mean, float inv,
                                                     int64_t n_c, int step)
{
	for (int64_t c = threadIdx.x; c < n_c; c += step) {
		float o = (xr[c] - mean) * inv;
		if (w)
			o *= w[c];
		if (b)
			o += b[c];
		yr[c] = o;
	}
}

/* x[R,C] -> y[R,C]; y may equal x: each lane reads its own elements in all passes before it
 * writes them. TRANSPOSED: x[I,J,C] -> y[J,I,C] (R = I*J), row (i,j) written to row (j,i). */
template <bool TRANSPOSED>
static __global__ void layer_norm_kernel(float *y, const float *x, const float *w, const float *b,
                                         int64_t n_r, int64_t n_c, float eps, int64_t n_i,
                                         int64_t n_j)
{
	int64_t r = (int64_t)blockIdx.x * ROWS_PER_BLOCK + threadIdx.y;
	if (r >= n_r)
		return;
	const float *xr = x + r * n_c;
	float *yr = y + (TRANSPOSED ? (r % n_j) * n_i + r / n_j : r) * n_c;
	float mean, inv;
	of3_row_moments(xr, n_c, eps, &mean, &inv);
	normalize_row(yr, xr, w, b, mean, inv, n_c, 32);
}

/* the same for rows of at least OF3_WIDE_ROW_MIN channels: a block per row. y may equal x, as
 * above: each thread reads its own elements in all passes before it writes them. */
static __global__ void layer_norm_wide_kernel(float *y, const float *x, const float *w,
                                              const float *b, int64_t n_c, float eps)
{
	const int64_t r = blockIdx.x;
	const float *xr = x + r * n_c;
	float *yr = y + r * n_c;
	float mean, inv;
	of3_row_moments_wide(xr, n_c, eps, &mean, &inv);
	normalize_row(yr, xr, w, b, mean, inv, n_c, OF3_WIDE_ROW_THREADS);
}

extern "C" void of3_cuda_layer_norm(float *y, const float *x, const float *w, const float *b,
                                    int64_t n_r, int64_t n_c, float eps)
{
	if (n_r <= 0 || n_c <= 0)
		return;
	if (n_c >= OF3_WIDE_ROW_MIN && n_r <= INT_MAX) {
		layer_norm_wide_kernel<<<(unsigned)n_r, OF3_WIDE_ROW_THREADS, 0,
		                         of3_cuda_cur->stream>>>(y, x, w, b, n_c, eps);
		of3_cuda_launched("layer_norm");
		return;
	}
	dim3 block(32, ROWS_PER_BLOCK);
	layer_norm_kernel<false><<<(unsigned)((n_r + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK), block,
	                           0, of3_cuda_cur->stream>>>(y, x, w, b, n_r, n_c, eps, 0, 0);
	of3_cuda_launched("layer_norm");
}

extern "C" void of3_cuda_layer_norm_t(float *y, const float *x, const float *w, const float *b,
                                      int64_t n_i, int64_t n_j, int64_t n_c, float eps)
{
	const int64_t n_r = n_i * n_j;
	if (n_r <= 0 || n_c <= 0)
		return;
	dim3 block(32, ROWS_PER_BLOCK);
	layer_norm_kernel<true><<<(unsigned)((n_r + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK), block, 0,
	                          of3_cuda_cur->stream>>>(y, x, w, b, n_r, n_c, eps, n_i, n_j);
	of3_cuda_launched("layer_norm_t");
}
