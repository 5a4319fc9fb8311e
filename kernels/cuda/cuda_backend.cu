/* cuda_backend.cu: device selection, the backend's stream and its cuBLAS handle.
 * Every CUDA and cuBLAS call goes through CUDA_TRY, which records statement, file:line and the
 * error text (STYLE.md 13). */
#include "cuda_backend.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
	int device;
	cudaStream_t stream;
	cublasHandle_t cublas;
} cuda_state_t;

#define CUDA_TRY(call)                                                                    \
	do {                                                                              \
		cudaError_t e_ = (call);                                                  \
		if (e_ != cudaSuccess) {                                                  \
			snprintf(why, why_len, "%s failed at %s:%d: %s", #call, __FILE__, \
			         __LINE__, cudaGetErrorString(e_));                       \
			goto fail;                                                        \
		}                                                                         \
	} while (0)

extern "C" int of3_cuda_open(int index, void **state, char *desc, size_t desc_len, char *why,
                             size_t why_len)
{
	cuda_state_t *s = (cuda_state_t *)calloc(1, sizeof *s);
	int n = 0;
	cudaDeviceProp prop;
	cublasStatus_t st;
	if (!s) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
		snprintf(why, why_len, "no CUDA device is visible");
		free(s);
		return -1;
	}
	if (index >= n) {
		snprintf(why, why_len, "there are %d CUDA devices (0..%d)", n, n - 1);
		free(s);
		return -1;
	}
	CUDA_TRY(cudaSetDevice(index));
	CUDA_TRY(cudaGetDeviceProperties(&prop, index));
	CUDA_TRY(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
	st = cublasCreate(&s->cublas);
	if (st != CUBLAS_STATUS_SUCCESS) {
		snprintf(why, why_len, "cublasCreate failed: %s", cublasGetStatusString(st));
		goto fail;
	}
	cublasSetStream(s->cublas, s->stream);
	s->device = index;
	snprintf(desc, desc_len, "cuda:%d %s, %.1f GiB, sm_%d%d", index, prop.name,
	         (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), prop.major, prop.minor);
	*state = s;
	return 0;
fail:
	if (s->stream)
		cudaStreamDestroy(s->stream);
	free(s);
	return -1;
}

extern "C" void of3_cuda_close(void *state)
{
	cuda_state_t *s = (cuda_state_t *)state;
	if (!s)
		return;
	cublasDestroy(s->cublas);
	cudaStreamDestroy(s->stream);
	free(s);
}

extern "C" const char *of3_cuda_built(void)
{
	static char buf[256];
	int rt = 0;
	cudaRuntimeGetVersion(&rt);
	snprintf(buf, sizeof buf, "built with CUDA %d.%d for %s; runtime %d.%d, cuBLAS %d.%d",
	         CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10, OF3_CUDA_ARCHS, rt / 1000,
	         rt % 1000 / 10, CUBLAS_VER_MAJOR, CUBLAS_VER_MINOR);
	return buf;
}
