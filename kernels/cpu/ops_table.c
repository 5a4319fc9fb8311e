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
};

const of3_ops_t *of3_ops_cpu(void)
{
	return &cpu_ops;
}
