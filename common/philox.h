/* philox.h: the counter-based generator Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel
 * random numbers: as easy as 1, 2, 3", SC'11) and the exact conversions of its output to
 * uniform and normal numbers, header-only so that C (common/rng.c) and CUDA kernels compile the
 * same code and give bit-identical values (DESIGN.md §4). common/rng.h is the C API built on it.
 *
 * Numbering. A stream is (seed, stream). Its draws are 32-bit words numbered 0, 1, 2, ...:
 * word i is lane i % 4 of Philox4x32-10 applied to
 *     counter = {block lo32, block hi32, stream lo32, stream hi32},  block = i / 4,
 *     key     = {seed lo32, seed hi32}.
 * Every value below is a function of (seed, stream, position) only, so a GPU thread computes
 * value i without computing values 0..i-1.
 *
 * Values at a word position i (each of the of3_rng_* calls in rng.h consumes one position):
 *   u32      word i.
 *   uniform  float in [0, 1): (word i >> 8) * 2^-24 (exact).
 *   normal   float: the Box-Muller pair of positions 2k, 2k+1 (k = i / 2), a = word 2k,
 *            b = word 2k+1:  u = (a + 1) * 2^-32 in (0, 1],  t = b * 2^-32 in [0, 1),
 *            r = sqrt(-2 log u),  z0 = r cos(2 pi t),  z1 = r sin(2 pi t),
 *            computed in double as described below and rounded once to float; position 2k
 *            gives z0, 2k+1 gives z1.
 * Values at a double position j (two word positions each: words 2j and 2j+1):
 *   uniform_double  in [0, 1): x = ((word 2j << 32 | word 2j+1) >> 11), x * 2^-53 (exact).
 *   normal_double   the Box-Muller pair of block k = j / 2 (words w0..w3 = 4k..4k+3):
 *            x1 = (w0 << 32 | w1) >> 11,  x2 = (w2 << 32 | w3) >> 11,
 *            u = (x1 + 1) * 2^-53 in (0, 1],  t = x2 * 2^-53 in [0, 1),
 *            z0 = r cos(2 pi t) for even j, z1 = r sin(2 pi t) for odd j.
 *
 * Exact reproducibility. log, cos and sin are not libm's or CUDA's (they differ by an ulp
 * between libraries) but the polynomials of of3_px_log and of3_px_sincos_turns, built only from
 * correctly rounded IEEE double operations (+, -, *, /, sqrt, fma), so every platform gives the
 * same bits. Two things keep the compilers from changing the operation sequence: every
 * multiply-add is an explicit fma(), and products go through of3_px_mul (__dmul_rn on the
 * device, which nvcc never fuses; an inline function on the host, which clang does not fuse
 * across). Host code must not be built with -ffp-contract=fast (GCC's default in its GNU
 * modes; the Makefile uses -std=c11, where it is off) nor with x87 excess precision. The
 * functions are accurate to a few double ulps (tests/test_rng.c checks against libm). */
#ifndef OF3_PHILOX_H
#define OF3_PHILOX_H

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define OF3_PX_FN static inline __host__ __device__
#else
#define OF3_PX_FN static inline
#include <float.h>
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "philox.h needs FLT_EVAL_METHOD 0 (no excess precision) for reproducible normals"
#endif
#endif

#define OF3_PHILOX_M0 0xD2511F53u /* round multipliers */
#define OF3_PHILOX_M1 0xCD9E8D57u
#define OF3_PHILOX_W0 0x9E3779B9u /* key schedule (Weyl) increments */
#define OF3_PHILOX_W1 0xBB67AE85u

/* Philox4x32-10: out = the 10-round bijection of ctr under key. A round maps (c0, c1, c2, c3)
 * to (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0)); the key is bumped by
 * (W0, W1) between rounds. out may alias ctr. */
