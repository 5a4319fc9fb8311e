/* bundle.h: the of3 bundle, its reader and its writer (docs/FORMAT.md is the format).
 *
 * A bundle is a header (kind, query name, producer, a metadata map) plus named tensors and named
 * small values. Bundles travel as a msgpack stream; several may follow each other.
 *
 * Reading, two ways:
 *   - whole bundles: of3_breader_next() returns a bundle with every tensor's bytes in memory;
 *   - streaming: of3_breader_begin(), then of3_breader_record() until OF3_RECORD_END; after a
 *     tensor record the caller reads its bytes straight into a buffer of its own with
 *     of3_breader_tensor_read() (or skips them), so a large tensor is never copied twice.
 * Regular files are mmap'ed; pipes are read with read(2) straight into the destination.
 *
 * Writing: of3_bwriter_open() (a path is written under a temporary name and renamed by
 * of3_bwriter_close(); stdout is refused when it is a terminal), then per bundle
 * of3_bwriter_begin(), tensors and values, of3_bwriter_end(). Tensors may be written whole or
 * streamed in pieces (of3_bwriter_tensor_begin() + of3_bwriter_tensor_data()).
 *
 * Every function returning int returns OF3_OK (0) or a negative status from error.h with the
 * message in of3_errmsg(); malformed input is OF3_ERR_INPUT and the message names the byte. */
#ifndef OF3_BUNDLE_H
#define OF3_BUNDLE_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "error.h"

#define OF3_BUNDLE_VERSION 1
#define OF3_MAX_DIMS       8
#define OF3_CHUNK_BYTES    (64u << 20) /* bytes per bin chunk a writer emits */
#define OF3_RECORD_MAX     (16u << 20) /* largest header/record/value map a reader accepts */
#define OF3_TENSOR_ALIGN   64          /* alignment of tensor buffers the library allocates */

typedef struct {
	char *name;
	of3_dtype_t dtype;
	int ndim; /* 0..OF3_MAX_DIMS; 0-d holds one element */
	int64_t shape[OF3_MAX_DIMS];
	size_t nbytes; /* product of shape x element size */
	void *data;    /* nbytes, OF3_TENSOR_ALIGN-aligned, owned by the bundle;
	                  NULL while only described (streaming) */
	void *base;    /* what free() takes when it is not data (zeroed buffers), else NULL */
} of3_tensor_t;

typedef struct {
	char *name;
	msgpack_object value; /* lives in the bundle's zone */
} of3_value_t;

typedef struct {
	char *kind;          /* "assembly", "features", "trunk", "diffuse", "fixture", ... */
	char *query;         /* the query's name */
	char *producer;      /* program and version that wrote it ("" for a new bundle) */
	msgpack_object meta; /* a map, possibly empty; lives in zone */
	int n_tensors, m_tensors;
	of3_tensor_t *tensors;
	int n_values, m_values;
	of3_value_t *values;
	msgpack_zone *zone; /* owns meta and values */
} of3_bundle_t;

/* ---- the in-memory bundle ---- */

/* A new, empty bundle; NULL when out of memory. */
of3_bundle_t *of3_bundle_init(const char *kind, const char *query);
void of3_bundle_free(of3_bundle_t *b);

int64_t of3_tensor_numel(const of3_tensor_t *t);

/* A buffer for nbytes of tensor data, OF3_TENSOR_ALIGN-aligned (2 MiB-aligned and backed by huge
 * pages where possible when large), uninitialised; NULL when out of memory. Free with free(). */
void *of3_tensor_alloc(size_t nbytes);

/* Gives t a zeroed buffer for its nbytes (t->data, and t->base to free). Large buffers are
 * zeroed lazily by the kernel, so an all-zero tensor that is never written costs no memory
 * traffic (the empty template slots). */
int of3_tensor_alloc_zeroed(of3_tensor_t *t) OF3_WUR;

/* The tensor or value of that name, or NULL. */
of3_tensor_t *of3_bundle_tensor(const of3_bundle_t *b, const char *name);
const msgpack_object *of3_bundle_value(const of3_bundle_t *b, const char *name);

/* The data of tensor `name` when it has dtype and ndim dims equal to shape[] (OF3_DIM_ANY
 * entries match any size; every entry is written back with the tensor's size). Otherwise NULL
 * and *rc = OF3_ERR_INPUT with "<what>: tensor 'x' is missing" or "...: shape [12, 31],
 * expected [12, 32]". Does nothing once *rc is set, so a run of calls reports the first
 * problem. */
#define OF3_DIM_ANY (-1)
const void *of3_bundle_want(const of3_bundle_t *b, const char *what, const char *name,
                            of3_dtype_t dtype, int ndim, int64_t *shape, int *rc);

/* Whether a diffuse bundle carries the trunk bundle's tensor of this name (docs/FORMAT.md
 * "diffuse": everything but the trunk's large inputs and outputs: MSA, templates, ref_element,
 * ref_atom_name_chars, profile, s_input, s_trunk, z_trunk). */
int of3_diffuse_carries(const char *name);

/* Adds a tensor and allocates its zeroed buffer (data == NULL with alloc == 0: described only).
 * Fails on a duplicate or empty name, a bad shape, or no memory. */
int of3_bundle_add_tensor(of3_bundle_t *b, const char *name, of3_dtype_t dtype, int ndim,
                          const int64_t *shape, int alloc, of3_tensor_t **out) OF3_WUR;
/* Adds a zeroed tensor and returns its data, for code that fills many tensors in a row: does
 * nothing and returns NULL once *rc is negative, and sets *rc on failure. */
