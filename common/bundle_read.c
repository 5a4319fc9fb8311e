/* bundle_read.c: reading bundles (docs/FORMAT.md) from a pipe or an mmap'ed file.
 *
 * Headers and records are small msgpack maps: a scanner finds where each one ends without
 * allocating (so a corrupt length cannot make msgpack-c reserve gigabytes), then msgpack-c decodes
 * it. Tensor payloads bypass the buffer: bytes already buffered are copied, the rest is read(2)
 * straight into the caller's destination. Every error names the byte offset; after one, the
 * reader refuses to go on. */
#define _GNU_SOURCE
#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_BUF_BYTES  (1u << 20)
#define PREAD_MIN_BYTES (1u << 20) /* payload pieces this large bypass the mapping */

struct of3_breader_t {
	int fd, own_fd;
	char *label;
	const uint8_t *buf;   /* the mmap'ed file, or io_buf */
	uint8_t *io_buf;      /* read buffer (pipe mode) */
	size_t cap, pos, len; /* buffer capacity, read position, valid bytes */
	uint64_t base;        /* stream offset of buf[0] */
	int eof;              /* no more bytes will arrive beyond len */
	void *map;
	size_t map_len;
	msgpack_unpacked up;
	/* where we are */
	int in_bundle;
	int n_bundles; /* complete bundles read so far */
	int64_t n_records;
	char query[128];
	char last[300];       /* "tensor 'x'": the last complete record, for truncation messages */
	of3_tensor_t *tensor; /* the tensor whose payload comes next */
	uint64_t tensor_left, chunks_left, chunk_left;
	int zeros; /* the current tensor is all zeros, none of it in the stream */
	int failed;
};

uint64_t of3_breader_offset(const of3_breader_t *r)
{
	return r->base + r->pos;
}

/* Records "<label>: byte <at>: <message>" and makes the reader refuse further calls. */
static int bad(of3_breader_t *r, uint64_t at, const char *fmt, ...) OF3_PRINTF(3, 4);
static int bad(of3_breader_t *r, uint64_t at, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->failed = 1;
	return of3_err(OF3_ERR_INPUT, "%s: byte %llu: %s", r->label, (unsigned long long)at, msg);
}

static int sys_fail(of3_breader_t *r)
{
	r->failed = 1;
	return of3_err(OF3_ERR_SYS, "reading %s", r->label);
}

/* ---- opening ---- */

static int open_common(of3_breader_t **rp, int fd, int own_fd, const char *label)
{
	of3_breader_t *r = calloc(1, sizeof *r);
	if (!r || !(r->label = strdup(label))) {
		free(r);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	r->fd = fd;
	r->own_fd = own_fd;
	msgpack_unpacked_init(&r->up);
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
			r->map = map;
			r->map_len = (size_t)st.st_size;
			r->buf = map;
			r->cap = r->len = r->map_len;
			r->eof = 1;
		}
	}
	if (!r->map) {
		r->io_buf = malloc(READ_BUF_BYTES);
		if (!r->io_buf) {
			of3_breader_close(r);
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		}
		r->buf = r->io_buf;
		r->cap = READ_BUF_BYTES;
		fcntl(fd, F_SETPIPE_SZ, 1 << 20); /* best effort, see bundle_write.c */
	}
	*rp = r;
	return OF3_OK;
}

int of3_breader_open(of3_breader_t **rp, const char *path)
{
	if (strcmp(path, "-") == 0)
		return open_common(rp, STDIN_FILENO, 0, "stdin");
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return of3_err(errno == ENOENT || errno == EISDIR ? OF3_ERR_INPUT : OF3_ERR_SYS,
		               "cannot open %s: %s", path, strerror(errno));
	int rc = open_common(rp, fd, 1, path);
	if (rc < 0)
		close(fd);
	return rc;
}

int of3_breader_open_fd(of3_breader_t **rp, int fd, const char *label)
{
	return open_common(rp, fd, 0, label);
}

void of3_breader_close(of3_breader_t *r)
{
	if (!r)
		return;
	if (r->map)
		munmap(r->map, r->map_len);
	if (r->own_fd)
		close(r->fd);
	msgpack_unpacked_destroy(&r->up);
	free(r->io_buf);
	free(r->label);
	free(r);
}

