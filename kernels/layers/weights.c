/* weights.c: binding checkpoint tensors into one float32 buffer, planning pass first (see
 * weights.h). */
#include "weights.h"

#include <stdio.h>
#include <stdlib.h>

#define ALIGN_FLOATS 16

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
	wb->n_cap = wb->n_used;
	wb->n_used = 0;
	const size_t bytes = (wb->n_cap ? wb->n_cap : 1) * sizeof(float);
	wb->host = malloc(bytes);
	if (!wb->host)
		return of3_err(OF3_ERR_NOMEM, "out of memory: the weights need %.2f GiB",
		               (double)bytes / (1 << 30));
	wb->base = of3_backend_alloc(be, bytes);
	if (!wb->base) {
		free(wb->host);
		wb->host = NULL;
		return of3_err(OF3_ERR_NOMEM, "out of %s memory: the weights need %.2f GiB",
		               be->desc, (double)bytes / (1 << 30));
	}
	return OF3_OK;
}

int of3_wbuf_upload(of3_wbuf_t *wb, of3_backend_t *be)
{
	if (!wb->host || wb->host == wb->base)
		return OF3_OK;
	int rc = of3_backend_upload(be, wb->base, wb->host, wb->n_cap * sizeof(float));
	free(wb->host);
	wb->host = NULL;
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
	if (wb->host && wb->host != wb->base)
		free(wb->host);
	of3_backend_free(be, wb->base); /* the CPU backend's free() takes malloc'ed memory */
	wb->base = wb->host = NULL;
}

int of3_wbind(of3_wbuf_t *wb, of3_ckpt_t *ck, const float **dst, int ndim, int64_t *shape,
              const char *prefix, const char *name)
{
	const of3_ckpt_tensor_t *t;
	int rc = of3_ckpt_expect(ck, &t, ndim, shape, "%s%s", prefix, name);
	if (rc < 0)
		return rc;
	for (int i = 0; i < ndim; i++)
		shape[i] = t->shape[i];
	size_t n = (size_t)t->numel;
	size_t n_carve = (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
	if (!wb->base) {
		*dst = NULL;
	} else {
		if (wb->n_used + n_carve > wb->n_cap)
			return of3_err(OF3_ERR_RUNTIME,
			               "weights buffer too small binding '%s%s' (%zu of %zu floats "
			               "used): the planning pass and the binding pass differ",
			               prefix, name, wb->n_used, wb->n_cap);
		of3_ckpt_to_f32(t, (wb->host ? wb->host : wb->base) + wb->n_used);
		*dst = wb->base + wb->n_used;
	}
	wb->n_used += n_carve;
	return OF3_OK;
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
