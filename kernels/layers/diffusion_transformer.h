/* diffusion_transformer.h: AdaLN (spec/diffusion_heads.md §3.0, AF3 Alg. 26) and the
 * token-level diffusion transformer (§3.4, AF3 Alg. 23 with OpenFold3's sequential residuals):
 * per block, full self-attention over tokens with a pair bias and AdaLN-conditioned queries,
 * gated by σ(linear_ada_out(s)), then a conditioned transition (AF3 Alg. 25).
 *
 * Layers update their tensor in place, take weights bound by of3_*_bind() and a caller's
 * scratch of at least of3_*_scratch() floats, and never allocate.
 *
 * What depends on the pair z only (every block's pair bias, 24 x H x N^2 values) is made once
 * per rollout by of3_diffusion_transformer_pair_bias(); what depends on s (AdaLN and gate
 * terms) once per call and shared by the samples (spec/diffusion_heads.md §8 item 7). */
#ifndef OF3_LAYERS_DIFFUSION_TRANSFORMER_H
#define OF3_LAYERS_DIFFUSION_TRANSFORMER_H

#include <stddef.h>
#include <stdint.h>

#include "../backend.h"
#include "atom_transformer.h" /* of3_adaln_w_t, of3_adaln */
#include "mha.h"
#include "weights.h"

#define OF3_DT_MAX_BLOCKS 32 /* diffusion transformer blocks a checkpoint may have (24) */

/* One block: attention_pair_bias.{layer_norm_a (AdaLN), layer_norm_z [c_z] (weight only),
 * linear_z [H, c_z], mha.linear_q [H*d, c_a] + bias, mha.linear_{k,v,g} [H*d, c_a],
 * mha.linear_o [c_a, H*d], linear_ada_out [c_a, c_s] + bias}, conditioned_transition.
 * {layer_norm (AdaLN), swiglu.linear_{a,b} [h, c_a], linear_g [c_a, c_s] + bias,
 * linear_out [c_a, h]}. */
typedef struct {
	of3_adaln_w_t ln_a;
	of3_ln_w_t ln_z;
	of3_lin_w_t bias;
	of3_mha_w_t mha;
	of3_lin_w_t ada_out;
	of3_cond_transition_w_t tr;
	int64_t c_a, c_s, c_z;
} of3_dt_block_w_t;

typedef struct {
	int n_block;
	of3_dt_block_w_t blk[OF3_DT_MAX_BLOCKS];
	int64_t c_a, c_s, c_z;
} of3_diffusion_transformer_w_t;

/* prefix + "blocks.{b}." for every block found (prefix ends in '.', e.g.
 * "diffusion_module.diffusion_transformer."); *c_a, *c_s, *c_z -1 learn the widths. No block is
 * OF3_ERR_INPUT. */
int of3_diffusion_transformer_bind(of3_diffusion_transformer_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb,
                                   const char *prefix, int64_t *c_a, int64_t *c_s,
                                   int64_t *c_z) OF3_WUR;

/* Pair rows [N, width] taken at once by the per-rollout loops over a pair tensor's rows (the
 * pair biases, the conditioned pair, the atom pairs' z term): as many as fit in
 * OF3_PAIR_CHUNK_FLOATS, at least 1, at most N. A few launches per chunk instead of per row (at
 * 1024 tokens 24 x 1024 x 2 launches became 24 x 32 x 2), with scratch bounded. Rows are
 * independent in every op involved, so the chunking changes no result on the CPU. */
#define OF3_PAIR_CHUNK_FLOATS ((int64_t)1 << 22)
int64_t of3_pair_rows_per_chunk(int64_t n_tok, int64_t width);
/* Another chunk size in floats (0: OF3_PAIR_CHUNK_FLOATS), for the tests to take several chunks
 * of a small query; set it before asking for scratch sizes. */
void of3_pair_set_chunk_floats(int64_t n_floats);

/* Every block's pair bias, concatenated: bias[n_block,N,N,H] = linear_z(LN_w(z[N,N,c_z]));
 * scratch: of3_diffusion_transformer_bias_scratch floats. */
size_t of3_diffusion_transformer_bias_size(const of3_diffusion_transformer_w_t *w, int64_t n_tok);
size_t of3_diffusion_transformer_bias_scratch(const of3_diffusion_transformer_w_t *w,
                                              int64_t n_tok);
void of3_diffusion_transformer_pair_bias(float *bias, const float *z,
                                         const of3_diffusion_transformer_w_t *w, int64_t n_tok,
                                         float *scratch, const of3_backend_t *be);

size_t of3_diffusion_transformer_scratch(const of3_diffusion_transformer_w_t *w, int64_t n_tok,
                                         int64_t n_sample);

/* Every block's s-dependent weights side by side in backend memory (stack: stack_size floats),
 * so that a step makes all their terms in a few stacked products (linear_stack) instead of
 * twelve launches per block: the AdaLNs' gate and shift weights and biases, the output gates',
 * and each AdaLN's LayerNorm weight repeated over the N tokens; and bf16 copies (to_bf16) of each
 * block's product weights (q/g/k/v, attention output, transition a/b and output) for
 * linear_stack_lp. Made once per rollout. */
size_t of3_diffusion_transformer_stack_size(const of3_diffusion_transformer_w_t *w, int64_t n_tok);
void of3_diffusion_transformer_stack(float *stack, const of3_diffusion_transformer_w_t *w,
                                     int64_t n_tok, const of3_backend_t *be);

/* a[D,N,c_a] = DiffusionTransformer(a, s[N,c_s], z, token_mask[N]) (§3.4) for D = n_sample
 * samples sharing s, with z's pair biases from of3_diffusion_transformer_pair_bias() and the
 * stack from of3_diffusion_transformer_stack(). scratch: of3_diffusion_transformer_scratch()
 * floats. */
void of3_diffusion_transformer(float *a, int64_t n_sample, const float *s, const float *bias,
                               const float *stack, const float *token_mask,
                               const of3_diffusion_transformer_w_t *w, int64_t n_tok,
                               float *scratch, const of3_backend_t *be);

#endif
