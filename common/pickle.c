/* pickle.c: the restricted unpickler of pickle.h. A stack machine over the opcodes a state dict
 * uses (Python's Lib/pickletools.py documents each opcode's encoding); every value is a node in
 * an arena freed at once. MARK starts a new frame as in CPython's unpickler, so an opcode can
 * never reach below the last MARK. */
#include "pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_NODES 512
#define MAX_GLOBAL  200 /* longest "module name" a GLOBAL may spell */

/* A value plus what only the arena needs: the capacity of a growing list or dict. */
typedef struct {
	of3_pk_t pub; /* first member: an of3_pk_t * is a node_t * */
	int64_t cap;
} node_t;

typedef struct block {
	struct block *next;
	int n;
	node_t nodes[BLOCK_NODES];
} block_t;

struct of3_pickle_t {
	char *label;
	const uint8_t *buf;
	size_t len, pos;
	uint64_t op_at; /* offset of the opcode being run */
	block_t *blocks;
	of3_pk_t **stack;
	int64_t n_stack, cap_stack;
	int64_t *marks; /* stack heights at each MARK */
	int64_t n_marks, cap_marks;
	of3_pk_t **memo;
	int64_t cap_memo, n_memo_set;
	of3_pk_t *root;
};

static const char *opname(uint8_t op)
{
	switch (op) {
	case '(': return "MARK";
	case '.': return "STOP";
	case '0': return "POP";
	case '1': return "POP_MARK";
	case '2': return "DUP";
	case 'F': return "FLOAT";
	case 'I': return "INT";
	case 'J': return "BININT";
	case 'K': return "BININT1";
	case 'L': return "LONG";
	case 'M': return "BININT2";
	case 'N': return "NONE";
	case 'P': return "PERSID";
	case 'Q': return "BINPERSID";
	case 'R': return "REDUCE";
	case 'S': return "STRING";
	case 'T': return "BINSTRING";
	case 'U': return "SHORT_BINSTRING";
	case 'V': return "UNICODE";
	case 'X': return "BINUNICODE";
	case 'a': return "APPEND";
	case 'b': return "BUILD";
	case 'c': return "GLOBAL";
	case 'd': return "DICT";
	case '}': return "EMPTY_DICT";
	case 'e': return "APPENDS";
	case 'g': return "GET";
	case 'h': return "BINGET";
	case 'i': return "INST";
	case 'j': return "LONG_BINGET";
	case 'l': return "LIST";
	case ']': return "EMPTY_LIST";
	case 'o': return "OBJ";
	case 'p': return "PUT";
	case 'q': return "BINPUT";
	case 'r': return "LONG_BINPUT";
	case 's': return "SETITEM";
	case 't': return "TUPLE";
	case ')': return "EMPTY_TUPLE";
	case 'u': return "SETITEMS";
	case 'G': return "BINFLOAT";
	case 'B': return "BINBYTES";
	case 'C': return "SHORT_BINBYTES";
	case 0x80: return "PROTO";
	case 0x81: return "NEWOBJ";
	case 0x82: return "EXT1";
	case 0x83: return "EXT2";
	case 0x84: return "EXT4";
	case 0x85: return "TUPLE1";
	case 0x86: return "TUPLE2";
	case 0x87: return "TUPLE3";
	case 0x88: return "NEWTRUE";
	case 0x89: return "NEWFALSE";
	case 0x8a: return "LONG1";
	case 0x8b: return "LONG4";
	case 0x8c: return "SHORT_BINUNICODE";
	case 0x8d: return "BINUNICODE8";
	case 0x8e: return "BINBYTES8";
	case 0x8f: return "EMPTY_SET";
	case 0x90: return "ADDITEMS";
	case 0x91: return "FROZENSET";
	case 0x92: return "NEWOBJ_EX";
	case 0x93: return "STACK_GLOBAL";
	case 0x94: return "MEMOIZE";
	case 0x95: return "FRAME";
	case 0x96: return "BYTEARRAY8";
	case 0x97: return "NEXT_BUFFER";
	case 0x98: return "READONLY_BUFFER";
	default: return "an unknown opcode";
	}
}

