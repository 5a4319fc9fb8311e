/* atom_transformer.h: sequence-local atom attention and the atom transformer (spec/trunk.md
 * §3.1.2 step 4, spec/diffusion_heads.md §3.6 and §4, AF3 Alg. 7 with OpenFold3's separate query
 * and key AdaLNs), plus the atom-pair conditioning both atom attention encoders build (§3.1.2
 * steps 2-3, diffusion_heads.md §3.3 steps 2, 5, 6).
 *
 * Atoms are cut into nb = ceil(A/32) query blocks of 32 consecutive atoms; block b attends over
 * the 128-atom key window [32b-48, 32b+80), positions outside [0, A) being zero padding with
 * mask 0. Pair tensors exist only in block form p[nb,32,128,c_p]. The same code serves the
 * input embedder (3 blocks) and the diffusion module's encoder and decoder. Layers update their
 * tensor in place, take weights bound by of3_*_bind() and a caller's scratch of at least
 * of3_*_scratch() floats, and never allocate.
 *
 * The transformer runs in two halves: of3_atom_transformer_prepare() computes what depends on
 * the conditioning s and the pair p only (per block the pair bias and every AdaLN and gate
 * term), of3_atom_transformer_run() the rest on D samples at once. The diffusion module
 * prepares once per rollout and runs 200 times; the input embedder does both once.
 *
 * Every step is an op of the backend's table (the block gathers, masks and pair features are
 * the "diffusion and atom-level ops" of kernels/ops.h), so the layers run on CPU and CUDA alike
 * with every buffer in the backend's memory. */
#ifndef OF3_LAYERS_ATOM_TRANSFORMER_H
#define OF3_LAYERS_ATOM_TRANSFORMER_H

#include <stddef.h>
#include <stdint.h>

#include "../atom_blocks.h"
#include "../backend.h"
#include "mha.h"
#include "weights.h"

#define OF3_ATOM_MAX_BLOCKS 8 /* transformer blocks a checkpoint may have */

/* The reference-atom feature embedder both atom attention encoders begin with (spec/trunk.md
 * §3.1.2 step 1, diffusion_heads.md §3.3): c_l = linear_ref_pos(ref_pos) +
 * linear_ref_charge(asinh(ref_charge)) + linear_ref_mask(ref_mask) +
 * linear_ref_element(ref_element) + linear_ref_atom_chars(ref_atom_name_chars), summed in that
 * order (the reference's), no biases. */
#define OF3_REF_N_ELEMENT 119 /* ref_element one-hot width */
#define OF3_REF_N_CHARS   256 /* ref_atom_name_chars, 4 characters x 64, flattened */
typedef struct {
	of3_lin_w_t pos, charge, mask, element, chars; /* [c_a, 3|1|1|119|256] */
	int64_t c_a;
} of3_ref_atom_w_t;

/* "<prefix>linear_ref_{pos,charge,mask,element,atom_chars}.weight"; *c_a -1 learns it. */
int of3_ref_atom_bind(of3_ref_atom_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                      int64_t *c_a) OF3_WUR;

/* c[A,c_a] from the reference features of A atoms; scratch fx[A,256] and tmp[A,c_a]. */
void of3_ref_atom_embed(float *c, const float *ref_pos, const float *ref_charge,
                        const int32_t *ref_mask, const int32_t *ref_element,
                        const int32_t *ref_chars, const of3_ref_atom_w_t *w, int64_t n_atom,
                        float *fx, float *tmp, const of3_backend_t *be);

/* AdaLN (spec/trunk.md §3.0.2): layer_norm_s.weight [c_s] (no bias), linear_g [c_a, c_s] with
 * bias, linear_s [c_a, c_s] without. */
typedef struct {
	of3_ln_w_t ln_s;
	of3_lin_w_t g, s;
	int64_t c_a, c_s;
} of3_adaln_w_t;

/* "<prefix><name>.{layer_norm_s.weight, linear_g.{weight,bias}, linear_s.weight}"; *c_a, *c_s
 * -1 learn the widths. Shared by the atom transformer and the diffusion transformer. */
int of3_adaln_bind(of3_adaln_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                   const char *name, int64_t *c_a, int64_t *c_s) OF3_WUR;

/* AdaLN in two halves, so that a caller with a fixed s computes its terms once:
 * of3_adaln_cond: gate[R,c_a] = linear_g(LN_w s) (logits), shift[R,c_a] = linear_s(LN_w s)
 *   for s[R,c_s]; sn[R,c_s] scratch;
 * of3_adaln_apply: y[D,R,c_a] = σ(gate) ⊙ LN_0(x[D,R,c_a]) + shift, the terms shared by the D
 *   repeats. y may equal x. */
void of3_adaln_cond(float *gate, float *shift, const float *s, const of3_adaln_w_t *w, int64_t n_r,
                    float *sn, const of3_backend_t *be);
