/* mha.h: the weights of OpenFold3's gated multi-head attention (spec/trunk.md §3.6.2, §3.7.1,
 * spec/diffusion_heads.md §3.4, §3.6; AF3 Alg. 14, 24): the projections linear_q, linear_k,
 * linear_v, linear_g (sigmoid gate) and linear_o, and the head count, bound in one place for
 * every layer that has them: triangle attention, attention with pair bias, the atom and
 * diffusion transformer blocks, and the MSA module's pair-weighted averaging (values and gate
 * only). The per-head bias (linear_z) and the layer norms stay with each layer: their inputs
 * differ. Only the weights are here; each layer writes its own forward over the op table. */
#ifndef OF3_LAYERS_MHA_H
#define OF3_LAYERS_MHA_H

#include <stdint.h>

#include "weights.h"

/* linear_q has a bias (attention with pair bias); k, v, g and o never have one. */
#define OF3_F_MHA_Q_BIAS 0x1u
/* No linear_q, linear_k (q, k left zero): pair-weighted averaging, whose weights come from the
 * bias alone. */
#define OF3_F_MHA_NO_QK 0x2u
/* linear_{q,k,v,g} bound back to back (of3_wbind_lin_packed): q.w is W[4,H*d,c], the four as
 * one linear_stack (y [4,R,H*d]: q, k, v, g). Not with Q_BIAS or NO_QK. */
#define OF3_F_MHA_PACKED 0x4u

/* linear_{q,k,v,g} [H*d, c] (no bias but q under OF3_F_MHA_Q_BIAS), linear_o [c, H*d]; H heads
 * of width d. */
typedef struct {
	of3_lin_w_t q, k, v, g, o;
	int64_t n_head, d_head; /* H, d */
} of3_mha_w_t;

/* Binds "<prefix><name>linear_{q,k,v,g,o}" (in that order; name is "mha." or "") with the
 * projections' input and linear_o's output width *c (-1 learns it) and n_head heads (the output
 * count of the layer's linear_z, bound before). A width that does not split into n_head heads
 * is OF3_ERR_INPUT naming the first projection's key; a missing or misshaped key is too
 * (of3_wbind_lin). flags: OF3_F_MHA_*. */
int of3_mha_bind(of3_mha_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                 const char *name, int64_t *c, int64_t n_head, unsigned flags) OF3_WUR;

#endif
