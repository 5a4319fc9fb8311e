/* bundle_tool.c: writes and reads test streams for tests/run.sh and bench/:
 *   sample              a fixed two-bundle stream that tests/format_reader.py checks
 *   valid [KIND]        a small valid bundle of that kind (default features); run.sh
 *                       truncates it at every byte
 *   corrupt NAME        a crafted corrupt stream; `corrupt list` names them all
 *   write-big BYTES     one f32 tensor of BYTES bytes, byte i = i mod 251, streamed in pieces
 *   read-big [FILE|-] [--no-check]
 *                       loads the whole bundle into memory (straight into the tensor's buffer)
 *                       and checks the pattern; prints bytes and seconds
 *   edit IN OUT [--nan TENSOR] [--take TENSOR FROM]
 *                       copies the first bundle of IN to OUT with the first value of f32
 *                       TENSOR set to NaN, or TENSOR replaced by FROM's tensor of that name
 *                       (bad inputs for the stages: NaN, outputs of another query)
 * Streams go to stdout. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/bundle.h"

static msgpack_sbuffer sb;
static msgpack_packer pk;

static void str(const char *s)
{
	msgpack_pack_str(&pk, strlen(s));
	msgpack_pack_str_body(&pk, s, strlen(s));
}

static int flush_sb(void)
{
	int ok = (sb.size == 0 || fwrite(sb.data, 1, sb.size, stdout) == sb.size) &&
	         fflush(stdout) == 0;
	msgpack_sbuffer_clear(&sb);
	return ok ? 0 : 1;
}

/* ---- sample ---- */

static int put(of3_bundle_t *b, const char *name, of3_dtype_t dt, int ndim, const int64_t *shape,
               const void *data)
{
	of3_tensor_t *t;
	int rc = of3_bundle_add_tensor(b, name, dt, ndim, shape, 1, &t);
	if (rc == 0 && t->nbytes && data)
		memcpy(t->data, data, t->nbytes);
	return rc;
}

static int sample(void)
{
	of3_bundle_t *a = of3_bundle_init("features", "sample-1"),
	             *b = of3_bundle_init("trunk", "sample-2");
	float arange[24], big[1000], scalar = 3.25f;
	double halves[5];
	for (int i = 0; i < 24; i++)
		arange[i] = (float)i;
	for (int i = 0; i < 1000; i++)
		big[i] = (float)i;
	for (int i = 0; i < 5; i++)
		halves[i] = 0.5 * i;
	uint16_t bf16[3] = {0x3f80, 0x3f80, 0x3f80}, f16[2] = {0x3800, 0xc000};
	int64_t i64[4] = {-(INT64_C(2) << 40), -(INT64_C(1) << 40), 0, INT64_C(1) << 40};
	int32_t i32[4] = {1, 2, 3, 4};
	uint8_t u8[3] = {0, 1, 1};
	int64_t s234[3] = {2, 3, 4}, s5[1] = {5}, s3[1] = {3}, s2[1] = {2}, s4[1] = {4},
	        s22[2] = {2, 2}, s03[2] = {0, 3}, s1000[1] = {1000};
	const char *names[3] = {"N", "CA", "C"};
	msgpack_object items[3], arr = {.type = MSGPACK_OBJECT_ARRAY};
	for (int i = 0; i < 3; i++) {
		items[i].type = MSGPACK_OBJECT_STR;
		items[i].via.str.ptr = names[i];
		items[i].via.str.size = (uint32_t)strlen(names[i]);
	}
	arr.via.array.size = 3;
	arr.via.array.ptr = items;
	int rc = put(a, "arange_f32", OF3_DTYPE_F32, 3, s234, arange);
	rc |= put(a, "halves_f64", OF3_DTYPE_F64, 1, s5, halves);
	rc |= put(a, "ones_bf16", OF3_DTYPE_BF16, 1, s3, bf16);
	rc |= put(a, "half_f16", OF3_DTYPE_F16, 1, s2, f16);
	rc |= put(a, "ids_i64", OF3_DTYPE_I64, 1, s4, i64);
	rc |= put(a, "ids_i32", OF3_DTYPE_I32, 2, s22, i32);
	rc |= put(a, "mask_u8", OF3_DTYPE_U8, 1, s3, u8);
	rc |= put(a, "scalar", OF3_DTYPE_F32, 0, NULL, &scalar);
	rc |= put(a, "empty", OF3_DTYPE_F32, 2, s03, NULL);
	int64_t s200x100[2] = {200, 100};
	rc |= put(a, "zeros_f32", OF3_DTYPE_F32, 2, s200x100, NULL); /* written as "zeros" */
	rc |= of3_bundle_add_value(a, "atom_names", &arr);
	rc |= of3_bundle_add_str(a, "note", "hello");
	rc |= of3_bundle_meta_set_int(a, "seed", 42);
	rc |= put(b, "big", OF3_DTYPE_F32, 1, s1000, big);
	of3_bwriter_t *w;
	rc = rc ? rc : of3_bwriter_open(&w, "-");
	if (rc == 0) {
		rc = of3_bwriter_bundle(w, a);
		of3_bwriter_set_chunk_bytes(w, 1000); /* four chunks for "big" */
		rc = rc ? rc : of3_bwriter_bundle(w, b);
		rc = rc ? (of3_bwriter_abort(w), rc) : of3_bwriter_close(w);
	}
	of3_bundle_free(a);
	of3_bundle_free(b);
	if (rc)
		fprintf(stderr, "bundle_tool: %s\n", of3_errmsg());
	return rc ? 1 : 0;
}

