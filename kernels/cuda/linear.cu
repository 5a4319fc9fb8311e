/* linear.cu: y = x W^T + b on the GPU through cuBLAS, W as torch stores it ([out, in]).
 * Precision (cuda_ops.h): fp32 mode is pedantic fp32, the parity mode; the default rounds x and W
 * to bf16 inside cuBLAS for the tensor cores and accumulates in fp32, output fp32. The bias is
 * written into y first and the product added on top (beta = 1): the CPU also starts each sum
 * from the bias. linear_acc adds the product into y the same way; linear_acc_t does it for the
 * transposed pair tensor as one product per row token, through the leading dimensions. */
#include <limits.h>

#include "cuda_ops.h"

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
	/* column-major: y^T[O,R] = W[O,I] x^T[I,R], W^T being what cuBLAS sees of w */
	of3_cuda_blas("linear",
	              cublasGemmEx(of3_cuda_cur->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)n_out,
	                           (int)n_r, (int)n_in, &one, w, CUDA_R_32F, ld, x, CUDA_R_32F, ld,
	                           &beta, y, CUDA_R_32F, (int)n_out, of3_cuda_compute_f32(),
	                           CUBLAS_GEMM_DEFAULT));
}

/* y[t,R,O] = b[t,O] broadcast over rows */
static __global__ void fill_stack_rows_kernel(float *y, const float *b, int64_t n_stack,
                                              int64_t n_r, int64_t n_c)
{
	OF3_FOR_EACH(i, n_stack * n_r * n_c)
	y[i] = b[i / (n_r * n_c) * n_c + i % n_c];
}

extern "C" void of3_cuda_linear_stack(float *y, const float *x, int64_t x_stride, const float *w,
                                      const float *b, int64_t n_stack, int64_t n_r, int64_t n_in,
                                      int64_t n_out)
{
	if (n_stack <= 0 || n_r <= 0 || n_out <= 0)
		return;
	if (n_stack > INT_MAX || n_r > INT_MAX || n_in > INT_MAX || n_out > INT_MAX) {
		of3_cuda_fail("linear_stack", "%lld x %lld x %lld x %lld is too large for one call",
		              (long long)n_stack, (long long)n_r, (long long)n_in,
		              (long long)n_out);
		return;
	}
	if (b)
		OF3_LAUNCH_1D(fill_stack_rows, n_stack * n_r * n_out, y, b, n_stack, n_r, n_out);
	const float one = 1.0f, beta = b ? 1.0f : 0.0f;
	const int ld = n_in > 0 ? (int)n_in : 1;
	/* as linear, problem t at W + t*O*I, x + t*x_stride, y + t*R*O */
	of3_cuda_blas("linear_stack",
	              cublasGemmStridedBatchedEx(
	                      of3_cuda_cur->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)n_out, (int)n_r,
	                      (int)n_in, &one, w, CUDA_R_32F, ld, (long long)(n_out * n_in), x,
	                      CUDA_R_32F, ld, (long long)x_stride, &beta, y, CUDA_R_32F, (int)n_out,
	                      (long long)(n_r * n_out), (int)n_stack, of3_cuda_compute_f32(),
	                      CUBLAS_GEMM_DEFAULT));
}

extern "C" void of3_cuda_linear_acc(float *y, const float *x, const float *w, int64_t n_r,
                                    int64_t n_in, int64_t n_out)
{
	if (n_r <= 0 || n_out <= 0)
		return;
	if (n_r > INT_MAX || n_in > INT_MAX || n_out > INT_MAX) {
		of3_cuda_fail("linear_acc", "%lld x %lld x %lld is too large for one cuBLAS call",
		              (long long)n_r, (long long)n_in, (long long)n_out);
		return;
	}
	/* as linear with beta = 1 on y itself: cuBLAS adds its fp32 product to y, rounding as
	 * linear then add do */
	const float one = 1.0f;
	const int ld = n_in > 0 ? (int)n_in : 1;
	of3_cuda_blas("linear_acc",
	              cublasGemmEx(of3_cuda_cur->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)n_out,
	                           (int)n_r, (int)n_in, &one, w, CUDA_R_32F, ld, x, CUDA_R_32F, ld,
	                           &one, y, CUDA_R_32F, (int)n_out, of3_cuda_compute_f32(),
	                           CUBLAS_GEMM_DEFAULT));
}

extern "C" void of3_cuda_linear_acc_t(float *y, const float *x, const float *w, int64_t n_i,
                                      int64_t n_j, int64_t n_in, int64_t n_out)
{
	if (n_i <= 0 || n_j <= 0 || n_in <= 0 || n_out <= 0)
		return; /* nothing to add */
	if (n_i * n_in > INT_MAX || n_j > INT_MAX || n_out > INT_MAX) {
		of3_cuda_fail("linear_acc_t", "%lld x %lld x %lld x %lld is too large for one call",
		              (long long)n_i, (long long)n_j, (long long)n_in, (long long)n_out);
		return;
	}
	/* one problem per row token i: y[i,:,:] (contiguous [J,O]) += x[:,i,:] W^T, whose rows
	 * x[j,i,:] lie I*In floats apart (ld), the next problem's In floats on */
	const float one = 1.0f;
	of3_cuda_blas("linear_acc_t",
	              cublasGemmStridedBatchedEx(
	                      of3_cuda_cur->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)n_out, (int)n_j,
	                      (int)n_in, &one, w, CUDA_R_32F, (int)n_in, 0LL, x, CUDA_R_32F,
	                      (int)(n_i * n_in), (long long)n_in, &one, y, CUDA_R_32F, (int)n_out,
	                      (long long)(n_j * n_out), (int)n_i, of3_cuda_compute_f32(),
	                      CUBLAS_GEMM_DEFAULT));
}
