/* backend.h: choosing where the model runs: the CPU reference backend or a CUDA GPU.
 *
 * The op interface that model layers call (ops.h) hangs off this struct as `ops`, beside the
 * device that was opened and its description. Only of3-trunk and of3-diffuse link
 * the kernels library. */
#ifndef OF3_BACKEND_H
#define OF3_BACKEND_H

#include "../common/error.h"
#include "ops.h"

typedef enum { OF3_BACKEND_CPU, OF3_BACKEND_CUDA } of3_backend_kind_t;

typedef struct {
	of3_backend_kind_t kind;
	int device;     /* CUDA device index */
	int threads;    /* CPU threads */
	char desc[160]; /* "cpu, 16 threads" or "cuda:0 NVIDIA H100 80GB HBM3, 79.2 GiB, sm_90" */
	void *cuda;     /* CUDA backend state (stream, cuBLAS handle) */
	/* the op table layers call (ops.h); NULL on CUDA until its ops exist */
	const of3_ops_t *ops;
} of3_backend_t;

/* Opens "auto" (a GPU if this build has CUDA, one is present and the CUDA backend has its op
 * table, else the CPU; until issue #10 that is always the CPU), "cpu", "cuda"
 * (device 0) or "cuda:N". threads 0 means all cores. Asking for CUDA where there is none is
 * OF3_ERR_RUNTIME with a message saying why. */
int of3_backend_open(of3_backend_t *be, const char *device, int threads) OF3_WUR;
void of3_backend_close(of3_backend_t *be);

/* The backends compiled into this program, for --version ("backends: cpu, cuda (...)"). */
const char *of3_backends_built(void);

#endif