OF3_PX_FN void of3_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
	uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
	uint32_t k0 = key[0], k1 = key[1];
	for (int round = 0; round < 10; round++) {
		if (round > 0) {
			k0 += OF3_PHILOX_W0;
			k1 += OF3_PHILOX_W1;
		}
		uint64_t p0 = (uint64_t)OF3_PHILOX_M0 * c0;
		uint64_t p1 = (uint64_t)OF3_PHILOX_M1 * c2;
		uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
		uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
		c0 = n0;
		c1 = (uint32_t)p1;
		c2 = n2;
		c3 = (uint32_t)p0;
	}
	out[0] = c0;
	out[1] = c1;
	out[2] = c2;
	out[3] = c3;
}

/* Words 4 block .. 4 block + 3 of stream (seed, stream). */
OF3_PX_FN void of3_philox_block(uint64_t seed, uint64_t stream, uint64_t block, uint32_t out[4])
{
	uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)stream,
	                   (uint32_t)(stream >> 32)};
	uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
	of3_philox4x32_10(ctr, key, out);
}

/* Word i of stream (seed, stream). */
OF3_PX_FN uint32_t of3_philox_u32_at(uint64_t seed, uint64_t stream, uint64_t i)
{
	uint32_t w[4];
	of3_philox_block(seed, stream, i >> 2, w);
	return w[i & 3];
}

/* The uniform float in [0, 1) of a word: its top 24 bits times 2^-24. */
OF3_PX_FN float of3_philox_uniform(uint32_t w)
{
	return (float)(w >> 8) * 0x1p-24f;
}

/* The uniform double in [0, 1) of two words: the top 53 bits of (hi << 32 | lo) times 2^-53. */
OF3_PX_FN double of3_philox_uniform_double(uint32_t hi, uint32_t lo)
{
	return (double)((((uint64_t)hi << 32) | lo) >> 11) * 0x1p-53;
}

/* A product that no compiler fuses into an fma (see the top of the file). */
#ifdef __CUDA_ARCH__
#define of3_px_mul(a, b) __dmul_rn((a), (b))
#else
OF3_PX_FN double of3_px_mul(double a, double b)
{
	return a * b;
}
#endif

/* Natural log of u in [2^-1022, 1]: u = m 2^e with m in [sqrt(1/2), sqrt(2)), s = (m-1)/(m+1),
 * log m = 2 (s + s^3/3 + ... + s^23/23) (|s| <= 0.172, truncation < 1e-18), log u =
 * e ln2_hi + (e ln2_lo + log m) with fdlibm's split of ln 2. */
OF3_PX_FN double of3_px_log(double u)
{
	int e;
	double m = frexp(u, &e);
	if (m < 0.70710678118654752440) {
		m *= 2.0; /* exact */
		e -= 1;
	}
	double s = (m - 1.0) / (m + 1.0);
	double s2 = of3_px_mul(s, s);
	double q = 0.043478260869565216; /* 1/23 */
	q = fma(q, s2, 0.047619047619047616);
	q = fma(q, s2, 0.05263157894736842);
	q = fma(q, s2, 0.058823529411764705);
	q = fma(q, s2, 0.06666666666666667);
	q = fma(q, s2, 0.07692307692307693);
	q = fma(q, s2, 0.09090909090909091);
	q = fma(q, s2, 0.1111111111111111);
	q = fma(q, s2, 0.14285714285714285);
	q = fma(q, s2, 0.2);
	q = fma(q, s2, 0.3333333333333333); /* 1/3 */
	double t = fma(of3_px_mul(s, s2), q, s);
	double logm = 2.0 * t; /* exact */
	double de = (double)e;
	return fma(de, 6.93147180369123816490e-01, fma(de, 1.90821492927058770002e-10, logm));
}

/* cos and sin of the angle 2 pi (q/4 + f), f in [-1/8, 1/8] (so 2 pi f in [-pi/4, pi/4]):
 * Taylor polynomials through x^17 (sin) and x^18 (cos), then the quadrant q mod 4. */
