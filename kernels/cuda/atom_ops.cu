/* atom_ops.cu: the CUDA diffusion and atom-level ops (kernels/ops.h, issue #10): gathers,
 * block masks and pair features of the sequence-local atom blocks, the token mean and the EDM
 * combine. Element-wise grid-stride kernels, one thread per output element, each computing what
 * the CPU's loop computes for it in the same order (no atomics, so runs are bit-reproducible);
 * products and sums whose rounding the CPU fixes are written with __fmul_rn / __fadd_rn so that
 * the compiler cannot fuse them into FMAs. */
#include "../../common/rigid.h"
#include "../atom_blocks.h"
#include "cuda_ops.h"

#define NQ    OF3_ATOM_NQ /* short names in this file's kernels */
#define NK    OF3_ATOM_NK
#define SHIFT OF3_ATOM_KEY_SHIFT

static __global__ void asinh_kernel(float *y, const float *x, int64_t n)
{
	OF3_FOR_EACH(i, n)
	y[i] = asinhf(x[i]);
}

static __global__ void i32_to_f32_kernel(float *y, const int32_t *x, int64_t n)
{
	OF3_FOR_EACH(i, n)
	y[i] = (float)x[i];
}

static __global__ void atom_windows_kernel(float *y, const float *x, int64_t n_atom, int64_t n_c,
                                           int64_t n_win, int64_t first, int64_t n)
{
	OF3_FOR_EACH(o, n)
	{
		const int64_t c = o % n_c, bm = o / n_c;
		const int64_t b = bm / n_win, m = bm % n_win;
		const int64_t i = first + NQ * b + m;
		y[o] = i >= 0 && i < n_atom ? x[i * n_c + c] : 0.0f;
	}
}

/* one thread per pair element e = (b*32 + l)*128 + m; mask_q and mask_k from the threads with
 * m == 0 and l == 0 respectively */
static __global__ void atom_block_masks_kernel(float *mask_q, float *mask_k, float *pair_mask,
                                               const float *atom_mask, int64_t n_atom, int64_t n)
{
	OF3_FOR_EACH(e, n)
	{
		const int64_t m = e % NK, bl = e / NK, l = bl % NQ, b = bl / NQ;
		const int64_t qi = NQ * b + l, ki = NQ * b - SHIFT + m;
		const float mq = qi < n_atom ? atom_mask[qi] : 0.0f;
		const float mk = ki >= 0 && ki < n_atom ? atom_mask[ki] : 0.0f;
		if (mask_q && m == 0)
			mask_q[bl] = mq;
		if (mask_k && l == 0)
			mask_k[b * NK + m] = mk;
		if (pair_mask)
			pair_mask[e] = __fmul_rn(mq, mk);
	}
}

static __global__ void atom_pair_feats_kernel(float *d, float *inv, float *v, const float *pos,
                                              const int32_t *uid, const float *pair_mask,
                                              int64_t n_atom, int64_t n)
{
	OF3_FOR_EACH(e, n)
	{
		const int64_t qi = of3_atom_pair_query(e), ki = of3_atom_pair_key(e);
		const bool qin = qi < n_atom, kin = ki >= 0 && ki < n_atom;
		const float mm = pair_mask[e];
		float sq = 0.0f;
		for (int x = 0; x < 3; x++) {
			const float pq = qin ? pos[qi * 3 + x] : 0.0f;
			const float pk = kin ? pos[ki * 3 + x] : 0.0f;
			const float dx = __fmul_rn(__fsub_rn(pq, pk), mm);
			d[e * 3 + x] = dx;
			sq = __fadd_rn(sq, __fmul_rn(dx, dx));
		}
		inv[e] = __fdiv_rn(1.0f, __fadd_rn(1.0f, sq));
		const int32_t uq = qin ? uid[qi] : 0, uk = kin ? uid[ki] : 0;
		v[e] = __fmul_rn(uq == uk ? 1.0f : 0.0f, mm);
	}
}

static __global__ void atom_pair_outer_add_kernel(float *p, const float *lq, const float *lk,
                                                  const float *pair_mask, int64_t n_atom,
                                                  int64_t n_c, int64_t n)
{
	OF3_FOR_EACH(o, n)
	{
		const int64_t k = o % n_c, e = o / n_c;
		const float pm = pair_mask[e];
		if (pm == 0.0f)
			continue; /* padding, and keys outside [0, A): untouched */
		const int64_t qi = of3_atom_pair_query(e), ki = of3_atom_pair_key(e);
		p[o] = __fadd_rn(p[o],
		                 __fmul_rn(__fadd_rn(lq[qi * n_c + k], lk[ki * n_c + k]), pm));
	}
}

