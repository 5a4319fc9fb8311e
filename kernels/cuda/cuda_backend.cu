/* cuda_backend.cu: device selection, the backend's stream, its cuBLAS handle, device memory, and
 * the sticky error and scratch the ops share (cuda_ops.h).
 * Every CUDA and cuBLAS call goes through CUDA_TRY (or, inside ops, of3_cuda_launched and
 * of3_cuda_blas), which records statement or op, file:line and the error text (STYLE.md 13). */
#include "cuda_backend.h"
#include "cuda_blas_loader.h"
#include "cuda_ops.h"
#include "cuda_warmup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

of3_cuda_ctx_t *of3_cuda_cur;

/* What of3_cuda_open allocates: the context the ops share (cuda_ops.h) first, so that the
 * state handed out is that context, then what only this file uses. */
typedef struct {
	of3_cuda_ctx_t ctx;
	cudaEvent_t copy_done[OF3_CUDA_COPY_SLOTS]; /* of3_cuda_copy_async's slots */
} backend_state_t;

static backend_state_t *state_of(void *state)
{
	return (backend_state_t *)state; /* ctx is the first member */
}

#define CUDA_TRY(call)                                                                    \
	do {                                                                              \
		cudaError_t e_ = (call);                                                  \
		if (e_ != cudaSuccess) {                                                  \
			snprintf(why, why_len, "%s failed at %s:%d: %s", #call, __FILE__, \
			         __LINE__, cudaGetErrorString(e_));                       \
			goto fail;                                                        \
		}                                                                         \
	} while (0)

void of3_cuda_fail(const char *op, const char *fmt, ...)
{
	of3_cuda_ctx_t *s = of3_cuda_cur;
	if (!s || s->err[0])
		return;
	int n = snprintf(s->err, sizeof s->err, "%s: ", op);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err + n, sizeof s->err - (size_t)n, fmt, ap);
	va_end(ap);
}

int of3_cuda_launched(const char *op)
{
	of3_cuda_profile_mark(op);
	cudaError_t e = cudaGetLastError();
	if (e == cudaSuccess)
		return 0;
	of3_cuda_fail(op, "kernel launch failed: %s", cudaGetErrorString(e));
	return -1;
}

int of3_cuda_blas(const char *op, cublasStatus_t st)
{
	of3_cuda_profile_mark(op);
	if (st == CUBLAS_STATUS_SUCCESS)
		return 0;
	of3_cuda_fail(op, "cuBLAS: %s", cublasGetStatusString(st));
	return -1;
}

void *of3_cuda_scratch(const char *op, size_t n_bytes)
{
	of3_cuda_ctx_t *s = of3_cuda_cur;
	if (s->err[0])
		return NULL; /* an earlier op failed: queue nothing more until the sync reports it
		              */
	if (n_bytes <= s->ws_bytes)
		return s->ws;
	/* the old scratch may still be read by queued work */
	cudaError_t e = cudaStreamSynchronize(s->stream);
	if (e == cudaSuccess) {
		cudaFree(s->ws);
		s->ws = NULL;
		s->ws_bytes = 0;
		e = cudaMalloc(&s->ws, n_bytes);
	}
	if (e != cudaSuccess) {
		of3_cuda_fail(op, "%.1f MiB of GPU scratch: %s", (double)n_bytes / (1 << 20),
		              cudaGetErrorString(e));
		s->ws = NULL;
		return NULL;
	}
	s->ws_bytes = n_bytes;
	return s->ws;
}

