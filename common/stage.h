/* stage.h: the loop every bundle-to-bundle stage runs (DESIGN.md §1, §8).
 *
 * Opens the output first (so a terminal is refused before any work), then reads the input
 * stream one bundle at a time, checks its kind, hands it to the stage's process function, and
 * on success commits the output; on any failure the output is removed, so nothing partial is
 * left behind. Weights and other per-process state live in the stage's ctx and are loaded once,
 * not once per query. */
#ifndef OF3_STAGE_H
#define OF3_STAGE_H

#include "bundle.h"
#include "cli.h"

typedef struct {
	const char *input_kind; /* kind every input bundle must have */
	int writes_bundles;     /* 0: the stage writes files of its own (of3-writecif) */
	/* Processes one input bundle and writes zero or more bundles to w (NULL when
	 * !writes_bundles). Returns OF3_OK or a negative status. */
	int (*process)(void *ctx, const of3_bundle_t *in, of3_bwriter_t *w, const of3_opts_t *o);
	void *ctx;
} of3_stage_t;

/* Runs the stage over every bundle of `input` ("-" for stdin), writing to o->output. Returns
 * OF3_OK or the first failure's status (message in of3_errmsg()). */
int of3_stage_run(const of3_stage_t *stage, const char *input, const of3_opts_t *o) OF3_WUR;

#endif
