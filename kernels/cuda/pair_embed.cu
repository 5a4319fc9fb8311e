/* pair_embed.cu: the CUDA ops that build pair features from per-token and per-atom data
 * (kernels/ops.h: gather_rows, copy, outer_add, distance_onehot; spec/diffusion_heads.md §5.2,
 * §5.3, §5.5). Element-wise kernels, one thread per output element. */
#include "cuda_ops.h"

static __global__ void gather_rows_kernel(float *y, const float *x, const int32_t *idx, int64_t n_r,
                                          int64_t n_c)
{
	OF3_FOR_EACH(e, n_r * n_c)
	{
		int64_t r = e / n_c, c = e % n_c;
		y[e] = x[(int64_t)idx[r] * n_c + c];
	}
}

static __global__ void outer_add_kernel(float *z, const float *a, const float *b, int64_t n_i,
                                        int64_t n_j, int64_t n_c)
{
	OF3_FOR_EACH(e, n_i * n_j * n_c)
	{
		int64_t c = e % n_c, ij = e / n_c;
		int64_t i = ij / n_j, j = ij % n_j;
		/* (z + a) + b, the order of the reference's two additions */
		z[e] = (z[e] + a[i * n_c + c]) + b[j * n_c + c];
	}
}

/* d2 in double and the edges squared in float, as on the CPU, so the bins agree exactly */
static __global__ void distance_onehot_kernel(float *y, const float *x, int64_t n_tok, float first,
                                              float step, int64_t n_bin)
{
	OF3_FOR_EACH(e, n_tok * n_tok * n_bin)
	{
		int64_t k = e % n_bin, ij = e / n_bin;
		int64_t i = ij / n_tok, j = ij % n_tok;
		double d2 = 0;
		for (int c = 0; c < 3; c++) {
			double d = (double)x[i * 3 + c] - (double)x[j * 3 + c];
			d2 += d * d;
		}
		float lo = first + (float)k * step, hi = first + (float)(k + 1) * step;
		double lo2 = (double)(lo * lo);
		double hi2 = k + 1 < n_bin ? (double)(hi * hi) : 1e9;
		y[e] = d2 > lo2 && d2 < hi2 ? 1.0f : 0.0f;
	}
}

extern "C" void of3_cuda_gather_rows(float *y, const float *x, const int32_t *idx, int64_t n_r,
                                     int64_t n_c)
{
	OF3_LAUNCH_1D(gather_rows, n_r * n_c, y, x, idx, n_r, n_c);
}

extern "C" void of3_cuda_copy(float *y, const float *x, int64_t n)
{
	if (n <= 0)
		return;
	cudaError_t e = cudaMemcpyAsync(y, x, (size_t)n * sizeof *y, cudaMemcpyDeviceToDevice,
	                                of3_cuda_cur->stream);
	if (e != cudaSuccess)
		of3_cuda_fail("copy", "%s", cudaGetErrorString(e));
}

extern "C" void of3_cuda_outer_add(float *z, const float *a, const float *b, int64_t n_i,
                                   int64_t n_j, int64_t n_c)
{
	OF3_LAUNCH_1D(outer_add, n_i * n_j * n_c, z, a, b, n_i, n_j, n_c);
}

extern "C" void of3_cuda_distance_onehot(float *y, const float *x, int64_t n_tok, float first,
                                         float step, int64_t n_bin)
{
	OF3_LAUNCH_1D(distance_onehot, n_tok * n_tok * n_bin, y, x, n_tok, first, step, n_bin);
}
