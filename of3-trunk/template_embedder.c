/* template_embedder.c: the template embedder at inference (spec/trunk.md §3.3): pair embedding
 * of each template slot from its features and the recycled z, the cut-short template pair
 * stack (§3.3.4), per-slot LayerNorm, mean over the T slots, ReLU, linear_t.
 *
 * Slots without a template (all features zero) all start from the same tensor and so end
 * identical: the first is computed, later ones add the same result again, in slot order, so
 * the sum is the one computing every slot would give. The template features are prepared on
 * the host once per query (trunk_features.c: of3_trunk_dev_upload), so this file only queues
 * ops and runs on either backend. */
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

/* embed_slot's space: the two aatype projections [N,c_t] and one scalar feature's projection
 * [N,N,c_t]. */
static size_t slot_floats(const of3_template_w_t *w, int64_t n)
{
	return (size_t)n * (size_t)(2 * w->c_t) + (size_t)(n * n) * (size_t)w->c_t;
}

size_t of3_template_embedder_scratch(const of3_template_w_t *w, int64_t n_tok)
{
	const size_t r = (size_t)(n_tok * n_tok);
	size_t work = max2(r * (size_t)w->c_z, slot_floats(w, n_tok));
	for (int b = 0; b < w->n_block; b++)
		work = max2(work, of3_pair_block_template_scratch(&w->block[b], n_tok));
	return 4 * r * (size_t)w->c_t + work;
}

/* v[N,N,c_t] = a[t] of spec/trunk.md §3.3.2 (the z-independent part of the pair embedding) for
 * computed slot k: the distogram linear, then the five scalar features' linears added in turn,
 * then the two aatype projections; features (times the multichain mask) from
 * trunk_features.c. */
static void embed_slot(float *v, const of3_template_w_t *w, const of3_trunk_dev_t *f, int64_t k,
                       float *work, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = f->n_token, r = n * n, c_t = w->c_t;
	float *a1 = work;          /* [N,c_t] aatype_linear_1 (row token) */
	float *a2 = a1 + n * c_t;  /* [N,c_t] aatype_linear_2 (column token) */
	float *tmp = a2 + n * c_t; /* [N,N,c_t] one scalar feature's projection */
	const float *rt = f->tmpl_restype + k * n * OF3_TF_N_RESTYPE;
	const float *sc = f->tmpl_scalar + k * OF3_TF_N_TMPL_SCAL * r;
	const of3_lin_w_t *lin[OF3_TF_N_TMPL_SCAL] = {&w->pseudo_beta_mask, &w->x, &w->y, &w->z,
	                                              &w->backbone_mask};
	op->linear(a1, rt, w->aatype_1.w, NULL, n, OF3_TF_N_RESTYPE, c_t);
	op->linear(a2, rt, w->aatype_2.w, NULL, n, OF3_TF_N_RESTYPE, c_t);
	op->linear(v, f->tmpl_dgram + k * r * OF3_TF_N_DGRAM, w->dgram.w, NULL, r, OF3_TF_N_DGRAM,
	           c_t);
	for (int q = 0; q < OF3_TF_N_TMPL_SCAL; q++) {
		op->linear(tmp, sc + q * r, lin[q]->w, NULL, r, 1, c_t);
		op->add(v, tmp, r * c_t);
	}
	op->outer_add(v, a1, a2, n, n, c_t);
}

int of3_template_embedder_forward(const of3_backend_t *be, const of3_template_w_t *w,
                                  const of3_trunk_dev_t *f, const float *z, float *z_update,
                                  float *scratch)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = f->n_token, r = n * n, c_t = w->c_t, c_z = w->c_z, n_t = f->n_template;
	const float *pm = f->pair_mask; /* [N,N] */
	float *t0 = scratch;            /* [N,N,c_t] linear_z(LN(z)), shared by every slot */
	float *v = t0 + r * c_t;        /* [N,N,c_t] the slot being computed */
	float *ue = v + r * c_t;        /* [N,N,c_t] the result of an empty slot, once computed */
	float *sum = ue + r * c_t;      /* [N,N,c_t] Σ over slots so far */
	float *work = sum + r * c_t;
	int have_empty = 0;
	if (n_t < 1)
		return of3_err(OF3_ERR_INPUT,
		               "features: no template slots (of3-featurize writes 4, "
		               "empty ones all zero)");
	op->layer_norm(work, z, w->ln_z.w, w->ln_z.b, r, c_z, OF3_LN_EPS);
	op->linear(t0, work, w->lin_z.w, NULL, r, c_z, c_t);
	for (int64_t t = 0; t < n_t; t++) {
		const int empty = f->tmpl_empty[t];
		float *u = empty ? ue : v;
		if (!empty || !have_empty) {
			embed_slot(u, w, f, f->tmpl_slot[t], work, be);
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
