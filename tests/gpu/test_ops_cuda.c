/* test_ops_cuda.c: every op of the CUDA table (kernels/ops.h) against the CPU reference on random
 * inputs, in both precision modes, at sizes that are and are not multiples of the kernels' tiles.
 * Each check prints its error, max|gpu - cpu| / max|cpu|, against the mode's tolerance: 1e-5 in
 * fp32 mode for every op; in bf16 mode 1e-2 for the products that round their operands to bf16
 * (linear, tri_mul, outer_product, pair_weighted_avg, attention), 1e-5 for the rest (fp32 in
 * both modes).
 * Outputs are poisoned with NaN before each op, so an unwritten element fails. Ends with the
 * determinism check (same inputs twice, identical bytes) and "N passed, N failed".
 * Needs a CUDA GPU: `make test-gpu`, never part of `make test`. --quick skips the one case of
 * 2^28 values (1 GiB a buffer), for runs under compute-sanitizer. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernels/backend.h"
#include "../../kernels/cuda/cuda_backend.h"
#include "../check.h"

static of3_backend_t be;
static const of3_ops_t *cpu, *gpu;
static int fp32_mode;
static int quick;           /* --quick: no 1 GiB case (for compute-sanitizer) */
static double worst[2][64]; /* per mode, per op: the largest error seen, for the summary */
static const char *op_names[64];
static int n_op_names;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double urand(void) /* splitmix64, uniform in [0, 1) */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "test_ops_cuda: out of memory\n");
		exit(1);
	}
	return p;
}

/* n floats uniform in [lo, hi) */
static float *rnd(int64_t n, double lo, double hi)
{
	float *x = xmalloc((size_t)n * sizeof *x);
	for (int64_t i = 0; i < n; i++)
		x[i] = (float)(lo + (hi - lo) * urand());
	return x;
}

/* a 0/1 mask of n values with about a quarter zeros */
static float *rmask(int64_t n)
{
	float *m = xmalloc((size_t)n * sizeof *m);
	for (int64_t i = 0; i < n; i++)
		m[i] = urand() < 0.25 ? 0.0f : 1.0f;
	return m;
}

static void die(const char *what)
{
	fprintf(stderr, "test_ops_cuda: %s: %s\n", what, of3_errmsg());
	exit(1);
}

/* a device copy of n floats of host memory (NULL stays NULL) */
static float *dev(const float *h, int64_t n)
{
	if (!h)
		return NULL;
	float *d = of3_backend_alloc(&be, (size_t)n * sizeof *d);
	if (!d || of3_backend_upload(&be, d, h, (size_t)n * sizeof *d) < 0)
		die("upload");
	return d;
}

/* device memory for n outputs, filled with NaN */
static float *dev_nan(int64_t n)
{
	float *h = xmalloc((size_t)n * sizeof *h);
	for (int64_t i = 0; i < n; i++)
		h[i] = NAN;
	float *d = dev(h, n);
	free(h);
	return d;
}

static float *host(const float *d, int64_t n)
{
	float *h = xmalloc((size_t)n * sizeof *h);
	if (of3_backend_sync(&be) < 0 || of3_backend_download(&be, h, d, (size_t)n * sizeof *h) < 0)
		die("download");
	return h;
}

static int op_index(const char *op)
{
	for (int i = 0; i < n_op_names; i++)
		if (strcmp(op_names[i], op) == 0)
			return i;
	op_names[n_op_names] = op;
	return n_op_names++;
}

/* Compares the device result d_out with the CPU's ref and prints one check line. */
static void compare(const char *op, const char *shape, const float *ref, const float *d_out,
                    int64_t n, int lowp)
{
	float *got = host(d_out, n);
	double max_ref = 0, max_diff = 0;
	int64_t n_bad = 0;
	for (int64_t i = 0; i < n; i++) {
		double r = fabs((double)ref[i]), d = fabs((double)got[i] - (double)ref[i]);
		if (r > max_ref)
			max_ref = r;
		if (!(d <= max_diff)) { /* NaN lands here and stays */
			max_diff = d;
			if (isnan(d))
				n_bad++;
		}
	}
	double err = n_bad ? NAN : max_diff / (max_ref > 0 ? max_ref : 1.0);
	double tol = !fp32_mode && lowp ? 1e-2 : 1e-5;
	int k = op_index(op);
	if (!(err <= worst[fp32_mode][k]))
		worst[fp32_mode][k] = err;
	CHECK(err <= tol, "%s %-17s %-34s err %.2e (tol %.0e)", fp32_mode ? "fp32" : "bf16", op,
	      shape, err, tol);
	free(got);
}

/* frees n device buffers (NULL ones too) */
static void dfree(int n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		of3_backend_free(&be, va_arg(ap, void *));
	va_end(ap);
}

static void test_layer_norm(int64_t n_r, int64_t n_c, int affine, int in_place)
{
	float *x = rnd(n_r * n_c, -3, 5), *w = affine ? rnd(n_c, 0.5, 1.5) : NULL,
	      *b = affine ? rnd(n_c, -1, 1) : NULL;
	float *ref = xmalloc((size_t)(n_r * n_c) * sizeof *ref);
	cpu->layer_norm(ref, x, w, b, n_r, n_c, OF3_LN_EPS);
	float *dx = dev(x, n_r * n_c), *dw = dev(w, n_c), *db = dev(b, n_c);
	float *dy = in_place ? dx : dev_nan(n_r * n_c);
	gpu->layer_norm(dy, dx, dw, db, n_r, n_c, OF3_LN_EPS);
	char s[64];
	snprintf(s, sizeof s, "R=%lld C=%lld%s%s", (long long)n_r, (long long)n_c,
	         affine ? " w,b" : "", in_place ? " in place" : "");
	compare("layer_norm", s, ref, dy, n_r * n_c, 0);
	dfree(4, dx, dw, db, in_place ? NULL : dy);
	free(x), free(w), free(b), free(ref);
}

static void test_linear(int64_t n_r, int64_t n_in, int64_t n_out, int bias)
{
	float *x = rnd(n_r * n_in, -1, 1), *w = rnd(n_out * n_in, -1, 1),
	      *b = bias ? rnd(n_out, -1, 1) : NULL;
	float *ref = xmalloc((size_t)(n_r * n_out) * sizeof *ref);
	cpu->linear(ref, x, w, b, n_r, n_in, n_out);
	float *dx = dev(x, n_r * n_in), *dw = dev(w, n_out * n_in), *db = dev(b, n_out),
	      *dy = dev_nan(n_r * n_out);
	gpu->linear(dy, dx, dw, db, n_r, n_in, n_out);
	char s[64];
	snprintf(s, sizeof s, "R=%lld I=%lld O=%lld%s", (long long)n_r, (long long)n_in,
	         (long long)n_out, bias ? " bias" : "");
	compare("linear", s, ref, dy, n_r * n_out, 1);
	dfree(4, dx, dw, db, dy);
	free(x), free(w), free(b), free(ref);
}

/* linear_stack: T products, one x for all (shared) or one per problem */
static void test_linear_stack(int64_t n_stack, int64_t n_r, int64_t n_in, int64_t n_out, int shared,
                              int bias)
{
	const int64_t xs = shared ? 0 : n_r * n_in, nx = shared ? n_r * n_in : n_stack * n_r * n_in;
	const int64_t ny = n_stack * n_r * n_out;
	float *x = rnd(nx, -1, 1), *w = rnd(n_stack * n_out * n_in, -1, 1),
	      *b = bias ? rnd(n_stack * n_out, -1, 1) : NULL;
	float *ref = xmalloc((size_t)ny * sizeof *ref);
	cpu->linear_stack(ref, x, xs, w, b, n_stack, n_r, n_in, n_out);
	float *dx = dev(x, nx), *dw = dev(w, n_stack * n_out * n_in), *db = dev(b, n_stack * n_out),
	      *dy = dev_nan(ny);
	gpu->linear_stack(dy, dx, xs, dw, db, n_stack, n_r, n_in, n_out);
	char s[80];
	snprintf(s, sizeof s, "T=%lld R=%lld I=%lld O=%lld%s%s", (long long)n_stack, (long long)n_r,
	         (long long)n_in, (long long)n_out, shared ? " shared x" : "", bias ? " bias" : "");
	compare("linear_stack", s, ref, dy, ny, 1);
	dfree(4, dx, dw, db, dy);
	free(x), free(w), free(b), free(ref);
}

/* to_bf16: n random bit patterns (every exponent, NaNs with payloads of either sign) and the
 * edge cases, the GPU's bits against the CPU's */
static void test_to_bf16(int64_t n)
{
	static const uint32_t edge[] = {
	        0x00000000, 0x80000000, 0x7f800000, 0xff800000, /* ±0, ±inf */
	        0x7fc00000, 0xffc00001, 0x7f800001, 0xff812345, /* NaNs */
	        0x3f808000, 0x3f818000, 0xbf808000, 0xbf818000, /* ties: to even, down and up */
	        0x3f807fff, 0x3f808001, 0x3f80ffff,             /* either side of a tie */
	        0x7f7fffff, 0xff7fffff, 0x7f7f7fff, 0x7f7f8000, /* largest floats: inf or not */
	        0x00000001, 0x00008000, 0x00018000, 0x007fffff, /* subnormals */
	        0x00800000, 0x807fffff, 0x3f800000, 0xc0490fdb, /* smallest normal, 1, -pi */
	};
	const int64_t n_edge = (int64_t)(sizeof edge / sizeof edge[0]), nt = n + n_edge;
	uint32_t *u = xmalloc((size_t)nt * sizeof *u);
	for (int64_t i = 0; i < nt; i++)
		u[i] = i < n_edge ? edge[i] : (uint32_t)(urand() * 4294967296.0);
	float *x = xmalloc((size_t)nt * sizeof *x);
	memcpy(x, u, (size_t)nt * sizeof *x);
	uint16_t *ref = xmalloc((size_t)nt * sizeof *ref), *got = xmalloc((size_t)nt * sizeof *got);
	cpu->to_bf16(ref, x, nt);
	float *dx = dev(x, nt);
	void *dy = of3_backend_alloc(&be, (size_t)nt * sizeof *got);
	if (!dy)
		die("alloc");
	memset(got, 0xa5, (size_t)nt * sizeof *got); /* poison: not a value to_bf16 makes of x */
	if (of3_backend_upload(&be, dy, got, (size_t)nt * sizeof *got) < 0)
		die("upload");
	gpu->to_bf16(dy, dx, nt);
	if (of3_backend_sync(&be) < 0 ||
	    of3_backend_download(&be, got, dy, (size_t)nt * sizeof *got) < 0)
		die("download");
	int64_t n_bad = 0, first = -1;
	for (int64_t i = 0; i < nt; i++)
		if (got[i] != ref[i] && n_bad++ == 0)
			first = i;
	CHECK(n_bad == 0, "%s to_bf16 n=%lld: identical bits (%lld differ%s)",
	      fp32_mode ? "fp32" : "bf16", (long long)nt, (long long)n_bad,
	      first < 0 ? "" : ", e.g. the first");
	if (first >= 0)
		printf("#   x %08x: gpu %04x cpu %04x\n", u[first], got[first], ref[first]);
	dfree(2, dx, dy);
	free(u), free(x), free(ref), free(got);
}

