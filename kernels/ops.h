/* ops.h: the op interface every model layer calls (DESIGN.md §4, STYLE.md rules 7 and 11).
 *
 * A backend supplies one table of these functions (of3_backend_t.ops); the layers of
 * kernels/layers/ are written once against it and never ask which backend runs them. The CPU
 * backend (kernels/cpu/, plain loops) is the correctness reference; the CUDA backend
 * (kernels/cuda/, cuBLAS products and our own kernels) implements the same table, checked op by
 * op against the CPU by `make test-gpu` (docs/PARITY.md); programs opt in to it (of3-trunk sets
 * be->ops = of3_ops_cuda(), issue #10). Every op works on float32, row-major (C order),
 * contiguous buffers that the caller owns: ops never allocate caller-visible memory and never
 * fail, and their inputs and outputs must not overlap unless an op says so. Buffers live where
 * the backend computes (host memory for the CPU backend, device memory for CUDA: of3_backend_alloc
 * and friends in backend.h). CUDA ops only queue work on the backend's stream; a failure there
 * (a launch error, scratch that cannot be had) is reported by the next of3_backend_sync(). The
 * CUDA backend keeps one scratch buffer of its own for tri_mul, outer_product (at most 256 MiB,
 * worked in chunks), attention's bias (Q*K*H floats) and linear_stack_lp's bf16 x (none when
 * linear_stack_lpx is handed one). "Sums in double" below is the CPU's reference; the GPU sums
 * in fp32 (--precision fp32: plain fp32 products, no TF32; default: bf16 operands for linear,
 * tri_mul, outer_product, pair_weighted_avg and the two attention products (on tensor cores),
 * fp32 accumulation and softmax).
 *
 * Dimension letters, used verbatim in shape comments here and in kernels/layers/:
 *   N   tokens                 A   atoms               S   MSA rows        D   samples
 *   c_s single width           c_z pair width          c_m MSA width
 *   H   attention heads        d   per-head width      h   hidden width (triangle mult)
 *   R   rows of a flattened tensor (e.g. R = N*N for the pair tensor)
 *   B   batch of independent attention problems (e.g. B = N rows of the pair tensor)
 *   Q   queries, K keys of one attention problem
 *   C   channels of a generic op (the last, normalised or projected dimension)
 *   I   input width, O output width of a linear
 * Pair tensors are [N, N, c_z] with the row token first; "head-major" means an H*d channel
 * vector is viewed as [H, d]. */
#ifndef OF3_OPS_H
#define OF3_OPS_H

#include <stdint.h>

/* Buffers carved out of one allocation start at multiples of OF3_ALIGN floats (256 bytes):
 * cuBLAS takes its vectorised kernels (and on Hopper its TMA ones) only for 16-byte aligned
 * operands, and one odd offset, such as after D*A*3 coordinates, would cost every later product
 * of the carve that. of3_align(n) is n rounded up to that multiple. */
#define OF3_ALIGN 64
static inline int64_t of3_align(int64_t n)
{
	return (n + OF3_ALIGN - 1) / OF3_ALIGN * OF3_ALIGN;
}

#define OF3_LN_EPS   1e-5f /* every LayerNorm of the trunk (spec/trunk.md §0) */
#define OF3_MASK_INF 1e9f  /* additive mask bias INF*(mask - 1) (spec/trunk.md §0) */

