/* test_trunk_ops.c: every op of the CPU backend's table (kernels/ops.h) on small random inputs
 * of odd sizes against straightforward double-precision loops written here, with each op's
 * optional arguments (no bias, no mask, no gate) and edge cases (in-place calls, a fully
 * masked row, a single row). Named test_trunk_* so that the Makefile links the kernels library
 * into it (tests/test_<other>.c link common/ only). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/backend.h"
#include "../kernels/ops.h"
#include "check.h"

#define TOL 2e-6 /* relative (max abs difference over max abs reference value) */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static double urand(void) /* uniform in [-1, 1) */
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static float *rnd(int64_t n, double scale)
{
	float *x = malloc((size_t)n * sizeof *x);
	for (int64_t i = 0; i < n; i++)
		x[i] = (float)(scale * urand());
	return x;
}

static double *dbl(int64_t n)
{
	return calloc((size_t)n, sizeof(double));
}

/* max |a - ref| / max(|ref|, 1e-30), printed */
static void cmp(const char *what, const float *a, const double *ref, int64_t n)
{
	double md = 0, mr = 0;
	for (int64_t i = 0; i < n; i++) {
		double d = fabs(a[i] - ref[i]);
		md = d > md || isnan(d) ? d : md;
		mr = fabs(ref[i]) > mr ? fabs(ref[i]) : mr;
	}
	double e = md / (mr > 1e-30 ? mr : 1e-30);
	CHECK(e <= TOL, "%s: relative max error %.2e (%lld values)", what, e, (long long)n);
}