void of3_adaln_apply(float *y, const float *x, const float *gate, const float *shift, int64_t n_rep,
                     int64_t n_r, int64_t c_a, const of3_backend_t *be);

/* The conditioned transition (AF3 Alg. 25), shared by the atom and the token transformers:
 * "<prefix>{layer_norm (AdaLN), swiglu.linear_{a,b} [h, c_a], linear_g [c_a, c_s] + bias,
 * linear_out [c_a, h]}". */
typedef struct {
	of3_adaln_w_t ln;
	of3_lin_w_t a, b, g, out;
	int64_t n_hidden; /* h */
} of3_cond_transition_w_t;

/* prefix ends in "conditioned_transition."; *c_a, *c_s -1 learn the widths. */
int of3_cond_transition_bind(of3_cond_transition_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb,
                             const char *prefix, int64_t *c_a, int64_t *c_s) OF3_WUR;

/* Its forward on a[D,R,c_a] in place, the conditioning terms made beforehand (gate, shift: the
 * AdaLN's, of3_adaln_cond with w->ln; out_gate: linear_g's logits; each [R,c_a], shared by the
 * D = n_rep repeats):
 *   a += σ(out_gate) ⊙ linear_out(silu(linear_a(x)) ⊙ linear_b(x)) ⊙ mask,  x = AdaLN(a)
 * mask [R] or NULL; scratch x, out [D,R,c_a], h1, h2 [D,R,h], h2 right after h1 when w_ab is
 * given: linear_a's and linear_b's weights side by side ([2,h,c_a], a copy the caller keeps), for
 * one stacked product instead of two (NULL: two products). w_ab_lp (with w_ab) and w_out_lp:
 * to_bf16 copies of w_ab and linear_out's weight the caller keeps, for linear_stack_lp (the
 * token transformer); NULL: fp32 weights through linear_stack and linear (the atom blocks).
 * x_lp: NULL, or scratch [D,R,max(c_a,h)] bf16 (uint16; ceil(n/2) floats) for the copies of
 * x and of the SwiGLU output that adaln_apply_lp and swiglu_lp make for those products
 * (linear_stack_lpx), in place of the products' own conversions. */
void of3_cond_transition(float *a, int64_t n_rep, int64_t n_r, const float *gate,
                         const float *shift, const float *out_gate, const float *mask,
                         const of3_cond_transition_w_t *w, const float *w_ab, const void *w_ab_lp,
                         const void *w_out_lp, float *x, float *out, float *h1, float *h2,
                         void *x_lp, const of3_backend_t *be);

/* One atom transformer block: attention_pair_bias.{layer_norm_a_q, layer_norm_a_k (AdaLNs),
 * layer_norm_z [c_p] (weight only), linear_z [H, c_p], mha.linear_q [H*d, c_a] + bias,
 * mha.linear_{k,v,g} [H*d, c_a], mha.linear_o [c_a, H*d], linear_ada_out [c_a, c_s] + bias},
 * conditioned_transition.{layer_norm (AdaLN), swiglu.linear_{a,b} [h, c_a], linear_g
 * [c_a, c_s] + bias, linear_out [c_a, h]}. */
typedef struct {
	of3_adaln_w_t ln_q, ln_k;
	of3_ln_w_t ln_z;
	of3_lin_w_t bias;
	of3_mha_w_t mha;
	of3_lin_w_t ada_out;
	of3_cond_transition_w_t tr;
	int64_t c_a, c_s, c_p;
} of3_atom_block_w_t;

typedef struct {
	int n_block;
	of3_atom_block_w_t blk[OF3_ATOM_MAX_BLOCKS];
	int64_t c_a, c_s, c_p;
} of3_atom_transformer_w_t;

/* Atom-pair conditioning (the ref_atom_feature_embedder's pair part and the encoder's pair
 * MLP): linear_ref_offset [c_p, 3], linear_inv_sq_dists [c_p, 1], linear_valid_mask [c_p, 1]
 * (under ref_prefix), linear_l, linear_m [c_p, c_a], pair_mlp.{1,3,5} [c_p, c_p] (under
 * prefix); no biases. */
typedef struct {
	of3_lin_w_t offset, inv_sq, valid, l, m, mlp1, mlp3, mlp5;
	int64_t c_a, c_p;
} of3_atom_pair_w_t;

/* ---- binding ---- */

/* prefix + "blocks.{b}." for every block found (prefix ends in '.', e.g.
 * "input_embedder.atom_attn_enc.atom_transformer."); *c_a, *c_s -1 learn the widths, c_p is
 * the pair width. No block is OF3_ERR_INPUT. */
int of3_atom_transformer_bind(of3_atom_transformer_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb,
                              const char *prefix, int64_t *c_a, int64_t *c_s, int64_t c_p) OF3_WUR;

/* ref_prefix: "...atom_attn_enc.ref_atom_feature_embedder.", prefix: "...atom_attn_enc.";
 * *c_p -1 learns the pair width; c_a is the atom width. */
