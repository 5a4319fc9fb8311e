/* state_dict_archive.h: a torch.save-like checkpoint archive in memory from a list of state-dict
 * keys and shapes (header-only, like check.h), for the tests that check which keys a stage binds
 * (test_trunk_keys.c, test_diffuse_keys.c).
 *
 * read_tsv() reads "key<TAB>d0,d1,..." lines (tests/fixtures/checkpoint/
 * default_state_dict_keys.tsv: every state-dict entry of the reference OpenFold3 model at the
 * default configuration); build() writes them as a stored zip of data.pkl (protocol 2, every
 * tensor a _rebuild_tensor_v2 view at offset 0 of one shared storage), byteorder and that one
 * zero storage, as large as the largest tensor, so the archive stays small. Open it with
 * of3_ckpt_open_buffer(). */
#ifndef OF3_STATE_DICT_ARCHIVE_H
#define OF3_STATE_DICT_ARCHIVE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_DICT_TSV "tests/fixtures/checkpoint/default_state_dict_keys.tsv"
#define MAX_KEYS       8192
#define MAX_DIMS       8
#define ROOT           "archive"
#define STORE_KEY      "0"

typedef struct {
	char *key;
	int ndim;
	long long shape[MAX_DIMS];
} entry_t;

typedef struct {
	unsigned char *p;
	size_t n, cap;
} buf_t;

static inline long long entry_numel(const entry_t *e)
{
	long long k = 1;
	for (int d = 0; d < e->ndim; d++)
		k *= e->shape[d];
	return k;
}

static inline void put(buf_t *b, const void *src, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 16;
		while (cap < b->n + n)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
}
static inline void put1(buf_t *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put(b, &c, 1);
}
static inline void put2(buf_t *b, unsigned v)
{
	put1(b, v & 0xff), put1(b, v >> 8);
}
static inline void put4(buf_t *b, unsigned long v)
{
	put2(b, (unsigned)(v & 0xffff)), put2(b, (unsigned)(v >> 16));
}

/* pickle pieces (protocol 2) */
static inline void pk_str(buf_t *b, const char *s)
{
	put1(b, 'X');
	put4(b, (unsigned long)strlen(s));
	put(b, s, strlen(s));
}
static inline void pk_int(buf_t *b, long long v)
{
	put1(b, 'J');
	put4(b, (unsigned long)v);
}

/* data.pkl: {key: _rebuild_tensor_v2(storage 0, 0, shape, strides, False, {})} */
static inline void write_pickle(buf_t *b, const entry_t *e, int n, long long store_numel)
{
	put1(b, 0x80), put1(b, 2); /* PROTO 2 */
	put1(b, '}');              /* EMPTY_DICT */
	put1(b, '(');              /* MARK */
	for (int i = 0; i < n; i++) {
		pk_str(b, e[i].key);
		put(b, "ctorch._utils\n_rebuild_tensor_v2\n", 33);
		put1(b, '(');
		put1(b, '(');
		pk_str(b, "storage");
		put(b, "ctorch\nFloatStorage\n", 20);
		pk_str(b, STORE_KEY);
		pk_str(b, "cpu");
		pk_int(b, store_numel);
		put1(b, 't'), put1(b, 'Q'); /* TUPLE, BINPERSID */
		pk_int(b, 0);
		put1(b, '(');
		for (int d = 0; d < e[i].ndim; d++)
			pk_int(b, e[i].shape[d]);
		put1(b, 't');
		put1(b, '(');
		long long stride = 1, strides[MAX_DIMS];
		for (int d = e[i].ndim - 1; d >= 0; d--) {
			strides[d] = stride;
			stride *= e[i].shape[d];
		}
		for (int d = 0; d < e[i].ndim; d++)
			pk_int(b, strides[d]);
		put1(b, 't');
		put1(b, 0x89); /* NEWFALSE */
		put1(b, '}');
		put1(b, 't'), put1(b, 'R'); /* TUPLE, REDUCE */
	}
	put1(b, 'u'), put1(b, '.'); /* SETITEMS, STOP */
}

/* A stored (uncompressed) zip of the given entries (at most 8), each entry's data 64-byte
 * aligned. */
static inline void write_zip(buf_t *z, const char *const *names, const buf_t *data, int n)
{
	unsigned long offsets[8];
	for (int i = 0; i < n; i++) {
		size_t n_name = strlen(names[i]), at = z->n + 30 + n_name;
		unsigned pad = (unsigned)((64 - at % 64) % 64);
		if (pad && pad < 4)
			pad += 64;
		offsets[i] = (unsigned long)z->n;
		put4(z, 0x04034b50), put2(z, 20), put2(z, 0), put2(z, 0), put2(z, 0), put2(z, 0);
		put4(z, 0), put4(z, (unsigned long)data[i].n), put4(z, (unsigned long)data[i].n);
		put2(z, (unsigned)n_name), put2(z, pad);
		put(z, names[i], n_name);
		if (pad) { /* an extra field of id 0xcafe holding zeros */
			put2(z, 0xcafe), put2(z, pad - 4);
			for (unsigned k = 0; k < pad - 4; k++)
				put1(z, 0);
		}
		put(z, data[i].p, data[i].n);
	}
	unsigned long cd = (unsigned long)z->n;
	for (int i = 0; i < n; i++) {
		size_t n_name = strlen(names[i]);
		put4(z, 0x02014b50), put2(z, 20), put2(z, 20), put2(z, 0), put2(z, 0), put2(z, 0);
		put2(z, 0), put4(z, 0), put4(z, (unsigned long)data[i].n);
		put4(z, (unsigned long)data[i].n), put2(z, (unsigned)n_name), put2(z, 0),
		        put2(z, 0);
		put2(z, 0), put2(z, 0), put4(z, 0), put4(z, offsets[i]);
		put(z, names[i], n_name);
	}
	unsigned long cd_bytes = (unsigned long)z->n - cd;
	put4(z, 0x06054b50), put2(z, 0), put2(z, 0), put2(z, (unsigned)n), put2(z, (unsigned)n);
	put4(z, cd_bytes), put4(z, cd), put2(z, 0);
}

/* The entries of the key list at path into e[0..max) (keys strdup'ed); their number, or -1
 * when the file cannot be opened. */
static inline int read_tsv(const char *path, entry_t *e, int max)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f) && n < max) {
		if (line[0] == '#')
			continue;
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = 0;
		e[n].key = strdup(line);
		e[n].ndim = 0;
		for (char *p = tab + 1; *p && *p != '\n' && e[n].ndim < MAX_DIMS;) {
			e[n].shape[e[n].ndim++] = strtoll(p, &p, 10);
			if (*p == ',')
				p++;
		}
		n++;
	}
	fclose(f);
	return n;
}

/* The archive of entries e[0..n) in *z. */
static inline void build(buf_t *z, const entry_t *e, int n)
{
	long long max_numel = 1;
	for (int i = 0; i < n; i++) {
		long long k = entry_numel(&e[i]);
		max_numel = k > max_numel ? k : max_numel;
	}
	buf_t data[3] = {{0}};
	write_pickle(&data[0], e, n, max_numel);
	put(&data[1], "little", 6);
	data[2].n = data[2].cap = (size_t)max_numel * 4;
	data[2].p = calloc(data[2].n, 1);
	const char *names[3] = {ROOT "/data.pkl", ROOT "/byteorder", ROOT "/data/" STORE_KEY};
	z->n = 0;
	write_zip(z, names, data, 3);
	for (int i = 0; i < 3; i++)
		free(data[i].p);
}

#endif