/* linear_stack_lp against the CPU's linear_stack: T products, one x for all (shared) or one per
 * problem, the weights' bf16 copy made on the GPU by to_bf16 as the layers make it. fp32 mode
 * computes linear_stack (tolerance 1e-5); bf16 mode rounds both operands to bf16 (unit roundoff
 * 2^-9), which for inputs uniform in [-1, 1] gives errors of about 2e-3 of max|y|: the 1e-2 of
 * the bf16 products still fails a transposed W, a lost bias, or, at these widths, one term of
 * the I left out (|x w| up to 1 against max|y| ~ 1.3 sqrt(I)). */
static void test_linear_stack_lp(int64_t n_stack, int64_t n_r, int64_t n_in, int64_t n_out,
                                 int shared, int bias)
{
	const int64_t xs = shared ? 0 : n_r * n_in, nx = shared ? n_r * n_in : n_stack * n_r * n_in;
	const int64_t ny = n_stack * n_r * n_out, nw = n_stack * n_out * n_in;
	float *x = rnd(nx, -1, 1), *w = rnd(nw, -1, 1),
	      *b = bias ? rnd(n_stack * n_out, -1, 1) : NULL;
	float *ref = xmalloc((size_t)ny * sizeof *ref);
	cpu->linear_stack(ref, x, xs, w, b, n_stack, n_r, n_in, n_out);
	float *dx = dev(x, nx), *dw = dev(w, nw), *db = dev(b, n_stack * n_out), *dy = dev_nan(ny);
	void *dwl = of3_backend_alloc(&be, (size_t)(nw > 0 ? nw : 1) * sizeof(uint16_t));
	if (!dwl)
		die("alloc");
	gpu->to_bf16(dwl, dw, nw);
	gpu->linear_stack_lp(dy, dx, xs, dw, dwl, db, n_stack, n_r, n_in, n_out);
	char s[80];
	snprintf(s, sizeof s, "T=%lld R=%lld I=%lld O=%lld%s%s", (long long)n_stack, (long long)n_r,
	         (long long)n_in, (long long)n_out, shared ? " shared x" : "", bias ? " bias" : "");
	compare("linear_stack_lp", s, ref, dy, ny, 1);
	dfree(5, dx, dw, db, dy, dwl);
	free(x), free(w), free(b), free(ref);
}

/* ---- producers of ready bf16 product operands (adaln_apply_lp, swiglu_lp) and the product
 * that takes their copy (linear_stack_lpx) ---- */

/* n uint16 of device memory filled with 0xa5a5, a pattern no bf16 copy of these inputs has
 * (|x| ~ 3e-16): an _lp producer that writes where it must not, or leaves out an element it
 * must write, shows */
static void *dev_lp_poison(int64_t n)
{
	uint16_t *h = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *h);
	memset(h, 0xa5, (size_t)(n > 0 ? n : 1) * sizeof *h);
	void *d = of3_backend_alloc(&be, (size_t)(n > 0 ? n : 1) * sizeof *h);
	if (!d || of3_backend_upload(&be, d, h, (size_t)n * sizeof *h) < 0)
		die("upload");
	free(h);
	return d;
}

/* y_lp[n] against y[n], both of the GPU: bf16 mode, the bits of to_bf16 of the y the GPU
 * wrote (the CPU's to_bf16, itself checked bit for bit against the GPU's); fp32 mode, the
 * poison of dev_lp_poison untouched */
static void check_lp_copy(const char *op, const char *shape, const float *d_y, const void *d_lp,
                          int64_t n)
{
	float *y = host(d_y, n);
	uint16_t *got = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *got),
	         *want = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *want);
	if (of3_backend_download(&be, got, d_lp, (size_t)n * sizeof *got) < 0)
		die("download");
	if (fp32_mode)
		memset(want, 0xa5, (size_t)n * sizeof *want);
	else
		cpu->to_bf16(want, y, n);
	int64_t n_bad = 0, first = -1;
	for (int64_t i = 0; i < n; i++)
		if (got[i] != want[i] && n_bad++ == 0)
			first = i;
	CHECK(n_bad == 0, "%s %-17s %-34s y_lp %s (%lld differ)", fp32_mode ? "fp32" : "bf16", op,
	      shape, fp32_mode ? "untouched" : "= to_bf16(y)", (long long)n_bad);
	if (first >= 0) {
		uint32_t u;
		memcpy(&u, &y[first], sizeof u);
		printf("#   [%lld] y %08x: y_lp %04x want %04x\n", (long long)first, u, got[first],
		       want[first]);
	}
	free(y), free(got), free(want);
}

/* identical bytes of two device results of n floats */
static void check_same(const char *what, const char *shape, const float *d_a, const float *d_b,
                       int64_t n)
{
	float *x = host(d_a, n), *y = host(d_b, n);
	CHECK(memcmp(x, y, (size_t)n * sizeof *x) == 0, "%s %-34s %s: identical bytes",
	      fp32_mode ? "fp32" : "bf16", shape, what);
	free(x), free(y);
}

/* The token transformer's chains on D = n_rep repeats of [R,C]: adaln_apply_lp (out of place
 * and in place) into the T = n_stack stacked products of O = n_out outputs, swiglu_lp (in
 * place, as the transition) into one of C outputs, each product by linear_stack_lpx on the
 * producer's copy. The producers' y against the CPU (exact ops: 1e-5) and the same bytes as
 * adaln_apply's and swiglu's; y_lp as check_lp_copy; the products against the CPU's fp32
 * linear_stack of the GPU's x (the bf16 bar in bf16 mode), and the same bytes as
 * linear_stack_lp rounding x itself (the same operands through the same cuBLAS call). Then
 * linear_stack_lpx with one x per problem (x_stride), its copy from to_bf16. */
