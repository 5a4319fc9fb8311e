/* input_embedder.c: the input embedder (spec/trunk.md §3.1): atom single conditioning, atom-pair
 * conditioning, the atom transformer, masked mean pooling to tokens, s_input, s_init, and z_init
 * with the relative position encoding (§3.1.4) and the token-bond embedding (§3.1.5).
 *
 * The relative-position linear acts on a one-hot of 139 channels with four ones at most, so it
 * is computed as the sum of those four weight columns (no N^2 x 139 one-hot is built). */
#include "input_embedder.h"

#include <math.h>
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
	k = (size_t)n_atom * (size_t)w->c_token + 2 /* double alignment */
	    + 2 * (size_t)n_token * (size_t)(w->c_token + 1) + 2 * (size_t)n_token * (size_t)w->c_z;
	inner = k > inner ? k : inner;
	return atom_part(w, n_atom) + inner;
}

/* The clipped relative-offset bin of spec/trunk.md §3.1.4. */
static int64_t clip_bin(int64_t d, int64_t r, int cond)
{
	if (!cond)
		return 2 * r + 1;
	d += r;
	return d < 0 ? 0 : d > 2 * r ? 2 * r : d;
}

int of3_input_embedder_forward(const of3_backend_t *be, const of3_input_embedder_w_t *w,
                               const of3_trunk_features_t *f, float *s_input, float *s_init,
                               float *z_init, float *scratch)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = f->n_token, a = f->n_atom, ca = w->c_a, ct = w->c_token;
	const int64_t csi = w->c_s_input, cz = w->c_z;
	const int64_t n_ch = OF3_TF_N_NAME_CHARS * OF3_TF_N_CHAR;
	if (be->kind != OF3_BACKEND_CPU)
		return of3_err(OF3_ERR_RUNTIME,
		               "input embedder: only the CPU backend is implemented (issue #7)");
	float *fx = scratch;      /* [A,256] a feature as float32 */
	float *c = fx + a * n_ch; /* [A,c_a] atom single conditioning c_l */
	float *tmp = c + a * ca;  /* [A,c_a] */
	float *q = tmp + a * ca;  /* [A,c_a] atom activations q_l */
	float *p = q + a * ca;    /* [nb,32,128,c_p] atom-pair conditioning */
	float *inner = p + of3_atom_n_block(a) * OF3_ATOM_NQ * OF3_ATOM_NK * w->c_p;
	float *r = inner; /* [A,c_token] relu(linear_q(q_l)) (after the
	                     transformer, reusing its scratch) */
	double *acc = (double *)(((uintptr_t)(r + a * ct) + 7) & ~(uintptr_t)7); /* [N,c_token] */
	double *cnt = acc + n * ct;     /* [N] unmasked atoms per token */
	float *zi = (float *)(cnt + n); /* [N,c_z] linear_z_i(s_input) */
	float *zj = zi + n * cz;        /* [N,c_z] linear_z_j(s_input) */

	/* step 1: c_l, the five linears summed in the reference's order */
	of3_ref_atom_embed(c, f->ref_pos, f->ref_charge, f->ref_mask, f->ref_element,
	                   f->ref_atom_name_chars, &w->ref, a, fx, tmp, be);

	/* steps 2-3: pair conditioning; step 4: the transformer on q_l = c_l */
	of3_atom_pair_cond(p, f->ref_pos, f->ref_space_uid, f->atom_mask, c, &w->pair, a, inner,
	                   be);
	memcpy(q, c, (size_t)(a * ca) * sizeof *q);
	of3_atom_transformer(q, c, p, f->atom_mask, &w->transformer, a, inner, be);

	/* step 5: masked mean of relu(linear_q(q_l ⊙ mask)) over each token's atoms, summed in
	 * float64 in atom order as the reference's index_add */
	op->mask_rows(q, f->atom_mask, a, ca);
	op->linear(r, q, w->to_token.w, NULL, a, ca, ct);
	for (int64_t i = 0; i < a * ct; i++)
		r[i] = r[i] > 0.f ? r[i] : 0.f;
	op->mask_rows(r, f->atom_mask, a, ct);
	memset(acc, 0, (size_t)(n * ct + n) * sizeof *acc);
	for (int64_t i = 0; i < a; i++) {
		const int64_t t = f->atom_to_token_index[i];
		for (int64_t k = 0; k < ct; k++)
			acc[t * ct + k] += r[i * ct + k];
		cnt[t] += f->atom_mask[i];
	}

	/* s_input = [pooled atoms | restype | profile | deletion_mean] */
	for (int64_t t = 0; t < n; t++) {
		float *row = s_input + t * csi;
		for (int64_t k = 0; k < ct; k++)
			row[k] = (float)(acc[t * ct + k] / (cnt[t] + 1e-9));
		for (int64_t k = 0; k < OF3_TF_N_RESTYPE; k++) {
			row[ct + k] = (float)f->restype[t * OF3_TF_N_RESTYPE + k];
			row[ct + OF3_TF_N_RESTYPE + k] = f->profile[t * OF3_TF_N_RESTYPE + k];
		}
		row[ct + 2 * OF3_TF_N_RESTYPE] = f->deletion_mean[t];
	}
	op->linear(s_init, s_input, w->s.w, NULL, n, csi, w->c_s);
	op->linear(zi, s_input, w->z_i.w, NULL, n, csi, cz);
	op->linear(zj, s_input, w->z_j.w, NULL, n, csi, cz);

	/* z_init[i,j] = (z_i[i] + z_j[j]) + linear_relpos(relpos[i,j]) + linear_token_bonds(bond)
	 */
	const int64_t nr = OF3_RELPOS_WIDTH, rr = OF3_RELPOS_R_MAX, rc = OF3_RELPOS_C_MAX;
	const float *wr = w->relpos.w, *wb = w->bonds.w;
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < n; j++) {
			const int same_chain = f->asym_id[i] == f->asym_id[j];
			const int same_res = f->residue_index[i] == f->residue_index[j];
			const int same_ent = f->entity_id[i] == f->entity_id[j];
			const int64_t b_pos = clip_bin(
			        (int64_t)f->residue_index[i] - f->residue_index[j], rr, same_chain);
			const int64_t b_tok =
			        2 * rr + 2 +
			        clip_bin((int64_t)f->token_index[i] - f->token_index[j], rr,
			                 same_chain && same_res);
			const int64_t b_ent = 2 * (2 * rr + 2);
			const int64_t b_chain =
			        b_ent + 1 +
			        clip_bin((int64_t)f->sym_id[i] - f->sym_id[j], rc, same_ent);
			const float bond = (float)f->token_bonds[i * n + j];
			float *z = z_init + (i * n + j) * cz;
			for (int64_t k = 0; k < cz; k++) {
				const float *wk = wr + k * nr;
				float rel = wk[b_pos] + wk[b_tok] + wk[b_chain];
				if (same_ent)
					rel += wk[b_ent];
				z[k] = (zi[i * cz + k] + zj[j * cz + k]) + rel + bond * wb[k];
			}
		}
	return OF3_OK;
}
