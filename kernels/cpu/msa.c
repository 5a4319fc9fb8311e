/* msa.c: the CPU's two contractions over MSA rows and tokens (spec/trunk.md §3.5): the outer
 * product summed over rows (outer product mean, AF3 Alg. 9) and the pair-weighted average of
 * the value vectors (AF3 Alg. 10). Plain loops, sums in double. The LayerNorms, projections,
 * bias and normalisation around them are the MSA module's (of3-trunk/msa_module.c). */

#include "cpu_ops.h"

void of3_cpu_outer_product(float *o, const float *a, const float *b, int64_t n_s, int64_t n_tok,
                           int64_t i0, int64_t n_i, int64_t c_a, int64_t c_b)
{
	const int64_t n_o = c_a * c_b;
	for (int64_t i = 0; i < n_i; i++)
		for (int64_t j = 0; j < n_tok; j++) {
			float *dst = o + (i * n_tok + j) * n_o;
			for (int64_t c = 0; c < c_a; c++)
				for (int64_t e = 0; e < c_b; e++) {
					double acc = 0;
					for (int64_t s = 0; s < n_s; s++)
						acc += (double)a[(s * n_tok + i0 + i) * c_a + c] *
						       b[(s * n_tok + j) * c_b + e];
					dst[c * c_b + e] = (float)acc;
				}
		}
}

void of3_cpu_pair_weighted_avg(float *o, const float *w, const float *v, int64_t n_s, int64_t n_tok,
                               int64_t n_head, int64_t d_head)
{
	const int64_t n = n_tok, hd = n_head * d_head;
	for (int64_t s = 0; s < n_s; s++)
		for (int64_t i = 0; i < n; i++)
			for (int64_t h = 0; h < n_head; h++) {
				const float *wr = w + (h * n + i) * n;
				for (int64_t c = 0; c < d_head; c++) {
					double acc = 0;
					for (int64_t j = 0; j < n; j++)
						acc += (double)wr[j] *
						       v[(s * n + j) * hd + h * d_head + c];
					o[(s * n + i) * hd + h * d_head + c] = (float)acc;
				}
			}
}
