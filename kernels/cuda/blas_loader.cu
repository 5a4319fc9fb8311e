/* blas_loader.cu: cuBLAS, loaded on a thread of its own while the CUDA context is made.
 *
 * Linked the usual way, libcublas costs every process 0.09 s before main (its loading and
 * initialisers; a program that only prints a line takes 0.09 s with -lcublas, 0.00 s without),
 * and then the CUDA context takes 0.2 s more. The programs are short, so instead nothing links
 * it: of3_blas_load_start opens it with dlopen on a thread right before the context is made,
 * of3_blas_load_finish waits for it and looks up the few entry points the backend calls. This
 * file defines those entry points under cuBLAS's own names (cublas_v2.h's), each forwarding to
 * the library's, so the ops call cuBLAS as they always did. Before a successful finish they
 * return CUBLAS_STATUS_NOT_INITIALIZED. */
#include "cuda_blas_loader.h"

#include <cublas_v2.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define STR_(x)   #x
#define STR(x)    STR_(x)
#define LIBCUBLAS "libcublas.so." STR(CUBLAS_VER_MAJOR)

static struct {
	pthread_t thread;
	int started;
	void *lib;
	char err[256];
	cublasStatus_t (*create)(cublasHandle_t *);
	cublasStatus_t (*destroy)(cublasHandle_t);
	cublasStatus_t (*set_stream)(cublasHandle_t, cudaStream_t);
	cublasStatus_t (*set_workspace)(cublasHandle_t, void *, size_t);
	cublasStatus_t (*set_math_mode)(cublasHandle_t, cublasMath_t);
	const char *(*status_string)(cublasStatus_t);
	cublasStatus_t (*gemm)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
	                       const void *, const void *, cudaDataType, int, const void *,
	                       cudaDataType, int, const void *, void *, cudaDataType, int,
	                       cublasComputeType_t, cublasGemmAlgo_t);
	cublasStatus_t (*gemm_batched)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int,
	                               int, int, const void *, const void *, cudaDataType, int,
	                               long long, const void *, cudaDataType, int, long long,
	                               const void *, void *, cudaDataType, int, long long, int,
	                               cublasComputeType_t, cublasGemmAlgo_t);
} blas;

static void *load(void *arg)
{
	(void)arg;
	blas.lib = dlopen(LIBCUBLAS, RTLD_NOW | RTLD_LOCAL);
	if (!blas.lib)
		snprintf(blas.err, sizeof blas.err, "cannot load %s: %s", LIBCUBLAS, dlerror());
	return NULL;
}

extern "C" void of3_blas_load_start(void)
{
	if (blas.started || blas.lib)
		return;
	blas.started = pthread_create(&blas.thread, NULL, load, NULL) == 0;
}

/* the library's function `name` into *fn, or the first missing name in blas.err */
static void find(void *fn, const char *name)
{
	void *p = dlsym(blas.lib, name);
	if (!p && !blas.err[0])
		snprintf(blas.err, sizeof blas.err, "%s has no %s", LIBCUBLAS, name);
	*(void **)fn = p;
}

extern "C" int of3_blas_load_finish(char *why, size_t why_len)
{
	if (blas.started) {
		pthread_join(blas.thread, NULL);
		blas.started = 0;
	} else if (!blas.lib && !blas.err[0]) {
		load(NULL); /* no thread could be started: load it here */
	}
	if (blas.lib && !blas.gemm_batched) {
		find(&blas.create, "cublasCreate_v2");
		find(&blas.destroy, "cublasDestroy_v2");
		find(&blas.set_stream, "cublasSetStream_v2");
		find(&blas.set_workspace, "cublasSetWorkspace_v2");
		find(&blas.set_math_mode, "cublasSetMathMode");
		find(&blas.status_string, "cublasGetStatusString");
		find(&blas.gemm, "cublasGemmEx");
		find(&blas.gemm_batched, "cublasGemmStridedBatchedEx");
	}
	if (blas.err[0]) {
		blas.gemm_batched = NULL;
		snprintf(why, why_len, "%s", blas.err);
		return -1;
	}
	return 0;
}

/* ---- cuBLAS's entry points the backend calls, forwarded ---- */

#define FORWARD(fn, ...) \
	return blas.gemm_batched ? blas.fn(__VA_ARGS__) : CUBLAS_STATUS_NOT_INITIALIZED

extern "C" {

cublasStatus_t CUBLASWINAPI cublasCreate_v2(cublasHandle_t *handle)
{
	FORWARD(create, handle);
}

cublasStatus_t CUBLASWINAPI cublasDestroy_v2(cublasHandle_t handle)
{
	FORWARD(destroy, handle);
}

cublasStatus_t CUBLASWINAPI cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream)
{
	FORWARD(set_stream, handle, stream);
}

cublasStatus_t CUBLASWINAPI cublasSetWorkspace_v2(cublasHandle_t handle, void *ws, size_t n)
{
	FORWARD(set_workspace, handle, ws, n);
}

cublasStatus_t CUBLASWINAPI cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)
{
	FORWARD(set_math_mode, handle, mode);
}

const char *CUBLASWINAPI cublasGetStatusString(cublasStatus_t status)
{
	return blas.status_string ? blas.status_string(status) : "cuBLAS is not loaded";
}

cublasStatus_t CUBLASWINAPI cublasGemmEx(cublasHandle_t h, cublasOperation_t ta,
                                         cublasOperation_t tb, int m, int n, int k,
                                         const void *alpha, const void *a, cudaDataType ta_,
                                         int lda, const void *b, cudaDataType tb_, int ldb,
                                         const void *beta, void *c, cudaDataType tc, int ldc,
                                         cublasComputeType_t ct, cublasGemmAlgo_t algo)
{
	FORWARD(gemm, h, ta, tb, m, n, k, alpha, a, ta_, lda, b, tb_, ldb, beta, c, tc, ldc, ct,
	        algo);
}

cublasStatus_t CUBLASWINAPI cublasGemmStridedBatchedEx(
        cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
        const void *alpha, const void *a, cudaDataType ta_, int lda, long long sa, const void *b,
        cudaDataType tb_, int ldb, long long sb, const void *beta, void *c, cudaDataType tc,
        int ldc, long long sc, int batch, cublasComputeType_t ct, cublasGemmAlgo_t algo)
{
	FORWARD(gemm_batched, h, ta, tb, m, n, k, alpha, a, ta_, lda, sa, b, tb_, ldb, sb, beta, c,
	        tc, ldc, sc, batch, ct, algo);
}

} /* extern "C" */