OF3_PX_FN void of3_px_sincos_turns(int64_t q, double f, double *c, double *s)
{
	double x = of3_px_mul(f, 6.283185307179586);
	double x2 = of3_px_mul(x, x);
	double ps = 2.8114572543455206e-15; /* 1/17! */
	ps = fma(ps, x2, -7.647163731819816e-13);
	ps = fma(ps, x2, 1.6059043836821613e-10);
	ps = fma(ps, x2, -2.505210838544172e-08);
	ps = fma(ps, x2, 2.7557319223985893e-06);
	ps = fma(ps, x2, -0.0001984126984126984);
	ps = fma(ps, x2, 0.008333333333333333);
	ps = fma(ps, x2, -0.16666666666666666); /* -1/3! */
	double sx = fma(of3_px_mul(x, x2), ps, x);
	double pc = -1.5619206968586225e-16; /* -1/18! */
	pc = fma(pc, x2, 4.779477332387385e-14);
	pc = fma(pc, x2, -1.1470745597729725e-11);
	pc = fma(pc, x2, 2.08767569878681e-09);
	pc = fma(pc, x2, -2.755731922398589e-07);
	pc = fma(pc, x2, 2.48015873015873e-05);
	pc = fma(pc, x2, -0.001388888888888889);
	pc = fma(pc, x2, 0.041666666666666664);
	pc = fma(pc, x2, -0.5); /* -1/2! */
	double cx = fma(pc, x2, 1.0);
	switch (q & 3) {
	case 0: *c = cx, *s = sx; break;
	case 1: *c = -sx, *s = cx; break;
	case 2: *c = -cx, *s = -sx; break;
	default: *c = sx, *s = -cx; break;
	}
}

/* The Box-Muller pair of u in (0, 1] and the angle t = x / 2^bits turns (x < 2^bits,
 * 2 < bits < 64): r = sqrt(-2 log u), z0 = r cos(2 pi t), z1 = r sin(2 pi t). t is split
 * exactly into a quarter turn q = round(4t) (halves up) and f = t - q/4. */
OF3_PX_FN void of3_px_box_muller(double u, uint64_t x, int bits, double *z0, double *z1)
{
	int64_t q = (int64_t)((x + ((uint64_t)1 << (bits - 3))) >> (bits - 2));
	int64_t rem = (int64_t)x - (q << (bits - 2));
	double f = ldexp((double)rem, -bits); /* exact: |rem| <= 2^(bits-3) */
	double c, s;
	of3_px_sincos_turns(q, f, &c, &s);
	double r = sqrt(-2.0 * of3_px_log(u));
	*z0 = of3_px_mul(r, c);
	*z1 = of3_px_mul(r, s);
}

/* The float normal pair of words a, b: positions 2k (z0) and 2k+1 (z1). */
OF3_PX_FN void of3_philox_normal2(uint32_t a, uint32_t b, float *z0, float *z1)
{
	double u = ((double)a + 1.0) * 0x1p-32; /* exact */
	double d0, d1;
	of3_px_box_muller(u, b, 32, &d0, &d1);
	*z0 = (float)d0;
	*z1 = (float)d1;
}

/* The double normal pair of a block of four words: double positions 2k (z0) and 2k+1 (z1). */
OF3_PX_FN void of3_philox_normal2_double(const uint32_t w[4], double *z0, double *z1)
{
	uint64_t x1 = (((uint64_t)w[0] << 32) | w[1]) >> 11;
	uint64_t x2 = (((uint64_t)w[2] << 32) | w[3]) >> 11;
	double u = (double)(x1 + 1) * 0x1p-53; /* exact */
	of3_px_box_muller(u, x2, 53, z0, z1);
}

/* Float normal at word position i of stream (seed, stream). */
OF3_PX_FN float of3_philox_normal_at(uint64_t seed, uint64_t stream, uint64_t i)
{
	uint32_t w[4];
	of3_philox_block(seed, stream, i >> 2, w);
	unsigned pair = (unsigned)(i & 2);
	float z0, z1;
	of3_philox_normal2(w[pair], w[pair + 1], &z0, &z1);
	return (i & 1) ? z1 : z0;
}

/* Double normal at double position j (word positions 2j, 2j+1) of stream (seed, stream). */
OF3_PX_FN double of3_philox_normal_double_at(uint64_t seed, uint64_t stream, uint64_t j)
{
	uint32_t w[4];
	of3_philox_block(seed, stream, j >> 1, w);
	double z0, z1;
	of3_philox_normal2_double(w, &z0, &z1);
	return (j & 1) ? z1 : z0;
}

#endif
