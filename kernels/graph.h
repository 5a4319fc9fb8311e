/* graph.h: recording a fixed run of ops once and replaying it (CUDA graphs), for the diffusion
 * step that queues the same ~1,500 small ops 200 times per query (issue #10).
 *
 * Launching an op costs the host a few microseconds; at 76 tokens most of a step's ops take the
 * GPU less than that, so the step waits on the host. A CUDA graph recorded from the stream
 * launches the whole run at once. */
#ifndef OF3_GRAPH_H
#define OF3_GRAPH_H

#include "backend.h"

typedef struct of3_graph_t of3_graph_t;

/* Runs fn(ctx), which queues ops on be. With the CUDA backend the first call runs fn as it is
 * (the warm-up: shared scratch grows to what fn needs and cuBLAS picks its kernels), the second
 * records what fn queues into a graph in *g and launches it, and later calls launch that graph
 * without calling fn. So fn must queue the same ops on the same buffers every time, and nothing
 * it does may depend on the host between calls: no transfers, no syncs, no host scalars that
 * change, and no op outside fn may grow the backend's scratch between two calls (the graph keeps
 * the scratch's address). The CPU backend, or OF3_CUDA_GRAPHS=0 in the environment (or
 * OF3_CUDA_PROFILE, which times ops one by one), calls fn every time, as does g NULL. *g starts
 * NULL; free it with of3_graph_free. Errors: OF3_ERR_RUNTIME when recording or launching fails. */
int of3_graph_run(of3_backend_t *be, of3_graph_t **g, void (*fn)(void *ctx), void *ctx) OF3_WUR;
void of3_graph_free(of3_backend_t *be, of3_graph_t *g);

#endif
