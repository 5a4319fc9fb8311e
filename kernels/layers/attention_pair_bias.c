/* attention_pair_bias.c: the Pairformer's single attention with pair bias (spec/trunk.md §3.7.1,
 * AF3 Alg. 24 without AdaLN): queries, keys and values from LN(s), a per-head bias projected
 * from LN(z), keys masked by the token mask, sigmoid gate, output projection. Only linear_q has
 * a bias. */
#include "pairformer.h"

int of3_apb_bind(of3_apb_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix, int64_t *c_s,
                 int64_t c_z)
{
	int64_t n_head = -1;
	int rc = of3_wbind_ln(wb, ck, &w->ln_a, c_s, 1, prefix, "layer_norm_a");
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->ln_z, &c_z, 1, prefix, "layer_norm_z");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->bias, &n_head, &c_z, 0, prefix, "linear_z");
	rc = rc ? rc : of3_mha_bind(&w->mha, ck, wb, prefix, "mha.", c_s, n_head, OF3_F_MHA_Q_BIAS);
	w->c_s = *c_s;
	w->c_z = c_z;
	w->n_head = rc ? 0 : w->mha.n_head;
	return rc;
}

size_t of3_apb_scratch(const of3_apb_w_t *w, int64_t n_tok)
{
	const int64_t hd = w->mha.n_head * w->mha.d_head;
	return (size_t)(n_tok * n_tok) * (size_t)(w->c_z + w->mha.n_head) +
	       (size_t)n_tok * (size_t)(2 * w->c_s + 5 * hd);
}

void of3_apb(float *s, const float *z, const float *token_mask, const of3_apb_w_t *w, int64_t n_tok,
             float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = n_tok, r = n * n, cs = w->c_s, cz = w->c_z, nh = w->mha.n_head;
	const int64_t hd = nh * w->mha.d_head;
	float *zn = scratch;     /* [N,N,c_z] LN(z) */
	float *zb = zn + r * cz; /* [N,N,H] pair bias zb[i,j,h] */
	float *x = zb + r * nh;  /* [N,c_s] LN(s) */
	float *q = x + n * cs;   /* [N,H*d] */
	float *k = q + n * hd;   /* [N,H*d] */
	float *v = k + n * hd;   /* [N,H*d] */
	float *g = v + n * hd;   /* [N,H*d] gate logits */
	float *o = g + n * hd;   /* [N,H*d] */
	float *out = o + n * hd; /* [N,c_s] */
	op->layer_norm(zn, z, w->ln_z.w, w->ln_z.b, r, cz, OF3_LN_EPS);
	op->linear(zb, zn, w->bias.w, NULL, r, cz, nh);
	op->layer_norm(x, s, w->ln_a.w, w->ln_a.b, n, cs, OF3_LN_EPS);
	op->linear(q, x, w->mha.q.w, w->mha.q.b, n, cs, hd);
	op->linear(k, x, w->mha.k.w, NULL, n, cs, hd);
	op->linear(v, x, w->mha.v.w, NULL, n, cs, hd);
	op->linear(g, x, w->mha.g.w, NULL, n, cs, hd);
	op->attention(o, q, k, v, g, token_mask, zb, 1, n, n, nh, w->mha.d_head);
	op->linear(out, o, w->mha.o.w, NULL, n, hd, cs);
	op->add(s, out, n * cs);
}
