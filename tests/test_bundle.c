/* test_bundle.c: unit tests of the bundle library: round trips of every dtype and edge shape,
 * values and metadata, several bundles in one stream, chunking with a lowered chunk size,
 * reading from a pipe and from an mmap'ed file, streamed writes and reads, writer misuse, and
 * the half-precision conversions. Corrupt streams are tested at the command line (run.sh). */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/bundle.h"
#include "check.h"

static char tmpdir[] = "/tmp/of3-test-bundle-XXXXXX";

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static of3_tensor_t *add_random(of3_bundle_t *b, const char *name, of3_dtype_t dtype, int ndim,
                                const int64_t *shape, uint64_t seed)
{
	of3_tensor_t *t;
	if (of3_bundle_add_tensor(b, name, dtype, ndim, shape, 1, &t) < 0) {
		printf("# add_tensor %s: %s\n", name, of3_errmsg());
		exit(1);
	}
	for (size_t i = 0; i < t->nbytes; i++)
		((uint8_t *)t->data)[i] = (uint8_t)splitmix(&seed);
	return t;
}

static msgpack_object str_obj(const char *s)
{
	msgpack_object o = {.type = MSGPACK_OBJECT_STR};
	o.via.str.ptr = s;
	o.via.str.size = (uint32_t)strlen(s);
	return o;
}

/* Three bundles: every dtype, edge shapes, values and meta. */
static int make_bundles(of3_bundle_t **bs)
{
	static const int64_t s0[1] = {0}, s1[1] = {17}, s2[2] = {3, 5}, s5[5] = {2, 1, 3, 2, 2},
	                     s8[8] = {1, 2, 1, 2, 1, 2, 1, 3}, se[3] = {4, 0, 2},
	                     big[1] = {3 << 20};
	bs[0] = of3_bundle_init("features", "ubiquitin");
	bs[1] = of3_bundle_init("trunk", "query with spaces");
	bs[2] = of3_bundle_init("assembly", "");
	uint64_t seed = 1;
	for (int d = 0; d < OF3_DTYPE_COUNT; d++) {
		char name[32];
		snprintf(name, sizeof name, "scalar_%s", of3_dtype_name((of3_dtype_t)d));
		add_random(bs[0], name, (of3_dtype_t)d, 0, NULL, seed++);
		snprintf(name, sizeof name, "vec_%s", of3_dtype_name((of3_dtype_t)d));
		add_random(bs[0], name, (of3_dtype_t)d, 1, s1, seed++);
		snprintf(name, sizeof name, "mat_%s", of3_dtype_name((of3_dtype_t)d));
		add_random(bs[0], name, (of3_dtype_t)d, 2, s2, seed++);
		snprintf(name, sizeof name, "rank5_%s", of3_dtype_name((of3_dtype_t)d));
		add_random(bs[0], name, (of3_dtype_t)d, 5, s5, seed++);
	}
	add_random(bs[0], "empty", OF3_DTYPE_F32, 1, s0, seed++);
	add_random(bs[0], "empty_inner", OF3_DTYPE_I64, 3, se, seed++);
	add_random(bs[0], "rank8", OF3_DTYPE_BF16, 8, s8, seed++);
	/* large and all zero: written as a "zeros" record; and one that is zero but for a byte */
	static const int64_t zshape[2] = {300, 300};
	of3_tensor_t *z;
	if (of3_bundle_add_tensor(bs[0], "zeros_f32", OF3_DTYPE_F32, 2, zshape, 1, &z) == 0 &&
	    of3_bundle_add_tensor(bs[0], "almost_zeros", OF3_DTYPE_F32, 2, zshape, 1, &z) == 0)
		((uint8_t *)z->data)[z->nbytes - 1] = 1;
	/* 3 MiB: larger than the reader's buffer, so a pipe read goes straight into the tensor */
	add_random(bs[1], "large", OF3_DTYPE_U8, 1, big, seed++);
	const char *names[3] = {"N", "CA", "C"};
	msgpack_object arr = {.type = MSGPACK_OBJECT_ARRAY}, items[3];
	for (int i = 0; i < 3; i++)
		items[i] = str_obj(names[i]);
	arr.via.array.size = 3;
	arr.via.array.ptr = items;
	msgpack_object f = {.type = MSGPACK_OBJECT_FLOAT64};
	f.via.f64 = -2.5;
	int rc = of3_bundle_add_value(bs[1], "atom_names", &arr);
	rc |= of3_bundle_add_str(bs[1], "query_json", "{\"queries\": {}}");
	rc |= of3_bundle_add_value(bs[1], "temperature", &f);
	rc |= of3_bundle_meta_set_int(bs[0], "seed", 42);
	rc |= of3_bundle_meta_set_int(bs[0], "offset", -7);
	rc |= of3_bundle_meta_set_str(bs[0], "featurizer", "of3-b7940cb0");
	rc |= of3_bundle_meta_set_int(bs[0], "seed", 43); /* replaces */
	rc |= of3_bundle_meta_set(bs[1], "names", &arr);
	return rc;
}

