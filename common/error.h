/* error.h: status codes and the one error message a failing call leaves behind.
 *
 * Library code (common/, kernels/, a stage's modules) never prints and never exits: a function
 * that fails records what went wrong with of3_err() and returns a negative status. Only a
 * program's main() turns that into a message on stderr ("of3-trunk: <message>") and an exit
 * status: 2 for bad input or usage, 1 for anything else (DESIGN.md §8). */
#ifndef OF3_ERROR_H
#define OF3_ERROR_H

#include <stdarg.h>

enum {
	OF3_OK = 0,
	OF3_END = -1,         /* clean end of a stream: not an error */
	OF3_ERR_INPUT = -2,   /* the input is malformed or unsupported: exit status 2 */
	OF3_ERR_USAGE = -3,   /* bad command line: exit status 2 */
	OF3_ERR_SYS = -4,     /* a system call failed (errno text appended): exit status 1 */
	OF3_ERR_NOMEM = -5,   /* out of memory: exit status 1 */
	OF3_ERR_RUNTIME = -6, /* anything else that stops the work: exit status 1 */
};

#if defined(__GNUC__)
#define OF3_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define OF3_WUR          __attribute__((warn_unused_result))
#else
#define OF3_PRINTF(f, a)
#define OF3_WUR
#endif

/* Records a message for `status` and returns `status`, so a failing path reads
 * `return of3_err(OF3_ERR_INPUT, "tensor '%s': ...", name);`. For OF3_ERR_SYS the text of the
 * current errno is appended. */
int of3_err(int status, const char *fmt, ...) OF3_PRINTF(2, 3);

/* Prepends "<prefix>: " to the recorded message (adds context on the way up) and returns status. */
int of3_err_prefix(int status, const char *fmt, ...) OF3_PRINTF(2, 3);

/* The message recorded by the last failing call on this thread ("" if none). */
const char *of3_errmsg(void);

/* Maps a status to the process exit status (0, 1 or 2). */
int of3_exit_status(int status);

/* The program's name, used as the prefix of every message; set once by main(). */
void of3_set_progname(const char *argv0);
const char *of3_progname(void);

/* Prints "<progname>: <message>" on stderr (stdout flushed first so the two do not interleave). */
void of3_print_error(const char *fmt, ...) OF3_PRINTF(1, 2);

/* Prints the recorded message for `status` and returns the exit status for it. */
int of3_report(int status);

#endif
