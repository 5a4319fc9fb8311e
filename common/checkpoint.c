/* checkpoint.c: a torch.save checkpoint mapped, unwrapped and indexed by key (checkpoint.h).
 * Opening reads the zip directory, one local header per entry and data.pkl; tensor bytes are
 * only bounds-checked, never read (except a misaligned one, copied). */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zip.h"

#define MAX_KEY_BYTES 1024 /* longest state-dict key accepted (OpenFold3's are under 130) */

static const char MODEL_PREFIX[] = "model.";
static const char SAMPLE_PREFIX[] = "sample_diffusion.";
static const char DIFFUSION_PREFIX[] = "diffusion_module.";

struct of3_ckpt_t {
	char *label;
	void *map; /* the mapped file (NULL for a caller's buffer) */
	size_t map_len;
	int fd; /* the file, open for of3_ckpt_read_f32 (-1 for a caller's buffer) */
	const uint8_t *buf;
	size_t len;
	of3_ckpt_info_t info;
	of3_ckpt_tensor_t *tensors; /* info.n_tensors, in file order */
	of3_ckpt_tensor_t **sorted; /* by key */
	char *keys;                 /* every key, NUL-terminated */
};

/* One state-dict entry while the index is being built. */
typedef struct {
	const of3_pk_t *key, *value; /* from the pickle */
	int64_t order;               /* position in the state dict */
	int alias;                   /* a sample_diffusion.diffusion_module.* copy */
	int dropped;                 /* folded into its diffusion_module.* twin */
	of3_ckpt_tensor_t t;
} entry_t;

/* ---- layouts ---- */

static const struct {
	const char *name, *file;
} layouts[] = {
        [OF3_CKPT_LAYOUT_UNKNOWN] = {"unknown", ""},
        [OF3_CKPT_LAYOUT_P1] = {"p1", "of3_ft3_v1.pt"},
        [OF3_CKPT_LAYOUT_P2] = {"p2", "of3-p2-155k.pt"},
        [OF3_CKPT_LAYOUT_OPENBIND] = {"OpenBind", "of3-ob-2025-06-30-174k.pt"},
};

const char *of3_ckpt_layout_name(of3_ckpt_layout_t layout)
{
	return (unsigned)layout <= OF3_CKPT_LAYOUT_OPENBIND ? layouts[layout].name : "?";
}

const char *of3_ckpt_layout_file(of3_ckpt_layout_t layout)
{
	return (unsigned)layout <= OF3_CKPT_LAYOUT_OPENBIND ? layouts[layout].file : "";
}

static int starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(s, prefix, k) == 0;
}

/* Skips "model." and a "sample_diffusion." that precedes "diffusion_module."; sets *alias when
 * the latter was skipped. */
static const char *canonical(const char *s, size_t *n, int *alias)
{
	*alias = 0;
	if (starts(s, *n, MODEL_PREFIX)) {
		s += sizeof MODEL_PREFIX - 1;
		*n -= sizeof MODEL_PREFIX - 1;
	}
	if (starts(s, *n, SAMPLE_PREFIX) &&
	    starts(s + sizeof SAMPLE_PREFIX - 1, *n - (sizeof SAMPLE_PREFIX - 1),
	           DIFFUSION_PREFIX)) {
		s += sizeof SAMPLE_PREFIX - 1;
		*n -= sizeof SAMPLE_PREFIX - 1;
		*alias = 1;
	}
	return s;
}

