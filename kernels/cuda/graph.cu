/* graph.cu: of3_graph_run on the CUDA backend (kernels/graph.h): run once, record once, replay.
 *
 * The recording is a stream capture of the backend's stream (thread-local mode: other threads'
 * CUDA calls are none of its business). While it runs nothing may wait for the stream; the
 * warm-up call before it is what makes that so: the shared scratch has grown to its size, and
 * cuBLAS has its own workspace from the backend's open. A failure while recording ends the
 * capture and comes back as an error; the ops' sticky error is checked too. */
#include "cuda_graph.h"
#include "cuda_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	int n_calls;          /* 0 before the warm-up, 1 after it, 2 once recorded */
	cudaGraphExec_t exec; /* the recording, once made */
} graph_t;

/* OF3_CUDA_GRAPHS=0 turns recording off (A/B timings); OF3_CUDA_PROFILE needs every op run on
 * its own */
static int graphs_on(void)
{
	static int on = -1;
	if (on < 0) {
		const char *v = getenv("OF3_CUDA_GRAPHS"), *p = getenv("OF3_CUDA_PROFILE");
		on = !(v && strcmp(v, "0") == 0) && !(p && *p && strcmp(p, "0") != 0);
	}
	return on;
}

static int record(of3_cuda_ctx_t *s, graph_t *gr, void (*fn)(void *), void *ctx, char *why,
                  size_t why_len)
{
	cudaGraph_t graph = NULL;
	cudaError_t e = cudaStreamBeginCapture(s->stream, cudaStreamCaptureModeThreadLocal);
	if (e != cudaSuccess) {
		snprintf(why, why_len, "cannot record a CUDA graph: %s", cudaGetErrorString(e));
		return -1;
	}
	fn(ctx);
	e = cudaStreamEndCapture(s->stream, &graph);
	if (e == cudaSuccess && s->err[0]) {
		snprintf(why, why_len, "while recording a CUDA graph: %s", s->err);
		s->err[0] = '\0';
		cudaGraphDestroy(graph);
		return -1;
	}
	if (e == cudaSuccess)
		e = cudaGraphInstantiate(&gr->exec, graph, 0);
	if (graph)
		cudaGraphDestroy(graph);
	if (e != cudaSuccess) {
		snprintf(why, why_len, "recording a CUDA graph failed: %s%s%s",
		         cudaGetErrorString(e), s->err[0] ? "; " : "", s->err);
		s->err[0] = '\0';
		cudaGetLastError(); /* clear it for the next ops */
		gr->exec = NULL;
		return -1;
	}
	return 0;
}

extern "C" int of3_cuda_graph_run(void *state, void **g, void (*fn)(void *), void *ctx, char *why,
                                  size_t why_len)
{
	of3_cuda_ctx_t *s = (of3_cuda_ctx_t *)state;
	if (!graphs_on()) {
		fn(ctx);
		return 0;
	}
	graph_t *gr = (graph_t *)*g;
	if (!gr) {
		gr = (graph_t *)calloc(1, sizeof *gr);
		if (!gr) {
			snprintf(why, why_len, "out of memory");
			return -1;
		}
		*g = gr;
	}
	if (gr->n_calls == 0) { /* warm-up */
		gr->n_calls = 1;
		fn(ctx);
		return 0;
	}
	if (gr->n_calls == 1) {
		/* what was queued before must not end up in the recording's failure */
		if (s->err[0]) {
			snprintf(why, why_len, "%s", s->err);
			s->err[0] = '\0';
			return -1;
		}
		if (record(s, gr, fn, ctx, why, why_len) < 0)
			return -1;
		gr->n_calls = 2;
	}
	cudaError_t e = cudaGraphLaunch(gr->exec, s->stream);
	if (e != cudaSuccess) {
		snprintf(why, why_len, "launching a CUDA graph: %s", cudaGetErrorString(e));
		return -1;
	}
	return 0;
}

extern "C" void of3_cuda_graph_free(void *state, void *g)
{
	graph_t *gr = (graph_t *)g;
	if (!gr)
		return;
	if (gr->exec) {
		cudaStreamSynchronize(((of3_cuda_ctx_t *)state)->stream); /* it may still run */
		cudaGraphExecDestroy(gr->exec);
	}
	free(gr);
}
