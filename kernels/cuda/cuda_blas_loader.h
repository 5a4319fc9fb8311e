/* cuda_blas_loader.h: cuBLAS opened at run time, on a thread (blas_loader.cu). */
#ifndef OF3_CUDA_BLAS_LOADER_H
#define OF3_CUDA_BLAS_LOADER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Starts loading libcublas on a thread of its own (once per process; nothing when loaded). */
void of3_blas_load_start(void);
/* Waits for it and binds the entry points: 0, or -1 with why (the library or a function is
 * missing). Loads it here when of3_blas_load_start was not called or could not start. */
int of3_blas_load_finish(char *why, size_t why_len);

#ifdef __cplusplus
}
#endif

#endif