extern "C" int of3_cuda_open(int index, void **state, char *desc, size_t desc_len, char *why,
                             size_t why_len)
{
	backend_state_t *bs = (backend_state_t *)calloc(1, sizeof *bs);
	of3_cuda_ctx_t *s = bs ? &bs->ctx : NULL;
	int n = 0;
	cudaDeviceProp prop;
	cublasStatus_t st;
	if (!s) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
		snprintf(why, why_len, "no CUDA device is visible");
		free(bs);
		return -1;
	}
	if (index >= n) {
		snprintf(why, why_len, "there are %d CUDA devices (0..%d)", n, n - 1);
		free(bs);
		return -1;
	}
	/* libcuda is in now (cudaGetDeviceCount): cuBLAS loads on a thread while the context is
	 * made, which the loader lock would otherwise hold up */
	of3_blas_load_start();
	CUDA_TRY(cudaSetDevice(index));
	CUDA_TRY(cudaGetDeviceProperties(&prop, index));
	CUDA_TRY(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
	for (int i = 0; i < OF3_CUDA_COPY_SLOTS; i++)
		CUDA_TRY(cudaEventCreateWithFlags(&bs->copy_done[i], cudaEventDisableTiming));
	if (of3_blas_load_finish(why, why_len) < 0)
		goto fail;
	st = cublasCreate(&s->cublas);
	if (st != CUBLAS_STATUS_SUCCESS) {
		snprintf(why, why_len, "cublasCreate failed: %s", cublasGetStatusString(st));
		goto fail;
	}
	cublasSetStream(s->cublas, s->stream);
	/* TF32 only where a call asks for it; the fp32 path asks for pedantic fp32 anyway */
	cublasSetMathMode(s->cublas, CUBLAS_DEFAULT_MATH);
	/* a workspace of our own from the start: the same one with and without CUDA graphs, and
	 * nothing for cuBLAS to allocate while a graph is being recorded */
	CUDA_TRY(cudaMalloc(&s->blas_ws, OF3_CUDA_BLAS_WS_BYTES));
	st = cublasSetWorkspace(s->cublas, s->blas_ws, OF3_CUDA_BLAS_WS_BYTES);
	if (st != CUBLAS_STATUS_SUCCESS) {
		snprintf(why, why_len, "cublasSetWorkspace failed: %s", cublasGetStatusString(st));
		goto fail;
	}
	s->device = index;
	s->chunk_bytes = OF3_CUDA_CHUNK_BYTES;
	snprintf(desc, desc_len, "cuda:%d %s, %.1f GiB, sm_%d%d", index, prop.name,
	         (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), prop.major, prop.minor);
	*state = s;
	of3_cuda_cur = s;
	return 0;
fail:
	if (s->cublas)
		cublasDestroy(s->cublas);
	cudaFree(s->blas_ws);
	for (int i = 0; i < OF3_CUDA_COPY_SLOTS; i++)
		if (bs->copy_done[i])
			cudaEventDestroy(bs->copy_done[i]);
	if (s->stream)
		cudaStreamDestroy(s->stream);
	free(bs);
	return -1;
}

extern "C" void of3_cuda_close(void *state)
{
	of3_cuda_ctx_t *s = (of3_cuda_ctx_t *)state;
	if (!s)
		return;
	cudaStreamSynchronize(s->stream);
	of3_cuda_warmup_join(1);
	of3_cuda_profile_report();
	cudaFree(s->ws);
	cublasDestroy(s->cublas);
	cudaFree(s->blas_ws);
	for (int i = 0; i < OF3_CUDA_COPY_SLOTS; i++)
		cudaEventDestroy(state_of(state)->copy_done[i]);
	cudaStreamDestroy(s->stream);
	if (of3_cuda_cur == s)
		of3_cuda_cur = NULL;
	free(state_of(state));
}

extern "C" void of3_cuda_set_fp32(void *state, int fp32)
{
	((of3_cuda_ctx_t *)state)->fp32 = fp32;
}

extern "C" void of3_cuda_set_chunk_bytes(void *state, size_t n_bytes)
{
	((of3_cuda_ctx_t *)state)->chunk_bytes = n_bytes ? n_bytes : OF3_CUDA_CHUNK_BYTES;
}

extern "C" int of3_cuda_alloc(void *state, void **p, size_t n_bytes, char *why, size_t why_len)
{
	(void)state;
	*p = NULL;
	CUDA_TRY(cudaMalloc(p, n_bytes ? n_bytes : 1));
	return 0;
fail:
	*p = NULL;
	return -1;
}

extern "C" void of3_cuda_free(void *state, void *p)
{
	of3_cuda_ctx_t *s = (of3_cuda_ctx_t *)state;
	if (!p)
		return;
	/* queued ops may still read it */
	cudaStreamSynchronize(s->stream);
	cudaFree(p);
}

