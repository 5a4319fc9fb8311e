/* seeds.c: CPython's Mersenne Twister and the parts of `random` that OpenFold3's seed list
 * uses (Modules/_randommodule.c and Lib/random.py describe the same algorithm). */
#include "seeds.h"

enum { MT_N = 624, MT_M = 397 };

static void init_genrand(of3_pyrandom_t *r, uint32_t s)
{
	r->mt[0] = s;
	for (int i = 1; i < MT_N; i++)
		r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
	r->i = MT_N;
}

static void init_by_array(of3_pyrandom_t *r, const uint32_t *key, int n_key)
{
	init_genrand(r, 19650218u);
	int i = 1, j = 0;
	for (int k = MT_N > n_key ? MT_N : n_key; k; k--) {
		r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525u)) +
		           key[j] + (uint32_t)j;
		i++, j++;
		if (i >= MT_N) {
			r->mt[0] = r->mt[MT_N - 1];
			i = 1;
		}
		if (j >= n_key)
			j = 0;
	}
	for (int k = MT_N - 1; k; k--) {
		r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941u)) -
		           (uint32_t)i;
		if (++i >= MT_N) {
			r->mt[0] = r->mt[MT_N - 1];
			i = 1;
		}
	}
	r->mt[0] = 0x80000000u; /* a non-zero state whatever the key */
}

static uint32_t genrand_u32(of3_pyrandom_t *r)
{
	if (r->i >= MT_N) {
		for (int k = 0; k < MT_N; k++) {
			uint32_t y =
			        (r->mt[k] & 0x80000000u) | (r->mt[(k + 1) % MT_N] & 0x7fffffffu);
			r->mt[k] = r->mt[(k + MT_M) % MT_N] ^ (y >> 1) ^ (y & 1 ? 0x9908b0dfu : 0);
		}
		r->i = 0;
	}
	uint32_t y = r->mt[r->i++];
	y ^= y >> 11;
	y ^= (y << 7) & 0x9d2c5680u;
	y ^= (y << 15) & 0xefc60000u;
	return y ^ (y >> 18);
}

void of3_pyrandom_seed(of3_pyrandom_t *r, uint64_t seed)
{
	/* CPython keys with as many words as the integer needs, and one word for 0. */
	uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
	init_by_array(r, key, key[1] ? 2 : 1);
}

uint64_t of3_pyrandom_getrandbits(of3_pyrandom_t *r, int k)
{
	/* Words fill from the least significant end; the last one keeps its top bits. */
	uint64_t v = 0;
	for (int shift = 0; k > 0; shift += 32, k -= 32) {
		uint32_t w = genrand_u32(r);
		if (k < 32)
			w >>= 32 - k;
		v |= (uint64_t)w << shift;
	}
	return v;
}

uint64_t of3_pyrandom_below(of3_pyrandom_t *r, uint64_t n)
{
	int k = 0;
	while (k < 64 && n >> k)
		k++;
	/* k is n's bit length, not n-1's: Python draws one bit more than needed for a power of two
	 * and rejects about half, which changes the sequence and so must be kept. */
	uint64_t v = of3_pyrandom_getrandbits(r, k);
	while (v >= n)
		v = of3_pyrandom_getrandbits(r, k);
	return v;
}

void of3_model_seeds(int n, uint64_t *out)
{
	of3_pyrandom_t r;
	of3_pyrandom_seed(&r, OF3_DEFAULT_SEED);
	for (int i = 0; i < n; i++)
		out[i] = of3_pyrandom_below(&r, (uint64_t)1 << 32);
}
