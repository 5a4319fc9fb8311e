/* pointwise.cu: the CUDA ReLU and divisions: by a scalar (the template average) and row by row
 * with an epsilon (the outer product mean's normalisation, spec/trunk.md §3.5.1). Divisions stay
 * IEEE divisions (no fast-math) so that the numbers match the CPU's and PyTorch's. */
#include "cuda_ops.h"

static __global__ void relu_kernel(float *y, const float *x, int64_t n)
{
	OF3_FOR_EACH(i, n)
	y[i] = x[i] > 0 ? x[i] : 0.0f;
}

static __global__ void div_scalar_kernel(float *y, const float *x, float d, int64_t n)
{
	OF3_FOR_EACH(i, n)
	y[i] = x[i] / d;
}

static __global__ void div_rows_kernel(float *x, const float *den, float eps, int64_t n_r,
                                       int64_t n_c)
{
	OF3_FOR_EACH(i, n_r * n_c)
	x[i] /= den[i / n_c] + eps;
}

extern "C" void of3_cuda_relu(float *y, const float *x, int64_t n)
{
	OF3_LAUNCH_1D(relu, n, y, x, n);
}

extern "C" void of3_cuda_div_scalar(float *y, const float *x, float d, int64_t n)
{
	OF3_LAUNCH_1D(div_scalar, n, y, x, d, n);
}

extern "C" void of3_cuda_div_rows(float *x, const float *den, float eps, int64_t n_r, int64_t n_c)
{
	OF3_LAUNCH_1D(div_rows, n_r * n_c, x, den, eps, n_r, n_c);
}
