/* test_trunk_keys.c: the keys and shapes of3-trunk binds are exactly the trunk keys of the
 * released checkpoint's layout (issue #7).
 *
 * tests/fixtures/checkpoint/default_state_dict_keys.tsv lists every state-dict entry of the
 * reference OpenFold3 model at the default (predict + pae_enabled) configuration, taken from the
 * model itself (tools/checkpoint/state_dict_keys.py). This test writes those keys and shapes as a
 * torch.save-like archive in memory (a zip of data.pkl and one shared zero storage, so it is
 * small), opens it with of3_ckpt_open_buffer and runs the trunk's whole binding on it
 * (of3_trunk_check: layout p1, every key and shape the trunk expects, and no trunk key left
 * unbound). Then it checks the dimensions learnt against spec/trunk.md §4, that every trunk key
 * of the list was bound, and that a renamed or misshaped key is caught by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/checkpoint.h"
#include "../of3-trunk/trunk.h"
#include "check.h"

#define TSV       "tests/fixtures/checkpoint/default_state_dict_keys.tsv"
#define MAX_KEYS  8192
#define MAX_DIMS  8
#define ROOT      "archive"
#define STORE_KEY "0"

typedef struct {
	char *key;
	int ndim;
	long long shape[MAX_DIMS];
} entry_t;

typedef struct {
	unsigned char *p;
	size_t n, cap;
} buf_t;

static void put(buf_t *b, const void *src, size_t n)
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
static void put1(buf_t *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put(b, &c, 1);
}
static void put2(buf_t *b, unsigned v)
{
	put1(b, v & 0xff), put1(b, v >> 8);
}
static void put4(buf_t *b, unsigned long v)
{
	put2(b, (unsigned)(v & 0xffff)), put2(b, (unsigned)(v >> 16));
}

/* pickle pieces (protocol 2) */
static void pk_str(buf_t *b, const char *s)
{
	put1(b, 'X');
	put4(b, (unsigned long)strlen(s));
	put(b, s, strlen(s));
}
static void pk_int(buf_t *b, long long v)
{
	put1(b, 'J');
	put4(b, (unsigned long)v);
}

/* data.pkl: {key: _rebuild_tensor_v2(storage 0, 0, shape, strides, False, {})} */
static void write_pickle(buf_t *b, const entry_t *e, int n, long long store_numel)
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

/* A stored (uncompressed) zip of the given entries, each entry's data 64-byte aligned. */
static void write_zip(buf_t *z, const char *const *names, const buf_t *data, int n)
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

static int read_tsv(entry_t *e, int max)
{
	FILE *f = fopen(TSV, "r");
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

static int is_trunk(const char *key)
{
	static const char *const p[] = {
	        "input_embedder.",      "layer_norm_z.", "linear_z.",
	        "layer_norm_s.",        "linear_s.",     "template_embedder.",
	        "msa_module_embedder.", "msa_module.",   "pairformer_stack.",
	};
	for (size_t i = 0; i < sizeof p / sizeof *p; i++)
		if (!strncmp(key, p[i], strlen(p[i])))
			return 1;
	return 0;
}

/* The archive of entries e[0..n) in *z. */
static void build(buf_t *z, const entry_t *e, int n)
{
	long long max_numel = 1;
	for (int i = 0; i < n; i++) {
		long long k = 1;
		for (int d = 0; d < e[i].ndim; d++)
			k *= e[i].shape[d];
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

/* Binds the trunk of entries e[0..n); returns the status, dims filled. */
static int bind_entries(const entry_t *e, int n, of3_trunk_dims_t *dims, int64_t *n_trunk,
                        int64_t *n_bound)
{
	buf_t z = {0};
	of3_ckpt_t *ck = NULL;
	build(&z, e, n);
	int rc = of3_ckpt_open_buffer(&ck, z.p, z.n, "default_state_dict_keys");
	if (rc == 0)
		rc = of3_trunk_check(ck, dims);
	*n_trunk = *n_bound = 0;
	for (int64_t i = 0; rc == 0 && i < of3_ckpt_info(ck)->n_tensors; i++) {
		const of3_ckpt_tensor_t *t = of3_ckpt_tensor(ck, i);
		if (is_trunk(t->key)) {
			++*n_trunk;
			*n_bound += t->used;
		}
	}
	of3_ckpt_close(ck);
	free(z.p);
	return rc;
}

int main(int argc, char **argv)
{
	static entry_t e[MAX_KEYS];
	if (argc > 1 && chdir(argv[1]) != 0) {
		perror(argv[1]);
		return 1;
	}
	int n = read_tsv(e, MAX_KEYS), n_trunk_tsv = 0;
	CHECK(n > 4000, "%s: %d state-dict entries", TSV, n);
	if (n <= 0)
		return check_summary();
	for (int i = 0; i < n; i++)
		n_trunk_tsv += is_trunk(e[i].key);
	CHECK(n_trunk_tsv == 3167, "%d trunk entries in the list (spec/trunk.md Appendix A: 3167)",
	      n_trunk_tsv);

	of3_trunk_dims_t d;
	int64_t n_trunk, n_bound;
	int rc = bind_entries(e, n, &d, &n_trunk, &n_bound);
	CHECK(rc == 0, "the trunk binds the default configuration's state dict %s",
	      rc ? of3_errmsg() : "");
	CHECK(n_trunk == n_trunk_tsv && n_bound == n_trunk,
	      "every trunk key of the list was bound: %lld of %lld", (long long)n_bound,
	      (long long)n_trunk);
	CHECK(d.c_s == 384 && d.c_z == 128 && d.c_s_input == 449 && d.n_pairformer_block == 48,
	      "dimensions from the shapes: c_s %lld, c_z %lld, c_s_input %lld, %d pairformer "
	      "blocks",
	      (long long)d.c_s, (long long)d.c_z, (long long)d.c_s_input, d.n_pairformer_block);
	/* 152,168,064 values (spec/trunk.md §1.4), each tensor rounded up to 16 floats */
	CHECK(d.n_weight_floats >= 152168064 && d.n_weight_floats < 152168064 + 16 * 3167,
	      "%zu weight floats bound (152168064 values plus alignment)", d.n_weight_floats);

	/* a key the trunk needs, renamed: the error names the missing key */
	int i_lz = -1, i_pf = -1;
	for (int i = 0; i < n; i++) {
		if (!strcmp(e[i].key, "linear_z.weight"))
			i_lz = i;
		if (!strcmp(e[i].key,
		            "pairformer_stack.blocks.47.single_transition.linear_out.weight"))
			i_pf = i;
	}
	CHECK(i_lz >= 0 && i_pf >= 0, "linear_z.weight and the last pairformer block are listed");
	if (i_lz >= 0 && i_pf >= 0) {
		char *saved = e[i_lz].key;
		e[i_lz].key = "linear_zz.weight";
		rc = bind_entries(e, n, &d, &n_trunk, &n_bound);
		CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "'linear_z.weight' is missing"),
		      "a renamed key: %s", of3_errmsg());
		e[i_lz].key = saved;
		long long s0 = e[i_pf].shape[0];
		e[i_pf].shape[0] = 385;
		rc = bind_entries(e, n, &d, &n_trunk, &n_bound);
		CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "pairformer_stack.blocks.47."),
		      "a misshaped key: %s", of3_errmsg());
		e[i_pf].shape[0] = s0;
	}
	for (int i = 0; i < n; i++)
		free(e[i].key);
	return check_summary();
}