static int same_bundle(const of3_bundle_t *a, const of3_bundle_t *b, char *why, size_t n)
{
	if (strcmp(a->kind, b->kind) || strcmp(a->query, b->query))
		return snprintf(why, n, "kind/query differ"), 0;
	if (!msgpack_object_equal(a->meta, b->meta))
		return snprintf(why, n, "meta differs"), 0;
	if (a->n_tensors != b->n_tensors || a->n_values != b->n_values)
		return snprintf(why, n, "counts differ"), 0;
	for (int i = 0; i < a->n_tensors; i++) {
		const of3_tensor_t *x = &a->tensors[i], *y = of3_bundle_tensor(b, x->name);
		if (!y || x->dtype != y->dtype || x->ndim != y->ndim || x->nbytes != y->nbytes ||
		    memcmp(x->shape, y->shape, sizeof(int64_t) * (size_t)x->ndim) ||
		    memcmp(x->data, y->data, x->nbytes))
			return snprintf(why, n, "tensor %s differs", x->name), 0;
		if ((uintptr_t)y->data % OF3_TENSOR_ALIGN)
			return snprintf(why, n, "tensor %s is not aligned", x->name), 0;
	}
	for (int i = 0; i < a->n_values; i++) {
		const msgpack_object *v = of3_bundle_value(b, a->values[i].name);
		if (!v || !msgpack_object_equal(*v, a->values[i].value))
			return snprintf(why, n, "value %s differs", a->values[i].name), 0;
	}
	return 1;
}

static int write_all(int fd, of3_bundle_t **bs, int n, size_t chunk)
{
	of3_bwriter_t *w;
	int rc = of3_bwriter_open_fd(&w, fd, "test");
	if (rc < 0)
		return rc;
	if (chunk)
		of3_bwriter_set_chunk_bytes(w, chunk);
	for (int i = 0; rc == 0 && i < n; i++)
		rc = of3_bwriter_bundle(w, bs[i]);
	int rc2 = of3_bwriter_close(w);
	return rc ? rc : rc2;
}

/* Reads every bundle from r and compares with bs; returns the number that matched, or -1. */
static int read_compare(of3_breader_t *r, of3_bundle_t **bs, int n, const char *how)
{
	int matched = 0;
	for (int i = 0; i <= n; i++) {
		of3_bundle_t *b = NULL;
		int rc = of3_breader_next(r, &b);
		if (i == n) {
			CHECK(rc == OF3_END, "%s: clean end of stream after %d bundles", how, n);
			break;
		}
		char why[128] = "";
		int ok = rc == OF3_OK && same_bundle(bs[i], b, why, sizeof why);
		CHECK(ok, "%s: bundle %d round trip %s%s", how, i, why, rc < 0 ? of3_errmsg() : "");
		matched += ok;
		of3_bundle_free(b);
	}
	return matched;
}