void *of3_bundle_new_tensor(of3_bundle_t *b, const char *name, of3_dtype_t dtype, int ndim,
                            const int64_t *shape, int *rc);

/* The value under a string key of a msgpack map, or NULL (also when map is not a map). */
const msgpack_object *of3_map_get(const msgpack_object *map, const char *key);

/* Adds a value (deep-copied into the bundle). */
int of3_bundle_add_value(of3_bundle_t *b, const char *name, const msgpack_object *value) OF3_WUR;
int of3_bundle_add_str(of3_bundle_t *b, const char *name, const char *s) OF3_WUR;

/* Metadata: lookup by key (NULL if absent), and setters that replace an existing key. */
const msgpack_object *of3_bundle_meta(const of3_bundle_t *b, const char *key);
int of3_bundle_meta_set(of3_bundle_t *b, const char *key, const msgpack_object *v) OF3_WUR;
int of3_bundle_meta_set_int(of3_bundle_t *b, const char *key, int64_t v) OF3_WUR;
int of3_bundle_meta_set_str(of3_bundle_t *b, const char *key, const char *s) OF3_WUR;
/* Copies every meta entry of `from` into `b`. */
int of3_bundle_meta_copy(of3_bundle_t *b, const of3_bundle_t *from) OF3_WUR;

/* Fails with OF3_ERR_INPUT unless b->kind is `kind` ("features bundle expected, got trunk"). */
int of3_bundle_expect_kind(const of3_bundle_t *b, const char *kind) OF3_WUR;

/* ---- reading ---- */

typedef struct of3_breader_t of3_breader_t;

enum { OF3_RECORD_TENSOR = 1, OF3_RECORD_VALUE = 2, OF3_RECORD_END = 3 };

/* Opens a path, or stdin for "-". The label in messages is the path ("stdin" for "-"). */
int of3_breader_open(of3_breader_t **r, const char *path) OF3_WUR;
/* Reads an already open descriptor (not closed by of3_breader_close). */
int of3_breader_open_fd(of3_breader_t **r, int fd, const char *label) OF3_WUR;
void of3_breader_close(of3_breader_t *r);

/* The next whole bundle: OF3_OK with *out set (free with of3_bundle_free), OF3_END at the clean
 * end of the stream, or an error. */
int of3_breader_next(of3_breader_t *r, of3_bundle_t **out) OF3_WUR;

/* Streaming. of3_breader_begin() reads a header into a new bundle (OF3_END at the clean end of
 * the stream). of3_breader_record() reads the next record into that bundle and returns its type
 * (> 0) or an error: a tensor is added described only (data NULL; *tensor points at it) and its
 * bytes must then be read in full or skipped before the next record. */
int of3_breader_begin(of3_breader_t *r, of3_bundle_t **out) OF3_WUR;
int of3_breader_record(of3_breader_t *r, of3_bundle_t *b, of3_tensor_t **tensor) OF3_WUR;
/* Reads the next n bytes of the current tensor's payload into dst. */
int of3_breader_tensor_read(of3_breader_t *r, void *dst, size_t n) OF3_WUR;
int of3_breader_tensor_skip(of3_breader_t *r) OF3_WUR;

/* Bytes consumed so far from the start of the stream. */
uint64_t of3_breader_offset(const of3_breader_t *r);

/* ---- writing ---- */

typedef struct of3_bwriter_t of3_bwriter_t;

/* Opens a path (written as "<path>.tmp.XXXXXX", renamed on close) or stdout for NULL or "-";
 * refuses stdout when it is a terminal (OF3_ERR_USAGE). */
int of3_bwriter_open(of3_bwriter_t **w, const char *path) OF3_WUR;
/* Writes to an open descriptor (not closed by the writer). */
int of3_bwriter_open_fd(of3_bwriter_t **w, int fd, const char *label) OF3_WUR;
/* Bytes per bin chunk (default OF3_CHUNK_BYTES); tests lower it to exercise chunking. */
void of3_bwriter_set_chunk_bytes(of3_bwriter_t *w, size_t chunk_bytes);
/* Flushes, checks that no bundle is left open, closes and renames into place. The writer is
 * freed either way; on failure the temporary file is removed. */
int of3_bwriter_close(of3_bwriter_t *w) OF3_WUR;
/* Removes the temporary file (nothing is left behind) and frees the writer. NULL is fine. */
void of3_bwriter_abort(of3_bwriter_t *w);

/* Starts a bundle with b's kind, query and meta; the producer is "<progname> <version>". */
int of3_bwriter_begin(of3_bwriter_t *w, const of3_bundle_t *b) OF3_WUR;
int of3_bwriter_tensor(of3_bwriter_t *w, const of3_tensor_t *t) OF3_WUR;
int of3_bwriter_tensor_begin(of3_bwriter_t *w, const char *name, of3_dtype_t dtype, int ndim,
                             const int64_t *shape) OF3_WUR;
int of3_bwriter_tensor_data(of3_bwriter_t *w, const void *data, size_t n) OF3_WUR;
/* A tensor whose bytes are all zero, written as its record alone ("zeros": true); readers hand
 * out zeros. of3_bwriter_tensor() does this by itself for large all-zero tensors. */
int of3_bwriter_tensor_zeros(of3_bwriter_t *w, const char *name, of3_dtype_t dtype, int ndim,
                             const int64_t *shape) OF3_WUR;
int of3_bwriter_value(of3_bwriter_t *w, const char *name, const msgpack_object *v) OF3_WUR;
int of3_bwriter_end(of3_bwriter_t *w) OF3_WUR;
/* begin + every tensor and value of b + end. */
int of3_bwriter_bundle(of3_bwriter_t *w, const of3_bundle_t *b) OF3_WUR;

#endif
