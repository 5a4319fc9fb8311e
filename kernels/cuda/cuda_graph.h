/* cuda_graph.h: the C-callable face of graph.cu (kernels/graph.h says what it is for). */
#ifndef OF3_CUDA_GRAPH_H
#define OF3_CUDA_GRAPH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* of3_graph_run on the CUDA backend: *g is our recording state (NULL at first). 0, or -1 with
 * why. */
int of3_cuda_graph_run(void *state, void **g, void (*fn)(void *ctx), void *ctx, char *why,
                       size_t why_len);
void of3_cuda_graph_free(void *state, void *g);

#ifdef __cplusplus
}
#endif

#endif
