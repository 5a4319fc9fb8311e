/* test_trunk_weights.c: the staged binding of device weights (kernels/layers/weights.c), run on
 * the CPU backend: every tensor of the tiny checkpoint and of the bf16, f16 and odd-shape
 * fixtures is bound once straight into host memory (what the CPU does) and once through
 * page-locked windows of several sizes (what a GPU does; down to one float, so that every
 * tensor goes in pieces), and the two buffers must hold the same values at the same offsets,
 * with zeroed padding; the small tensors' host mirror (of3_wbuf_t.host) must hold theirs during
 * the binding pass. A binding pass that fails midway must leave nothing behind (of3_wbuf_free;
 * the sanitizer build checks for leaks). Also the backend's host memory and asynchronous
 * copies on the CPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/checkpoint.h"
#include "../kernels/layers/weights.h"
#include "check.h"

#define FIX "tests/fixtures/checkpoint/"

/* Binds every tensor of the checkpoint under its own key, in file order; a binding pass stops
 * with an error at tensor stop_at (-1: never). */
typedef struct {
	const float **p; /* [n] bound pointers */
	int64_t n;
	int64_t stop_at;
} every_t;

static int bind_every(void *ctx, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	every_t *e = ctx;
	for (int64_t i = 0; i < e->n; i++) {
		if (wb->base && i == e->stop_at)
			return of3_err(OF3_ERR_INPUT, "stopped at tensor %lld", (long long)i);
		const of3_ckpt_tensor_t *t = of3_ckpt_tensor(ck, i);
		int64_t shape[OF3_PK_MAX_DIMS];
		for (int d = 0; d < t->ndim; d++)
			shape[d] = -1;
		int rc = of3_wbind(wb, ck, &e->p[i], t->ndim, shape, "", t->key);
		if (rc < 0)
			return rc;
	}
	return OF3_OK;
}

/* Tensor i's float32 values (malloc'ed). */
static float *expected(const of3_ckpt_t *ck, int64_t i)
{
	const of3_ckpt_tensor_t *t = of3_ckpt_tensor(ck, i);
	float *x = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *x);
	if (x)
		of3_ckpt_to_f32(t, x);
	return x;
}

/* One staged binding through windows of window_bytes against the direct one (ref, bound at
 * ref_p). */
static void check_staged(const char *name, of3_ckpt_t *ck, of3_backend_t *be, const of3_wbuf_t *ref,
                         const float **ref_p, size_t window_bytes)
{
	const int64_t n = of3_ckpt_info(ck)->n_tensors;
	every_t e = {calloc((size_t)n + 1, sizeof *e.p), n, -1};
	of3_wbuf_t wb = {0};
	int rc = e.p ? bind_every(&e, ck, &wb) : OF3_ERR_NOMEM;
	rc = rc ? rc : of3_wbuf_alloc_staged(&wb, be, window_bytes);
	rc = rc ? rc : bind_every(&e, ck, &wb);
	CHECK(rc == 0 && wb.n_used == wb.n_cap && wb.n_cap == ref->n_cap && wb.win[0] && wb.host,
	      "%s: %lld tensors staged through 2 windows of %zu bytes %s", name, (long long)n,
	      window_bytes, rc ? of3_errmsg() : "");
	if (rc) {
		of3_wbuf_free(&wb, be);
		free(e.p);
		return;
	}
	/* the small tensors on the host during the binding pass */
	int64_t n_mirror = 0, bad_mirror = -1;
	for (int64_t i = 0; i < n; i++) {
		const of3_ckpt_tensor_t *t = of3_ckpt_tensor(ck, i);
		if (t->numel > OF3_WBUF_HOST_FLOATS)
			continue;
		float *x = expected(ck, i);
		if (x && memcmp(wb.host + (e.p[i] - wb.base), x, (size_t)t->numel * 4) != 0 &&
		    bad_mirror < 0)
			bad_mirror = i;
		n_mirror++;
		free(x);
	}
	CHECK(bad_mirror < 0,
	      "%s, %zu-byte windows: the host mirror holds the %lld small tensors%s%s", name,
	      window_bytes, (long long)n_mirror, bad_mirror < 0 ? "" : ", not ",
	      bad_mirror < 0 ? "" : of3_ckpt_tensor(ck, bad_mirror)->key);
	rc = of3_wbuf_upload(&wb, be);
	CHECK(rc == 0 && !wb.win[0] && !wb.win[1] && !wb.host,
	      "%s, %zu-byte windows: uploaded, staging freed %s", name, window_bytes,
	      rc ? of3_errmsg() : "");
	int64_t bad = -1;
	for (int64_t i = 0; i < n && bad < 0; i++) {
		const of3_ckpt_tensor_t *t = of3_ckpt_tensor(ck, i);
		const size_t k = (size_t)t->numel, n_carve = (k + 15) / 16 * 16;
		float *x = expected(ck, i);
		int ok = x && e.p[i] - wb.base == ref_p[i] - ref->base &&
		         memcmp(e.p[i], x, k * 4) == 0 && memcmp(e.p[i], ref_p[i], k * 4) == 0;
		for (size_t j = k; ok && j < n_carve; j++)
			ok = e.p[i][j] == 0.0f;
		if (!ok)
			bad = i;
		free(x);
	}
	CHECK(bad < 0,
	      "%s, %zu-byte windows: every tensor at its direct offset, same values, "
	      "zero padding%s%s",
	      name, window_bytes, bad < 0 ? "" : "; differs at ",
	      bad < 0 ? "" : of3_ckpt_tensor(ck, bad)->key);
	of3_wbuf_free(&wb, be);
	free(e.p);
}

