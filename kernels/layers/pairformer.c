/* pairformer.c: the pair block (spec/trunk.md §3.6) and the Pairformer block (§3.7, AF3
 * Alg. 17) as sequences of layer calls, and their weight binding. The pair track is updated
 * first and the single track then attends with the new z, as OpenFold3 does. */
#include "pairformer.h"

#include <stdio.h>

static size_t max2(size_t a, size_t b)
{
	return a > b ? a : b;
}

int of3_pair_block_bind(of3_pair_block_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix)
{
	char p[256];
	int64_t c_z = -1;
	int rc;
	snprintf(p, sizeof p, "%stri_mul_out.", prefix);
	rc = of3_tri_mul_bind(&w->mul_out, ck, wb, p, &c_z);
	snprintf(p, sizeof p, "%stri_mul_in.", prefix);
	rc = rc ? rc : of3_tri_mul_bind(&w->mul_in, ck, wb, p, &c_z);
	snprintf(p, sizeof p, "%stri_att_start.", prefix);
	rc = rc ? rc : of3_tri_att_bind(&w->att_start, ck, wb, p, &c_z);
	snprintf(p, sizeof p, "%stri_att_end.", prefix);
	rc = rc ? rc : of3_tri_att_bind(&w->att_end, ck, wb, p, &c_z);
	snprintf(p, sizeof p, "%spair_transition.", prefix);
	rc = rc ? rc : of3_transition_bind(&w->transition, ck, wb, p, &c_z);
	w->c_z = c_z;
	return rc;
}

int of3_pairformer_block_bind(of3_pairformer_block_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb,
                              const char *prefix)
{
	char p[256];
	int64_t c_s = -1;
	snprintf(p, sizeof p, "%spair_stack.", prefix);
	int rc = of3_pair_block_bind(&w->pair, ck, wb, p);
	snprintf(p, sizeof p, "%sattn_pair_bias.", prefix);
	rc = rc ? rc : of3_apb_bind(&w->apb, ck, wb, p, &c_s, w->pair.c_z);
	snprintf(p, sizeof p, "%ssingle_transition.", prefix);
	rc = rc ? rc : of3_transition_bind(&w->single, ck, wb, p, &c_s);
	w->c_s = c_s;
	w->c_z = w->pair.c_z;
	return rc;
}

size_t of3_pair_block_scratch(const of3_pair_block_w_t *w, int64_t n_tok)
{
	size_t n = max2(of3_tri_mul_scratch(&w->mul_out, n_tok),
	                of3_tri_mul_scratch(&w->mul_in, n_tok));
	n = max2(n, of3_tri_att_scratch(&w->att_start, n_tok));
	n = max2(n, of3_tri_att_scratch(&w->att_end, n_tok));
	return max2(n, of3_transition_scratch(&w->transition, n_tok * n_tok));
}

size_t of3_pairformer_block_scratch(const of3_pairformer_block_w_t *w, int64_t n_tok)
{
	size_t n = max2(of3_pair_block_scratch(&w->pair, n_tok), of3_apb_scratch(&w->apb, n_tok));
	return max2(n, of3_transition_scratch(&w->single, n_tok));
}

void of3_pair_block(float *z, const float *pair_mask, const of3_pair_block_w_t *w, int64_t n_tok,
                    float *scratch, const of3_backend_t *be)
{
	of3_tri_mul(z, pair_mask, &w->mul_out, 0, n_tok, scratch, be);
	of3_tri_mul(z, pair_mask, &w->mul_in, 1, n_tok, scratch, be);
	of3_tri_att(z, pair_mask, &w->att_start, 0, n_tok, scratch, be);
	of3_tri_att(z, pair_mask, &w->att_end, 1, n_tok, scratch, be);
	of3_transition(z, pair_mask, &w->transition, n_tok * n_tok, scratch, be);
}

size_t of3_pair_block_template_scratch(const of3_pair_block_w_t *w, int64_t n_tok)
{
	size_t n = max2(of3_tri_mul_scratch(&w->mul_out, n_tok),
	                of3_tri_mul_scratch(&w->mul_in, n_tok));
	return max2(n, of3_tri_att_scratch(&w->att_start, n_tok));
}

void of3_pair_block_template(float *z, const float *pair_mask, const of3_pair_block_w_t *w,
                             int64_t n_tok, float *scratch, const of3_backend_t *be)
{
	/* z [N,N,c_t], pair_mask [N,N]. OpenFold3's TemplatePairBlock (inplace_safe) keeps only
	 * the updates written in place into its per-template view; the ending-node attention runs
	 * on a transposed contiguous copy, so it and the transition after it are lost. */
	of3_tri_mul(z, pair_mask, &w->mul_out, 0, n_tok, scratch, be);
	of3_tri_mul(z, pair_mask, &w->mul_in, 1, n_tok, scratch, be);
	of3_tri_att(z, pair_mask, &w->att_start, 0, n_tok, scratch, be);
}

void of3_pairformer_block(float *s, float *z, const float *token_mask, const float *pair_mask,
                          const of3_pairformer_block_w_t *w, int64_t n_tok, float *scratch,
                          const of3_backend_t *be)
{
	/* s [N,c_s], z [N,N,c_z], token_mask [N], pair_mask [N,N] */
	of3_pair_block(z, pair_mask, &w->pair, n_tok, scratch, be);
	of3_apb(s, z, token_mask, &w->apb, n_tok, scratch, be);
	of3_transition(s, token_mask, &w->single, n_tok, scratch, be);
}
