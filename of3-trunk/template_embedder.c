/* template_embedder.c: the template embedder at inference (spec/trunk.md §3.3): pair embedding
 * of each template slot from its features and the recycled z, the cut-short template pair
 * stack (§3.3.4), per-slot LayerNorm, mean over the T slots, ReLU, linear_t.
 *
 * Slots without a template (all features zero) all start from the same tensor and so end
 * identical: the first is computed, later ones add the same result again, in slot order, so
 * the sum is the one computing every slot would give. The template features are gathered on
 * the host (issue #10 gives the CUDA backend an upload). */
#include "template_embedder.h"

#include <stdio.h>
#include <string.h>

#define PE "template_embedder.template_pair_embedder."
#define PS "template_embedder.template_pair_stack."

static size_t max2(size_t a, size_t b)
{
	return a > b ? a : b;
}

int of3_template_embedder_bind(of3_template_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	int64_t c_t = -1, c_z = -1, n_dgram = OF3_TF_N_DGRAM, n_rt = OF3_TF_N_RESTYPE, one = 1;
	int64_t n_blk = of3_ckpt_count_blocks(ck, PS "blocks");
	int rc = of3_wbind_lin(wb, ck, &w->dgram, &c_t, &n_dgram, 0, PE, "dgram_linear");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->aatype_1, &c_t, &n_rt, 0, PE, "aatype_linear_1");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->aatype_2, &c_t, &n_rt, 0, PE, "aatype_linear_2");
	rc = rc ? rc
	        : of3_wbind_lin(wb, ck, &w->pseudo_beta_mask, &c_t, &one, 0, PE,
	                        "pseudo_beta_mask_linear");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->x, &c_t, &one, 0, PE, "x_linear");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->y, &c_t, &one, 0, PE, "y_linear");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->z, &c_t, &one, 0, PE, "z_linear");
	rc = rc ? rc
	        : of3_wbind_lin(wb, ck, &w->backbone_mask, &c_t, &one, 0, PE,
	                        "backbone_mask_linear");
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->ln_z, &c_z, 1, PE, "layer_norm_z");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->lin_z, &c_t, &c_z, 0, PE, "linear_z");
	if (rc)
		return rc;
	if (n_blk < 1 || n_blk > OF3_TEMPLATE_MAX_BLOCKS)
		return of3_err(OF3_ERR_INPUT,
		               "checkpoint: %lld template pair blocks under '" PS
		               "blocks.', expected "
		               "1 to %d",
		               (long long)n_blk, OF3_TEMPLATE_MAX_BLOCKS);
	w->n_block = (int)n_blk;
	for (int b = 0; b < w->n_block && rc == 0; b++) {
		char p[96];
		snprintf(p, sizeof p, PS "blocks.%d.", b);
		rc = of3_pair_block_bind(&w->block[b], ck, wb, p);
		if (rc == 0 && w->block[b].c_z != c_t)
			return of3_err(
			        OF3_ERR_INPUT,
			        "checkpoint key '%stri_mul_out.layer_norm_in.weight': width %lld, "
			        "expected c_t = %lld",
			        p, (long long)w->block[b].c_z, (long long)c_t);
	}
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->ln_out, &c_t, 1, PS, "layer_norm");
	rc = rc ? rc
	        : of3_wbind_lin(wb, ck, &w->lin_t, &c_z, &c_t, 0, "template_embedder.", "linear_t");
	w->c_t = c_t;
	w->c_z = c_z;
	return rc;
}

/* Per-slot gather space: restype as float [N,32], the two aatype projections [N,c_t], one row's
 * distogram [N,39], one scalar feature [N,1] and its projection [N,c_t]. */
static size_t gather_floats(const of3_template_w_t *w, int64_t n)
{
	return (size_t)n * (size_t)(OF3_TF_N_RESTYPE + 3 * w->c_t + OF3_TF_N_DGRAM + 1);
}

size_t of3_template_embedder_scratch(const of3_template_w_t *w, int64_t n_tok)
{
	const size_t r = (size_t)(n_tok * n_tok);
	size_t work = max2(r * (size_t)w->c_z, gather_floats(w, n_tok));
	for (int b = 0; b < w->n_block; b++)
		work = max2(work, of3_pair_block_template_scratch(&w->block[b], n_tok));
	return r + 4 * r * (size_t)w->c_t + work;
}

/* Whether slot t has no template: every feature zero. */
static int slot_empty(const of3_trunk_features_t *f, int64_t t)
{
	const int64_t n = f->n_token, r = n * n;
	for (int64_t i = 0; i < n * OF3_TF_N_RESTYPE; i++)
		if (f->template_restype[t * n * OF3_TF_N_RESTYPE + i] != 0)
			return 0;
	for (int64_t i = 0; i < n; i++)
		if (f->template_pseudo_beta_mask[t * n + i] != 0 ||
		    f->template_backbone_frame_mask[t * n + i] != 0)
			return 0;
	for (int64_t i = 0; i < r * OF3_TF_N_DGRAM; i++)
		if (f->template_distogram[t * r * OF3_TF_N_DGRAM + i] != 0)
			return 0;
	for (int64_t i = 0; i < r * 3; i++)
		if (f->template_unit_vector[t * r * 3 + i] != 0)
			return 0;
	return 1;
}

