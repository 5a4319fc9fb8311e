/* profile.cu: OF3_CUDA_PROFILE=1, where the GPU time goes, op by op (issue #10).
 *
 * The lent GPU machines have no Nsight Systems, so the backend times itself: with the variable
 * set, every launch, cuBLAS call, transfer and sync waits for the stream and charges the wall
 * time since the previous one to its name; the table goes to stderr when the backend closes.
 * Waiting after each op removes the overlap of host and GPU, so the sum is more than an
 * unprofiled run takes: read it as the share of each op, and the launch count per step. Host
 * work between two ops is charged to the second. Off (the default), it costs one branch per op.
 */
#include "cuda_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_NAMES 128

typedef struct {
	const char *name; /* a string literal of the op: compared by pointer first */
	double s;
	long calls;
} prof_row_t;

static struct {
	int state; /* 0 unread, 1 on, -1 off */
	double mark;
	prof_row_t row[MAX_NAMES];
	int n_row;
} prof;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int profiling(void)
{
	if (prof.state == 0) {
		const char *v = getenv("OF3_CUDA_PROFILE");
		prof.state = v && *v && strcmp(v, "0") != 0 ? 1 : -1;
		prof.mark = now_s();
	}
	return prof.state > 0;
}

void of3_cuda_profile_mark(const char *name)
{
	if (!profiling() || !of3_cuda_cur)
		return;
	cudaStreamSynchronize(of3_cuda_cur->stream);
	const double t = now_s();
	int i = 0;
	while (i < prof.n_row && prof.row[i].name != name && strcmp(prof.row[i].name, name) != 0)
		i++;
	if (i == prof.n_row) {
		if (prof.n_row == MAX_NAMES)
			i = MAX_NAMES - 1, name = "(other)";
		else
			prof.row[prof.n_row++].name = name;
	}
	prof.row[i].s += t - prof.mark;
	prof.row[i].calls++;
	prof.mark = t;
}

static int by_time(const void *a, const void *b)
{
	const double x = ((const prof_row_t *)a)->s, y = ((const prof_row_t *)b)->s;
	return (x < y) - (x > y);
}

void of3_cuda_profile_report(void)
{
	if (prof.state <= 0 || prof.n_row == 0)
		return;
	double total = 0;
	long calls = 0;
	for (int i = 0; i < prof.n_row; i++)
		total += prof.row[i].s, calls += prof.row[i].calls;
	qsort(prof.row, (size_t)prof.n_row, sizeof prof.row[0], by_time);
	fprintf(stderr, "OF3_CUDA_PROFILE: %.3f s in %ld marks (each op waited for)\n", total,
	        calls);
	fprintf(stderr, "%-24s %10s %9s %10s %6s\n", "op", "calls", "total s", "mean us", "share");
	for (int i = 0; i < prof.n_row; i++) {
		const prof_row_t *r = &prof.row[i];
		fprintf(stderr, "%-24s %10ld %9.3f %10.1f %5.1f%%\n", r->name, r->calls, r->s,
		        1e6 * r->s / (double)r->calls, 100.0 * r->s / (total > 0 ? total : 1));
	}
	prof.n_row = 0;
}
