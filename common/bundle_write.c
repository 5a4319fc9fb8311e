/* bundle_write.c: writing bundles (docs/FORMAT.md). Small maps are packed by msgpack-c into a
 * buffer; tensor bytes go from the caller's memory straight to the descriptor. */
#define _GNU_SOURCE
#include "bundle.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outfile.h"
#include "version.h"

struct of3_bwriter_t {
	of3_outfile_t out;
	int own_outfile;     /* opened by of3_bwriter_open (commit/abort it) */
	msgpack_sbuffer buf; /* packed maps waiting to be written */
	msgpack_packer pk;
	size_t chunk_bytes;
	int in_bundle;
	int64_t n_records; /* records in the open bundle */
	/* the tensor being streamed */
	int in_tensor;
	char tensor_name[256];
	uint64_t tensor_left; /* payload bytes still to come */
	uint64_t chunk_left;  /* bytes left in the current bin chunk */
	char producer[128];
	int failed; /* sticky: a write failed, nothing more is written */
};

static int flush(of3_bwriter_t *w)
{
	if (w->buf.size == 0)
		return OF3_OK;
	int rc = of3_write_all(w->out.fd, w->buf.data, w->buf.size, w->out.label);
	msgpack_sbuffer_clear(&w->buf);
	if (rc < 0)
		w->failed = 1;
	return rc;
}

static void init(of3_bwriter_t *w)
{
	msgpack_sbuffer_init(&w->buf);
	msgpack_packer_init(&w->pk, &w->buf, msgpack_sbuffer_write);
	w->chunk_bytes = OF3_CHUNK_BYTES;
	snprintf(w->producer, sizeof w->producer, "%s %s", of3_progname(), OF3_VERSION);
	/* A bigger pipe buffer roughly doubles throughput between stages; best effort. */
	fcntl(w->out.fd, F_SETPIPE_SZ, 1 << 20);
}

int of3_bwriter_open(of3_bwriter_t **wp, const char *path)
{
	of3_bwriter_t *w = calloc(1, sizeof *w);
	if (!w)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	int rc = of3_outfile_open(&w->out, path, 1);
	if (rc < 0) {
		free(w);
		return rc;
	}
	w->own_outfile = 1;
	init(w);
	*wp = w;
	return OF3_OK;
}

int of3_bwriter_open_fd(of3_bwriter_t **wp, int fd, const char *label)
{
	of3_bwriter_t *w = calloc(1, sizeof *w);
	if (!w)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	w->out.fd = fd;
	w->out.label = label;
	init(w);
	*wp = w;
	return OF3_OK;
}

void of3_bwriter_set_chunk_bytes(of3_bwriter_t *w, size_t chunk_bytes)
{
	w->chunk_bytes = chunk_bytes < 1             ? 1
	                 : chunk_bytes > 0xffffffffu ? 0xffffffffu
	                                             : chunk_bytes;
}

int of3_bwriter_close(of3_bwriter_t *w)
{
	int rc = OF3_OK;
	if (w->in_bundle)
		rc = of3_err(OF3_ERR_RUNTIME, "%s: closed inside an unfinished bundle",
		             w->out.label);
	else if (w->failed)
		rc = of3_err(OF3_ERR_RUNTIME, "%s: an earlier write failed", w->out.label);
	if (rc == OF3_OK)
		rc = flush(w);
	if (w->own_outfile) {
		if (rc == OF3_OK)
			rc = of3_outfile_commit(&w->out);
		else
			of3_outfile_abort(&w->out);
	}
	msgpack_sbuffer_destroy(&w->buf);
	free(w);
	return rc;
}

void of3_bwriter_abort(of3_bwriter_t *w)
{
	if (!w)
		return;
	if (w->own_outfile)
		of3_outfile_abort(&w->out);
	msgpack_sbuffer_destroy(&w->buf);
	free(w);
}

static void pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

/* Small maps are flushed once they pile up; tensor data flushes them first anyway. */
static int maybe_flush(of3_bwriter_t *w)
{
	return w->buf.size >= (1u << 20) ? flush(w) : OF3_OK;
}

