/* pickle.h: a restricted unpickler for the data.pkl of a torch.save archive (DESIGN.md §5).
 *
 * It understands the opcodes a pickled state dict uses and nothing else, and it never executes
 * anything: a GLOBAL names one of a fixed list of callables and classes, and REDUCE on one of
 * them is interpreted here (an empty OrderedDict, a tensor description, a parameter), never
 * called. The result is a tree of of3_pk_t values owned by the of3_pickle_t.
 *
 * Opcodes accepted (Python's pickletools names): PROTO (2-5), FRAME, STOP, MARK, EMPTY_DICT,
 * EMPTY_LIST, EMPTY_TUPLE, TUPLE, TUPLE1, TUPLE2, TUPLE3, APPEND, APPENDS, SETITEM, SETITEMS,
 * BINUNICODE, SHORT_BINUNICODE, BINUNICODE8, BINPUT, LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET,
 * BININT, BININT1, BININT2, LONG1 (up to 8 bytes), BINFLOAT, NEWTRUE, NEWFALSE, NONE, GLOBAL,
 * STACK_GLOBAL, BINPERSID, REDUCE, BUILD. (torch.save writes protocol 2; the protocol 4 opcodes
 * cost nothing and accept a torch.save(..., pickle_protocol=4) file.)
 *
 * Globals accepted: collections.OrderedDict; torch._utils._rebuild_tensor_v2;
 * torch._utils._rebuild_parameter; torch.<T>Storage for T in Float, Double, Half, BFloat16,
 * Long, Int, Short, Char, Byte, Bool. Persistent ids (BINPERSID) must be torch's storage
 * references ('storage', <storage class>, key, location, numel).
 *
 * Any other opcode or global, a REDUCE or BUILD on anything else, or a malformed argument is
 * refused with OF3_ERR_INPUT and a message "<label>: byte N: ..." naming the opcode or global.
 *
 * Known differences from Python's unpickler, none reachable from torch.save output: a dict keeps
 * every SETITEM in order, a repeated key included (of3_ckpt refuses those); BUILD's state (an
 * OrderedDict's _metadata) is checked for type and dropped. */
#ifndef OF3_PICKLE_H
#define OF3_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define OF3_PK_MAX_DIMS 8 /* tensors of more dimensions are refused */

typedef enum {
	OF3_PK_NONE,
	OF3_PK_BOOL,    /* v.i is 0 or 1 */
	OF3_PK_INT,     /* v.i */
	OF3_PK_FLOAT,   /* v.f */
	OF3_PK_STR,     /* v.str */
	OF3_PK_TUPLE,   /* v.seq */
	OF3_PK_LIST,    /* v.seq */
	OF3_PK_DICT,    /* v.dict (dict and OrderedDict alike) */
	OF3_PK_GLOBAL,  /* v.global: an allowed callable or class, not called */
	OF3_PK_STORAGE, /* v.storage: a persistent storage reference */
	OF3_PK_TENSOR,  /* v.tensor */
} of3_pk_type_t;

/* What an allowed GLOBAL names. */
typedef enum {
	OF3_PK_G_ORDERED_DICT,   /* collections.OrderedDict */
	OF3_PK_G_REBUILD_TENSOR, /* torch._utils._rebuild_tensor_v2 */
	OF3_PK_G_REBUILD_PARAM,  /* torch._utils._rebuild_parameter */
	OF3_PK_G_STORAGE_CLASS,  /* torch.<T>Storage: v.global.storage says which */
} of3_pk_global_t;

/* The element type of a torch storage class. */
typedef enum {
	OF3_PK_ST_FLOAT,
	OF3_PK_ST_DOUBLE,
	OF3_PK_ST_HALF,
	OF3_PK_ST_BFLOAT16,
	OF3_PK_ST_LONG,
	OF3_PK_ST_INT,
	OF3_PK_ST_SHORT,
	OF3_PK_ST_CHAR,
	OF3_PK_ST_BYTE,
	OF3_PK_ST_BOOL,
	OF3_PK_ST_COUNT
} of3_pk_storage_type_t;

typedef struct of3_pk of3_pk_t;

typedef struct {
	const char *s; /* UTF-8, NOT NUL-terminated; points into the pickle buffer */
	size_t len;
} of3_pk_str_t;

struct of3_pk {
	of3_pk_type_t type;
	uint64_t offset; /* byte of the opcode that made this value, for messages */
	union {
		int64_t i;
		double f;
		of3_pk_str_t str;
		struct {
			of3_pk_t **items;
			int64_t n;
		} seq;
		struct {
			of3_pk_t **keys, **values; /* n pairs in insertion order */
			int64_t n;
		} dict;
		struct {
			of3_pk_global_t what;
			of3_pk_storage_type_t storage; /* for OF3_PK_G_STORAGE_CLASS */
		} global;
		struct {
			of3_pk_storage_type_t type;
			of3_pk_str_t key;      /* the archive entry is "<root>/data/<key>" */
			of3_pk_str_t location; /* "cpu", "cuda:0", ...: where it was saved from */
			int64_t numel;         /* elements the storage holds */
		} storage;
		struct {
			const of3_pk_t *storage; /* an OF3_PK_STORAGE value */
			int64_t offset;          /* storage offset, in elements */
			int ndim;
			int64_t shape[OF3_PK_MAX_DIMS];
			int64_t stride[OF3_PK_MAX_DIMS]; /* in elements */
			int requires_grad;
		} tensor;
	} v;
};

typedef struct of3_pickle_t of3_pickle_t;

/* Unpickles buf[0, len) (which must outlive the result: strings point into it); `label` names
 * the stream in messages (copied). On success *out holds the value STOP returned. */
int of3_pickle_load(of3_pickle_t **out, const void *buf, size_t len, const char *label) OF3_WUR;
void of3_pickle_free(of3_pickle_t *p);

/* The value the stream returned. */
const of3_pk_t *of3_pickle_root(const of3_pickle_t *p);

/* The value under a string key of a dict (the last one, like Python), or NULL. */
const of3_pk_t *of3_pk_dict_get(const of3_pk_t *dict, const char *key);

/* Whether a value is the string s. */
int of3_pk_str_eq(const of3_pk_t *v, const char *s);

/* Name of a value type ("dict", "tensor", ...) and of a storage type ("FloatStorage", ...). */
const char *of3_pk_type_name(of3_pk_type_t type);
const char *of3_pk_storage_name(of3_pk_storage_type_t type);

/* Bytes per element of a storage type. */
size_t of3_pk_storage_elsize(of3_pk_storage_type_t type);

#endif