static void test_lp_producers(int64_t n_rep, int64_t n_r, int64_t n_c, int64_t n_stack,
                              int64_t n_out, int bias)
{
	const int64_t n = n_r * n_c, na = n_rep * n, R = n_rep * n_r;
	const int64_t nw = n_stack * n_out * n_c, ny = n_stack * R * n_out;
	char s[80];
	snprintf(s, sizeof s, "D=%lld R=%lld C=%lld T=%lld O=%lld%s", (long long)n_rep,
	         (long long)n_r, (long long)n_c, (long long)n_stack, (long long)n_out,
	         bias ? " bias" : "");
	float *x = rnd(na, -4, 4), *sh = rnd(n, -1, 1), *g = rnd(n, -6, 6), *ref = rnd(na, 0, 1);
	float *w = rnd(nw, -1, 1), *b = bias ? rnd(n_stack * n_out, -1, 1) : NULL;
	float *dx = dev(x, na), *dsh = dev(sh, n), *dg = dev(g, n), *dw = dev(w, nw),
	      *db = dev(b, n_stack * n_out);
	void *dwl = of3_backend_alloc(&be, (size_t)(nw > 0 ? nw : 1) * sizeof(uint16_t));
	if (!dwl)
		die("alloc");
	gpu->to_bf16(dwl, dw, nw);

	/* the CPU's producers leave y_lp alone */
	uint16_t *hl = xmalloc((size_t)(na > 0 ? na : 1) * sizeof *hl);
	memset(hl, 0xa5, (size_t)(na > 0 ? na : 1) * sizeof *hl);
	cpu->adaln_apply_lp(ref, hl, x, g, sh, n_rep, n_r, n_c, OF3_LN_EPS);
	cpu->swiglu_lp(ref, hl, x, g, n);
	int64_t n_touched = 0;
	for (int64_t i = 0; i < na; i++)
		n_touched += hl[i] != 0xa5a5;
	CHECK(n_touched == 0, "%s cpu _lp producers %-34s y_lp untouched (%lld written)",
	      fp32_mode ? "fp32" : "bf16", s, (long long)n_touched);
	free(hl);

	/* adaln_apply_lp out of place: y, y_lp, the same y as adaln_apply */
	cpu->adaln_apply(ref, x, g, sh, n_rep, n_r, n_c, OF3_LN_EPS);
	float *dy = dev_nan(na), *dy0 = dev_nan(na);
	void *dyl = dev_lp_poison(na);
	gpu->adaln_apply_lp(dy, dyl, dx, dg, dsh, n_rep, n_r, n_c, OF3_LN_EPS);
	gpu->adaln_apply(dy0, dx, dg, dsh, n_rep, n_r, n_c, OF3_LN_EPS);
	compare("adaln_apply_lp", s, ref, dy, na, 0);
	check_lp_copy("adaln_apply_lp", s, dy, dyl, na);
	check_same("adaln_apply_lp's y = adaln_apply's", s, dy, dy0, na);
	/* in place (y = x), as the layers may */
	float *dyi = dev(x, na);
	void *dyli = dev_lp_poison(na);
	gpu->adaln_apply_lp(dyi, dyli, dyi, dg, dsh, n_rep, n_r, n_c, OF3_LN_EPS);
	compare("adaln_apply_lp", "in place", ref, dyi, na, 0);
	check_lp_copy("adaln_apply_lp", "in place", dyi, dyli, na);
	dfree(2, dyi, dyli);

	/* the stacked product on the copy (shared x, as q/g/k/v and the transition's a/b) against
	 * the CPU's on the GPU's y, and against linear_stack_lp rounding y itself */
	float *yh = host(dy, na), *pref = xmalloc((size_t)ny * sizeof *pref);
	cpu->linear_stack(pref, yh, 0, w, b, n_stack, R, n_c, n_out);
	float *dp = dev_nan(ny), *dp0 = dev_nan(ny);
	gpu->linear_stack_lpx(dp, dy, dyl, 0, dw, dwl, db, n_stack, R, n_c, n_out);
	gpu->linear_stack_lp(dp0, dy, 0, dw, dwl, db, n_stack, R, n_c, n_out);
	compare("linear_stack_lpx", s, pref, dp, ny, 1);
	check_same("linear_stack_lpx = linear_stack_lp", s, dp, dp0, ny);
	dfree(2, dp, dp0);
	free(pref);

	/* swiglu_lp in place on a = y (the transition's h1 = silu(h1) * h2), b = x; then its
	 * output product into C outputs (T = 1, as linear_out) */
	{
		float *sref = xmalloc((size_t)na * sizeof *sref);
		cpu->swiglu(sref, yh, x, na);
		float *ds = dev(yh, na), *ds0 = dev_nan(na);
		void *dsl = dev_lp_poison(na);
		gpu->swiglu_lp(ds, dsl, ds, dx, na);
		gpu->swiglu(ds0, dy, dx, na);
		compare("swiglu_lp", s, sref, ds, na, 0);
		check_lp_copy("swiglu_lp", s, ds, dsl, na);
		check_same("swiglu_lp's y = swiglu's", s, ds, ds0, na);
		const int64_t no = R * n_c, nwo = n_c * n_c;
		float *wo = rnd(nwo, -1, 1), *sh2 = host(ds, na),
		      *oref = xmalloc((size_t)no * sizeof *oref);
		cpu->linear_stack(oref, sh2, 0, wo, NULL, 1, R, n_c, n_c);
		float *dwo = dev(wo, nwo), *dout = dev_nan(no), *dout0 = dev_nan(no);
		void *dwol = of3_backend_alloc(&be, (size_t)(nwo > 0 ? nwo : 1) * sizeof(uint16_t));
		if (!dwol)
			die("alloc");
		gpu->to_bf16(dwol, dwo, nwo);
		gpu->linear_stack_lpx(dout, ds, dsl, 0, dwo, dwol, NULL, 1, R, n_c, n_c);
		gpu->linear_stack_lp(dout0, ds, 0, dwo, dwol, NULL, 1, R, n_c, n_c);
		compare("linear_stack_lpx", "after swiglu_lp", oref, dout, no, 1);
		check_same("linear_stack_lpx = linear_stack_lp", "after swiglu_lp", dout, dout0,
		           no);
		dfree(7, ds, ds0, dsl, dwo, dout, dout0, dwol);
		free(sref), free(wo), free(sh2), free(oref);
	}

	/* one x per problem: slices x_stride = R*C apart, the copy from to_bf16 (only bf16 mode
	 * reads it; fp32 mode computes linear_stack whatever it holds) */
	{
		const int64_t xs = R * n_c, nx = n_stack * xs;
		float *xx = rnd(nx, -1, 1), *xref = xmalloc((size_t)ny * sizeof *xref);
		cpu->linear_stack(xref, xx, xs, w, b, n_stack, R, n_c, n_out);
		float *dxx = dev(xx, nx), *dq = dev_nan(ny), *dq0 = dev_nan(ny);
		void *dxl = dev_lp_poison(nx);
		gpu->to_bf16(dxl, dxx, nx);
		gpu->linear_stack_lpx(dq, dxx, dxl, xs, dw, dwl, db, n_stack, R, n_c, n_out);
		gpu->linear_stack_lp(dq0, dxx, xs, dw, dwl, db, n_stack, R, n_c, n_out);
		compare("linear_stack_lpx", "one x per problem", xref, dq, ny, 1);
		check_same("linear_stack_lpx = linear_stack_lp", "one x per problem", dq, dq0, ny);
		dfree(4, dxx, dq, dq0, dxl);
		free(xx), free(xref);
	}

	dfree(9, dx, dsh, dg, dw, db, dwl, dy, dy0, dyl);
	free(x), free(sh), free(g), free(ref), free(w), free(b), free(yh);
}

/* linear_acc: y0 + x W^T into a y that holds y0 */
static void test_linear_acc(int64_t n_r, int64_t n_in, int64_t n_out)
{
	float *x = rnd(n_r * n_in, -1, 1), *w = rnd(n_out * n_in, -1, 1),
	      *ref = rnd(n_r * n_out, -2, 2);
	float *dx = dev(x, n_r * n_in), *dw = dev(w, n_out * n_in), *dy = dev(ref, n_r * n_out);
	cpu->linear_acc(ref, x, w, n_r, n_in, n_out);
	gpu->linear_acc(dy, dx, dw, n_r, n_in, n_out);
	char s[64];
	snprintf(s, sizeof s, "R=%lld I=%lld O=%lld", (long long)n_r, (long long)n_in,
	         (long long)n_out);
	compare("linear_acc", s, ref, dy, n_r * n_out, 1);
	dfree(3, dx, dw, dy);
	free(x), free(w), free(ref);
}

/* the transposed pair ops: layer_norm_t of x[I,J,C] into y[J,I,C]; linear_acc_t of x[J,I,In]
 * into y[I,J,O] that holds y0 */
static void test_pair_t(int64_t n_i, int64_t n_j, int64_t n_c, int64_t n_out, int affine)
{
	const int64_t n = n_i * n_j * n_c, ny = n_i * n_j * n_out;
	float *x = rnd(n, -3, 5), *w = affine ? rnd(n_c, 0.5, 1.5) : NULL,
	      *b = affine ? rnd(n_c, -1, 1) : NULL, *ref = xmalloc((size_t)n * sizeof *ref);
	float *dx = dev(x, n), *dw = dev(w, n_c), *db = dev(b, n_c), *dy = dev_nan(n);
	char s[80];
	snprintf(s, sizeof s, "I=%lld J=%lld C=%lld%s", (long long)n_i, (long long)n_j,
	         (long long)n_c, affine ? " w,b" : "");
	cpu->layer_norm_t(ref, x, w, b, n_i, n_j, n_c, OF3_LN_EPS);
	gpu->layer_norm_t(dy, dx, dw, db, n_i, n_j, n_c, OF3_LN_EPS);
	compare("layer_norm_t", s, ref, dy, n, 0);
	dfree(3, dw, db, dy);
	free(w), free(b), free(ref);
	/* x read as [J,I,C] */
	float *wl = rnd(n_out * n_c, -1, 1), *ry = rnd(ny, -2, 2);
	float *dwl = dev(wl, n_out * n_c);
	dy = dev(ry, ny);
	cpu->linear_acc_t(ry, x, wl, n_i, n_j, n_c, n_out);
	gpu->linear_acc_t(dy, dx, dwl, n_i, n_j, n_c, n_out);
	snprintf(s, sizeof s, "I=%lld J=%lld In=%lld O=%lld", (long long)n_i, (long long)n_j,
	         (long long)n_c, (long long)n_out);
	compare("linear_acc_t", s, ry, dy, ny, 1);
	dfree(3, dx, dwl, dy);
	free(x), free(wl), free(ry);
}

/* the fused gates: tri_mul_gate from a [4,R,C] stack (out of place, and in place over the
 * stack's a_p and b_p), swiglu_rows with and without the mask (out of place, and in place
 * over a) */
static void test_fused_gates(int64_t n_r, int64_t n_c)
{
	const int64_t n = n_r * n_c;
	float *p = rnd(4 * n, -6, 6), *mask = rmask(n_r);
	float *ra = xmalloc((size_t)n * sizeof *ra), *rb = xmalloc((size_t)n * sizeof *rb);
	float *dp = dev(p, 4 * n), *dm = dev(mask, n_r), *da = dev_nan(n), *db = dev_nan(n);
	char s[64];
	snprintf(s, sizeof s, "R=%lld C=%lld", (long long)n_r, (long long)n_c);
	cpu->tri_mul_gate(ra, rb, p, mask, n_r, n_c);
	gpu->tri_mul_gate(da, db, dp, dm, n_r, n_c);
	compare("tri_mul_gate", s, ra, da, n, 0);
	compare("tri_mul_gate", "b", rb, db, n, 0);
	gpu->tri_mul_gate(dp, dp + 2 * n, dp, dm, n_r, n_c);
	compare("tri_mul_gate", "a in place", ra, dp, n, 0);
	compare("tri_mul_gate", "b in place", rb, dp + 2 * n, n, 0);
	of3_backend_free(&be, dp);
	dp = dev(p, 2 * n);
	for (int masked = 0; masked < 2; masked++) {
		const float *m = masked ? mask : NULL, *dmm = masked ? dm : NULL;
		cpu->swiglu_rows(ra, p, p + n, m, n_r, n_c);
		gpu->swiglu_rows(da, dp, dp + n, dmm, n_r, n_c);
		compare("swiglu_rows", masked ? "masked" : s, ra, da, n, 0);
	}
	gpu->swiglu_rows(dp, dp, dp + n, dm, n_r, n_c);
	compare("swiglu_rows", "masked, in place", ra, dp, n, 0);
	dfree(4, dp, dm, da, db);
	free(p), free(mask), free(ra), free(rb);
}

/* the element-wise ops over n values, each against the CPU */
static void test_elementwise(int64_t n)
{
	float *a = rnd(n, -6, 6), *b = rnd(n, -2, 2), *ref = xmalloc((size_t)n * sizeof *ref);
	float *da = dev(a, n), *db = dev(b, n), *dy = dev_nan(n);
	char s[64];
	snprintf(s, sizeof s, "n=%lld", (long long)n);
	cpu->sigmoid(ref, a, n), gpu->sigmoid(dy, da, n);
	compare("sigmoid", s, ref, dy, n, 0);
	cpu->mul(ref, a, b, n), gpu->mul(dy, da, db, n);
	compare("mul", s, ref, dy, n, 0);
	cpu->swiglu(ref, a, b, n), gpu->swiglu(dy, da, db, n);
	compare("swiglu", s, ref, dy, n, 0);
	cpu->sigmoid_mul(ref, a, b, n), gpu->sigmoid_mul(dy, da, db, n);
	compare("sigmoid_mul", s, ref, dy, n, 0);
	cpu->relu(ref, a, n), gpu->relu(dy, da, n);
	compare("relu", s, ref, dy, n, 0);
	cpu->div_scalar(ref, a, 3.7f, n), gpu->div_scalar(dy, da, 3.7f, n);
	compare("div_scalar", s, ref, dy, n, 0);
	cpu->copy(ref, a, n), gpu->copy(dy, da, n);
	compare("copy", s, ref, dy, n, 0);
	/* y += x, in place on a copy of b */
	memcpy(ref, b, (size_t)n * sizeof *ref);
	cpu->add(ref, a, n);
	float *dyb = dev(b, n);
	gpu->add(dyb, da, n);
	compare("add", s, ref, dyb, n, 0);
	/* y may equal x */
	memcpy(ref, a, (size_t)n * sizeof *ref);
	cpu->sigmoid(ref, ref, n), gpu->sigmoid(da, da, n);
	snprintf(s, sizeof s, "n=%lld in place", (long long)n);
	compare("sigmoid", s, ref, da, n, 0);
	dfree(4, da, db, dy, dyb);
	free(a), free(b), free(ref);
}

