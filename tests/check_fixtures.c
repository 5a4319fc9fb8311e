/* check_fixtures.c: the committed reference fixtures are readable by the C bundle reader and
 * every tensor has the dtype and shape the specification gives (tests/fixtures/SHAPES.tsv,
 * written from spec/, not from the generator's output). A symbol such as N_token binds, per
 * bundle, to the integer under "n_token" in the header's meta map; a tensor the table does not
 * list, or a listed tensor that is missing, is a failure too.
 *
 * usage: check_fixtures FIXTURE-DIR   (reads FIXTURE-DIR/SHAPES.tsv; .gz files via gzip -dc) */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../common/bundle.h"
#include "check.h"

typedef struct {
	char file[128], name[128], dtype[8], shape[256];
} row_t;

static row_t *rows;
static int n_rows;

static int load_table(const char *dir)
{
	char path[512], line[1024];
	snprintf(path, sizeof path, "%s/SHAPES.tsv", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int cap = 0;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (n_rows == cap) {
			cap = cap ? 2 * cap : 256;
			rows = realloc(rows, (size_t)cap * sizeof *rows);
		}
		row_t *r = &rows[n_rows];
		line[strcspn(line, "\r\n")] = 0;
		if (sscanf(line, "%127[^\t]\t%127[^\t]\t%7[^\t]\t%255[^\t]", r->file, r->name,
		           r->dtype, r->shape) == 4)
			n_rows++;
		else
			CHECK(0, "SHAPES.tsv: cannot parse line '%s'", line);
	}
	fclose(f);
	return 0;
}

/* Resolves one dimension: a literal, or a symbol looked up in meta. -1 if unbound. */
static int64_t dim_value(const of3_bundle_t *b, const char *sym)
{
	if (isdigit((unsigned char)sym[0]))
		return strtoll(sym, NULL, 10);
	char key[64];
	size_t i = 0;
	for (; sym[i] && i < sizeof key - 1; i++)
		key[i] = (char)tolower((unsigned char)sym[i]);
	key[i] = 0;
	const msgpack_object *v = of3_bundle_meta(b, key);
	if (!v || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -1;
	return (int64_t)v->via.u64;
}

/* Checks one tensor against its row; on failure writes why. */
static int matches(const of3_bundle_t *b, const of3_tensor_t *t, const row_t *r, char *why,
                   size_t n)
{
	if (strcmp(of3_dtype_name(t->dtype), r->dtype) != 0)
		return snprintf(why, n, "dtype %s, spec %s", of3_dtype_name(t->dtype), r->dtype), 0;
	int64_t want[OF3_MAX_DIMS + 1];
	int nd = 0;
	if (strcmp(r->shape, "-") != 0) {
		char buf[256];
		snprintf(buf, sizeof buf, "%s", r->shape);
		for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
			if (nd > OF3_MAX_DIMS)
				return snprintf(why, n, "spec shape has too many dimensions"), 0;
			want[nd] = dim_value(b, tok);
			if (want[nd] < 0)
				return snprintf(why, n,
				                "symbol %s has no value in the header's meta", tok),
				       0;
			nd++;
		}
	}
	int ok = nd == t->ndim;
	for (int i = 0; ok && i < nd; i++)
		ok = want[i] == t->shape[i];
	if (!ok) {
		int k = snprintf(why, n, "shape [");
		for (int i = 0; i < t->ndim; i++)
			k += snprintf(why + k, n - (size_t)k, "%s%lld", i ? ", " : "",
			              (long long)t->shape[i]);
		k += snprintf(why + k, n - (size_t)k, "], spec %s = [", r->shape);
		for (int i = 0; i < nd; i++)
			k += snprintf(why + k, n - (size_t)k, "%s%lld", i ? ", " : "",
			              (long long)want[i]);
		snprintf(why + k, n - (size_t)k, "]");
	}
	return ok;
}

static void check_file(const char *dir, const char *file)
{
	char path[512], cmd[600];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	size_t len = strlen(file);
	int gz = len > 3 && strcmp(file + len - 3, ".gz") == 0;
	FILE *pipe = NULL;
	of3_breader_t *r;
	int rc;
	if (gz) {
		snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
		pipe = popen(cmd, "r");
		rc = pipe ? of3_breader_open_fd(&r, fileno(pipe), path) : OF3_ERR_SYS;
	} else {
		rc = of3_breader_open(&r, path);
	}
	if (rc < 0) {
		CHECK(0, "%s: cannot open: %s", file, of3_errmsg());
		if (pipe)
			pclose(pipe);
		return;
	}
	int n_bundles = 0;
	for (;;) {
		of3_bundle_t *b;
		rc = of3_breader_next(r, &b);
		if (rc == OF3_END)
			break;
		if (rc < 0) {
			CHECK(0, "%s: unreadable: %s", file, of3_errmsg());
			break;
		}
		n_bundles++;
		int bad = 0, listed = 0;
		char why[512];
		for (int i = 0; i < n_rows; i++) {
			if (strcmp(rows[i].file, file) != 0)
				continue;
			listed++;
			const of3_tensor_t *t = of3_bundle_tensor(b, rows[i].name);
			if (!t) {
				CHECK(0, "%s: query '%s': tensor %s is missing", file, b->query,
				      rows[i].name);
				bad++;
			} else if (!matches(b, t, &rows[i], why, sizeof why)) {
				CHECK(0, "%s: query '%s': tensor %s: %s", file, b->query,
				      rows[i].name, why);
				bad++;
			}
		}
		for (int j = 0; j < b->n_tensors; j++) {
			int found = 0;
			for (int i = 0; i < n_rows && !found; i++)
				found = !strcmp(rows[i].file, file) &&
				        !strcmp(rows[i].name, b->tensors[j].name);
			if (!found) {
				CHECK(0, "%s: query '%s': tensor %s is not in SHAPES.tsv", file,
				      b->query, b->tensors[j].name);
				bad++;
			}
		}
		CHECK(bad == 0 && listed > 0,
		      "%s: bundle %d (query '%s', kind %s): %d tensors as the spec "
		      "says",
		      file, n_bundles, b->query, b->kind, b->n_tensors);
		of3_bundle_free(b);
	}
	CHECK(n_bundles > 0, "%s: holds %d bundle(s)", file, n_bundles);
	of3_breader_close(r);
	if (pipe)
		CHECK(pclose(pipe) == 0, "%s: gzip -dc succeeded", file);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: check_fixtures FIXTURE-DIR\n");
		return 2;
	}
	of3_set_progname("check_fixtures");
	if (load_table(argv[1]) < 0) {
		CHECK(0, "%s/SHAPES.tsv is missing", argv[1]);
		return check_summary();
	}
	CHECK(n_rows > 0, "SHAPES.tsv lists %d tensors", n_rows);
	for (int i = 0; i < n_rows; i++) {
		int seen = 0;
		for (int j = 0; j < i && !seen; j++)
			seen = strcmp(rows[j].file, rows[i].file) == 0;
		if (!seen)
			check_file(argv[1], rows[i].file);
	}
	free(rows);
	return check_summary();
}
