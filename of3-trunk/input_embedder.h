/* input_embedder.h: the trunk's input embedder (spec/trunk.md §3.1, AF3 Alg. 1 l.1-5, Alg. 2,
 * Alg. 3): the atom attention encoder pooled to tokens, s_input, s_init and z_init with the
 * relative position encoding and the token-bond embedding.
 *
 * Weights are the checkpoint's "input_embedder." keys (spec/trunk.md Appendix A); every width
 * is learnt from the shapes, so the tiny test checkpoint and the released one bind through the
 * same code. Features come through the view of trunk_features.h. Outputs are float32. */
#ifndef OF3_TRUNK_INPUT_EMBEDDER_H
#define OF3_TRUNK_INPUT_EMBEDDER_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/backend.h"
#include "../kernels/layers/atom_transformer.h"
#include "../kernels/layers/weights.h"
#include "trunk_features.h"

#define OF3_RELPOS_R_MAX OF3_TF_RELPOS_R_MAX /* residue and token offsets clipped to [-32, 32] */
#define OF3_RELPOS_C_MAX OF3_TF_RELPOS_C_MAX /* chain (sym_id) offsets clipped to [-2, 2] */
#define OF3_RELPOS_WIDTH                                                         \
	(2 * (2 * OF3_RELPOS_R_MAX + 2) + 1 + (2 * OF3_RELPOS_C_MAX + 2)) /* 139 \
	                                                                   */

typedef struct {
	of3_ref_atom_w_t ref;                 /* ref_atom_feature_embedder */
	of3_atom_pair_w_t pair;               /* pair conditioning and pair MLP */
	of3_atom_transformer_w_t transformer; /* atom_attn_enc.atom_transformer */
	of3_lin_w_t to_token;                 /* atom_attn_enc.linear_q.0 [c_token, c_a] */
	of3_lin_w_t s, z_i, z_j;   /* linear_s [c_s, c_s_input], linear_z_{i,j} [c_z, c_s_input] */
	of3_lin_w_t relpos, bonds; /* linear_relpos [c_z, 139], linear_token_bonds [c_z, 1] */
	int64_t c_a;               /* atom width (128) */
	int64_t c_p;               /* atom-pair width (16) */
	int64_t c_token;           /* pooled atom width (384) */
	int64_t c_s_input;         /* c_token + 32 + 32 + 1 (449) */
	int64_t c_s, c_z;          /* 384, 128 */
} of3_input_embedder_w_t;

/* Binds every "input_embedder." key into wb (planning pass when wb->base is NULL; weights.h).
 * A missing or misshaped key is OF3_ERR_INPUT naming it. */
int of3_input_embedder_bind(of3_input_embedder_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb) OF3_WUR;

/* Scratch floats of3_input_embedder_forward needs for N tokens and A atoms. */
size_t of3_input_embedder_scratch(const of3_input_embedder_w_t *w, int64_t n_token, int64_t n_atom);

/* s_input[N,c_s_input], s_init[N,c_s], z_init[N,N,c_z] from the query's features in backend
 * memory (spec/trunk.md §3.1.2-3.1.5); every buffer where the backend computes. scratch:
 * of3_input_embedder_scratch() floats. Returns OF3_OK, or OF3_ERR_INPUT when the features do
 * not fit the weights. */
int of3_input_embedder_forward(const of3_backend_t *be, const of3_input_embedder_w_t *w,
                               const of3_trunk_dev_t *f, float *s_input, float *s_init,
                               float *z_init, float *scratch) OF3_WUR;

#endif