int of3_atom_pair_bind(of3_atom_pair_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *ref_prefix,
                       const char *prefix, int64_t c_a, int64_t *c_p) OF3_WUR;

/* ---- scratch sizes, in floats ---- */

/* of3_atom_transformer() (prepare and run once, one sample). */
size_t of3_atom_transformer_scratch(const of3_atom_transformer_w_t *w, int64_t n_atom);
/* The prepared conditioning (all blocks) and the two halves' scratch. */
size_t of3_atom_transformer_cond_size(const of3_atom_transformer_w_t *w, int64_t n_atom);
size_t of3_atom_transformer_prepare_scratch(const of3_atom_transformer_w_t *w, int64_t n_atom);
size_t of3_atom_transformer_run_scratch(const of3_atom_transformer_w_t *w, int64_t n_atom,
                                        int64_t n_sample);
size_t of3_atom_pair_scratch(const of3_atom_pair_w_t *w, int64_t n_atom);

/* ---- forward passes ---- */

/* y[nb,n_win,C] = x[first + 32b + m] for window row m of block b, 0 outside [0, A) (queries:
 * n_win 32, first 0; key windows: n_win 128, first -48). Host memory: the CPU op
 * atom_windows, for callers outside a backend (tests); the layers call the op. */
void of3_atom_windows(float *y, const float *x, int64_t n_atom, int64_t n_c, int64_t n_win,
                      int64_t first);

/* Block masks from atom_mask[A]: mask_q[nb,32], mask_k[nb,128] (0 on padding) and the pair mask
 * pair_mask[nb,32,128] = mask_q ⊙ mask_k. Any may be NULL. Host memory (the CPU op
 * atom_block_masks), as of3_atom_windows. */
void of3_atom_block_masks(float *mask_q, float *mask_k, float *pair_mask, const float *atom_mask,
                          int64_t n_atom);

/* Step 2 of the pair conditioning: p[nb,32,128,c_p] = the reference-conformer pair features
 * of ref_pos[A,3], ref_space_uid[A] (int32) and atom_mask[A]: masked offsets pos_q - pos_k,
 * 1/(1+|d|^2) and the same-conformer indicator v, each linear times v (spec/trunk.md §3.1.2). */
void of3_atom_pair_embed(float *p, const float *ref_pos, const int32_t *ref_space_uid,
                         const float *atom_mask, const of3_atom_pair_w_t *w, int64_t n_atom,
                         float *scratch, const of3_backend_t *be);

/* Step 3: p += (linear_l(relu(c[q])) + linear_m(relu(c[k]))) ⊙ M, then p = (p + MLP(p)) ⊙ M
 * with the atom single conditioning c[A,c_a]. The diffusion encoder adds its trunk-pair term to
 * p (and its trunk-single term to c) between the two steps (diffusion_heads.md §3.3). */
void of3_atom_pair_update(float *p, const float *c, const float *atom_mask,
                          const of3_atom_pair_w_t *w, int64_t n_atom, float *scratch,
                          const of3_backend_t *be);

/* Both steps, as the input embedder runs them. scratch: of3_atom_pair_scratch() floats. */
void of3_atom_pair_cond(float *p, const float *ref_pos, const int32_t *ref_space_uid,
                        const float *atom_mask, const float *c, const of3_atom_pair_w_t *w,
                        int64_t n_atom, float *scratch, const of3_backend_t *be);

/* a[A,c_a] = AtomTransformer(a, s[A,c_s], p[nb,32,128,c_p], atom_mask[A]): every block's
 * sequence-local attention with pair bias (a += σ(linear_ada_out(s)) ⊙ attn) then its
 * conditioned transition (a += ...), spec/diffusion_heads.md §3.6. atom_mask is required.
 * Padded and masked query rows attend under the key mask only (the reference masks them
 * entirely); their rows are dropped or masked and never reach an unmasked atom.
 * scratch: of3_atom_transformer_scratch() floats. */
void of3_atom_transformer(float *a, const float *s, const float *p, const float *atom_mask,
                          const of3_atom_transformer_w_t *w, int64_t n_atom, float *scratch,
                          const of3_backend_t *be);

/* The first half: cond[of3_atom_transformer_cond_size()] from s[A,c_s] and p[nb,32,128,c_p];
 * scratch: of3_atom_transformer_prepare_scratch() floats. */
void of3_atom_transformer_prepare(float *cond, const float *s, const float *p,
                                  const of3_atom_transformer_w_t *w, int64_t n_atom, float *scratch,
                                  const of3_backend_t *be);

/* The second half on a[D,A,c_a], D = n_sample independent samples sharing cond; scratch:
 * of3_atom_transformer_run_scratch(w, A, D) floats. */
void of3_atom_transformer_run(float *a, int64_t n_sample, const float *cond, const float *atom_mask,
                              const of3_atom_transformer_w_t *w, int64_t n_atom, float *scratch,
                              const of3_backend_t *be);

#endif
