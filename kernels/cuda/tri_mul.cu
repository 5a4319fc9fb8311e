/* tri_mul.cu: the triangle multiplicative contraction on the GPU (spec/trunk.md §3.6.1, AF3
 * Alg. 12/13) as batched matrix products over the hidden channels: per channel c,
 *   outgoing: P_c = A_c B_c^T      incoming: P_c = A_c^T B_c           (A_c[i,k] = a[i,k,c])
 * cuBLAS needs unit stride along one matrix axis, which channels-last [N,N,h] lacks, so channel
 * chunks are transposed into [c,N,N] scratch (bf16 in the default mode, which is also the
 * operand rounding; fp32 in fp32 mode), multiplied by cublasGemmStridedBatchedEx with fp32
 * accumulation, and transposed back into p. Chunks keep the scratch under 256 MiB
 * (OF3_CUDA_CHUNK_BYTES). */
#include <cuda_bf16.h>

#include "cuda_ops.h"

#define TILE 32

template <typename T> static __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v)
{
	return v;
}
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v)
{
	return __float2bfloat16_rn(v);
}

/* dst[c, r] = src[r, c] for r < n_rows, c < n_cols, with leading dimensions ld_src, ld_dst, through
 * a padded shared tile so that both the read and the write are coalesced. Tiles are numbered in
 * one grid dimension, columns fastest (either side may exceed 65535 tiles). */
template <typename T>
static __global__ void transpose_kernel(T *dst, int64_t ld_dst, const float *src, int64_t ld_src,
                                        int64_t n_rows, int64_t n_cols, int64_t n_tile_c)
{
	__shared__ float tile[TILE][TILE + 1];
	const int64_t r0 = (int64_t)(blockIdx.x / n_tile_c) * TILE;
	const int64_t c0 = (int64_t)(blockIdx.x % n_tile_c) * TILE;
	for (int y = threadIdx.y; y < TILE; y += blockDim.y) {
		int64_t r = r0 + y, c = c0 + threadIdx.x;
		if (r < n_rows && c < n_cols)
			tile[y][threadIdx.x] = src[r * ld_src + c];
	}
	__syncthreads();
	for (int y = threadIdx.y; y < TILE; y += blockDim.y) {
		int64_t c = c0 + y, r = r0 + threadIdx.x;
		if (r < n_rows && c < n_cols)
			dst[c * ld_dst + r] = from_float<T>(tile[threadIdx.x][y]);
	}
}

template <typename T>
static int transpose(T *dst, int64_t ld_dst, const float *src, int64_t ld_src, int64_t n_rows,
                     int64_t n_cols)
{
	int64_t n_tile_r = (n_rows + TILE - 1) / TILE, n_tile_c = (n_cols + TILE - 1) / TILE;
	transpose_kernel<T>
	        <<<(unsigned)(n_tile_r * n_tile_c), dim3(TILE, 8), 0, of3_cuda_cur->stream>>>(
	                dst, ld_dst, src, ld_src, n_rows, n_cols, n_tile_c);
	return of3_cuda_launched("tri_mul");
}

template <typename T>
static void tri_mul(float *p, const float *a, const float *b, int64_t n, int64_t n_h, int incoming,
                    cudaDataType_t t_in, cublasComputeType_t compute)
{
	const int64_t nn = n * n;
	const size_t per_c = (size_t)nn * (2 * sizeof(T) + sizeof(float));
	int64_t n_cc = (int64_t)(of3_cuda_cur->chunk_bytes / per_c);
	n_cc = n_cc < 1 ? 1 : n_cc > n_h ? n_h : n_cc;
	char *ws = (char *)of3_cuda_scratch("tri_mul", per_c * (size_t)n_cc);
	if (!ws)
		return;
	T *at = (T *)ws, *bt = at + n_cc * nn;
	float *pt = (float *)(bt + n_cc * nn);
	const float one = 1.0f, zero = 0.0f;
	for (int64_t c0 = 0; c0 < n_h; c0 += n_cc) {
		int64_t cc = n_h - c0 < n_cc ? n_h - c0 : n_cc;
		if (transpose<T>(at, nn, a + c0, n_h, nn, cc) ||
		    transpose<T>(bt, nn, b + c0, n_h, nn, cc))
			return;
		/* Row-major [N,N] matrices are their column-major transposes, so cuBLAS computes
		 * P_c^T: outgoing B_c A_c^T = (bt)^T-view times at, incoming B_c^T A_c. */
		if (of3_cuda_blas(
		            "tri_mul",
		            cublasGemmStridedBatchedEx(
		                    of3_cuda_cur->cublas, incoming ? CUBLAS_OP_N : CUBLAS_OP_T,
		                    incoming ? CUBLAS_OP_T : CUBLAS_OP_N, (int)n, (int)n, (int)n,
		                    &one, bt, t_in, (int)n, nn, at, t_in, (int)n, nn, &zero, pt,
		                    CUDA_R_32F, (int)n, nn, (int)cc, compute, CUBLAS_GEMM_DEFAULT)))
			return;
		if (transpose<float>(p + c0, n_h, pt, nn, cc, nn))
			return;
	}
}

extern "C" void of3_cuda_tri_mul(float *p, const float *a, const float *b, int64_t n_tok,
                                 int64_t n_h, int incoming)
{
	if (n_tok <= 0 || n_h <= 0)
		return;
	if (n_tok * n_tok > INT32_MAX) {
		of3_cuda_fail("tri_mul", "%lld tokens are too many", (long long)n_tok);
		return;
	}
	if (of3_cuda_cur->fp32)
		tri_mul<float>(p, a, b, n_tok, n_h, incoming, CUDA_R_32F,
		               CUBLAS_COMPUTE_32F_PEDANTIC);
	else
		tri_mul<__nv_bfloat16>(p, a, b, n_tok, n_h, incoming, CUDA_R_16BF,
		                       CUBLAS_COMPUTE_32F);
}