/* ---- valid and corrupt streams, packed by hand ---- */

static const char *valid_kind = "features";

static void header(const char *magic, int version, int with_kind, int meta_is_map)
{
	msgpack_pack_map(&pk, 5 + (with_kind != 0));
	str("of3");
	str(magic);
	str("version");
	msgpack_pack_int(&pk, version);
	if (with_kind == 1) {
		str("kind");
		str(valid_kind);
	} else if (with_kind == 2) {
		str("kind");
		msgpack_pack_int(&pk, 5);
	}
	str("query");
	str("q1");
	str("producer");
	str("bundle_tool");
	str("meta");
	if (meta_is_map) {
		msgpack_pack_map(&pk, 1);
		str("seed");
		msgpack_pack_int(&pk, 42);
	} else {
		msgpack_pack_int(&pk, 1);
	}
}

static void tensor_record(const char *name, const char *dtype, int ndim, const int64_t *shape,
                          int64_t nbytes, int64_t chunks)
{
	msgpack_pack_map(&pk, 6);
	str("type");
	str("tensor");
	str("name");
	str(name);
	str("dtype");
	str(dtype);
	str("shape");
	msgpack_pack_array(&pk, (size_t)ndim);
	for (int i = 0; i < ndim; i++)
		msgpack_pack_int64(&pk, shape[i]);
	str("nbytes");
	msgpack_pack_int64(&pk, nbytes);
	str("chunks");
	msgpack_pack_int64(&pk, chunks);
}

static void chunk(size_t n, uint8_t fill)
{
	char buf[64];
	memset(buf, fill, sizeof buf);
	msgpack_pack_bin(&pk, n);
	msgpack_pack_bin_body(&pk, buf, n);
}

static void end_record(int64_t records)
{
	msgpack_pack_map(&pk, 2);
	str("type");
	str("end");
	str("records");
	msgpack_pack_int64(&pk, records);
}

/* A small valid bundle: header, f32 [2,3] in two chunks, a value, i32 [4], end. */
static void valid_body(void)
{
	int64_t s23[2] = {2, 3}, s4[1] = {4};
	header("bundle", 1, 1, 1);
	tensor_record("x", "f32", 2, s23, 24, 2);
	chunk(16, 1);
	chunk(8, 2);
	msgpack_pack_map(&pk, 3);
	str("type");
	str("value");
	str("name");
	str("names");
	str("value");
	msgpack_pack_array(&pk, 2);
	str("N");
	str("CA");
	tensor_record("y", "i32", 1, s4, 16, 1);
	chunk(16, 3);
	end_record(3);
}

static const char *corrupt_names[] = {"bad-magic",
                                      "no-magic",
                                      "not-a-map",
                                      "json-text",
                                      "byte-c1",
                                      "version-2",
                                      "no-kind",
                                      "kind-not-string",
                                      "meta-not-map",
                                      "unknown-dtype",
                                      "dtype-not-string",
                                      "shape-not-array",
                                      "negative-dim",
                                      "nine-dims",
                                      "nbytes-mismatch",
                                      "nbytes-negative",
                                      "chunks-zero",
                                      "chunks-too-many",
                                      "chunk-too-big",
                                      "chunk-missing",
                                      "chunk-extra",
                                      "chunk-empty",
                                      "duplicate-name",
                                      "empty-name",
                                      "unknown-record",
                                      "record-not-map",
                                      "end-count",
                                      "no-end",
                                      "value-missing",
                                      "huge-string",
                                      "trailing-garbage",
                                      "empty-stream",
                                      "zeros-with-chunks",
                                      "zeros-not-bool",
                                      NULL};

