/* input_embedder.c: the input embedder (spec/trunk.md §3.1): atom single conditioning, atom-pair
 * conditioning, the atom transformer, masked mean pooling to tokens, s_input, s_init, and z_init
 * with the relative position encoding (§3.1.4) and the token-bond embedding (§3.1.5).
 *
 * The relative-position linear acts on a one-hot of 139 channels with four ones at most, so it
 * is computed as the sum of those four weight columns (no N^2 x 139 one-hot is built). */
#include "input_embedder.h"

#include <stdint.h>
#include <string.h>

#include "../common/error.h"

#define PFX "input_embedder."
#define ENC "input_embedder.atom_attn_enc."
#define REF "input_embedder.atom_attn_enc.ref_atom_feature_embedder."

int of3_input_embedder_bind(of3_input_embedder_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	int64_t ca = -1, cs_atom = -1, cp = -1, ct = -1, csi, cs = -1, cz = -1;
	int64_t one = 1, n_rel = OF3_RELPOS_WIDTH;
	memset(w, 0, sizeof *w);
	int rc = of3_ref_atom_bind(&w->ref, ck, wb, REF, &ca);
	rc = rc ? rc : of3_atom_pair_bind(&w->pair, ck, wb, REF, ENC, ca, &cp);
	cs_atom = ca; /* the conditioning of the encoder's transformer is c_l, c_a wide */
	rc = rc ? rc
	        : of3_atom_transformer_bind(&w->transformer, ck, wb, ENC "atom_transformer.", &ca,
	                                    &cs_atom, cp);
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->to_token, &ct, &ca, 0, ENC, "linear_q.0");
	if (rc)
		return rc;
	csi = ct + 2 * OF3_TF_N_RESTYPE + 1;
	rc = of3_wbind_lin(wb, ck, &w->s, &cs, &csi, 0, PFX, "linear_s");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->z_i, &cz, &csi, 0, PFX, "linear_z_i");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->z_j, &cz, &csi, 0, PFX, "linear_z_j");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->relpos, &cz, &n_rel, 0, PFX, "linear_relpos");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->bonds, &cz, &one, 0, PFX, "linear_token_bonds");
	w->c_a = ca;
	w->c_p = cp;
	w->c_token = ct;
	w->c_s_input = csi;
	w->c_s = cs;
	w->c_z = cz;
	return rc;
}

/* Scratch layout, in floats (forward() carves it in this order). */
static size_t atom_part(const of3_input_embedder_w_t *w, int64_t n_atom)
{
	const size_t a = (size_t)n_atom, nb = (size_t)of3_atom_n_block(n_atom);
	return a * (size_t)(OF3_TF_N_NAME_CHARS * OF3_TF_N_CHAR)  /* fx: features as float */
	       + 3 * a * (size_t)w->c_a                           /* c, tmp, q */
	       + nb * OF3_ATOM_NQ * OF3_ATOM_NK * (size_t)w->c_p; /* p */
}

size_t of3_input_embedder_scratch(const of3_input_embedder_w_t *w, int64_t n_token, int64_t n_atom)
{
	size_t inner = of3_atom_pair_scratch(&w->pair, n_atom);
	size_t k = of3_atom_transformer_scratch(&w->transformer, n_atom);
	inner = k > inner ? k : inner;
	k = (size_t)n_atom * (size_t)w->c_token + 2 * (size_t)n_token * (size_t)w->c_z;
	inner = k > inner ? k : inner;
	return atom_part(w, n_atom) + inner;
}

int of3_input_embedder_forward(const of3_backend_t *be, const of3_input_embedder_w_t *w,
                               const of3_trunk_dev_t *f, float *s_input, float *s_init,
                               float *z_init, float *scratch)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = f->n_token, a = f->n_atom, ca = w->c_a, ct = w->c_token;
	const int64_t csi = w->c_s_input, cz = w->c_z;
	const int64_t n_ch = OF3_TF_N_NAME_CHARS * OF3_TF_N_CHAR;
	float *fx = scratch;      /* [A,256] a feature as float32 */
	float *c = fx + a * n_ch; /* [A,c_a] atom single conditioning c_l */
	float *tmp = c + a * ca;  /* [A,c_a] */
	float *q = tmp + a * ca;  /* [A,c_a] atom activations q_l */
	float *p = q + a * ca;    /* [nb,32,128,c_p] atom-pair conditioning */
	float *inner = p + of3_atom_n_block(a) * OF3_ATOM_NQ * OF3_ATOM_NK * w->c_p;
	float *r = inner; /* [A,c_token] relu(linear_q(q_l)) (after the transformer, reusing its
	                     scratch) */
	float *zi = r + a * ct;  /* [N,c_z] linear_z_i(s_input) */
	float *zj = zi + n * cz; /* [N,c_z] linear_z_j(s_input) */
	if (csi != ct + OF3_TF_N_TOKEN_FEAT)
		return of3_err(OF3_ERR_INPUT,
		               "input embedder: c_s_input %lld is not c_token %lld + %d",
		               (long long)csi, (long long)ct, OF3_TF_N_TOKEN_FEAT);

	/* step 1: c_l, the five linears summed in the reference's order */
	of3_ref_atom_embed(c, f->ref_pos, f->ref_charge, f->ref_mask, f->ref_element,
	                   f->ref_atom_name_chars, &w->ref, a, fx, tmp, be);

	/* steps 2-3: pair conditioning; step 4: the transformer on q_l = c_l */
	of3_atom_pair_cond(p, f->ref_pos, f->ref_space_uid, f->atom_mask, c, &w->pair, a, inner,
	                   be);
	op->copy(q, c, a * ca);
	of3_atom_transformer(q, c, p, f->atom_mask, &w->transformer, a, inner, be);

	/* step 5: masked mean of relu(linear_q(q_l ⊙ mask)) over each token's atoms, summed in
	 * float64 in atom order as the reference's index_add */
	op->mask_rows(q, f->atom_mask, a, ca);
	op->linear(r, q, w->to_token.w, NULL, a, ca, ct);
	op->relu(r, r, a * ct);
	op->mask_rows(r, f->atom_mask, a, ct);

	/* s_input = [pooled atoms | restype | profile | deletion_mean] */
	op->segment_mean(s_input, csi, r, f->atom_mask, f->pool_off, f->pool_rows, n, ct);
	op->copy_2d(s_input + ct, csi, f->token_feat, OF3_TF_N_TOKEN_FEAT, n, OF3_TF_N_TOKEN_FEAT);
	op->linear(s_init, s_input, w->s.w, NULL, n, csi, w->c_s);
	op->linear(zi, s_input, w->z_i.w, NULL, n, csi, cz);
	op->linear(zj, s_input, w->z_j.w, NULL, n, csi, cz);

	/* z_init[i,j] = (z_i[i] + z_j[j]) + linear_relpos(relpos[i,j]) + linear_token_bonds(bond):
	 * the relpos linear acts on a one-hot with four ones at most, so it is the sum of those
	 * weight columns (bins from the host, trunk_features.c) */
	op->relpos_embed(z_init, zi, zj, f->relpos_bins, f->token_bonds, w->relpos.w, w->bonds.w, n,
	                 cz, OF3_RELPOS_WIDTH);
	return OF3_OK;
}