static int equals(const char *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static int ends(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* spec/versions.md §0.1: where the pair LayerNorm of the attention-with-pair-bias lives. */
of3_ckpt_layout_t of3_ckpt_detect_layout(const char *const *keys, int64_t n_keys)
{
	int ob = 0, p2 = 0, p1_atom = 0, p1_token = 0;
	for (int64_t i = 0; i < n_keys; i++) {
		size_t n = strlen(keys[i]);
		int alias;
		const char *k = canonical(keys[i], &n, &alias);
		ob |= equals(k, n, "diffusion_module.diffusion_transformer.layer_norm_z.weight");
		p2 |= ends(k, n, ".atom_transformer.layer_norm_z.weight");
		p1_atom |= equals(k, n,
		                  "input_embedder.atom_attn_enc.atom_transformer.blocks.0."
		                  "attention_pair_bias.layer_norm_z.weight");
		p1_token |= equals(
		        k, n,
		        "diffusion_module.diffusion_transformer.blocks.0.attention_pair_bias."
		        "layer_norm_z.weight");
	}
	if (ob)
		return OF3_CKPT_LAYOUT_OPENBIND;
	if (p2)
		return OF3_CKPT_LAYOUT_P2;
	if (p1_atom && p1_token)
		return OF3_CKPT_LAYOUT_P1;
	return OF3_CKPT_LAYOUT_UNKNOWN;
}

/* ---- messages ---- */

static void fmt_shape(char *dst, size_t cap, int ndim, const int64_t *shape)
{
	size_t n = (size_t)snprintf(dst, cap, "[");
	for (int i = 0; i < ndim && n < cap; i++) {
		if (shape[i] < 0)
			n += (size_t)snprintf(dst + n, cap - n, "%s*", i ? ", " : "");
		else
			n += (size_t)snprintf(dst + n, cap - n, "%s%lld", i ? ", " : "",
			                      (long long)shape[i]);
	}
	if (n < cap)
		snprintf(dst + n, cap - n, "]");
}

/* Fails naming a key as it is spelled in the file. */
static int key_fail(const of3_ckpt_t *ck, const of3_pk_t *key, const char *fmt, ...)
        OF3_PRINTF(3, 4);
static int key_fail(const of3_ckpt_t *ck, const of3_pk_t *key, const char *fmt, ...)
{
	char msg[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int n = key->v.str.len > 300 ? 300 : (int)key->v.str.len;
	return of3_err(OF3_ERR_INPUT, "%s: checkpoint key '%.*s'%s: %s", ck->label, n, key->v.str.s,
	               key->v.str.len > 300 ? "..." : "", msg);
}

static int nomem(void)
{
	return of3_err(OF3_ERR_NOMEM, "out of memory");
}

/* ---- tensors ---- */

static int dtype_of(of3_pk_storage_type_t st, of3_dtype_t *out)
{
	switch (st) {
	case OF3_PK_ST_FLOAT: *out = OF3_DTYPE_F32; return 0;
	case OF3_PK_ST_BFLOAT16: *out = OF3_DTYPE_BF16; return 0;
	case OF3_PK_ST_HALF: *out = OF3_DTYPE_F16; return 0;
	default: return -1;
	}
}

static const char *torch_dtype(of3_pk_storage_type_t st)
{
	static const char *names[OF3_PK_ST_COUNT] = {
	        [OF3_PK_ST_FLOAT] = "float32", [OF3_PK_ST_DOUBLE] = "float64",
	        [OF3_PK_ST_HALF] = "float16",  [OF3_PK_ST_BFLOAT16] = "bfloat16",
	        [OF3_PK_ST_LONG] = "int64",    [OF3_PK_ST_INT] = "int32",
	        [OF3_PK_ST_SHORT] = "int16",   [OF3_PK_ST_CHAR] = "int8",
	        [OF3_PK_ST_BYTE] = "uint8",    [OF3_PK_ST_BOOL] = "bool"};
	return (unsigned)st < OF3_PK_ST_COUNT ? names[st] : "?";
}

/* The bytes of a tensor value: checks that it is contiguous and lies inside its storage entry
 * "<root>/data/<key>". */
static int tensor_bytes(of3_ckpt_t *ck, const of3_zip_t *z, const char *root, const of3_pk_t *key,
                        const of3_pk_t *value, const uint8_t **data, int64_t *numel,
                        uint64_t *file_offset)
{
	const of3_pk_t *st = value->v.tensor.storage;
	size_t esize = of3_pk_storage_elsize(st->v.storage.type);
	const int64_t *shape = value->v.tensor.shape, *stride = value->v.tensor.stride;
	int ndim = value->v.tensor.ndim;
	int64_t n = 1, expected = 1;
	int contiguous = 1;
	for (int d = ndim - 1; d >= 0; d--) {
		if (shape[d] != 0 && n > INT64_MAX / (int64_t)esize / shape[d])
			return key_fail(ck, key, "%d-d tensor too large", ndim);
		n *= shape[d];
		if (shape[d] != 1 && stride[d] != expected)
			contiguous = 0;
		expected *= shape[d];
	}
	if (n > 0 && !contiguous) {
		char s[200], t[200];
		fmt_shape(s, sizeof s, ndim, shape);
		fmt_shape(t, sizeof t, ndim, stride);
		return key_fail(
		        ck, key,
		        "not contiguous (shape %s, strides %s); re-save it with .contiguous()", s,
		        t);
	}
	char name[MAX_KEY_BYTES + 64];
	if (st->v.storage.key.len > MAX_KEY_BYTES)
		return key_fail(ck, key, "storage key of %zu bytes", st->v.storage.key.len);
	snprintf(name, sizeof name, "%s/data/%.*s", root, (int)st->v.storage.key.len,
	         st->v.storage.key.s);
	const of3_zip_entry_t *e = of3_zip_find(z, name);
	if (!e)
		return key_fail(ck, key, "its storage '%s' is not in the archive", name);
	const void *sdata;
	uint64_t ssize;
	int rc = of3_zip_data(z, e, &sdata, &ssize);
	if (rc < 0)
		return rc;
	int64_t off = value->v.tensor.offset;
	if (off > (INT64_MAX / (int64_t)esize) - n)
		return key_fail(ck, key, "storage offset %lld out of range", (long long)off);
	uint64_t begin = n > 0 ? (uint64_t)off * esize : 0, end = begin + (uint64_t)n * esize;
	uint64_t declared = (uint64_t)st->v.storage.numel * esize;
	if (n > 0 && end > ssize)
		return key_fail(ck, key,
		                "needs bytes [%llu, %llu) of storage '%s', which holds %llu bytes "
		                "(truncated storage)",
		                (unsigned long long)begin, (unsigned long long)end, name,
		                (unsigned long long)ssize);
	if (n > 0 && end > declared)
		return key_fail(
		        ck, key, "needs elements [%lld, %lld) of storage '%s', which has %lld",
		        (long long)off, (long long)(off + n), name, (long long)st->v.storage.numel);
	*data = (const uint8_t *)sdata + begin;
	*numel = n;
	*file_offset = e->data_offset + begin;
	return OF3_OK;
}

static int make_view(of3_ckpt_t *ck, const of3_zip_t *z, const char *root, entry_t *en)
{
	const of3_pk_t *v = en->value, *st = v->v.tensor.storage;
	of3_ckpt_tensor_t *t = &en->t;
	if (dtype_of(st->v.storage.type, &t->dtype) < 0)
		return key_fail(
		        ck, en->key,
		        "dtype %s (torch.%s); only float32, bfloat16 and float16 weights are "
		        "read",
		        torch_dtype(st->v.storage.type), of3_pk_storage_name(st->v.storage.type));
	const uint8_t *data;
	int rc = tensor_bytes(ck, z, root, en->key, v, &data, &t->numel, &t->file_offset);
	if (rc < 0)
		return rc;
	t->ndim = v->v.tensor.ndim;
	memcpy(t->shape, v->v.tensor.shape, sizeof t->shape);
	t->nbytes = (size_t)t->numel * of3_dtype_size(t->dtype);
	t->in_place = (uintptr_t)data % of3_dtype_size(t->dtype) == 0;
	if (t->in_place) {
		t->data = data;
		return OF3_OK;
	}
	/* torch.save aligns storages to 64 bytes; another writer may not, and a float read from an
	 * odd address is undefined behaviour in C. */
	void *copy = malloc(t->nbytes ? t->nbytes : 1);
	if (!copy)
		return nomem();
	memcpy(copy, data, t->nbytes);
	t->data = copy;
	return OF3_OK;
}

/* version_tensor: a few integers, recorded in the info. */
static int read_version(of3_ckpt_t *ck, const of3_zip_t *z, const char *root, entry_t *en)
{
	const of3_pk_t *st = en->value->v.tensor.storage;
	const uint8_t *data;
	int64_t n;
	uint64_t at;
	int rc = tensor_bytes(ck, z, root, en->key, en->value, &data, &n, &at);
	if (rc < 0)
		return rc;
	ck->info.n_version = n > 4 ? 4 : (int)n;
	for (int i = 0; i < ck->info.n_version; i++) {
		switch (st->v.storage.type) {
		case OF3_PK_ST_LONG: {
			int64_t x;
			memcpy(&x, data + 8 * i, 8);
			ck->info.version[i] = x;
			break;
		}
		case OF3_PK_ST_INT: {
			int32_t x;
			memcpy(&x, data + 4 * i, 4);
			ck->info.version[i] = x;
			break;
		}
		case OF3_PK_ST_FLOAT: {
			float x;
			memcpy(&x, data + 4 * i, 4);
			ck->info.version[i] = (int64_t)x;
			break;
		}
		default:
			return key_fail(ck, en->key, "dtype %s; expected int64, int32 or float32",
			                torch_dtype(st->v.storage.type));
		}
	}
	return OF3_OK;
}

/* ---- opening ---- */

/* OpenFold3's get_state_dict_from_checkpoint(ckpt, init_from_ema_weights=True). */
static int unwrap(of3_ckpt_t *ck, const of3_pk_t *root, const of3_pk_t **sd)
{
	if (root->type != OF3_PK_DICT)
		return of3_err(OF3_ERR_INPUT,
		               "%s: the checkpoint holds a %s, not a dict of tensors", ck->label,
		               of3_pk_type_name(root->type));
	int training = of3_pk_dict_get(root, "state_dict") || of3_pk_dict_get(root, "module");
	if (!training) {
		*sd = root;
		ck->info.source = "top level";
		return OF3_OK;
	}
	const of3_pk_t *params = of3_pk_dict_get(of3_pk_dict_get(root, "ema"), "params");
	if (!params || params->type != OF3_PK_DICT)
		return of3_err(OF3_ERR_INPUT,
		               "%s: a training checkpoint (it has '%s') without EMA weights "
		               "(['ema']['params']); OpenFold3 predicts with the EMA weights",
		               ck->label,
		               of3_pk_dict_get(root, "state_dict") ? "state_dict" : "module");
	*sd = params;
	ck->info.source = "ema.params";
	return OF3_OK;
}

static int by_key(const void *a, const void *b)
{
	const entry_t *x = *(entry_t *const *)a, *y = *(entry_t *const *)b;
	int c = strcmp(x->t.key, y->t.key);
	if (c)
		return c;
	if (x->alias != y->alias)
		return x->alias - y->alias; /* the diffusion_module.* original first */
	return x->order < y->order ? -1 : x->order > y->order;
}

static int by_tensor_key(const void *a, const void *b)
{
	return strcmp((*(of3_ckpt_tensor_t *const *)a)->key, (*(of3_ckpt_tensor_t *const *)b)->key);
}

/* Folds each sample_diffusion copy into its twin (checkpoint.h says why its bytes win) and
 * refuses any other repeated key. sorted[] is entries by (key, alias, order). */
static int fold_duplicates(of3_ckpt_t *ck, entry_t **sorted, int64_t n)
{
	for (int64_t i = 1; i < n; i++) {
		entry_t *a = sorted[i - 1], *b = sorted[i];
		if (strcmp(a->t.key, b->t.key) != 0)
			continue;
		if (a->alias || !b->alias || (i + 1 < n && !strcmp(b->t.key, sorted[i + 1]->t.key)))
			return key_fail(ck, b->key, "appears twice in the state dict (as '%s')",
			                b->t.key);
		if (a->t.dtype != b->t.dtype || a->t.ndim != b->t.ndim ||
		    memcmp(a->t.shape, b->t.shape, sizeof a->t.shape) != 0) {
			char sa[200], sb[200];
			fmt_shape(sa, sizeof sa, b->t.ndim, b->t.shape);
			fmt_shape(sb, sizeof sb, a->t.ndim, a->t.shape);
			return key_fail(ck, b->key, "%s %s, but its twin '%s' is %s %s",
			                of3_dtype_name(b->t.dtype), sa, a->t.key,
			                of3_dtype_name(a->t.dtype), sb);
		}
		if (!a->t.in_place)
			free((void *)a->t.data);
		a->t.data = b->t.data;
		a->t.in_place = b->t.in_place;
		a->t.file_offset = b->t.file_offset;
		b->dropped = 1;
		ck->info.n_duplicates++;
	}
	return OF3_OK;
}

/* Checks a key's spelling and copies its canonical form into *keys. */
static int take_key(of3_ckpt_t *ck, entry_t *en, char **keys)
{
	const of3_pk_t *k = en->key;
	if (k->type != OF3_PK_STR)
		return of3_err(
		        OF3_ERR_INPUT,
		        "%s: byte %llu of data.pkl: a state-dict key that is a %s, expected a "
		        "string",
		        ck->label, (unsigned long long)k->offset, of3_pk_type_name(k->type));
	if (k->v.str.len == 0 || k->v.str.len > MAX_KEY_BYTES)
		return of3_err(OF3_ERR_INPUT,
		               "%s: byte %llu of data.pkl: a state-dict key of %zu bytes",
		               ck->label, (unsigned long long)k->offset, k->v.str.len);
	for (size_t i = 0; i < k->v.str.len; i++)
		if ((unsigned char)k->v.str.s[i] < 0x20 || k->v.str.s[i] == 0x7f)
			return of3_err(OF3_ERR_INPUT,
			               "%s: byte %llu of data.pkl: a state-dict key with a control "
			               "character",
			               ck->label, (unsigned long long)k->offset);
	if (en->value->type != OF3_PK_TENSOR)
		return key_fail(ck, k, "a %s, expected a tensor",
		                of3_pk_type_name(en->value->type));
	size_t n = k->v.str.len;
	if (starts(k->v.str.s, n, MODEL_PREFIX))
		ck->info.model_prefix = 1;
	const char *c = canonical(k->v.str.s, &n, &en->alias);
	memcpy(*keys, c, n);
	(*keys)[n] = 0;
	en->t.key = *keys;
	*keys += n + 1;
	return OF3_OK;
}

static int find_pickle(of3_ckpt_t *ck, const of3_zip_t *z, char *root, size_t cap,
                       const of3_zip_entry_t **pkl)
{
	*pkl = NULL;
	for (int64_t i = 0; i < of3_zip_count(z); i++) {
		const of3_zip_entry_t *e = of3_zip_entry(z, i);
		const char *slash = strchr(e->name, '/');
		if (!slash || strcmp(slash, "/data.pkl") != 0)
			continue;
		if (*pkl)
			return of3_err(OF3_ERR_INPUT, "%s: two pickles in one archive ('%s', '%s')",
			               ck->label, (*pkl)->name, e->name);
		if ((size_t)(slash - e->name) >= cap)
			return of3_err(OF3_ERR_INPUT, "%s: archive folder name too long",
			               ck->label);
		memcpy(root, e->name, (size_t)(slash - e->name));
		root[slash - e->name] = 0;
		*pkl = e;
	}
	if (!*pkl)
		return of3_err(OF3_ERR_INPUT,
		               "%s: a zip archive without <folder>/data.pkl: not a torch.save "
		               "checkpoint",
		               ck->label);
	char name[300];
	snprintf(name, sizeof name, "%s/byteorder", root);
	const of3_zip_entry_t *bo = of3_zip_find(z, name);
	const void *d;
	uint64_t n;
	if (bo) {
		int rc = of3_zip_data(z, bo, &d, &n);
		if (rc < 0)
			return rc;
		if (n != 6 || memcmp(d, "little", 6) != 0)
			return of3_err(OF3_ERR_INPUT,
			               "%s: a big-endian checkpoint ('%s' is not 'little'): not "
			               "supported",
			               ck->label, name);
	}
	return OF3_OK;
}

static int index_tensors(of3_ckpt_t *ck, const of3_zip_t *z, const char *root, const of3_pk_t *sd)
{
	int64_t n = sd->v.dict.n;
	entry_t *en = calloc((size_t)(n ? n : 1), sizeof *en);
	entry_t **sorted = calloc((size_t)(n ? n : 1), sizeof *sorted);
	size_t key_bytes = 1;
	for (int64_t i = 0; i < n; i++)
		if (sd->v.dict.keys[i]->type == OF3_PK_STR)
			key_bytes += sd->v.dict.keys[i]->v.str.len + 1;
	ck->keys = malloc(key_bytes);
	int rc = OF3_OK;
	if (!en || !sorted || !ck->keys) {
		rc = nomem();
		goto done;
	}
	char *keys = ck->keys;
	int64_t n_sorted = 0;
	for (int64_t i = 0; i < n; i++) {
		en[i].key = sd->v.dict.keys[i];
		en[i].value = sd->v.dict.values[i];
		en[i].order = i;
		if ((rc = take_key(ck, &en[i], &keys)) < 0)
			goto done;
		if (!en[i].alias && strcmp(en[i].t.key, "version_tensor") == 0) {
			if (ck->info.n_version)
				rc = key_fail(ck, en[i].key, "appears twice in the state dict");
			else
				rc = read_version(ck, z, root, &en[i]);
			if (rc < 0)
				goto done;
			en[i].dropped = 1;
			continue;
		}
		if ((rc = make_view(ck, z, root, &en[i])) < 0)
			goto done;
		sorted[n_sorted++] = &en[i];
	}
	qsort(sorted, (size_t)n_sorted, sizeof *sorted, by_key);
	if ((rc = fold_duplicates(ck, sorted, n_sorted)) < 0)
		goto done;
	ck->tensors = calloc((size_t)(n_sorted ? n_sorted : 1), sizeof *ck->tensors);
	ck->sorted = calloc((size_t)(n_sorted ? n_sorted : 1), sizeof *ck->sorted);
	if (!ck->tensors || !ck->sorted) {
		rc = nomem();
		goto done;
	}
	for (int64_t i = 0; i < n; i++) {
		if (en[i].dropped)
			continue;
		of3_ckpt_tensor_t *t = &ck->tensors[ck->info.n_tensors];
		*t = en[i].t;
		en[i].t.in_place = 1; /* ownership of a copy moved to ck->tensors */
		ck->sorted[ck->info.n_tensors++] = t;
		ck->info.n_params += t->numel;
		ck->info.n_bytes += t->nbytes;
	}
	qsort(ck->sorted, (size_t)ck->info.n_tensors, sizeof *ck->sorted, by_tensor_key);
done:
	if (en)
		for (int64_t i = 0; i < n; i++)
			if (!en[i].t.in_place && en[i].t.data && !en[i].dropped)
				free((void *)en[i].t.data);
	free(en);
	free(sorted);
	return rc;
}

static int open_index(of3_ckpt_t *ck)
{
	static const uint8_t legacy[] = {0x80, 0x02, 0x8a, 0x0a};
	if (ck->len >= sizeof legacy && memcmp(ck->buf, legacy, sizeof legacy) == 0)
		return of3_err(
		        OF3_ERR_INPUT,
		        "%s: a PyTorch checkpoint in the legacy format (torch.save before 1.6, "
		        "or _use_new_zipfile_serialization=False); re-save it with a current "
		        "torch.save",
		        ck->label);
	of3_zip_t *z = NULL;
	of3_pickle_t *p = NULL;
	int rc = of3_zip_open(&z, ck->buf, ck->len, ck->label);
	if (rc < 0)
		return rc;
	ck->info.zip64 = of3_zip_is_zip64(z);
	char root[256], label[600];
	const of3_zip_entry_t *pkl;
	const void *pdata;
	uint64_t plen;
	const of3_pk_t *sd = NULL;
	if ((rc = find_pickle(ck, z, root, sizeof root, &pkl)) < 0 ||
	    (rc = of3_zip_data(z, pkl, &pdata, &plen)) < 0)
		goto done;
	snprintf(label, sizeof label, "%s: %s", ck->label, pkl->name);
	if ((rc = of3_pickle_load(&p, pdata, (size_t)plen, label)) < 0 ||
	    (rc = unwrap(ck, of3_pickle_root(p), &sd)) < 0 ||
	    (rc = index_tensors(ck, z, root, sd)) < 0)
		goto done;
	const char **keys =
	        malloc((size_t)(ck->info.n_tensors ? ck->info.n_tensors : 1) * sizeof *keys);
	if (!keys) {
		rc = nomem();
		goto done;
	}
	for (int64_t i = 0; i < ck->info.n_tensors; i++)
		keys[i] = ck->tensors[i].key;
	ck->info.layout = of3_ckpt_detect_layout(keys, ck->info.n_tensors);
	free(keys);
done:
	of3_pickle_free(p);
	of3_zip_close(z);
	return rc;
}

static int ckpt_new(of3_ckpt_t **out, const char *label)
{
	*out = calloc(1, sizeof **out);
	if (!*out || !((*out)->label = strdup(label))) {
		free(*out);
		*out = NULL;
		return nomem();
	}
	(*out)->fd = -1;
	return OF3_OK;
}

int of3_ckpt_open_buffer(of3_ckpt_t **out, const void *buf, size_t len, const char *label)
{
	of3_ckpt_t *ck;
	int rc = ckpt_new(&ck, label);
	if (rc < 0)
		return rc;
	ck->buf = buf;
	ck->len = len;
	ck->info.file_bytes = len;
	if ((rc = open_index(ck)) < 0) {
		of3_ckpt_close(ck);
		ck = NULL;
	}
	*out = ck;
	return rc;
}

int of3_ckpt_open(of3_ckpt_t **out, const char *path)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return of3_err(errno == ENOENT ? OF3_ERR_INPUT : OF3_ERR_SYS, "cannot open %s: %s",
		               path, strerror(errno));
	of3_ckpt_t *ck = NULL;
	struct stat st;
	int rc = ckpt_new(&ck, path);
	if (rc < 0)
		goto done;
	if (fstat(fd, &st) != 0) {
		rc = of3_err(OF3_ERR_SYS, "%s", path);
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = of3_err(OF3_ERR_INPUT,
		             "%s is a directory (a DeepSpeed checkpoint?); give the .pt file of a "
		             "state dict",
		             path);
		goto done;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		rc = of3_err(OF3_ERR_INPUT, "%s: %s, not a checkpoint", path,
		             S_ISREG(st.st_mode) ? "an empty file" : "not a regular file");
		goto done;
	}
	ck->map_len = (size_t)st.st_size;
	ck->map = mmap(NULL, ck->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (ck->map == MAP_FAILED) {
		ck->map = NULL;
		rc = of3_err(OF3_ERR_SYS, "cannot map %s", path);
		goto done;
	}
	ck->buf = ck->map;
	ck->len = ck->map_len;
	ck->info.file_bytes = ck->map_len;
	/* Indexing touches one local header per tensor, spread over the whole file: without
	 * read-ahead a cold open reads a few pages per tensor instead of most of the file. */
	posix_madvise(ck->map, ck->map_len, POSIX_MADV_RANDOM);
	rc = open_index(ck);
	posix_madvise(ck->map, ck->map_len, POSIX_MADV_NORMAL);
	if (rc == 0) { /* kept for of3_ckpt_read_f32 */
		ck->fd = fd;
		fd = -1;
	}
done:
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		of3_ckpt_close(ck);
		return rc;
	}
	*out = ck;
	return OF3_OK;
}

void of3_ckpt_close(of3_ckpt_t *ck)
{
	if (!ck)
		return;
	for (int64_t i = 0; ck->tensors && i < ck->info.n_tensors; i++)
		if (!ck->tensors[i].in_place)
			free((void *)ck->tensors[i].data);
	if (ck->map)
		munmap(ck->map, ck->map_len);
	if (ck->fd >= 0)
		close(ck->fd);
	free(ck->tensors);
	free(ck->sorted);
	free(ck->keys);
	free(ck->label);
	free(ck);
}

/* ---- lookups ---- */

const of3_ckpt_info_t *of3_ckpt_info(const of3_ckpt_t *ck)
{
	return &ck->info;
}

const of3_ckpt_tensor_t *of3_ckpt_tensor(const of3_ckpt_t *ck, int64_t i)
{
	return i >= 0 && i < ck->info.n_tensors ? &ck->tensors[i] : NULL;
}

/* Index of the first sorted key >= key. */
static int64_t lower_bound(const of3_ckpt_t *ck, const char *key)
{
	int64_t lo = 0, hi = ck->info.n_tensors;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if (strcmp(ck->sorted[mid]->key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const of3_ckpt_tensor_t *of3_ckpt_find(of3_ckpt_t *ck, const char *key)
{
	int64_t i = lower_bound(ck, key);
	if (i == ck->info.n_tensors || strcmp(ck->sorted[i]->key, key) != 0)
		return NULL;
	ck->sorted[i]->used = 1;
	return ck->sorted[i];
}

int of3_ckpt_expect(of3_ckpt_t *ck, const of3_ckpt_tensor_t **out, int ndim, const int64_t *shape,
                    const char *key_fmt, ...)
{
	char key[MAX_KEY_BYTES + 1];
	va_list ap;
	va_start(ap, key_fmt);
	int n = vsnprintf(key, sizeof key, key_fmt, ap);
	va_end(ap);
	*out = NULL;
	if (n < 0 || (size_t)n >= sizeof key)
		return of3_err(OF3_ERR_RUNTIME, "%s: checkpoint key '%.60s...' too long", ck->label,
		               key);
	const of3_ckpt_tensor_t *t = of3_ckpt_find(ck, key);
	if (!t)
		return of3_err(OF3_ERR_INPUT,
		               "%s: checkpoint key '%s' is missing (layout %s, %lld "
		               "tensors)",
		               ck->label, key, of3_ckpt_layout_name(ck->info.layout),
		               (long long)ck->info.n_tensors);
	int ok = t->ndim == ndim;
	for (int i = 0; ok && i < ndim; i++)
		ok = shape[i] < 0 || shape[i] == t->shape[i];
	if (!ok) {
		char have[200], want[200];
		fmt_shape(have, sizeof have, t->ndim, t->shape);
		fmt_shape(want, sizeof want, ndim, shape);
		return of3_err(OF3_ERR_INPUT, "%s: checkpoint key '%s': shape %s, expected %s",
		               ck->label, key, have, want);
	}
	*out = t;
	return OF3_OK;
}

int64_t of3_ckpt_count_blocks(const of3_ckpt_t *ck, const char *prefix)
{
	char probe[MAX_KEY_BYTES + 32];
	for (int64_t i = 0;; i++) {
		int n = snprintf(probe, sizeof probe, "%s.%lld.", prefix, (long long)i);
		if (n < 0 || (size_t)n >= sizeof probe)
			return i;
		int64_t at = lower_bound(ck, probe);
		if (at == ck->info.n_tensors || strncmp(ck->sorted[at]->key, probe, (size_t)n) != 0)
			return i;
	}
}

int of3_ckpt_check_unused(const of3_ckpt_t *ck, const char *prefix)
{
	size_t n = prefix ? strlen(prefix) : 0;
	const of3_ckpt_tensor_t *first = NULL;
	int64_t count = 0;
	for (int64_t i = 0; i < ck->info.n_tensors; i++) {
		const of3_ckpt_tensor_t *t = &ck->tensors[i];
		if (t->used || strncmp(t->key, prefix ? prefix : "", n) != 0)
			continue;
		if (!first)
			first = t;
		count++;
	}
	if (!first)
		return OF3_OK;
	return of3_err(OF3_ERR_INPUT,
	               "%s: unexpected checkpoint key '%s' (%lld tensor%s under '%s' not used)",
	               ck->label, first->key, (long long)count, count == 1 ? "" : "s",
	               prefix ? prefix : "");
}

int of3_ckpt_require_layout(const of3_ckpt_t *ck, of3_ckpt_layout_t want)
{
	of3_ckpt_layout_t have = ck->info.layout;
	if (have == want)
		return OF3_OK;
	if (have == OF3_CKPT_LAYOUT_UNKNOWN)
		return of3_err(
		        OF3_ERR_INPUT,
		        "%s: not an OpenFold3 checkpoint layout this build knows (%lld tensors; "
		        "expected %s, %s)",
		        ck->label, (long long)ck->info.n_tensors, of3_ckpt_layout_name(want),
		        of3_ckpt_layout_file(want));
	return of3_err(OF3_ERR_INPUT,
	               "%s: checkpoint layout %s (%s) recognised, not supported yet (this build "
	               "reads %s, %s)",
	               ck->label, of3_ckpt_layout_name(have), of3_ckpt_layout_file(have),
	               of3_ckpt_layout_name(want), of3_ckpt_layout_file(want));
}

void of3_ckpt_to_f32_part(const of3_ckpt_tensor_t *t, int64_t i0, int64_t n, float *dst)
{
	const uint16_t *h = (const uint16_t *)t->data + i0;
	switch (t->dtype) {
	case OF3_DTYPE_BF16:
		for (int64_t i = 0; i < n; i++)
			dst[i] = of3_bf16_to_f32(h[i]);
		break;
	case OF3_DTYPE_F16:
		for (int64_t i = 0; i < n; i++)
			dst[i] = of3_f16_to_f32(h[i]);
		break;
	default:
		if (n > 0)
			memcpy(dst, (const float *)t->data + i0, (size_t)n * sizeof(float));
		break;
	}
}

void of3_ckpt_to_f32(const of3_ckpt_tensor_t *t, float *dst)
{
	of3_ckpt_to_f32_part(t, 0, t->numel, dst);
}

void of3_ckpt_read_f32(const of3_ckpt_t *ck, const of3_ckpt_tensor_t *t, int64_t i0, int64_t n,
                       float *dst)
{
	/* float32 comes straight from the file: one copy out of the page cache with no page
	 * faults on the map, about twice as fast as copying from the map (which a stage reads
	 * once, so nothing is gained by mapping the pages) */
	if (t->dtype == OF3_DTYPE_F32 && ck->fd >= 0 && n > 0) {
		char *p = (char *)dst;
		size_t left = (size_t)n * sizeof(float);
		uint64_t at = t->file_offset + (uint64_t)i0 * sizeof(float);
		while (left > 0) {
			ssize_t k = pread(ck->fd, p, left, (off_t)at);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			p += k, left -= (size_t)k, at += (uint64_t)k;
		}
		if (left == 0)
			return;
	}
	of3_ckpt_to_f32_part(t, i0, n, dst); /* the map; a failed read is read again from it */
}