static int corrupt(const char *name)
{
	int64_t s23[2] = {2, 3}, s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	int64_t neg[2] = {2, -3};
	if (strcmp(name, "list") == 0) {
		for (int i = 0; corrupt_names[i]; i++)
			printf("%s\n", corrupt_names[i]);
		return 0;
	}
	if (!strcmp(name, "bad-magic")) {
		header("bundel", 1, 1, 1);
	} else if (!strcmp(name, "no-magic")) {
		msgpack_pack_map(&pk, 1);
		str("version");
		msgpack_pack_int(&pk, 1);
	} else if (!strcmp(name, "not-a-map")) {
		msgpack_pack_array(&pk, 0);
	} else if (!strcmp(name, "json-text")) {
		msgpack_sbuffer_write(&sb, "{\"queries\": {}}\n", 16);
	} else if (!strcmp(name, "byte-c1")) {
		msgpack_sbuffer_write(&sb, "\xc1\x00\x00", 3);
	} else if (!strcmp(name, "version-2")) {
		header("bundle", 2, 1, 1);
		end_record(0);
	} else if (!strcmp(name, "no-kind")) {
		header("bundle", 1, 0, 1);
		end_record(0);
	} else if (!strcmp(name, "kind-not-string")) {
		header("bundle", 1, 2, 1);
		end_record(0);
	} else if (!strcmp(name, "meta-not-map")) {
		header("bundle", 1, 1, 0);
		end_record(0);
	} else if (!strcmp(name, "unknown-dtype")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f8", 2, s23, 6, 1);
		chunk(6, 0);
		end_record(1);
	} else if (!strcmp(name, "dtype-not-string")) {
		header("bundle", 1, 1, 1);
		msgpack_pack_map(&pk, 6);
		str("type"), str("tensor"), str("name"), str("x"), str("dtype");
		msgpack_pack_int(&pk, 4);
		str("shape"), msgpack_pack_array(&pk, 0), str("nbytes"), msgpack_pack_int(&pk, 4);
		str("chunks"), msgpack_pack_int(&pk, 1), chunk(4, 0);
		end_record(1);
	} else if (!strcmp(name, "shape-not-array")) {
		header("bundle", 1, 1, 1);
		msgpack_pack_map(&pk, 6);
		str("type"), str("tensor"), str("name"), str("x"), str("dtype"), str("f32");
		str("shape"), str("2x3"), str("nbytes"), msgpack_pack_int(&pk, 24);
		str("chunks"), msgpack_pack_int(&pk, 1), chunk(24, 0);
		end_record(1);
	} else if (!strcmp(name, "negative-dim")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f32", 2, neg, 24, 1);
		chunk(24, 0);
		end_record(1);
	} else if (!strcmp(name, "nine-dims")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "u8", 9, s9, 1, 1);
		chunk(1, 0);
		end_record(1);
	} else if (!strcmp(name, "nbytes-mismatch")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f32", 2, s23, 20, 1);
		chunk(20, 0);
		end_record(1);
	} else if (!strcmp(name, "nbytes-negative")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f32", 2, s23, -24, 1);
		end_record(1);
	} else if (!strcmp(name, "chunks-zero")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f32", 2, s23, 24, 0);
		end_record(1);
	} else if (!strcmp(name, "chunks-too-many")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f32", 2, s23, 24, 3);
		chunk(24, 0);
		end_record(1);
	} else if (!strcmp(name, "chunk-too-big")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f32", 2, s23, 24, 1);
		chunk(30, 0);
		end_record(1);
	} else if (!strcmp(name, "chunk-missing")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f32", 2, s23, 24, 2);
		chunk(12, 0);
		end_record(1);
	} else if (!strcmp(name, "chunk-extra")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f32", 2, s23, 24, 1);
		chunk(24, 0);
		chunk(8, 0);
		end_record(1);
	} else if (!strcmp(name, "chunk-empty")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f32", 2, s23, 24, 2);
		chunk(0, 0);
		chunk(24, 0);
		end_record(1);
	} else if (!strcmp(name, "zeros-with-chunks") || !strcmp(name, "zeros-not-bool")) {
		header("bundle", 1, 1, 1);
		msgpack_pack_map(&pk, 7);
		str("type"), str("tensor"), str("name"), str("x"), str("dtype"), str("f32");
		str("shape"), msgpack_pack_array(&pk, 2), msgpack_pack_int(&pk, 2),
		        msgpack_pack_int(&pk, 3);
		str("nbytes"), msgpack_pack_int(&pk, 24), str("chunks");
		msgpack_pack_int(&pk, name[6] == 'w' ? 1 : 0);
		str("zeros");
		if (name[6] == 'w')
			msgpack_pack_true(&pk);
		else
			msgpack_pack_int(&pk, 1);
		if (name[6] == 'w')
			chunk(24, 0);
		end_record(1);
	} else if (!strcmp(name, "duplicate-name")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f32", 2, s23, 24, 1);
		chunk(24, 0);
		tensor_record("x", "f32", 2, s23, 24, 1);
		chunk(24, 0);
		end_record(2);
	} else if (!strcmp(name, "empty-name")) {
		header("bundle", 1, 1, 1);
		tensor_record("", "f32", 2, s23, 24, 1);
		chunk(24, 0);
		end_record(1);
	} else if (!strcmp(name, "unknown-record")) {
		header("bundle", 1, 1, 1);
		msgpack_pack_map(&pk, 2);
		str("type"), str("picture"), str("name"), str("x");
		end_record(1);
	} else if (!strcmp(name, "record-not-map")) {
		header("bundle", 1, 1, 1);
		msgpack_pack_int(&pk, 7);
		end_record(0);
	} else if (!strcmp(name, "end-count")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f32", 2, s23, 24, 1);
		chunk(24, 0);
		end_record(2);
	} else if (!strcmp(name, "no-end")) {
		header("bundle", 1, 1, 1);
		tensor_record("x", "f32", 2, s23, 24, 1);
		chunk(24, 0);
	} else if (!strcmp(name, "value-missing")) {
		header("bundle", 1, 1, 1);
		msgpack_pack_map(&pk, 2);
		str("type"), str("value"), str("name"), str("v");
		end_record(1);
	} else if (!strcmp(name, "huge-string")) {
		header("bundle", 1, 1, 1);
		msgpack_sbuffer_write(&sb, "\x81\xa4type\xdb\xff\xff\xff\xf0",
		                      11); /* 4 GiB string */
	} else if (!strcmp(name, "trailing-garbage")) {
		valid_body();
		msgpack_pack_int(&pk, 7);
	} else if (!strcmp(name, "empty-stream")) {
		/* nothing at all */
	} else {
		fprintf(stderr, "bundle_tool: unknown corrupt case '%s'\n", name);
		return 2;
	}
	return flush_sb();
}

