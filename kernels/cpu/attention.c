/* attention.c: gated multi-head attention with a mask and a shared additive bias on the CPU
 * (spec/trunk.md §3.0.4, used by triangle attention §3.6.2 and attention with pair bias §3.7.1).
 * No logits buffer: one pass finds each row's maximum, a second sums exp() in double and
 * accumulates the values, so the op needs no scratch at any size. q is scaled by 1/sqrt(d)
 * before the dot product as the reference pre-scales it; the logits are then built in the
 * reference's order (q·k, + mask bias, + bias). */
#include <math.h>
#include <stddef.h>

#include "../ops.h"
#include "cpu_ops.h"

static float logit(const float *qi, const float *kj, int64_t d_head, float scale, float mbias,
                   const float *bias)
{
	double dot = 0;
	for (int64_t c = 0; c < d_head; c++)
		dot += (double)(qi[c] * scale) * kj[c];
	float l = (float)dot + mbias;
	return bias ? l + *bias : l;
}

void of3_cpu_attention(float *o, const float *q, const float *k, const float *v, const float *gate,
                       const float *mask, const float *bias, int64_t n_b, int64_t n_q, int64_t n_k,
                       int64_t n_head, int64_t d_head)
{
	const int64_t hd = n_head * d_head;
	const float scale = (float)(1.0 / sqrt((double)d_head));
	for (int64_t b = 0; b < n_b; b++) {
		const float *kb = k + b * n_k * hd, *vb = v + b * n_k * hd;
		const float *mb = mask ? mask + b * n_k : NULL;
		for (int64_t i = 0; i < n_q; i++) {
			for (int64_t h = 0; h < n_head; h++) {
				const float *qi = q + (b * n_q + i) * hd + h * d_head;
				float *oi = o + (b * n_q + i) * hd + h * d_head;
				float mx = -INFINITY;
				for (int64_t j = 0; j < n_k; j++) {
					float mbias = mb ? OF3_MASK_INF * (mb[j] - 1.0f) : 0.0f;
					const float *bij =
					        bias ? bias + (i * n_k + j) * n_head + h : NULL;
					float l = logit(qi, kb + j * hd + h * d_head, d_head, scale,
					                mbias, bij);
					if (l > mx)
						mx = l;
				}
				for (int64_t c = 0; c < d_head; c++)
					oi[c] = 0.0f;
				double sum = 0;
				for (int64_t j = 0; j < n_k; j++) {
					float mbias = mb ? OF3_MASK_INF * (mb[j] - 1.0f) : 0.0f;
					const float *bij =
					        bias ? bias + (i * n_k + j) * n_head + h : NULL;
					float l = logit(qi, kb + j * hd + h * d_head, d_head, scale,
					                mbias, bij);
					double p = exp((double)l - mx);
					sum += p;
					const float *vj = vb + j * hd + h * d_head;
					for (int64_t c = 0; c < d_head; c++)
						oi[c] += (float)(p * vj[c]);
				}
				const float *gi =
				        gate ? gate + (b * n_q + i) * hd + h * d_head : NULL;
				for (int64_t c = 0; c < d_head; c++) {
					double val = oi[c] / sum;
					if (gi)
						val *= 1.0 / (1.0 + exp(-(double)gi[c]));
					oi[c] = (float)val;
				}
			}
		}
	}
}

/* One problem at a time through the plain attention: the grouped op only saves launches on a
 * GPU. */
void of3_cpu_attention_grouped(float *o, const float *q, const float *k, const float *v,
                               const float *gate, const float *mask, const float *bias, int64_t n_b,
                               int64_t n_grp, int64_t n_q, int64_t n_k, int64_t n_head,
                               int64_t d_head)
{
	const int64_t hd = n_head * d_head;
	for (int64_t b = 0; b < n_b; b++) {
		const int64_t g = b % n_grp;
		of3_cpu_attention(o + b * n_q * hd, q + b * n_q * hd, k + b * n_k * hd,
		                  v + b * n_k * hd, gate ? gate + b * n_q * hd : NULL,
		                  mask + g * n_k, bias + g * n_q * n_k * n_head, 1, n_q, n_k,
		                  n_head, d_head);
	}
}