static const struct {
	const char *name;
	size_t elsize;
} storages[OF3_PK_ST_COUNT] = {
        [OF3_PK_ST_FLOAT] = {"FloatStorage", 4}, [OF3_PK_ST_DOUBLE] = {"DoubleStorage", 8},
        [OF3_PK_ST_HALF] = {"HalfStorage", 2},   [OF3_PK_ST_BFLOAT16] = {"BFloat16Storage", 2},
        [OF3_PK_ST_LONG] = {"LongStorage", 8},   [OF3_PK_ST_INT] = {"IntStorage", 4},
        [OF3_PK_ST_SHORT] = {"ShortStorage", 2}, [OF3_PK_ST_CHAR] = {"CharStorage", 1},
        [OF3_PK_ST_BYTE] = {"ByteStorage", 1},   [OF3_PK_ST_BOOL] = {"BoolStorage", 1},
};

const char *of3_pk_storage_name(of3_pk_storage_type_t type)
{
	return (unsigned)type < OF3_PK_ST_COUNT ? storages[type].name : "?";
}

size_t of3_pk_storage_elsize(of3_pk_storage_type_t type)
{
	return (unsigned)type < OF3_PK_ST_COUNT ? storages[type].elsize : 0;
}

const char *of3_pk_type_name(of3_pk_type_t type)
{
	static const char *names[] = {"None", "bool", "int",    "float",   "str",   "tuple",
	                              "list", "dict", "global", "storage", "tensor"};
	return (unsigned)type < sizeof names / sizeof *names ? names[type] : "?";
}

/* ---- errors ---- */

static int fail_at(const of3_pickle_t *p, uint64_t at, const char *fmt, ...) OF3_PRINTF(3, 4);
static int fail_at(const of3_pickle_t *p, uint64_t at, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return of3_err(OF3_ERR_INPUT, "%s: byte %llu: %s", p->label, (unsigned long long)at, msg);
}

#define fail(p, ...) fail_at(p, (p)->op_at, __VA_ARGS__)

static int nomem(void)
{
	return of3_err(OF3_ERR_NOMEM, "out of memory");
}

/* ---- the arena and the stacks ---- */

static of3_pk_t *new_value(of3_pickle_t *p, of3_pk_type_t type)
{
	if (!p->blocks || p->blocks->n == BLOCK_NODES) {
		block_t *b = malloc(sizeof *b);
		if (!b)
			return NULL;
		b->next = p->blocks;
		b->n = 0;
		p->blocks = b;
	}
	node_t *n = &p->blocks->nodes[p->blocks->n++];
	memset(n, 0, sizeof *n);
	n->pub.type = type;
	n->pub.offset = p->op_at;
	return &n->pub;
}

/* Makes room for one more item in a list (items) or dict (keys and values). */
static int grow(of3_pk_t *v)
{
	node_t *n = (node_t *)v;
	int64_t count = v->type == OF3_PK_DICT ? v->v.dict.n : v->v.seq.n;
	if (count < n->cap)
		return OF3_OK;
	int64_t cap = n->cap ? 2 * n->cap : 8;
	if (v->type == OF3_PK_DICT) {
		of3_pk_t **k = realloc(v->v.dict.keys, (size_t)cap * sizeof *k);
		if (!k)
			return nomem();
		v->v.dict.keys = k;
		of3_pk_t **val = realloc(v->v.dict.values, (size_t)cap * sizeof *val);
		if (!val)
			return nomem();
		v->v.dict.values = val;
	} else {
		of3_pk_t **items = realloc(v->v.seq.items, (size_t)cap * sizeof *items);
		if (!items)
			return nomem();
		v->v.seq.items = items;
	}
	n->cap = cap;
	return OF3_OK;
}

static int push(of3_pickle_t *p, of3_pk_t *v)
{
	if (!v)
		return nomem();
	if (p->n_stack == p->cap_stack) {
		int64_t cap = p->cap_stack ? 2 * p->cap_stack : 64;
		of3_pk_t **s = realloc(p->stack, (size_t)cap * sizeof *s);
		if (!s)
			return nomem();
		p->stack = s;
		p->cap_stack = cap;
	}
	p->stack[p->n_stack++] = v;
	return OF3_OK;
}