extern "C" int of3_cuda_memcpy(void *state, void *dst, const void *src, size_t n_bytes,
                               int to_device, char *why, size_t why_len)
{
	of3_cuda_ctx_t *s = (of3_cuda_ctx_t *)state;
	CUDA_TRY(cudaMemcpyAsync(dst, src, n_bytes,
	                         to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost,
	                         s->stream));
	of3_cuda_profile_mark(to_device ? "(upload)" : "(download)");
	return of3_cuda_sync(state, why, why_len);
fail:
	return -1;
}

extern "C" int of3_cuda_copy_async(void *state, void *dst, const void *src, size_t n_bytes,
                                   int to_device, int slot, char *why, size_t why_len)
{
	backend_state_t *bs = state_of(state);
	if (slot < 0 || slot >= OF3_CUDA_COPY_SLOTS) {
		snprintf(why, why_len, "copy slot %d (0..%d)", slot, OF3_CUDA_COPY_SLOTS - 1);
		return -1;
	}
	CUDA_TRY(cudaMemcpyAsync(dst, src, n_bytes,
	                         to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost,
	                         bs->ctx.stream));
	CUDA_TRY(cudaEventRecord(bs->copy_done[slot], bs->ctx.stream));
	of3_cuda_profile_mark(to_device ? "(upload)" : "(download)");
	return 0;
fail:
	return -1;
}

extern "C" int of3_cuda_copy_wait(void *state, int slot, char *why, size_t why_len)
{
	if (slot < 0 || slot >= OF3_CUDA_COPY_SLOTS) {
		snprintf(why, why_len, "copy slot %d (0..%d)", slot, OF3_CUDA_COPY_SLOTS - 1);
		return -1;
	}
	CUDA_TRY(cudaEventSynchronize(state_of(state)->copy_done[slot]));
	return 0;
fail:
	return -1;
}

extern "C" int of3_cuda_host_alloc(void *state, void **p, size_t n_bytes, char *why, size_t why_len)
{
	(void)state;
	*p = NULL;
	CUDA_TRY(cudaMallocHost(p, n_bytes ? n_bytes : 1));
	return 0;
fail:
	*p = NULL;
	cudaGetLastError(); /* a refused allocation is no op's failure: leave nothing for one */
	return -1;
}

extern "C" int of3_cuda_host_free(void *state, void *p)
{
	of3_cuda_ctx_t *s = (of3_cuda_ctx_t *)state;
	cudaPointerAttributes a;
	if (!p)
		return 0;
	if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
		cudaGetLastError(); /* memory CUDA does not know: not its to free */
		return 0;
	}
	/* of3_backend_host_alloc falls back to pageable memory when none can be locked */
	if (a.type != cudaMemoryTypeHost)
		return 0;
	/* queued copies may still use it */
	cudaStreamSynchronize(s->stream);
	cudaFreeHost(p);
	return 1;
}

extern "C" int of3_cuda_sync(void *state, char *why, size_t why_len)
{
	of3_cuda_ctx_t *s = (of3_cuda_ctx_t *)state;
	CUDA_TRY(cudaStreamSynchronize(s->stream));
	of3_cuda_profile_mark("(sync)");
	if (s->err[0]) {
		snprintf(why, why_len, "%s", s->err);
		s->err[0] = '\0';
		return -1;
	}
	return 0;
fail:
	return -1;
}

extern "C" int of3_cuda_mem_info(void *state, size_t *free_bytes, size_t *total_bytes, char *why,
                                 size_t why_len)
{
	/* OF3_CUDA_FREE_MIB=N: report at most N MiB free, so that the tests can see the programs'
	 * refusal of a query that does not fit without a query that large (tests/gpu/) */
	const char *cap = getenv("OF3_CUDA_FREE_MIB");
	(void)state;
	CUDA_TRY(cudaMemGetInfo(free_bytes, total_bytes));
	if (cap && *cap) {
		const size_t b = (size_t)strtoull(cap, NULL, 10) << 20;
		if (b < *free_bytes)
			*free_bytes = b;
	}
	return 0;
fail:
	return -1;
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
