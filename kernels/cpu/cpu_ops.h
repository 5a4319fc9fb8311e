/* cpu_ops.h: the CPU backend's op functions (kernels/ops.h says what each computes); private to
 * kernels/cpu/, which gathers them into the table of3_ops_cpu() returns. */
#ifndef OF3_CPU_OPS_H
#define OF3_CPU_OPS_H

#include <stdint.h>

void of3_cpu_layer_norm(float *y, const float *x, const float *w, const float *b, int64_t n_r,
                        int64_t n_c, float eps);
void of3_cpu_linear(float *y, const float *x, const float *w, const float *b, int64_t n_r,
                    int64_t n_in, int64_t n_out);
void of3_cpu_sigmoid(float *y, const float *x, int64_t n);
void of3_cpu_mul(float *y, const float *a, const float *b, int64_t n);
void of3_cpu_add(float *y, const float *x, int64_t n);
void of3_cpu_swiglu(float *y, const float *a, const float *b, int64_t n);
void of3_cpu_sigmoid_mul(float *y, const float *g, const float *x, int64_t n);
void of3_cpu_mask_rows(float *x, const float *mask, int64_t n_r, int64_t n_c);
void of3_cpu_transpose_pair(float *y, const float *x, int64_t n_i, int64_t n_j, int64_t n_c);
void of3_cpu_softmax(float *x, const float *mask, int64_t n_mask_rows, int64_t n_r, int64_t n_k);
void of3_cpu_attention(float *o, const float *q, const float *k, const float *v, const float *gate,
                       const float *mask, const float *bias, int64_t n_b, int64_t n_q, int64_t n_k,
                       int64_t n_head, int64_t d_head);
void of3_cpu_tri_mul(float *p, const float *a, const float *b, int64_t n_tok, int64_t n_h,
                     int incoming);
void of3_cpu_gather_rows(float *y, const float *x, const int32_t *idx, int64_t n_r, int64_t n_c);
void of3_cpu_outer_add(float *z, const float *a, const float *b, int64_t n_i, int64_t n_j,
                       int64_t n_c);
void of3_cpu_distance_onehot(float *y, const float *x, int64_t n_tok, float first, float step,
                             int64_t n_bin);
void of3_cpu_copy(float *y, const float *x, int64_t n);

void of3_cpu_relu(float *y, const float *x, int64_t n);
void of3_cpu_div_scalar(float *y, const float *x, float d, int64_t n);
void of3_cpu_div_rows(float *x, const float *den, float eps, int64_t n_r, int64_t n_c);
void of3_cpu_outer_product(float *o, const float *a, const float *b, int64_t n_s, int64_t n_tok,
                           int64_t i0, int64_t n_i, int64_t c_a, int64_t c_b);
void of3_cpu_pair_weighted_avg(float *o, const float *w, const float *v, int64_t n_s, int64_t n_tok,
                               int64_t n_head, int64_t d_head);

/* trunk ops (issue #10), trunk_ops.c */
void of3_cpu_fill(float *y, float v, int64_t n);
void of3_cpu_copy_2d(float *y, int64_t ld_y, const float *x, int64_t ld_x, int64_t n_r,
                     int64_t n_c);
void of3_cpu_segment_mean(float *y, int64_t ld_y, const float *x, const float *w,
                          const int32_t *off, const int32_t *rows, int64_t n_seg, int64_t n_c);
void of3_cpu_relpos_embed(float *z, const float *zi, const float *zj, const int32_t *bins,
                          const float *bond, const float *w_rel, const float *w_bond, int64_t n_tok,
                          int64_t n_c, int64_t n_rel);

/* diffusion and atom-level ops (issue #10), atom_ops.c */
void of3_cpu_asinh(float *y, const float *x, int64_t n);
void of3_cpu_i32_to_f32(float *y, const int32_t *x, int64_t n);
void of3_cpu_atom_windows(float *y, const float *x, int64_t n_atom, int64_t n_c, int64_t n_win,
                          int64_t first);
void of3_cpu_atom_block_masks(float *mask_q, float *mask_k, float *pair_mask,
                              const float *atom_mask, int64_t n_atom);
void of3_cpu_atom_pair_feats(float *d, float *inv, float *v, const float *pos, const int32_t *uid,
                             const float *pair_mask, int64_t n_atom);
void of3_cpu_atom_pair_outer_add(float *p, const float *lq, const float *lk, const float *pair_mask,
                                 int64_t n_atom, int64_t n_c);
