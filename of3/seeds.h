/* seeds.h: the model seeds OpenFold3 runs, reproduced exactly (spec/diffusion_heads.md §1.1).
 *
 * OpenFold3's `run_openfold predict --num_model_seeds N` runs the seeds that Python gives after
 * `random.seed(42)`: N x `random.randint(0, 2**32 - 1)`. Users compare runs by seed value, so
 * `of3 predict --seeds N` must name the same N seeds. This is CPython's generator: MT19937
 * seeded by init_by_array with the seed integer's 32-bit words (least significant first), and
 * randint by rejection from getrandbits(k), k the bit length of the range's size. Nothing here
 * allocates, fails or prints. */
#ifndef OF3_DRIVER_SEEDS_H
#define OF3_DRIVER_SEEDS_H

#include <stdint.h>

typedef struct {
	uint32_t mt[624];
	int i;
} of3_pyrandom_t;

/* random.seed(seed) for a non-negative integer seed. */
void of3_pyrandom_seed(of3_pyrandom_t *r, uint64_t seed);
/* random.getrandbits(k), 1 <= k <= 64. */
uint64_t of3_pyrandom_getrandbits(of3_pyrandom_t *r, int k);
/* random.randrange(n) (CPython's _randbelow), 1 <= n <= 2^63. */
uint64_t of3_pyrandom_below(of3_pyrandom_t *r, uint64_t n);

/* OpenFold3's default without --num_model_seeds: the one seed 42. */
#define OF3_DEFAULT_SEED 42

/* OpenFold3's generate_seeds(42, n): n seeds in [0, 2^32) into out. */
void of3_model_seeds(int n, uint64_t *out);

#endif