static double sig(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

static void test_layer_norm(const of3_ops_t *op)
{
	const int64_t R = 7, C = 13;
	float *x = rnd(R * C, 3.0), *w = rnd(C, 1.0), *b = rnd(C, 1.0), *y = rnd(R * C, 1.0);
	double *ref = dbl(R * C), *ref0 = dbl(R * C);
	for (int64_t r = 0; r < R; r++)
		x[r * C] += 50.0f * (float)r; /* an offset row */
	for (int64_t r = 0; r < R; r++) {
		double m = 0, v = 0;
		for (int64_t c = 0; c < C; c++)
			m += x[r * C + c] / (double)C;
		for (int64_t c = 0; c < C; c++)
			v += (x[r * C + c] - m) * (x[r * C + c] - m) / (double)C;
		for (int64_t c = 0; c < C; c++) {
			ref0[r * C + c] = (x[r * C + c] - m) / sqrt(v + 1e-5);
			ref[r * C + c] = ref0[r * C + c] * w[c] + b[c];
		}
	}
	op->layer_norm(y, x, w, b, R, C, OF3_LN_EPS);
	cmp("layer_norm with weight and bias", y, ref, R * C);
	op->layer_norm(y, x, NULL, NULL, R, C, OF3_LN_EPS);
	cmp("layer_norm without affine parameters", y, ref0, R * C);
	op->layer_norm(x, x, w, b, R, C, OF3_LN_EPS);
	cmp("layer_norm in place", x, ref, R * C);
	free(x), free(w), free(b), free(y), free(ref), free(ref0);
}

static void test_linear(const of3_ops_t *op)
{
	const int64_t R = 5, I = 11, O = 9;
	float *x = rnd(R * I, 2.0), *w = rnd(O * I, 1.0), *b = rnd(O, 1.0), *y = rnd(R * O, 1.0);
	double *ref = dbl(R * O), *ref0 = dbl(R * O);
	for (int64_t r = 0; r < R; r++)
		for (int64_t o = 0; o < O; o++) {
			for (int64_t i = 0; i < I; i++)
				ref0[r * O + o] += (double)x[r * I + i] * w[o * I + i];
			ref[r * O + o] = ref0[r * O + o] + b[o];
		}
	op->linear(y, x, w, b, R, I, O);
	cmp("linear with bias", y, ref, R * O);
	op->linear(y, x, w, NULL, R, I, O);
	cmp("linear without bias", y, ref0, R * O);
	op->linear(y, x, w, b, 1, I, O);
	cmp("linear, one row", y, ref, O);
	free(x), free(w), free(b), free(y), free(ref), free(ref0);
}

static void test_elementwise(const of3_ops_t *op)
{
	const int64_t n = 37, R = 5, C = 7;
	float *a = rnd(n, 6.0), *b = rnd(n, 2.0), *y = rnd(n, 1.0), *mask = rnd(R, 1.0);
	double *ref = dbl(n);
	for (int64_t i = 0; i < n; i++)
		ref[i] = sig(a[i]);
	op->sigmoid(y, a, n);
	cmp("sigmoid", y, ref, n);
	for (int64_t i = 0; i < n; i++)
		ref[i] = (double)a[i] * b[i];
	op->mul(y, a, b, n);
	cmp("mul", y, ref, n);
	for (int64_t i = 0; i < n; i++)
		ref[i] = a[i] * sig(a[i]) * b[i];
	op->swiglu(y, a, b, n);
	cmp("swiglu silu(a)*b", y, ref, n);
	for (int64_t i = 0; i < n; i++)
		ref[i] = sig(a[i]) * b[i];
	op->sigmoid_mul(y, a, b, n);
	cmp("sigmoid_mul", y, ref, n);
	memcpy(y, b, (size_t)n * sizeof *y);
	op->sigmoid_mul(y, a, y, n);
	cmp("sigmoid_mul in place", y, ref, n);
	for (int64_t i = 0; i < n; i++)
		ref[i] = (double)y[i] + a[i];
	op->add(y, a, n);
	cmp("add", y, ref, n);
	mask[2] = 0.0f;
	mask[3] = 1.0f;
	for (int64_t r = 0; r < R; r++)
		for (int64_t c = 0; c < C; c++)
			ref[r * C + c] = (double)a[r * C + c] * mask[r];
	memcpy(y, a, (size_t)(R * C) * sizeof *y);
	op->mask_rows(y, mask, R, C);
	cmp("mask_rows", y, ref, R * C);
	free(a), free(b), free(y), free(mask), free(ref);
}

static void test_transpose(const of3_ops_t *op)
{
	const int64_t I = 3, J = 5, C = 7;
	float *x = rnd(I * J * C, 1.0), *y = rnd(I * J * C, 1.0);
	double *ref = dbl(I * J * C);
	for (int64_t i = 0; i < I; i++)
		for (int64_t j = 0; j < J; j++)
			for (int64_t c = 0; c < C; c++)
				ref[(j * I + i) * C + c] = x[(i * J + j) * C + c];
	op->transpose_pair(y, x, I, J, C);
	cmp("transpose_pair [3,5,7]", y, ref, I * J * C);
	op->transpose_pair(y, x, I, J, 1);
	for (int64_t i = 0; i < I; i++)
		for (int64_t j = 0; j < J; j++)
			ref[j * I + i] = x[i * J + j];
	cmp("transpose_pair of a mask [3,5]", y, ref, I * J);
	free(x), free(y), free(ref);
}

/* x + INF*(mask - 1) rounded to float32: spec/trunk.md §5.25, a fully masked row of logits
 * becomes uniform (every -1e9 + x rounds to -1e9) instead of keeping x's differences. */
static double fp32_mask(double x, float mask)
{
	return (double)((float)x + 1e9f * (mask - 1.0f));
}

static void ref_softmax(double *out, const float *x, const float *mask, int64_t n_mrows, int64_t R,
                        int64_t K)
{
	for (int64_t r = 0; r < R; r++) {
		double mx = -1e300, s = 0;
		for (int64_t k = 0; k < K; k++) {
			double v = x[r * K + k];
			if (mask) /* the bias is added in float32, as the reference does in fp32 */
				v = fp32_mask(v, mask[(r % n_mrows) * K + k]);
			out[r * K + k] = v;
			mx = v > mx ? v : mx;
		}
		for (int64_t k = 0; k < K; k++)
			s += exp(out[r * K + k] - mx);
		for (int64_t k = 0; k < K; k++)
			out[r * K + k] = exp(out[r * K + k] - mx) / s;
	}
}

static void test_softmax(const of3_ops_t *op)
{
	const int64_t R = 6, K = 11;
	float *x = rnd(R * K, 5.0), *y = malloc((size_t)(R * K) * sizeof *y);
	float *m1 = rnd(K, 1.0), *m3 = rnd(3 * K, 1.0);
	double *ref = dbl(R * K);
	for (int64_t i = 0; i < K; i++)
		m1[i] = i % 3 ? 1.0f : 0.0f;
	for (int64_t i = 0; i < 3 * K; i++)
		m3[i] = (i % 5 == 1 || i >= 2 * K) ? 0.0f : 1.0f; /* mask row 2 fully masked */
	memcpy(y, x, (size_t)(R * K) * sizeof *y);
	op->softmax(y, NULL, 1, R, K);
	ref_softmax(ref, x, NULL, 1, R, K);
	cmp("softmax without mask", y, ref, R * K);
	memcpy(y, x, (size_t)(R * K) * sizeof *y);
	op->softmax(y, m1, 1, R, K);
	ref_softmax(ref, x, m1, 1, R, K);
	cmp("softmax, one mask row for all", y, ref, R * K);
	memcpy(y, x, (size_t)(R * K) * sizeof *y);
	op->softmax(y, m3, 3, R, K);
	ref_softmax(ref, x, m3, 3, R, K);
	cmp("softmax, mask rows repeating every 3 (one fully masked: uniform)", y, ref, R * K);
	free(x), free(y), free(m1), free(m3), free(ref);
}

static void ref_attention(double *o, const float *q, const float *k, const float *v, const float *g,
                          const float *mask, const float *bias, int64_t B, int64_t Q, int64_t K,
                          int64_t H, int64_t d)
{
	const int64_t hd = H * d;
	double *l = dbl(K);
	for (int64_t b = 0; b < B; b++)
		for (int64_t h = 0; h < H; h++)
			for (int64_t i = 0; i < Q; i++) {
				double mx = -1e300, s = 0;
				for (int64_t j = 0; j < K; j++) {
					double dot = 0;
					for (int64_t c = 0; c < d; c++)
						dot += (double)q[(b * Q + i) * hd + h * d + c] *
						       k[(b * K + j) * hd + h * d + c];
					l[j] = dot / sqrt((double)d);
					if (mask)
						l[j] = fp32_mask(l[j], mask[b * K + j]);
					if (bias)
						l[j] = (double)((float)l[j] +
						                bias[(i * K + j) * H +
						                     h]); /* in fp32 too */
					mx = l[j] > mx ? l[j] : mx;
				}
				for (int64_t j = 0; j < K; j++)
					s += (l[j] = exp(l[j] - mx));
				for (int64_t c = 0; c < d; c++) {
					double acc = 0;
					for (int64_t j = 0; j < K; j++)
						acc += l[j] / s * v[(b * K + j) * hd + h * d + c];
					int64_t at = (b * Q + i) * hd + h * d + c;
					o[at] = g ? acc * sig(g[at]) : acc;
				}
			}
	free(l);
}

static void test_attention(const of3_ops_t *op)
{
	const int64_t B = 3, Q = 5, K = 7, H = 2, d = 3, hd = H * d;
	float *q = rnd(B * Q * hd, 2.0), *k = rnd(B * K * hd, 2.0), *v = rnd(B * K * hd, 1.0);
	float *g = rnd(B * Q * hd, 3.0), *bias = rnd(Q * K * H, 2.0), *mask = rnd(B * K, 1.0);
	float *o = malloc((size_t)(B * Q * hd) * sizeof *o);
	double *ref = dbl(B * Q * hd);
	for (int64_t i = 0; i < B * K; i++)
		mask[i] = (i % 4 == 3 || i >= 2 * K) ? 0.0f : 1.0f; /* problem 2 fully masked */
	op->attention(o, q, k, v, g, mask, bias, B, Q, K, H, d);
	ref_attention(ref, q, k, v, g, mask, bias, B, Q, K, H, d);
	cmp("attention: gate, mask (one problem fully masked), bias", o, ref, B * Q * hd);
	op->attention(o, q, k, v, NULL, NULL, NULL, B, Q, K, H, d);
	ref_attention(ref, q, k, v, NULL, NULL, NULL, B, Q, K, H, d);
	cmp("attention without gate, mask or bias", o, ref, B * Q * hd);
	op->attention(o, q, k, v, g, mask, NULL, 1, Q, K, H, d);
	ref_attention(ref, q, k, v, g, mask, NULL, 1, Q, K, H, d);
	cmp("attention, one problem, no bias", o, ref, Q * hd);
	free(q), free(k), free(v), free(g), free(bias), free(mask), free(o), free(ref);
}

/* attention_atoms against what it replaces: the windows of q, gate (32, first 0) and of k, v
 * (128, first -48), attention_grouped over every block of every sample, the first A rows of each
 * sample. The same bytes, at one atom, A below 32 and 128 (windows past both ends), A no
 * multiple of 32, a multiple; with and without a gate; masked atoms. */
static void test_attention_atoms(const of3_ops_t *op)
{
	const int64_t As[] = {1, 20, 33, 100, 128, 161}, H = 2, d = 3, hd = H * d;
	for (int t = 0; t < 6; t++)
		for (int64_t D = 1; D <= 3; D += 2) {
			const int64_t A = As[t], nb = (A + 31) / 32, n = D * A * hd;
			const int64_t nq = D * nb * 32 * hd, nk = D * nb * 128 * hd;
			float *q = rnd(n, 2.0), *k = rnd(n, 2.0), *v = rnd(n, 1.0);
			float *g = t % 2 ? rnd(n, 3.0) : NULL,
			      *am = malloc((size_t)A * sizeof(float));
			float *bias = rnd(nb * 32 * 128 * H, 2.0),
			      *mask = malloc((size_t)(nb * 128) * sizeof(float));
			float *qw = malloc((size_t)nq * sizeof(float)),
			      *gw = malloc((size_t)nq * sizeof(float)),
			      *ow = malloc((size_t)nq * sizeof(float));
			float *kw = malloc((size_t)nk * sizeof(float)),
			      *vw = malloc((size_t)nk * sizeof(float));
			float *o = malloc((size_t)n * sizeof(float)),
			      *ref = malloc((size_t)n * sizeof(float));
			for (int64_t a = 0; a < A; a++)
				am[a] = a % 5 == 2 ? 0.0f : 1.0f;
			op->atom_block_masks(NULL, mask, NULL, am, A);
			op->atom_windows_rep(qw, q, D, A, hd, 32, 0);
			if (g)
				op->atom_windows_rep(gw, g, D, A, hd, 32, 0);
			op->atom_windows_rep(kw, k, D, A, hd, 128, -48);
			op->atom_windows_rep(vw, v, D, A, hd, 128, -48);
			op->attention_grouped(ow, qw, kw, vw, g ? gw : NULL, mask, bias, D * nb, nb,
			                      32, 128, H, d);
			op->copy_2d(ref, A * hd, ow, nb * 32 * hd, D, A * hd);
			op->attention_atoms(o, q, k, v, g, mask, bias, D, A, H, d);
			CHECK(memcmp(o, ref, (size_t)n * sizeof *o) == 0,
			      "attention_atoms D=%lld A=%lld%s: the bytes of windows + "
			      "attention_grouped",
			      (long long)D, (long long)A, g ? " gated" : "");
			free(q), free(k), free(v), free(g), free(am), free(bias), free(mask);
			free(qw), free(gw), free(ow), free(kw), free(vw), free(o), free(ref);
		}
}

static void test_tri_mul(const of3_ops_t *op)
{
	const int64_t N = 7, h = 5;
	float *a = rnd(N * N * h, 2.0), *b = rnd(N * N * h, 2.0), *p = rnd(N * N * h, 1.0);
	double *ref = dbl(N * N * h);
	for (int incoming = 0; incoming < 2; incoming++) {
		for (int64_t i = 0; i < N; i++)
			for (int64_t j = 0; j < N; j++)
				for (int64_t c = 0; c < h; c++) {
					double s = 0;
					for (int64_t k = 0; k < N; k++)
						s += incoming ? (double)a[(k * N + i) * h + c] *
						                        b[(k * N + j) * h + c]
						              : (double)a[(i * N + k) * h + c] *
						                        b[(j * N + k) * h + c];
					ref[(i * N + j) * h + c] = s;
				}
		op->tri_mul(p, a, b, N, h, incoming);
		cmp(incoming ? "tri_mul incoming" : "tri_mul outgoing", p, ref, N * N * h);
	}
	free(a), free(b), free(p), free(ref);
}

static void test_pair_embed(const of3_ops_t *op)
{
	const int64_t R = 5, C = 7, NI = 4, NJ = 6, N = 9, K = 5;
	float *x = rnd(11 * C, 1.0), *y = rnd(R * C, 1.0);
	int32_t idx[5] = {10, 0, 3, 3, 7};
	double *ref = dbl(NI * NJ * C > N * N * K ? NI * NJ * C : N * N * K);
	for (int64_t r = 0; r < R; r++)
		for (int64_t c = 0; c < C; c++)
			ref[r * C + c] = x[idx[r] * C + c];
	op->gather_rows(y, x, idx, R, C);
	cmp("gather_rows", y, ref, R * C);
	op->copy(y, x + C, R * C);
	for (int64_t i = 0; i < R * C; i++)
		ref[i] = x[C + i];
	cmp("copy", y, ref, R * C);
	float *z = rnd(NI * NJ * C, 1.0), *a = rnd(NI * C, 1.0), *b = rnd(NJ * C, 1.0);
	for (int64_t i = 0; i < NI; i++)
		for (int64_t j = 0; j < NJ; j++)
			for (int64_t c = 0; c < C; c++)
				ref[(i * NJ + j) * C + c] = (double)z[(i * NJ + j) * C + c] +
				                            a[i * C + c] + b[j * C + c];
	op->outer_add(z, a, b, NI, NJ, C);
	cmp("outer_add", z, ref, NI * NJ * C);
	/* points on a line at distances straddling the edges 2, 3, ..., 6 (last bin open) */
	float *p = calloc((size_t)N * 3, sizeof *p), *oh = rnd(N * N * K, 1.0);
	const float pos[9] = {0.0f, 1.5f, 2.0f, 2.5f, 3.0f, 4.9f, 6.0f, 7.5f, 100.0f};
	for (int64_t i = 0; i < N; i++)
		p[i * 3 + 1] = pos[i];
	for (int64_t i = 0; i < N; i++)
		for (int64_t j = 0; j < N; j++) {
			double d = fabs((double)pos[i] - pos[j]);
			for (int64_t k = 0; k < K; k++) {
				double lo = 2.0 + (double)k, hi = k + 1 < K ? lo + 1.0 : 1e300;
				ref[(i * N + j) * K + k] = d * d > lo * lo && d * d < hi * hi;
			}
		}
	op->distance_onehot(oh, p, N, 2.0f, 1.0f, K);
	cmp("distance_onehot (edges exclusive, last bin open)", oh, ref, N * N * K);
	free(x), free(y), free(ref), free(z), free(a), free(b), free(p), free(oh);
}

static void test_msa_ops(const of3_ops_t *op)
{
	const int64_t S = 3, N = 5, CA = 2, CB = 3, H = 2, D = 3, I0 = 1, NI = 3;
	float *a = rnd(S * N * CA, 1.0), *b = rnd(S * N * CB, 1.0), *o = rnd(NI * N * CA * CB, 1.0);
	float *x = rnd(N * 7, 3.0), *y = rnd(N * 7, 1.0), *den = rnd(N, 1.0);
	double *ref = dbl(S * N * H * D > N * 7 ? S * N * H * D : N * 7);
	for (int64_t i = 0; i < N * 7; i++)
		ref[i] = x[i] > 0 ? x[i] : 0;
	op->relu(y, x, N * 7);
	cmp("relu", y, ref, N * 7);
	for (int64_t i = 0; i < N * 7; i++)
		ref[i] = (double)(x[i] / 3.0f);
	op->div_scalar(y, x, 3.0f, N * 7);
	cmp("div_scalar", y, ref, N * 7);
	op->div_scalar(x, x, 3.0f, N * 7);
	cmp("div_scalar in place", x, ref, N * 7);
	for (int64_t r = 0; r < N; r++)
		for (int64_t c = 0; c < 7; c++)
			ref[r * 7 + c] = x[r * 7 + c] / ((double)den[r] + 0.5);
	op->div_rows(x, den, 0.5f, N, 7);
	cmp("div_rows", x, ref, N * 7);
	for (int64_t i = 0; i < NI; i++)
		for (int64_t j = 0; j < N; j++)
			for (int64_t c = 0; c < CA; c++)
				for (int64_t e = 0; e < CB; e++) {
					double acc = 0;
					for (int64_t s = 0; s < S; s++)
						acc += (double)a[(s * N + I0 + i) * CA + c] *
						       b[(s * N + j) * CB + e];
					ref[((i * N + j) * CA + c) * CB + e] = acc;
				}
	op->outer_product(o, a, b, S, N, I0, NI, CA, CB);
	cmp("outer_product (rows 1..3 of 5)", o, ref, NI * N * CA * CB);
	float *w = rnd(H * N * N, 1.0), *v = rnd(S * N * H * D, 1.0), *po = rnd(S * N * H * D, 1.0);
	for (int64_t s = 0; s < S; s++)
		for (int64_t i = 0; i < N; i++)
			for (int64_t h = 0; h < H; h++)
				for (int64_t c = 0; c < D; c++) {
					double acc = 0;
					for (int64_t j = 0; j < N; j++)
						acc += (double)w[(h * N + i) * N + j] *
						       v[(s * N + j) * H * D + h * D + c];
					ref[(s * N + i) * H * D + h * D + c] = acc;
				}
	op->pair_weighted_avg(po, w, v, S, N, H, D);
	cmp("pair_weighted_avg", po, ref, S * N * H * D);
	free(a), free(b), free(o), free(x), free(y), free(den), free(ref), free(w), free(v),
	        free(po);
}

int main(void)
{
	of3_backend_t be;
	int rc = of3_backend_open(&be, "cpu", 1);
	CHECK(rc == 0 && be.ops == of3_ops_cpu(), "the cpu backend carries the cpu op table");
	const of3_ops_t *op = of3_ops_cpu();
	test_layer_norm(op);
	test_linear(op);
	test_elementwise(op);
	test_transpose(op);
	test_softmax(op);
	test_attention(op);
	test_attention_atoms(op);
	test_tri_mul(op);
	test_pair_embed(op);
	test_msa_ops(op);
	of3_backend_close(&be);
	return check_summary();
}
