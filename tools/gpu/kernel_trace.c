/* kernel_trace.c: every kernel's GPU time, from the driver's own timestamps (a developer tool for
 * issue #10; not part of the programs).
 *
 * The lent GPU machines have no Nsight Systems. This is a CUPTI injection library: the CUDA
 * driver loads it into any program started with CUDA_INJECTION64_PATH=kernel_trace.so and calls
 * InitializeInjection, which asks CUPTI for a record of every kernel (start and end on the GPU's
 * clock, grid, the CUDA graph it ran in). At exit it writes to $OF3_KERNEL_TRACE (or stderr):
 *
 *   1. per CUDA graph: how often it was launched, the kernels and GPU time per launch, and the
 *      span of a launch (first start to last end), whose difference to the kernels' sum is the
 *      time the GPU spent between kernels, and how long the GPU sat idle before a launch (from the
 *      end of the kernel before it: host work between launches shows here);
 *   2. the kernels of one launch of each graph (its last), in order: time, gap before, grid;
 *   3. all kernels by name: calls, total, mean, share (inside graphs or not);
 *   4. where the GPU sat idle for more than OF3_KERNEL_TRACE_GAP_MS (default 2) between two
 *      kernels, and the kernel after it, in ms from the driver loading this library: the host
 *      stalls of start-up (module loading, first cuBLAS calls, reading and writing).
 *
 * Unlike OF3_CUDA_PROFILE (kernels/cuda/profile.cu) it changes nothing in how the program runs:
 * graphs stay on and nothing waits. Build and use (tools/gpu/kernel_trace.sh does both):
 *   cc -O2 -shared -fPIC -I$CUDA/include kernel_trace.c -L$CUDA/lib64 -lcupti -o kernel_trace.so
 *   CUDA_INJECTION64_PATH=$PWD/kernel_trace.so OF3_KERNEL_TRACE=trace.txt bin/of3-diffuse ...
 * Names are as the compiler mangled them: pipe the file through c++filt to read them. */
#include <cupti.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_BYTES (8u << 20)
#define MAX_NAMES 4096

typedef struct {
	uint64_t start, end;
	uint32_t graph, corr, name;
	int32_t gx, gy, gz, bx;
} rec_t;

static struct {
	uint64_t t_init; /* cuptiGetTimestamp at injection: about when the CUDA context began */
	rec_t *r;
	size_t n, cap;
	char *name[MAX_NAMES];
	int n_name;
} tr;

static uint32_t intern(const char *s)
{
	if (!s)
		s = "(unnamed)";
	for (int i = tr.n_name - 1; i >= 0; i--) /* the same few names come in runs */
		if (strcmp(tr.name[i], s) == 0)
			return (uint32_t)i;
	if (tr.n_name == MAX_NAMES)
		return MAX_NAMES - 1;
	tr.name[tr.n_name] = strdup(s);
	return (uint32_t)tr.n_name++;
}

static void CUPTIAPI buffer_requested(uint8_t **buf, size_t *size, size_t *max_records)
{
	*buf = aligned_alloc(8, BUF_BYTES);
	*size = *buf ? BUF_BYTES : 0;
	*max_records = 0;
}

static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t *buf, size_t size,
                                      size_t valid)
{
	(void)ctx, (void)stream, (void)size;
	CUpti_Activity *a = NULL;
	while (cuptiActivityGetNextRecord(buf, valid, &a) == CUPTI_SUCCESS) {
		if (a->kind != CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL &&
		    a->kind != CUPTI_ACTIVITY_KIND_KERNEL)
			continue;
		const CUpti_ActivityKernel10 *k = (const CUpti_ActivityKernel10 *)a;
		if (tr.n == tr.cap) {
			size_t cap = tr.cap ? 2 * tr.cap : 1 << 16;
			rec_t *r = realloc(tr.r, cap * sizeof *r);
			if (!r)
				break;
			tr.r = r, tr.cap = cap;
		}
		tr.r[tr.n++] =
		        (rec_t){k->start, k->end,   k->graphId, k->correlationId, intern(k->name),
		                k->gridX, k->gridY, k->gridZ,   k->blockX};
	}
	free(buf);
}

static int by_start(const void *x, const void *y)
{
	const rec_t *a = x, *b = y;
	return (a->start > b->start) - (a->start < b->start);
}

typedef struct {
	uint32_t name;
	uint64_t ns, calls;
} sum_t;

static int by_ns(const void *x, const void *y)
{
	const sum_t *a = x, *b = y;
	return (a->ns < b->ns) - (a->ns > b->ns);
}