static void check_checkpoint(const char *path, of3_backend_t *be)
{
	of3_ckpt_t *ck = NULL;
	int rc = of3_ckpt_open(&ck, path);
	CHECK(rc == 0, "open %s %s", path, rc ? of3_errmsg() : "");
	if (rc)
		return;
	const int64_t n = of3_ckpt_info(ck)->n_tensors;
	every_t e = {calloc((size_t)n + 1, sizeof *e.p), n, -1};
	of3_wbuf_t ref = {0};
	rc = e.p ? of3_wbind_all(&ref, ck, be, bind_every, &e) : OF3_ERR_NOMEM;
	CHECK(rc == 0 && ref.host == ref.base && !ref.win[0],
	      "%s: %lld tensors bound straight into host memory (the CPU) %s", path, (long long)n,
	      rc ? of3_errmsg() : "");
	if (rc == 0) {
		static const size_t windows[] = {4, 20, 1000, 4096, 1 << 20, 0};
		for (size_t w = 0; w < sizeof windows / sizeof *windows; w++)
			check_staged(path, ck, be, &ref, e.p, windows[w]);
		/* stopped midway, with uploads queued from both windows */
		every_t stop = {calloc((size_t)n + 1, sizeof *stop.p), n, n / 2};
		of3_wbuf_t wb = {0};
		rc = stop.p ? bind_every(&stop, ck, &wb) : OF3_ERR_NOMEM;
		rc = rc ? rc : of3_wbuf_alloc_staged(&wb, be, 20);
		rc = rc ? rc : bind_every(&stop, ck, &wb);
		CHECK(n < 2 || (rc == OF3_ERR_INPUT && wb.win[0] && wb.host),
		      "%s: a binding pass stopped at tensor %lld keeps its staging for "
		      "of3_wbuf_free (%s)",
		      path, (long long)n / 2, rc ? of3_errmsg() : "no error");
		of3_wbuf_free(&wb, be);
		CHECK(!wb.base && !wb.host && !wb.win[0] && !wb.win[1],
		      "%s: of3_wbuf_free releases a stopped binding's staging", path);
		free(stop.p);
	}
	of3_wbuf_free(&ref, be);
	free(e.p);
	of3_ckpt_close(ck);
}

static void check_backend(of3_backend_t *be)
{
	const size_t n = 1000;
	float *h = of3_backend_host_alloc(be, n * sizeof *h),
	      *back = of3_backend_host_alloc(be, n * 4);
	float *d = of3_backend_alloc(be, n * sizeof *d);
	CHECK(h && back && d, "host memory and backend memory %s",
	      h && back && d ? "" : of3_errmsg());
	if (h && back && d) {
		for (size_t i = 0; i < n; i++)
			h[i] = (float)i * 0.5f;
		int rc = of3_backend_upload_async(be, d, h, n * 4, 0);
		rc = rc ? rc : of3_backend_copy_wait(be, 0);
		rc = rc ? rc : of3_backend_download_async(be, back, d, n * 4, 1);
		rc = rc ? rc : of3_backend_copy_wait(be, 1);
		CHECK(rc == 0 && memcmp(h, back, n * 4) == 0,
		      "upload_async, download_async and copy_wait round-trip %s",
		      rc ? of3_errmsg() : "");
		rc = of3_backend_upload_async(be, d, h, n * 4, OF3_BACKEND_COPY_SLOTS);
		CHECK(rc == OF3_ERR_RUNTIME && of3_backend_copy_wait(be, -1) == OF3_ERR_RUNTIME,
		      "a copy slot out of range is refused (%s)", of3_errmsg());
	}
	of3_backend_host_free(be, h);
	of3_backend_host_free(be, back);
	of3_backend_host_free(be, NULL);
	of3_backend_free(be, d);
}

int main(int argc, char **argv)
{
	int rc = argc > 1 ? chdir(argv[1]) : 0;
	CHECK(rc == 0, "run in %s", argc > 1 ? argv[1] : ".");
	of3_backend_t be;
	rc = of3_backend_open(&be, "cpu", 1);
	CHECK(rc == 0, "cpu backend %s", rc ? of3_errmsg() : "");
	if (rc)
		return check_summary();
	check_backend(&be);
	static const char *const ckpts[] = {"tests/fixtures/of3_tiny_random.pt",
	                                    FIX "ok_bf16.pt",
	                                    FIX "ok_f16.pt",
	                                    FIX "ok_shapes.pt",
	                                    FIX "ok_unaligned.pt",
	                                    FIX "ok_shared_storage.pt"};
	for (size_t i = 0; i < sizeof ckpts / sizeof *ckpts; i++)
		check_checkpoint(ckpts[i], &be);
	of3_backend_close(&be);
	return check_summary();
}
