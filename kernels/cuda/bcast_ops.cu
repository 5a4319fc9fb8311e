/* bcast_ops.cu: the CUDA broadcast ops (kernels/ops.h, issue #10): what the diffusion step
 * launched once per sample (D = 5 launches of a few thousand elements each, far too little work
 * to fill the GPU) as one launch over all samples. Each computes the bits the ops it replaces
 * computed one after the other: the same float operations in the same order, with __fmul_rn /
 * __fadd_rn wherever a product meets a sum, so that the compiler cannot fuse them into an FMA
 * the separate kernels never had. adaln_apply_lp is adaln_apply whose kernel also stores the bf16
 * of each value it writes (bf16 mode), the product's operand ready for linear_stack_lpx. */
#include <cuda_bf16.h>
#include <limits.h>

#include "../atom_blocks.h"
#include "cuda_ops.h"

#define ROWS_PER_BLOCK 8 /* adaln_apply: one warp per row, as layer_norm */

static __global__ void add_bcast_kernel(float *y, const float *x, int64_t n, int64_t n_all)
{
	OF3_FOR_EACH(i, n_all)
	y[i] += x[i % n];
}

static __global__ void repeat_kernel(float *y, const float *x, int64_t n, int64_t n_all)
{
	OF3_FOR_EACH(i, n_all)
	y[i] = x[i % n];
}

static __global__ void mask_rows_rep_kernel(float *x, const float *mask, int64_t n_mask,
                                            int64_t n_r, int64_t n_c)
{
	OF3_FOR_EACH(i, n_r * n_c)
	x[i] *= mask[(i / n_c) % n_mask];
}

/* Row r of y (and of y_lp where not NULL) from row r of x, whose mean and 1/std are in hand:
 * the gate and the shift of row r % n_r on each normalised value, the elements threadIdx.x,
 * +step, ... y_lp (adaln_apply_lp in bf16 mode): the bf16 of each y as well, rounded as
 * to_bf16 rounds it. */
static __device__ __forceinline__ void adaln_row(float *y, __nv_bfloat16 *y_lp, const float *x,
                                                 const float *gate, const float *shift, int64_t r,
                                                 int64_t n_r, int64_t n_c, float mean, float inv,
                                                 int step)
{
	const float *xr = x + r * n_c;
	const float *gr = gate + (r % n_r) * n_c, *sr = shift + (r % n_r) * n_c;
	float *yr = y + r * n_c;
	for (int64_t c = threadIdx.x; c < n_c; c += step) {
		const float o = (xr[c] - mean) * inv;
		const float v = __fadd_rn(__fmul_rn(of3_sigmoid(gr[c]), o), sr[c]);
		yr[c] = v;
		if (y_lp)
			y_lp[r * n_c + c] = __float2bfloat16_rn(v);
	}
}

/* layer_norm_kernel without weight and bias (the same sums in the same order), then the gate
 * and the shift on the value in hand instead of a second and third pass through memory (a warp
 * per row). y may equal x: each lane reads its own elements in all passes before it writes
 * them. */
static __global__ void adaln_apply_kernel(float *y, __nv_bfloat16 *y_lp, const float *x,
                                          const float *gate, const float *shift, int64_t n_rows,
                                          int64_t n_r, int64_t n_c, float eps)
{
	int64_t r = (int64_t)blockIdx.x * ROWS_PER_BLOCK + threadIdx.y;
	if (r >= n_rows)
		return;
	float mean, inv;
	of3_row_moments(x + r * n_c, n_c, eps, &mean, &inv);
	adaln_row(y, y_lp, x, gate, shift, r, n_r, n_c, mean, inv, 32);
}

/* the same for rows of at least OF3_WIDE_ROW_MIN channels: a block per row */
static __global__ void adaln_apply_wide_kernel(float *y, __nv_bfloat16 *y_lp, const float *x,
                                               const float *gate, const float *shift, int64_t n_r,
                                               int64_t n_c, float eps)
{
	const int64_t r = blockIdx.x;
	float mean, inv;
	of3_row_moments_wide(x + r * n_c, n_c, eps, &mean, &inv);
	adaln_row(y, y_lp, x, gate, shift, r, n_r, n_c, mean, inv, OF3_WIDE_ROW_THREADS);
}

static __global__ void gated_residual_kernel(float *a, const float *g, const float *x,
                                             const float *mask, int64_t n, int64_t n_c,
                                             int64_t n_all)
{
	OF3_FOR_EACH(i, n_all)
	{
		const int64_t j = i % n;
		float t = __fmul_rn(of3_sigmoid(g[j]), x[i]);
		if (mask)
			t = __fmul_rn(t, mask[j / n_c]);
		a[i] = __fadd_rn(a[i], t);
	}
}

