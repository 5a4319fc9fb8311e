/* linear.cu: y = x W^T + b on the GPU through cuBLAS, W as torch stores it ([out, in]).
 * Precision (cuda_ops.h): fp32 mode is pedantic fp32, the parity mode; the default rounds x and W
 * to bf16 inside cuBLAS for the tensor cores and accumulates in fp32, output fp32. The bias is
 * written into y first and the product added on top (beta = 1): the CPU also starts each sum
 * from the bias. */
#include <cuda_bf16.h>
#include <limits.h>

#include "cuda_backend.h"
#include "cuda_ops.h"

/* The bf16 path (bf16 mode, registered weights): x is rounded to bf16 by our kernel and W comes
 * from the bf16 copy made once, so cuBLAS runs a plain bf16 product (fp32 accumulation and
 * output) instead of rounding both operands at every call: 25-40% less time per product at the
 * diffusion step's shapes on an H200 (docs/PERFORMANCE.md). Taken where the product outweighs
 * rounding x (wide inputs, or few rows); the trunk's long, narrow pair products keep the fp32
 * path. Both round to nearest even, so the bits agree with cuBLAS's own rounding. */
#define BF16_MIN_IN   384
#define BF16_MAX_ROWS 4096

static __global__ void to_bf16_kernel(__nv_bfloat16 *y, const float *x, int64_t n)
{
	OF3_FOR_EACH(i, n)
	y[i] = __float2bfloat16_rn(x[i]);
}

extern "C" int of3_cuda_weights_ready(void *state, const float *base, size_t n, char *why,
                                      size_t why_len)
{
	of3_cuda_ctx_t *s = (of3_cuda_ctx_t *)state;
	(void)why, (void)why_len;
	cudaStreamSynchronize(s->stream);
	cudaFree(s->w_bf16);
	s->w_bf16 = NULL, s->w_base = NULL, s->w_n = 0;
	if (s->fp32 || n == 0)
		return 0;
	if (cudaMalloc(&s->w_bf16, n * sizeof(__nv_bfloat16)) != cudaSuccess) {
		cudaGetLastError(); /* no room for the copy: linear keeps its fp32 path */
		s->w_bf16 = NULL;
		return 0;
	}
	to_bf16_kernel<<<of3_cuda_grid((int64_t)n, OF3_CUDA_THREADS), OF3_CUDA_THREADS, 0,
	                 s->stream>>>((__nv_bfloat16 *)s->w_bf16, base, (int64_t)n);
	if (of3_cuda_launched("weights to bf16"))
		return 0; /* recorded: the next sync reports it */
	s->w_base = base, s->w_n = n;
	return 0;
}

/* W's bf16 copy when W lies inside the registered weights, else NULL */
static const __nv_bfloat16 *bf16_weights(const float *w, int64_t n)
{
	const of3_cuda_ctx_t *s = of3_cuda_cur;
	if (!s->w_bf16 || w < s->w_base || w + n > s->w_base + s->w_n)
		return NULL;
	return (const __nv_bfloat16 *)s->w_bf16 + (w - s->w_base);
}

/* y[R,O] = b[O] broadcast over rows */
static __global__ void fill_rows_kernel(float *y, const float *b, int64_t n_r, int64_t n_c)
{
	OF3_FOR_EACH(i, n_r * n_c)
	y[i] = b[i % n_c];
}

extern "C" void of3_cuda_linear(float *y, const float *x, const float *w, const float *b,
                                int64_t n_r, int64_t n_in, int64_t n_out)
{
	if (n_r <= 0 || n_out <= 0)
		return;
	if (n_r > INT_MAX || n_in > INT_MAX || n_out > INT_MAX) {
		of3_cuda_fail("linear", "%lld x %lld x %lld is too large for one cuBLAS call",
		              (long long)n_r, (long long)n_in, (long long)n_out);
		return;
	}
	if (b)
		OF3_LAUNCH_1D(fill_rows, n_r * n_out, y, b, n_r, n_out);
	const float one = 1.0f, beta = b ? 1.0f : 0.0f;
	const int ld = n_in > 0 ? (int)n_in : 1; /* cuBLAS wants ld >= 1 even for I = 0 */
	const __nv_bfloat16 *wb =
	        of3_cuda_cur->fp32 || n_in <= 0 ? NULL : bf16_weights(w, n_out * n_in);
	if (wb && (n_in >= BF16_MIN_IN || n_r <= BF16_MAX_ROWS)) {
		__nv_bfloat16 *xb = (__nv_bfloat16 *)of3_cuda_scratch(
		        "linear", (size_t)(n_r * n_in) * sizeof(__nv_bfloat16));
		if (!xb)
			return;
		OF3_LAUNCH_1D(to_bf16, n_r * n_in, xb, x, n_r * n_in);
		of3_cuda_blas("linear",
		              cublasGemmEx(of3_cuda_cur->cublas, CUBLAS_OP_T, CUBLAS_OP_N,
		                           (int)n_out, (int)n_r, (int)n_in, &one, wb, CUDA_R_16BF,
		                           ld, xb, CUDA_R_16BF, ld, &beta, y, CUDA_R_32F,
		                           (int)n_out, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
		return;
	}
	/* column-major: y^T[O,R] = W[O,I] x^T[I,R], W^T being what cuBLAS sees of w */
	of3_cuda_blas("linear",
	              cublasGemmEx(of3_cuda_cur->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)n_out,
	                           (int)n_r, (int)n_in, &one, w, CUDA_R_32F, ld, x, CUDA_R_32F, ld,
	                           &beta, y, CUDA_R_32F, (int)n_out, of3_cuda_compute_f32(),
	                           CUBLAS_GEMM_DEFAULT));
}
