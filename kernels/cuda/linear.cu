/* linear.cu: y = x W^T + b on the GPU through cuBLAS, W as torch stores it ([out, in]).
 * Precision (cuda_ops.h): fp32 mode is pedantic fp32, the parity mode; the default rounds x and W
 * to bf16 inside cuBLAS for the tensor cores and accumulates in fp32, output fp32. The bias is
 * written into y first and the product added on top (beta = 1): the CPU also starts each sum
 * from the bias. linear_acc adds the product into y the same way; linear_acc_t does it for the
 * transposed pair tensor as one product per row token, through the leading dimensions.
 * linear_stack_lp takes its operands in bf16 itself (bf16 mode): the weights from the caller's
 * to_bf16 copy, x rounded into scratch (or, linear_stack_lpx, the bf16 copy its producer wrote:
 * adaln_apply_lp, swiglu_lp), CUDA_R_16BF products with fp32 sums (CUBLAS_COMPUTE_32F);
 * at the token transformer's shapes these run 1.7-2.9x faster than fp32 operands with
 * CUBLAS_COMPUTE_32F_FAST_16BF, which cuBLAS took as TF32 kernels. */
#include <cuda_bf16.h>
#include <limits.h>

#include "cuda_ops.h"

/* y[R,O] = b[O] broadcast over rows */
static __global__ void fill_rows_kernel(float *y, const float *b, int64_t n_r, int64_t n_c)
{
	OF3_FOR_EACH(i, n_r * n_c)
	y[i] = b[i % n_c];
}

/* Whether a product of R rows, I inputs and O outputs fits one cuBLAS call (int sizes); if
 * not, op's failure is recorded. */
static int product_fits(const char *op, int64_t n_r, int64_t n_in, int64_t n_out)
{
	if (n_r <= INT_MAX && n_in <= INT_MAX && n_out <= INT_MAX)
		return 1;
	of3_cuda_fail(op, "%lld x %lld x %lld is too large for one cuBLAS call", (long long)n_r,
	              (long long)n_in, (long long)n_out);
	return 0;
}

/* y[R,O] = x[R,I] W^T + beta y, W[O,I]: linear's product (beta 0, or 1 on its bias rows) and
 * linear_acc's (beta 1 on y itself) */
static void product(const char *op, float *y, const float *x, const float *w, int64_t n_r,
                    int64_t n_in, int64_t n_out, float beta)
{
	const float one = 1.0f;
	const int ld = n_in > 0 ? (int)n_in : 1; /* cuBLAS wants ld >= 1 even for I = 0 */
	/* column-major: y^T[O,R] = W[O,I] x^T[I,R], W^T being what cuBLAS sees of w */
	of3_cuda_blas(op, cublasGemmEx(of3_cuda_cur->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)n_out,
	                               (int)n_r, (int)n_in, &one, w, CUDA_R_32F, ld, x, CUDA_R_32F,
	                               ld, &beta, y, CUDA_R_32F, (int)n_out, of3_cuda_compute_f32(),
	                               CUBLAS_GEMM_DEFAULT));
}

