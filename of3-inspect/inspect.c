/* inspect.c: walks a bundle stream record by record and summarises it; sends checkpoints to
 * checkpoint_summary.c. */
#include "inspect.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/bundle.h"

#define PIECE_BYTES (16u << 20) /* tensors are summarised 16 MiB at a time */

typedef struct {
	double min, max, sum;
	uint64_t n, nan;
} stats_t;

static void accumulate(stats_t *s, of3_dtype_t dtype, const void *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double v = of3_dtype_get(dtype, data, i);
		if (isnan(v)) {
			s->nan++;
			continue;
		}
		if (s->n == 0 || v < s->min)
			s->min = v;
		if (s->n == 0 || v > s->max)
			s->max = v;
		s->sum += v;
		s->n++;
	}
}

static void print_shape(FILE *out, const of3_tensor_t *t)
{
	char s[200];
	int n = snprintf(s, sizeof s, "[");
	for (int i = 0; i < t->ndim; i++)
		n += snprintf(s + n, sizeof s - (size_t)n, "%s%lld", i ? ", " : "",
		              (long long)t->shape[i]);
	snprintf(s + n, sizeof s - (size_t)n, "]");
	fprintf(out, "%-18s", s);
}

/* Appends a JSON-like rendering of o to buf[*n..cap); stops quietly when the room runs out. */
static void render(char *buf, size_t cap, size_t *n, const msgpack_object *o)
{
#define PUT(...)                                                                 \
	do {                                                                     \
		if (*n < cap)                                                    \
			*n += (size_t)snprintf(buf + *n, cap - *n, __VA_ARGS__); \
	} while (0)
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: PUT("null"); break;
	case MSGPACK_OBJECT_BOOLEAN: PUT(o->via.boolean ? "true" : "false"); break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER: PUT("%llu", (unsigned long long)o->via.u64); break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: PUT("%lld", (long long)o->via.i64); break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: PUT("%g", o->via.f64); break;
	case MSGPACK_OBJECT_STR: PUT("\"%.*s\"", (int)o->via.str.size, o->via.str.ptr); break;
	case MSGPACK_OBJECT_BIN: PUT("<%u bytes>", o->via.bin.size); break;
	case MSGPACK_OBJECT_EXT: PUT("<ext %d, %u bytes>", o->via.ext.type, o->via.ext.size); break;
	case MSGPACK_OBJECT_ARRAY:
		PUT("[");
		for (uint32_t i = 0; i < o->via.array.size && *n < cap; i++) {
			if (i)
				PUT(", ");
			render(buf, cap, n, &o->via.array.ptr[i]);
		}
		PUT("]");
		break;
	case MSGPACK_OBJECT_MAP:
		PUT("{");
		for (uint32_t i = 0; i < o->via.map.size && *n < cap; i++) {
			if (i)
				PUT(", ");
			render(buf, cap, n, &o->via.map.ptr[i].key);
			PUT(": ");
			render(buf, cap, n, &o->via.map.ptr[i].val);
		}
		PUT("}");
		break;
	}
#undef PUT
}

/* Prints o in at most limit characters, "..." marking a cut; arrays say how long they are. */
static void print_object(FILE *out, const msgpack_object *o, size_t limit)
{
	char *buf = malloc(limit + 1);
	if (!buf)
		return;
	size_t n = 0;
	buf[0] = 0;
	render(buf, limit + 1, &n, o);
	fputs(buf, out);
	if (n > limit)
		fputs(" ...", out);
	if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size > 3)
		fprintf(out, " (%u items)", o->via.array.size);
	free(buf);
}

static int summarise_tensor(of3_breader_t *r, const of3_tensor_t *t, void *piece, FILE *out)
{
	stats_t s = {0};
	size_t esize = of3_dtype_size(t->dtype), step = PIECE_BYTES / esize * esize;
	for (size_t done = 0; done < t->nbytes;) {
		size_t k = t->nbytes - done < step ? t->nbytes - done : step;
		int rc = of3_breader_tensor_read(r, piece, k);
		if (rc < 0)
			return rc;
		accumulate(&s, t->dtype, piece, k / esize);
		done += k;
	}
	fprintf(out, "  tensor %-28s %-5s", t->name, of3_dtype_name(t->dtype));
	print_shape(out, t);
	if (s.n)
		fprintf(out, " min %-12.6g max %-12.6g mean %-12.6g", s.min, s.max,
		        s.sum / (double)s.n);
	else
		fprintf(out, " (no finite values)%31s", "");
	fprintf(out, " nan %llu\n", (unsigned long long)s.nan);
	return OF3_OK;
}

static int inspect_bundle(of3_breader_t *r, of3_bundle_t *b, int index, void *piece, FILE *out)
{
	fprintf(out, "bundle %d: kind %s, query '%s', producer '%s'\n", index, b->kind, b->query,
	        b->producer);
	fprintf(out, "  meta ");
	print_object(out, &b->meta, 2000);
	fputc('\n', out);
	int n_tensors = 0, n_values = 0;
	uint64_t bytes = 0;
	for (;;) {
		of3_tensor_t *t;
		int rc = of3_breader_record(r, b, &t);
		if (rc < 0)
			return rc;
		if (rc == OF3_RECORD_END)
			break;
		if (rc == OF3_RECORD_TENSOR) {
			if ((rc = summarise_tensor(r, t, piece, out)) < 0)
				return rc;
			n_tensors++;
			bytes += t->nbytes;
		} else {
			const of3_value_t *v = &b->values[b->n_values - 1];
			fprintf(out, "  value  %-28s ", v->name);
			print_object(out, &v->value, 100);
			fputc('\n', out);
			n_values++;
		}
	}
	fprintf(out, "  %d tensor%s (%.3f MB), %d value%s\n", n_tensors, n_tensors == 1 ? "" : "s",
	        (double)bytes / 1e6, n_values, n_values == 1 ? "" : "s");
	return OF3_OK;
}

/* A zip archive ("PK\3\4", or "PK\5\6" when empty) or a legacy torch.save pickle (protocol 2
 * then LONG1 of the magic number); a bundle starts with a msgpack map, never with these. */
static int is_checkpoint(const char *path)
{
	uint8_t b[4];
	int fd = strcmp(path, "-") == 0 ? -1 : open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, b, sizeof b);
	close(fd);
	return n == 4 && ((b[0] == 'P' && b[1] == 'K' &&
	                   ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6))) ||
	                  (b[0] == 0x80 && b[1] == 2 && b[2] == 0x8a && b[3] == 0x0a));
}

int of3_inspect(const char *path, FILE *out)
{
	if (is_checkpoint(path))
		return of3_inspect_checkpoint(path, out);
	of3_breader_t *r;
	int rc = of3_breader_open(&r, path);
	if (rc < 0)
		return rc;
	void *piece = malloc(PIECE_BYTES);
	if (!piece) {
		of3_breader_close(r);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	int index = 0;
	for (;;) {
		of3_bundle_t *b;
		rc = of3_breader_begin(r, &b);
		if (rc < 0)
			break;
		rc = inspect_bundle(r, b, ++index, piece, out);
		of3_bundle_free(b);
		if (rc < 0)
			break;
	}
	if (rc == OF3_END && index == 0)
		rc = of3_err(OF3_ERR_INPUT, "%s: empty stream, no bundle in it", path);
	free(piece);
	of3_breader_close(r);
	return rc == OF3_END ? OF3_OK : rc;
}
