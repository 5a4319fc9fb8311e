/* cuda_warmup.h: the thread that makes cuBLAS load its kernels early (warmup.cu). */
#ifndef OF3_CUDA_WARMUP_H
#define OF3_CUDA_WARMUP_H

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Starts the thread for the precision the backend runs in (fp32: pedantic fp32 products, else
 * bf16 and TF32 ones) and the programs in who (OF3_WARMUP_* of backend.h), once per process.
 * of3_cuda_warmup_join waits for it to end (stop: after its current product); the backend's
 * close calls it with stop before it frees anything. */
void of3_cuda_warmup_start(int fp32, int who);
void of3_cuda_warmup_join(int stop);

#ifdef __cplusplus
}
#endif

#endif
