/* atom_ops.cu: the CUDA diffusion and atom-level ops (kernels/ops.h, issue #10): gathers,
 * block masks and pair features of the sequence-local atom blocks, the token mean and the EDM
 * combine. Element-wise grid-stride kernels, one thread per output element, each computing what
 * the CPU's loop computes for it in the same order (no atomics, so runs are bit-reproducible);
 * products and sums whose rounding the CPU fixes are written with __fmul_rn / __fadd_rn so that
 * the compiler cannot fuse them into FMAs. */
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