static void test_large_add(int64_t n)
{
	float *a = rnd(n, -1, 1), *ref = rnd(n, -1, 1);
	float *da = dev(a, n), *dy = dev(ref, n);
	cpu->add(ref, a, n);
	gpu->add(dy, da, n);
	char s[64];
	snprintf(s, sizeof s, "n=%lld", (long long)n);
	compare("add", s, ref, dy, n, 0);
	dfree(2, da, dy);
	free(a), free(ref);
}

static void test_rows(int64_t n_r, int64_t n_c)
{
	float *x = rnd(n_r * n_c, -4, 4), *mask = rmask(n_r), *den = rnd(n_r, 0, 30);
	float *ref = xmalloc((size_t)(n_r * n_c) * sizeof *ref);
	char s[64];
	snprintf(s, sizeof s, "R=%lld C=%lld", (long long)n_r, (long long)n_c);
	memcpy(ref, x, (size_t)(n_r * n_c) * sizeof *ref);
	cpu->mask_rows(ref, mask, n_r, n_c);
	float *dx = dev(x, n_r * n_c), *dm = dev(mask, n_r), *dd = dev(den, n_r);
	gpu->mask_rows(dx, dm, n_r, n_c);
	compare("mask_rows", s, ref, dx, n_r * n_c, 0);
	of3_backend_free(&be, dx);
	memcpy(ref, x, (size_t)(n_r * n_c) * sizeof *ref);
	cpu->div_rows(ref, den, 1e-3f, n_r, n_c);
	dx = dev(x, n_r * n_c);
	gpu->div_rows(dx, dd, 1e-3f, n_r, n_c);
	compare("div_rows", s, ref, dx, n_r * n_c, 0);
	dfree(3, dx, dm, dd);
	free(x), free(mask), free(den), free(ref);
}

static void test_transpose_pair(int64_t n_i, int64_t n_j, int64_t n_c)
{
	int64_t n = n_i * n_j * n_c;
	float *x = rnd(n, -1, 1), *ref = xmalloc((size_t)n * sizeof *ref);
	cpu->transpose_pair(ref, x, n_i, n_j, n_c);
	float *dx = dev(x, n), *dy = dev_nan(n);
	gpu->transpose_pair(dy, dx, n_i, n_j, n_c);
	char s[64];
	snprintf(s, sizeof s, "I=%lld J=%lld C=%lld", (long long)n_i, (long long)n_j,
	         (long long)n_c);
	compare("transpose_pair", s, ref, dy, n, 0);
	dfree(2, dx, dy);
	free(x), free(ref);
}

static void test_softmax(int64_t n_r, int64_t n_k, int64_t n_mask_rows, int masked)
{
	float *x = rnd(n_r * n_k, -8, 8), *mask = masked ? rmask(n_mask_rows * n_k) : NULL;
	if (mask) /* the first mask row masks everything: a uniform row on both sides */
		memset(mask, 0, (size_t)n_k * sizeof *mask);
	float *ref = xmalloc((size_t)(n_r * n_k) * sizeof *ref);
	memcpy(ref, x, (size_t)(n_r * n_k) * sizeof *ref);
	cpu->softmax(ref, mask, n_mask_rows, n_r, n_k);
	float *dx = dev(x, n_r * n_k), *dm = dev(mask, n_mask_rows * n_k);
	gpu->softmax(dx, dm, n_mask_rows, n_r, n_k);
	char s[64];
	snprintf(s, sizeof s, "R=%lld K=%lld mask rows %lld", (long long)n_r, (long long)n_k,
	         masked ? (long long)n_mask_rows : 0LL);
	compare("softmax", s, ref, dx, n_r * n_k, 0);
	dfree(2, dx, dm);
	free(x), free(mask), free(ref);
}

/* flags: 1 mask, 2 bias, 4 gate, 8 every key of problem 0 masked (the mask bias then swamps the
 * logits in float on both sides: a uniform average, not NaN) */
static void test_attention(int64_t n_b, int64_t n_q, int64_t n_k, int64_t n_head, int64_t d_head,
                           int flags)
{
	int64_t hd = n_head * d_head, nq = n_b * n_q * hd, nk = n_b * n_k * hd;
	float *q = rnd(nq, -1, 1), *k = rnd(nk, -1, 1), *v = rnd(nk, -1, 1);
	float *gate = flags & 4 ? rnd(nq, -3, 3) : NULL;
	float *mask = flags & 1 ? rmask(n_b * n_k) : NULL;
	float *bias = flags & 2 ? rnd(n_q * n_k * n_head, -2, 2) : NULL;
	if (mask) /* at least one key per problem but, with flag 8, the first */
		for (int64_t b = 0; b < n_b; b++) {
			for (int64_t j = 0; j < n_k; j++) {
				if (flags & 8 && b == 0)
					mask[j] = 0.0f;
				else if (j == b % n_k)
					mask[b * n_k + j] = 1.0f;
			}
		}
	float *ref = xmalloc((size_t)nq * sizeof *ref);
	cpu->attention(ref, q, k, v, gate, mask, bias, n_b, n_q, n_k, n_head, d_head);
	float *dq = dev(q, nq), *dk = dev(k, nk), *dv = dev(v, nk), *dg = dev(gate, nq),
	      *dm = dev(mask, n_b * n_k), *dbias = dev(bias, n_q * n_k * n_head),
	      *dout = dev_nan(nq);
	gpu->attention(dout, dq, dk, dv, dg, dm, dbias, n_b, n_q, n_k, n_head, d_head);
	char s[80];
	snprintf(s, sizeof s, "B=%lld Q=%lld K=%lld H=%lld d=%lld%s%s%s", (long long)n_b,
	         (long long)n_q, (long long)n_k, (long long)n_head, (long long)d_head,
	         flags & 8   ? " m0"
	         : flags & 1 ? " m"
	                     : "",
	         flags & 2 ? " b" : "", flags & 4 ? " g" : "");
	compare("attention", s, ref, dout, nq, 1); /* bf16 mode: tensor-core products */
	dfree(7, dq, dk, dv, dg, dm, dbias, dout);
	free(q), free(k), free(v), free(gate), free(mask), free(bias), free(ref);
}

/* Grouped attention: n_b problems, problem b with mask row and bias group b % n_grp (one key
 * per row kept alive), against the CPU's, which runs the plain op per problem. */
static void test_attention_grouped(int64_t n_b, int64_t n_grp, int64_t n_q, int64_t n_k,
                                   int64_t n_head, int64_t d_head, int gated)
{
	int64_t hd = n_head * d_head, nq = n_b * n_q * hd, nk = n_b * n_k * hd;
	float *q = rnd(nq, -1, 1), *k = rnd(nk, -1, 1), *v = rnd(nk, -1, 1);
	float *gate = gated ? rnd(nq, -3, 3) : NULL;
	float *mask = rmask(n_grp * n_k), *bias = rnd(n_grp * n_q * n_k * n_head, -2, 2);
	for (int64_t g = 0; g < n_grp; g++)
		mask[g * n_k + g % n_k] = 1.0f;
	float *ref = xmalloc((size_t)nq * sizeof *ref);
	cpu->attention_grouped(ref, q, k, v, gate, mask, bias, n_b, n_grp, n_q, n_k, n_head,
	                       d_head);
	float *dq = dev(q, nq), *dk = dev(k, nk), *dv = dev(v, nk), *dg = dev(gate, nq),
	      *dm = dev(mask, n_grp * n_k), *dbias = dev(bias, n_grp * n_q * n_k * n_head),
	      *dout = dev_nan(nq);
	gpu->attention_grouped(dout, dq, dk, dv, dg, dm, dbias, n_b, n_grp, n_q, n_k, n_head,
	                       d_head);
	char s[80];
	snprintf(s, sizeof s, "B=%lld G=%lld Q=%lld K=%lld H=%lld d=%lld%s", (long long)n_b,
	         (long long)n_grp, (long long)n_q, (long long)n_k, (long long)n_head,
	         (long long)d_head, gated ? " g" : "");
	compare("attention_grouped", s, ref, dout, nq, 1);
	dfree(7, dq, dk, dv, dg, dm, dbias, dout);
	free(q), free(k), free(v), free(gate), free(mask), free(bias), free(ref);
}

/* attention_atoms: the atom blocks read in place from [D,A,H*d] against the CPU's op, and against
 * what it replaces on the same GPU (window copies, attention_grouped, the real rows copied out):
 * the same arithmetic on the same values, so the same bytes. The key mask is atom_block_masks'
 * of a random atom mask (flags 2: every atom masked); flags 1: a gate. */
