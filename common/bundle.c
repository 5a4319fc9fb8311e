/* bundle.c: the in-memory bundle: tensors, values and the metadata map. */
#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE) */
#include "bundle.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_BYTES (2u << 20)

of3_bundle_t *of3_bundle_init(const char *kind, const char *query)
{
	of3_bundle_t *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->zone = msgpack_zone_new(4096);
	b->kind = strdup(kind ? kind : "");
	b->query = strdup(query ? query : "");
	b->producer = strdup("");
	if (!b->zone || !b->kind || !b->query || !b->producer) {
		of3_bundle_free(b);
		return NULL;
	}
	b->meta.type = MSGPACK_OBJECT_MAP;
	return b;
}

void of3_bundle_free(of3_bundle_t *b)
{
	if (!b)
		return;
	for (int i = 0; i < b->n_tensors; i++) {
		free(b->tensors[i].name);
		free(b->tensors[i].base ? b->tensors[i].base : b->tensors[i].data);
	}
	for (int i = 0; i < b->n_values; i++)
		free(b->values[i].name);
	free(b->tensors);
	free(b->values);
	free(b->kind);
	free(b->query);
	free(b->producer);
	if (b->zone)
		msgpack_zone_free(b->zone);
	free(b);
}

int64_t of3_tensor_numel(const of3_tensor_t *t)
{
	int64_t n = 1;
	for (int i = 0; i < t->ndim; i++)
		n *= t->shape[i];
	return n;
}

of3_tensor_t *of3_bundle_tensor(const of3_bundle_t *b, const char *name)
{
	for (int i = 0; i < b->n_tensors; i++)
		if (strcmp(b->tensors[i].name, name) == 0)
			return &b->tensors[i];
	return NULL;
}

const void *of3_bundle_want(const of3_bundle_t *b, const char *what, const char *name,
                            of3_dtype_t dtype, int ndim, int64_t *shape, int *rc)
{
	if (*rc)
		return NULL;
	const of3_tensor_t *t = of3_bundle_tensor(b, name);
	if (!t) {
		*rc = of3_err(OF3_ERR_INPUT, "%s: tensor '%s' is missing", what, name);
		return NULL;
	}
	if (t->dtype != dtype) {
		*rc = of3_err(OF3_ERR_INPUT, "%s: tensor '%s': dtype %s, expected %s", what, name,
		              of3_dtype_name(t->dtype), of3_dtype_name(dtype));
		return NULL;
	}
	int ok = t->ndim == ndim;
	for (int i = 0; ok && i < ndim; i++)
		ok = shape[i] == OF3_DIM_ANY ? t->shape[i] >= 0 : t->shape[i] == shape[i];
	if (!ok) {
		char got[128], exp[128];
		int n = 0, m = 0;
		for (int i = 0; i < t->ndim && n < (int)sizeof got - 24; i++)
			n += snprintf(got + n, sizeof got - (size_t)n, "%s%lld", i ? ", " : "",
			              (long long)t->shape[i]);
		for (int i = 0; i < ndim && m < (int)sizeof exp - 24; i++) {
			if (shape[i] == OF3_DIM_ANY)
				m += snprintf(exp + m, sizeof exp - (size_t)m, "%s*",
				              i ? ", " : "");
			else
				m += snprintf(exp + m, sizeof exp - (size_t)m, "%s%lld",
				              i ? ", " : "", (long long)shape[i]);
		}
		got[n] = exp[m] = 0;
		*rc = of3_err(OF3_ERR_INPUT, "%s: tensor '%s': shape [%s], expected [%s]", what,
		              name, got, exp);
		return NULL;
	}
	for (int i = 0; i < ndim; i++)
		shape[i] = t->shape[i];
	return t->data;
}

