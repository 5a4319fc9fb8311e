/* log.c: stderr notes and progress. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int quiet, verbose, progress;
static struct timespec t0;

void of3_log_init(int q, int v, int p)
{
	quiet = q;
	verbose = v && !q;
	progress = !q && (p || isatty(STDERR_FILENO));
	clock_gettime(CLOCK_MONOTONIC, &t0);
}

double of3_elapsed_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec);
}

static void vlog(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", of3_progname());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void of3_note(const char *fmt, ...)
{
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void of3_verbose(const char *fmt, ...)
{
	if (!verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void of3_progress(const char *fmt, ...)
{
	if (!progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
