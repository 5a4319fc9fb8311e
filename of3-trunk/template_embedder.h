/* template_embedder.h: the template embedder (spec/trunk.md §3.3, AF3 Alg. 16) as OpenFold3
 * runs it at inference: the template pair embedder (§3.3.2, with the asym_id product
 * "multichain mask" of the released weights), the template pair stack cut short after the
 * starting-node triangle attention (§3.3.4), the per-template LayerNorm, the mean over all T
 * slots, ReLU and linear_t (§3.3.5).
 *
 * Slots whose template features are all zero (no template found) give identical results; the
 * first is computed and the rest reuse it (exactly the same numbers; docs/DEVIATIONS.md). */
#ifndef OF3_TRUNK_TEMPLATE_EMBEDDER_H
#define OF3_TRUNK_TEMPLATE_EMBEDDER_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/backend.h"
#include "../kernels/layers/pairformer.h"
#include "../kernels/layers/weights.h"
#include "trunk_features.h"

#define OF3_TEMPLATE_MAX_BLOCKS 8

/* Weights under "template_embedder.". Dimensions from the checkpoint's shapes: c_t = 64 and
 * 2 blocks in the released model. The blocks' tri_att_end and pair_transition are bound (the
 * checkpoint has them) but unused at inference (§3.3.4). */
typedef struct {
	/* template_pair_embedder.: *_linear [c_t, 39|32|1], no biases */
	of3_lin_w_t dgram, aatype_1, aatype_2, pseudo_beta_mask, x, y, z, backbone_mask;
	of3_ln_w_t ln_z;   /* layer_norm_z [c_z] */
	of3_lin_w_t lin_z; /* linear_z [c_t, c_z] */
	int n_block;
	of3_pair_block_w_t block[OF3_TEMPLATE_MAX_BLOCKS]; /* template_pair_stack.blocks.{b}. */
	of3_ln_w_t ln_out; /* template_pair_stack.layer_norm [c_t] */
	of3_lin_w_t lin_t; /* linear_t [c_z, c_t] */
	int64_t c_z, c_t;
} of3_template_w_t;

/* Binds every "template_embedder." key (planning pass when wb->base is NULL, weights.h).
 * Returns 0 or OF3_ERR_INPUT naming a missing or misshaped key. */
int of3_template_embedder_bind(of3_template_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb) OF3_WUR;

/* Scratch floats of3_template_embedder_forward needs for n_tok tokens. */
size_t of3_template_embedder_scratch(const of3_template_w_t *w, int64_t n_tok);

/* z_update[N,N,c_z] = TemplateEmbedder(f, z[N,N,c_z]) (written, not added: the caller adds it
 * to z). Reads the query's template pair features and pair mask (of3_trunk_dev_upload); every
 * buffer where the backend computes. scratch: of3_template_embedder_scratch() floats. Returns
 * 0, or OF3_ERR_INPUT when there is no template slot. */
int of3_template_embedder_forward(const of3_backend_t *be, const of3_template_w_t *w,
                                  const of3_trunk_dev_t *f, const float *z, float *z_update,
                                  float *scratch) OF3_WUR;

#endif
