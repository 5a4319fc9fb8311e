/* cuda_backend.h: the C-callable face of the CUDA backend (cuda_backend.cu). */
#ifndef OF3_CUDA_BACKEND_H
#define OF3_CUDA_BACKEND_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opens device `index`: a stream and a cuBLAS handle. Returns 0, or -1 with the reason in why.
 * desc receives "cuda:N <name>, <memory> GiB, sm_XY". */
int of3_cuda_open(int index, void **state, char *desc, size_t desc_len, char *why, size_t why_len);
void of3_cuda_close(void *state);

/* "CUDA runtime 13.0, cuBLAS 13.x, sm_80 sm_90 ..." for --version. */
const char *of3_cuda_built(void);

#ifdef __cplusplus
}
#endif

#endif
