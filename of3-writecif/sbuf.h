/* sbuf.h: a growable text buffer for the files of3-writecif writes (mmCIF, CSV), filled in
 * memory and then written whole through common/outfile.h. */
#ifndef OF3_WC_SBUF_H
#define OF3_WC_SBUF_H

#include <stddef.h>

#include "../common/error.h"

typedef struct {
	char *data;
	size_t len, cap;
	int failed; /* sticky: an allocation failed; of3_sbuf_status() reports it */
} of3_sbuf_t;

/* Appends printf-formatted text; on failure sets failed and keeps what it had. */
void of3_sbuf_printf(of3_sbuf_t *b, const char *fmt, ...) OF3_PRINTF(2, 3);
/* Appends s as one mmCIF token: bare when it can be, else quoted ('..' or ".."); "" -> '.'. */
void of3_sbuf_cif(of3_sbuf_t *b, const char *s);
/* OF3_OK, or OF3_ERR_NOMEM when any append failed. */
int of3_sbuf_status(const of3_sbuf_t *b) OF3_WUR;
void of3_sbuf_free(of3_sbuf_t *b);

/* Writes len bytes to `path` under a temporary name and renames it into place (outfile.h);
 * nothing is left behind on failure. */
int of3_write_file(const char *path, const char *data, size_t len) OF3_WUR;

#endif
