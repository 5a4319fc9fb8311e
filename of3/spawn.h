/* spawn.h: runs one pipeline program as a child and times it (of3 predict's stages).
 *
 * The child's stdout and stderr go through a pipe that the driver forwards line by line to its
 * own stderr as they come, so progress stays live, a note that names no query and repeats one
 * already shown (the same for every query and seed) is shown once, and the last line, the child's
 * error message when it fails, is kept for the summary. SIGINT, SIGTERM and SIGHUP sent to the
 * driver are passed on to the running child; the driver stops after it (of3_interrupted()). */
#ifndef OF3_DRIVER_SPAWN_H
#define OF3_DRIVER_SPAWN_H

#include "../common/error.h"

typedef struct {
	int status;     /* the child's exit status, or 128 + signal number when a signal ended it */
	double seconds; /* wall time from fork to exit */
	char last[512]; /* the last line the child wrote ("" if none), without its newline */
} of3_spawn_result_t;

/* Runs argv[0] (a path) with argv, stdin from /dev/null. OF3_OK when the child ran, whatever
 * its exit status (in r); OF3_ERR_SYS when it could not be started. */
int of3_spawn(char *const argv[], of3_spawn_result_t *r) OF3_WUR;

/* Installs the driver's handlers for SIGINT, SIGTERM and SIGHUP (again: other code may have
 * replaced them) and ignores SIGPIPE. */
void of3_spawn_signals(void);

/* The signal that asked the driver to stop, or 0. */
int of3_interrupted(void);

/* Seconds on a monotonic clock. */
double of3_now_s(void);

#endif