int of3_diffuse_carries(const char *name)
{
	static const char *const left_out[] = {"msa",
	                                       "has_deletion",
	                                       "deletion_value",
	                                       "profile",
	                                       "msa_mask",
	                                       "template_restype",
	                                       "template_pseudo_beta_mask",
	                                       "template_backbone_frame_mask",
	                                       "template_distogram",
	                                       "template_unit_vector",
	                                       "ref_element",
	                                       "ref_atom_name_chars",
	                                       "s_input",
	                                       "s_trunk",
	                                       "z_trunk",
	                                       NULL};
	for (int k = 0; left_out[k]; k++)
		if (!strcmp(left_out[k], name))
			return 0;
	return 1;
}

const msgpack_object *of3_bundle_value(const of3_bundle_t *b, const char *name)
{
	for (int i = 0; i < b->n_values; i++)
		if (strcmp(b->values[i].name, name) == 0)
			return &b->values[i].value;
	return NULL;
}

static int name_taken(const of3_bundle_t *b, const char *name)
{
	return of3_bundle_tensor(b, name) || of3_bundle_value(b, name);
}

/* Grows an array of `size`-byte items to hold at least one more. */
static int grow(void **items, int n, int *m, size_t size)
{
	if (n < *m)
		return OF3_OK;
	int m_new = *m ? 2 * *m : 16;
	void *p = realloc(*items, (size_t)m_new * size);
	if (!p)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	*items = p;
	*m = m_new;
	return OF3_OK;
}

int of3_bundle_add_tensor(of3_bundle_t *b, const char *name, of3_dtype_t dtype, int ndim,
                          const int64_t *shape, int alloc, of3_tensor_t **out)
{
	if (!name[0])
		return of3_err(OF3_ERR_INPUT, "a tensor has an empty name");
	if (name_taken(b, name))
		return of3_err(OF3_ERR_INPUT, "tensor '%s': the name appears twice in one bundle",
		               name);
	if ((unsigned)dtype >= OF3_DTYPE_COUNT)
		return of3_err(OF3_ERR_INPUT, "tensor '%s': unknown dtype %d", name, (int)dtype);
	if (ndim < 0 || ndim > OF3_MAX_DIMS)
		return of3_err(OF3_ERR_INPUT, "tensor '%s': %d dimensions (at most %d)", name, ndim,
		               OF3_MAX_DIMS);
	uint64_t nbytes = of3_dtype_size(dtype);
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0)
			return of3_err(OF3_ERR_INPUT, "tensor '%s': dimension %d is negative", name,
			               i);
		if (shape[i] > 0 && nbytes > (UINT64_C(1) << 62) / (uint64_t)shape[i])
			return of3_err(OF3_ERR_INPUT, "tensor '%s': shape too large", name);
		nbytes *= (uint64_t)shape[i];
	}
	int rc = grow((void **)&b->tensors, b->n_tensors, &b->m_tensors, sizeof *b->tensors);
	if (rc < 0)
		return rc;
	of3_tensor_t *t = &b->tensors[b->n_tensors];
	memset(t, 0, sizeof *t);
	t->dtype = dtype;
	t->ndim = ndim;
	for (int i = 0; i < ndim; i++)
		t->shape[i] = shape[i];
	t->nbytes = (size_t)nbytes;
	t->name = strdup(name);
	if (!t->name)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	if (alloc && of3_tensor_alloc_zeroed(t) < 0) {
		free(t->name);
		return of3_err(OF3_ERR_NOMEM, "tensor '%s': out of memory for %zu bytes", name,
		               t->nbytes);
	}
	b->n_tensors++;
	if (out)
		*out = t;
	return OF3_OK;
}

void *of3_tensor_alloc(size_t nbytes)
{
	/* Large buffers go on 2 MiB boundaries and ask for huge pages: filling a multi-GiB tensor
	 * from a pipe is otherwise dominated by page faults. */
	size_t align = nbytes >= HUGE_BYTES ? HUGE_BYTES : OF3_TENSOR_ALIGN;
	size_t padded = (nbytes + align - 1) / align * align; /* aligned_alloc wants a multiple */
	void *p = aligned_alloc(align, padded ? padded : align);
#ifdef MADV_HUGEPAGE
	if (p && align == HUGE_BYTES)
		madvise(p, padded, MADV_HUGEPAGE);
#endif
	return p;
}

