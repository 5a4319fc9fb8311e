/* elementwise.cu: the CUDA pointwise ops: sigmoid, products, residual add, SwiGLU's silu(a)*b
 * (spec/trunk.md §3.0.1), row masks and the pair-tensor transpose, and the fused pair-block
 * gates (tri_mul_gate, swiglu_rows); swiglu_lp also stores each output's bf16 (bf16 mode), the
 * operand of the product that follows. Memory-bound grid-stride loops; the sigmoid is
 * 1/(1+expf(-x)) with the accurate expf (no fast-math), within an ulp or two of the CPU's
 * double-precision one. */
#include <cuda_bf16.h>

#include "cuda_ops.h"

static __global__ void sigmoid_kernel(float *y, const float *x, int64_t n)
{
	OF3_FOR_EACH(i, n)
	y[i] = of3_sigmoid(x[i]);
}

static __global__ void mul_kernel(float *y, const float *a, const float *b, int64_t n)
{
	OF3_FOR_EACH(i, n)
	y[i] = a[i] * b[i];
}

static __global__ void add_kernel(float *y, const float *x, int64_t n)
{
	OF3_FOR_EACH(i, n)
	y[i] += x[i];
}

/* y_lp (swiglu_lp in bf16 mode; else NULL): the bf16 of each y as well, as to_bf16 rounds it */
static __global__ void swiglu_kernel(float *y, __nv_bfloat16 *y_lp, const float *a, const float *b,
                                     int64_t n)
{
	/* a*σ(a) first, then *b: the CPU's order */
	OF3_FOR_EACH(i, n)
	{
		float ai = a[i];
		const float v = ai * of3_sigmoid(ai) * b[i];
		y[i] = v;
		if (y_lp)
			y_lp[i] = __float2bfloat16_rn(v);
	}
}

static __global__ void sigmoid_mul_kernel(float *y, const float *g, const float *x, int64_t n)
{
	OF3_FOR_EACH(i, n)
	y[i] = of3_sigmoid(g[i]) * x[i];
}

static __global__ void mask_rows_kernel(float *x, const float *mask, int64_t n_r, int64_t n_c)
{
	OF3_FOR_EACH(i, n_r * n_c)
	x[i] *= mask[i / n_c];
}

/* y[J,I,C] = x[I,J,C]: each thread one output element, so writes are coalesced along C (and
 * along I when C = 1, the mask case). */
static __global__ void transpose_pair_kernel(float *y, const float *x, int64_t n_i, int64_t n_j,
                                             int64_t n_c)
{
	OF3_FOR_EACH(o, n_i * n_j * n_c)
	{
		int64_t c = o % n_c, ji = o / n_c;
		int64_t i = ji % n_i, j = ji / n_i;
		y[o] = x[(i * n_j + j) * n_c + c];
	}
}

extern "C" void of3_cuda_sigmoid(float *y, const float *x, int64_t n)
{
	OF3_LAUNCH_1D(sigmoid, n, y, x, n);
}

extern "C" void of3_cuda_mul(float *y, const float *a, const float *b, int64_t n)
{
	OF3_LAUNCH_1D(mul, n, y, a, b, n);
}

extern "C" void of3_cuda_add(float *y, const float *x, int64_t n)
{
	OF3_LAUNCH_1D(add, n, y, x, n);
}

extern "C" void of3_cuda_swiglu(float *y, const float *a, const float *b, int64_t n)
{
	OF3_LAUNCH_1D(swiglu, n, y, (__nv_bfloat16 *)NULL, a, b, n);
}

extern "C" void of3_cuda_swiglu_lp(float *y, void *y_lp, const float *a, const float *b, int64_t n)
{
	/* fp32 mode: no copy (y_lp untouched), as adaln_apply_lp */
	__nv_bfloat16 *yb = of3_cuda_cur->fp32 ? NULL : (__nv_bfloat16 *)y_lp;
	OF3_LAUNCH_1D(swiglu, n, y, yb, a, b, n);
}

extern "C" void of3_cuda_sigmoid_mul(float *y, const float *g, const float *x, int64_t n)
{
	OF3_LAUNCH_1D(sigmoid_mul, n, y, g, x, n);
}

extern "C" void of3_cuda_mask_rows(float *x, const float *mask, int64_t n_r, int64_t n_c)
{
	OF3_LAUNCH_1D(mask_rows, n_r * n_c, x, mask, n_r, n_c);
}

extern "C" void of3_cuda_transpose_pair(float *y, const float *x, int64_t n_i, int64_t n_j,
                                        int64_t n_c)
{
	OF3_LAUNCH_1D(transpose_pair, n_i * n_j * n_c, y, x, n_i, n_j, n_c);
}

/* The fused pair-block ops (ops.h): each product rounded on its own (no contraction is
 * possible: there is no add), in the CPU's order. */
static __global__ void tri_mul_gate_kernel(float *a, float *b, const float *p, const float *mask,
                                           int64_t n_c, int64_t n)
{
	OF3_FOR_EACH(i, n)
	{
		const float m = mask[i / n_c];
		const float ta = of3_sigmoid(p[n + i]) * p[i];
		const float tb = of3_sigmoid(p[3 * n + i]) * p[2 * n + i];
		a[i] = ta * m;
		b[i] = tb * m;
	}
}

static __global__ void swiglu_rows_kernel(float *y, const float *a, const float *b,
                                          const float *mask, int64_t n_c, int64_t n)
{
	OF3_FOR_EACH(i, n)
	{
		const float ai = a[i], t = ai * of3_sigmoid(ai) * b[i];
		y[i] = mask ? t * mask[i / n_c] : t;
	}
}

extern "C" void of3_cuda_tri_mul_gate(float *a, float *b, const float *p, const float *mask,
                                      int64_t n_r, int64_t n_c)
{
	OF3_LAUNCH_1D(tri_mul_gate, n_r * n_c, a, b, p, mask, n_c, n_r * n_c);
}

extern "C" void of3_cuda_swiglu_rows(float *y, const float *a, const float *b, const float *mask,
                                     int64_t n_r, int64_t n_c)
{
	OF3_LAUNCH_1D(swiglu_rows, n_r * n_c, y, a, b, mask, n_c, n_r * n_c);
}
