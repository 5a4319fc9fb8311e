/* pairformer.h: the pair block and the Pairformer block, with the layers they are made of
 * (spec/trunk.md §3.0.1 SwiGLU transition, §3.6 pair block, §3.6.1 triangle multiplicative
 * update, §3.6.2 triangle attention, §3.7 Pairformer block, §3.7.1 attention with pair bias).
 *
 * Written once against the op table (kernels/ops.h): the trunk's Pairformer stack, the pair
 * block of the MSA module and template stack, and the confidence head's Pairformer all call
 * these. Each layer updates its tensor in place (the residual add included), takes its weights
 * from a struct that of3_*_bind() fills from a checkpoint (weights.h), and works in a scratch
 * buffer of at least of3_*_scratch() floats that the caller allocates once; nothing here
 * allocates. Dimensions come from the weights (learnt from the checkpoint's shapes).
 *
 * The template stack's block at inference is the pair block cut short after the starting-node
 * triangle attention (§3.3.4, of3_pair_block_template). Not here yet: the trace hook naming
 * intermediates (STYLE.md rule 14). */
#ifndef OF3_LAYERS_PAIRFORMER_H
#define OF3_LAYERS_PAIRFORMER_H

#include <stddef.h>
#include <stdint.h>

#include "../backend.h"
#include "mha.h"
#include "weights.h"

/* SwiGLU transition: LN_wb, linear_a (under SiLU) and linear_b [n_hidden, c] (bound back to
 * back: a.w is their [2, n_hidden, c] stack), linear_out [c, n_hidden], no biases. */
typedef struct {
	of3_ln_w_t ln;
	of3_lin_w_t a, b, out;
	int64_t c, n_hidden;
} of3_transition_w_t;

/* Triangle multiplicative update: layer_norm_in [c_z], linear_{a,b}_{p,g} [h, c_z], linear_g
 * [c_z, c_z] (output gate), layer_norm_out [h], linear_z [c_z, h] (output projection).
 * a_p, a_g, b_p, b_g and g are bound back to back (a_p.w is their [4h + c_z, c_z] stack). */
typedef struct {
	of3_ln_w_t ln_in, ln_out;
	of3_lin_w_t a_p, a_g, b_p, b_g, g, z;
	int64_t c_z, h;
} of3_tri_mul_w_t;

/* Triangle attention (starting node; the ending node is the same on the transposed pair):
 * layer_norm [c_z], linear_z [H, c_z] (triangle bias), mha.linear_{q,k,v,g} [H*d, c_z] (bound
 * back to back, OF3_F_MHA_PACKED), mha.linear_o [c_z, H*d], no biases. */
typedef struct {
	of3_ln_w_t ln;
	of3_lin_w_t bias;
	of3_mha_w_t mha;
	int64_t c_z;
	int64_t n_head; /* mha.n_head, for of3-trunk's max_heads until it reads mha.n_head */
} of3_tri_att_w_t;

/* Attention with pair bias (use_ada_layer_norm False): layer_norm_a [c_s], layer_norm_z [c_z],
 * linear_z [H, c_z], mha.linear_q [H*d, c_s] with bias, linear_{k,v,g} [H*d, c_s],
 * linear_o [c_s, H*d]. */
typedef struct {
	of3_ln_w_t ln_a, ln_z;
	of3_lin_w_t bias;
	of3_mha_w_t mha;
	int64_t c_s, c_z;
	int64_t n_head; /* mha.n_head, for of3-trunk's max_heads until it reads mha.n_head */
} of3_apb_w_t;

/* Pair block (§3.6): tri_mul_out, tri_mul_in, tri_att_start, tri_att_end, pair_transition. */
typedef struct {
	of3_tri_mul_w_t mul_out, mul_in;
	of3_tri_att_w_t att_start, att_end;
	of3_transition_w_t transition;
	int64_t c_z;
} of3_pair_block_w_t;

/* Pairformer block (§3.7): pair_stack, attn_pair_bias, single_transition. */
typedef struct {
	of3_pair_block_w_t pair;
	of3_apb_w_t apb;
	of3_transition_w_t single;
	int64_t c_s, c_z;
} of3_pairformer_block_w_t;

/* ---- binding (prefix ends with '.', e.g. "pairformer_stack.blocks.0.") ---- */