static int check_state(of3_bwriter_t *w, int want_bundle, const char *what)
{
	if (w->failed)
		return of3_err(OF3_ERR_RUNTIME, "%s: an earlier write failed", w->out.label);
	if (w->in_tensor)
		return of3_err(OF3_ERR_RUNTIME,
		               "%s: %s while %llu bytes of tensor '%s' are missing", w->out.label,
		               what, (unsigned long long)w->tensor_left, w->tensor_name);
	if (w->in_bundle != want_bundle)
		return of3_err(OF3_ERR_RUNTIME, "%s: %s %s a bundle", w->out.label, what,
		               want_bundle ? "outside" : "inside");
	return OF3_OK;
}

int of3_bwriter_begin(of3_bwriter_t *w, const of3_bundle_t *b)
{
	int rc = check_state(w, 0, "bundle header");
	if (rc < 0)
		return rc;
	msgpack_packer *pk = &w->pk;
	msgpack_pack_map(pk, 6);
	pack_str(pk, "of3");
	pack_str(pk, "bundle");
	pack_str(pk, "version");
	msgpack_pack_int(pk, OF3_BUNDLE_VERSION);
	pack_str(pk, "kind");
	pack_str(pk, b->kind);
	pack_str(pk, "query");
	pack_str(pk, b->query);
	pack_str(pk, "producer");
	pack_str(pk, w->producer);
	pack_str(pk, "meta");
	msgpack_pack_object(pk, b->meta);
	w->in_bundle = 1;
	w->n_records = 0;
	return maybe_flush(w);
}

static int tensor_record(of3_bwriter_t *w, const char *name, of3_dtype_t dtype, int ndim,
                         const int64_t *shape, int zeros);

int of3_bwriter_tensor_begin(of3_bwriter_t *w, const char *name, of3_dtype_t dtype, int ndim,
                             const int64_t *shape)
{
	return tensor_record(w, name, dtype, ndim, shape, 0);
}

int of3_bwriter_tensor_zeros(of3_bwriter_t *w, const char *name, of3_dtype_t dtype, int ndim,
                             const int64_t *shape)
{
	return tensor_record(w, name, dtype, ndim, shape, 1);
}

static int tensor_record(of3_bwriter_t *w, const char *name, of3_dtype_t dtype, int ndim,
                         const int64_t *shape, int zeros)
{
	int rc = check_state(w, 1, "tensor");
	if (rc < 0)
		return rc;
	if (!name[0] || strlen(name) >= sizeof w->tensor_name)
		return of3_err(OF3_ERR_RUNTIME, "tensor name '%s' is empty or too long", name);
	if ((unsigned)dtype >= OF3_DTYPE_COUNT || ndim < 0 || ndim > OF3_MAX_DIMS)
		return of3_err(OF3_ERR_RUNTIME, "tensor '%s': bad dtype or rank", name);
	uint64_t nbytes = of3_dtype_size(dtype);
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0)
			return of3_err(OF3_ERR_RUNTIME, "tensor '%s': negative dimension", name);
		nbytes *= (uint64_t)shape[i];
	}
	uint64_t chunks = zeros ? 0 : (nbytes + w->chunk_bytes - 1) / w->chunk_bytes;
	msgpack_packer *pk = &w->pk;
	msgpack_pack_map(pk, zeros ? 7 : 6);
	pack_str(pk, "type");
	pack_str(pk, "tensor");
	pack_str(pk, "name");
	pack_str(pk, name);
	pack_str(pk, "dtype");
	pack_str(pk, of3_dtype_name(dtype));
	pack_str(pk, "shape");
	msgpack_pack_array(pk, (size_t)ndim);
	for (int i = 0; i < ndim; i++)
		msgpack_pack_int64(pk, shape[i]);
	pack_str(pk, "nbytes");
	msgpack_pack_uint64(pk, nbytes);
	pack_str(pk, "chunks");
	msgpack_pack_uint64(pk, chunks);
	if (zeros) {
		pack_str(pk, "zeros");
		msgpack_pack_true(pk);
	}
	strcpy(w->tensor_name, name);
	w->tensor_left = zeros ? 0 : nbytes;
	w->chunk_left = 0;
	w->in_tensor = !zeros && nbytes > 0;
	w->n_records++;
	return maybe_flush(w);
}

