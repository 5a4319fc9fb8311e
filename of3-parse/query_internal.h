/* query_internal.h: what query.c (the OpenFold3 format, shared checks) and query_af3.c (the two
 * AlphaFold3 dialects) share: where a message points, the checks every dialect applies the same
 * way, and the entry point of each AlphaFold3 dialect. Not part of the interface (query.h). */
#ifndef OF3_QUERY_INTERNAL_H
#define OF3_QUERY_INTERNAL_H

#include "query.h"

/* Where in the file a check is: every message starts "<label>: query 'name', chain N (ids ..): ".
 */
typedef struct {
	const char *label;        /* the file */
	const char *query;        /* the query's name as written, or NULL before it is known */
	int i_query;              /* 0-based position in the file (for a job without a name yet) */
	const of3_chain_t *chain; /* the chain being read (its index and ids), or NULL */
} of3_qloc_t;

/* Records "<where>: <message>" as an OF3_ERR_INPUT and returns OF3_ERR_INPUT. */
int of3_query_fail(const of3_qloc_t *at, const char *fmt, ...) OF3_PRINTF(2, 3);

/* "a string", "a number", "null", ... for "expected X, got Y" messages. */
const char *of3_query_kind(const cJSON *v);

/* The member `key` of obj, NULL when absent or JSON null (both mean "not given"). */
const cJSON *of3_query_get(const cJSON *obj, const char *key);

/* Checks obj's keys: each of `known` (NULL-terminated) at most once; any other key is an error
 * when `strict` (its message lists the known ones) and ignored otherwise. `what` names obj. */
int of3_query_keys(const of3_qloc_t *at, const cJSON *obj, const char *const *known, int strict,
                   const char *what) OF3_WUR;

/* A JSON number with an integral value in [lo, hi] into *out; 0 when it is one, else -1. */
int of3_query_integer(const cJSON *v, long long lo, long long hi, long long *out);

/* strdup, or OF3_ERR_NOMEM. */
int of3_query_strdup(const char *s, char **out) OF3_WUR;

/* Adds one chain id (non-empty, printable ASCII without spaces) to chain->ids; field names the
 * JSON field for messages. chain->ids must have room (the caller sizes it). */
int of3_query_add_id(const of3_qloc_t *at, of3_chain_t *chain, const char *field,
                     const cJSON *v) OF3_WUR;

/* Copies a polymer sequence (a non-empty string of upper-case letters A-Z) into chain->sequence;
 * the first other character is an error naming its 1-based position. */
int of3_query_sequence(const of3_qloc_t *at, of3_chain_t *chain, const char *field,
                       const cJSON *v) OF3_WUR;

/* A CCD code: 1 to 5 upper-case letters or digits. `what` names it in the message. */
int of3_query_ccd_code(const of3_qloc_t *at, const char *what, const char *code) OF3_WUR;

/* Appends (position, code) to chain->noncanonical (room sized by the caller): the position must
 * lie in the sequence, the code be a CCD code. of3_query_noncanonical_done() sorts them and
 * rejects a position given twice. field names the JSON field. */
int of3_query_noncanonical_add(const of3_qloc_t *at, of3_chain_t *chain, const char *field,
                               long long position, const char *code) OF3_WUR;
int of3_query_noncanonical_done(const of3_qloc_t *at, of3_chain_t *chain,
                                const char *field) OF3_WUR;

/* Checks that path exists as a regular file (or a directory too when allow_dir) and stores a
 * copy; what names the field ("main_msa_file_paths[2]"). */
int of3_query_path(const of3_qloc_t *at, const char *what, const char *path, int allow_dir,
                   char **out) OF3_WUR;

/* A list of seeds (integers or decimal strings, 0..2^32-1) into a new array. */
int of3_query_seeds(const of3_qloc_t *at, const char *field, const cJSON *v, int *n,
                    long long **out) OF3_WUR;

/* The query's last checks once its chains are read: no chain id used twice. Then stores
 * q->json (the compact text of `json`) and a copy of the seeds. */
int of3_query_finish(const of3_qloc_t *at, of3_query_t *q, const cJSON *json, int n_seeds,
                     const long long *seeds) OF3_WUR;

/* No two queries with the same name (they would write the same output directory). */
int of3_query_names_unique(const char *label, const of3_query_set_t *qs) OF3_WUR;

/* The AlphaFold3 dialects (query_af3.c): root is a "dialect": "alphafold3" object, or the
 * AlphaFold Server list of jobs. Fill qs (zeroed by the caller; freed by it on failure). */
int of3_query_parse_alphafold3(const cJSON *root, const char *label, of3_query_set_t *qs) OF3_WUR;
int of3_query_parse_server(const cJSON *root, const char *label, of3_query_set_t *qs) OF3_WUR;

#endif
