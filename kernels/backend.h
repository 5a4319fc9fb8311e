/* backend.h: choosing where the model runs: the CPU reference backend or a CUDA GPU.
 *
 * The op interface that model layers call (ops.h) hangs off this struct as `ops`, beside the
 * device that was opened and its description. Only of3-trunk and of3-diffuse link
 * the kernels library. */
#ifndef OF3_BACKEND_H
#define OF3_BACKEND_H

#include <stddef.h>

#include "../common/cli.h"
#include "../common/error.h"
#include "ops.h"

typedef enum { OF3_BACKEND_CPU, OF3_BACKEND_CUDA } of3_backend_kind_t;

typedef struct {
	of3_backend_kind_t kind;
	int device;     /* CUDA device index */
	int threads;    /* CPU threads */
	char desc[160]; /* "cpu, 16 threads" or "cuda:0 NVIDIA H100 80GB HBM3, 79.2 GiB, sm_90" */
	void *cuda;     /* CUDA backend state (stream, cuBLAS handle) */
	of3_precision_t precision; /* what the CUDA products use; the CPU is always fp32 */
	/* the op table layers call (ops.h); NULL as opened on CUDA: of3-trunk and of3-diffuse take
	 * of3_ops_cuda() themselves (a program that has not been ported cannot run there by
	 * accident) */
	const of3_ops_t *ops;
} of3_backend_t;

/* Opens "auto" (the CPU here: of3-trunk and of3-diffuse try "cuda" first themselves and fall
 * back to this), "cpu", "cuda" (device 0) or "cuda:N". threads 0 means all cores. Asking for CUDA
 * where there is none is OF3_ERR_RUNTIME with a message saying why. */
int of3_backend_open(of3_backend_t *be, const char *device, int threads) OF3_WUR;
void of3_backend_close(of3_backend_t *be);
/* cuBLAS loads its kernels lazily, tens of ms for the first product of each kind. warmup
 * starts a thread that makes the first products of the shapes program `who` uses (its model's,
 * at the backend's precision: set it first) on resources of its own, so that they are loaded
 * while the program reads its checkpoint; warmup_wait waits for that thread, before a long
 * loop whose launches its loading would hold up. Both do nothing on the CPU backend or with
 * OF3_CUDA_WARMUP=0. */
#define OF3_WARMUP_TRUNK   1
#define OF3_WARMUP_DIFFUSE 2
void of3_backend_warmup(of3_backend_t *be, int who);
void of3_backend_warmup_wait(of3_backend_t *be);

/* For a program whose work is done and written: on a GPU backend, flushes the stdio streams and
 * ends the process with status at once (_exit), leaving the CUDA context, its memory and the
 * loaded kernels to the driver's cleanup at exit instead of tearing them down one by one (about
 * 0.1 s a process that nothing waits for). Returns on the CPU backend, or with OF3_QUICK_EXIT=0,
 * for the usual frees and close. */
void of3_backend_quick_exit(of3_backend_t *be, int status);

/* The products' precision on CUDA (OF3_PRECISION_BF16, the default set by open: bf16 tensor
 * cores with fp32 accumulation; OF3_PRECISION_FP32: plain fp32, TF32 off, the parity mode). The
 * CPU computes in fp32 whatever is set. Set it before queueing ops. */
void of3_backend_set_precision(of3_backend_t *be, of3_precision_t precision);

/* Memory where the backend computes (device memory on CUDA, host memory on the CPU), for the
 * buffers ops work on. alloc returns NULL with the message recorded (OF3_ERR_NOMEM) when it
 * cannot be had; free accepts NULL and waits for queued ops that may still use the buffer. */
void *of3_backend_alloc(of3_backend_t *be, size_t n_bytes);
void of3_backend_free(of3_backend_t *be, void *p);

/* Host memory for the large buffers that are copied to or from backend memory: results to
 * download (of3-trunk's outputs), staging for uploads and downloads (the weights, of3-diffuse's
 * logits). On CUDA it is page-locked (cudaMallocHost): the GPU copies it directly, several
 * times faster than pageable memory and without page faults during the copy, and only from it
 * do asynchronous copies overlap host work; when the driver cannot lock that much it is
 * pageable memory (same results, slower copies; -v says so). Page-locked memory comes out of
 * the machine's RAM whole and cannot be swapped: use it for what is copied, not for host work
 * areas. On the CPU it is plain malloc'ed memory. host_alloc returns NULL with the message
 * recorded (OF3_ERR_NOMEM) when none can be had; host_free accepts NULL, waits for queued copies
 * that may still use the buffer, and is the only free for host_alloc'ed memory. */
void *of3_backend_host_alloc(of3_backend_t *be, size_t n_bytes);
void of3_backend_host_free(of3_backend_t *be, void *p);

/* Copies n_bytes from host memory into backend memory (upload) or back (download), after every
 * op queued before; both return when the copy is done, or OF3_ERR_RUNTIME with the failure of an
 * earlier op or of the copy. */
int of3_backend_upload(of3_backend_t *be, void *dst, const void *src, size_t n_bytes) OF3_WUR;
int of3_backend_download(of3_backend_t *be, void *dst, const void *src, size_t n_bytes) OF3_WUR;

/* Copies that overlap host work (double-buffered staging): upload_async and download_async
 * queue the copy of n_bytes behind every op queued before and return at once, remembering it
 * under slot (0 .. OF3_BACKEND_COPY_SLOTS - 1); copy_wait returns once the last copy queued
 * under that slot is done (at once when there is none). The host memory must stay unchanged
 * (upload) or unread (download) until then, and should be of3_backend_host_alloc'ed: CUDA
 * copies pageable memory before returning. On the CPU the copy is made at once. All three
 * return OF3_OK or OF3_ERR_RUNTIME with the copy's failure; a failure of an earlier op is left
 * to the next sync. */
#define OF3_BACKEND_COPY_SLOTS 2
int of3_backend_upload_async(of3_backend_t *be, void *dst, const void *src, size_t n_bytes,
                             int slot) OF3_WUR;
int of3_backend_download_async(of3_backend_t *be, void *dst, const void *src, size_t n_bytes,
                               int slot) OF3_WUR;
int of3_backend_copy_wait(of3_backend_t *be, int slot) OF3_WUR;

/* Waits until every queued op is done: OF3_OK, or OF3_ERR_RUNTIME naming the first op that
 * failed since the last sync (ops cannot return errors; CUDA records them until here). */
int of3_backend_sync(of3_backend_t *be) OF3_WUR;

/* Memory the backend can still allocate and its total, in bytes: the device's free memory on
 * CUDA (cudaMemGetInfo), the machine's available and physical memory on the CPU. For estimates
 * made before a query allocates (issue #10); OF3_ERR_RUNTIME when it cannot be asked. */
int of3_backend_mem_info(of3_backend_t *be, size_t *free_bytes, size_t *total_bytes) OF3_WUR;

/* The backends compiled into this program, for --version ("backends: cpu, cuda (...)"). */
const char *of3_backends_built(void);

#endif
