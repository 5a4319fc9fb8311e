/* weights.c: binding checkpoint tensors into one float32 buffer, planning pass first (see
 * weights.h). */
#include "weights.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN_FLOATS 16
#define READ_PIECE   ((int64_t)1 << 18) /* floats: a large tensor's reads, 1 MiB each */

/* One read of a window: floats i0 .. i0+n of tensor t into dst. */
struct of3_wread {
	const of3_ckpt_t *ck;
	const of3_ckpt_tensor_t *t;
	int64_t i0, n;
	float *dst;
};

int of3_wbuf_alloc(of3_wbuf_t *wb)
{
	wb->n_cap = wb->n_used;
	wb->n_used = 0;
	wb->base = wb->host = malloc((wb->n_cap ? wb->n_cap : 1) * sizeof(float));
	if (!wb->base)
		return of3_err(OF3_ERR_NOMEM, "out of memory: the weights need %.2f GiB",
		               (double)wb->n_cap * sizeof(float) / (1 << 30));
	return OF3_OK;
}

int of3_wbuf_alloc_on(of3_wbuf_t *wb, of3_backend_t *be)
{
	if (be->kind == OF3_BACKEND_CPU)
		return of3_wbuf_alloc(wb);
	return of3_wbuf_alloc_staged(wb, be, OF3_WBUF_WINDOW_BYTES);
}

int of3_wbuf_alloc_staged(of3_wbuf_t *wb, of3_backend_t *be, size_t window_bytes)
{
	wb->n_cap = wb->n_used;
	wb->n_used = 0;
	wb->be = be;
	const size_t bytes = (wb->n_cap ? wb->n_cap : 1) * sizeof(float);
	size_t n_win = (window_bytes ? window_bytes : OF3_WBUF_WINDOW_BYTES) / sizeof(float);
	n_win = n_win ? n_win : 1;
	wb->n_win = n_win < wb->n_cap ? n_win : wb->n_cap ? wb->n_cap : 1;
	wb->win_start = wb->win_fill = 0;
	wb->i_win = 0;
	wb->base = of3_backend_alloc(be, bytes);
	if (!wb->base)
		return of3_err(OF3_ERR_NOMEM, "out of %s memory: the weights need %.2f GiB",
		               be->desc, (double)bytes / (1 << 30));
	/* the mirror of the small tensors: malloc maps pages of this size lazily, and only the
	 * pages those tensors land on are ever touched */
	wb->host = malloc(bytes);
	for (int i = 0; i < 2; i++)
		wb->win[i] = of3_backend_host_alloc(be, wb->n_win * sizeof(float));
	if (!wb->host || !wb->win[0] || !wb->win[1])
		return of3_err(OF3_ERR_NOMEM,
		               "out of memory: staging the weights (%.2f GiB) through 2 x %.1f MiB",
		               (double)bytes / (1 << 30),
		               (double)wb->n_win * sizeof(float) / (1 << 20));
	return OF3_OK;
}

/* The window's read of floats i0 .. i0+n of t into dst, queued in pieces that the reading
 * threads share at the flush; a tensor that goes into the host mirror too (host not NULL) is
 * read at once instead, since the binding pass may read the mirror right after binding it. */
static int read_or_queue(of3_wbuf_t *wb, const of3_ckpt_t *ck, const of3_ckpt_tensor_t *t,
                         int64_t i0, int64_t n, float *dst, float *host)
{
	if (host) {
		of3_ckpt_read_f32(ck, t, i0, n, dst);
		memcpy(host, dst, (size_t)n * sizeof *dst);
		return OF3_OK;
	}
	for (int64_t k = 0; k < n; k += READ_PIECE) {
		if (wb->n_rd == wb->cap_rd) {
			size_t cap = wb->cap_rd ? 2 * wb->cap_rd : 256;
			struct of3_wread *r = realloc(wb->rd, cap * sizeof *r);
			if (!r)
				return of3_err(OF3_ERR_NOMEM, "out of memory (weight reads)");
			wb->rd = r, wb->cap_rd = cap;
		}
		const int64_t m = n - k < READ_PIECE ? n - k : READ_PIECE;
		wb->rd[wb->n_rd++] = (struct of3_wread){ck, t, i0 + k, m, dst + k};
	}
	return OF3_OK;
}