static void test_round_trips(void)
{
	of3_bundle_t *bs[3];
	CHECK(make_bundles(bs) == 0, "build test bundles");
	size_t chunks[] = {0, 7, 1000, 1 << 20};
	for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
		char how[64], path[128];
		/* through a file (mmap'ed by the reader) */
		snprintf(path, sizeof path, "%s/rt%zu.bundle", tmpdir, c);
		int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
		CHECK(fd >= 0 && write_all(fd, bs, 3, chunks[c]) == 0, "write file, chunk %zu",
		      chunks[c]);
		close(fd);
		of3_breader_t *r;
		snprintf(how, sizeof how, "mmap, chunk %zu", chunks[c]);
		if (of3_breader_open(&r, path) == 0) {
			read_compare(r, bs, 3, how);
			of3_breader_close(r);
		}
		/* through a pipe, written by a child process */
		int p[2];
		if (pipe(p) < 0)
			continue;
		pid_t pid = fork();
		if (pid == 0) {
			close(p[0]);
			_exit(write_all(p[1], bs, 3, chunks[c]) == 0 ? 0 : 1);
		}
		close(p[1]);
		snprintf(how, sizeof how, "pipe, chunk %zu", chunks[c]);
		if (of3_breader_open_fd(&r, p[0], "pipe") == 0) {
			read_compare(r, bs, 3, how);
			of3_breader_close(r);
		}
		close(p[0]);
		int status;
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: writer exit status", how);
	}
	for (int i = 0; i < 3; i++)
		of3_bundle_free(bs[i]);
}

/* A tensor written in odd pieces and read in other odd pieces arrives intact; the chunk count
 * in the record follows the chunk size. */
static void test_streaming(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/stream.bundle", tmpdir);
	const size_t n = 100003;
	uint8_t *src = malloc(n), *dst = malloc(n);
	uint64_t seed = 99;
	for (size_t i = 0; i < n; i++)
		src[i] = (uint8_t)splitmix(&seed);
	of3_bwriter_t *w;
	of3_bundle_t *hdr = of3_bundle_init("fixture", "stream");
	int64_t shape[1] = {(int64_t)n};
	int rc = of3_bwriter_open(&w, path);
	rc = rc ? rc : (of3_bwriter_set_chunk_bytes(w, 4096), of3_bwriter_begin(w, hdr));
	rc = rc ? rc : of3_bwriter_tensor_begin(w, "bytes", OF3_DTYPE_U8, 1, shape);
	for (size_t at = 0, piece = 1; rc == 0 && at < n; at += piece, piece = piece * 3 + 1) {
		if (piece > n - at)
			piece = n - at;
		rc = of3_bwriter_tensor_data(w, src + at, piece);
	}
	rc = rc ? rc : of3_bwriter_end(w);
	rc = rc ? rc : of3_bwriter_close(w);
	CHECK(rc == 0, "streamed write in uneven pieces %s", rc ? of3_errmsg() : "");
	of3_breader_t *r;
	of3_bundle_t *b = NULL;
	of3_tensor_t *t = NULL;
	rc = of3_breader_open(&r, path);
	rc = rc ? rc : of3_breader_begin(r, &b);
	int type = rc ? rc : of3_breader_record(r, b, &t);
	CHECK(type == OF3_RECORD_TENSOR && t && t->nbytes == n && t->data == NULL,
	      "streamed read: tensor described before its bytes");
	rc = type == OF3_RECORD_TENSOR ? 0 : -1;
	for (size_t at = 0, piece = 5; rc == 0 && at < n; at += piece, piece = piece * 2 + 3) {
		if (piece > n - at)
			piece = n - at;
		rc = of3_breader_tensor_read(r, dst + at, piece);
	}
	CHECK(rc == 0 && memcmp(src, dst, n) == 0, "streamed read in uneven pieces matches");
	CHECK(rc == 0 && of3_breader_record(r, b, &t) == OF3_RECORD_END, "end record follows");
	of3_bundle_t *none;
	CHECK(rc == 0 && of3_breader_begin(r, &none) == OF3_END, "then the end of the stream");
	of3_bundle_free(b);
	of3_breader_close(r);
	/* the record announced ceil(n / 4096) chunks */
	FILE *f = fopen(path, "rb");
	char buf[512];
	size_t k = f ? fread(buf, 1, sizeof buf, f) : 0;
	if (f)
		fclose(f);
	msgpack_unpacked up;
	msgpack_unpacked_init(&up);
	size_t off = 0;
	int ok = msgpack_unpack_next(&up, buf, k, &off) == MSGPACK_UNPACK_SUCCESS &&
	         msgpack_unpack_next(&up, buf, k, &off) == MSGPACK_UNPACK_SUCCESS;
	uint64_t chunks = 0;
	for (uint32_t i = 0; ok && i < up.data.via.map.size; i++) {
		msgpack_object_kv *kv = &up.data.via.map.ptr[i];
		if (kv->key.via.str.size == 6 && memcmp(kv->key.via.str.ptr, "chunks", 6) == 0)
			chunks = kv->val.via.u64;
	}
	CHECK(chunks == (n + 4095) / 4096, "record announces %llu chunks of 4096 bytes (want %zu)",
	      (unsigned long long)chunks, (n + 4095) / 4096);
	msgpack_unpacked_destroy(&up);
	of3_bundle_free(hdr);
	free(src);
	free(dst);
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int dir_is_clean(const char *needle)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "ls %s | grep -q '%s'", tmpdir, needle);
	return system(cmd) != 0;
}

