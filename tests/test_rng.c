/* test_rng.c: unit tests of common/philox.h and common/rng.h: the Random123 known-answer
 * vectors of Philox4x32-10, the counter and key layout, sequences of every kind for several
 * seeds and streams against tests/fixtures/rng/expected.tsv (from the independent Python
 * re-derivation tools/rng/philox_ref.py), position rules (seek, copies, mixed kinds, fills,
 * stateless helpers), the accuracy of the portable log/cos/sin against libm, edge values of
 * Box-Muller, and the mean and variance of 10^6 draws.
 *   test_rng [FIXTURE_TSV]    (default tests/fixtures/rng/expected.tsv, run from the root) */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/philox.h"
#include "../common/rng.h"
#include "check.h"

static uint32_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static uint64_t f64_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static void test_kat(void)
{
	/* Random123 examples/kat_vectors, "philox4x32 10" lines: counter, key, expected. */
	static const uint32_t kat[3][10] = {
	        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
	        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
	         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
	        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
	         0x94fdcceb, 0x5001e420, 0x24126ea1},
	};
	static const char *names[3] = {"zeros", "all ones", "pi digits"};
	for (int v = 0; v < 3; v++) {
		uint32_t out[4];
		of3_philox4x32_10(kat[v], kat[v] + 4, out);
		CHECK(memcmp(out, kat[v] + 6, sizeof out) == 0,
		      "Philox4x32-10 KAT %s: %08" PRIx32 " %08" PRIx32 " %08" PRIx32 " %08" PRIx32,
		      names[v], out[0], out[1], out[2], out[3]);
	}
	/* The same vectors through the (seed, stream, block) layout. */
	uint32_t out[4];
	of3_philox_block(0, 0, 0, out);
	CHECK(memcmp(out, kat[0] + 6, sizeof out) == 0,
	      "seed 0, stream 0, block 0 is the zeros KAT");
	of3_philox_block(UINT64_MAX, UINT64_MAX, UINT64_MAX, out);
	CHECK(memcmp(out, kat[1] + 6, sizeof out) == 0, "all-ones seed, stream, block: ones KAT");
	of3_philox_block(0x299f31d0a4093822u, 0x0370734413198a2eu, 0x85a308d3243f6a88u, out);
	CHECK(memcmp(out, kat[2] + 6, sizeof out) == 0,
	      "pi KAT: block = counter words 0-1, stream = words 2-3, seed = key (low word first)");
	int ok = 1;
	for (uint64_t i = 0; i < 4; i++)
		ok &= of3_rng_u32_at(0, 0, i) == kat[0][6 + i];
	CHECK(ok, "of3_rng_u32_at(0, 0, 0..3) is the zeros KAT");
}

/* Replays expected.tsv: each row is a sequential call on the generator of its (seed, stream),
 * checked for the value and, through the stateless helpers, for the position it read. */
static void test_fixture(const char *path)
{
	FILE *f = fopen(path, "r");
	CHECK(f != NULL, "open %s", path);
	if (!f)
		return;
	char line[256], kind[32], value[32];
	uint64_t seed, stream, pos;
	of3_rng_t rng;
	int have = 0, n_rows = 0, n_bad = 0, n_groups = 0;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%31s %" SCNu64 " %" SCNu64 " %" SCNu64 " %31s", kind, &seed,
		           &stream, &pos, value) != 5) {
			CHECK(0, "%s: bad row '%s'", path, line);
			break;
		}
		if (!have || rng.seed != seed || rng.stream != stream) {
			of3_rng_init(&rng, seed, stream);
			have = 1;
			n_groups++;
		}
		n_rows++;
		uint64_t want = strtoull(value, NULL, 16), got = 0, got_at = 0;
		uint64_t at_pos = rng.counter;
		if (!strcmp(kind, "seek")) {
			of3_rng_seek(&rng, pos);
			continue;
		} else if (!strcmp(kind, "u32")) {
			got = of3_rng_u32(&rng);
			got_at = of3_rng_u32_at(seed, stream, pos);
		} else if (!strcmp(kind, "uniform")) {
			got = f32_bits(of3_rng_uniform(&rng));
			got_at = f32_bits(of3_rng_uniform_at(seed, stream, pos));
		} else if (!strcmp(kind, "normal")) {
			got = f32_bits(of3_rng_normal(&rng));
			got_at = f32_bits(of3_rng_normal_at(seed, stream, pos));
		} else if (!strcmp(kind, "uniform_double")) {
			at_pos = (at_pos + 1) & ~(uint64_t)1;
			got = f64_bits(of3_rng_uniform_double(&rng));
			uint32_t hi = of3_rng_u32_at(seed, stream, pos),
			         lo = of3_rng_u32_at(seed, stream, pos + 1);
			got_at = f64_bits(of3_philox_uniform_double(hi, lo));
		} else if (!strcmp(kind, "normal_double")) {
			at_pos = (at_pos + 1) & ~(uint64_t)1;
			got = f64_bits(of3_rng_normal_double(&rng));
			got_at = f64_bits(of3_rng_normal_double_at(seed, stream, pos / 2));
		} else {
			CHECK(0, "%s: unknown kind '%s'", path, kind);
			break;
		}
		if (got != want || got_at != want || at_pos != pos) {
			if (n_bad++ < 5)
				printf("# %s seed %" PRIu64 " stream %" PRIu64 " position %" PRIu64
				       " (read %" PRIu64 "): want %" PRIx64 ", sequential %" PRIx64
				       ", stateless %" PRIx64 "\n",
				       kind, seed, stream, pos, at_pos, want, got, got_at);
		}
	}
	fclose(f);
	CHECK(n_rows > 500 && n_bad == 0,
	      "%d calls in %d streams equal the Python reference (%d differ)", n_rows, n_groups,
	      n_bad);
}