typedef struct {
	const struct of3_wread *rd;
	size_t first, n, step;
} read_share_t;

static void *read_share(void *arg)
{
	const read_share_t *s = arg;
	for (size_t i = s->first; i < s->n; i += s->step) {
		const struct of3_wread *r = &s->rd[i];
		of3_ckpt_read_f32(r->ck, r->t, r->i0, r->n, r->dst);
	}
	return NULL;
}

/* the window's queued reads, every OF3_WBUF_READ_THREADS-th by one thread (the calling one
 * takes the first share and any share whose thread would not start) */
static void run_reads(of3_wbuf_t *wb)
{
	enum { T = OF3_WBUF_READ_THREADS };
	read_share_t share[T];
	pthread_t th[T];
	int started[T] = {0};
	const size_t n_t = wb->n_rd < (size_t)T ? wb->n_rd : (size_t)T;
	for (size_t j = 0; j < n_t; j++)
		share[j] = (read_share_t){wb->rd, j, wb->n_rd, n_t};
	for (size_t j = 1; j < n_t; j++)
		started[j] = pthread_create(&th[j], NULL, read_share, &share[j]) == 0;
	for (size_t j = 0; j < n_t; j++)
		if (!started[j])
			read_share(&share[j]);
	for (size_t j = 1; j < n_t; j++)
		if (started[j])
			pthread_join(th[j], NULL);
	wb->n_rd = 0;
}

/* Reads what the current window holds, queues its upload to its place in base and turns to the
 * other window, once the upload queued from it before is done. */
static int flush(of3_wbuf_t *wb)
{
	run_reads(wb);
	if (wb->win_fill == 0)
		return OF3_OK;
	int rc = of3_backend_upload_async(wb->be, wb->base + wb->win_start, wb->win[wb->i_win],
	                                  wb->win_fill * sizeof(float), wb->i_win);
	wb->win_start += wb->win_fill;
	wb->win_fill = 0;
	wb->i_win ^= 1;
	return rc ? rc : of3_backend_copy_wait(wb->be, wb->i_win);
}

/* Converts tensor t (n floats, n_carve with its padding) into the staging windows; its place in
 * base is n_used, where the current window ends. */
static int stage(of3_wbuf_t *wb, const of3_ckpt_t *ck, const of3_ckpt_tensor_t *t, size_t n,
                 size_t n_carve)
{
	int rc = OF3_OK;
	if (n_carve <= wb->n_win) {
		if (wb->win_fill + n_carve > wb->n_win && (rc = flush(wb)) < 0)
			return rc;
		float *w = wb->win[wb->i_win] + wb->win_fill;
		memset(w + n, 0, (n_carve - n) * sizeof *w);
		wb->win_fill += n_carve;
		return read_or_queue(wb, ck, t, 0, (int64_t)n, w,
		                     n <= OF3_WBUF_HOST_FLOATS ? wb->host + wb->n_used : NULL);
	}
	/* larger than a window: window-sized pieces, each uploaded whole */
	if ((rc = flush(wb)) < 0)
		return rc;
	for (size_t i = 0; i < n_carve; i += wb->n_win) {
		const size_t k = n_carve - i < wb->n_win ? n_carve - i : wb->n_win;
		const size_t k_data = i >= n ? 0 : n - i < k ? n - i : k;
		float *w = wb->win[wb->i_win];
		memset(w + k_data, 0, (k - k_data) * sizeof *w);
		/* the host mirror only with windows of a few floats (tests) */
		rc = read_or_queue(wb, ck, t, (int64_t)i, (int64_t)k_data, w,
		                   n <= OF3_WBUF_HOST_FLOATS ? wb->host + wb->n_used + i : NULL);
		wb->win_fill = k;
		if (rc < 0 || (rc = flush(wb)) < 0)
			return rc;
	}
	return OF3_OK;
}

