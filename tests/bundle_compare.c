/* bundle_compare.c: compares named entries of two bundle streams, bundle by bundle, for the
 * parity tests (run.sh). Prints "ok - ..." / "not ok - ..." per entry and per bundle pair.
 *
 * usage: bundle_compare A B SPEC...
 *   SPEC  name              the tensor or value `name` is equal in A and B (tensors compared
 *                           as numbers, whatever their dtypes; values exactly)
 *         name:rows         a 2-d tensor whose rows are equal as sets (order ignored)
 *         name=other@index  A's name[i] equals B's other[B's index[i]] for every i (an atom
 *                           table in A against a token table in B) */
#include <stdlib.h>
#include <string.h>

#include "../common/bundle.h"
#include "check.h"

static int read_all(const char *path, of3_bundle_t ***out)
{
	of3_breader_t *r;
	int n = 0, rc = of3_breader_open(&r, path);
	of3_bundle_t **bs = NULL;
	while (rc == OF3_OK) {
		of3_bundle_t *b;
		rc = of3_breader_next(r, &b);
		if (rc == OF3_OK) {
			bs = realloc(bs, (size_t)(n + 1) * sizeof *bs);
			bs[n++] = b;
		}
	}
	of3_breader_close(r);
	if (rc != OF3_END) {
		printf("not ok - %s: %s\n", path, of3_errmsg());
		return -1;
	}
	*out = bs;
	return n;
}

static int same_shape(const of3_tensor_t *a, const of3_tensor_t *b)
{
	if (a->ndim != b->ndim)
		return 0;
	for (int i = 0; i < a->ndim; i++)
		if (a->shape[i] != b->shape[i])
			return 0;
	return 1;
}

static int64_t row_len;
static const double *row_base;
static int cmp_rows(const void *x, const void *y)
{
	const double *a = row_base + *(const int64_t *)x * row_len;
	const double *b = row_base + *(const int64_t *)y * row_len;
	for (int64_t k = 0; k < row_len; k++)
		if (a[k] != b[k])
			return a[k] < b[k] ? -1 : 1;
	return 0;
}

/* The rows of t as doubles, sorted; returned buffer owns both arrays. */
static double *sorted_rows(const of3_tensor_t *t, int64_t *n_rows)
{
	int64_t n = t->ndim ? t->shape[0] : 1, len = n ? of3_tensor_numel(t) / n : 0;
	double *v = malloc((size_t)(n * len + 1) * sizeof *v),
	       *out = malloc((size_t)(n * len + 1) * sizeof *out);
	int64_t *order = malloc((size_t)(n + 1) * sizeof *order);
	for (int64_t i = 0; i < n * len; i++)
		v[i] = of3_dtype_get(t->dtype, t->data, (size_t)i);
	for (int64_t i = 0; i < n; i++)
		order[i] = i;
	row_len = len;
	row_base = v;
	qsort(order, (size_t)n, sizeof *order, cmp_rows);
	for (int64_t i = 0; i < n; i++)
		memcpy(out + i * len, v + order[i] * len, (size_t)len * sizeof *out);
	free(v);
	free(order);
	*n_rows = n;
	return out;
}

static void compare(const of3_bundle_t *a, const of3_bundle_t *b, const char *spec)
{
	char name[128], other[128] = "", index[128] = "";
	int rows = 0;
	snprintf(name, sizeof name, "%s", spec);
	char *colon = strstr(name, ":rows"), *eq = strchr(name, '=');
	if (colon) {
		*colon = 0;
		rows = 1;
	}
	if (eq) {
		*eq = 0;
		char *at = strchr(eq + 1, '@');
		if (at) {
			*at = 0;
			snprintf(index, sizeof index, "%s", at + 1);
		}
		snprintf(other, sizeof other, "%s", eq + 1);
	}
	const char *bname = other[0] ? other : name;
	const of3_tensor_t *ta = of3_bundle_tensor(a, name), *tb = of3_bundle_tensor(b, bname);
	const msgpack_object *va = of3_bundle_value(a, name), *vb = of3_bundle_value(b, bname);
	const char *q = a->query;
	if (va || vb) {
		CHECK(va && vb && msgpack_object_equal(*va, *vb), "query '%s': value %s %s", q,
		      name, !va || !vb ? "missing on one side" : "");
		return;
	}
	if (!ta || !tb) {
		CHECK(0, "query '%s': tensor %s missing in %s", q, !ta ? name : bname,
		      !ta ? "A" : "B");
		return;
	}
	if (index[0]) {
		const of3_tensor_t *ti = of3_bundle_tensor(b, index);
		if (!ti || ti->ndim != 1 || ta->ndim != 1 || ti->shape[0] != ta->shape[0]) {
			CHECK(0, "query '%s': %s=%s@%s: shapes do not line up", q, name, bname,
			      index);
			return;
		}
		int64_t bad = 0, first = -1;
		for (int64_t i = 0; i < ta->shape[0]; i++) {
			int64_t j = (int64_t)of3_dtype_get(ti->dtype, ti->data, (size_t)i);
			int ok = j >= 0 && j < of3_tensor_numel(tb) &&
			         of3_dtype_get(ta->dtype, ta->data, (size_t)i) ==
			                 of3_dtype_get(tb->dtype, tb->data, (size_t)j);
			if (!ok && bad++ == 0)
				first = i;
		}
		CHECK(bad == 0,
		      "query '%s': %s equals %s gathered by %s (%lld differ, first at %lld)", q,
		      name, bname, index, (long long)bad, (long long)first);
		return;
	}
	if (!same_shape(ta, tb)) {
		CHECK(0, "query '%s': tensor %s: shapes differ (%lld vs %lld elements)", q, name,
		      (long long)of3_tensor_numel(ta), (long long)of3_tensor_numel(tb));
		return;
	}
	int64_t n = of3_tensor_numel(ta), bad = 0, first = -1;
	if (rows) {
		int64_t na, nb;
		double *ra = sorted_rows(ta, &na), *rb = sorted_rows(tb, &nb);
		for (int64_t i = 0; i < n; i++)
			if (ra[i] != rb[i] && bad++ == 0)
				first = i;
		free(ra);
		free(rb);
	} else {
		for (int64_t i = 0; i < n; i++)
			if (of3_dtype_get(ta->dtype, ta->data, (size_t)i) !=
			            of3_dtype_get(tb->dtype, tb->data, (size_t)i) &&
			    bad++ == 0)
				first = i;
	}
	CHECK(bad == 0, "query '%s': tensor %s%s equal (%lld of %lld differ, first at %lld)", q,
	      name, rows ? " rows" : "", (long long)bad, (long long)n, (long long)first);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: bundle_compare A B SPEC...\n");
		return 2;
	}
	of3_bundle_t **a, **b;
	int na = read_all(argv[1], &a), nb = read_all(argv[2], &b);
	if (na < 0 || nb < 0)
		return 1;
	CHECK(na == nb, "%s and %s hold %d and %d bundles", argv[1], argv[2], na, nb);
	for (int i = 0; i < na && i < nb; i++) {
		CHECK(strcmp(a[i]->query, b[i]->query) == 0, "bundle %d: queries '%s' and '%s'",
		      i + 1, a[i]->query, b[i]->query);
		for (int k = 3; k < argc; k++)
			compare(a[i], b[i], argv[k]);
	}
	for (int i = 0; i < na; i++)
		of3_bundle_free(a[i]);
	for (int i = 0; i < nb; i++)
		of3_bundle_free(b[i]);
	free(a);
	free(b);
	return check_summary();
}