/* ---- buffered bytes ---- */

/* Reads more bytes into the buffer, growing it up to OF3_RECORD_MAX when it is full.
 * Returns the number of new bytes (0 at end of stream) or an error. */
static int64_t refill(of3_breader_t *r)
{
	if (r->eof)
		return 0;
	if (r->pos > 0) {
		memmove(r->io_buf, r->io_buf + r->pos, r->len - r->pos);
		r->base += r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->len == r->cap) {
		if (r->cap >= OF3_RECORD_MAX + 64)
			return 0; /* caller reports the oversized record */
		size_t cap = r->cap * 2 > OF3_RECORD_MAX + 64 ? OF3_RECORD_MAX + 64 : r->cap * 2;
		uint8_t *p = realloc(r->io_buf, cap);
		if (!p)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		r->io_buf = p;
		r->buf = p;
		r->cap = cap;
	}
	for (;;) {
		ssize_t k = read(r->fd, r->io_buf + r->len, r->cap - r->len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return sys_fail(r);
		if (k == 0)
			r->eof = 1;
		r->len += (size_t)k;
		return k;
	}
}

/* Where the msgpack value at p ends: 1 with *size set, 0 if more bytes are needed, -1 if the
 * bytes are not msgpack. Walks headers only; never allocates. */
static int msgpack_extent(const uint8_t *p, size_t n, size_t *size)
{
	size_t i = 0;
	uint64_t pending = 1; /* values still to walk over */
	while (pending > 0) {
		if (i >= n)
			return 0;
		uint8_t c = p[i++];
		pending--;
		uint64_t skip = 0; /* payload bytes */
		int lenbytes = 0;  /* size of a big-endian length/count field */
		int kind = 0;      /* 0: length is bytes, 1: array count, 2: map count */
		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
			continue;
		if (c <= 0x8f) {
			pending += 2u * (c & 0x0fu);
			continue;
		}
		if (c <= 0x9f) {
			pending += c & 0x0fu;
			continue;
		}
		if (c <= 0xbf) {
			skip = c & 0x1fu;
		} else {
			switch (c) {
			case 0xc4:
			case 0xd9: lenbytes = 1; break;
			case 0xc5:
			case 0xda: lenbytes = 2; break;
			case 0xc6:
			case 0xdb: lenbytes = 4; break;
			case 0xc7:
				lenbytes = 1;
				skip = 1;
				break; /* ext: one type byte */
			case 0xc8:
				lenbytes = 2;
				skip = 1;
				break;
			case 0xc9:
				lenbytes = 4;
				skip = 1;
				break;
			case 0xca: skip = 4; break;
			case 0xcb: skip = 8; break;
			case 0xcc:
			case 0xd0: skip = 1; break;
			case 0xcd:
			case 0xd1: skip = 2; break;
			case 0xce:
			case 0xd2: skip = 4; break;
			case 0xcf:
			case 0xd3: skip = 8; break;
			case 0xd4: skip = 2; break;
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc:
				lenbytes = 2;
				kind = 1;
				break;
			case 0xdd:
				lenbytes = 4;
				kind = 1;
				break;
			case 0xde:
				lenbytes = 2;
				kind = 2;
				break;
			case 0xdf:
				lenbytes = 4;
				kind = 2;
				break;
			default: return -1; /* 0xc1 is never used */
			}
		}
		if (lenbytes) {
			if (n - i < (size_t)lenbytes)
				return 0;
			uint64_t v = 0;
			for (int k = 0; k < lenbytes; k++)
				v = v << 8 | p[i++];
			if (kind == 1)
				pending += v;
			else if (kind == 2)
				pending += 2 * v;
			else
				skip += v;
		}
		if (skip > n - i)
			return 0;
		i += (size_t)skip;
	}
	*size = i;
	return 1;
}

/* "an integer", "a string", ...: the type of a value, for messages. */
static const char *a_type(msgpack_object_type t)
{
	switch (t) {
	case MSGPACK_OBJECT_NIL: return "a nil";
	case MSGPACK_OBJECT_BOOLEAN: return "a boolean";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "an integer";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return "a float";
	case MSGPACK_OBJECT_STR: return "a string";
	case MSGPACK_OBJECT_ARRAY: return "an array";
	case MSGPACK_OBJECT_MAP: return "a map";
	case MSGPACK_OBJECT_BIN: return "a bin";
	case MSGPACK_OBJECT_EXT: return "an ext";
	}
	return "an unknown value";
}

/* Decodes the next msgpack value. OF3_END if the stream ends cleanly before it (allowed only
 * where a bundle may start); `what` names it for messages. */
static int next_object(of3_breader_t *r, const msgpack_object **obj, const char *what, int end_ok)
{
	for (;;) {
		size_t size;
		int ext = msgpack_extent(r->buf + r->pos, r->len - r->pos, &size);
		if (ext < 0)
			return bad(r, of3_breader_offset(r), "%s: not msgpack data (byte 0xc1)",
			           what);
		if (ext > 0) {
			if (size > OF3_RECORD_MAX)
				return bad(r, of3_breader_offset(r),
				           "%s is %zu bytes, more than the %u a record may have",
				           what, size, OF3_RECORD_MAX);
			size_t off = 0;
			int rc = msgpack_unpack_next(&r->up, (const char *)r->buf + r->pos, size,
			                             &off);
			if (rc == MSGPACK_UNPACK_NOMEM_ERROR)
				return of3_err(OF3_ERR_NOMEM, "out of memory");
			if (rc != MSGPACK_UNPACK_SUCCESS || off != size)
				return bad(r, of3_breader_offset(r), "%s: malformed msgpack", what);
			r->pos += size;
			*obj = &r->up.data;
			return OF3_OK;
		}
		size_t have = r->len - r->pos;
		int64_t got = refill(r);
		if (got < 0)
			return (int)got;
		if (got == 0) {
			if (have == 0 && end_ok)
				return OF3_END;
			if (r->len - r->pos >= OF3_RECORD_MAX)
				return bad(r, of3_breader_offset(r),
				           "%s is larger than the %u bytes a record "
				           "may have (a corrupt length?)",
				           what, OF3_RECORD_MAX);
			if (have == 0)
				return bad(r, of3_breader_offset(r),
				           "truncated: the stream ends where %s "
				           "should begin%s%s",
				           what, r->last[0] ? ", after " : "", r->last);
			return bad(r, of3_breader_offset(r),
			           "truncated: the stream ends inside %s%s%s", what,
			           r->last[0] ? " after " : "", r->last);
		}
	}
}

/* ---- map fields ---- */

/* Copies a string field into out (size cap); fails if missing, not a string, or too long. */
static int str_field(of3_breader_t *r, uint64_t at, const msgpack_object *map, const char *key,
                     const char *what, char *out, size_t cap)
{
	const msgpack_object *v = of3_map_get(map, key);
	if (!v)
		return bad(r, at, "%s has no \"%s\"", what, key);
	if (v->type != MSGPACK_OBJECT_STR)
		return bad(r, at, "%s: \"%s\" is %s, not a string", what, key, a_type(v->type));
	if (v->via.str.size >= cap)
		return bad(r, at, "%s: \"%s\" is longer than %zu bytes", what, key, cap - 1);
	memcpy(out, v->via.str.ptr, v->via.str.size);
	out[v->via.str.size] = 0;
	if (strlen(out) != v->via.str.size)
		return bad(r, at, "%s: \"%s\" contains a NUL byte", what, key);
	return OF3_OK;
}

static int uint_field(of3_breader_t *r, uint64_t at, const msgpack_object *map, const char *key,
                      const char *what, uint64_t *out)
{
	const msgpack_object *v = of3_map_get(map, key);
	if (!v)
		return bad(r, at, "%s has no \"%s\"", what, key);
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return bad(r, at, "%s: \"%s\" must be a non-negative integer, not %s", what, key,
		           v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? "a negative one"
		                                                      : a_type(v->type));
	*out = v->via.u64;
	return OF3_OK;
}

/* ---- bundles and records ---- */

static int read_header(of3_breader_t *r, of3_bundle_t **out)
{
	uint64_t at = of3_breader_offset(r);
	const msgpack_object *h;
	r->last[0] = 0;
	int rc = next_object(r, &h, "the bundle header", 1);
	if (rc < 0)
		return rc;
	if (h->type != MSGPACK_OBJECT_MAP) {
		int json = r->buf[at - r->base] == '{' || r->buf[at - r->base] == '[';
		if (r->n_bundles > 0)
			return bad(r, at,
			           "after %d complete bundle%s: found %s where the next bundle's "
			           "header "
			           "should be (trailing garbage?)",
			           r->n_bundles, r->n_bundles == 1 ? "" : "s", a_type(h->type));
		return bad(r, at,
		           "not an of3 bundle: found msgpack data (%s) where the header map should "
		           "be%s",
		           a_type(h->type),
		           json ? "; a JSON file? of3-parse turns queries into "
		                  "bundles"
		                : "");
	}
	const msgpack_object *magic = of3_map_get(h, "of3");
	if (!magic || magic->type != MSGPACK_OBJECT_STR || magic->via.str.size != 6 ||
	    memcmp(magic->via.str.ptr, "bundle", 6) != 0)
		return bad(r, at, "not an of3 bundle: the header map lacks \"of3\": \"bundle\"");
	uint64_t version;
	if ((rc = uint_field(r, at, h, "version", "bundle header", &version)) < 0)
		return rc;
	if (version != OF3_BUNDLE_VERSION)
		return bad(r, at,
		           "bundle format version %llu; this program reads version %d (a newer of3 "
		           "wrote it?)",
		           (unsigned long long)version, OF3_BUNDLE_VERSION);
	char kind[64], producer[128];
	if ((rc = str_field(r, at, h, "kind", "bundle header", kind, sizeof kind)) < 0 ||
	    (rc = str_field(r, at, h, "query", "bundle header", r->query, sizeof r->query)) < 0)
		return rc;
	producer[0] = 0;
	if (of3_map_get(h, "producer") &&
	    (rc = str_field(r, at, h, "producer", "bundle header", producer, sizeof producer)) < 0)
		return rc;
	const msgpack_object *meta = of3_map_get(h, "meta");
	if (meta && meta->type != MSGPACK_OBJECT_MAP)
		return bad(r, at, "bundle header: \"meta\" is %s, not a map", a_type(meta->type));
	of3_bundle_t *b = of3_bundle_init(kind, r->query);
	if (!b || !(free(b->producer), b->producer = strdup(producer))) {
		of3_bundle_free(b);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	for (uint32_t i = 0; meta && i < meta->via.map.size; i++) {
		const msgpack_object_kv *kv = &meta->via.map.ptr[i];
		char key[256];
		if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size >= sizeof key) {
			of3_bundle_free(b);
			return bad(r, at,
			           "bundle header: a \"meta\" key is not a string of at most 255 "
			           "bytes");
		}
		memcpy(key, kv->key.via.str.ptr, kv->key.via.str.size);
		key[kv->key.via.str.size] = 0;
		if ((rc = of3_bundle_meta_set(b, key, &kv->val)) < 0) {
			of3_bundle_free(b);
			return rc;
		}
	}
	r->in_bundle = 1;
	r->n_records = 0;
	*out = b;
	return OF3_OK;
}

int of3_breader_begin(of3_breader_t *r, of3_bundle_t **out)
{
	if (r->failed)
		return of3_err(OF3_ERR_INPUT, "%s: unreadable after an earlier error", r->label);
	if (r->in_bundle)
		return of3_err(OF3_ERR_RUNTIME, "%s: the previous bundle was not read to its end",
		               r->label);
	return read_header(r, out);
}

static int tensor_record(of3_breader_t *r, uint64_t at, const msgpack_object *rec, of3_bundle_t *b,
                         of3_tensor_t **tensor)
{
	char name[256], dtype_name[16], what[300];
	int rc = str_field(r, at, rec, "name", "tensor record", name, sizeof name);
	if (rc < 0)
		return rc;
	snprintf(what, sizeof what, "tensor '%s'", name);
	if ((rc = str_field(r, at, rec, "dtype", what, dtype_name, sizeof dtype_name)) < 0)
		return rc;
	of3_dtype_t dtype;
	if (of3_dtype_parse(dtype_name, strlen(dtype_name), &dtype) < 0)
		return bad(
		        r, at,
		        "%s: unknown dtype \"%s\" (expected f64, f32, f16, bf16, i64, i32 or u8)",
		        what, dtype_name);
	const msgpack_object *shape = of3_map_get(rec, "shape");
	if (!shape || shape->type != MSGPACK_OBJECT_ARRAY)
		return bad(r, at, "%s: \"shape\" is missing or not an array", what);
	if (shape->via.array.size > OF3_MAX_DIMS)
		return bad(r, at, "%s: %u dimensions, at most %d are allowed", what,
		           shape->via.array.size, OF3_MAX_DIMS);
	int64_t dims[OF3_MAX_DIMS];
	int ndim = (int)shape->via.array.size;
	for (int i = 0; i < ndim; i++) {
		const msgpack_object *d = &shape->via.array.ptr[i];
		if (d->type != MSGPACK_OBJECT_POSITIVE_INTEGER || d->via.u64 > (UINT64_C(1) << 62))
			return bad(r, at, "%s: dimension %d is not a non-negative integer", what,
			           i);
		dims[i] = (int64_t)d->via.u64;
	}
	uint64_t nbytes, chunks;
	if ((rc = uint_field(r, at, rec, "nbytes", what, &nbytes)) < 0 ||
	    (rc = uint_field(r, at, rec, "chunks", what, &chunks)) < 0)
		return rc;
	of3_tensor_t *t;
	if ((rc = of3_bundle_add_tensor(b, name, dtype, ndim, dims, 0, &t)) < 0)
		return bad(r, at, "%s", of3_errmsg());
	if (t->nbytes != nbytes) {
		char s[160];
		int n = 0;
		for (int i = 0; i < ndim; i++)
			n += snprintf(s + n, sizeof s - (size_t)n, "%s%lld", i ? ", " : "",
			              (long long)dims[i]);
		s[n] = 0;
		uint64_t want = t->nbytes;
		b->n_tensors--;
		free(t->name);
		return bad(r, at, "%s: \"nbytes\" is %llu but shape [%s] of %s needs %llu", what,
		           (unsigned long long)nbytes, s, dtype_name, (unsigned long long)want);
	}
	/* "zeros": true stands for nbytes zero bytes that are not in the stream */
	const msgpack_object *zeros = of3_map_get(rec, "zeros");
	int is_zeros = zeros && zeros->type == MSGPACK_OBJECT_BOOLEAN && zeros->via.boolean;
	if (zeros && (zeros->type != MSGPACK_OBJECT_BOOLEAN || (is_zeros && chunks != 0))) {
		b->n_tensors--;
		free(t->name);
		return bad(r, at,
		           "%s: \"zeros\" must be true or false, and a zeros tensor has no "
		           "chunks",
		           what);
	}
	if (!is_zeros && ((nbytes == 0) != (chunks == 0) || chunks > nbytes)) {
		b->n_tensors--;
		free(t->name);
		return bad(r, at, "%s: %llu chunks cannot hold %llu bytes", what,
		           (unsigned long long)chunks, (unsigned long long)nbytes);
	}
	if (!is_zeros && r->map && nbytes > r->len - r->pos) {
		b->n_tensors--;
		free(t->name);
		return bad(r, at, "truncated: %s needs %llu bytes, the file has %zu left", what,
		           (unsigned long long)nbytes, r->len - r->pos);
	}
	r->tensor = nbytes ? t : NULL;
	r->tensor_left = nbytes;
	r->zeros = is_zeros;
	r->chunks_left = chunks;
	r->chunk_left = 0;
	snprintf(r->last, sizeof r->last, "%s", what);
	*tensor = t;
	return OF3_RECORD_TENSOR;
}

int of3_breader_record(of3_breader_t *r, of3_bundle_t *b, of3_tensor_t **tensor)
{
	if (r->failed)
		return of3_err(OF3_ERR_INPUT, "%s: unreadable after an earlier error", r->label);
	if (!r->in_bundle)
		return of3_err(OF3_ERR_RUNTIME, "%s: no bundle is open", r->label);
	if (r->tensor)
		return of3_err(OF3_ERR_RUNTIME, "%s: the bytes of tensor '%s' were not read",
		               r->label, r->tensor->name);
	uint64_t at = of3_breader_offset(r);
	const msgpack_object *rec;
	char what[200];
	snprintf(what, sizeof what, "record %lld of query '%s'", (long long)r->n_records + 1,
	         r->query);
	int rc = next_object(r, &rec, what, 0);
	if (rc < 0)
		return rc;
	if (rec->type != MSGPACK_OBJECT_MAP)
		return bad(r, at, "%s: expected a record map, found %s%s", what, a_type(rec->type),
		           rec->type == MSGPACK_OBJECT_BIN
		                   ? " (more chunks than the tensor record says?)"
		                   : "");
	char type[16];
	if ((rc = str_field(r, at, rec, "type", what, type, sizeof type)) < 0)
		return rc;
	if (strcmp(type, "end") == 0) {
		uint64_t n;
		if ((rc = uint_field(r, at, rec, "records", "end record", &n)) < 0)
			return rc;
		if (n != (uint64_t)r->n_records)
			return bad(r, at,
			           "query '%s': the end record counts %llu records, the bundle has "
			           "%lld (records lost?)",
			           r->query, (unsigned long long)n, (long long)r->n_records);
		r->in_bundle = 0;
		r->n_bundles++;
		return OF3_RECORD_END;
	}
	r->n_records++;
	if (strcmp(type, "tensor") == 0)
		return tensor_record(r, at, rec, b, tensor);
	if (strcmp(type, "value") == 0) {
		char name[256];
		if ((rc = str_field(r, at, rec, "name", "value record", name, sizeof name)) < 0)
			return rc;
		const msgpack_object *v = of3_map_get(rec, "value");
		if (!v)
			return bad(r, at, "value '%s' has no \"value\"", name);
		if ((rc = of3_bundle_add_value(b, name, v)) < 0)
			return rc == OF3_ERR_INPUT ? bad(r, at, "%s", of3_errmsg()) : rc;
		snprintf(r->last, sizeof r->last, "value '%s'", name);
		return OF3_RECORD_VALUE;
	}
	return bad(r, at, "%s: unknown record type \"%s\" (expected tensor, value or end)", what,
	           type);
}

/* Reads the bin header that opens the next chunk of the current tensor. */
static int chunk_header(of3_breader_t *r)
{
	const of3_tensor_t *t = r->tensor;
	uint64_t at = of3_breader_offset(r);
	if (r->chunks_left == 0)
		return bad(r, at, "tensor '%s': its chunks end %llu bytes short of \"nbytes\"",
		           t->name, (unsigned long long)r->tensor_left);
	while (r->len - r->pos < 5) {
		int64_t got = refill(r);
		if (got < 0)
			return (int)got;
		if (got == 0)
			break;
	}
	size_t have = r->len - r->pos;
	if (have == 0)
		return bad(r, at,
		           "truncated: the stream ends inside tensor '%s' (%llu of %zu bytes read)",
		           t->name, (unsigned long long)(t->nbytes - r->tensor_left), t->nbytes);
	const uint8_t *p = r->buf + r->pos;
	int lenbytes = p[0] == 0xc4 ? 1 : p[0] == 0xc5 ? 2 : p[0] == 0xc6 ? 4 : 0;
	if (!lenbytes)
		return bad(r, at,
		           "tensor '%s': expected a bin chunk, found byte 0x%02x (%llu of %zu "
		           "bytes read)",
		           t->name, p[0], (unsigned long long)(t->nbytes - r->tensor_left),
		           t->nbytes);
	if (have < (size_t)lenbytes + 1)
		return bad(r, at, "truncated: the stream ends inside a chunk header of tensor '%s'",
		           t->name);
	uint64_t n = 0;
	for (int i = 1; i <= lenbytes; i++)
		n = n << 8 | p[i];
	if (n == 0 || n > r->tensor_left)
		return bad(r, at, "tensor '%s': a chunk of %llu bytes where %llu remain", t->name,
		           (unsigned long long)n, (unsigned long long)r->tensor_left);
	r->pos += (size_t)lenbytes + 1;
	r->chunk_left = n;
	r->chunks_left--;
	return OF3_OK;
}

/* Moves n payload bytes of the current tensor to dst, or drops them when dst is NULL. */
static int payload(of3_breader_t *r, uint8_t *dst, size_t n)
{
	of3_tensor_t *t = r->tensor;
	if (r->failed)
		return of3_err(OF3_ERR_INPUT, "%s: unreadable after an earlier error", r->label);
	if (!t || n > r->tensor_left)
		return of3_err(OF3_ERR_RUNTIME, "%s: reading %zu tensor bytes where %llu remain",
		               r->label, n, (unsigned long long)(t ? r->tensor_left : 0));
	if (r->zeros) {
		if (dst)
			memset(dst, 0, n);
		r->tensor_left -= n;
		if (r->tensor_left == 0)
			r->tensor = NULL;
		return OF3_OK;
	}
	while (n > 0) {
		if (r->chunk_left == 0) {
			int rc = chunk_header(r);
			if (rc < 0)
				return rc;
		}
		size_t want = n < r->chunk_left ? n : (size_t)r->chunk_left;
		size_t k = r->len - r->pos;
		if (k > want)
			k = want;
		if (k > 0) { /* buffered (or mapped) bytes */
			if (dst && r->map && k >= PREAD_MIN_BYTES) {
				/* pread copies page-cache pages straight into dst; memcpy from the
				 * mapping would first fault every mapped page in (measured 30%
				 * slower). */
				ssize_t got = pread(r->fd, dst, k > (1u << 30) ? (1u << 30) : k,
				                    (off_t)(r->base + r->pos));
				if (got < 0 && errno == EINTR)
					continue;
				if (got <= 0)
					return got < 0 ? sys_fail(r)
					               : bad(r, of3_breader_offset(r),
					                     "the file "
					                     "shrank while being read");
				k = (size_t)got;
			} else if (dst) {
				memcpy(dst, r->buf + r->pos, k);
			}
			if (dst)
				dst += k;
			r->pos += k;
		} else if (dst && !r->eof) { /* the buffer is empty: read straight into dst */
			r->base += r->pos;
			r->pos = r->len = 0;
			ssize_t got = read(r->fd, dst, want > (1u << 30) ? (1u << 30) : want);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return sys_fail(r);
			if (got == 0)
				r->eof = 1;
			k = (size_t)got;
			dst += k;
			r->base += k;
		} else {
			int64_t got = refill(r);
			if (got < 0)
				return (int)got;
			if (got == 0)
				r->eof = 1;
		}
		if (k == 0 && r->eof && r->len == r->pos)
			return bad(r, of3_breader_offset(r),
			           "truncated: the stream ends inside tensor '%s' "
			           "(%llu of %zu bytes read)",
			           t->name, (unsigned long long)(t->nbytes - r->tensor_left),
			           t->nbytes);
		n -= k;
		r->chunk_left -= k;
		r->tensor_left -= k;
	}
	if (r->tensor_left == 0) {
		if (r->chunks_left != 0)
			return bad(r, of3_breader_offset(r),
			           "tensor '%s': \"nbytes\" is reached with %llu "
			           "chunks still announced",
			           t->name, (unsigned long long)r->chunks_left);
		r->tensor = NULL;
	}
	return OF3_OK;
}

int of3_breader_tensor_read(of3_breader_t *r, void *dst, size_t n)
{
	return payload(r, dst, n);
}

int of3_breader_tensor_skip(of3_breader_t *r)
{
	return r->tensor ? payload(r, NULL, (size_t)r->tensor_left) : OF3_OK;
}

int of3_breader_next(of3_breader_t *r, of3_bundle_t **out)
{
	of3_bundle_t *b;
	int rc = of3_breader_begin(r, &b);
	if (rc < 0)
		return rc;
	for (;;) {
		of3_tensor_t *t;
		rc = of3_breader_record(r, b, &t);
		if (rc == OF3_RECORD_END)
			break;
		if (rc == OF3_RECORD_TENSOR && r->zeros) {
			rc = of3_tensor_alloc_zeroed(t);
			if (rc == OF3_OK)
				rc = of3_breader_tensor_skip(r);
		} else if (rc == OF3_RECORD_TENSOR && t->nbytes > 0) {
			t->data = of3_tensor_alloc(t->nbytes);
			if (!t->data)
				rc = of3_err(OF3_ERR_NOMEM,
				             "tensor '%s': out of memory for %zu bytes", t->name,
				             t->nbytes);
			else
				rc = of3_breader_tensor_read(r, t->data, t->nbytes);
		} else if (rc == OF3_RECORD_TENSOR) {
			t->data = of3_tensor_alloc(0);
			if (!t->data)
				rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		}
		if (rc < 0) {
			of3_bundle_free(b);
			return rc;
		}
	}
	*out = b;
	return OF3_OK;
}