int of3_wbuf_upload(of3_wbuf_t *wb, of3_backend_t *be)
{
	if (!wb->win[0])
		return OF3_OK;
	int rc = flush(wb);
	for (int i = 0; i < 2; i++) {
		int rc_wait = of3_backend_copy_wait(be, i);
		rc = rc ? rc : rc_wait;
	}
	rc = rc ? rc : of3_backend_sync(be);
	for (int i = 0; i < 2; i++) {
		of3_backend_host_free(be, wb->win[i]);
		wb->win[i] = NULL;
	}
	free(wb->host);
	free(wb->rd);
	wb->host = NULL, wb->rd = NULL, wb->n_rd = wb->cap_rd = 0;
	return rc;
}

int of3_key_cat(char *dst, const char *a, const char *b, const char *c)
{
	int n = snprintf(dst, OF3_KEY_MAX, "%s%s%s", a, b, c);
	if (n < 0 || n >= OF3_KEY_MAX)
		return of3_err(OF3_ERR_INPUT, "checkpoint key prefix '%s%s' too long", a, b);
	return OF3_OK;
}

int of3_wbind_blocks(of3_ckpt_t *ck, const char *prefix, int max_blocks, const char *what,
                     int (*bind_block)(void *ctx, int b, const char *block_prefix), void *ctx,
                     int *n_block)
{
	char p[OF3_KEY_MAX];
	*n_block = 0;
	int len = snprintf(p, sizeof p, "%sblocks", prefix);
	if (len < 0 || len >= (int)sizeof p - 24)
		return of3_err(OF3_ERR_INPUT, "checkpoint key prefix '%sblocks' too long", prefix);
	const int64_t n = of3_ckpt_count_blocks(ck, p);
	if (n <= 0)
		return of3_err(OF3_ERR_INPUT, "checkpoint: no key '%s.0.*' (%s blocks)", p, what);
	if (n > max_blocks)
		return of3_err(OF3_ERR_INPUT,
		               "checkpoint: %lld %s blocks under '%s', at most %d supported",
		               (long long)n, what, p, max_blocks);
	int rc = OF3_OK;
	for (int b = 0; rc == 0 && b < (int)n; b++) {
		snprintf(p + len, sizeof p - (size_t)len, ".%d.", b);
		rc = bind_block(ctx, b, p);
	}
	*n_block = (int)n;
	return rc;
}

int of3_wbind_all(of3_wbuf_t *wb, of3_ckpt_t *ck, of3_backend_t *be,
                  int (*bind)(void *ctx, of3_ckpt_t *ck, of3_wbuf_t *wb), void *ctx)
{
	*wb = (of3_wbuf_t){0};
	int rc = bind(ctx, ck, wb);
	rc = rc ? rc : of3_wbuf_alloc_on(wb, be);
	rc = rc ? rc : bind(ctx, ck, wb);
	return rc ? rc : of3_wbuf_upload(wb, be);
}

void of3_wbuf_free(of3_wbuf_t *wb, of3_backend_t *be)
{
	for (int i = 0; i < 2; i++) { /* a binding pass that stopped midway */
		of3_backend_host_free(be, wb->win[i]);
		wb->win[i] = NULL;
	}
	free(wb->rd);
	wb->rd = NULL, wb->n_rd = wb->cap_rd = 0;
	if (wb->host && wb->host != wb->base)
		free(wb->host);
	of3_backend_free(be, wb->base); /* the CPU backend's free() takes malloc'ed memory */
	wb->base = wb->host = NULL;
}

/* of3_wbind; packed: no padding after the tensor (the next one follows it directly), else
 * padding up to the next multiple of ALIGN_FLOATS in the buffer, which also ends a packed run */