static void test_positions(void)
{
	enum { N = 1001 };
	static float a[N], b[N];
	static double da[N], db[N];
	of3_rng_t rng, copy;

	of3_rng_init(&rng, 7, 11);
	of3_rng_normal_fill(&rng, a, N);
	int ok = rng.counter == N;
	for (size_t i = 0; i < N; i++)
		ok &= f32_bits(a[i]) == f32_bits(of3_rng_normal_at(7, 11, i));
	CHECK(ok, "normal_fill of %d equals normal_at 0..%d and advances %d", N, N - 1, N);

	of3_rng_init(&rng, 7, 11);
	of3_rng_seek(&rng, 500);
	copy = rng;
	for (size_t i = 0; i < 10; i++)
		b[i] = of3_rng_normal(&rng);
	for (size_t i = 0; i < 10; i++)
		b[10 + i] = of3_rng_normal(&copy);
	CHECK(memcmp(b, a + 500, 10 * sizeof *b) == 0 &&
	              memcmp(b + 10, a + 500, 10 * sizeof *b) == 0,
	      "seek to 500 and a copy of the generator continue the same sequence");

	/* Starting at an odd position reads the second value of a pair. */
	of3_rng_init(&rng, 7, 11);
	of3_rng_seek(&rng, 3);
	float z = of3_rng_normal(&rng);
	CHECK(f32_bits(z) == f32_bits(a[3]), "a normal read at an odd position is z1 of its pair");

	of3_rng_init(&rng, 7, 11);
	of3_rng_normal_fill_double(&rng, da, N);
	ok = rng.counter == 2 * N;
	for (size_t j = 0; j < N; j++)
		ok &= f64_bits(da[j]) == f64_bits(of3_rng_normal_double_at(7, 11, j));
	CHECK(ok, "normal_fill_double of %d equals normal_double_at 0..%d and advances %d", N,
	      N - 1, 2 * N);

	/* Mixed kinds: a double after an odd number of words skips one word. */
	of3_rng_init(&rng, 7, 11);
	uint32_t w0 = of3_rng_u32(&rng);
	double d = of3_rng_normal_double(&rng); /* reads double position 1 (words 2, 3) */
	float u = of3_rng_uniform(&rng);        /* word 4 */
	CHECK(w0 == of3_rng_u32_at(7, 11, 0) && f64_bits(d) == f64_bits(da[1]) &&
	              f32_bits(u) == f32_bits(of3_rng_uniform_at(7, 11, 4)) && rng.counter == 5,
	      "u32, normal_double, uniform read words 0, 2-3 and 4");

	of3_rng_init(&rng, 7, 11);
	of3_rng_uniform_fill(&rng, a, N);
	ok = 1;
	for (size_t i = 0; i < N; i++)
		ok &= f32_bits(a[i]) == f32_bits(of3_rng_uniform_at(7, 11, i)) && a[i] >= 0.0f &&
		      a[i] < 1.0f;
	CHECK(ok, "uniform_fill equals uniform_at, all in [0, 1)");

	of3_rng_init(&rng, 7, 11);
	of3_rng_normal_fill(&rng, a, 0);
	CHECK(rng.counter == 0, "a fill of 0 reads nothing");

	of3_rng_init(&rng, 7, 12);
	of3_rng_normal_fill_double(&rng, db, N);
	int same = 0;
	for (size_t j = 0; j < N; j++)
		same += da[j] == db[j];
	CHECK(same == 0, "streams 11 and 12 of a seed share no value among %d normals", N);
}

