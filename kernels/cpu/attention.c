/* attention.c: gated multi-head attention with a mask and a shared additive bias on the CPU
 * (spec/trunk.md §3.0.4, used by triangle attention §3.6.2 and attention with pair bias §3.7.1).
 * No logits buffer: one pass finds each row's maximum, a second sums exp() in double and
 * accumulates the values, so the op needs no scratch at any size. q is scaled by 1/sqrt(d)
 * before the dot product as the reference pre-scales it; the logits are then built in the
 * reference's order (q·k, + mask bias, + bias). */
#include <math.h>
#include <stddef.h>

#include "../atom_blocks.h"
#include "../ops.h"
#include "cpu_ops.h"

static float logit(const float *qi, const float *kj, int64_t d_head, float scale, float mbias,
                   const float *bias)
{
	double dot = 0;
	if (kj) /* NULL: a zero key row (attention_atoms' padding), whose terms add +0 to +0 */
		for (int64_t c = 0; c < d_head; c++)
			dot += (double)(qi[c] * scale) * kj[c];
	float l = (float)dot + mbias;
	return bias ? l + *bias : l;
}

/* One query row and head: oi[d] = Σ_j softmax_j(l_j) v_j, times sigmoid(gi) where gi is not
 * NULL, with l_j = logit(qi, key j) + mask bias (mb[j]; mb NULL: none) + bias[j * bias_stride]
 * (bias NULL: none). Key j and value j are rows r = row0 + j of k and v, r in [0, n_rows), each
 * stride floats apart from the column offset they point at; a row outside is a zero row (a
 * padded window's): its dot product is +0 and its value terms, p * 0 = +0 added to a sum that
 * starts at +0, change nothing, so they are skipped. */
static void attend_row(float *oi, const float *qi, const float *k, const float *v, int64_t row0,
                       int64_t n_rows, int64_t stride, const float *mb, const float *bias,
                       int64_t bias_stride, const float *gi, int64_t n_k, int64_t d_head,
                       float scale)
{
	float mx = -INFINITY;
	for (int64_t j = 0; j < n_k; j++) {
		const int64_t r = row0 + j;
		float mbias = mb ? OF3_MASK_INF * (mb[j] - 1.0f) : 0.0f;
		const float *kj = r >= 0 && r < n_rows ? k + r * stride : NULL;
		float l = logit(qi, kj, d_head, scale, mbias, bias ? bias + j * bias_stride : NULL);
		if (l > mx)
			mx = l;
	}
	for (int64_t c = 0; c < d_head; c++)
		oi[c] = 0.0f;
	double sum = 0;
	for (int64_t j = 0; j < n_k; j++) {
		const int64_t r = row0 + j;
		float mbias = mb ? OF3_MASK_INF * (mb[j] - 1.0f) : 0.0f;
		const int in = r >= 0 && r < n_rows;
		float l = logit(qi, in ? k + r * stride : NULL, d_head, scale, mbias,
		                bias ? bias + j * bias_stride : NULL);
		double p = exp((double)l - mx);
		sum += p;
		if (!in)
			continue;
		const float *vj = v + r * stride;
		for (int64_t c = 0; c < d_head; c++)
			oi[c] += (float)(p * vj[c]);
	}
	for (int64_t c = 0; c < d_head; c++) {
		double val = oi[c] / sum;
		if (gi)
			val *= 1.0 / (1.0 + exp(-(double)gi[c]));
		oi[c] = (float)val;
	}
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
		for (int64_t i = 0; i < n_q; i++)
			for (int64_t h = 0; h < n_head; h++) {
				const int64_t row = (b * n_q + i) * hd + h * d_head;
				attend_row(o + row, q + row, kb + h * d_head, vb + h * d_head, 0,
				           n_k, hd, mb, bias ? bias + i * n_k * n_head + h : NULL,
				           n_head, gate ? gate + row : NULL, n_k, d_head, scale);
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

/* attention's rows for each query atom of each block, the keys and values read in place from
 * [D,A,H*d] (attend_row's zero rows outside [0, A)): the bytes of the window copies through
 * attention_grouped. */
void of3_cpu_attention_atoms(float *o, const float *q, const float *k, const float *v,
                             const float *gate, const float *mask, const float *bias, int64_t n_rep,
                             int64_t n_atom, int64_t n_head, int64_t d_head)
{
	const int64_t hd = n_head * d_head, nb = of3_atom_n_block(n_atom);
	const int64_t NQ = OF3_ATOM_NQ, NK = OF3_ATOM_NK;
	const float scale = (float)(1.0 / sqrt((double)d_head));
	for (int64_t d = 0; d < n_rep; d++)
		for (int64_t b = 0; b < nb; b++) {
			const float *mb = mask + b * NK, *bb = bias + b * NQ * NK * n_head;
			const int64_t k0 =
			        NQ * b - OF3_ATOM_KEY_SHIFT; /* the window's first atom */
			const float *kd = k + d * n_atom * hd, *vd = v + d * n_atom * hd;
			for (int64_t i = 0; i < NQ && NQ * b + i < n_atom; i++)
				for (int64_t h = 0; h < n_head; h++) {
					/* the query atom's row, head h */
					const int64_t row =
					        (d * n_atom + NQ * b + i) * hd + h * d_head;
					attend_row(o + row, q + row, kd + h * d_head,
					           vd + h * d_head, k0, n_atom, hd, mb,
					           bb + i * NK * n_head + h, n_head,
					           gate ? gate + row : NULL, NK, d_head, scale);
				}
		}
}