int of3_bwriter_tensor_data(of3_bwriter_t *w, const void *data, size_t n)
{
	if (w->failed)
		return of3_err(OF3_ERR_RUNTIME, "%s: an earlier write failed", w->out.label);
	if (n > w->tensor_left)
		return of3_err(OF3_ERR_RUNTIME, "tensor '%s': %zu bytes given, %llu expected",
		               w->tensor_name, n, (unsigned long long)w->tensor_left);
	const char *p = data;
	while (n > 0) {
		if (w->chunk_left == 0) {
			w->chunk_left =
			        w->tensor_left < w->chunk_bytes ? w->tensor_left : w->chunk_bytes;
			msgpack_pack_bin(&w->pk, (size_t)w->chunk_left);
		}
		size_t k = n < w->chunk_left ? n : (size_t)w->chunk_left;
		int rc = flush(w);
		if (rc == OF3_OK)
			rc = of3_write_all(w->out.fd, p, k, w->out.label);
		if (rc < 0) {
			w->failed = 1;
			return rc;
		}
		p += k;
		n -= k;
		w->chunk_left -= k;
		w->tensor_left -= k;
	}
	if (w->tensor_left == 0)
		w->in_tensor = 0;
	return OF3_OK;
}

/* Large tensors that are all zero travel as a record alone (docs/FORMAT.md "zeros"): the
 * empty template slots alone are hundreds of MB per query otherwise. */
#define ZEROS_MIN_BYTES (64u << 10)

static int all_zero(const void *data, size_t n)
{
	const unsigned char *p = data;
	if (n == 0 || p[0] != 0)
		return n == 0;
	return memcmp(p, p + 1, n - 1) == 0;
}

int of3_bwriter_tensor(of3_bwriter_t *w, const of3_tensor_t *t)
{
	if (t->nbytes >= ZEROS_MIN_BYTES && all_zero(t->data, t->nbytes))
		return of3_bwriter_tensor_zeros(w, t->name, t->dtype, t->ndim, t->shape);
	int rc = of3_bwriter_tensor_begin(w, t->name, t->dtype, t->ndim, t->shape);
	if (rc == OF3_OK && t->nbytes > 0)
		rc = of3_bwriter_tensor_data(w, t->data, t->nbytes);
	return rc;
}

int of3_bwriter_value(of3_bwriter_t *w, const char *name, const msgpack_object *v)
{
	int rc = check_state(w, 1, "value");
	if (rc < 0)
		return rc;
	msgpack_packer *pk = &w->pk;
	msgpack_pack_map(pk, 3);
	pack_str(pk, "type");
	pack_str(pk, "value");
	pack_str(pk, "name");
	pack_str(pk, name);
	pack_str(pk, "value");
	msgpack_pack_object(pk, *v);
	w->n_records++;
	return maybe_flush(w);
}

int of3_bwriter_end(of3_bwriter_t *w)
{
	int rc = check_state(w, 1, "end of bundle");
	if (rc < 0)
		return rc;
	msgpack_packer *pk = &w->pk;
	msgpack_pack_map(pk, 2);
	pack_str(pk, "type");
	pack_str(pk, "end");
	pack_str(pk, "records");
	msgpack_pack_int64(pk, w->n_records);
	w->in_bundle = 0;
	/* Flush so a downstream stage can start on this bundle while we work on the next. */
	return flush(w);
}

int of3_bwriter_bundle(of3_bwriter_t *w, const of3_bundle_t *b)
{
	int rc = of3_bwriter_begin(w, b);
	for (int i = 0; rc == OF3_OK && i < b->n_tensors; i++)
		rc = of3_bwriter_tensor(w, &b->tensors[i]);
	for (int i = 0; rc == OF3_OK && i < b->n_values; i++)
		rc = of3_bwriter_value(w, b->values[i].name, &b->values[i].value);
	if (rc == OF3_OK)
		rc = of3_bwriter_end(w);
	return rc;
}