extern "C" void of3_cuda_linear(float *y, const float *x, const float *w, const float *b,
                                int64_t n_r, int64_t n_in, int64_t n_out)
{
	if (n_r <= 0 || n_out <= 0 || !product_fits("linear", n_r, n_in, n_out))
		return;
	if (b)
		OF3_LAUNCH_1D(fill_rows, n_r * n_out, y, b, n_r, n_out);
	product("linear", y, x, w, n_r, n_in, n_out, b ? 1.0f : 0.0f);
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
	/* as linear with beta = 1 on y itself: cuBLAS adds its fp32 product to y, rounding as
	 * linear then add do */
	if (n_r > 0 && n_out > 0 && product_fits("linear_acc", n_r, n_in, n_out))
		product("linear_acc", y, x, w, n_r, n_in, n_out, 1.0f);
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

static __global__ void to_bf16_kernel(__nv_bfloat16 *y, const float *x, int64_t n)
{
	OF3_FOR_EACH(i, n)
	y[i] = __float2bfloat16_rn(x[i]);
}

extern "C" void of3_cuda_to_bf16(void *y, const float *x, int64_t n)
{
	OF3_LAUNCH_1D(to_bf16, n, (__nv_bfloat16 *)y, x, n);
}

/* y[t,n] = bf16 of x[t * x_stride + i] for t < T, i < n: T slices packed */
static __global__ void to_bf16_slices_kernel(__nv_bfloat16 *y, const float *x, int64_t x_stride,
                                             int64_t n_slice, int64_t n)
{
	OF3_FOR_EACH(i, n_slice * n)
	y[i] = __float2bfloat16_rn(x[i / n * x_stride + i % n]);
}

/* linear_stack_lp, and linear_stack_lpx with x_lp (not NULL): x's bf16 copy made by its
 * producer, which in bf16 mode saves the conversion launch and the scratch */
static void linear_stack_lp_run(float *y, const float *x, const void *x_lp, int64_t x_stride,
                                const float *w, const void *w_lp, const float *b, int64_t n_stack,
                                int64_t n_r, int64_t n_in, int64_t n_out)
{
	if (of3_cuda_cur->fp32 || !w_lp || n_in <= 0) {
		/* fp32 mode: the op it stands for, a single product as linear (its bits unchanged);
		 * I = 0 has no operand to round; x_lp unused (fp32 mode: never written) */
		if (n_stack == 1)
			of3_cuda_linear(y, x, w, b, n_r, n_in, n_out);
		else
			of3_cuda_linear_stack(y, x, x_stride, w, b, n_stack, n_r, n_in, n_out);
		return;
	}
	if (n_stack <= 0 || n_r <= 0 || n_out <= 0)
		return;
	if (n_stack > INT_MAX || n_r > INT_MAX || n_in > INT_MAX || n_out > INT_MAX) {
		of3_cuda_fail(
		        "linear_stack_lp", "%lld x %lld x %lld x %lld is too large for one call",
		        (long long)n_stack, (long long)n_r, (long long)n_in, (long long)n_out);
		return;
	}
	/* x in bf16: the producer's copy (slices as x's, x_stride apart), or rounded into the
	 * scratch here, one [R,I] shared by the T problems (x_stride 0), else the T slices packed
	 * R*I apart */
	const int64_t nx = n_r * n_in;
	const __nv_bfloat16 *xb = (const __nv_bfloat16 *)x_lp;
	long long xb_stride = (long long)x_stride;
	if (!xb) {
		const int64_t n_slice = x_stride ? n_stack : 1;
		__nv_bfloat16 *s = (__nv_bfloat16 *)of3_cuda_scratch(
		        "linear_stack_lp", (size_t)(n_slice * nx) * sizeof(__nv_bfloat16));
		if (!s)
			return;
		OF3_LAUNCH_1D(to_bf16_slices, n_slice * nx, s, x, x_stride, n_slice, nx);
		xb = s;
		xb_stride = x_stride ? (long long)nx : 0LL;
	}
	if (b)
		OF3_LAUNCH_1D(fill_stack_rows, n_stack * n_r * n_out, y, b, n_stack, n_r, n_out);
	const float one = 1.0f, beta = b ? 1.0f : 0.0f;
	/* as linear_stack, problem t at w_lp + t*O*I, xb + t*xb_stride, y + t*R*O; fp32 sums
	 * (CUBLAS_COMPUTE_32F: with bf16 operands it runs them on the tensor cores) */
	of3_cuda_blas("linear_stack_lp",
	              cublasGemmStridedBatchedEx(
	                      of3_cuda_cur->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)n_out, (int)n_r,
	                      (int)n_in, &one, w_lp, CUDA_R_16BF, (int)n_in,
	                      (long long)(n_out * n_in), xb, CUDA_R_16BF, (int)n_in, xb_stride,
	                      &beta, y, CUDA_R_32F, (int)n_out, (long long)(n_r * n_out),
	                      (int)n_stack, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

extern "C" void of3_cuda_linear_stack_lp(float *y, const float *x, int64_t x_stride, const float *w,
                                         const void *w_lp, const float *b, int64_t n_stack,
                                         int64_t n_r, int64_t n_in, int64_t n_out)
{
	linear_stack_lp_run(y, x, NULL, x_stride, w, w_lp, b, n_stack, n_r, n_in, n_out);
}

extern "C" void of3_cuda_linear_stack_lpx(float *y, const float *x, const void *x_lp,
                                          int64_t x_stride, const float *w, const void *w_lp,
                                          const float *b, int64_t n_stack, int64_t n_r,
                                          int64_t n_in, int64_t n_out)
{
	linear_stack_lp_run(y, x, x_lp, x_stride, w, w_lp, b, n_stack, n_r, n_in, n_out);
}
