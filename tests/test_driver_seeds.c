/* test_driver_seeds.c: of3/seeds.c against CPython's `random` (values computed with python3):
 * the model seeds OpenFold3's --num_model_seeds N runs (random.seed(42), randint(0, 2**32-1)),
 * and the generator's parts on seeds of one and two 32-bit words. */
#include <inttypes.h>

#include "../of3/seeds.h"
#include "check.h"

int main(void)
{
	/* random.seed(42); [random.randint(0, 2**32 - 1) for _ in range(12)] */
	static const uint64_t want[12] = {2746317213u, 1181241943u, 958682846u,  3163119785u,
	                                  1812140441u, 127978094u,  939042955u,  2340505846u,
	                                  946785248u,  2530876844u, 3460967357u, 2998485882u};
	static uint64_t got[1000];
	of3_model_seeds(12, got);
	for (int i = 0; i < 12; i++)
		CHECK(got[i] == want[i], "model seed %d: %" PRIu64 " (Python %" PRIu64 ")", i + 1,
		      got[i], want[i]);
	/* x[999] and sum(x) for 1000 seeds: the rejection path (a 33-bit draw >= 2**32) is taken
	 * about every other draw, so a wrong draw count would shift these. */
	of3_model_seeds(1000, got);
	uint64_t sum = 0;
	for (int i = 0; i < 1000; i++)
		sum += got[i];
	CHECK(got[999] == 3536306171u && sum == 2184358386441u,
	      "1000 model seeds: last %" PRIu64 ", sum %" PRIu64, got[999], sum);

	/* random.Random(0): [getrandbits(32) x3], getrandbits(64), getrandbits(7) */
	of3_pyrandom_t r;
	of3_pyrandom_seed(&r, 0);
	uint64_t a = of3_pyrandom_getrandbits(&r, 32), b = of3_pyrandom_getrandbits(&r, 32),
	         c = of3_pyrandom_getrandbits(&r, 32), d = of3_pyrandom_getrandbits(&r, 64),
	         e = of3_pyrandom_getrandbits(&r, 7);
	CHECK(a == 3626764237u && b == 1654615998u && c == 3255389356u &&
	              d == 7758176404715800194u && e == 5,
	      "seed 0, getrandbits 32/64/7: %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
	      " %" PRIu64,
	      a, b, c, d, e);
	/* random.Random(2**40 + 5): a two-word key; randrange 1000 x3, 2**32, 2**33 + 1 */
	of3_pyrandom_seed(&r, ((uint64_t)1 << 40) + 5);
	a = of3_pyrandom_below(&r, 1000), b = of3_pyrandom_below(&r, 1000);
	c = of3_pyrandom_below(&r, 1000), d = of3_pyrandom_below(&r, (uint64_t)1 << 32);
	e = of3_pyrandom_below(&r, ((uint64_t)1 << 33) + 1);
	CHECK(a == 516 && b == 529 && c == 275 && d == 200118061u && e == 3506157742u,
	      "seed 2**40+5, randrange: %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
	      a, b, c, d, e);
	/* random.Random(2746317213).getrandbits(32): a one-word seed above 2**31 */
	of3_pyrandom_seed(&r, 2746317213u);
	a = of3_pyrandom_getrandbits(&r, 32);
	CHECK(a == 3929441273u, "seed 2746317213, getrandbits(32): %" PRIu64, a);
	return check_summary();
}
