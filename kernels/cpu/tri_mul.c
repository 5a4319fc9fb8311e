/* tri_mul.c: the triangle multiplicative contraction on the CPU (spec/trunk.md §3.6.1, AF3
 * Alg. 12/13): outgoing edges sum a[i,k]*b[j,k], incoming edges a[k,i]*b[k,j], per hidden
 * channel, in double. The projections, gates, masks and LayerNorms around it are the layer's
 * (kernels/layers/triangle_mul.c). */
#include "cpu_ops.h"

void of3_cpu_tri_mul(float *p, const float *a, const float *b, int64_t n_tok, int64_t n_h,
                     int incoming)
{
	const int64_t n = n_tok;
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < n; j++)
			for (int64_t c = 0; c < n_h; c++) {
				double acc = 0;
				for (int64_t k = 0; k < n; k++) {
					int64_t ia = incoming ? (k * n + i) : (i * n + k);
					int64_t ib = incoming ? (k * n + j) : (j * n + k);
					acc += (double)a[ia * n_h + c] * b[ib * n_h + c];
				}
				p[(i * n + j) * n_h + c] = (float)acc;
			}
}