/* ---- big tensors ---- */

#define PIECE (251u * 65536u) /* a multiple of the pattern period: every piece is the same */

static int write_big(const char *bytes_arg)
{
	char *end;
	unsigned long long nbytes = strtoull(bytes_arg, &end, 10);
	if (*end || nbytes % 4) {
		fprintf(stderr, "bundle_tool: write-big: BYTES must be a multiple of 4\n");
		return 2;
	}
	uint8_t *piece = malloc(PIECE);
	for (size_t i = 0; i < PIECE; i++)
		piece[i] = (uint8_t)(i % 251);
	of3_bundle_t *hdr = of3_bundle_init("fixture", "big");
	int64_t shape[1] = {(int64_t)(nbytes / 4)};
	of3_bwriter_t *w;
	int rc = of3_bwriter_open(&w, "-");
	rc = rc ? rc : of3_bwriter_begin(w, hdr);
	rc = rc ? rc : of3_bwriter_tensor_begin(w, "big", OF3_DTYPE_F32, 1, shape);
	for (unsigned long long at = 0; rc == 0 && at < nbytes; at += PIECE)
		rc = of3_bwriter_tensor_data(w, piece, nbytes - at < PIECE ? nbytes - at : PIECE);
	rc = rc ? rc : of3_bwriter_end(w);
	rc = rc ? (of3_bwriter_abort(w), rc) : of3_bwriter_close(w);
	if (rc)
		fprintf(stderr, "bundle_tool: %s\n", of3_errmsg());
	of3_bundle_free(hdr);
	free(piece);
	return rc ? 1 : 0;
}