/* The writer refuses misuse and leaves no file behind when a bundle is unfinished. */
static void test_writer_misuse(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/partial.bundle", tmpdir);
	of3_bundle_t *hdr = of3_bundle_init("features", "q");
	int64_t shape[1] = {4};
	float data[5] = {1, 2, 3, 4, 5};
	of3_bwriter_t *w;
	int rc = of3_bwriter_open(&w, path);
	CHECK(rc == 0 && !exists(path), "open: the final path does not exist yet");
	rc = of3_bwriter_tensor_begin(w, "x", OF3_DTYPE_F32, 1, shape);
	CHECK(rc < 0, "tensor outside a bundle is refused");
	rc = of3_bwriter_begin(w, hdr);
	rc = rc ? rc : of3_bwriter_tensor_begin(w, "x", OF3_DTYPE_F32, 1, shape);
	CHECK(rc == 0 && of3_bwriter_tensor_data(w, data, sizeof data) < 0,
	      "more bytes than the shape holds are refused");
	CHECK(of3_bwriter_tensor_data(w, data, 8) == 0 && of3_bwriter_end(w) < 0,
	      "ending a bundle inside a tensor is refused");
	CHECK(of3_bwriter_close(w) < 0 && !exists(path) && dir_is_clean("partial"),
	      "closing an unfinished bundle fails and leaves no file, not even a temporary one");
	rc = of3_bwriter_open(&w, path);
	rc = rc ? rc : of3_bwriter_begin(w, hdr);
	of3_bwriter_abort(w);
	CHECK(rc == 0 && !exists(path) && dir_is_clean("partial"), "abort leaves nothing");
	rc = of3_bwriter_open(&w, path);
	rc = rc ? rc : of3_bwriter_bundle(w, hdr);
	rc = rc ? rc : of3_bwriter_close(w);
	CHECK(rc == 0 && exists(path) && dir_is_clean("tmp"),
	      "a complete bundle is renamed into place");
	of3_tensor_t *t;
	CHECK(of3_bundle_add_tensor(hdr, "x", OF3_DTYPE_F32, 1, shape, 1, &t) == 0 &&
	              of3_bundle_add_tensor(hdr, "x", OF3_DTYPE_F32, 1, shape, 1, &t) ==
	                      OF3_ERR_INPUT,
	      "a duplicate tensor name is refused");
	CHECK(of3_bundle_add_str(hdr, "x", "v") == OF3_ERR_INPUT,
	      "a value may not take a tensor's name");
	int64_t neg[1] = {-1};
	CHECK(of3_bundle_add_tensor(hdr, "y", OF3_DTYPE_F32, 1, neg, 1, &t) == OF3_ERR_INPUT,
	      "a negative dimension is refused");
	CHECK(of3_bundle_add_tensor(hdr, "z", OF3_DTYPE_F32, 9, shape, 1, &t) == OF3_ERR_INPUT,
	      "nine dimensions are refused");
	of3_bundle_free(hdr);
}

