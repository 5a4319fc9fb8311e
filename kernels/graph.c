/* graph.c: of3_graph_run's dispatch (graph.h); the CUDA half is kernels/cuda/graph.cu. */
#include "graph.h"

#ifdef OF3_WITH_CUDA
#include "cuda/cuda_graph.h"
#endif

int of3_graph_run(of3_backend_t *be, of3_graph_t **g, void (*fn)(void *ctx), void *ctx)
{
#ifdef OF3_WITH_CUDA
	if (g && be->kind == OF3_BACKEND_CUDA) {
		char why[512];
		if (of3_cuda_graph_run(be->cuda, (void **)g, fn, ctx, why, sizeof why) < 0)
			return of3_err(OF3_ERR_RUNTIME, "%s: %s", be->desc, why);
		return OF3_OK;
	}
#endif
	(void)be, (void)g;
	fn(ctx);
	return OF3_OK;
}

void of3_graph_free(of3_backend_t *be, of3_graph_t *g)
{
#ifdef OF3_WITH_CUDA
	if (be->kind == OF3_BACKEND_CUDA)
		of3_cuda_graph_free(be->cuda, g);
#else
	(void)be, (void)g;
#endif
}
