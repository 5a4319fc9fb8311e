/* ops_table.c: the CPU backend's op table (kernels/ops.h). */
#include "../ops.h"
#include "cpu_ops.h"

static const of3_ops_t cpu_ops = {
        .layer_norm = of3_cpu_layer_norm,
        .linear = of3_cpu_linear,
        .sigmoid = of3_cpu_sigmoid,
        .mul = of3_cpu_mul,
        .add = of3_cpu_add,
        .swiglu = of3_cpu_swiglu,
        .sigmoid_mul = of3_cpu_sigmoid_mul,
        .mask_rows = of3_cpu_mask_rows,
        .transpose_pair = of3_cpu_transpose_pair,
        .softmax = of3_cpu_softmax,
        .attention = of3_cpu_attention,
        .tri_mul = of3_cpu_tri_mul,
        .relu = of3_cpu_relu,
        .div_scalar = of3_cpu_div_scalar,
        .div_rows = of3_cpu_div_rows,
        .outer_product = of3_cpu_outer_product,
        .pair_weighted_avg = of3_cpu_pair_weighted_avg,
        .gather_rows = of3_cpu_gather_rows,
        .outer_add = of3_cpu_outer_add,
        .distance_onehot = of3_cpu_distance_onehot,
        .copy = of3_cpu_copy,
        .fill = of3_cpu_fill, /* trunk ops (issue #10) */
        .copy_2d = of3_cpu_copy_2d,
        .segment_mean = of3_cpu_segment_mean,
        .relpos_embed = of3_cpu_relpos_embed,
        /* diffusion and atom-level ops (issue #10) */
        .asinh = of3_cpu_asinh,
        .i32_to_f32 = of3_cpu_i32_to_f32,
        .atom_windows = of3_cpu_atom_windows,
        .atom_block_masks = of3_cpu_atom_block_masks,
        .atom_pair_feats = of3_cpu_atom_pair_feats,
        .atom_pair_outer_add = of3_cpu_atom_pair_outer_add,
        .atom_pair_gather_add = of3_cpu_atom_pair_gather_add,
        .concat_rows = of3_cpu_concat_rows,
        .edm_combine = of3_cpu_edm_combine,
        .attention_grouped = of3_cpu_attention_grouped,
        /* broadcast ops (issue #10) */
        .add_bcast = of3_cpu_add_bcast,
        .repeat = of3_cpu_repeat,
        .mask_rows_rep = of3_cpu_mask_rows_rep,
        .adaln_apply = of3_cpu_adaln_apply,
        .gated_residual = of3_cpu_gated_residual,
        .gather_rows_rep = of3_cpu_gather_rows_rep,
        .atom_windows_rep = of3_cpu_atom_windows_rep,
        .linear_stack = of3_cpu_linear_stack,
        /* fused pair-block ops (issue #10) */
        .linear_acc = of3_cpu_linear_acc,
        .tri_mul_gate = of3_cpu_tri_mul_gate,
        .swiglu_rows = of3_cpu_swiglu_rows,
        .layer_norm_t = of3_cpu_layer_norm_t,
        .linear_acc_t = of3_cpu_linear_acc_t,
        /* low-precision product operands */
        .to_bf16 = of3_cpu_to_bf16,
        .linear_stack_lp = of3_cpu_linear_stack_lp,
        /* producers of ready bf16 product operands */
        .adaln_apply_lp = of3_cpu_adaln_apply_lp,
        .swiglu_lp = of3_cpu_swiglu_lp,
        .linear_stack_lpx = of3_cpu_linear_stack_lpx,
        /* the atom transformer's attention in place */
        .attention_atoms = of3_cpu_attention_atoms,
        /* the sampler's step around the diffusion module */
        .augment_noise = of3_cpu_augment_noise,
        .sampler_update = of3_cpu_sampler_update,
};

const of3_ops_t *of3_ops_cpu(void)
{
	return &cpu_ops;
}
