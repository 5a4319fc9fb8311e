/* outfile.h: an output that appears only when complete (DESIGN.md §8).
 *
 * A path is written as "<path>.tmp.XXXXXX" in the same directory and renamed over the path by
 * of3_outfile_commit(); of3_outfile_abort(), a failing commit, and SIGINT/SIGTERM/SIGHUP/SIGPIPE
 * remove the temporary file, so a failed or interrupted run leaves nothing behind. NULL or "-"
 * means stdout, which a binary output refuses when it is a terminal. */
#ifndef OF3_OUTFILE_H
#define OF3_OUTFILE_H

#include <stddef.h>

#include "error.h"

typedef struct {
	int fd;            /* where to write */
	char *path;        /* final path, NULL for stdout */
	char *tmp_path;    /* temporary path while open, NULL for stdout */
	const char *label; /* for messages: the path or "stdout" */
} of3_outfile_t;

/* binary: refuse a terminal. */
int of3_outfile_open(of3_outfile_t *of, const char *path, int binary) OF3_WUR;
/* Closes and renames into place (or, for stdout, checks that nothing failed). */
int of3_outfile_commit(of3_outfile_t *of) OF3_WUR;
/* Closes and removes the temporary file. Safe on an unopened or committed outfile. */
void of3_outfile_abort(of3_outfile_t *of);

/* Writes all n bytes, retrying short writes; the message names the output. */
int of3_write_all(int fd, const void *p, size_t n, const char *label) OF3_WUR;

#endif