void *of3_bundle_new_tensor(of3_bundle_t *b, const char *name, of3_dtype_t dtype, int ndim,
                            const int64_t *shape, int *rc)
{
	of3_tensor_t *t;
	if (*rc < 0)
		return NULL;
	*rc = of3_bundle_add_tensor(b, name, dtype, ndim, shape, 1, &t);
	return *rc < 0 ? NULL : t->data;
}

const msgpack_object *of3_map_get(const msgpack_object *map, const char *key)
{
	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	size_t n = strlen(key);
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    memcmp(k->via.str.ptr, key, n) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

int of3_tensor_alloc_zeroed(of3_tensor_t *t)
{
	/* calloc hands out fresh, already-zero pages for large sizes; aligned by hand */
	uintptr_t base = (uintptr_t)calloc(1, t->nbytes + OF3_TENSOR_ALIGN);
	if (!base)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	t->base = (void *)base;
	t->data = (void *)((base + OF3_TENSOR_ALIGN - 1) / OF3_TENSOR_ALIGN * OF3_TENSOR_ALIGN);
	return OF3_OK;
}

/* Deep copy of a msgpack object into a zone (msgpack-c only copies references). */
static int clone(msgpack_zone *z, msgpack_object *dst, const msgpack_object *src)
{
	*dst = *src;
	switch (src->type) {
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
	case MSGPACK_OBJECT_EXT: {
		uint32_t n =
		        src->type == MSGPACK_OBJECT_EXT ? src->via.ext.size : src->via.str.size;
		const char *p =
		        src->type == MSGPACK_OBJECT_EXT ? src->via.ext.ptr : src->via.str.ptr;
		char *q = msgpack_zone_malloc(z, n ? n : 1);
		if (!q)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		if (n)
			memcpy(q, p, n);
		if (src->type == MSGPACK_OBJECT_EXT)
			dst->via.ext.ptr = q;
		else if (src->type == MSGPACK_OBJECT_STR)
			dst->via.str.ptr = q;
		else
			dst->via.bin.ptr = q;
		return OF3_OK;
	}
	case MSGPACK_OBJECT_ARRAY: {
		uint32_t n = src->via.array.size;
		msgpack_object *a = msgpack_zone_malloc(z, (n ? n : 1) * sizeof *a);
		if (!a)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		for (uint32_t i = 0; i < n; i++) {
			int rc = clone(z, &a[i], &src->via.array.ptr[i]);
			if (rc < 0)
				return rc;
		}
		dst->via.array.ptr = a;
		return OF3_OK;
	}
	case MSGPACK_OBJECT_MAP: {
		uint32_t n = src->via.map.size;
		msgpack_object_kv *kv = msgpack_zone_malloc(z, (n ? n : 1) * sizeof *kv);
		if (!kv)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		for (uint32_t i = 0; i < n; i++) {
			int rc = clone(z, &kv[i].key, &src->via.map.ptr[i].key);
			if (rc == 0)
				rc = clone(z, &kv[i].val, &src->via.map.ptr[i].val);
			if (rc < 0)
				return rc;
		}
		dst->via.map.ptr = kv;
		return OF3_OK;
	}
	default: return OF3_OK;
	}
}

int of3_bundle_add_value(of3_bundle_t *b, const char *name, const msgpack_object *value)
{
	if (!name[0])
		return of3_err(OF3_ERR_INPUT, "a value has an empty name");
	if (name_taken(b, name))
		return of3_err(OF3_ERR_INPUT, "value '%s': the name appears twice in one bundle",
		               name);
	int rc = grow((void **)&b->values, b->n_values, &b->m_values, sizeof *b->values);
	if (rc < 0)
		return rc;
	of3_value_t *v = &b->values[b->n_values];
	v->name = strdup(name);
	if (!v->name)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	rc = clone(b->zone, &v->value, value);
	if (rc < 0) {
		free(v->name);
		return rc;
	}
	b->n_values++;
	return OF3_OK;
}

static msgpack_object str_object(const char *s)
{
	msgpack_object o = {.type = MSGPACK_OBJECT_STR};
	o.via.str.ptr = s;
	o.via.str.size = (uint32_t)strlen(s);
	return o;
}

int of3_bundle_add_str(of3_bundle_t *b, const char *name, const char *s)
{
	msgpack_object o = str_object(s);
	return of3_bundle_add_value(b, name, &o);
}

static int key_is(const msgpack_object *k, const char *key)
{
	size_t n = strlen(key);
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       memcmp(k->via.str.ptr, key, n) == 0;
}

const msgpack_object *of3_bundle_meta(const of3_bundle_t *b, const char *key)
{
	return of3_map_get(&b->meta, key);
}

int of3_bundle_meta_set(of3_bundle_t *b, const char *key, const msgpack_object *v)
{
	msgpack_object_map *m = &b->meta.via.map;
	for (uint32_t i = 0; i < m->size; i++)
		if (key_is(&m->ptr[i].key, key))
			return clone(b->zone, &m->ptr[i].val, v);
	/* The zone cannot grow an array in place: copy the map into a new one, one entry longer. */
	msgpack_object_kv *kv = msgpack_zone_malloc(b->zone, (m->size + 1) * sizeof *kv);
	if (!kv)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	if (m->size)
		memcpy(kv, m->ptr, m->size * sizeof *kv);
	msgpack_object k = str_object(key);
	int rc = clone(b->zone, &kv[m->size].key, &k);
	if (rc == 0)
		rc = clone(b->zone, &kv[m->size].val, v);
	if (rc < 0)
		return rc;
	m->ptr = kv;
	m->size++;
	return OF3_OK;
}

int of3_bundle_meta_set_int(of3_bundle_t *b, const char *key, int64_t v)
{
	msgpack_object o = {.type = v < 0 ? MSGPACK_OBJECT_NEGATIVE_INTEGER
	                                  : MSGPACK_OBJECT_POSITIVE_INTEGER};
	if (v < 0)
		o.via.i64 = v;
	else
		o.via.u64 = (uint64_t)v;
	return of3_bundle_meta_set(b, key, &o);
}

int of3_bundle_meta_set_str(of3_bundle_t *b, const char *key, const char *s)
{
	msgpack_object o = str_object(s);
	return of3_bundle_meta_set(b, key, &o);
}

int of3_bundle_meta_copy(of3_bundle_t *b, const of3_bundle_t *from)
{
	for (uint32_t i = 0; i < from->meta.via.map.size; i++) {
		const msgpack_object_kv *kv = &from->meta.via.map.ptr[i];
		char key[256];
		if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size >= sizeof key)
			continue; /* readers only accept string keys; nothing else can be here */
		memcpy(key, kv->key.via.str.ptr, kv->key.via.str.size);
		key[kv->key.via.str.size] = 0;
		int rc = of3_bundle_meta_set(b, key, &kv->val);
		if (rc < 0)
			return rc;
	}
	return OF3_OK;
}

static const char *article(const char *word)
{
	return word[0] && strchr("aeiou", word[0]) ? "an" : "a";
}

int of3_bundle_expect_kind(const of3_bundle_t *b, const char *kind)
{
	if (strcmp(b->kind, kind) == 0)
		return OF3_OK;
	return of3_err(OF3_ERR_INPUT, "query '%s': expected %s %s bundle, got %s %s bundle",
	               b->query, article(kind), kind, article(b->kind), b->kind);
}