static int read_big(const char *path, int check)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	of3_breader_t *r;
	of3_bundle_t *b = NULL;
	int rc = of3_breader_open(&r, path);
	rc = rc ? rc : of3_breader_next(r, &b);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc) {
		fprintf(stderr, "bundle_tool: %s\n", of3_errmsg());
		of3_breader_close(r);
		return 1;
	}
	const of3_tensor_t *t = of3_bundle_tensor(b, "big");
	size_t bad = t ? 0 : 1;
	for (size_t i = 0; check && t && i < t->nbytes; i++)
		bad += ((const uint8_t *)t->data)[i] != (uint8_t)(i % 251);
	double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
	printf("read %zu bytes in %.3f s (%.2f GB/s), %s\n", t ? t->nbytes : 0, s,
	       t ? (double)t->nbytes / s / 1e9 : 0.0,
	       !check ? "not checked"
	       : bad  ? "PATTERN MISMATCH"
	              : "pattern intact");
	of3_bundle_free(b);
	of3_breader_close(r);
	return bad ? 1 : 0;
}

/* ---- edit ---- */

static of3_bundle_t *read_first(const char *path)
{
	of3_breader_t *r = NULL;
	of3_bundle_t *b = NULL;
	if (of3_breader_open(&r, path) < 0 || of3_breader_next(r, &b) < 0 || !b)
		fprintf(stderr, "bundle_tool: %s: %s\n", path, of3_errmsg());
	of3_breader_close(r);
	return b;
}

static int edit(int argc, char **argv)
{
	of3_bundle_t *b = read_first(argv[2]), *from = NULL;
	const char *take = NULL;
	int rc = b ? 0 : 1;
	for (int i = 4; rc == 0 && i + 1 < argc; i += 2) {
		of3_tensor_t *t = of3_bundle_tensor(b, argv[i + 1]);
		if (!strcmp(argv[i], "--nan") && t && t->dtype == OF3_DTYPE_F32 &&
		    of3_tensor_numel(t) > 0) {
			((float *)t->data)[0] = NAN;
		} else if (!strcmp(argv[i], "--take") && t && !take && i + 2 < argc &&
		           (from = read_first(argv[i + 2])) &&
		           of3_bundle_tensor(from, argv[i + 1])) {
			take = argv[i + 1];
			i++;
		} else {
			fprintf(stderr, "bundle_tool: edit: cannot apply '%s %s'\n", argv[i],
			        argv[i + 1]);
			rc = 1;
		}
	}
	of3_bwriter_t *w = NULL;
	int wrc = rc ? 0 : of3_bwriter_open(&w, argv[3]);
	wrc = wrc ? wrc : of3_bwriter_begin(w, b);
	for (int i = 0; rc == 0 && wrc == 0 && i < b->n_tensors; i++) {
		const of3_tensor_t *t = &b->tensors[i];
		if (take && !strcmp(t->name, take))
			t = of3_bundle_tensor(from, take);
		wrc = of3_bwriter_tensor(w, t);
	}
	for (int i = 0; rc == 0 && wrc == 0 && i < b->n_values; i++)
		wrc = of3_bwriter_value(w, b->values[i].name, &b->values[i].value);
	wrc = rc || wrc ? wrc : of3_bwriter_end(w);
	if (rc == 0 && wrc == 0) {
		wrc = of3_bwriter_close(w); /* frees w either way */
		w = NULL;
	}
	of3_bwriter_abort(w);
	if (wrc) {
		fprintf(stderr, "bundle_tool: %s: %s\n", argv[3], of3_errmsg());
		rc = 1;
	}
	of3_bundle_free(b), of3_bundle_free(from);
	return rc;
}

int main(int argc, char **argv)
{
	of3_set_progname("bundle_tool");
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	int rc = 2;
	if (argc == 2 && !strcmp(argv[1], "sample"))
		rc = sample();
	else if ((argc == 2 || argc == 3) && !strcmp(argv[1], "valid")) {
		valid_kind = argc == 3 ? argv[2] : valid_kind;
		valid_body();
		rc = flush_sb();
	} else if (argc == 3 && !strcmp(argv[1], "corrupt"))
		rc = corrupt(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "write-big"))
		rc = write_big(argv[2]);
	else if ((argc == 3 || argc == 4) && !strcmp(argv[1], "read-big"))
		rc = read_big(argv[2], !(argc == 4 && !strcmp(argv[3], "--no-check")));
	else if (argc >= 4 && !strcmp(argv[1], "edit"))
		rc = edit(argc, argv);
	else
		fprintf(stderr, "usage: bundle_tool sample | valid [KIND] | corrupt NAME|list | "
		                "write-big BYTES | read-big FILE|- [--no-check] | edit IN OUT "
		                "[--nan TENSOR] [--take TENSOR FROM]\n");
	msgpack_sbuffer_destroy(&sb);
	return rc;
}