static void test_attention_atoms(int64_t n_rep, int64_t n_atom, int64_t n_head, int64_t d_head,
                                 int flags)
{
	const int64_t A = n_atom, nb = (A + 31) / 32, hd = n_head * d_head, n = n_rep * A * hd;
	const int64_t nwq = n_rep * nb * 32 * hd, nwk = n_rep * nb * 128 * hd;
	const int64_t nm = nb * 128, nbias = nb * 32 * 128 * n_head;
	float *q = rnd(n, -1, 1), *k = rnd(n, -1, 1), *v = rnd(n, -1, 1);
	float *gate = flags & 1 ? rnd(n, -3, 3) : NULL;
	float *am = rmask(A), *mask = xmalloc((size_t)nm * sizeof *mask);
	float *bias = rnd(nbias, -2, 2), *ref = xmalloc((size_t)n * sizeof *ref);
	if (flags & 2)
		for (int64_t a = 0; a < A; a++)
			am[a] = 0.0f;
	cpu->atom_block_masks(NULL, mask, NULL, am, A);
	cpu->attention_atoms(ref, q, k, v, gate, mask, bias, n_rep, A, n_head, d_head);
	float *dq = dev(q, n), *dk = dev(k, n), *dv = dev(v, n), *dg = dev(gate, n),
	      *dm = dev(mask, nm), *dbias = dev(bias, nbias), *dout = dev_nan(n);
	gpu->attention_atoms(dout, dq, dk, dv, dg, dm, dbias, n_rep, A, n_head, d_head);
	char s[80];
	snprintf(s, sizeof s, "D=%lld A=%lld H=%lld d=%lld%s%s", (long long)n_rep, (long long)A,
	         (long long)n_head, (long long)d_head, flags & 2 ? " m0" : " m",
	         flags & 1 ? " g" : "");
	compare("attention_atoms", s, ref, dout, n, 1); /* bf16 mode: tensor-core products */

	float *dqw = dev_nan(nwq), *dgw = gate ? dev_nan(nwq) : NULL, *dow = dev_nan(nwq);
	float *dkw = dev_nan(nwk), *dvw = dev_nan(nwk), *dwin = dev_nan(n);
	gpu->atom_windows_rep(dqw, dq, n_rep, A, hd, 32, 0);
	if (gate)
		gpu->atom_windows_rep(dgw, dg, n_rep, A, hd, 32, 0);
	gpu->atom_windows_rep(dkw, dk, n_rep, A, hd, 128, -48);
	gpu->atom_windows_rep(dvw, dv, n_rep, A, hd, 128, -48);
	gpu->attention_grouped(dow, dqw, dkw, dvw, dgw, dm, dbias, n_rep * nb, nb, 32, 128, n_head,
	                       d_head);
	gpu->copy_2d(dwin, A * hd, dow, nb * 32 * hd, n_rep, A * hd);
	float *got = host(dout, n), *win = host(dwin, n);
	CHECK(memcmp(got, win, (size_t)n * sizeof *got) == 0,
	      "%s attention_atoms   %-34s the same bytes as windows + attention_grouped",
	      fp32_mode ? "fp32" : "bf16", s);
	dfree(13, dq, dk, dv, dg, dm, dbias, dout, dqw, dgw, dow, dkw, dvw, dwin);
	free(q), free(k), free(v), free(gate), free(am), free(mask), free(bias), free(ref),
	        free(got), free(win);
}

static void test_tri_mul(int64_t n, int64_t n_h, int incoming)
{
	int64_t m = n * n * n_h;
	float *a = rnd(m, -1, 1), *b = rnd(m, -1, 1), *ref = xmalloc((size_t)m * sizeof *ref);
	cpu->tri_mul(ref, a, b, n, n_h, incoming);
	float *da = dev(a, m), *db = dev(b, m), *dp = dev_nan(m);
	gpu->tri_mul(dp, da, db, n, n_h, incoming);
	char s[64];
	snprintf(s, sizeof s, "N=%lld h=%lld %s", (long long)n, (long long)n_h,
	         incoming ? "incoming" : "outgoing");
	compare("tri_mul", s, ref, dp, m, 1);
	dfree(3, da, db, dp);
	free(a), free(b), free(ref);
}

static void test_pair_embed(int64_t n_tok, int64_t n_c, int64_t n_bin)
{
	char s[64];
	snprintf(s, sizeof s, "N=%lld C=%lld", (long long)n_tok, (long long)n_c);
	/* gather_rows: y[R,C] = x[idx[r],C] with R = 2N rows drawn from N */
	int64_t n_r = 2 * n_tok;
	float *x = rnd(n_tok * n_c, -1, 1), *ref = xmalloc((size_t)(n_r * n_c) * sizeof *ref);
	int32_t *idx = xmalloc((size_t)n_r * sizeof *idx);
	for (int64_t r = 0; r < n_r; r++)
		idx[r] = (int32_t)(urand() * (double)n_tok);
	cpu->gather_rows(ref, x, idx, n_r, n_c);
	float *dx = dev(x, n_tok * n_c), *dy = dev_nan(n_r * n_c);
	int32_t *didx = of3_backend_alloc(&be, (size_t)n_r * sizeof *didx);
	if (!didx || of3_backend_upload(&be, didx, idx, (size_t)n_r * sizeof *idx) < 0)
		die("upload");
	gpu->gather_rows(dy, dx, didx, n_r, n_c);
	compare("gather_rows", s, ref, dy, n_r * n_c, 0);
	dfree(3, dx, dy, didx);
	free(x), free(ref), free(idx);

	/* outer_add: z[I,J,C] += a[I,C] + b[J,C] */
	int64_t nz = n_tok * n_tok * n_c;
	float *z = rnd(nz, -1, 1), *a = rnd(n_tok * n_c, -1, 1), *b = rnd(n_tok * n_c, -1, 1);
	ref = xmalloc((size_t)nz * sizeof *ref);
	memcpy(ref, z, (size_t)nz * sizeof *ref);
	cpu->outer_add(ref, a, b, n_tok, n_tok, n_c);
	float *dz = dev(z, nz), *da = dev(a, n_tok * n_c), *db = dev(b, n_tok * n_c);
	gpu->outer_add(dz, da, db, n_tok, n_tok, n_c);
	compare("outer_add", s, ref, dz, nz, 0);
	dfree(3, dz, da, db);
	free(z), free(a), free(b), free(ref);

	/* distance_onehot over points in a 30 Å box; exact agreement expected */
	float *pts = rnd(n_tok * 3, -15, 15);
	int64_t ny = n_tok * n_tok * n_bin;
	ref = xmalloc((size_t)ny * sizeof *ref);
	cpu->distance_onehot(ref, pts, n_tok, 3.25f, 1.25f, n_bin);
	float *dp = dev(pts, n_tok * 3), *dd = dev_nan(ny);
	gpu->distance_onehot(dd, dp, n_tok, 3.25f, 1.25f, n_bin);
	snprintf(s, sizeof s, "N=%lld bins=%lld", (long long)n_tok, (long long)n_bin);
	compare("distance_onehot", s, ref, dd, ny, 0);
	dfree(2, dp, dd);
	free(pts), free(ref);
}

static void test_outer_product(int64_t n_s, int64_t n_tok, int64_t i0, int64_t n_i, int64_t c_a,
                               int64_t c_b)
{
	float *a = rnd(n_s * n_tok * c_a, -1, 1), *b = rnd(n_s * n_tok * c_b, -1, 1);
	int64_t no = n_i * n_tok * c_a * c_b;
	float *ref = xmalloc((size_t)no * sizeof *ref);
	cpu->outer_product(ref, a, b, n_s, n_tok, i0, n_i, c_a, c_b);
	float *da = dev(a, n_s * n_tok * c_a), *db = dev(b, n_s * n_tok * c_b), *dout = dev_nan(no);
	gpu->outer_product(dout, da, db, n_s, n_tok, i0, n_i, c_a, c_b);
	char s[80];
	snprintf(s, sizeof s, "S=%lld N=%lld i0=%lld n_i=%lld c=%lld,%lld", (long long)n_s,
	         (long long)n_tok, (long long)i0, (long long)n_i, (long long)c_a, (long long)c_b);
	compare("outer_product", s, ref, dout, no, 1);
	dfree(3, da, db, dout);
	free(a), free(b), free(ref);
}

static void test_pair_weighted_avg(int64_t n_s, int64_t n_tok, int64_t n_head, int64_t d_head)
{
	int64_t nw = n_head * n_tok * n_tok, nv = n_s * n_tok * n_head * d_head;
	float *w = rnd(nw, -4, 4), *v = rnd(nv, -1, 1), *ref = xmalloc((size_t)nv * sizeof *ref);
	cpu->softmax(w, NULL, 1, n_head * n_tok, n_tok);
	cpu->pair_weighted_avg(ref, w, v, n_s, n_tok, n_head, d_head);
	float *dw = dev(w, nw), *dv = dev(v, nv), *dout = dev_nan(nv);
	gpu->pair_weighted_avg(dout, dw, dv, n_s, n_tok, n_head, d_head);
	char s[64];
	snprintf(s, sizeof s, "S=%lld N=%lld H=%lld d=%lld", (long long)n_s, (long long)n_tok,
	         (long long)n_head, (long long)d_head);
	compare("pair_weighted_avg", s, ref, dout, nv, 1);
	dfree(3, dw, dv, dout);
	free(w), free(v), free(ref);
}

/* ---- diffusion and atom-level ops (issue #10) ---- */

/* n int32 values in backend memory */
static int32_t *dev_i32(const int32_t *h, int64_t n)
{
	int32_t *d = of3_backend_alloc(&be, (size_t)(n > 0 ? n : 1) * sizeof *d);
	if (!d || of3_backend_upload(&be, d, h, (size_t)n * sizeof *d) < 0)
		die("upload");
	return d;
}

/* The atom-level ops on A atoms (nb = ceil(A/32) blocks, partial last block and key windows
 * past both ends), C channels, N tokens; masks with zeros; atoms in token order with some
 * tokens empty. Every op is exact on the GPU (same operations in the same order as the CPU)
 * but asinh (an ulp or two). */
