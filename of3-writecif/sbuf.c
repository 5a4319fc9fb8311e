/* sbuf.c: text buffer and whole-file writes (sbuf.h). */
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/outfile.h"

static int grow(of3_sbuf_t *b, size_t need)
{
	if (b->failed)
		return -1;
	if (b->len + need + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + need + 1)
		cap *= 2;
	char *d = realloc(b->data, cap);
	if (!d) {
		b->failed = 1;
		return -1;
	}
	b->data = d, b->cap = cap;
	return 0;
}

void of3_sbuf_printf(of3_sbuf_t *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void of3_sbuf_cif(of3_sbuf_t *b, const char *s)
{
	if (!*s) {
		of3_sbuf_printf(b, ".");
		return;
	}
	int bare = !strchr("_#$'\"[];", s[0]) && strcmp(s, ".") && strcmp(s, "?") &&
	           strncmp(s, "data_", 5) && strncmp(s, "save_", 5) && strncmp(s, "loop_", 5) &&
	           strncmp(s, "global_", 7) && strncmp(s, "stop_", 5);
	for (const char *p = s; *p && bare; p++)
		bare = *p > ' ' && *p < 127;
	if (bare)
		of3_sbuf_printf(b, "%s", s);
	else
		of3_sbuf_printf(b, strchr(s, '\'') ? "\"%s\"" : "'%s'", s);
}

int of3_sbuf_status(const of3_sbuf_t *b)
{
	return b->failed ? of3_err(OF3_ERR_NOMEM, "out of memory for the output text") : OF3_OK;
}

void of3_sbuf_free(of3_sbuf_t *b)
{
	if (b)
		free(b->data), memset(b, 0, sizeof *b);
}

int of3_write_file(const char *path, const char *data, size_t len)
{
	of3_outfile_t of;
	int rc = of3_outfile_open(&of, path, 0);
	if (rc < 0)
		return rc;
	if ((rc = of3_write_all(of.fd, data, len, of.label)) < 0) {
		of3_outfile_abort(&of);
		return rc;
	}
	return of3_outfile_commit(&of);
}