typedef struct of3_ops_t {
	/* y[R,C] = LN(x[R,C]) over C with the biased variance and eps, then *w[C] and +b[C] where
	 * not NULL. y may equal x. */
	void (*layer_norm)(float *y, const float *x, const float *w, const float *b, int64_t n_r,
	                   int64_t n_c, float eps);

	/* y[R,O] = x[R,I] W^T + b, W[O,I] as torch stores it, b[O] or NULL. y must not overlap x.
	 */
	void (*linear)(float *y, const float *x, const float *w, const float *b, int64_t n_r,
	               int64_t n_in, int64_t n_out);

	/* Elementwise over n values; y may equal any input. */
	void (*sigmoid)(float *y, const float *x, int64_t n);                /* y = σ(x) */
	void (*mul)(float *y, const float *a, const float *b, int64_t n);    /* y = a ⊙ b */
	void (*add)(float *y, const float *x, int64_t n);                    /* y += x */
	void (*swiglu)(float *y, const float *a, const float *b, int64_t n); /* y = silu(a) ⊙ b */
	void (*sigmoid_mul)(float *y, const float *g, const float *x, int64_t n); /* y = σ(g) ⊙ x */

	/* x[R,C] *= mask[R] row by row (the transitions' output mask, triangle-mult input mask). */
	void (*mask_rows)(float *x, const float *mask, int64_t n_r, int64_t n_c);

	/* y[J,I,C] = x[I,J,C]: swaps the two token axes of a pair tensor (or a [I,J] mask, C = 1).
	 */
	void (*transpose_pair)(float *y, const float *x, int64_t n_i, int64_t n_j, int64_t n_c);

	/* In place over each row r of x[R,K]: x[r,k] = softmax_k(x[r,k] + INF*(mask[m,k] - 1)) with
	 * m = r % n_mask_rows (mask [n_mask_rows, K]; one row shared by all, or one per row of a
	 * repeated block); mask NULL: no mask. Sums in double. */
	void (*softmax)(float *x, const float *mask, int64_t n_mask_rows, int64_t n_r, int64_t n_k);

	/* Gated multi-head attention (spec/trunk.md §3.0.4) for B independent problems:
	 *   q[B,Q,H*d], k[B,K,H*d], v[B,K,H*d], gate[B,Q,H*d] (logits; NULL: no gate),
	 *   mask[B,K] (NULL: none), bias[Q,K,H] (channels last, shared by every b; NULL: none)
	 *   logits[b,h,i,j] = (q[b,i,h,:]/sqrt(d))·k[b,j,h,:] + INF*(mask[b,j]-1) + bias[i,j,h]
	 *   o[b,i,h,:] = σ(gate[b,i,h,:]) ⊙ Σ_j softmax_j(logits) v[b,j,h,:]          o[B,Q,H*d]
	 * o must not overlap the inputs. */
	void (*attention)(float *o, const float *q, const float *k, const float *v,
	                  const float *gate, const float *mask, const float *bias, int64_t n_b,
	                  int64_t n_q, int64_t n_k, int64_t n_head, int64_t d_head);

	/* Triangle multiplicative contraction (spec/trunk.md §3.6.1) of a[N,N,h], b[N,N,h]:
	 *   outgoing (incoming = 0): p[i,j,c] = Σ_k a[i,k,c] b[j,k,c]
	 *   incoming (incoming = 1): p[i,j,c] = Σ_k a[k,i,c] b[k,j,c]                 p[N,N,h]
	 * Sums in double. p must not overlap a or b. */
	void (*tri_mul)(float *p, const float *a, const float *b, int64_t n_tok, int64_t n_h,
	                int incoming);

	/* y[R,C] = x[idx[r],C] row by row (idx[R] int32, indices into x's rows, on the device like
	 * every buffer): picks representative atoms, scatters per-token slots to atoms. y must not
	 * overlap x. */
	void (*gather_rows)(float *y, const float *x, const int32_t *idx, int64_t n_r, int64_t n_c);

	/* z[I,J,C] += a[I,C] + b[J,C]: the outer sum of two per-token projections onto a pair
	 * tensor. */
	void (*outer_add)(float *z, const float *a, const float *b, int64_t n_i, int64_t n_j,
	                  int64_t n_c);

	/* Distance one-hot of points x[N,3] (spec/diffusion_heads.md §5.3): with edges
	 * e_k = first + k*step (k < K) and d2 = ||x_i - x_j||^2 (summed in double),
	 *   y[i,j,k] = [d2 > e_k^2] * [d2 < e_{k+1}^2]    (e_K^2 taken as 1e9, open-ended) y[N,N,K]
	 * Strict on both sides: a distance on an edge, or below e_0, falls in no bin. */
	void (*distance_onehot)(float *y, const float *x, int64_t n_tok, float first, float step,
	                        int64_t n_bin);

	/* y[n] = x[n], a device-to-device copy; y must not overlap x. */
	void (*copy)(float *y, const float *x, int64_t n);

	/* y = max(x, 0) over n values; y may equal x. */
	void (*relu)(float *y, const float *x, int64_t n);

	/* y = x / d over n values (a true division, not a product with 1/d); y may equal x. */
	void (*div_scalar)(float *y, const float *x, float d, int64_t n);

	/* x[R,C] /= (den[R] + eps) row by row, the sum den + eps rounded to float first (the outer
	 * product mean's normalisation, spec/trunk.md §3.5.1). */
	void (*div_rows)(float *x, const float *den, float eps, int64_t n_r, int64_t n_c);

	/* Outer product summed over MSA rows (spec/trunk.md §3.5.1) for the row tokens
	 * i0 .. i0+n_i-1 of a[S,N,c_a] against every token of b[S,N,c_b]:
	 *   o[i-i0, j, c*c_b + e] = Σ_s a[s,i,c] b[s,j,e]                      o[n_i,N,c_a*c_b]
	 * Sums in double. o must not overlap a or b. */
	void (*outer_product)(float *o, const float *a, const float *b, int64_t n_s, int64_t n_tok,
	                      int64_t i0, int64_t n_i, int64_t c_a, int64_t c_b);

	/* Pair-weighted averaging (spec/trunk.md §3.5.2): weights w[H,N,N] (softmaxed over the
	 * last axis) shared by every MSA row, values v[S,N,H*d] (head-major):
	 *   o[s,i,h,:] = Σ_j w[h,i,j] v[s,j,h,:]                                  o[S,N,H*d]
	 * Sums in double. o must not overlap w or v. */
	void (*pair_weighted_avg)(float *o, const float *w, const float *v, int64_t n_s,
	                          int64_t n_tok, int64_t n_head, int64_t d_head);

	/* ---- trunk ops (issue #10): the loops of3-trunk ran on the host ---- */

	/* y[n] = v over n values (the recycled s and z start from zero). */
	void (*fill)(float *y, float v, int64_t n);

	/* y[r * ld_y + c] = x[r * ld_x + c] for r < R, c < C: a block of columns copied between
	 * row-major tensors of other widths (s_input's feature columns). y must not overlap x. */
	void (*copy_2d)(float *y, int64_t ld_y, const float *x, int64_t ld_x, int64_t n_r,
	                int64_t n_c);

	/* Masked mean pooling of rows into segments (spec/trunk.md §3.1.2 step 5): segment t owns
	 * rows rows[off[t]] .. rows[off[t+1]-1] (int32, ascending within a segment) of x[A,C] and
	 * weights w[A]; in double, summed in that order,
	 *   y[t * ld_y + c] = (float)(Σ x[r,c] / (Σ w[r] + 1e-9))              y[T rows of ld_y]
	 * for t < T (off[T+1]). y must not overlap x. */
	void (*segment_mean)(float *y, int64_t ld_y, const float *x, const float *w,
	                     const int32_t *off, const int32_t *rows, int64_t n_seg, int64_t n_c);

	/* z_init of the input embedder (spec/trunk.md §3.1.4-3.1.5): with bins[N,N,4] (int32: the
	 * columns of the relative-position one-hot that are 1, the fourth -1 when there is none),
	 * w_rel[C,n_rel], bond[N,N] and w_bond[C],
	 *   rel = (w_rel[c,b0] + w_rel[c,b1]) + w_rel[c,b2]  (+ w_rel[c,b3] when b3 >= 0)
	 *   z[i,j,c] = ((zi[i,c] + zj[j,c]) + rel) + bond[i,j] * w_bond[c]          z[N,N,C]
	 * in float, in that order (no fused multiply-add). */
	void (*relpos_embed)(float *z, const float *zi, const float *zj, const int32_t *bins,
	                     const float *bond, const float *w_rel, const float *w_bond,
	                     int64_t n_tok, int64_t n_c, int64_t n_rel);

	/* ---- diffusion and atom-level ops (issue #10) ----
	 * The atom encoders' and the diffusion module's steps that were host loops. Atoms are cut
	 * into nb = ceil(A/32) query blocks of 32; block b's key window is the 128 atoms
	 * [32b-48, 32b+80) (kernels/layers/atom_transformer.h); "e" indexes a block pair
	 * (b*32 + l)*128 + m. */

	/* y = asinh(x) over n values (the reference charge feature); y may equal x. */
	void (*asinh)(float *y, const float *x, int64_t n);

	/* y = (float)x over n int32 values (one-hot and mask features). */
	void (*i32_to_f32)(float *y, const int32_t *x, int64_t n);

	/* y[nb,n_win,C] = x[first + 32b + m, :] for window row m of block b, 0 outside [0, A)
	 * (queries: n_win 32, first 0; keys: n_win 128, first -48). y must not overlap x. */
	void (*atom_windows)(float *y, const float *x, int64_t n_atom, int64_t n_c, int64_t n_win,
	                     int64_t first);

	/* From atom_mask[A]: mask_q[nb,32], mask_k[nb,128] (0 on padding) and
	 * pair_mask[nb,32,128] = mask_q ⊙ mask_k; any output may be NULL. */
	void (*atom_block_masks)(float *mask_q, float *mask_k, float *pair_mask,
	                         const float *atom_mask, int64_t n_atom);

	/* The reference-conformer pair features of the blocks (spec/trunk.md §3.1.2 step 2) from
	 * pos[A,3], uid[A] (int32) and pair_mask[nb,32,128] (M): d[e,3] = (pos_q - pos_k) * M,
	 * inv[e] = 1 / (1 + |d|^2) (|d|^2 summed in float, x then y then z), v[e] = [uid_q ==
	 * uid_k] * M; padding reads position 0 and uid 0. */
	void (*atom_pair_feats)(float *d, float *inv, float *v, const float *pos,
	                        const int32_t *uid, const float *pair_mask, int64_t n_atom);

	/* p[e,C] += (lq[q,C] + lk[k,C]) * pair_mask[e] for the query atom q and key atom k of
	 * block pair e, where pair_mask[e] != 0 (padding is left untouched). */
	void (*atom_pair_outer_add)(float *p, const float *lq, const float *lk,
	                            const float *pair_mask, int64_t n_atom, int64_t n_c);

	/* p[e,C] += z[tok[q], tok[k], C] * pair_mask[e] for every block pair e whose query atom q
	 * and key atom k lie in [0, A) (tok[A] int32, z[N,N,C]): a token pair tensor added onto
	 * the atom pairs (spec/diffusion_heads.md §3.3 step 4). */
	void (*atom_pair_gather_add)(float *p, const float *z, const int32_t *tok,
	                             const float *pair_mask, int64_t n_atom, int64_t n_tok,
	                             int64_t n_c);

	/* y[R, C_a + C_b] = a[R,C_a] ‖ b[R,C_b] row by row. y must not overlap a or b. */
	void (*concat_rows)(float *y, const float *a, const float *b, int64_t n_r, int64_t c_a,
	                    int64_t c_b);

	/* The EDM combine (spec/diffusion_heads.md §3.7): y[R,C] = (float)(a*x + b*z) *
	 * mask[r % n_mask], a*x + b*z in double. y may equal x or z. */
	void (*edm_combine)(float *y, const float *x, const float *z, const float *mask, double a,
	                    double b, int64_t n_r, int64_t n_mask, int64_t n_c);

	/* attention for n_b problems in n_grp groups, one launch for all of them: the atom
	 * transformer's query blocks of every sample (b = d * n_grp + blk). As attention, but
	 * problem b takes the key mask row mask[b % n_grp] (mask [n_grp,K]) and the bias
	 * bias[b % n_grp] (bias [n_grp,Q,K,H]); both required, gate may be NULL. */
	void (*attention_grouped)(float *o, const float *q, const float *k, const float *v,
	                          const float *gate, const float *mask, const float *bias,
	                          int64_t n_b, int64_t n_grp, int64_t n_q, int64_t n_k,
	                          int64_t n_head, int64_t d_head);

	/* ---- broadcast ops (issue #10) ----
	 * One launch for what a diffusion step did once per sample: a tensor of n_rep repeats (the
	 * D samples) of a block combined with one operand shared by every repeat. Each does the
	 * arithmetic of the single-sample ops it replaces, in their order (the results are the
	 * same bits as the loop over samples). */

	/* y[d,i] += x[i] for d < n_rep, i < n. */
	void (*add_bcast)(float *y, const float *x, int64_t n_rep, int64_t n);

	/* y[d,i] = x[i] for d < n_rep, i < n. y must not overlap x. */
	void (*repeat)(float *y, const float *x, int64_t n_rep, int64_t n);

	/* x[r,C] *= mask[r % n_mask] over x[R,C]: a mask of n_mask rows repeated along R. */
	void (*mask_rows_rep)(float *x, const float *mask, int64_t n_mask, int64_t n_r,
	                      int64_t n_c);

	/* AdaLN's apply half (spec/trunk.md §3.0.2) on n_rep repeats of x[R,C]:
	 *   y[d,r,:] = σ(gate[r,:]) ⊙ LN(x[d,r,:]) + shift[r,:]
	 * LN without weight and bias; as layer_norm, sigmoid_mul, add one after the other, each
	 * result rounded to float. y may equal x. */
	void (*adaln_apply)(float *y, const float *x, const float *gate, const float *shift,
	                    int64_t n_rep, int64_t n_r, int64_t n_c, float eps);

	/* The gated residual of the transformers' sub-blocks on n_rep repeats of x[R,C]:
	 *   a[d,r,c] += (σ(g[r,c]) ⊙ x[d,r,c]) * mask[r]     (mask NULL: no mask)
	 * as sigmoid_mul, mask_rows, add one after the other, each result rounded to float. a must
	 * not overlap g, x or mask. */
	void (*gated_residual)(float *a, const float *g, const float *x, const float *mask,
	                       int64_t n_rep, int64_t n_r, int64_t n_c);

	/* y[d,r,C] = x[d,idx[r],C] for d < n_rep: gather_rows on each repeat of x[n_rep,X,C] with
	 * the same idx[R] (int32). y must not overlap x. */
	void (*gather_rows_rep)(float *y, const float *x, const int32_t *idx, int64_t n_rep,
	                        int64_t n_r, int64_t n_x, int64_t n_c);

	/* atom_windows on each repeat: y[d] = the windows of x[d] for x[n_rep,A,C],
	 * y[n_rep,nb,n_win,C]. y must not overlap x. */
	void (*atom_windows_rep)(float *y, const float *x, int64_t n_rep, int64_t n_atom,
	                         int64_t n_c, int64_t n_win, int64_t first);

	/* T linears in one launch (the diffusion transformer's 24 blocks' AdaLN and gate terms):
	 *   y[t,R,O] = x_t[R,I] W_t^T + b_t    for t < T, x_t = x + t * x_stride (0: one x for
	 * all), W [T,O,I] and b [T,O] (or NULL) contiguous; each as linear does it. y must not
	 * overlap x. */
	void (*linear_stack)(float *y, const float *x, int64_t x_stride, const float *w,
	                     const float *b, int64_t n_stack, int64_t n_r, int64_t n_in,
	                     int64_t n_out);

	/* ---- fused pair-block ops (issue #10): one pass for what several ops did, each doing
	 * their arithmetic in their order, every intermediate rounded to float as they stored it
	 * (the same bits as the unfused sequence on the CPU) ---- */

	/* y[R,O] += x[R,I] W^T, W[O,I]: linear (no bias) then add, the product rounded to float
	 * before it is added (an output projection straight into its residual). y must not overlap
	 * x or W. */
	void (*linear_acc)(float *y, const float *x, const float *w, int64_t n_r, int64_t n_in,
	                   int64_t n_out);

	/* The triangle update's gated, masked projections (spec/trunk.md §3.6.1) from their
	 * stacked product p[4,R,C] (a_p, a_g, b_p, b_g):
	 *   a[r,c] = (σ(p[1,r,c]) ⊙ p[0,r,c]) * mask[r]
	 *   b[r,c] = (σ(p[3,r,c]) ⊙ p[2,r,c]) * mask[r]                     a[R,C], b[R,C]
	 * as sigmoid_mul then mask_rows. a may be p[0] and b p[2] (in place); no other overlap. */
	void (*tri_mul_gate)(float *a, float *b, const float *p, const float *mask, int64_t n_r,
	                     int64_t n_c);

	/* y[r,c] = silu(a[r,c]) ⊙ b[r,c] * mask[r] over [R,C] (mask NULL: none), as swiglu then
	 * mask_rows: the transition's hidden rows masked before linear_out, which for a 0/1 mask
	 * gives the bits of masking its output. y may equal a or b. */
	void (*swiglu_rows)(float *y, const float *a, const float *b, const float *mask,
	                    int64_t n_r, int64_t n_c);

	/* y[j,i,:] = LN(x[i,j,:]) for x[I,J,C], y[J,I,C]: layer_norm of the transposed pair
	 * tensor, each row as layer_norm computes it (the ending-node triangle attention's input
	 * without a transposed copy of z). y must not overlap x. */
	void (*layer_norm_t)(float *y, const float *x, const float *w, const float *b, int64_t n_i,
	                     int64_t n_j, int64_t n_c, float eps);

	/* y[i,j,:] += x[j,i,:] W^T for x[J,I,In], W[O,In], y[I,J,O]: linear_acc into the
	 * transposed pair tensor, each row as linear_acc computes it (the ending-node triangle
	 * attention's output projection straight into z). y must not overlap x or W. */
	void (*linear_acc_t)(float *y, const float *x, const float *w, int64_t n_i, int64_t n_j,
	                     int64_t n_in, int64_t n_out);

	/* ---- low-precision product operands (the token transformer's products) ---- */

	/* y[n] = the bf16 of x[n] (uint16 each: the float's top 16 bits after rounding to nearest
	 * even; a NaN becomes the canonical NaN 0x7fff, infinities stay, overflow gives infinity):
	 * weight copies for linear_stack_lp, made once. y must not overlap x. */
	void (*to_bf16)(void *y, const float *x, int64_t n);

	/* linear_stack's result (same arguments, same y), where w_lp is to_bf16 of w ([T,O,I]
	 * uint16) kept by the caller: a backend whose default precision rounds product operands
	 * (CUDA in bf16 mode) may take w_lp and x rounded to bf16, with fp32 sums; the CPU, and
	 * CUDA in fp32 mode, compute linear_stack from w and ignore w_lp. w_lp NULL: linear_stack
	 * everywhere (with T = 1 the bits of linear). y must not overlap x. */
	void (*linear_stack_lp)(float *y, const float *x, int64_t x_stride, const float *w,
	                        const void *w_lp, const float *b, int64_t n_stack, int64_t n_r,
	                        int64_t n_in, int64_t n_out);

	/* ---- producers of ready bf16 product operands: the op that makes a product's x also
	 * writes its bf16 copy, so that linear_stack_lpx need not launch a conversion of its own
	 * (the token transformer's AdaLN and SwiGLU outputs) ---- */

	/* adaln_apply (y may equal x); where the backend rounds product operands to bf16 (CUDA in
	 * bf16 mode) it also writes y_lp[D,R,C] = to_bf16(y) (uint16, the same bits); otherwise
	 * (the CPU, CUDA in fp32 mode) y_lp is not touched. y_lp must not overlap y, x, gate or
	 * shift. */
	void (*adaln_apply_lp)(float *y, void *y_lp, const float *x, const float *gate,
	                       const float *shift, int64_t n_rep, int64_t n_r, int64_t n_c,
	                       float eps);

	/* swiglu (y may equal a or b), with y_lp[n] = to_bf16(y) as adaln_apply_lp writes it (and
	 * only where it does). y_lp must not overlap y, a or b. */
	void (*swiglu_lp)(float *y, void *y_lp, const float *a, const float *b, int64_t n);

	/* linear_stack_lp (same arguments, same y) with x_lp: NULL, or the bf16 copy of x that an
	 * _lp producer above wrote on this backend in its current mode (uint16, slice t at
	 * x_lp + t * x_stride as x's). A backend that rounds x (CUDA in bf16 mode, with w_lp) takes
	 * x_lp as it is instead of rounding x itself: the same operands, the same y as without it,
	 * one launch fewer. Where the producers leave x_lp untouched (the CPU, CUDA in fp32 mode)
	 * it is ignored, as w_lp is. y must not overlap x or x_lp. */
	void (*linear_stack_lpx)(float *y, const float *x, const void *x_lp, int64_t x_stride,
	                         const float *w, const void *w_lp, const float *b, int64_t n_stack,
	                         int64_t n_r, int64_t n_in, int64_t n_out);

	/* ---- the atom transformer's attention in place ---- */

	/* attention_grouped over the atom blocks of n_rep samples, reading the blocks straight out
	 * of q[D,A,H*d], k[D,A,H*d], v[D,A,H*d], gate[D,A,H*d] (logits; NULL: no gate) instead of
	 * window copies: problem (d, b) of the nb = ceil(A/32) blocks takes the queries at atoms
	 * 32b .. 32b+31 and the keys and values at atoms 32b-48 .. 32b+79 of sample d, a key
	 * outside [0, A) read as a zero row (as atom_windows pads), with the key mask row
	 * mask[b] (mask[nb,128], atom_block_masks' mask_k: 0 there) and the bias bias[b]
	 * (bias[nb,32,128,H]); both required. Only the real query atoms are written:
	 *   o[d,a,:] for a < A                                                        o[D,A,H*d]
	 * The same results as atom_windows_rep of q, gate (32, first 0) and of k, v (128, first
	 * -48), attention_grouped (D*nb problems in nb groups) and the first A rows of each sample
	 * (the CPU: the same bytes). o must not overlap the inputs. */
	void (*attention_atoms)(float *o, const float *q, const float *k, const float *v,
	                        const float *gate, const float *mask, const float *bias,
	                        int64_t n_rep, int64_t n_atom, int64_t n_head, int64_t d_head);

	/* ---- the sampler's step around the diffusion module (spec/diffusion_heads.md §2) ---- */

	/* x̂ of a step (§2.3, then the noise of §2.2): each sample d of x[D,A,3] centred on its
	 * masked centroid mu_d (mask[A]; the sum in double), rotated by the unit quaternion
	 * quat[d] / |quat[d]| (quat[D,4], scalar first, the matrix in double), translated by
	 * trans[d] (trans[D,3]), masked and rounded to float, then sigma times eps[D,A,3] added:
	 *   xh[d,l,:] = (float)((R_d (x[d,l,:] - mu_d) + t_d) * mask[l]) + sigma * eps[d,l,:]
	 * xh must not overlap the inputs. */
	void (*augment_noise)(float *xh, const float *x, const float *quat, const float *trans,
	                      const float *eps, const float *mask, float sigma, int64_t n_sample,
	                      int64_t n_atom);

	/* The sampler's update (§2.2), in float: x[i] = xh[i] + a * ((xh[i] - den[i]) / t). */
	void (*sampler_update)(float *x, const float *xh, const float *den, float a, float t,
	                       int64_t n);
} of3_ops_t;

/* The CPU backend's table (kernels/cpu/). */
const of3_ops_t *of3_ops_cpu(void);

/* The CUDA backend's table (kernels/cuda/) for the CUDA backend opened last (one device per
 * process), NULL when none is open; only in builds with CUDA (OF3_WITH_CUDA). of3_backend_open
 * does not hand it out as `ops` yet: the GPU tests and the programs that opt in take it from
 * here. */
const of3_ops_t *of3_ops_cuda(void);

#endif