static void test_atom_ops(int64_t n_atom, int64_t n_c, int64_t n_tok)
{
	const int64_t A = n_atom, nb = (A + 31) / 32, e = nb * 32 * 128, C = n_c;
	char s[64];
	snprintf(s, sizeof s, "A=%lld C=%lld N=%lld", (long long)A, (long long)C, (long long)n_tok);
	float *x = rnd(A * C, -4, 4), *mask = rmask(A), *pos = rnd(A * 3, -20, 20);
	int32_t *ix = xmalloc((size_t)(A * C) * sizeof *ix),
	        *uid = xmalloc((size_t)A * sizeof *uid);
	int32_t *tok = xmalloc((size_t)A * sizeof *tok);
	for (int64_t i = 0; i < A * C; i++)
		ix[i] = (int32_t)(urand() * 5) - 2;
	for (int64_t i = 0; i < A; i++) {
		uid[i] = (int32_t)(urand() * 3);
		/* non-decreasing, roughly A/N atoms a token, gaps left empty */
		tok[i] = (int32_t)((double)i * (double)n_tok / (double)A);
	}
	float *dx = dev(x, A * C), *dm = dev(mask, A), *dpos = dev(pos, A * 3);
	int32_t *dix = dev_i32(ix, A * C), *duid = dev_i32(uid, A), *dtok = dev_i32(tok, A);
	float *ref = xmalloc((size_t)(e * 128 > A * C ? e * 128 : A * C) * sizeof *ref);

	cpu->asinh(ref, x, A * C);
	float *dy = dev_nan(A * C);
	gpu->asinh(dy, dx, A * C);
	compare("asinh", s, ref, dy, A * C, 0);
	cpu->i32_to_f32(ref, ix, A * C);
	gpu->i32_to_f32(dy, dix, A * C);
	compare("i32_to_f32", s, ref, dy, A * C, 0);
	dfree(1, dy);

	for (int k = 0; k < 2; k++) { /* query windows, key windows */
		const int64_t n_win = k ? 128 : 32, first = k ? -48 : 0;
		cpu->atom_windows(ref, x, A, C, n_win, first);
		dy = dev_nan(nb * n_win * C);
		gpu->atom_windows(dy, dx, A, C, n_win, first);
		compare("atom_windows", s, ref, dy, nb * n_win * C, 0);
		dfree(1, dy);
	}

	float *mq = xmalloc((size_t)(nb * 32) * sizeof *mq), *mk = xmalloc((size_t)(nb * 128) * 4);
	float *pm = xmalloc((size_t)e * sizeof *pm);
	cpu->atom_block_masks(mq, mk, pm, mask, A);
	float *dmq = dev_nan(nb * 32), *dmk = dev_nan(nb * 128), *dpm = dev_nan(e);
	gpu->atom_block_masks(dmq, dmk, dpm, dm, A);
	compare("atom_block_masks", s, mq, dmq, nb * 32, 0);
	compare("atom_block_masks", s, mk, dmk, nb * 128, 0);
	compare("atom_block_masks", s, pm, dpm, e, 0);

	float *d3 = xmalloc((size_t)(e * 5) * sizeof *d3), *inv = d3 + e * 3, *v = inv + e;
	cpu->atom_pair_feats(d3, inv, v, pos, uid, pm, A);
	float *dd3 = dev_nan(e * 5);
	gpu->atom_pair_feats(dd3, dd3 + e * 3, dd3 + e * 4, dpos, duid, dpm, A);
	compare("atom_pair_feats", s, d3, dd3, e * 5, 0);

	/* p[e,C] on the blocks, += (lq + lk) * M, then += z[tok, tok] * M */
	float *p = rnd(e * C, -1, 1), *lq = rnd(A * C, -1, 1), *lk = rnd(A * C, -1, 1);
	float *z = rnd(n_tok * n_tok * C, -1, 1);
	float *dp = dev(p, e * C), *dlq = dev(lq, A * C), *dlk = dev(lk, A * C);
	float *dz = dev(z, n_tok * n_tok * C);
	cpu->atom_pair_outer_add(p, lq, lk, pm, A, C);
	gpu->atom_pair_outer_add(dp, dlq, dlk, dpm, A, C);
	compare("atom_pair_outer_add", s, p, dp, e * C, 0);
	cpu->atom_pair_gather_add(p, z, tok, pm, A, n_tok, C);
	gpu->atom_pair_gather_add(dp, dz, dtok, dpm, A, n_tok, C);
	compare("atom_pair_gather_add", s, p, dp, e * C, 0);

	/* concat_rows of x[A,C] and lq[A,C] (as [A,C-1] rows where C > 1: other widths) */
	const int64_t cb = C > 1 ? C - 1 : 1;
	cpu->concat_rows(ref, x, lq, A, C, cb);
	dy = dev_nan(A * (C + cb));
	gpu->concat_rows(dy, dx, dlq, A, C, cb);
	compare("concat_rows", s, ref, dy, A * (C + cb), 0);
	dfree(1, dy);

	/* edm_combine on [A rows of C] as D = 1 sample, then in place on 2 samples of A/2 */
	cpu->edm_combine(ref, x, lq, mask, 0.3, 17.25, A, A, C);
	dy = dev_nan(A * C);
	gpu->edm_combine(dy, dx, dlq, dm, 0.3, 17.25, A, A, C);
	compare("edm_combine", s, ref, dy, A * C, 0);
	cpu->edm_combine(x, x, lq, mask, 0.7, -2.5, A, (A + 1) / 2, C);
	gpu->edm_combine(dx, dx, dlq, dm, 0.7, -2.5, A, (A + 1) / 2, C);
	compare("edm_combine", s, x, dx, A * C, 0);
	dfree(1, dy);

	dfree(6, dx, dm, dpos, dix, duid, dtok);
	dfree(6, dmq, dmk, dpm, dd3, dp, dlq);
	dfree(2, dlk, dz);
	free(x), free(mask), free(pos), free(ix), free(uid), free(tok), free(ref), free(mq);
	free(mk), free(pm), free(d3), free(p), free(lq), free(lk), free(z);
}

/* ---- the sampler's step ops: augment_noise against the CPU (its centroid summed in another
 * order: 1e-5), and twice for the same bytes; sampler_update (the same float operations: exact)
 * ---- */

static void test_sampler_ops(int64_t n_sample, int64_t n_atom)
{
	const int64_t D = n_sample, A = n_atom, n = D * A * 3;
	char s[80];
	snprintf(s, sizeof s, "D=%lld A=%lld", (long long)D, (long long)A);
	float *x = rnd(n, -40, 40), *eps = rnd(n, -3, 3), *quat = rnd(4 * D, -1, 1);
	float *trans = rnd(3 * D, -2, 2), *mask = rmask(A), *den = rnd(n, -40, 40);
	float *ref = xmalloc((size_t)n * sizeof *ref), *ref2 = xmalloc((size_t)n * sizeof *ref2);
	float *dx = dev(x, n), *deps = dev(eps, n), *dq = dev(quat, 4 * D), *dt = dev(trans, 3 * D);
	float *dm = dev(mask, A), *dden = dev(den, n), *dy = dev_nan(n), *dy2 = dev_nan(n);
	cpu->augment_noise(ref, x, quat, trans, eps, mask, 2.5f, D, A);
	gpu->augment_noise(dy, dx, dq, dt, deps, dm, 2.5f, D, A);
	compare("augment_noise", s, ref, dy, n, 0);
	gpu->augment_noise(dy2, dx, dq, dt, deps, dm, 2.5f, D, A);
	check_same("augment_noise twice", s, dy, dy2, n);
	/* the update from the CPU's x̂ on both sides, out of place and in place (x = x̂) */
	float *dxh = dev(ref, n);
	cpu->sampler_update(ref2, ref, den, -0.75f, 3.5f, n);
	gpu->sampler_update(dy2, dxh, dden, -0.75f, 3.5f, n);
	compare("sampler_update", s, ref2, dy2, n, 0);
	float *exact = host(dy2, n);
	CHECK(memcmp(exact, ref2, (size_t)n * sizeof *ref2) == 0,
	      "%s sampler_update    %-34s the CPU's bytes", fp32_mode ? "fp32" : "bf16", s);
	cpu->sampler_update(ref, ref, den, 1.5f, 0.25f, n);
	gpu->sampler_update(dxh, dxh, dden, 1.5f, 0.25f, n);
	compare("sampler_update", s, ref, dxh, n, 0);
	dfree(8, dx, deps, dq, dt, dm, dden, dy, dy2);
	dfree(1, dxh);
	free(x), free(eps), free(quat), free(trans), free(mask), free(den), free(ref), free(ref2);
	free(exact);
}

/* ---- broadcast ops (issue #10): n_rep repeats against one shared operand; all exact (the
 * same float operations as the single-sample ops, in the same order) ---- */

