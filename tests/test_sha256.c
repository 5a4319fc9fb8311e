/* test_sha256.c: unit tests of common/sha256.h: the FIPS 180-4 / NIST example messages (empty,
 * "abc", the 448- and 896-bit messages, one million 'a'), incremental hashing in pieces of
 * every size against one-shot hashing for lengths around the padding boundaries, and files of
 * boundary lengths and a large pseudo-random file against the system's sha256sum. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/sha256.h"
#include "check.h"

static char tmpdir[] = "/tmp/of3-test-sha256-XXXXXX";

static void hex_of(const void *data, size_t n, char hex[OF3_SHA256_HEX])
{
	uint8_t d[OF3_SHA256_BYTES];
	of3_sha256(data, n, d);
	of3_sha256_hex(d, hex);
}

static void test_nist(void)
{
	static const struct {
		const char *name, *msg, *want;
	} v[] = {
	        {"empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	        {"abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	        {"448-bit", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	        {"896-bit",
	         "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqk"
	         "lm"
	         "nopqrlmnopqrsmnopqrstnopqrstu",
	         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	char hex[OF3_SHA256_HEX];
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		hex_of(v[i].msg, strlen(v[i].msg), hex);
		CHECK(!strcmp(hex, v[i].want), "NIST %s message: %s", v[i].name, hex);
	}
	hex_of(NULL, 0, hex);
	CHECK(!strcmp(hex, v[0].want), "NULL, 0 hashes as the empty message");

	/* One million 'a', fed 1000 bytes at a time, and in one piece. */
	static char a[1000000];
	memset(a, 'a', sizeof a);
	of3_sha256_t ctx;
	uint8_t d[OF3_SHA256_BYTES];
	of3_sha256_init(&ctx);
	for (int i = 0; i < 1000; i++)
		of3_sha256_update(&ctx, a, 1000);
	of3_sha256_final(&ctx, d);
	of3_sha256_hex(d, hex);
	const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	CHECK(!strcmp(hex, want), "NIST one million 'a' (1000 updates): %s", hex);
	hex_of(a, sizeof a, hex);
	CHECK(!strcmp(hex, want), "NIST one million 'a' (one shot)");
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Every length 0..300 hashed in pieces of every size 1..130 equals the one-shot digest; a copy
 * of a context taken mid-way finishes to the digest of the prefix. */
static void test_incremental(void)
{
	static uint8_t msg[300];
	uint64_t seed = 1;
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)splitmix(&seed);
	int bad = 0;
	for (size_t n = 0; n <= sizeof msg; n++) {
		uint8_t one[OF3_SHA256_BYTES], inc[OF3_SHA256_BYTES];
		of3_sha256(msg, n, one);
		for (size_t piece = 1; piece <= 130; piece++) {
			of3_sha256_t ctx;
			of3_sha256_init(&ctx);
			for (size_t off = 0; off < n; off += piece)
				of3_sha256_update(&ctx, msg + off,
				                  n - off < piece ? n - off : piece);
			of3_sha256_update(&ctx, NULL, 0);
			of3_sha256_final(&ctx, inc);
			bad += memcmp(one, inc, sizeof one) != 0;
		}
	}
	CHECK(bad == 0, "lengths 0..300 in pieces of 1..130 bytes equal one-shot (%d differ)", bad);

	of3_sha256_t ctx, copy;
	uint8_t d1[OF3_SHA256_BYTES], d2[OF3_SHA256_BYTES], p1[OF3_SHA256_BYTES];
	of3_sha256_init(&ctx);
	of3_sha256_update(&ctx, msg, 100);
	copy = ctx;
	of3_sha256_update(&ctx, msg + 100, 200);
	of3_sha256_final(&ctx, d1);
	of3_sha256_final(&copy, p1);
	of3_sha256(msg, 300, d2);
	int ok = !memcmp(d1, d2, sizeof d1);
	of3_sha256(msg, 100, d2);
	ok &= !memcmp(p1, d2, sizeof p1);
	CHECK(ok, "a copied context finishes to the prefix's digest, the original to the whole");
}

/* The digest sha256sum (or shasum -a 256) prints for path; 0 if neither tool runs. */
static int system_sha256(const char *path, char hex[OF3_SHA256_HEX])
{
	static const char *tools[] = {"sha256sum", "shasum -a 256"};
	for (int t = 0; t < 2; t++) {
		char cmd[512];
		snprintf(cmd, sizeof cmd, "%s '%s' 2>/dev/null", tools[t], path);
		FILE *p = popen(cmd, "r");
		if (!p)
			continue;
		char line[256] = "";
		char *got = fgets(line, sizeof line, p);
		int status = pclose(p);
		if (got && status == 0 && strlen(line) > 64 && line[64] == ' ') {
			memcpy(hex, line, 64);
			hex[64] = '\0';
			return 1;
		}
	}
	return 0;
}

static int write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	int ok = fwrite(data, 1, n, f) == n;
	return fclose(f) == 0 && ok;
}

static void test_against_sha256sum(void)
{
	if (!mkdtemp(tmpdir)) {
		CHECK(0, "mkdtemp %s", tmpdir);
		return;
	}
	enum { BIG = 8 << 20 };
	uint8_t *data = malloc(BIG + 1);
	if (!data) {
		CHECK(0, "allocate %d bytes", BIG);
		rmdir(tmpdir);
		return;
	}
	uint64_t seed = 42;
	for (size_t i = 0; i < BIG; i += 8) {
		uint64_t r = splitmix(&seed);
		memcpy(data + i, &r, 8);
	}
	char path[256], want[OF3_SHA256_HEX], got[OF3_SHA256_HEX];
	snprintf(path, sizeof path, "%s/data", tmpdir);
	static const size_t lengths[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 4097};
	int n_ok = 0, n_run = 0;
	for (size_t k = 0; k < sizeof lengths / sizeof *lengths; k++) {
		if (!write_file(path, data, lengths[k]) || !system_sha256(path, want))
			continue;
		n_run++;
		hex_of(data, lengths[k], got);
		n_ok += !strcmp(want, got);
	}
	if (n_run == 0) {
		CHECK(1, "sha256sum comparison skipped: neither sha256sum nor shasum runs here");
	} else {
		CHECK(n_ok == n_run, "%d boundary lengths (0..4097) equal sha256sum", n_run);
		/* The large file: one shot, and in odd-sized pieces. */
		if (write_file(path, data, BIG - 3) && system_sha256(path, want)) {
			hex_of(data, BIG - 3, got);
			CHECK(!strcmp(want, got), "%d pseudo-random bytes: %s equals sha256sum",
			      BIG - 3, got);
			of3_sha256_t ctx;
			uint8_t d[OF3_SHA256_BYTES];
			of3_sha256_init(&ctx);
			for (size_t off = 0; off < BIG - 3; off += 65537)
				of3_sha256_update(&ctx, data + off,
				                  BIG - 3 - off < 65537 ? BIG - 3 - off : 65537);
			of3_sha256_final(&ctx, d);
			of3_sha256_hex(d, got);
			CHECK(!strcmp(want, got), "the same in pieces of 65537 bytes");
		} else {
			CHECK(0, "write and sha256sum %s", path);
		}
	}
	unlink(path);
	rmdir(tmpdir);
	free(data);
}

int main(void)
{
	test_nist();
	test_incremental();
	test_against_sha256sum();
	return check_summary();
}
