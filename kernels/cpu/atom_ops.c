/* atom_ops.c: the CPU's diffusion and atom-level ops (kernels/ops.h, issue #10): the loops the
 * atom encoders and the diffusion module ran on the host, moved here unchanged so that the CPU
 * numbers stay what they were (the CUDA versions are checked against these). */
#include <math.h>
#include <string.h>

#include "../../common/rigid.h"
#include "../atom_blocks.h"
#include "../ops.h"
#include "cpu_ops.h"

#define NQ    OF3_ATOM_NQ /* short names in this file's loops */
#define NK    OF3_ATOM_NK
#define SHIFT OF3_ATOM_KEY_SHIFT

void of3_cpu_asinh(float *y, const float *x, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = asinhf(x[i]);
}

void of3_cpu_i32_to_f32(float *y, const int32_t *x, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = (float)x[i];
}

void of3_cpu_atom_windows(float *y, const float *x, int64_t n_atom, int64_t n_c, int64_t n_win,
                          int64_t first)
{
	const int64_t nb = of3_atom_n_block(n_atom);
	for (int64_t b = 0; b < nb; b++)
		for (int64_t m = 0; m < n_win; m++) {
			const int64_t i = first + NQ * b + m;
			float *dst = y + (b * n_win + m) * n_c;
			if (i >= 0 && i < n_atom)
				memcpy(dst, x + i * n_c, (size_t)n_c * sizeof *dst);
			else
				memset(dst, 0, (size_t)n_c * sizeof *dst);
		}
}

void of3_cpu_atom_block_masks(float *mask_q, float *mask_k, float *pair_mask,
                              const float *atom_mask, int64_t n_atom)
{
	const int64_t nb = of3_atom_n_block(n_atom);
	for (int64_t b = 0; b < nb; b++)
		for (int64_t l = 0; l < NQ; l++) {
			const int64_t qi = NQ * b + l;
			const float mq = qi < n_atom ? atom_mask[qi] : 0.f;
			if (mask_q)
				mask_q[b * NQ + l] = mq;
			for (int64_t m = 0; m < NK; m++) {
				const int64_t ki = NQ * b - SHIFT + m;
				const float mk = ki >= 0 && ki < n_atom ? atom_mask[ki] : 0.f;
				if (mask_k && l == 0)
					mask_k[b * NK + m] = mk;
				if (pair_mask)
					pair_mask[(b * NQ + l) * NK + m] = mq * mk;
			}
		}
}

void of3_cpu_atom_pair_feats(float *d, float *inv, float *v, const float *pos, const int32_t *uid,
                             const float *pair_mask, int64_t n_atom)
{
	const int64_t n_e = of3_atom_n_block(n_atom) * NQ * NK;
	for (int64_t e = 0; e < n_e; e++) {
		const int64_t qi = of3_atom_pair_query(e), ki = of3_atom_pair_key(e);
		/* padding is zero-filled: position 0, uid 0 (M removes it) */
		const int qin = qi < n_atom, kin = ki >= 0 && ki < n_atom;
		const float mm = pair_mask[e];
		float sq = 0;
		for (int x = 0; x < 3; x++) {
			const float pq = qin ? pos[qi * 3 + x] : 0.f;
			const float pk = kin ? pos[ki * 3 + x] : 0.f;
			d[e * 3 + x] = (pq - pk) * mm;
			sq += d[e * 3 + x] * d[e * 3 + x];
		}
		inv[e] = 1.f / (1.f + sq);
		const int32_t uq = qin ? uid[qi] : 0;
		const int32_t uk = kin ? uid[ki] : 0;
		v[e] = (uq == uk ? 1.f : 0.f) * mm;
	}
}