static __global__ void gather_rows_rep_kernel(float *y, const float *x, const int32_t *idx,
                                              int64_t n_r, int64_t n_x, int64_t n_c, int64_t n_all)
{
	OF3_FOR_EACH(e, n_all)
	{
		const int64_t c = e % n_c, dr = e / n_c, r = dr % n_r, d = dr / n_r;
		y[e] = x[(d * n_x + (int64_t)idx[r]) * n_c + c];
	}
}

/* atom_windows_kernel with the repeat as the slowest index */
static __global__ void atom_windows_rep_kernel(float *y, const float *x, int64_t n_atom,
                                               int64_t n_c, int64_t n_win, int64_t first,
                                               int64_t n_y, int64_t n_all)
{
	OF3_FOR_EACH(e, n_all)
	{
		const int64_t d = e / n_y, o = e % n_y;
		const int64_t c = o % n_c, bm = o / n_c;
		const int64_t b = bm / n_win, m = bm % n_win;
		const int64_t i = first + OF3_ATOM_NQ * b + m;
		y[e] = i >= 0 && i < n_atom ? x[(d * n_atom + i) * n_c + c] : 0.0f;
	}
}

extern "C" void of3_cuda_add_bcast(float *y, const float *x, int64_t n_rep, int64_t n)
{
	OF3_LAUNCH_1D(add_bcast, n_rep * n, y, x, n, n_rep * n);
}

extern "C" void of3_cuda_repeat(float *y, const float *x, int64_t n_rep, int64_t n)
{
	OF3_LAUNCH_1D(repeat, n_rep * n, y, x, n, n_rep * n);
}

extern "C" void of3_cuda_mask_rows_rep(float *x, const float *mask, int64_t n_mask, int64_t n_r,
                                       int64_t n_c)
{
	OF3_LAUNCH_1D(mask_rows_rep, n_r * n_c, x, mask, n_mask, n_r, n_c);
}

/* adaln_apply, and with y_lp (not NULL) adaln_apply_lp's bf16 copy from the same launch */
static void adaln_launch(const char *op, float *y, __nv_bfloat16 *y_lp, const float *x,
                         const float *gate, const float *shift, int64_t n_rep, int64_t n_r,
                         int64_t n_c, float eps)
{
	const int64_t n_rows = n_rep * n_r;
	if (n_rows <= 0 || n_c <= 0)
		return;
	if (n_c >= OF3_WIDE_ROW_MIN && n_rows <= INT_MAX) {
		adaln_apply_wide_kernel<<<(unsigned)n_rows, OF3_WIDE_ROW_THREADS, 0,
		                          of3_cuda_cur->stream>>>(y, y_lp, x, gate, shift, n_r, n_c,
		                                                  eps);
		of3_cuda_launched(op);
		return;
	}
	dim3 block(32, ROWS_PER_BLOCK);
	adaln_apply_kernel<<<(unsigned)((n_rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK), block, 0,
	                     of3_cuda_cur->stream>>>(y, y_lp, x, gate, shift, n_rows, n_r, n_c,
	                                             eps);
	of3_cuda_launched(op);
}

extern "C" void of3_cuda_adaln_apply(float *y, const float *x, const float *gate,
                                     const float *shift, int64_t n_rep, int64_t n_r, int64_t n_c,
                                     float eps)
{
	adaln_launch("adaln_apply", y, NULL, x, gate, shift, n_rep, n_r, n_c, eps);
}

extern "C" void of3_cuda_adaln_apply_lp(float *y, void *y_lp, const float *x, const float *gate,
                                        const float *shift, int64_t n_rep, int64_t n_r, int64_t n_c,
                                        float eps)
{
	/* fp32 mode: linear_stack_lpx rounds nothing, so no copy (y_lp untouched) */
	adaln_launch("adaln_apply_lp", y, of3_cuda_cur->fp32 ? NULL : (__nv_bfloat16 *)y_lp, x,
	             gate, shift, n_rep, n_r, n_c, eps);
}

extern "C" void of3_cuda_gated_residual(float *a, const float *g, const float *x, const float *mask,
                                        int64_t n_rep, int64_t n_r, int64_t n_c)
{
	OF3_LAUNCH_1D(gated_residual, n_rep * n_r * n_c, a, g, x, mask, n_r * n_c, n_c,
	              n_rep * n_r * n_c);
}

extern "C" void of3_cuda_gather_rows_rep(float *y, const float *x, const int32_t *idx,
                                         int64_t n_rep, int64_t n_r, int64_t n_x, int64_t n_c)
{
	OF3_LAUNCH_1D(gather_rows_rep, n_rep * n_r * n_c, y, x, idx, n_r, n_x, n_c,
	              n_rep * n_r * n_c);
}

extern "C" void of3_cuda_atom_windows_rep(float *y, const float *x, int64_t n_rep, int64_t n_atom,
                                          int64_t n_c, int64_t n_win, int64_t first)
{
	const int64_t n_y = of3_atom_n_block(n_atom) * n_win * n_c;
	OF3_LAUNCH_1D(atom_windows_rep, n_rep * n_y, y, x, n_atom, n_c, n_win, first, n_y,
	              n_rep * n_y);
}
