/* msa.cu: the two contractions over MSA rows and tokens on the GPU (spec/trunk.md §3.5), as
 * cuBLAS products with fp32 accumulation (pedantic fp32 in fp32 mode, bf16 operands in the
 * default mode; cuda_ops.h):
 *   outer product: M[(i,c),(j,e)] = Σ_s a[s,i,c] b[s,j,e], one product per chunk of row tokens,
 *     then permuted [i,c,j,e] -> [i,j,c,e] (the op's layout has j between c and e, which no
 *     product writes directly);
 *   pair-weighted average: per head h a batch over rows s of O_s = W_h V_s, whose row-major
 *     slices of v and o ([N,d] with leading dimension H*d) cuBLAS reads and writes in place. */
#include <limits.h>

#include "cuda_ops.h"

/* m[n_i, c_a, N, c_b] -> o[n_i, N, c_a, c_b] */
static __global__ void permute_kernel(float *o, const float *m, int64_t n_i, int64_t n_tok,
                                      int64_t c_a, int64_t c_b)
{
	OF3_FOR_EACH(e, n_i * n_tok * c_a * c_b)
	{
		int64_t f = e % c_b, rest = e / c_b;
		int64_t c = rest % c_a;
		rest /= c_a;
		int64_t j = rest % n_tok, i = rest / n_tok;
		o[e] = m[((i * c_a + c) * n_tok + j) * c_b + f];
	}
}

extern "C" void of3_cuda_outer_product(float *o, const float *a, const float *b, int64_t n_s,
                                       int64_t n_tok, int64_t i0, int64_t n_i, int64_t c_a,
                                       int64_t c_b)
{
	if (n_i <= 0 || n_tok <= 0 || c_a <= 0 || c_b <= 0)
		return;
	const int64_t row_bytes = c_a * n_tok * c_b * (int64_t)sizeof(float); /* one token i */
	int64_t n_chunk = (int64_t)of3_cuda_cur->chunk_bytes / row_bytes;
	n_chunk = n_chunk < 1 ? 1 : n_chunk > n_i ? n_i : n_chunk;
	if (n_tok * c_b > INT_MAX || n_chunk * c_a > INT_MAX || n_s > INT_MAX ||
	    n_tok * c_a > INT_MAX) {
		of3_cuda_fail("outer_product", "sizes too large for one cuBLAS call");
		return;
	}
	float *m = (float *)of3_cuda_scratch("outer_product", (size_t)(n_chunk * row_bytes));
	if (!m)
		return;
	const float one = 1.0f, zero = 0.0f;
	const int ld_b = (int)(n_tok * c_b), ld_a = (int)(n_tok * c_a);
	for (int64_t ic = 0; ic < n_i; ic += n_chunk) {
		int64_t ni = n_i - ic < n_chunk ? n_i - ic : n_chunk;
		/* column-major: M^T[(j,e),(i,c)] = B^T[(j,e),s] A[s,(i,c)] */
		if (of3_cuda_blas("outer_product",
		                  cublasGemmEx(of3_cuda_cur->cublas, CUBLAS_OP_N, CUBLAS_OP_T, ld_b,
		                               (int)(ni * c_a), (int)n_s, &one, b, CUDA_R_32F, ld_b,
		                               a + (i0 + ic) * c_a, CUDA_R_32F, ld_a, &zero, m,
		                               CUDA_R_32F, ld_b, of3_cuda_compute_f32(),
		                               CUBLAS_GEMM_DEFAULT)))
			return;
		OF3_LAUNCH_1D(permute, ni * n_tok * c_a * c_b, o + ic * n_tok * c_a * c_b, m, ni,
		              n_tok, c_a, c_b);
		if (of3_cuda_cur->err[0])
			return;
	}
}

extern "C" void of3_cuda_pair_weighted_avg(float *o, const float *w, const float *v, int64_t n_s,
                                           int64_t n_tok, int64_t n_head, int64_t d_head)
{
	if (n_s <= 0 || n_tok <= 0 || n_head <= 0 || d_head <= 0)
		return;
	const int64_t n = n_tok, hd = n_head * d_head;
	if (n > INT_MAX || hd > INT_MAX || n_s > INT_MAX) {
		of3_cuda_fail("pair_weighted_avg", "sizes too large for one cuBLAS call");
		return;
	}
	const float one = 1.0f, zero = 0.0f;
	for (int64_t h = 0; h < n_head; h++) {
		/* column-major: O_s^T[d,N] = V_s^T[d,N] W_h^T[N,N] (all views, no copies) */
		if (of3_cuda_blas("pair_weighted_avg",
		                  cublasGemmStridedBatchedEx(
		                          of3_cuda_cur->cublas, CUBLAS_OP_N, CUBLAS_OP_N,
		                          (int)d_head, (int)n, (int)n, &one, v + h * d_head,
		                          CUDA_R_32F, (int)hd, n * hd, w + h * n * n, CUDA_R_32F,
		                          (int)n, 0, &zero, o + h * d_head, CUDA_R_32F, (int)hd,
		                          n * hd, (int)n_s, of3_cuda_compute_f32(),
		                          CUBLAS_GEMM_DEFAULT)))
			return;
	}
}
