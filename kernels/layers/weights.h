/* weights.h: binding model parameters from a checkpoint into one float32 buffer (DESIGN.md §5,
 * STYLE.md rule 27).
 *
 * A layer's weights are bound by key in two passes over the same binding code: a planning pass
 * (of3_wbuf_t.base NULL) checks every key and shape and counts the floats needed; the caller
 * then makes one allocation and a second pass converts each tensor (float32, bfloat16 or
 * float16) into it and sets the pointers. Dimensions are learnt from the shapes (-1 in a shape
 * is "any"; the bound value is written back), so the tiny test checkpoint and the released one
 * bind through the same code. A missing or misshaped key is OF3_ERR_INPUT naming the key
 * (of3_ckpt_expect). Weights in device memory are never copied whole on the host: the binding
 * pass stages them through two small page-locked windows, uploaded while it goes. */
#ifndef OF3_LAYERS_WEIGHTS_H
#define OF3_LAYERS_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/checkpoint.h"
#include "../backend.h"

typedef struct {
	float *base;   /* NULL: planning pass (pointers are bound to NULL, nothing is copied) */
	float *host;   /* where the binding pass leaves a tensor's float32 values on the host, at
	                  host + (dst - base): base itself on the CPU. With device weights a sparse
	                  host mirror (untouched pages cost nothing) that holds only the tensors of
	                  at most OF3_WBUF_HOST_FLOATS floats (biases, LayerNorm weights, small
	                  tables such as the diffusion module's Fourier embedding), until
	                  of3_wbuf_upload; larger ones go through the staging windows only */
	size_t n_used; /* floats carved so far (each tensor, or run of packed ones, rounded up to
	                  16 floats, 64 bytes) */
	size_t n_cap;  /* floats available at base (ignored when planning) */
	/* staging of device weights (of3_wbuf_alloc_staged): the binding pass converts tensors
	 * into two page-locked windows in turn and uploads each full one asynchronously while it
	 * fills the other; NULL windows: the binding pass converts straight into host */
	of3_backend_t *be;
	float *win[2];
	size_t n_win;     /* floats a window holds */
	size_t win_start; /* where in base the current window begins, floats */
	size_t win_fill;  /* floats in the current window */
	int i_win;        /* the current window, 0 or 1; it uploads under that backend copy slot */
	/* the current window's reads from the checkpoint, made by several threads at its flush
	 * (the file is in the page cache: one thread copies it out at about 5 GB/s) */
	struct of3_wread *rd;
	size_t n_rd, cap_rd;
} of3_wbuf_t;

#define OF3_WBUF_HOST_FLOATS  4096               /* see of3_wbuf_t.host */
#define OF3_WBUF_WINDOW_BYTES ((size_t)16 << 20) /* each staging window of device weights */
#define OF3_WBUF_READ_THREADS 8                  /* the threads that fill a window */

/* Ends the planning pass: one allocation of the floats it counted, and the buffer rewound for
 * the binding pass. OF3_ERR_NOMEM (with the size) when it does not fit; free wb->base after. */
int of3_wbuf_alloc(of3_wbuf_t *wb) OF3_WUR;

/* The same for weights that live in backend memory: base is of3_backend_alloc'ed. On the CPU
 * backend base is host memory and the binding pass converts straight into it; on a device
 * (of3_wbuf_alloc_staged with OF3_WBUF_WINDOW_BYTES) the binding pass stages every tensor
 * through two page-locked windows, each uploaded while the other fills, and sets the pointers
 * into base. of3_wbuf_upload() then uploads the last window, waits for every copy and frees
 * the staging (on the CPU it does nothing). Free with of3_wbuf_free(), which also releases the
 * staging of a binding pass that failed midway. */
int of3_wbuf_alloc_on(of3_wbuf_t *wb, of3_backend_t *be) OF3_WUR;
/* of3_wbuf_alloc_on's staged form with windows of window_bytes (0: OF3_WBUF_WINDOW_BYTES; at
 * least one float) on any backend, the CPU included: the tests bind through small windows
 * there. A tensor larger than a window is staged in window-sized pieces. */
int of3_wbuf_alloc_staged(of3_wbuf_t *wb, of3_backend_t *be, size_t window_bytes) OF3_WUR;
int of3_wbuf_upload(of3_wbuf_t *wb, of3_backend_t *be) OF3_WUR;
void of3_wbuf_free(of3_wbuf_t *wb, of3_backend_t *be);

/* Checkpoint keys and prefixes the layers build: at most OF3_KEY_MAX bytes with the NUL.
 * of3_key_cat: dst[OF3_KEY_MAX] = a + b + c, or OF3_ERR_INPUT naming a prefix too long. */
#define OF3_KEY_MAX 320
int of3_key_cat(char *dst, const char *a, const char *b, const char *c) OF3_WUR;

/* A stack of blocks "<prefix>blocks.<b>." b = 0 .. n-1, n as many as the checkpoint holds
 * (1 .. max_blocks; none, or more, is OF3_ERR_INPUT naming `what`): bind_block(ctx, b,
 * "<prefix>blocks.<b>.") for each in order, stopping at the first error; *n_block = n. */
int of3_wbind_blocks(of3_ckpt_t *ck, const char *prefix, int max_blocks, const char *what,
                     int (*bind_block)(void *ctx, int b, const char *block_prefix), void *ctx,
                     int *n_block) OF3_WUR;

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

/* n bias-free linears "<prefix><name[k]>.weight" [n_out[k], n_in], bound back to back with
 * no padding between them, so that lin[0]->w is their weights stacked: W[n,O,I] for one
 * linear_stack when they share O, else one [ΣO, I] matrix (lin[k]->w is still each one's own).
 * Keys are checked and bound in order, each as of3_wbind_lin (-1 learns; a shared width
 * pointer makes them agree). */
int of3_wbind_lin_packed(of3_wbuf_t *wb, of3_ckpt_t *ck, int n, of3_lin_w_t *const lin[],
                         int64_t *const n_out[], int64_t *n_in, const char *prefix,
                         const char *const name[]) OF3_WUR;

#endif
