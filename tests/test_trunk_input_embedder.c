/* test_trunk_input_embedder.c: parity of the input embedder (of3-trunk/input_embedder.c,
 * kernels/layers/atom_transformer.c) with the real OpenFold3 on the tiny random checkpoint
 * (tests/fixtures/of3_tiny_random.pt, issue #7).
 *
 * For both tiny queries, the pipeline's own feature bundle goes through the features view and
 * the embedder in float32 on the CPU backend; s_input, s_init and z_init are compared with the
 * float64 taps of tiny_*_trunk.bundle.gz by relative Frobenius error, bar 1e-4 (1e-2 in bf16 on
 * a GPU: OF3_TEST_DEVICE, OF3_TEST_PRECISION, test_backend.h). Also: the
 * dimensions learnt from the shapes, the window geometry, and a features bundle missing a
 * tensor or holding one of the wrong dtype, named in the error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/bundle.h"
#include "../common/checkpoint.h"
#include "../kernels/backend.h"
#include "../kernels/layers/atom_transformer.h"
#include "../of3-trunk/input_embedder.h"
#include "../of3-trunk/trunk_features.h"
#include "check.h"
#include "fixture_io.h"
#include "test_backend.h"

#define CKPT "tests/fixtures/of3_tiny_random.pt"
#define BAR  1e-4

static void compare(const char *q, const float *ours, const of3_bundle_t *b, const char *name,
                    int64_t n)
{
	double max_abs;
	double e = rel_err(ours, b, name, n, &max_abs);
	CHECK(e >= 0 && e <= test_bar(BAR),
	      "%s: %s: relative Frobenius error %.3e (max abs %.3e, bar %.0e)", q, name, e, max_abs,
	      test_bar(BAR));
}

static void bad_features(of3_bundle_t *feat)
{
	of3_trunk_features_t f;
	of3_tensor_t *t = of3_bundle_tensor(feat, "ref_space_uid");
	if (!t)
		return;
	t->name[0] = 'X'; /* hide it */
	int rc = of3_trunk_features_view(&f, feat);
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "'ref_space_uid' is missing"),
	      "a features bundle without ref_space_uid: %s", of3_errmsg());
	t->name[0] = 'r';
	t = of3_bundle_tensor(feat, "atom_mask");
	t->dtype = OF3_DTYPE_I32; /* same element size: only the dtype check can catch it */
	rc = of3_trunk_features_view(&f, feat);
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "'atom_mask': dtype i32, expected f32"),
	      "atom_mask of the wrong dtype: %s", of3_errmsg());
	t->dtype = OF3_DTYPE_F32;
	t = of3_bundle_tensor(feat, "profile");
	t->shape[1]--;
	rc = of3_trunk_features_view(&f, feat);
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "'profile': shape"),
	      "profile of the wrong shape: %s", of3_errmsg());
	t->shape[1]++;
}

static void run_query(const char *q, const of3_input_embedder_w_t *w, of3_backend_t *be)
{
	char path[256];
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_features.bundle.gz", q);
	of3_bundle_t *feat = read_gz(path);
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_trunk.bundle.gz", q);
	of3_bundle_t *trunk = read_gz(path);
	of3_trunk_features_t f;
	of3_trunk_dev_t fd = {0};
	float *s_input = NULL, *s_init = NULL, *z_init = NULL, *scratch = NULL;
	float *d_si = NULL, *d_s = NULL, *d_z = NULL;
	CHECK(feat && trunk, "%s: fixtures read", q);
	if (!feat || !trunk)
		goto done;
	int rc = of3_trunk_features_view(&f, feat);
	CHECK(rc == 0,
	      "%s: features view: %lld tokens, %lld atoms (%lld blocks), %lld MSA rows, "
	      "%lld templates %s",
	      q, (long long)f.n_token, (long long)f.n_atom, (long long)of3_atom_n_block(f.n_atom),
	      (long long)f.n_msa, (long long)f.n_template, rc ? of3_errmsg() : "");
	if (rc)
		goto done;
	const int64_t n = f.n_token;
	size_t n_scratch = of3_input_embedder_scratch(w, n, f.n_atom);
	s_input = malloc((size_t)(n * w->c_s_input) * sizeof(float));
	s_init = malloc((size_t)(n * w->c_s) * sizeof(float));
	z_init = malloc((size_t)(n * n * w->c_z) * sizeof(float));
	scratch = test_alloc(be, (int64_t)n_scratch);
	d_si = test_alloc(be, n * w->c_s_input);
	d_s = test_alloc(be, n * w->c_s);
	d_z = test_alloc(be, n * n * w->c_z);
	if (!s_input || !s_init || !z_init || !scratch || !d_si || !d_s || !d_z)
		goto done;
	rc = of3_trunk_dev_upload(&fd, &f, be);
	rc = rc ? rc : of3_input_embedder_forward(be, w, &fd, d_si, d_s, d_z, scratch);
	rc = rc ? rc : test_down(be, s_input, d_si, n * w->c_s_input);
	rc = rc ? rc : test_down(be, s_init, d_s, n * w->c_s);
	rc = rc ? rc : test_down(be, z_init, d_z, n * n * w->c_z);
	CHECK(rc == 0, "%s: forward on %s, %zu scratch floats %s", q, be->desc, n_scratch,
	      rc ? of3_errmsg() : "");
	compare(q, s_input, trunk, "s_input", n * w->c_s_input);
	compare(q, s_init, trunk, "s_init", n * w->c_s);
	compare(q, z_init, trunk, "z_init", n * n * w->c_z);
	bad_features(feat);
done:
	free(s_input);
	free(s_init);
	free(z_init);
	of3_backend_free(be, scratch);
	of3_backend_free(be, d_si);
	of3_backend_free(be, d_s);
	of3_backend_free(be, d_z);
	of3_trunk_dev_free(&fd, be);
	of3_bundle_free(feat);
	of3_bundle_free(trunk);
}

