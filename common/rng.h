/* rng.h: random numbers for of3, from the counter-based generator Philox4x32-10 (DESIGN.md §4):
 * the same seed and stream give the same numbers on the CPU and, through common/philox.h which
 * the CUDA kernels include, on the GPU.
 *
 * A generator is a position in a stream. A stream, named by (seed, stream), is a sequence of
 * 2^64 32-bit words; each sequential call below returns the value of its kind at the current
 * word position and advances it (by 1 for 32-bit kinds, by 2 for double kinds), so any call
 * sequence is reproducible and every value can also be computed on its own (the *_at helpers,
 * and the same functions in philox.h on the GPU). philox.h defines the numbering and the exact
 * arithmetic of every kind; in short, at word position i:
 *   of3_rng_u32      word i
 *   of3_rng_uniform  (word i >> 8) * 2^-24, a float in [0, 1)
 *   of3_rng_normal   Box-Muller on words 2k, 2k+1 (k = i/2), u = (word 2k + 1) 2^-32 in (0, 1],
 *                    t = word 2k+1 * 2^-32; r = sqrt(-2 log u); r cos(2 pi t) at even i,
 *                    r sin(2 pi t) at odd i; computed in double, rounded to float
 * and the double kinds first round the position up to even, then use double position j = i/2
 * (words 2j, 2j+1; the normals from the four words of block j/2 with 53-bit uniforms).
 *
 * Streams of one seed are independent of each other: give each use of randomness its own
 * stream number (the diffusion noise of each sample, the MSA row choice, ...), so that adding
 * draws to one use never shifts another. Nothing here allocates, fails or prints. */
#ifndef OF3_RNG_H
#define OF3_RNG_H

#include <stddef.h>
#include <stdint.h>

/* The stream numbers of the pipeline's uses of randomness, kept in one place so two uses never
 * share a stream. */
enum {
	OF3_RNG_STREAM_REF_POS = 1, /* of3-featurize: reference conformer rotation/translation */
	OF3_RNG_STREAM_MSA_SUBSAMPLE = 2, /* of3-trunk: MSA row subsampling */
	OF3_RNG_STREAM_CONFORMER = 3,  /* of3-featurize: SMILES conformers (chain c at c * 2^40) */
	OF3_RNG_STREAM_DIFFUSION = 16, /* of3-diffuse: sampler noise (per sample: + sample index) */
};

/* A generator: plain data, copied freely (a copy continues from the same position). The
 * buffers only cache values of the current position; they never change what is returned. */
typedef struct {
	uint64_t seed;       /* Philox key */
	uint64_t stream;     /* upper half of the Philox counter */
	uint64_t counter;    /* next word position in the stream */
	uint64_t buf_block;  /* block (position / 4) whose words are in buf; UINT64_MAX: none */
	uint32_t buf[4];     /* words 4 buf_block .. 4 buf_block + 3 */
	uint64_t normal_pos; /* word position of the cached float normal; UINT64_MAX: none */
	float normal;        /* the second normal of the last Box-Muller pair */
	uint64_t normal_double_pos; /* double position of the cached double normal; UINT64_MAX: none
	                             */
	double normal_double;
} of3_rng_t;

/* Starts rng at word position 0 of stream (seed, stream). */
void of3_rng_init(of3_rng_t *rng, uint64_t seed, uint64_t stream);

/* Moves rng to word position `counter` of its stream (the next call returns that value). */
void of3_rng_seek(of3_rng_t *rng, uint64_t counter);

/* The next 32-bit word (advances 1). */
uint32_t of3_rng_u32(of3_rng_t *rng);

/* The next uniform float in [0, 1): (word >> 8) * 2^-24 (advances 1). */
float of3_rng_uniform(of3_rng_t *rng);

/* The next uniform double in [0, 1): 53 bits of two words (rounds the position up to even,
 * advances 2). */
double of3_rng_uniform_double(of3_rng_t *rng);

/* The next standard normal float (advances 1). */
float of3_rng_normal(of3_rng_t *rng);

/* The next standard normal double (rounds the position up to even, advances 2). */
double of3_rng_normal_double(of3_rng_t *rng);

/* Fill out[0..n) with what n calls of of3_rng_uniform / of3_rng_normal / of3_rng_normal_double
 * would return, in order (out: n elements; n may be 0). */
void of3_rng_uniform_fill(of3_rng_t *rng, float *out, size_t n);
void of3_rng_normal_fill(of3_rng_t *rng, float *out, size_t n);
void of3_rng_normal_fill_double(of3_rng_t *rng, double *out, size_t n);

/* Stateless: the value at word position i (double position j) of stream (seed, stream), equal
 * to what a generator initialized with (seed, stream) and sought to i (to 2j) returns next. */
uint32_t of3_rng_u32_at(uint64_t seed, uint64_t stream, uint64_t i);
float of3_rng_uniform_at(uint64_t seed, uint64_t stream, uint64_t i);
float of3_rng_normal_at(uint64_t seed, uint64_t stream, uint64_t i);
double of3_rng_normal_double_at(uint64_t seed, uint64_t stream, uint64_t j);

#endif
