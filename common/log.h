/* log.h: notes and progress on stderr, prefixed with the program name (STYLE.md 21).
 * Progress shows when stderr is a terminal or --progress was given, never with -q. */
#ifndef OF3_LOG_H
#define OF3_LOG_H

#include "error.h"

void of3_log_init(int quiet, int verbose, int progress);
/* "<prog>: <message>" unless quiet. */
void of3_note(const char *fmt, ...) OF3_PRINTF(1, 2);
/* Only with -v. */
void of3_verbose(const char *fmt, ...) OF3_PRINTF(1, 2);
/* Only when progress is on. */
void of3_progress(const char *fmt, ...) OF3_PRINTF(1, 2);
/* Seconds since of3_log_init, for progress lines. */
double of3_elapsed_s(void);

#endif