static void test_bcast_ops(int64_t n_rep, int64_t n_r, int64_t n_c, int64_t n_x, int64_t n_atom)
{
	const int64_t n = n_r * n_c, na = n_rep * n;
	char s[80];
	snprintf(s, sizeof s, "D=%lld R=%lld C=%lld", (long long)n_rep, (long long)n_r,
	         (long long)n_c);
	float *x = rnd(na, -4, 4), *y0 = rnd(na, -2, 2), *sh = rnd(n, -1, 1), *g = rnd(n, -6, 6);
	float *mask = rmask(n_r), *ref = xmalloc((size_t)na * sizeof *ref);
	float *dx = dev(x, na), *dsh = dev(sh, n), *dg = dev(g, n), *dm = dev(mask, n_r);
	/* add_bcast */
	memcpy(ref, y0, (size_t)na * sizeof *ref);
	cpu->add_bcast(ref, sh, n_rep, n);
	float *dy = dev(y0, na);
	gpu->add_bcast(dy, dsh, n_rep, n);
	compare("add_bcast", s, ref, dy, na, 0);
	of3_backend_free(&be, dy);
	/* repeat */
	cpu->repeat(ref, sh, n_rep, n);
	dy = dev_nan(na);
	gpu->repeat(dy, dsh, n_rep, n);
	compare("repeat", s, ref, dy, na, 0);
	of3_backend_free(&be, dy);
	/* mask_rows_rep: n_r mask rows repeated over n_rep * n_r rows */
	memcpy(ref, x, (size_t)na * sizeof *ref);
	cpu->mask_rows_rep(ref, mask, n_r, n_rep * n_r, n_c);
	dy = dev(x, na);
	gpu->mask_rows_rep(dy, dm, n_r, n_rep * n_r, n_c);
	compare("mask_rows_rep", s, ref, dy, na, 0);
	of3_backend_free(&be, dy);
	/* adaln_apply, out of place and in place */
	cpu->adaln_apply(ref, x, g, sh, n_rep, n_r, n_c, OF3_LN_EPS);
	dy = dev_nan(na);
	gpu->adaln_apply(dy, dx, dg, dsh, n_rep, n_r, n_c, OF3_LN_EPS);
	compare("adaln_apply", s, ref, dy, na, 0);
	of3_backend_free(&be, dy);
	dy = dev(x, na);
	gpu->adaln_apply(dy, dy, dg, dsh, n_rep, n_r, n_c, OF3_LN_EPS);
	compare("adaln_apply", "in place", ref, dy, na, 0);
	of3_backend_free(&be, dy);
	/* gated_residual with and without the mask */
	for (int masked = 0; masked < 2; masked++) {
		memcpy(ref, y0, (size_t)na * sizeof *ref);
		cpu->gated_residual(ref, g, x, masked ? mask : NULL, n_rep, n_r, n_c);
		dy = dev(y0, na);
		gpu->gated_residual(dy, dg, dx, masked ? dm : NULL, n_rep, n_r, n_c);
		compare("gated_residual", masked ? "masked" : s, ref, dy, na, 0);
		of3_backend_free(&be, dy);
	}
	/* gather_rows_rep: n_r rows from each repeat's n_x */
	{
		float *xs = rnd(n_rep * n_x * n_c, -3, 3);
		int32_t *idx = xmalloc((size_t)n_r * sizeof *idx);
		for (int64_t r = 0; r < n_r; r++)
			idx[r] = (int32_t)(urand() * (double)n_x);
		cpu->gather_rows_rep(ref, xs, idx, n_rep, n_r, n_x, n_c);
		float *dxs = dev(xs, n_rep * n_x * n_c);
		int32_t *didx = dev_i32(idx, n_r);
		dy = dev_nan(na);
		gpu->gather_rows_rep(dy, dxs, didx, n_rep, n_r, n_x, n_c);
		compare("gather_rows_rep", s, ref, dy, na, 0);
		dfree(3, dxs, didx, dy);
		free(xs), free(idx);
	}
	/* atom_windows_rep: query and key windows of every repeat of [A,C] */
	{
		const int64_t A = n_atom, nb = (A + 31) / 32, nw[2] = {32, 128},
		              first[2] = {0, -48};
		float *xa = rnd(n_rep * A * n_c, -3, 3), *dxa = dev(xa, n_rep * A * n_c);
		for (int k = 0; k < 2; k++) {
			const int64_t ny = n_rep * nb * nw[k] * n_c;
			float *ra = xmalloc((size_t)ny * sizeof *ra);
			cpu->atom_windows_rep(ra, xa, n_rep, A, n_c, nw[k], first[k]);
			dy = dev_nan(ny);
			gpu->atom_windows_rep(dy, dxa, n_rep, A, n_c, nw[k], first[k]);
			char sa[80];
			snprintf(sa, sizeof sa, "D=%lld A=%lld C=%lld win=%lld", (long long)n_rep,
			         (long long)A, (long long)n_c, (long long)nw[k]);
			compare("atom_windows_rep", sa, ra, dy, ny, 0);
			of3_backend_free(&be, dy);
			free(ra);
		}
		of3_backend_free(&be, dxa);
		free(xa);
	}
	dfree(4, dx, dsh, dg, dm);
	free(x), free(y0), free(sh), free(g), free(mask), free(ref);
}

static void run_all(void)
{
	test_layer_norm(1, 1, 0, 0);
	test_layer_norm(7, 33, 1, 0);
	test_layer_norm(300, 128, 1, 1);
	test_layer_norm(129, 384, 0, 0);
	test_layer_norm(5, 1000, 1, 0);
	test_layer_norm(380, 768, 1, 1); /* a block per row (OF3_WIDE_ROW_MIN), in place */
	test_layer_norm(3, 513, 0, 0);

	test_linear(1, 1, 1, 0);
	test_linear(37, 33, 65, 1);
	test_linear(513, 128, 384, 1);
	test_linear(100, 7, 3, 0);
	test_linear(1000, 384, 128, 0);
	test_linear_stack(1, 1, 1, 1, 1, 0);
	test_linear_stack(3, 37, 33, 65, 1, 1);
	test_linear_stack(4, 76, 384, 768, 0, 1);
	test_linear_stack(48, 76, 384, 768, 0, 0); /* the diffusion transformer's shapes */
	test_linear_stack(5, 100, 7, 3, 1, 0);
	test_linear_stack(5, 37 * 37, 64, 64, 1, 0); /* triangle update's 5 projections */
	test_to_bf16(0);
	test_to_bf16(100003);
	test_linear_stack_lp(1, 1, 1, 1, 1, 0);
	test_linear_stack_lp(1, 37, 33, 65, 1, 1);
	test_linear_stack_lp(3, 37, 33, 65, 0, 1);
	test_linear_stack_lp(2, 13, 1, 5, 0, 0);
	test_linear_stack_lp(5, 100, 7, 3, 1, 1);
	test_linear_stack_lp(4, 17, 96, 40, 0, 0);
	/* the token transformer's products (380 rows: D = 5 samples of 76 tokens): q/g/k/v, the
	 * attention output, the transition's a/b and output */
	test_linear_stack_lp(4, 380, 768, 768, 1, 0);
	test_linear_stack_lp(1, 380, 768, 768, 1, 0);
	test_linear_stack_lp(2, 100, 768, 1536, 1, 0);
	test_linear_stack_lp(1, 100, 1536, 768, 1, 1);
	/* the producers of ready bf16 operands and linear_stack_lpx: one value, odd widths on
	 * the warp-per-row AdaLN, the token transformer's (c_a 768: a block per row; q/g/k/v) */
	test_lp_producers(1, 1, 1, 1, 1, 0);
	test_lp_producers(3, 37, 33, 2, 65, 1);
	test_lp_producers(2, 13, 130, 3, 7, 0);
	test_lp_producers(5, 76, 768, 4, 768, 0);
	test_lp_producers(2, 9, 513, 2, 40, 1);
	test_linear_acc(1, 1, 1);
	test_linear_acc(37, 33, 65);
	test_linear_acc(1000, 128, 128); /* triangle update, pair transition's linear_out */
	test_linear_acc(77, 512, 128);
	test_linear_acc(100, 7, 3);

	/* fused gates: odd sizes, the pair block's widths */
	test_fused_gates(1, 1);
	test_fused_gates(37, 33);
	test_fused_gates(70 * 70, 128);
	test_fused_gates(101, 512);

	/* transposed pair ops: non-square, odd, the pair block's widths (c_z 128, H*d 128) */
	test_pair_t(1, 1, 1, 1, 0);
	test_pair_t(5, 7, 3, 2, 1);
	test_pair_t(33, 31, 128, 128, 1);
	test_pair_t(70, 70, 128, 128, 0);
	test_pair_t(9, 40, 33, 65, 1);

	test_elementwise(1);
	test_elementwise(1000);
	test_elementwise(100003);
	if (fp32_mode && !quick) /* more values than the capped grid has threads (2^20 x 256) */
		test_large_add((1 << 28) + 1001);

	test_rows(1, 1);
	test_rows(37, 33);
	test_rows(1000, 128);

	test_transpose_pair(5, 7, 3);
	test_transpose_pair(33, 31, 128);
	test_transpose_pair(40, 40, 1);

	test_softmax(1, 1, 1, 0);
	test_softmax(37, 33, 1, 1);
	test_softmax(256, 300, 16, 1);
	test_softmax(64, 2000, 64, 0);

	/* head widths of the model (32, 24, 16, 8), tiny ones and 64; tiles of 64 queries and 8 to
	 * 32 keys, so odd Q and K leave partial tiles */
	test_attention(1, 1, 1, 1, 1, 0);
	test_attention(3, 17, 29, 2, 8, 7);
	test_attention(2, 70, 45, 4, 24, 3);
	test_attention(5, 33, 33, 4, 32, 7);
	test_attention(33, 33, 33, 4, 32, 1);
	test_attention(2, 40, 100, 16, 16, 6);
	test_attention(2, 130, 97, 16, 24, 5);
	test_attention(1, 20, 20, 2, 64, 7);
	test_attention(2, 65, 70, 3, 5, 2);
	test_attention(1, 9, 19, 1, 100, 7);
	test_attention(3, 17, 40, 2, 16, 8 | 1 | 4);
	test_attention_grouped(1, 1, 32, 128, 4, 32, 1);
	test_attention_grouped(15, 5, 32, 128, 4, 32, 1); /* 3 samples x 5 atom blocks */
	test_attention_grouped(14, 7, 17, 45, 2, 8, 0);
	test_attention_grouped(6, 2, 70, 33, 3, 24, 1);
	/* the model's shapes at moderate sizes (bf16 mode: blocks of 32 or 64 query rows, key
	 * tiles of 32 or 64, d padded to a multiple of 16): triangle attention, the pairformer's
	 * single attention, the token transformer, the widest heads, an odd width */
	test_attention(16, 200, 200, 4, 32, 7);
	test_attention(1, 300, 300, 16, 24, 6);
	test_attention(5, 130, 130, 16, 48, 3);
	test_attention(2, 77, 70, 2, 128, 7);
	test_attention(2, 47, 200, 3, 40, 5);
	test_attention_grouped(10, 5, 32, 128, 4, 16, 1);
	/* the atom transformer's blocks in place: the model's 4 heads of 32 and the tiny model's 2
	 * of 8; one atom, A < 32, A < 128 (every window past both ends), no multiple of 32, a
	 * multiple, the bench's 601; one sample and five; masked atoms, every atom masked */
	test_attention_atoms(1, 1, 4, 32, 1);
	test_attention_atoms(1, 31, 4, 32, 1);
	test_attention_atoms(5, 100, 4, 32, 1);
	test_attention_atoms(2, 128, 2, 8, 0);
	test_attention_atoms(5, 160, 2, 8, 1);
	test_attention_atoms(3, 77, 4, 32, 2 | 1);
	test_attention_atoms(5, 601, 4, 32, 1);
	test_attention_atoms(1, 333, 3, 24, 0);

	for (int incoming = 0; incoming < 2; incoming++) {
		test_tri_mul(1, 1, incoming);
		test_tri_mul(7, 5, incoming);
		test_tri_mul(33, 32, incoming);
		test_tri_mul(70, 16, incoming);
	}

	test_pair_embed(1, 1, 1);
	test_pair_embed(17, 33, 15);
	test_pair_embed(70, 128, 39);

	test_outer_product(5, 9, 2, 4, 3, 5);
	test_outer_product(33, 20, 0, 20, 8, 8);
	test_outer_product(129, 37, 5, 30, 32, 32);

	test_pair_weighted_avg(3, 9, 2, 4);
	test_pair_weighted_avg(17, 33, 8, 8);
	test_pair_weighted_avg(64, 100, 8, 8);

	/* several chunks, the last one partial: tri_mul in 3 channels a chunk over 32 (13 kB per
	 * channel in fp32 at N = 33), outer_product in 3 row tokens a chunk over 14 */
	of3_cuda_set_chunk_bytes(be.cuda, fp32_mode ? 3 * 33 * 33 * 12 : 3 * 33 * 33 * 8);
	test_tri_mul(33, 32, 0);
	test_tri_mul(33, 32, 1);
	of3_cuda_set_chunk_bytes(be.cuda, 3 * 8 * 20 * 8 * 4);
	test_outer_product(33, 20, 3, 14, 8, 8);
	of3_cuda_set_chunk_bytes(be.cuda, 0);

	/* diffusion and atom-level ops (issue #10): one partial block, several, a multiple of 32 */
	test_atom_ops(1, 1, 1);
	test_atom_ops(70, 16, 9);
	test_atom_ops(294, 8, 36);
	test_atom_ops(320, 33, 100);

	/* the sampler's step: one atom, fewer atoms than a block's threads, many more */
	test_sampler_ops(1, 1);
	test_sampler_ops(3, 70);
	test_sampler_ops(5, 2019);

	/* broadcast ops (issue #10): one repeat, the model's widths (c_atom 128, c_token 768) at
	 * odd row counts, widths that are no multiple of a warp */
	test_bcast_ops(1, 1, 1, 1, 1);
	test_bcast_ops(5, 37, 128, 9, 70);
	test_bcast_ops(5, 76, 768, 76, 294);
	test_bcast_ops(3, 101, 33, 17, 320);
}

