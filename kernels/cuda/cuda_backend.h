/* cuda_backend.h: the C-callable face of the CUDA backend (cuda_backend.cu, ops_table.cu). */
#ifndef OF3_CUDA_BACKEND_H
#define OF3_CUDA_BACKEND_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opens device `index`: a stream and a cuBLAS handle. Returns 0, or -1 with the reason in why.
 * desc receives "cuda:N <name>, <memory> GiB, sm_XY". One device per process: the op table
 * (of3_ops_cuda) works on the backend opened last, until it is closed. */
int of3_cuda_open(int index, void **state, char *desc, size_t desc_len, char *why, size_t why_len);
void of3_cuda_close(void *state);

/* 1: plain fp32 products with TF32 off (parity); 0: bf16 tensor-core products (default). */
void of3_cuda_set_fp32(void *state, int fp32);

/* The scratch tri_mul and outer_product work in, per chunk (0: the default, 256 MiB). The GPU
 * tests lower it so that small sizes take several chunks. */
void of3_cuda_set_chunk_bytes(void *state, size_t n_bytes);

/* Device memory and copies on the backend's stream. alloc returns 0 or -1 with why; upload and
 * download wait until the copy (and every op queued before it) is done. sync waits for the
 * queued ops and returns -1 with the first failure an op recorded since the last sync. */
int of3_cuda_alloc(void *state, void **p, size_t n_bytes, char *why, size_t why_len);
void of3_cuda_free(void *state, void *p);
int of3_cuda_memcpy(void *state, void *dst, const void *src, size_t n_bytes, int to_device,
                    char *why, size_t why_len);
int of3_cuda_sync(void *state, char *why, size_t why_len);
/* Copies under a slot (0 .. OF3_CUDA_COPY_SLOTS - 1): copy_async queues the copy on the
 * backend's stream and an event after it, and returns; copy_wait waits for that slot's last
 * event (at once when none was queued). 0, or -1 with why. */
#define OF3_CUDA_COPY_SLOTS 2
int of3_cuda_copy_async(void *state, void *dst, const void *src, size_t n_bytes, int to_device,
                        int slot, char *why, size_t why_len);
int of3_cuda_copy_wait(void *state, int slot, char *why, size_t why_len);
/* Page-locked host memory (cudaMallocHost): 0, or -1 with why. host_free frees p after the
 * queued work when p is such memory and returns 1; for other memory it returns 0 and leaves p to
 * the caller's free(). */
int of3_cuda_host_alloc(void *state, void **p, size_t n_bytes, char *why, size_t why_len);
int of3_cuda_host_free(void *state, void *p);
/* Free and total device memory now (cudaMemGetInfo): 0, or -1 with why. */
int of3_cuda_mem_info(void *state, size_t *free_bytes, size_t *total_bytes, char *why,
                      size_t why_len);

/* "CUDA runtime 13.0, cuBLAS 13.x, sm_80 sm_90 ..." for --version. */
const char *of3_cuda_built(void);

#ifdef __cplusplus
}
#endif

#endif