static int wbind(of3_wbuf_t *wb, of3_ckpt_t *ck, const float **dst, int ndim, int64_t *shape,
                 const char *prefix, const char *name, int packed)
{
	const of3_ckpt_tensor_t *t;
	int rc = of3_ckpt_expect(ck, &t, ndim, shape, "%s%s", prefix, name);
	if (rc < 0)
		return rc;
	for (int i = 0; i < ndim; i++)
		shape[i] = t->shape[i];
	size_t n = (size_t)t->numel, end = wb->n_used + n;
	if (!packed)
		end = (end + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
	size_t n_carve = end - wb->n_used;
	if (!wb->base) {
		*dst = NULL;
	} else {
		if (wb->n_used + n_carve > wb->n_cap)
			return of3_err(OF3_ERR_RUNTIME,
			               "weights buffer too small binding '%s%s' (%zu of %zu floats "
			               "used): the planning pass and the binding pass differ",
			               prefix, name, wb->n_used, wb->n_cap);
		if (wb->win[0]) {
			if ((rc = stage(wb, ck, t, n, n_carve)) < 0)
				return of3_err_prefix(rc, "binding '%s%s'", prefix, name);
		} else {
			of3_ckpt_read_f32(ck, t, 0, t->numel,
			                  (wb->host ? wb->host : wb->base) + wb->n_used);
		}
		*dst = wb->base + wb->n_used;
	}
	wb->n_used += n_carve;
	return OF3_OK;
}

int of3_wbind(of3_wbuf_t *wb, of3_ckpt_t *ck, const float **dst, int ndim, int64_t *shape,
              const char *prefix, const char *name)
{
	return wbind(wb, ck, dst, ndim, shape, prefix, name, 0);
}

int of3_wbind_ln(of3_wbuf_t *wb, of3_ckpt_t *ck, of3_ln_w_t *ln, int64_t *n_c, int has_bias,
                 const char *prefix, const char *name)
{
	char key[256];
	int64_t shape[1] = {*n_c};
	snprintf(key, sizeof key, "%s.weight", name);
	int rc = of3_wbind(wb, ck, &ln->w, 1, shape, prefix, key);
	if (rc < 0)
		return rc;
	*n_c = ln->n_c = shape[0];
	ln->b = NULL;
	if (has_bias) {
		snprintf(key, sizeof key, "%s.bias", name);
		rc = of3_wbind(wb, ck, &ln->b, 1, shape, prefix, key);
	}
	return rc;
}

int of3_wbind_lin(of3_wbuf_t *wb, of3_ckpt_t *ck, of3_lin_w_t *lin, int64_t *n_out, int64_t *n_in,
                  int has_bias, const char *prefix, const char *name)
{
	char key[256];
	int64_t shape[2] = {*n_out, *n_in};
	snprintf(key, sizeof key, "%s.weight", name);
	int rc = of3_wbind(wb, ck, &lin->w, 2, shape, prefix, key);
	if (rc < 0)
		return rc;
	*n_out = lin->n_out = shape[0];
	*n_in = lin->n_in = shape[1];
	lin->b = NULL;
	if (has_bias) {
		int64_t bshape[1] = {shape[0]};
		snprintf(key, sizeof key, "%s.bias", name);
		rc = of3_wbind(wb, ck, &lin->b, 1, bshape, prefix, key);
	}
	return rc;
}

int of3_wbind_lin_packed(of3_wbuf_t *wb, of3_ckpt_t *ck, int n, of3_lin_w_t *const lin[],
                         int64_t *const n_out[], int64_t *n_in, const char *prefix,
                         const char *const name[])
{
	char key[256];
	int rc = OF3_OK;
	for (int k = 0; k < n && rc == OF3_OK; k++) {
		int64_t shape[2] = {*n_out[k], *n_in};
		snprintf(key, sizeof key, "%s.weight", name[k]);
		rc = wbind(wb, ck, &lin[k]->w, 2, shape, prefix, key, k < n - 1);
		if (rc < 0)
			break;
		*n_out[k] = lin[k]->n_out = shape[0];
		*n_in = lin[k]->n_in = shape[1];
		lin[k]->b = NULL;
	}
	return rc;
}