static void test_meta_and_kind(void)
{
	of3_bundle_t *a = of3_bundle_init("features", "q"), *b = of3_bundle_init("trunk", "q");
	int rc = of3_bundle_meta_set_int(a, "seed", 7);
	rc |= of3_bundle_meta_set_str(a, "note", "x");
	rc |= of3_bundle_meta_copy(b, a);
	rc |= of3_bundle_meta_set_int(b, "seed", 8);
	const msgpack_object *s = of3_bundle_meta(b, "seed"), *n = of3_bundle_meta(b, "note");
	CHECK(rc == 0 && s && s->via.u64 == 8 && n && n->via.str.size == 1 &&
	              b->meta.via.map.size == 2 && of3_bundle_meta(a, "seed")->via.u64 == 7,
	      "meta copy, then replace, leaves the source alone");
	CHECK(of3_bundle_expect_kind(a, "features") == 0 &&
	              of3_bundle_expect_kind(b, "assembly") == OF3_ERR_INPUT &&
	              strstr(of3_errmsg(), "expected an assembly bundle, got a trunk bundle"),
	      "kind check names both kinds: %s", of3_errmsg());
	of3_bundle_free(a);
	of3_bundle_free(b);
}

/* An all-zero tensor costs its record alone in the stream. */
static void test_zeros_size(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/zeros.bundle", tmpdir);
	of3_bundle_t *b = of3_bundle_init("features", "z");
	int64_t shape[3] = {4, 500, 500};
	of3_tensor_t *t;
	of3_bwriter_t *w;
	int rc = of3_bundle_add_tensor(b, "template_distogram", OF3_DTYPE_F32, 3, shape, 1, &t);
	rc = rc ? rc : of3_bwriter_open(&w, path);
	rc = rc ? rc : of3_bwriter_bundle(w, b);
	rc = rc ? rc : of3_bwriter_close(w);
	FILE *f = fopen(path, "rb");
	long size = -1;
	if (f && fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (f)
		fclose(f);
	CHECK(rc == 0 && size > 0 && size < 400, "a 4 MB all-zero tensor takes %ld bytes", size);
	of3_bundle_free(b);
}

static void test_half(void)
{
	/* reference bit patterns from IEEE 754 binary16 and bfloat16 definitions */
	CHECK(of3_f32_to_f16(1.0f) == 0x3c00 && of3_f32_to_f16(-2.0f) == 0xc000 &&
	              of3_f32_to_f16(65504.0f) == 0x7bff && of3_f32_to_f16(65520.0f) == 0x7c00 &&
	              of3_f32_to_f16(5.9604645e-8f) == 0x0001 && of3_f32_to_f16(1e-9f) == 0x0000,
	      "f32 -> f16 known values");
	CHECK(of3_f16_to_f32(0x3555) == 0.333251953125f &&
	              of3_f16_to_f32(0x0001) == 5.9604645e-8f && isinf(of3_f16_to_f32(0xfc00)) &&
	              isnan(of3_f16_to_f32(0x7e00)),
	      "f16 -> f32 known values");
	int bad = 0;
	for (uint32_t h = 0; h < 65536; h++) {
		float f = of3_f16_to_f32((uint16_t)h);
		if (!isnan(f) && of3_f32_to_f16(f) != h)
			bad++;
	}
	CHECK(bad == 0, "every non-NaN f16 survives f16 -> f32 -> f16 (%d differ)", bad);
	CHECK(of3_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00 &&
	              of3_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02,
	      "f16 rounds half to even");
	CHECK(of3_f32_to_bf16(1.0f) == 0x3f80 && of3_f32_to_bf16(1.00390625f) == 0x3f80 &&
	              of3_f32_to_bf16(1.01171875f) == 0x3f82 && of3_bf16_to_f32(0xc040) == -3.0f &&
	              isnan(of3_bf16_to_f32(of3_f32_to_bf16(NAN))),
	      "bf16 known values, half to even, NaN stays NaN");
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_round_trips();
	test_streaming();
	test_writer_misuse();
	test_meta_and_kind();
	test_zeros_size();
	test_half();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return check_summary();
}