static __global__ void atom_pair_gather_add_kernel(float *p, const float *z, const int32_t *tok,
                                                   const float *pair_mask, int64_t n_atom,
                                                   int64_t n_tok, int64_t n_c, int64_t n)
{
	OF3_FOR_EACH(o, n)
	{
		const int64_t q = o % n_c, e = o / n_c;
		const int64_t la = of3_atom_pair_query(e), ma = of3_atom_pair_key(e);
		if (la >= n_atom || ma < 0 || ma >= n_atom)
			continue;
		const float zz = z[((int64_t)tok[la] * n_tok + tok[ma]) * n_c + q];
		p[o] = __fadd_rn(p[o], __fmul_rn(zz, pair_mask[e]));
	}
}

static __global__ void concat_rows_kernel(float *y, const float *a, const float *b, int64_t c_a,
                                          int64_t c_b, int64_t n)
{
	OF3_FOR_EACH(o, n)
	{
		const int64_t w = c_a + c_b, r = o / w, c = o % w;
		y[o] = c < c_a ? a[r * c_a + c] : b[r * c_b + (c - c_a)];
	}
}

/* augment_noise: a block per sample; the centroid's double sums in a fixed order (each
 * thread's atoms strided, then a tree), so a run repeats its bits. The rest rounds as the CPU
 * loop does (no contraction into FMAs): only the centroid's order of summation differs. */
#define AUG_THREADS 256
static __global__ void augment_noise_kernel(float *xh, const float *x, const float *quat,
                                            const float *trans, const float *eps, const float *mask,
                                            float sigma, int64_t n_atom)
{
	__shared__ double part[4][AUG_THREADS];
	__shared__ double R[3][3], mu[3];
	const int64_t d = blockIdx.x, A = n_atom;
	const float *xd = x + d * A * 3;
	double s0 = 0, s1 = 0, s2 = 0, sm = 0;
	for (int64_t l = threadIdx.x; l < A; l += AUG_THREADS) {
		const double m = (double)mask[l];
		s0 = __dadd_rn(s0, __dmul_rn(m, (double)xd[l * 3]));
		s1 = __dadd_rn(s1, __dmul_rn(m, (double)xd[l * 3 + 1]));
		s2 = __dadd_rn(s2, __dmul_rn(m, (double)xd[l * 3 + 2]));
		sm = __dadd_rn(sm, m);
	}
	part[0][threadIdx.x] = s0, part[1][threadIdx.x] = s1;
	part[2][threadIdx.x] = s2, part[3][threadIdx.x] = sm;
	__syncthreads();
	for (int h = AUG_THREADS / 2; h > 0; h /= 2) {
		if ((int)threadIdx.x < h)
			for (int k = 0; k < 4; k++)
				part[k][threadIdx.x] += part[k][threadIdx.x + h];
		__syncthreads();
	}
	if (threadIdx.x == 0) {
		const double q[4] = {quat[d * 4], quat[d * 4 + 1], quat[d * 4 + 2],
		                     quat[d * 4 + 3]};
		of3_quat_rotation(q, R);
		for (int k = 0; k < 3; k++)
			mu[k] = part[3][0] > 0 ? part[k][0] / part[3][0] : 0;
	}
	__syncthreads();
	const float *t = trans + d * 3;
	for (int64_t l = threadIdx.x; l < A; l += AUG_THREADS) {
		const double v[3] = {__dsub_rn((double)xd[l * 3], mu[0]),
		                     __dsub_rn((double)xd[l * 3 + 1], mu[1]),
		                     __dsub_rn((double)xd[l * 3 + 2], mu[2])};
		for (int k = 0; k < 3; k++) {
			double r = __dadd_rn(__dmul_rn(R[k][0], v[0]), __dmul_rn(R[k][1], v[1]));
			r = __dadd_rn(__dadd_rn(r, __dmul_rn(R[k][2], v[2])), (double)t[k]);
			const int64_t i = (d * A + l) * 3 + k;
			xh[i] = __fadd_rn((float)__dmul_rn(r, (double)mask[l]),
			                  __fmul_rn(sigma, eps[i]));
		}
	}
}

static __global__ void sampler_update_kernel(float *x, const float *xh, const float *den, float a,
                                             float t, int64_t n)
{
	OF3_FOR_EACH(i, n)
	{
		x[i] = __fadd_rn(xh[i], __fmul_rn(a, __fdiv_rn(__fsub_rn(xh[i], den[i]), t)));
	}
}