/* what one graph's launches add up to; its last launch listed kernel by kernel */
static void report_graph(FILE *f, uint32_t graph)
{
	uint64_t launches = 0, kernels = 0, busy = 0, span = 0, first = 0, last_end = 0, idle = 0;
	uint32_t corr = UINT32_MAX, last_corr = 0;
	for (size_t i = 0; i < tr.n; i++) {
		const rec_t *r = &tr.r[i];
		if (r->graph != graph)
			continue;
		if (r->corr != corr) {
			if (corr != UINT32_MAX)
				span += last_end - first;
			corr = r->corr, first = r->start, launches++;
			if (i > 0 && launches > 1 &&
			    r->start > tr.r[i - 1].end) /* the GPU idle before it */
				idle += r->start - tr.r[i - 1].end;
		}
		kernels++, busy += r->end - r->start, last_end = r->end, last_corr = r->corr;
	}
	span += last_end - first;
	fprintf(f,
	        "graph %u: %llu launches, %.1f kernels and %.1f us of kernels a launch, span %.1f "
	        "us a launch (%.1f us between kernels), %.1f us idle before a launch\n",
	        graph, (unsigned long long)launches, (double)kernels / (double)launches,
	        1e-3 * (double)busy / (double)launches, 1e-3 * (double)span / (double)launches,
	        1e-3 * (double)(span - busy) / (double)launches,
	        launches > 1 ? 1e-3 * (double)idle / (double)(launches - 1) : 0.0);
	fprintf(f, "  last launch, kernel by kernel:   us   gap_us  grid        block  name\n");
	uint64_t prev_end = 0;
	for (size_t i = 0; i < tr.n; i++) {
		const rec_t *r = &tr.r[i];
		if (r->graph != graph || r->corr != last_corr)
			continue;
		fprintf(f, "  %8.2f %7.2f  %5dx%-3dx%-3d %5d  %s\n",
		        1e-3 * (double)(r->end - r->start),
		        prev_end ? 1e-3 * ((double)r->start - (double)prev_end) : 0.0, r->gx, r->gy,
		        r->gz, r->bx, tr.name[r->name]);
		prev_end = r->end;
	}
}

static void report(void)
{
	cuptiActivityFlushAll(1);
	const char *path = getenv("OF3_KERNEL_TRACE");
	FILE *f = path && *path ? fopen(path, "w") : NULL;
	if (!f)
		f = stderr;
	qsort(tr.r, tr.n, sizeof *tr.r, by_start);
	uint64_t total = 0;
	sum_t *s = calloc((size_t)tr.n_name + 1, sizeof *s);
	uint32_t graphs[64];
	int n_graph = 0;
	for (size_t i = 0; i < tr.n; i++) {
		const rec_t *r = &tr.r[i];
		total += r->end - r->start;
		if (s) {
			s[r->name].name = r->name;
			s[r->name].ns += r->end - r->start;
			s[r->name].calls++;
		}
		int g = 0;
		while (g < n_graph && graphs[g] != r->graph)
			g++;
		if (r->graph && g == n_graph && n_graph < 64)
			graphs[n_graph++] = r->graph;
	}
	fprintf(f, "kernel_trace: %zu kernels, %.3f s of GPU time in kernels\n", tr.n,
	        1e-9 * (double)total);
	for (int g = 0; g < n_graph; g++)
		report_graph(f, graphs[g]);
	if (s) {
		qsort(s, (size_t)tr.n_name, sizeof *s, by_ns);
		fprintf(f, "all kernels by name:       calls   total_ms    mean_us  share  name\n");
		for (int i = 0; i < tr.n_name && s[i].calls; i++)
			fprintf(f, "  %24llu %10.3f %10.2f %5.1f%%  %s\n",
			        (unsigned long long)s[i].calls, 1e-6 * (double)s[i].ns,
			        1e-3 * (double)s[i].ns / (double)s[i].calls,
			        100.0 * (double)s[i].ns / (double)(total ? total : 1),
			        tr.name[s[i].name]);
		free(s);
	}
	const char *g = getenv("OF3_KERNEL_TRACE_GAP_MS");
	const double gap_ms = g && *g ? atof(g) : 2.0;
	fprintf(f, "idle gaps over %.1f ms (ms from injection):\n", gap_ms);
	if (tr.n)
		fprintf(f, "  first kernel at %.1f: %s\n",
		        1e-6 * (double)(tr.r[0].start - tr.t_init), tr.name[tr.r[0].name]);
	for (size_t i = 1; i < tr.n; i++) {
		const rec_t *a = &tr.r[i - 1], *b = &tr.r[i];
		if (b->start > a->end && 1e-6 * (double)(b->start - a->end) > gap_ms)
			fprintf(f, "  %8.1f ms idle, then at %8.1f: %s\n",
			        1e-6 * (double)(b->start - a->end),
			        1e-6 * (double)(b->start - tr.t_init), tr.name[b->name]);
	}
	if (tr.n)
		fprintf(f, "  last kernel ends at %.1f\n",
		        1e-6 * (double)(tr.r[tr.n - 1].end - tr.t_init));
	if (f != stderr)
		fclose(f);
}

int InitializeInjection(void)
{
	if (cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed) != CUPTI_SUCCESS ||
	    cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) != CUPTI_SUCCESS) {
		fprintf(stderr, "kernel_trace: CUPTI would not start; no trace\n");
		return 0;
	}
	cuptiGetTimestamp(&tr.t_init);
	atexit(report);
	return 1;
}
