/* json_file.c: slurp a file or stdin, parse it, and locate syntax errors. */
#include "json_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_BYTES (1u << 30) /* a query file larger than this is not a query file */

static int slurp(const char *path, char **data, size_t *len)
{
	int is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (!f)
		return of3_err(errno == ENOENT ? OF3_ERR_INPUT : OF3_ERR_SYS, "cannot open %s: %s", path,
		               strerror(errno));
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	int rc = buf ? OF3_OK : of3_err(OF3_ERR_NOMEM, "out of memory");
	while (rc == OF3_OK) {
		if (n == cap) {
			char *p = cap >= JSON_MAX_BYTES ? NULL : realloc(buf, 2 * cap + 1);
			if (!p) {
				rc = cap >= JSON_MAX_BYTES
				         ? of3_err(OF3_ERR_INPUT, "%s: larger than 1 GiB, not a query file", path)
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
				rc = of3_err(OF3_ERR_SYS, "reading %s", path);
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

int of3_json_load(const char *path, cJSON **out)
{
	const char *label = strcmp(path, "-") == 0 ? "stdin" : path;
	char *data = NULL;
	size_t len = 0;
	int rc = slurp(path, &data, &len);
	if (rc < 0)
		return rc;
	if (memchr(data, 0, len)) {
		free(data);
		return of3_err(OF3_ERR_INPUT, "%s: contains a NUL byte, not a JSON text file "
		               "(a bundle? of3-parse reads query JSON)", label);
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
		char near[24];
		size_t k = 0;
		for (const char *p = at; *p && *p != '\n' && k < sizeof near - 1; p++)
			near[k++] = *p;
		near[k] = 0;
		rc = of3_err(OF3_ERR_INPUT, "%s: line %d, column %d: malformed JSON%s%s%s", label, line,
		             col, k ? " near '" : " (unexpected end of file)", near, k ? "'" : "");
		free(data);
		return rc;
	}
	free(data);
	*out = json;
	return OF3_OK;
}
