/* triangle_mul.c: the triangle multiplicative update (spec/trunk.md §3.6.1, AF3 Alg. 12/13).
 * The output gate uses the LayerNorm-ed input, as OpenFold3's chunked inference path does (its
 * unchunked branch, gating on the raw z, is never taken at inference). */
#include "pairformer.h"

int of3_tri_mul_bind(of3_tri_mul_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                     int64_t *c_z)
{
	int64_t h = -1, c2;
	int rc = of3_wbind_ln(wb, ck, &w->ln_in, c_z, 1, prefix, "layer_norm_in");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->a_p, &h, c_z, 0, prefix, "linear_a_p");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->a_g, &h, c_z, 0, prefix, "linear_a_g");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->b_p, &h, c_z, 0, prefix, "linear_b_p");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->b_g, &h, c_z, 0, prefix, "linear_b_g");
	c2 = *c_z;
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->g, &c2, c_z, 0, prefix, "linear_g");
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->ln_out, &h, 1, prefix, "layer_norm_out");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->z, &c2, &h, 0, prefix, "linear_z");
	w->c_z = *c_z;
	w->h = h;
	return rc;
}

size_t of3_tri_mul_scratch(const of3_tri_mul_w_t *w, int64_t n_tok)
{
	return (size_t)(n_tok * n_tok) * (size_t)(3 * w->c_z + 3 * w->h);
}

void of3_tri_mul(float *z, const float *pair_mask, const of3_tri_mul_w_t *w, int incoming,
                 int64_t n_tok, float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t r = n_tok * n_tok, c = w->c_z, h = w->h;
	float *x = scratch;   /* [N,N,c_z] LN_in(z) */
	float *a = x + r * c; /* [N,N,h] */
	float *b = a + r * h; /* [N,N,h] */
	float *t = b + r * h; /* [N,N,h] gate logits, then the contraction */
	float *g = t + r * h; /* [N,N,c_z] output gate logits */
	float *o = g + r * c; /* [N,N,c_z] */
	op->layer_norm(x, z, w->ln_in.w, w->ln_in.b, r, c, OF3_LN_EPS);
	op->linear(a, x, w->a_p.w, NULL, r, c, h);
	op->linear(t, x, w->a_g.w, NULL, r, c, h);
	op->sigmoid_mul(a, t, a, r * h);
	op->mask_rows(a, pair_mask, r, h);
	op->linear(b, x, w->b_p.w, NULL, r, c, h);
	op->linear(t, x, w->b_g.w, NULL, r, c, h);
	op->sigmoid_mul(b, t, b, r * h);
	op->mask_rows(b, pair_mask, r, h);
	op->tri_mul(t, a, b, n_tok, h, incoming);
	op->layer_norm(t, t, w->ln_out.w, w->ln_out.b, r, h, OF3_LN_EPS);
	op->linear(o, t, w->z.w, NULL, r, h, c);
	op->linear(g, x, w->g.w, NULL, r, c, c);
	op->sigmoid_mul(o, g, o, r * c);
	op->add(z, o, r * c);
}
