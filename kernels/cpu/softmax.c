/* softmax.c: masked softmax over the last dimension on the CPU. The mask enters as the additive
 * bias INF*(mask - 1) of spec/trunk.md §0 (never -inf), added in float as the reference does, so
 * a fully masked row becomes uniform rather than NaN. */
#include <math.h>
#include <stddef.h>

#include "../ops.h"
#include "cpu_ops.h"

void of3_cpu_softmax(float *x, const float *mask, int64_t n_mask_rows, int64_t n_r, int64_t n_k)
{
	for (int64_t r = 0; r < n_r; r++) {
		float *xr = x + r * n_k;
		const float *mr = mask ? mask + (r % n_mask_rows) * n_k : NULL;
		float mx = -INFINITY;
		for (int64_t k = 0; k < n_k; k++) {
			if (mr)
				xr[k] += OF3_MASK_INF * (mr[k] - 1.0f);
			if (xr[k] > mx)
				mx = xr[k];
		}
		double sum = 0;
		for (int64_t k = 0; k < n_k; k++)
			sum += exp((double)xr[k] - mx);
		for (int64_t k = 0; k < n_k; k++)
			xr[k] = (float)(exp((double)xr[k] - mx) / sum);
	}
}