/* Bottom of the current frame: values below the last MARK are out of reach. */
static int64_t frame_base(const of3_pickle_t *p)
{
	return p->n_marks ? p->marks[p->n_marks - 1] : 0;
}

/* The value n from the top of the current frame (0: the top), or an error. */
static int peek(of3_pickle_t *p, int64_t n, of3_pk_t **out)
{
	if (p->n_stack - frame_base(p) <= n)
		return fail(p, "%s needs %lld value%s on the stack, the stack holds fewer",
		            opname(p->buf[p->op_at]), (long long)n + 1, n ? "s" : "");
	*out = p->stack[p->n_stack - 1 - n];
	return OF3_OK;
}

static int pop(of3_pickle_t *p, of3_pk_t **out)
{
	int rc = peek(p, 0, out);
	if (rc == 0)
		p->n_stack--;
	return rc;
}

/* Ends the frame the last MARK started: its values are stack[*first, n_stack). */
static int pop_mark(of3_pickle_t *p, int64_t *first)
{
	if (!p->n_marks)
		return fail(p, "%s without a MARK before it", opname(p->buf[p->op_at]));
	*first = p->marks[--p->n_marks];
	return OF3_OK;
}

static int make_seq(of3_pickle_t *p, of3_pk_type_t type, of3_pk_t **items, int64_t n,
                    of3_pk_t **out)
{
	of3_pk_t *v = new_value(p, type);
	if (!v)
		return nomem();
	if (n > 0) {
		v->v.seq.items = malloc((size_t)n * sizeof *items);
		if (!v->v.seq.items)
			return nomem();
		memcpy(v->v.seq.items, items, (size_t)n * sizeof *items);
		((node_t *)v)->cap = n;
	}
	v->v.seq.n = n;
	*out = v;
	return OF3_OK;
}

/* ---- reading arguments ---- */

static int need(of3_pickle_t *p, uint64_t n, const uint8_t **out)
{
	if (n > p->len - p->pos)
		return fail(p, "the pickle ends inside a %s opcode (truncated)",
		            opname(p->buf[p->op_at]));
	*out = p->buf + p->pos;
	p->pos += n;
	return OF3_OK;
}