void of3_cpu_atom_pair_gather_add(float *p, const float *z, const int32_t *tok,
                                  const float *pair_mask, int64_t n_atom, int64_t n_tok,
                                  int64_t n_c);
void of3_cpu_concat_rows(float *y, const float *a, const float *b, int64_t n_r, int64_t c_a,
                         int64_t c_b);
void of3_cpu_edm_combine(float *y, const float *x, const float *z, const float *mask, double a,
                         double b, int64_t n_r, int64_t n_mask, int64_t n_c);
void of3_cpu_augment_noise(float *xh, const float *x, const float *quat, const float *trans,
                           const float *eps, const float *mask, float sigma, int64_t n_sample,
                           int64_t n_atom);
void of3_cpu_sampler_update(float *x, const float *xh, const float *den, float a, float t,
                            int64_t n);
void of3_cpu_attention_grouped(float *o, const float *q, const float *k, const float *v,
                               const float *gate, const float *mask, const float *bias, int64_t n_b,
                               int64_t n_grp, int64_t n_q, int64_t n_k, int64_t n_head,
                               int64_t d_head);

/* broadcast ops (issue #10): bcast_ops.{c,cu} */
void of3_cpu_add_bcast(float *y, const float *x, int64_t n_rep, int64_t n);
void of3_cpu_repeat(float *y, const float *x, int64_t n_rep, int64_t n);
void of3_cpu_mask_rows_rep(float *x, const float *mask, int64_t n_mask, int64_t n_r, int64_t n_c);
void of3_cpu_adaln_apply(float *y, const float *x, const float *gate, const float *shift,
                         int64_t n_rep, int64_t n_r, int64_t n_c, float eps);
void of3_cpu_gated_residual(float *a, const float *g, const float *x, const float *mask,
                            int64_t n_rep, int64_t n_r, int64_t n_c);
void of3_cpu_gather_rows_rep(float *y, const float *x, const int32_t *idx, int64_t n_rep,
                             int64_t n_r, int64_t n_x, int64_t n_c);
void of3_cpu_atom_windows_rep(float *y, const float *x, int64_t n_rep, int64_t n_atom, int64_t n_c,
                              int64_t n_win, int64_t first);
void of3_cpu_linear_stack(float *y, const float *x, int64_t x_stride, const float *w,
                          const float *b, int64_t n_stack, int64_t n_r, int64_t n_in,
                          int64_t n_out);

/* fused pair-block ops (issue #10): linear.c, elementwise.c, norm.c */
void of3_cpu_linear_acc(float *y, const float *x, const float *w, int64_t n_r, int64_t n_in,
                        int64_t n_out);
void of3_cpu_tri_mul_gate(float *a, float *b, const float *p, const float *mask, int64_t n_r,
                          int64_t n_c);
void of3_cpu_swiglu_rows(float *y, const float *a, const float *b, const float *mask, int64_t n_r,
                         int64_t n_c);
void of3_cpu_layer_norm_t(float *y, const float *x, const float *w, const float *b, int64_t n_i,
                          int64_t n_j, int64_t n_c, float eps);
void of3_cpu_linear_acc_t(float *y, const float *x, const float *w, int64_t n_i, int64_t n_j,
                          int64_t n_in, int64_t n_out);

/* low-precision product operands: linear.c */
void of3_cpu_to_bf16(void *y, const float *x, int64_t n);
void of3_cpu_linear_stack_lp(float *y, const float *x, int64_t x_stride, const float *w,
                             const void *w_lp, const float *b, int64_t n_stack, int64_t n_r,
                             int64_t n_in, int64_t n_out);

/* producers of ready bf16 product operands: bcast_ops.c, elementwise.c, linear.c */
void of3_cpu_adaln_apply_lp(float *y, void *y_lp, const float *x, const float *gate,
                            const float *shift, int64_t n_rep, int64_t n_r, int64_t n_c, float eps);
void of3_cpu_swiglu_lp(float *y, void *y_lp, const float *a, const float *b, int64_t n);
void of3_cpu_linear_stack_lpx(float *y, const float *x, const void *x_lp, int64_t x_stride,
                              const float *w, const void *w_lp, const float *b, int64_t n_stack,
                              int64_t n_r, int64_t n_in, int64_t n_out);
/* the atom transformer's attention in place: attention.c */
void of3_cpu_attention_atoms(float *o, const float *q, const float *k, const float *v,
                             const float *gate, const float *mask, const float *bias, int64_t n_rep,
                             int64_t n_atom, int64_t n_head, int64_t d_head);

#endif
