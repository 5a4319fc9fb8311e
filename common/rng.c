/* rng.c: the sequential generator of rng.h over the Philox core of philox.h. Each call reads
 * the value at the current position; the block of four words and the second value of a
 * Box-Muller pair are kept so that consecutive calls compute each Philox block and each pair
 * once. */
#include "rng.h"

#include "philox.h"

#define NONE UINT64_MAX

void of3_rng_init(of3_rng_t *rng, uint64_t seed, uint64_t stream)
{
	*rng = (of3_rng_t){.seed = seed,
	                   .stream = stream,
	                   .buf_block = NONE,
	                   .normal_pos = NONE,
	                   .normal_double_pos = NONE};
}

void of3_rng_seek(of3_rng_t *rng, uint64_t counter)
{
	rng->counter = counter;
}

/* The words of the block holding the current position. */
static const uint32_t *block_words(of3_rng_t *rng)
{
	uint64_t block = rng->counter >> 2;
	if (block != rng->buf_block) {
		of3_philox_block(rng->seed, rng->stream, block, rng->buf);
		rng->buf_block = block;
	}
	return rng->buf;
}

uint32_t of3_rng_u32(of3_rng_t *rng)
{
	uint32_t w = block_words(rng)[rng->counter & 3];
	rng->counter++;
	return w;
}

float of3_rng_uniform(of3_rng_t *rng)
{
	return of3_philox_uniform(of3_rng_u32(rng));
}

/* Rounds the position up to even for the kinds that take two words. Position 2^64 - 1 wraps
 * to 0, like the end of every stream. */
static void align2(of3_rng_t *rng)
{
	rng->counter = (rng->counter + 1) & ~(uint64_t)1;
}

double of3_rng_uniform_double(of3_rng_t *rng)
{
	align2(rng);
	const uint32_t *w = block_words(rng);
	unsigned k = (unsigned)(rng->counter & 3);
	rng->counter += 2;
	return of3_philox_uniform_double(w[k], w[k + 1]);
}

float of3_rng_normal(of3_rng_t *rng)
{
	uint64_t i = rng->counter;
	float z;
	if (i == rng->normal_pos) {
		z = rng->normal;
	} else {
		const uint32_t *w = block_words(rng);
		unsigned pair = (unsigned)(i & 2);
		float z0, z1;
		of3_philox_normal2(w[pair], w[pair + 1], &z0, &z1);
		if (i & 1) {
			z = z1;
		} else {
			z = z0;
			rng->normal = z1;
			rng->normal_pos = i + 1;
		}
	}
	rng->counter = i + 1;
	return z;
}

double of3_rng_normal_double(of3_rng_t *rng)
{
	align2(rng);
	uint64_t j = rng->counter >> 1;
	double z;
	if (j == rng->normal_double_pos) {
		z = rng->normal_double;
	} else {
		double z0, z1;
		of3_philox_normal2_double(block_words(rng), &z0, &z1);
		if (j & 1) {
			z = z1;
		} else {
			z = z0;
			rng->normal_double = z1;
			rng->normal_double_pos = j + 1;
		}
	}
	rng->counter += 2;
	return z;
}

void of3_rng_uniform_fill(of3_rng_t *rng, float *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = of3_rng_uniform(rng);
}

void of3_rng_normal_fill(of3_rng_t *rng, float *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = of3_rng_normal(rng);
}

void of3_rng_normal_fill_double(of3_rng_t *rng, double *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = of3_rng_normal_double(rng);
}

uint32_t of3_rng_u32_at(uint64_t seed, uint64_t stream, uint64_t i)
{
	return of3_philox_u32_at(seed, stream, i);
}

float of3_rng_uniform_at(uint64_t seed, uint64_t stream, uint64_t i)
{
	return of3_philox_uniform(of3_philox_u32_at(seed, stream, i));
}

float of3_rng_normal_at(uint64_t seed, uint64_t stream, uint64_t i)
{
	return of3_philox_normal_at(seed, stream, i);
}

double of3_rng_normal_double_at(uint64_t seed, uint64_t stream, uint64_t j)
{
	return of3_philox_normal_double_at(seed, stream, j);
}
