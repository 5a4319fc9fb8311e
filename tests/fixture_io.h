/* fixture_io.h: reading the reference fixtures in parity tests (header-only, like check.h):
 * a gzip'ed bundle, a float64 tap as float32, and the relative Frobenius error of our float32
 * result against a float64 tap. */
#ifndef OF3_FIXTURE_IO_H
#define OF3_FIXTURE_IO_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/bundle.h"

/* The first bundle of a gzip'ed file (through gzip -dc), or NULL. */
static inline of3_bundle_t *read_gz(const char *path)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
	FILE *p = popen(cmd, "r");
	of3_breader_t *r = NULL;
	of3_bundle_t *b = NULL;
	if (!p)
		return NULL;
	if (of3_breader_open_fd(&r, fileno(p), path) == 0 && of3_breader_next(r, &b) != OF3_OK)
		b = NULL;
	of3_breader_close(r);
	if (pclose(p) != 0) {
		of3_bundle_free(b);
		return NULL;
	}
	return b;
}

/* A float64 tap of n elements as float32 (malloc'ed), NULL when absent or of another size. */
static inline float *tap_f32(const of3_bundle_t *b, const char *name, int64_t n)
{
	const of3_tensor_t *t = of3_bundle_tensor(b, name);
	if (!t || t->dtype != OF3_DTYPE_F64 || of3_tensor_numel(t) != n)
		return NULL;
	float *out = malloc((size_t)n * sizeof *out);
	for (int64_t i = 0; out && i < n; i++)
		out[i] = (float)((const double *)t->data)[i];
	return out;
}

/* ||ours - tap|| / ||tap|| over n elements of a float64 tap, and the largest absolute
 * difference (NaN counts as the largest); -1 when the tap is absent or of another size. */
static inline double rel_err(const float *ours, const of3_bundle_t *b, const char *name, int64_t n,
                             double *max_abs)
{
	const of3_tensor_t *t = of3_bundle_tensor(b, name);
	double num = 0, den = 0;
	*max_abs = 0;
	if (!t || t->dtype != OF3_DTYPE_F64 || of3_tensor_numel(t) != n)
		return -1;
	for (int64_t i = 0; i < n; i++) {
		double ref = ((const double *)t->data)[i], d = ours[i] - ref;
		num += d * d;
		den += ref * ref;
		if (!(fabs(d) <= *max_abs))
			*max_abs = fabs(d);
	}
	return sqrt(num) / (den > 0 ? sqrt(den) : 1);
}

#endif