static __global__ void edm_combine_kernel(float *y, const float *x, const float *z,
                                          const float *mask, double a, double b, int64_t n_mask,
                                          int64_t n_c, int64_t n)
{
	OF3_FOR_EACH(i, n)
	{
		const double v = __dadd_rn(__dmul_rn(a, (double)x[i]), __dmul_rn(b, (double)z[i]));
		y[i] = __fmul_rn((float)v, mask[(i / n_c) % n_mask]);
	}
}

extern "C" void of3_cuda_asinh(float *y, const float *x, int64_t n)
{
	OF3_LAUNCH_1D(asinh, n, y, x, n);
}

extern "C" void of3_cuda_i32_to_f32(float *y, const int32_t *x, int64_t n)
{
	OF3_LAUNCH_1D(i32_to_f32, n, y, x, n);
}

extern "C" void of3_cuda_atom_windows(float *y, const float *x, int64_t n_atom, int64_t n_c,
                                      int64_t n_win, int64_t first)
{
	const int64_t n = of3_atom_n_block(n_atom) * n_win * n_c;
	OF3_LAUNCH_1D(atom_windows, n, y, x, n_atom, n_c, n_win, first, n);
}

extern "C" void of3_cuda_atom_block_masks(float *mask_q, float *mask_k, float *pair_mask,
                                          const float *atom_mask, int64_t n_atom)
{
	const int64_t n = of3_atom_n_block(n_atom) * NQ * NK;
	OF3_LAUNCH_1D(atom_block_masks, n, mask_q, mask_k, pair_mask, atom_mask, n_atom, n);
}

extern "C" void of3_cuda_atom_pair_feats(float *d, float *inv, float *v, const float *pos,
                                         const int32_t *uid, const float *pair_mask, int64_t n_atom)
{
	const int64_t n = of3_atom_n_block(n_atom) * NQ * NK;
	OF3_LAUNCH_1D(atom_pair_feats, n, d, inv, v, pos, uid, pair_mask, n_atom, n);
}

extern "C" void of3_cuda_atom_pair_outer_add(float *p, const float *lq, const float *lk,
                                             const float *pair_mask, int64_t n_atom, int64_t n_c)
{
	const int64_t n = of3_atom_n_block(n_atom) * NQ * NK * n_c;
	OF3_LAUNCH_1D(atom_pair_outer_add, n, p, lq, lk, pair_mask, n_atom, n_c, n);
}

extern "C" void of3_cuda_atom_pair_gather_add(float *p, const float *z, const int32_t *tok,
                                              const float *pair_mask, int64_t n_atom, int64_t n_tok,
                                              int64_t n_c)
{
	const int64_t n = of3_atom_n_block(n_atom) * NQ * NK * n_c;
	OF3_LAUNCH_1D(atom_pair_gather_add, n, p, z, tok, pair_mask, n_atom, n_tok, n_c, n);
}

extern "C" void of3_cuda_concat_rows(float *y, const float *a, const float *b, int64_t n_r,
                                     int64_t c_a, int64_t c_b)
{
	const int64_t n = n_r * (c_a + c_b);
	OF3_LAUNCH_1D(concat_rows, n, y, a, b, c_a, c_b, n);
}

extern "C" void of3_cuda_edm_combine(float *y, const float *x, const float *z, const float *mask,
                                     double a, double b, int64_t n_r, int64_t n_mask, int64_t n_c)
{
	const int64_t n = n_r * n_c;
	OF3_LAUNCH_1D(edm_combine, n, y, x, z, mask, a, b, n_mask, n_c, n);
}

extern "C" void of3_cuda_augment_noise(float *xh, const float *x, const float *quat,
                                       const float *trans, const float *eps, const float *mask,
                                       float sigma, int64_t n_sample, int64_t n_atom)
{
	if (n_sample <= 0 || n_atom <= 0)
		return;
	augment_noise_kernel<<<(unsigned)n_sample, AUG_THREADS, 0, of3_cuda_cur->stream>>>(
	        xh, x, quat, trans, eps, mask, sigma, n_atom);
	of3_cuda_launched("augment_noise");
}

extern "C" void of3_cuda_sampler_update(float *x, const float *xh, const float *den, float a,
                                        float t, int64_t n)
{
	OF3_LAUNCH_1D(sampler_update, n, x, xh, den, a, t, n);
}