/* v[N,N,c_t] = a[t] of spec/trunk.md §3.3.2 (the z-independent part of the pair embedding). The
 * "multichain mask" F[i,j] = asym_id_i * asym_id_j multiplies the distogram, unit vector and
 * both pair masks, as the released weights expect (an erratum of OpenFold3, reproduced). */
static void embed_slot(float *v, const of3_template_w_t *w, const of3_trunk_features_t *f,
                       int64_t t, float *work, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = f->n_token, r = n * n, c_t = w->c_t;
	float *rt = work;                      /* [N,32] template_restype as float */
	float *a1 = rt + n * OF3_TF_N_RESTYPE; /* [N,c_t] aatype_linear_1 (row token) */
	float *a2 = a1 + n * c_t;              /* [N,c_t] aatype_linear_2 (column token) */
	float *dg = a2 + n * c_t;              /* [N,39] one row's distogram x F */
	float *x1 = dg + n * OF3_TF_N_DGRAM;   /* [N,1] one row's scalar feature x F */
	float *tmp = x1 + n;                   /* [N,c_t] its projection */
	const float *pb = f->template_pseudo_beta_mask + t * n;
	const float *bb = f->template_backbone_frame_mask + t * n;
	const float *dgram = f->template_distogram + t * r * OF3_TF_N_DGRAM;
	const float *uv = f->template_unit_vector + t * r * 3;
	for (int64_t i = 0; i < n * OF3_TF_N_RESTYPE; i++)
		rt[i] = (float)f->template_restype[t * n * OF3_TF_N_RESTYPE + i];
	op->linear(a1, rt, w->aatype_1.w, NULL, n, OF3_TF_N_RESTYPE, c_t);
	op->linear(a2, rt, w->aatype_2.w, NULL, n, OF3_TF_N_RESTYPE, c_t);
	for (int64_t i = 0; i < n; i++) {
		float *vi = v + i * n * c_t;
		const of3_lin_w_t *lin[5] = {&w->pseudo_beta_mask, &w->x, &w->y, &w->z,
		                             &w->backbone_mask};
		for (int64_t j = 0; j < n; j++) {
			const float fij = (float)((int64_t)f->asym_id[i] * f->asym_id[j]);
			for (int64_t k = 0; k < OF3_TF_N_DGRAM; k++)
				dg[j * OF3_TF_N_DGRAM + k] =
				        dgram[(i * n + j) * OF3_TF_N_DGRAM + k] * fij;
		}
		op->linear(vi, dg, w->dgram.w, NULL, n, OF3_TF_N_DGRAM, c_t);
		for (int q = 0; q < 5; q++) {
			for (int64_t j = 0; j < n; j++) {
				const float fij = (float)((int64_t)f->asym_id[i] * f->asym_id[j]);
				float x;
				if (q == 0)
					x = pb[i] * pb[j];
				else if (q == 4)
					x = bb[i] * bb[j];
				else
					x = uv[(i * n + j) * 3 + q - 1];
				x1[j] = x * fij;
			}
			op->linear(tmp, x1, lin[q]->w, NULL, n, 1, c_t);
			op->add(vi, tmp, n * c_t);
		}
	}
	op->outer_add(v, a1, a2, n, n, c_t);
}

int of3_template_embedder_forward(const of3_backend_t *be, const of3_template_w_t *w,
                                  const of3_trunk_features_t *f, const float *z, float *z_update,
                                  float *scratch)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = f->n_token, r = n * n, c_t = w->c_t, c_z = w->c_z, n_t = f->n_template;
	float *pm = scratch;       /* [N,N] pair mask */
	float *t0 = pm + r;        /* [N,N,c_t] linear_z(LN(z)), shared by every slot */
	float *v = t0 + r * c_t;   /* [N,N,c_t] the slot being computed */
	float *ue = v + r * c_t;   /* [N,N,c_t] the result of an empty slot, once computed */
	float *sum = ue + r * c_t; /* [N,N,c_t] Σ over slots so far */
	float *work = sum + r * c_t;
	int have_empty = 0;
	if (n_t < 1)
		return of3_err(OF3_ERR_INPUT,
		               "features: no template slots (of3-featurize writes 4, "
		               "empty ones all zero)");
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < n; j++)
			pm[i * n + j] = f->token_mask[i] * f->token_mask[j];
	op->layer_norm(work, z, w->ln_z.w, w->ln_z.b, r, c_z, OF3_LN_EPS);
	op->linear(t0, work, w->lin_z.w, NULL, r, c_z, c_t);
	for (int64_t t = 0; t < n_t; t++) {
		const int empty = slot_empty(f, t);
		float *u = empty ? ue : v;
		if (!empty || !have_empty) {
			embed_slot(u, w, f, t, work, be);
			op->add(u, t0, r * c_t); /* a + t0: the same sum as t0 + a */
			for (int b = 0; b < w->n_block; b++)
				of3_pair_block_template(u, pm, &w->block[b], n, work, be);
			op->layer_norm(u, u, w->ln_out.w, w->ln_out.b, r, c_t, OF3_LN_EPS);
			have_empty |= empty;
		}
		if (t == 0)
			op->copy(sum, u, r * c_t);
		else
			op->add(sum, u, r * c_t);
	}
	/* the mean over all slots, real or empty, as OpenFold3 takes it */
	op->div_scalar(sum, sum, (float)n_t, r * c_t);
	op->relu(sum, sum, r * c_t);
	op->linear(z_update, sum, w->lin_t.w, NULL, r, c_t, c_z);
	return 0;
}
