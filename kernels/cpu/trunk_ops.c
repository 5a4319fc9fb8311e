/* trunk_ops.c: the CPU versions of the trunk ops (kernels/ops.h, "trunk ops (issue #10)"): the
 * loops of3-trunk ran on the host before the CUDA backend, moved here with their arithmetic
 * unchanged so that the CPU parity numbers stay what they were. */
#include <string.h>

#include "../ops.h"
#include "cpu_ops.h"

void of3_cpu_fill(float *y, float v, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = v;
}

void of3_cpu_copy_2d(float *y, int64_t ld_y, const float *x, int64_t ld_x, int64_t n_r, int64_t n_c)
{
	for (int64_t r = 0; r < n_r; r++)
		memcpy(y + r * ld_y, x + r * ld_x, (size_t)n_c * sizeof *y);
}

void of3_cpu_segment_mean(float *y, int64_t ld_y, const float *x, const float *w,
                          const int32_t *off, const int32_t *rows, int64_t n_seg, int64_t n_c)
{
	for (int64_t t = 0; t < n_seg; t++) {
		double cnt = 0;
		for (int32_t k = off[t]; k < off[t + 1]; k++)
			cnt += w[rows[k]];
		for (int64_t c = 0; c < n_c; c++) {
			double acc = 0;
			for (int32_t k = off[t]; k < off[t + 1]; k++)
				acc += x[(int64_t)rows[k] * n_c + c];
			y[t * ld_y + c] = (float)(acc / (cnt + 1e-9));
		}
	}
}

void of3_cpu_relpos_embed(float *z, const float *zi, const float *zj, const int32_t *bins,
                          const float *bond, const float *w_rel, const float *w_bond, int64_t n_tok,
                          int64_t n_c, int64_t n_rel)
{
	for (int64_t i = 0; i < n_tok; i++)
		for (int64_t j = 0; j < n_tok; j++) {
			const int32_t *b = bins + (i * n_tok + j) * 4;
			const float bd = bond[i * n_tok + j];
			float *zz = z + (i * n_tok + j) * n_c;
			for (int64_t c = 0; c < n_c; c++) {
				const float *wc = w_rel + c * n_rel;
				float rel = wc[b[0]] + wc[b[1]] + wc[b[2]];
				if (b[3] >= 0)
					rel += wc[b[3]];
				zz[c] = (zi[i * n_c + c] + zj[j * n_c + c]) + rel + bd * w_bond[c];
			}
		}
}
