/* triangle_att.c: triangle attention around the starting and the ending node (spec/trunk.md
 * §3.6.2, AF3 Alg. 14/15). The ending node is the starting node's sequence applied to the
 * transposed pair tensor with the tri_att_end weights, as OpenFold3's PairBlock does; here the
 * first op reads z transposed and the last adds into it transposed (layer_norm_t,
 * linear_acc_t), so no transposed copy of z is made. q, k, v and g are one stacked product
 * (OF3_F_MHA_PACKED); linear_o adds into z (linear_acc). */
#include "pairformer.h"

int of3_tri_att_bind(of3_tri_att_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                     int64_t *c_z)
{
	int64_t n_head = -1;
	int rc = of3_wbind_ln(wb, ck, &w->ln, c_z, 1, prefix, "layer_norm");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->bias, &n_head, c_z, 0, prefix, "linear_z");
	rc = rc ? rc : of3_mha_bind(&w->mha, ck, wb, prefix, "mha.", c_z, n_head, OF3_F_MHA_PACKED);
	w->c_z = *c_z;
	w->n_head = rc ? 0 : w->mha.n_head;
	return rc;
}

size_t of3_tri_att_scratch(const of3_tri_att_w_t *w, int64_t n_tok)
{
	const int64_t hd = w->mha.n_head * w->mha.d_head;
	return (size_t)(n_tok * n_tok) * (size_t)(w->c_z + w->mha.n_head + 5 * hd + 1);
}

void of3_tri_att(float *z, const float *pair_mask, const of3_tri_att_w_t *w, int ending,
                 int64_t n_tok, float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t r = n_tok * n_tok, c = w->c_z, nh = w->mha.n_head, hd = nh * w->mha.d_head;
	float *x = scratch;     /* [N,N,c_z] LN(z), or LN(z^T) for the ending node */
	float *tb = x + r * c;  /* [N,N,H] triangle bias tb[j,k,h], shared by every row i */
	float *q = tb + r * nh; /* [N,N,H*d]: B = N rows i, Q = K = N */
	float *k = q + r * hd;  /* [N,N,H*d] */
	float *v = k + r * hd;  /* [N,N,H*d] */
	float *g = v + r * hd;  /* [N,N,H*d] gate logits */
	float *o = g + r * hd;  /* [N,N,H*d] */
	float *mt = o + r * hd; /* [N,N] pair_mask^T (ending node) */
	const float *mask = pair_mask;
	if (ending) {
		/* the starting node's sequence on z^T, without a transposed copy of z: LN writes
		 * its rows transposed, linear_o adds them back transposed */
		op->transpose_pair(mt, pair_mask, n_tok, n_tok, 1);
		mask = mt;
		op->layer_norm_t(x, z, w->ln.w, w->ln.b, n_tok, n_tok, c, OF3_LN_EPS);
	} else {
		op->layer_norm(x, z, w->ln.w, w->ln.b, r, c, OF3_LN_EPS);
	}
	op->linear(tb, x, w->bias.w, NULL, r, c, nh);
	/* q, k, v, g: one product over their packed weights (OF3_F_MHA_PACKED) */
	op->linear_stack(q, x, 0, w->mha.q.w, NULL, 4, r, c, hd);
	/* mask[b=i, key k] = pair_mask[i, k] (of z^T for the ending node) */
	op->attention(o, q, k, v, g, mask, tb, n_tok, n_tok, n_tok, nh, w->mha.d_head);
	if (ending)
		op->linear_acc_t(z, o, w->mha.o.w, n_tok, n_tok, hd, c);
	else
		op->linear_acc(z, o, w->mha.o.w, r, hd, c);
}
