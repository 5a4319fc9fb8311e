/* triangle_mul.c: the triangle multiplicative update (spec/trunk.md §3.6.1, AF3 Alg. 12/13).
 * The output gate uses the LayerNorm-ed input, as OpenFold3's chunked inference path does (its
 * unchunked branch, gating on the raw z, is never taken at inference). Seven ops: the five
 * projections of LN_in(z) are one stacked product (their weights bound back to back), their
 * gates and the mask one pass (tri_mul_gate), the output gate and the residual one more
 * (gated_residual). */
#include "pairformer.h"

int of3_tri_mul_bind(of3_tri_mul_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                     int64_t *c_z)
{
	int64_t h = -1, c2;
	int rc = of3_wbind_ln(wb, ck, &w->ln_in, c_z, 1, prefix, "layer_norm_in");
	if (rc)
		return rc;
	/* the five projections of LN_in(z) back to back, [4h + c_z, c_z]: one product */
	c2 = *c_z;
	of3_lin_w_t *const lin[5] = {&w->a_p, &w->a_g, &w->b_p, &w->b_g, &w->g};
	int64_t *const n_out[5] = {&h, &h, &h, &h, &c2};
	const char *const names[5] = {"linear_a_p", "linear_a_g", "linear_b_p", "linear_b_g",
	                              "linear_g"};
	rc = of3_wbind_lin_packed(wb, ck, 5, lin, n_out, c_z, prefix, names);
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->ln_out, &h, 1, prefix, "layer_norm_out");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->z, &c2, &h, 0, prefix, "linear_z");
	w->c_z = *c_z;
	w->h = h;
	return rc;
}

size_t of3_tri_mul_scratch(const of3_tri_mul_w_t *w, int64_t n_tok)
{
	return (size_t)(n_tok * n_tok) * (size_t)(3 * w->c_z + 5 * w->h);
}

void of3_tri_mul(float *z, const float *pair_mask, const of3_tri_mul_w_t *w, int incoming,
                 int64_t n_tok, float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t r = n_tok * n_tok, c = w->c_z, h = w->h;
	float *x = scratch;       /* [N,N,c_z] LN_in(z) */
	float *p = x + r * c;     /* [4,N,N,h] a_p, a_g, b_p, b_g; then a over a_p, b over b_p */
	float *g = p + 4 * r * h; /* [N,N,c_z] output gate logits */
	float *t = g + r * c;     /* [N,N,h] the contraction */
	float *o = t + r * h;     /* [N,N,c_z] */
	float *a = p, *b = p + 2 * r * h;
	op->layer_norm(x, z, w->ln_in.w, w->ln_in.b, r, c, OF3_LN_EPS);
	if (h == c) { /* g's rows follow b_g's as a fifth problem of the stack */
		op->linear_stack(p, x, 0, w->a_p.w, NULL, 5, r, c, h);
	} else {
		op->linear_stack(p, x, 0, w->a_p.w, NULL, 4, r, c, h);
		op->linear(g, x, w->g.w, NULL, r, c, c);
	}
	op->tri_mul_gate(a, b, p, pair_mask, r, h);
	op->tri_mul(t, a, b, n_tok, h, incoming);
	op->layer_norm(t, t, w->ln_out.w, w->ln_out.b, r, h, OF3_LN_EPS);
	op->linear(o, t, w->z.w, NULL, r, h, c);
	op->gated_residual(z, g, o, NULL, 1, r, c);
}
