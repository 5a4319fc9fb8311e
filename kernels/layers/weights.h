/* weights.h: binding model parameters from a checkpoint into one float32 buffer (DESIGN.md §5,
 * STYLE.md rule 27).
 *
 * A layer's weights are bound by key in two passes over the same binding code: a planning pass
 * (of3_wbuf_t.base NULL) checks every key and shape and counts the floats needed; the caller
 * then makes one allocation and a second pass converts each tensor (float32, bfloat16 or
 * float16) into it and sets the pointers. Dimensions are learnt from the shapes (-1 in a shape
 * is "any"; the bound value is written back), so the tiny test checkpoint and the released one
 * bind through the same code. A missing or misshaped key is OF3_ERR_INPUT naming the key
 * (of3_ckpt_expect). */
#ifndef OF3_LAYERS_WEIGHTS_H
#define OF3_LAYERS_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/checkpoint.h"
#include "../backend.h"

typedef struct {
	float *base;   /* NULL: planning pass (pointers are bound to NULL, nothing is copied) */
	float *host;   /* where the binding pass converts to: base, or a host staging copy of a
	                  device base (of3_wbuf_alloc_on) */
	size_t n_used; /* floats carved so far (each tensor rounded up to 16 floats, 64 bytes) */
	size_t n_cap;  /* floats available at base (ignored when planning) */
} of3_wbuf_t;

/* Ends the planning pass: one allocation of the floats it counted, and the buffer rewound for
 * the binding pass. OF3_ERR_NOMEM (with the size) when it does not fit; free wb->base after. */
int of3_wbuf_alloc(of3_wbuf_t *wb) OF3_WUR;

/* The same for weights that live in backend memory: base is of3_backend_alloc'ed, the binding
 * pass converts into a host staging buffer and sets the pointers into base, and
 * of3_wbuf_upload() then copies the staging buffer up and frees it. On the CPU backend base is
 * the host buffer itself and the upload does nothing. Free with of3_wbuf_free(). */
int of3_wbuf_alloc_on(of3_wbuf_t *wb, of3_backend_t *be) OF3_WUR;
int of3_wbuf_upload(of3_wbuf_t *wb, of3_backend_t *be) OF3_WUR;
void of3_wbuf_free(of3_wbuf_t *wb, of3_backend_t *be);

/* The whole two-pass scheme for one set of layers: bind(ctx, ck, wb) binds every key of them;
 * it runs as the planning pass into the zeroed *wb, then into one allocation in be's memory
 * (of3_wbuf_alloc_on), and the result is uploaded. OF3_OK, or the first error; either way
 * of3_wbuf_free(wb, be) releases what was allocated. */
int of3_wbind_all(of3_wbuf_t *wb, of3_ckpt_t *ck, of3_backend_t *be,
                  int (*bind)(void *ctx, of3_ckpt_t *ck, of3_wbuf_t *wb), void *ctx) OF3_WUR;

/* LayerNorm parameters: w[C], b[C] (either NULL where the layer has none). */
typedef struct {
	const float *w, *b;
	int64_t n_c;
} of3_ln_w_t;

/* Linear parameters: w[O,I] as torch stores it, b[O] or NULL. */
typedef struct {
	const float *w, *b;
	int64_t n_in, n_out;
} of3_lin_w_t;

/* Binds "<prefix><name>" with ndim dimensions shape[] (-1: any, filled in) into wb; *dst gets
 * the converted float32 copy (NULL when planning). */
int of3_wbind(of3_wbuf_t *wb, of3_ckpt_t *ck, const float **dst, int ndim, int64_t *shape,
              const char *prefix, const char *name) OF3_WUR;

/* "<prefix><name>.weight" [n_c] and, with has_bias, "<prefix><name>.bias" [n_c]. *n_c -1
 * learns the width. */
int of3_wbind_ln(of3_wbuf_t *wb, of3_ckpt_t *ck, of3_ln_w_t *ln, int64_t *n_c, int has_bias,
                 const char *prefix, const char *name) OF3_WUR;

/* "<prefix><name>.weight" [n_out, n_in] and, with has_bias, ".bias" [n_out]; -1 learns. */
int of3_wbind_lin(of3_wbuf_t *wb, of3_ckpt_t *ck, of3_lin_w_t *lin, int64_t *n_out, int64_t *n_in,
                  int has_bias, const char *prefix, const char *name) OF3_WUR;

#endif