/* ---- trunk ops (issue #10): fill, copy_2d, segment_mean, relpos_embed; all exact ---- */

static void test_trunk_ops(int64_t n_tok, int64_t n_atom, int64_t n_c)
{
	char s[80];
	snprintf(s, sizeof s, "N=%lld A=%lld C=%lld", (long long)n_tok, (long long)n_atom,
	         (long long)n_c);
	/* fill */
	int64_t nf = n_tok * n_c;
	float *ref = xmalloc((size_t)nf * sizeof *ref), *dy = dev_nan(nf);
	cpu->fill(ref, 0.25f, nf);
	gpu->fill(dy, 0.25f, nf);
	compare("fill", s, ref, dy, nf, 0);
	dfree(1, dy);
	free(ref);

	/* copy_2d: columns [3, 3 + C) of a [N, C + 5] tensor from a [N, C] one */
	const int64_t ld = n_c + 5;
	float *x = rnd(n_tok * n_c, -1, 1), *y0 = rnd(n_tok * ld, -1, 1);
	ref = xmalloc((size_t)(n_tok * ld) * sizeof *ref);
	memcpy(ref, y0, (size_t)(n_tok * ld) * sizeof *ref);
	cpu->copy_2d(ref + 3, ld, x, n_c, n_tok, n_c - 3 > 0 ? n_c - 3 : 1);
	float *dx = dev(x, n_tok * n_c);
	dy = dev(y0, n_tok * ld);
	gpu->copy_2d(dy + 3, ld, dx, n_c, n_tok, n_c - 3 > 0 ? n_c - 3 : 1);
	compare("copy_2d", s, ref, dy, n_tok * ld, 0);
	dfree(2, dx, dy);
	free(x), free(y0), free(ref);

	/* segment_mean: atoms drawn to random tokens (some tokens get none), weights 0/1, into
	 * a strided output whose other columns must stay */
	int32_t *tok = xmalloc((size_t)(n_atom > 0 ? n_atom : 1) * sizeof *tok);
	int32_t *off = xmalloc((size_t)(n_tok + 1) * sizeof *off);
	int32_t *rows = xmalloc((size_t)(n_atom > 0 ? n_atom : 1) * sizeof *rows);
	memset(off, 0, (size_t)(n_tok + 1) * sizeof *off);
	for (int64_t i = 0; i < n_atom; i++) {
		tok[i] = (int32_t)(urand() * (double)n_tok);
		off[tok[i] + 1]++;
	}
	for (int64_t t = 0; t < n_tok; t++)
		off[t + 1] += off[t];
	for (int64_t t = 0, k = 0; t < n_tok; t++)
		for (int64_t i = 0; i < n_atom; i++)
			if (tok[i] == t)
				rows[k++] = (int32_t)i;
	float *xa = rnd(n_atom * n_c, -1, 1), *w = rmask(n_atom);
	y0 = rnd(n_tok * ld, -1, 1);
	ref = xmalloc((size_t)(n_tok * ld) * sizeof *ref);
	memcpy(ref, y0, (size_t)(n_tok * ld) * sizeof *ref);
	cpu->segment_mean(ref + 2, ld, xa, w, off, rows, n_tok, n_c);
	float *dxa = dev(xa, n_atom * n_c), *dw = dev(w, n_atom);
	int32_t *doff = dev_i32(off, n_tok + 1), *drows = dev_i32(rows, n_atom);
	dy = dev(y0, n_tok * ld);
	gpu->segment_mean(dy + 2, ld, dxa, dw, doff, drows, n_tok, n_c);
	compare("segment_mean", s, ref, dy, n_tok * ld, 0);
	dfree(5, dxa, dw, doff, drows, dy);
	free(tok), free(off), free(rows), free(xa), free(w), free(y0), free(ref);

	/* relpos_embed: random bins in [0, 139), the fourth -1 half of the time */
	const int64_t n_rel = 139, nz = n_tok * n_tok * n_c;
	int32_t *bins = xmalloc((size_t)(n_tok * n_tok * 4) * sizeof *bins);
	for (int64_t i = 0; i < n_tok * n_tok * 4; i++)
		bins[i] = i % 4 == 3 && urand() < 0.5 ? -1 : (int32_t)(urand() * (double)n_rel);
	float *zi = rnd(n_tok * n_c, -1, 1), *zj = rnd(n_tok * n_c, -1, 1);
	float *bond = rmask(n_tok * n_tok), *wr = rnd(n_c * n_rel, -1, 1), *wb = rnd(n_c, -1, 1);
	ref = xmalloc((size_t)nz * sizeof *ref);
	cpu->relpos_embed(ref, zi, zj, bins, bond, wr, wb, n_tok, n_c, n_rel);
	float *dzi = dev(zi, n_tok * n_c), *dzj = dev(zj, n_tok * n_c);
	float *dbond = dev(bond, n_tok * n_tok), *dwr = dev(wr, n_c * n_rel), *dwb = dev(wb, n_c);
	int32_t *dbins = dev_i32(bins, n_tok * n_tok * 4);
	dy = dev_nan(nz);
	gpu->relpos_embed(dy, dzi, dzj, dbins, dbond, dwr, dwb, n_tok, n_c, n_rel);
	compare("relpos_embed", s, ref, dy, nz, 0);
	/* exact agreement expected: no FMA, same order */
	float *got = host(dy, nz);
	CHECK(memcmp(got, ref, (size_t)nz * sizeof *ref) == 0,
	      "%s relpos_embed %s: identical bytes", fp32_mode ? "fp32" : "bf16", s);
	free(got);
	dfree(7, dzi, dzj, dbond, dwr, dwb, dbins, dy);
	free(bins), free(zi), free(zj), free(bond), free(wr), free(wb), free(ref);
}

static void run_trunk_ops(void)
{
	test_trunk_ops(1, 0, 1);
	test_trunk_ops(7, 50, 5);
	test_trunk_ops(37, 301, 130);
	test_trunk_ops(70, 555, 16);
}

/* Same inputs twice: identical bytes (attention with every input, both tri_mul directions, a
 * linear and an outer product, which are the ops whose sums could be ordered differently). */
static void test_determinism(void)
{
	const int64_t B = 7, N = 45, H = 4, d = 24, hd = H * d, h = 32;
	float *q = rnd(B * N * hd, -1, 1), *mask = rmask(B * N), *bias = rnd(N * N * H, -2, 2);
	float *a = rnd(N * N * h, -1, 1);
	float *dq = dev(q, B * N * hd), *dm = dev(mask, B * N), *db = dev(bias, N * N * H),
	      *da = dev(a, N * N * h);
	float *out[2][4];
	for (int run = 0; run < 2; run++) {
		out[run][0] = dev_nan(B * N * hd);
		gpu->attention(out[run][0], dq, dq, dq, dq, dm, db, B, N, N, H, d);
		out[run][1] = dev_nan(N * N * h);
		gpu->tri_mul(out[run][1], da, da, N, h, 0);
		out[run][2] = dev_nan(N * N * h);
		gpu->tri_mul(out[run][2], da, da, N, h, 1);
		out[run][3] = dev_nan(N * N * h);
		gpu->linear(out[run][3], da, da, NULL, N * N, h, h);
	}
	int64_t n[4] = {B * N * hd, N * N * h, N * N * h, N * N * h};
	const char *what[4] = {"attention", "tri_mul outgoing", "tri_mul incoming", "linear"};
	for (int i = 0; i < 4; i++) {
		float *x = host(out[0][i], n[i]), *y = host(out[1][i], n[i]);
		CHECK(memcmp(x, y, (size_t)n[i] * sizeof *x) == 0, "%s %s twice: identical bytes",
		      fp32_mode ? "fp32" : "bf16", what[i]);
		free(x), free(y);
		dfree(2, out[0][i], out[1][i]);
	}
	dfree(4, dq, dm, db, da);
	free(q), free(mask), free(bias), free(a);
}

int main(int argc, char **argv)
{
	quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	if (of3_backend_open(&be, "cuda", 0) < 0)
		die("--device cuda");
	gpu = of3_ops_cuda();
	cpu = of3_ops_cpu();
	if (!gpu)
		die("no CUDA op table");
	printf("# %s\n", be.desc);
	for (fp32_mode = 1; fp32_mode >= 0; fp32_mode--) {
		of3_backend_set_precision(&be, fp32_mode ? OF3_PRECISION_FP32 : OF3_PRECISION_BF16);
		run_all();
		run_trunk_ops();
		test_determinism();
	}
	CHECK(of3_backend_sync(&be) == 0, "no op recorded a failure: %s", of3_errmsg());
	printf("# largest error per op:   fp32      bf16\n");
	for (int i = 0; i < n_op_names; i++)
		printf("#   %-20s %.2e  %.2e\n", op_names[i], worst[1][i], worst[0][i]);
	of3_backend_close(&be);
	int rc = check_summary();
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return rc;
}
