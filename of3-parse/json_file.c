/* json_file.c: slurp a file or stdin, parse it, and locate syntax errors. */
#include "json_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A query file larger than this is not a query: MSAs and templates belong in files of their own. */
#define JSON_MAX_BYTES (64u << 20)

static int slurp(const char *path, char **data, size_t *len)
{
	int is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (!f)
		return of3_err(errno == ENOENT ? OF3_ERR_INPUT : OF3_ERR_SYS, "cannot open %s: %s",
		               path, strerror(errno));
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	int rc = buf ? OF3_OK : of3_err(OF3_ERR_NOMEM, "out of memory");
	while (rc == OF3_OK) {
		if (n == cap) {
			char *p = cap >= JSON_MAX_BYTES ? NULL : realloc(buf, 2 * cap + 1);
			if (!p) {
				rc = cap >= JSON_MAX_BYTES
				             ? of3_err(OF3_ERR_INPUT,
				                       "%s: larger than 64 MiB, not a "
				                       "query file (MSAs belong in the files "
				                       "main_msa_file_paths names)",
				                       is_stdin ? "stdin" : path)
				             : of3_err(OF3_ERR_NOMEM, "out of memory");
				break;
			}
			buf = p;
			cap *= 2;
		}
		size_t k = fread(buf + n, 1, cap - n, f);
		n += k;
		if (k == 0) {
			if (ferror(f))
				rc = of3_err(OF3_ERR_SYS, "reading %s", is_stdin ? "stdin" : path);
			break;
		}
	}
	if (!is_stdin)
		fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[n] = 0;
	*data = buf;
	*len = n;
	return OF3_OK;
}

/* Control bytes other than tab, newline and carriage return never occur in JSON text. */
static int is_binary(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return 1;
	}
	return 0;
}

int of3_json_load(const char *path, cJSON **out)
{
	const char *label = strcmp(path, "-") == 0 ? "stdin" : path;
	char *data = NULL;
	size_t len = 0;
	int rc = slurp(path, &data, &len);
	if (rc < 0)
		return rc;
	size_t lead = strspn(data, " \t\r\n");
	if (lead == len) {
		free(data);
		return of3_err(OF3_ERR_INPUT, "%s: empty file, no query in it", label);
	}
	if (is_binary(data, len)) {
		free(data);
		return of3_err(OF3_ERR_INPUT,
		               "%s: binary data, not a JSON text file (a bundle? "
		               "of3-parse reads query JSON)",
		               label);
	}
	const char *end = NULL;
	cJSON *json = cJSON_ParseWithLengthOpts(data, len + 1, &end, 1);
	if (!json) {
		const char *at = end ? end : cJSON_GetErrorPtr();
		if (!at || at < data || at > data + len)
			at = data + len;
		int line = 1, col = 1;
		for (const char *p = data; p < at; p++, col++)
			if (*p == '\n')
				line++, col = 0;
		/* cJSON stops at or just after the fault: show the line around it */
		const char *from = at, *to = at;
		while (from > data && from[-1] != '\n' && at - from < 24)
			from--;
		while (to < data + len && *to != '\n' && to - at < 24)
			to++;
		if (to == from)
			rc = of3_err(OF3_ERR_INPUT,
			             "%s: line %d, column %d: malformed JSON (unexpected end "
			             "of file)",
			             label, line, col);
		else
			rc = of3_err(OF3_ERR_INPUT,
			             "%s: line %d, column %d: malformed JSON near '%.*s'", label,
			             line, col, (int)(to - from), from);
		free(data);
		return rc;
	}
	free(data);
	*out = json;
	return OF3_OK;
}