void of3_cpu_atom_pair_outer_add(float *p, const float *lq, const float *lk, const float *pair_mask,
                                 int64_t n_atom, int64_t n_c)
{
	const int64_t n_e = of3_atom_n_block(n_atom) * NQ * NK;
	for (int64_t e = 0; e < n_e; e++) {
		if (pair_mask[e] == 0.f)
			continue; /* padding: the reference adds (L + M) * 0 */
		const int64_t qi = of3_atom_pair_query(e), ki = of3_atom_pair_key(e);
		for (int64_t k = 0; k < n_c; k++)
			p[e * n_c + k] += (lq[qi * n_c + k] + lk[ki * n_c + k]) * pair_mask[e];
	}
}

void of3_cpu_atom_pair_gather_add(float *p, const float *z, const int32_t *tok,
                                  const float *pair_mask, int64_t n_atom, int64_t n_tok,
                                  int64_t n_c)
{
	const int64_t n_e = of3_atom_n_block(n_atom) * NQ * NK;
	for (int64_t e = 0; e < n_e; e++) {
		const int64_t la = of3_atom_pair_query(e), ma = of3_atom_pair_key(e);
		if (la >= n_atom || ma < 0 || ma >= n_atom)
			continue;
		const float mk = pair_mask[e];
		const float *zz = z + ((int64_t)tok[la] * n_tok + tok[ma]) * n_c;
		float *pp = p + e * n_c;
		for (int64_t q = 0; q < n_c; q++)
			pp[q] += zz[q] * mk;
	}
}

void of3_cpu_concat_rows(float *y, const float *a, const float *b, int64_t n_r, int64_t c_a,
                         int64_t c_b)
{
	for (int64_t r = 0; r < n_r; r++) {
		memcpy(y + r * (c_a + c_b), a + r * c_a, (size_t)c_a * sizeof *y);
		memcpy(y + r * (c_a + c_b) + c_a, b + r * c_b, (size_t)c_b * sizeof *y);
	}
}

void of3_cpu_edm_combine(float *y, const float *x, const float *z, const float *mask, double a,
                         double b, int64_t n_r, int64_t n_mask, int64_t n_c)
{
	for (int64_t r = 0; r < n_r; r++)
		for (int64_t c = 0; c < n_c; c++) {
			const int64_t i = r * n_c + c;
			y[i] = (float)(a * x[i] + b * z[i]) * mask[r % n_mask];
		}
}

void of3_cpu_augment_noise(float *xh, const float *x, const float *quat, const float *trans,
                           const float *eps, const float *mask, float sigma, int64_t n_sample,
                           int64_t n_atom)
{
	for (int64_t d = 0; d < n_sample; d++) {
		const float *xd = x + d * n_atom * 3, *t = trans + d * 3;
		float *yd = xh + d * n_atom * 3;
		double mu[3] = {0, 0, 0}, msum = 0, R[3][3];
		const double q[4] = {quat[d * 4], quat[d * 4 + 1], quat[d * 4 + 2],
		                     quat[d * 4 + 3]};
		of3_quat_rotation(q, R);
		for (int64_t l = 0; l < n_atom; l++) {
			for (int k = 0; k < 3; k++)
				mu[k] += (double)mask[l] * xd[l * 3 + k];
			msum += mask[l];
		}
		for (int k = 0; k < 3; k++)
			mu[k] = msum > 0 ? mu[k] / msum : 0;
		for (int64_t l = 0; l < n_atom; l++) {
			const double v[3] = {xd[l * 3] - mu[0], xd[l * 3 + 1] - mu[1],
			                     xd[l * 3 + 2] - mu[2]};
			for (int k = 0; k < 3; k++)
				yd[l * 3 + k] = (float)((R[k][0] * v[0] + R[k][1] * v[1] +
				                         R[k][2] * v[2] + t[k]) *
				                        mask[l]);
		}
	}
	const int64_t n = n_sample * n_atom * 3;
	for (int64_t i = 0; i < n; i++)
		xh[i] = xh[i] + sigma * eps[i];
}

void of3_cpu_sampler_update(float *x, const float *xh, const float *den, float a, float t,
                            int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		x[i] = xh[i] + a * ((xh[i] - den[i]) / t);
}