/* Box-Muller at its edges and the portable log/cos/sin against libm. */
static void test_accuracy(void)
{
	float z0, z1;
	of3_philox_normal2(UINT32_MAX, 12345, &z0, &z1);
	CHECK(z0 == 0.0f && z1 == 0.0f, "u = 1 gives r = 0");
	of3_philox_normal2(0, 0, &z0, &z1);
	double rmax = sqrt(64.0 * log(2.0));
	CHECK(z0 == (float)rmax && z1 == 0.0f,
	      "u = 2^-32, t = 0 gives (sqrt(64 ln 2), 0) = (%.9g, %g)", z0, z1);
	of3_philox_normal2(0, 1u << 30, &z0, &z1);
	CHECK(fabsf(z0) < 1e-6f && z1 == (float)rmax, "t = 1/4 gives (0, r): (%g, %.9g)", z0, z1);

	double worst_log = 0, worst_trig = 0, worst_z = 0;
	of3_rng_t rng;
	of3_rng_init(&rng, 99, 0);
	for (int k = 0; k < 100000; k++) {
		uint32_t w[4];
		for (int l = 0; l < 4; l++)
			w[l] = of3_rng_u32(&rng);
		uint64_t x1 = (((uint64_t)w[0] << 32) | w[1]) >> 11;
		uint64_t x2 = (((uint64_t)w[2] << 32) | w[3]) >> 11;
		double uu = (double)(x1 + 1) * 0x1p-53, t = (double)x2 * 0x1p-53;
		double e = fabs(of3_px_log(uu) - log(uu)) / fmax(fabs(log(uu)), 1e-300);
		worst_log = fmax(worst_log, e);
		double zd0, zd1;
		of3_philox_normal2_double(w, &zd0, &zd1);
		double r = sqrt(-2.0 * log(uu)), th = 6.283185307179586476925 * t;
		worst_z = fmax(worst_z, fmax(fabs(zd0 - r * cos(th)), fabs(zd1 - r * sin(th))));
		int64_t q = (int64_t)((x2 + ((uint64_t)1 << 50)) >> 51);
		double c, s;
		of3_px_sincos_turns(q, (double)((int64_t)x2 - (q << 51)) * 0x1p-53, &c, &s);
		worst_trig = fmax(worst_trig, fmax(fabs(c - cos(th)), fabs(s - sin(th))));
	}
	CHECK(worst_log < 1e-15, "portable log: max relative error %.2e against libm", worst_log);
	CHECK(worst_trig < 1e-15, "portable cos/sin: max abs error %.2e against libm", worst_trig);
	CHECK(worst_z < 1e-14, "double normals: max abs difference %.2e from libm Box-Muller",
	      worst_z);
}

static void test_moments(void)
{
	enum { N = 1000000 };
	float *x = malloc(N * sizeof *x);
	double *xd = malloc(N * sizeof *xd);
	if (!x || !xd) {
		CHECK(0, "allocate %d floats", N);
		free(x);
		free(xd);
		return;
	}
	of3_rng_t rng;
	of3_rng_init(&rng, 2024, 5);
	of3_rng_normal_fill(&rng, x, N);
	double sum = 0, sum2 = 0;
	int finite = 1;
	for (size_t i = 0; i < N; i++) {
		finite &= isfinite(x[i]) != 0;
		sum += x[i];
		sum2 += (double)x[i] * x[i];
	}
	double mean = sum / N, var = sum2 / N - mean * mean;
	CHECK(finite && fabs(mean) < 0.005 && fabs(var - 1) < 0.005,
	      "10^6 float normals: finite, mean %.5f, variance %.5f", mean, var);

	of3_rng_normal_fill_double(&rng, xd, N);
	sum = sum2 = 0;
	finite = 1;
	for (size_t i = 0; i < N; i++) {
		finite &= isfinite(xd[i]) != 0;
		sum += xd[i];
		sum2 += xd[i] * xd[i];
	}
	mean = sum / N, var = sum2 / N - mean * mean;
	CHECK(finite && fabs(mean) < 0.005 && fabs(var - 1) < 0.005,
	      "10^6 double normals: finite, mean %.5f, variance %.5f", mean, var);

	of3_rng_uniform_fill(&rng, x, N);
	sum = sum2 = 0;
	int in_range = 1;
	for (size_t i = 0; i < N; i++) {
		in_range &= x[i] >= 0.0f && x[i] < 1.0f;
		sum += x[i];
		sum2 += (double)x[i] * x[i];
	}
	mean = sum / N, var = sum2 / N - mean * mean;
	CHECK(in_range && fabs(mean - 0.5) < 0.0025 && fabs(var * 12 - 1) < 0.005,
	      "10^6 uniforms: in [0, 1), mean %.5f, variance %.5f (1/12 = 0.08333)", mean, var);
	free(x);
	free(xd);
}

int main(int argc, char **argv)
{
	test_kat();
	test_fixture(argc > 1 ? argv[1] : "tests/fixtures/rng/expected.tsv");
	test_positions();
	test_accuracy();
	test_moments();
	return check_summary();
}