static uint64_t le(const uint8_t *b, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

/* ---- globals ---- */

static void printable(char *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	dst[n] = 0;
}

static int global_value(of3_pickle_t *p, const uint8_t *mod, size_t n_mod, const uint8_t *name,
                        size_t n_name)
{
#define IS(s, n, lit) ((n) == sizeof(lit) - 1 && memcmp((s), (lit), (n)) == 0)
	of3_pk_t *v = new_value(p, OF3_PK_GLOBAL);
	if (!v)
		return nomem();
	if (IS(mod, n_mod, "collections") && IS(name, n_name, "OrderedDict")) {
		v->v.global.what = OF3_PK_G_ORDERED_DICT;
		return push(p, v);
	}
	if (IS(mod, n_mod, "torch._utils") && IS(name, n_name, "_rebuild_tensor_v2")) {
		v->v.global.what = OF3_PK_G_REBUILD_TENSOR;
		return push(p, v);
	}
	if (IS(mod, n_mod, "torch._utils") && IS(name, n_name, "_rebuild_parameter")) {
		v->v.global.what = OF3_PK_G_REBUILD_PARAM;
		return push(p, v);
	}
	if (IS(mod, n_mod, "torch")) {
		for (int t = 0; t < OF3_PK_ST_COUNT; t++) {
			if (n_name == strlen(storages[t].name) &&
			    memcmp(name, storages[t].name, n_name) == 0) {
				v->v.global.what = OF3_PK_G_STORAGE_CLASS;
				v->v.global.storage = (of3_pk_storage_type_t)t;
				return push(p, v);
			}
		}
	}
#undef IS
	char m[MAX_GLOBAL + 1], n[MAX_GLOBAL + 1];
	printable(m, mod, n_mod < MAX_GLOBAL ? n_mod : MAX_GLOBAL);
	printable(n, name, n_name < MAX_GLOBAL ? n_name : MAX_GLOBAL);
	return fail(p,
	            "%s '%s %s' is not allowed (a state dict needs only collections.OrderedDict, "
	            "torch._utils._rebuild_tensor_v2/_rebuild_parameter and torch.*Storage; "
	            "nothing is executed)",
	            opname(p->buf[p->op_at]), m, n);
}

/* GLOBAL: "module\nname\n". */
static int op_global(of3_pickle_t *p)
{
	const uint8_t *start = p->buf + p->pos, *end = p->buf + p->len;
	const uint8_t *nl1 = memchr(start, '\n', (size_t)(end - start));
	const uint8_t *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
	if (!nl2)
		return fail(p, "GLOBAL: the pickle ends inside the module and name (truncated)");
	p->pos = (size_t)(nl2 + 1 - p->buf);
	return global_value(p, start, (size_t)(nl1 - start), nl1 + 1, (size_t)(nl2 - nl1 - 1));
}

static int op_stack_global(of3_pickle_t *p)
{
	of3_pk_t *name, *mod;
	int rc;
	if ((rc = pop(p, &name)) < 0 || (rc = pop(p, &mod)) < 0)
		return rc;
	if (name->type != OF3_PK_STR || mod->type != OF3_PK_STR)
		return fail(p, "STACK_GLOBAL on a %s and a %s, expected two strings",
		            of3_pk_type_name(mod->type), of3_pk_type_name(name->type));
	return global_value(p, (const uint8_t *)mod->v.str.s, mod->v.str.len,
	                    (const uint8_t *)name->v.str.s, name->v.str.len);
}

/* ---- REDUCE, BUILD, BINPERSID: what torch's state dict needs, interpreted ---- */

static int int_tuple(of3_pickle_t *p, const of3_pk_t *t, const char *what, int64_t *dst, int *n)
{
	if (t->type != OF3_PK_TUPLE)
		return fail(p, "_rebuild_tensor_v2: %s is a %s, expected a tuple", what,
		            of3_pk_type_name(t->type));
	if (t->v.seq.n > OF3_PK_MAX_DIMS)
		return fail(p, "_rebuild_tensor_v2: %lld dimensions, at most %d are supported",
		            (long long)t->v.seq.n, OF3_PK_MAX_DIMS);
	for (int64_t i = 0; i < t->v.seq.n; i++) {
		const of3_pk_t *x = t->v.seq.items[i];
		if (x->type != OF3_PK_INT || x->v.i < 0)
			return fail(p, "_rebuild_tensor_v2: %s[%lld] is not a whole number >= 0",
			            what, (long long)i);
		dst[i] = x->v.i;
	}
	*n = (int)t->v.seq.n;
	return OF3_OK;
}

/* _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks
 * [, metadata]) */
static int rebuild_tensor(of3_pickle_t *p, const of3_pk_t *args)
{
	of3_pk_t **a = args->v.seq.items;
	if (args->v.seq.n != 6 && args->v.seq.n != 7)
		return fail(p, "_rebuild_tensor_v2 with %lld arguments, expected 6 or 7",
		            (long long)args->v.seq.n);
	if (a[0]->type != OF3_PK_STORAGE)
		return fail(p, "_rebuild_tensor_v2: the storage is a %s",
		            of3_pk_type_name(a[0]->type));
	if (a[1]->type != OF3_PK_INT || a[1]->v.i < 0)
		return fail(p, "_rebuild_tensor_v2: the storage offset is not a whole number >= 0");
	if (a[4]->type != OF3_PK_BOOL || a[5]->type != OF3_PK_DICT ||
	    (args->v.seq.n == 7 && a[6]->type != OF3_PK_DICT && a[6]->type != OF3_PK_NONE))
		return fail(p,
		            "_rebuild_tensor_v2: requires_grad, backward_hooks or metadata of the "
		            "wrong type");
	of3_pk_t *t = new_value(p, OF3_PK_TENSOR);
	if (!t)
		return nomem();
	int n_shape, n_stride, rc;
	if ((rc = int_tuple(p, a[2], "size", t->v.tensor.shape, &n_shape)) < 0 ||
	    (rc = int_tuple(p, a[3], "stride", t->v.tensor.stride, &n_stride)) < 0)
		return rc;
	if (n_shape != n_stride)
		return fail(p, "_rebuild_tensor_v2: %d sizes but %d strides", n_shape, n_stride);
	t->v.tensor.storage = a[0];
	t->v.tensor.offset = a[1]->v.i;
	t->v.tensor.ndim = n_shape;
	t->v.tensor.requires_grad = (int)a[4]->v.i;
	return push(p, t);
}

/* _rebuild_parameter(data, requires_grad, backward_hooks): the tensor itself. */
static int rebuild_param(of3_pickle_t *p, const of3_pk_t *args)
{
	of3_pk_t **a = args->v.seq.items;
	if (args->v.seq.n != 3 || a[0]->type != OF3_PK_TENSOR || a[1]->type != OF3_PK_BOOL ||
	    a[2]->type != OF3_PK_DICT)
		return fail(p, "_rebuild_parameter: expected (tensor, bool, dict)");
	of3_pk_t *t = new_value(p, OF3_PK_TENSOR);
	if (!t)
		return nomem();
	t->v.tensor = a[0]->v.tensor;
	t->v.tensor.requires_grad = (int)a[1]->v.i;
	return push(p, t);
}

static int op_reduce(of3_pickle_t *p)
{
	of3_pk_t *args, *fn;
	int rc;
	if ((rc = pop(p, &args)) < 0 || (rc = pop(p, &fn)) < 0)
		return rc;
	if (fn->type != OF3_PK_GLOBAL)
		return fail(p, "REDUCE calls a %s; only allowed globals can be called",
		            of3_pk_type_name(fn->type));
	if (args->type != OF3_PK_TUPLE)
		return fail(p, "REDUCE with arguments in a %s, expected a tuple",
		            of3_pk_type_name(args->type));
	switch (fn->v.global.what) {
	case OF3_PK_G_ORDERED_DICT:
		if (args->v.seq.n != 0)
			return fail(
			        p,
			        "OrderedDict(...) with arguments; only OrderedDict() is allowed");
		return push(p, new_value(p, OF3_PK_DICT));
	case OF3_PK_G_REBUILD_TENSOR: return rebuild_tensor(p, args);
	case OF3_PK_G_REBUILD_PARAM: return rebuild_param(p, args);
	case OF3_PK_G_STORAGE_CLASS: break;
	}
	return fail(p, "REDUCE on torch.%s is not allowed (storages come from persistent ids)",
	            of3_pk_storage_name(fn->v.global.storage));
}

/* BUILD on an OrderedDict sets its attributes (a state dict's _metadata): checked, dropped. */
static int op_build(of3_pickle_t *p)
{
	of3_pk_t *state, *obj;
	int rc;
	if ((rc = pop(p, &state)) < 0 || (rc = peek(p, 0, &obj)) < 0)
		return rc;
	if (obj->type != OF3_PK_DICT || (state->type != OF3_PK_DICT && state->type != OF3_PK_NONE))
		return fail(p,
		            "BUILD on a %s with a %s state; only an OrderedDict's attributes are "
		            "allowed",
		            of3_pk_type_name(obj->type), of3_pk_type_name(state->type));
	return OF3_OK;
}

/* BINPERSID: torch's ('storage', storage class, key, location, numel). */
static int op_persid(of3_pickle_t *p)
{
	of3_pk_t *pid;
	int rc = pop(p, &pid);
	if (rc < 0)
		return rc;
	of3_pk_t **a = pid->type == OF3_PK_TUPLE ? pid->v.seq.items : NULL;
	if (!a || pid->v.seq.n != 5 || !of3_pk_str_eq(a[0], "storage"))
		return fail(p, "BINPERSID: a persistent id other than ('storage', type, key, "
		               "location, numel)");
	if (a[1]->type != OF3_PK_GLOBAL || a[1]->v.global.what != OF3_PK_G_STORAGE_CLASS ||
	    a[2]->type != OF3_PK_STR || a[3]->type != OF3_PK_STR || a[4]->type != OF3_PK_INT ||
	    a[4]->v.i < 0)
		return fail(p, "BINPERSID: a storage reference with arguments of the wrong type");
	of3_pk_t *s = new_value(p, OF3_PK_STORAGE);
	if (!s)
		return nomem();
	s->v.storage.type = a[1]->v.global.storage;
	s->v.storage.key = a[2]->v.str;
	s->v.storage.location = a[3]->v.str;
	s->v.storage.numel = a[4]->v.i;
	return push(p, s);
}

/* ---- containers ---- */

static int op_setitems(of3_pickle_t *p, int many)
{
	int64_t first = p->n_stack - 2;
	int rc;
	if (many) {
		if ((rc = pop_mark(p, &first)) < 0)
			return rc;
	} else if (p->n_stack - frame_base(p) < 3) {
		return fail(p, "SETITEM needs a dict, a key and a value on the stack");
	}
	int64_t n = p->n_stack - first;
	if (n % 2)
		return fail(p, "SETITEMS with an odd number of values (%lld)", (long long)n);
	p->n_stack = first;
	of3_pk_t *d;
	if ((rc = peek(p, 0, &d)) < 0)
		return rc;
	if (d->type != OF3_PK_DICT)
		return fail(p, "%s on a %s, expected a dict", many ? "SETITEMS" : "SETITEM",
		            of3_pk_type_name(d->type));
	for (int64_t i = first; i < first + n; i += 2) {
		if ((rc = grow(d)) < 0)
			return rc;
		d->v.dict.keys[d->v.dict.n] = p->stack[i];
		d->v.dict.values[d->v.dict.n++] = p->stack[i + 1];
	}
	return OF3_OK;
}

static int op_appends(of3_pickle_t *p, int many)
{
	int64_t first = p->n_stack - 1;
	int rc;
	if (many) {
		if ((rc = pop_mark(p, &first)) < 0)
			return rc;
	} else if (p->n_stack - frame_base(p) < 2) {
		return fail(p, "APPEND needs a list and a value on the stack");
	}
	int64_t n = p->n_stack - first;
	p->n_stack = first;
	of3_pk_t *l;
	if ((rc = peek(p, 0, &l)) < 0)
		return rc;
	if (l->type != OF3_PK_LIST)
		return fail(p, "%s on a %s, expected a list", many ? "APPENDS" : "APPEND",
		            of3_pk_type_name(l->type));
	for (int64_t i = first; i < first + n; i++) {
		if ((rc = grow(l)) < 0)
			return rc;
		l->v.seq.items[l->v.seq.n++] = p->stack[i];
	}
	return OF3_OK;
}

static int op_tuple(of3_pickle_t *p, int64_t n)
{
	int64_t first;
	int rc;
	if (n < 0) {
		if ((rc = pop_mark(p, &first)) < 0)
			return rc;
		n = p->n_stack - first;
	} else if (p->n_stack - frame_base(p) < n) {
		return fail(p, "%s needs %lld value%s on the stack", opname(p->buf[p->op_at]),
		            (long long)n, n == 1 ? "" : "s");
	}
	of3_pk_t *t = NULL;
	if ((rc = make_seq(p, OF3_PK_TUPLE, n ? p->stack + p->n_stack - n : NULL, n, &t)) < 0)
		return rc;
	p->n_stack -= n;
	return push(p, t);
}

/* ---- memo ---- */

static int memo_put(of3_pickle_t *p, uint64_t idx)
{
	of3_pk_t *top;
	int rc = peek(p, 0, &top);
	if (rc < 0)
		return rc;
	/* The pickler numbers memo entries 0, 1, 2...; each costs at least two bytes. */
	if (idx >= p->len)
		return fail(p, "memo index %llu out of range", (unsigned long long)idx);
	if ((int64_t)idx >= p->cap_memo) {
		int64_t cap = p->cap_memo ? p->cap_memo : 256;
		while (cap <= (int64_t)idx)
			cap *= 2;
		of3_pk_t **m = realloc(p->memo, (size_t)cap * sizeof *m);
		if (!m)
			return nomem();
		memset(m + p->cap_memo, 0, (size_t)(cap - p->cap_memo) * sizeof *m);
		p->memo = m;
		p->cap_memo = cap;
	}
	if (!p->memo[idx])
		p->n_memo_set++;
	p->memo[idx] = top;
	return OF3_OK;
}

static int memo_get(of3_pickle_t *p, uint64_t idx)
{
	if ((int64_t)idx >= p->cap_memo || idx >= p->len || !p->memo[idx])
		return fail(p, "memo index %llu was never set", (unsigned long long)idx);
	return push(p, p->memo[idx]);
}

/* ---- the machine ---- */

static int push_str(of3_pickle_t *p, int len_bytes)
{
	const uint8_t *b, *s;
	int rc;
	if ((rc = need(p, (uint64_t)len_bytes, &b)) < 0)
		return rc;
	uint64_t n = le(b, len_bytes);
	if ((rc = need(p, n, &s)) < 0)
		return rc;
	of3_pk_t *v = new_value(p, OF3_PK_STR);
	if (!v)
		return nomem();
	v->v.str.s = (const char *)s;
	v->v.str.len = (size_t)n;
	return push(p, v);
}

static int push_int(of3_pickle_t *p, int64_t i, of3_pk_type_t type)
{
	of3_pk_t *v = new_value(p, type);
	if (!v)
		return nomem();
	v->v.i = i;
	return push(p, v);
}

static int step(of3_pickle_t *p, int *stop)
{
	const uint8_t *b;
	int rc;
	p->op_at = p->pos;
	uint8_t op = p->buf[p->pos++];
	switch (op) {
	case 0x80: /* PROTO */
		if ((rc = need(p, 1, &b)) < 0)
			return rc;
		if (b[0] < 2 || b[0] > 5)
			return fail(p, "pickle protocol %u; protocols 2 to 5 are read", b[0]);
		return OF3_OK;
	case 0x95: /* FRAME: a length hint only */ return need(p, 8, &b);
	case '.': /* STOP */
		if ((rc = pop(p, &p->root)) < 0)
			return rc;
		*stop = 1;
		return OF3_OK;
	case '(': /* MARK */
		if (p->n_marks == p->cap_marks) {
			int64_t cap = p->cap_marks ? 2 * p->cap_marks : 16;
			int64_t *m = realloc(p->marks, (size_t)cap * sizeof *m);
			if (!m)
				return nomem();
			p->marks = m;
			p->cap_marks = cap;
		}
		p->marks[p->n_marks++] = p->n_stack;
		return OF3_OK;
	case '}': return push(p, new_value(p, OF3_PK_DICT));
	case ']': return push(p, new_value(p, OF3_PK_LIST));
	case ')': return op_tuple(p, 0);
	case 't': return op_tuple(p, -1);
	case 0x85: return op_tuple(p, 1);
	case 0x86: return op_tuple(p, 2);
	case 0x87: return op_tuple(p, 3);
	case 'a': return op_appends(p, 0);
	case 'e': return op_appends(p, 1);
	case 's': return op_setitems(p, 0);
	case 'u': return op_setitems(p, 1);
	case 'X': return push_str(p, 4);
	case 0x8c: return push_str(p, 1);
	case 0x8d: return push_str(p, 8);
	case 'q':
	case 'r':
		if ((rc = need(p, op == 'q' ? 1 : 4, &b)) < 0)
			return rc;
		return memo_put(p, le(b, op == 'q' ? 1 : 4));
	case 0x94: /* MEMOIZE: the next index, as CPython numbers it (len(memo)) */
		return memo_put(p, (uint64_t)p->n_memo_set);
	case 'h':
	case 'j':
		if ((rc = need(p, op == 'h' ? 1 : 4, &b)) < 0)
			return rc;
		return memo_get(p, le(b, op == 'h' ? 1 : 4));
	case 'J':
		if ((rc = need(p, 4, &b)) < 0)
			return rc;
		return push_int(p, (int32_t)(uint32_t)le(b, 4), OF3_PK_INT);
	case 'K':
		if ((rc = need(p, 1, &b)) < 0)
			return rc;
		return push_int(p, b[0], OF3_PK_INT);
	case 'M':
		if ((rc = need(p, 2, &b)) < 0)
			return rc;
		return push_int(p, (int64_t)le(b, 2), OF3_PK_INT);
	case 0x8a: { /* LONG1: n bytes of little-endian two's complement */
		const uint8_t *d;
		if ((rc = need(p, 1, &b)) < 0)
			return rc;
		if (b[0] > 8)
			return fail(p, "LONG1 integer of %u bytes; at most 8 are supported", b[0]);
		if ((rc = need(p, b[0], &d)) < 0)
			return rc;
		uint64_t u = le(d, b[0]);
		if (b[0] > 0 && b[0] < 8 && (d[b[0] - 1] & 0x80))
			u |= ~(uint64_t)0 << (8 * b[0]); /* sign-extend */
		return push_int(p, (int64_t)u, OF3_PK_INT);
	}
	case 'G': { /* BINFLOAT: big-endian IEEE double */
		if ((rc = need(p, 8, &b)) < 0)
			return rc;
		uint64_t u = 0;
		for (int i = 0; i < 8; i++)
			u = u << 8 | b[i];
		of3_pk_t *v = new_value(p, OF3_PK_FLOAT);
		if (!v)
			return nomem();
		memcpy(&v->v.f, &u, 8);
		return push(p, v);
	}
	case 0x88: return push_int(p, 1, OF3_PK_BOOL);
	case 0x89: return push_int(p, 0, OF3_PK_BOOL);
	case 'N': return push(p, new_value(p, OF3_PK_NONE));
	case 'c': return op_global(p);
	case 0x93: return op_stack_global(p);
	case 'Q': return op_persid(p);
	case 'R': return op_reduce(p);
	case 'b': return op_build(p);
	default:
		return fail(
		        p,
		        "opcode 0x%02x (%s) is not allowed in a checkpoint (only what a state dict "
		        "uses is read; nothing is executed)",
		        op, opname(op));
	}
}

int of3_pickle_load(of3_pickle_t **out, const void *buf, size_t len, const char *label)
{
	*out = NULL;
	of3_pickle_t *p = calloc(1, sizeof *p);
	if (!p || !(p->label = strdup(label))) {
		free(p);
		return nomem();
	}
	p->buf = buf;
	p->len = len;
	int rc = OF3_OK, stop = 0;
	while (rc == 0 && !stop) {
		if (p->pos >= p->len) {
			rc = fail_at(p, p->len,
			             "the pickle ends without a STOP opcode (truncated)");
			break;
		}
		rc = step(p, &stop);
	}
	if (rc < 0) {
		of3_pickle_free(p);
		return rc;
	}
	*out = p;
	return OF3_OK;
}

void of3_pickle_free(of3_pickle_t *p)
{
	if (!p)
		return;
	for (block_t *b = p->blocks, *next; b; b = next) {
		for (int i = 0; i < b->n; i++) {
			of3_pk_t *v = &b->nodes[i].pub;
			if (v->type == OF3_PK_TUPLE || v->type == OF3_PK_LIST) {
				free(v->v.seq.items);
			} else if (v->type == OF3_PK_DICT) {
				free(v->v.dict.keys);
				free(v->v.dict.values);
			}
		}
		next = b->next;
		free(b);
	}
	free(p->stack);
	free(p->marks);
	free(p->memo);
	free(p->label);
	free(p);
}

const of3_pk_t *of3_pickle_root(const of3_pickle_t *p)
{
	return p->root;
}

int of3_pk_str_eq(const of3_pk_t *v, const char *s)
{
	size_t n = strlen(s);
	return v && v->type == OF3_PK_STR && v->v.str.len == n && memcmp(v->v.str.s, s, n) == 0;
}

const of3_pk_t *of3_pk_dict_get(const of3_pk_t *dict, const char *key)
{
	if (!dict || dict->type != OF3_PK_DICT)
		return NULL;
	for (int64_t i = dict->v.dict.n; i-- > 0;)
		if (of3_pk_str_eq(dict->v.dict.keys[i], key))
			return dict->v.dict.values[i];
	return NULL;
}
