/* pair_embed.c: the CPU ops that build pair features from per-token and per-atom data
 * (kernels/ops.h: gather_rows, copy, outer_add, distance_onehot), used by the confidence heads'
 * Pairformer embedding and output layouts (spec/diffusion_heads.md §5.2, §5.3, §5.5). */
#include <string.h>

#include "../ops.h"
#include "cpu_ops.h"

void of3_cpu_gather_rows(float *y, const float *x, const int32_t *idx, int64_t n_r, int64_t n_c)
{
	for (int64_t r = 0; r < n_r; r++)
		memcpy(y + r * n_c, x + (int64_t)idx[r] * n_c, (size_t)n_c * sizeof *y);
}

void of3_cpu_copy(float *y, const float *x, int64_t n)
{
	memcpy(y, x, (size_t)n * sizeof *y);
}

void of3_cpu_outer_add(float *z, const float *a, const float *b, int64_t n_i, int64_t n_j,
                       int64_t n_c)
{
	for (int64_t i = 0; i < n_i; i++)
		for (int64_t j = 0; j < n_j; j++) {
			float *zz = z + (i * n_j + j) * n_c;
			/* (z + a) + b, the order of the reference's two additions */
			for (int64_t c = 0; c < n_c; c++)
				zz[c] = (zz[c] + a[i * n_c + c]) + b[j * n_c + c];
		}
}

void of3_cpu_distance_onehot(float *y, const float *x, int64_t n_tok, float first, float step,
                             int64_t n_bin)
{
	for (int64_t i = 0; i < n_tok; i++)
		for (int64_t j = 0; j < n_tok; j++) {
			double d2 = 0;
			for (int c = 0; c < 3; c++) {
				double d = (double)x[i * 3 + c] - (double)x[j * 3 + c];
				d2 += d * d;
			}
			float *yy = y + (i * n_tok + j) * n_bin;
			for (int64_t k = 0; k < n_bin; k++) {
				/* edges squared in float, as the reference's float32 linspace()**2
				 */
				float lo = first + (float)k * step,
				      hi = first + (float)(k + 1) * step;
				double lo2 = (double)(lo * lo);
				double hi2 = k + 1 < n_bin ? (double)(hi * hi) : 1e9;
				yy[k] = d2 > lo2 && d2 < hi2 ? 1.0f : 0.0f;
			}
		}
}
