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
};

const of3_ops_t *of3_ops_cpu(void)
{
	return &cpu_ops;
}
