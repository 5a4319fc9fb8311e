/* diffuse_inputs.h: of3-diffuse's view of a trunk bundle (docs/FORMAT.md "trunk"): the features
 * the diffusion module (spec/diffusion_heads.md §3.8) and the heads (§5) read and the trunk
 * outputs s_input, s_trunk, z_trunk, each checked for dtype and shape, the trunk outputs for
 * belonging to the same query as the features (their token count), every real value for being
 * finite. Views point into the bundle; only the restype index table is allocated. */
#ifndef OF3_DIFFUSE_INPUTS_H
#define OF3_DIFFUSE_INPUTS_H

#include <stdint.h>

#include "../common/bundle.h"
#include "diffusion_module.h"
#include "heads.h"

typedef struct {
	int64_t n_tok, n_atom;
	of3_diffusion_feats_t f; /* the diffusion module's features */
	of3_heads_tokens_t tok;  /* the heads' token tables (restype points at restype_idx) */
	const float *s_input;    /* [N,c_si] */
	const float *s_trunk;    /* [N,c_s] */
	const float *z_trunk;    /* [N,N,c_z] */
	int32_t *restype_idx;    /* [N] residue type index (argmax of the one-hot), owned */
} of3_diffuse_inputs_t;

/* Fills *v from trunk bundle b for a model of widths c_si, c_s, c_z. OF3_ERR_INPUT naming the
 * tensor (missing, dtype, shape, a value that is NaN or infinite, an atom_to_token_index that
 * is out of range or not in token order); OF3_ERR_NOMEM. Free with of3_diffuse_inputs_free. */
int of3_diffuse_inputs_view(of3_diffuse_inputs_t *v, const of3_bundle_t *b, int64_t c_si,
                            int64_t c_s, int64_t c_z) OF3_WUR;
void of3_diffuse_inputs_free(of3_diffuse_inputs_t *v);

#endif
