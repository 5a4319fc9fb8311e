/* ops_table.cu: the CUDA backend's op table (kernels/ops.h), for the backend opened last. */
extern "C" {
#include "../ops.h"
}
#include "cuda_ops.h"

/* in ops.h's order (C++17 has no designated initializers); the size check catches a new op, the
 * op tests a swapped pair of the same signature */
static_assert(sizeof(of3_ops_t) == 56 * sizeof(void (*)(void)), "of3_ops_t changed: update");
static const of3_ops_t cuda_ops = {
        of3_cuda_layer_norm,
        of3_cuda_linear,
        of3_cuda_sigmoid,
        of3_cuda_mul,
        of3_cuda_add,
        of3_cuda_swiglu,
        of3_cuda_sigmoid_mul,
        of3_cuda_mask_rows,
        of3_cuda_transpose_pair,
        of3_cuda_softmax,
        of3_cuda_attention,
        of3_cuda_tri_mul,
        of3_cuda_gather_rows,
        of3_cuda_outer_add,
        of3_cuda_distance_onehot,
        of3_cuda_copy,
        of3_cuda_relu,
        of3_cuda_div_scalar,
        of3_cuda_div_rows,
        of3_cuda_outer_product,
        of3_cuda_pair_weighted_avg,
        /* trunk ops (issue #10) */
        of3_cuda_fill,
        of3_cuda_copy_2d,
        of3_cuda_segment_mean,
        of3_cuda_relpos_embed,
        /* diffusion and atom-level ops (issue #10) */
        of3_cuda_asinh,
        of3_cuda_i32_to_f32,
        of3_cuda_atom_windows,
        of3_cuda_atom_block_masks,
        of3_cuda_atom_pair_feats,
        of3_cuda_atom_pair_outer_add,
        of3_cuda_atom_pair_gather_add,
        of3_cuda_concat_rows,
        of3_cuda_edm_combine,
        of3_cuda_attention_grouped,
        /* broadcast ops (issue #10) */
        of3_cuda_add_bcast,
        of3_cuda_repeat,
        of3_cuda_mask_rows_rep,
        of3_cuda_adaln_apply,
        of3_cuda_gated_residual,
        of3_cuda_gather_rows_rep,
        of3_cuda_atom_windows_rep,
        of3_cuda_linear_stack,
        /* fused pair-block ops (issue #10) */
        of3_cuda_linear_acc,
        of3_cuda_tri_mul_gate,
        of3_cuda_swiglu_rows,
        of3_cuda_layer_norm_t,
        of3_cuda_linear_acc_t,
        /* low-precision product operands */
        of3_cuda_to_bf16,
        of3_cuda_linear_stack_lp,
        /* producers of ready bf16 product operands */
        of3_cuda_adaln_apply_lp,
        of3_cuda_swiglu_lp,
        of3_cuda_linear_stack_lpx,
        /* the atom transformer's attention in place */
        of3_cuda_attention_atoms,
        /* the sampler's step around the diffusion module */
        of3_cuda_augment_noise,
        of3_cuda_sampler_update,
};

extern "C" const of3_ops_t *of3_ops_cuda(void)
{
	return of3_cuda_cur ? &cuda_ops : NULL;
}