static void geometry(void)
{
	/* 70 atoms: 3 blocks; window 0 starts 48 before atom 0, window 2 ends past the atoms */
	float mask[70], mq[3 * OF3_ATOM_NQ], mk[3 * OF3_ATOM_NK];
	float x[70], y[3 * OF3_ATOM_NK];
	for (int i = 0; i < 70; i++)
		mask[i] = 1, x[i] = (float)(i + 1);
	of3_atom_block_masks(mq, mk, NULL, mask, 70);
	of3_atom_windows(y, x, 70, 1, OF3_ATOM_NK, -OF3_ATOM_KEY_SHIFT);
	CHECK(of3_atom_n_block(70) == 3 && of3_atom_n_block(64) == 2 && of3_atom_n_block(0) == 0,
	      "ceil(A/32) blocks");
	/* block 0: key 48 is atom 0; block 1: key 16 is atom 0; queries pad after atom 69 */
	CHECK(mk[47] == 0 && mk[48] == 1 && y[47] == 0 && y[48] == 1 && y[OF3_ATOM_NK + 15] == 0 &&
	              y[OF3_ATOM_NK + 16] == 1 && mq[69] == 1 && mq[70] == 0,
	      "key windows start at 32b - 48, padding masked");
	/* block 2 covers atoms 16..143: atom 69 at 53, atom 70 (padding) at 54 */
	CHECK(y[2 * OF3_ATOM_NK + 53] == 70 && y[2 * OF3_ATOM_NK + 54] == 0 &&
	              mk[2 * OF3_ATOM_NK + 53] == 1 && mk[2 * OF3_ATOM_NK + 54] == 0,
	      "last window: atom 69 at key 53, padding from key 54");
}

/* of3_wbind_all's binding pass */
static int bind_input_embedder(void *w, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	return of3_input_embedder_bind(w, ck, wb);
}

int main(int argc, char **argv)
{
	of3_ckpt_t *ck = NULL;
	of3_backend_t be;
	of3_input_embedder_w_t w;
	of3_wbuf_t wb = {0};
	int rc;
	if (test_start(argc, argv, &be, &ck, CKPT) < 0)
		return check_summary();
	geometry();
	rc = of3_wbind_all(&wb, ck, &be, bind_input_embedder, &w);
	CHECK(rc == 0 && wb.base && wb.n_used == wb.n_cap,
	      "bound the input embedder, %zu floats %s", wb.n_used, rc ? of3_errmsg() : "");
	if (rc)
		goto out;
	rc = of3_ckpt_check_unused(ck, "input_embedder.");
	CHECK(rc == 0, "every input_embedder.* key used %s", rc ? of3_errmsg() : "");
	const of3_atom_block_w_t *b0 = &w.transformer.blk[0];
	CHECK(w.c_s_input == w.c_token + 65 && w.transformer.n_block >= 1,
	      "dimensions from the shapes: c_atom %lld, c_atom_pair %lld, c_token %lld, c_s_input "
	      "%lld, c_s %lld, c_z %lld; %d atom transformer blocks, %lld x %lld heads, transition "
	      "%lld",
	      (long long)w.c_a, (long long)w.c_p, (long long)w.c_token, (long long)w.c_s_input,
	      (long long)w.c_s, (long long)w.c_z, w.transformer.n_block, (long long)b0->mha.n_head,
	      (long long)b0->mha.d_head, (long long)b0->tr.n_hidden);
	run_query("protein", &w, &be);
	run_query("protein_ligand", &w, &be);
out:
	of3_wbuf_free(&wb, &be);
	of3_ckpt_close(ck);
	of3_backend_close(&be);
	return check_summary();
}
