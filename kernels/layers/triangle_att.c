/* triangle_att.c: triangle attention around the starting node (spec/trunk.md §3.6.2, AF3
 * Alg. 14). The ending node is this layer applied to the transposed pair tensor with the
 * tri_att_end weights (pair_block.c does the transposes), as OpenFold3's PairBlock does. */
#include "pairformer.h"

int of3_tri_att_bind(of3_tri_att_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                     int64_t *c_z)
{
	int64_t n_head = -1;
	int rc = of3_wbind_ln(wb, ck, &w->ln, c_z, 1, prefix, "layer_norm");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->bias, &n_head, c_z, 0, prefix, "linear_z");
	rc = rc ? rc : of3_mha_bind(&w->mha, ck, wb, prefix, "mha.", c_z, n_head, 0);
	w->c_z = *c_z;
	w->n_head = rc ? 0 : w->mha.n_head;
	return rc;
}

size_t of3_tri_att_scratch(const of3_tri_att_w_t *w, int64_t n_tok)
{
	const int64_t hd = w->mha.n_head * w->mha.d_head;
	return (size_t)(n_tok * n_tok) * (size_t)(2 * w->c_z + w->mha.n_head + 5 * hd);
}

void of3_tri_att(float *z, const float *pair_mask, const of3_tri_att_w_t *w, int64_t n_tok,
                 float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t r = n_tok * n_tok, c = w->c_z, nh = w->mha.n_head, hd = nh * w->mha.d_head;
	float *x = scratch;      /* [N,N,c_z] LN(z) */
	float *tb = x + r * c;   /* [N,N,H] triangle bias tb[j,k,h], shared by every row i */
	float *q = tb + r * nh;  /* [N,N,H*d]: B = N rows i, Q = K = N */
	float *k = q + r * hd;   /* [N,N,H*d] */
	float *v = k + r * hd;   /* [N,N,H*d] */
	float *g = v + r * hd;   /* [N,N,H*d] gate logits */
	float *o = g + r * hd;   /* [N,N,H*d] */
	float *out = o + r * hd; /* [N,N,c_z] */
	op->layer_norm(x, z, w->ln.w, w->ln.b, r, c, OF3_LN_EPS);
	op->linear(tb, x, w->bias.w, NULL, r, c, nh);
	op->linear(q, x, w->mha.q.w, NULL, r, c, hd);
	op->linear(k, x, w->mha.k.w, NULL, r, c, hd);
	op->linear(v, x, w->mha.v.w, NULL, r, c, hd);
	op->linear(g, x, w->mha.g.w, NULL, r, c, hd);
	/* mask[b=i, key k] = pair_mask[i, k] */
	op->attention(o, q, k, v, g, pair_mask, tb, n_tok, n_tok, n_tok, nh, w->mha.d_head);
	op->linear(out, o, w->mha.o.w, NULL, r, hd, c);
	op->add(z, out, r * c);
}