/* Transition under prefix+name ("...pair_transition"); *c -1 learns the width. */
int of3_transition_bind(of3_transition_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                        int64_t *c) OF3_WUR;
int of3_tri_mul_bind(of3_tri_mul_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                     int64_t *c_z) OF3_WUR;
int of3_tri_att_bind(of3_tri_att_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                     int64_t *c_z) OF3_WUR;
int of3_apb_bind(of3_apb_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix, int64_t *c_s,
                 int64_t c_z) OF3_WUR;
/* prefix + "tri_mul_out." etc. (a pair block's own prefix, "....pair_stack."). */
int of3_pair_block_bind(of3_pair_block_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb,
                        const char *prefix) OF3_WUR;
/* prefix + "pair_stack.", "attn_pair_bias.", "single_transition.". */
int of3_pairformer_block_bind(of3_pairformer_block_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb,
                              const char *prefix) OF3_WUR;

/* ---- scratch sizes, in floats ---- */

size_t of3_transition_scratch(const of3_transition_w_t *w, int64_t n_r);
size_t of3_tri_mul_scratch(const of3_tri_mul_w_t *w, int64_t n_tok);
size_t of3_tri_att_scratch(const of3_tri_att_w_t *w, int64_t n_tok);
size_t of3_apb_scratch(const of3_apb_w_t *w, int64_t n_tok);
size_t of3_pair_block_scratch(const of3_pair_block_w_t *w, int64_t n_tok);
size_t of3_pairformer_block_scratch(const of3_pairformer_block_w_t *w, int64_t n_tok);
size_t of3_pair_block_template_scratch(const of3_pair_block_w_t *w, int64_t n_tok);

/* ---- forward passes (inference; every buffer lives on be's device) ---- */

/* x[R,c] += mask[R] ⊙ linear_out(silu(linear_a(LN x)) ⊙ linear_b(LN x)). */
void of3_transition(float *x, const float *mask, const of3_transition_w_t *w, int64_t n_r,
                    float *scratch, const of3_backend_t *be);

/* z[N,N,c_z] += TriMul(z, pair_mask[N,N]); incoming 0: outgoing edges (tri_mul_out),
 * 1: incoming edges (tri_mul_in). */
void of3_tri_mul(float *z, const float *pair_mask, const of3_tri_mul_w_t *w, int incoming,
                 int64_t n_tok, float *scratch, const of3_backend_t *be);

/* ending 0: z[N,N,c_z] += TriAttStart(z, pair_mask[N,N]): row i attends over j (queries) x k
 * (keys); ending 1: z += TriAttEnd(z, pair_mask) = (TriAttStart(z^T, pair_mask^T))^T. */
void of3_tri_att(float *z, const float *pair_mask, const of3_tri_att_w_t *w, int ending,
                 int64_t n_tok, float *scratch, const of3_backend_t *be);

/* s[N,c_s] += AttentionPairBias(s, z[N,N,c_z], token_mask[N]). */
void of3_apb(float *s, const float *z, const float *token_mask, const of3_apb_w_t *w, int64_t n_tok,
             float *scratch, const of3_backend_t *be);

/* z[N,N,c_z] = PairBlock(z, pair_mask[N,N]): the full five steps of §3.6. */
void of3_pair_block(float *z, const float *pair_mask, const of3_pair_block_w_t *w, int64_t n_tok,
                    float *scratch, const of3_backend_t *be);

/* z[N,N,c_z] = the template pair block as OpenFold3 runs it at inference (spec/trunk.md §3.3.4):
 * TriMulOut, TriMulIn and TriAttStart only. Its tri_att_end and pair_transition weights (bound
 * in w) are not used: OpenFold3 applies them to a copy that it then discards. */
void of3_pair_block_template(float *z, const float *pair_mask, const of3_pair_block_w_t *w,
                             int64_t n_tok, float *scratch, const of3_backend_t *be);

/* (s[N,c_s], z[N,N,c_z]) = PairformerBlock(s, z, token_mask[N], pair_mask[N,N]): z first, then
 * s with the new z (§3.7). */
void of3_pairformer_block(float *s, float *z, const float *token_mask, const float *pair_mask,
                          const of3_pairformer_block_w_t *w, int64_t n_tok, float *scratch,
                          const of3_backend_t *be);

#endif
