/* test_trunk_template.c: parity of the template embedder (of3-trunk/template_embedder.c) with
 * the real OpenFold3 on the tiny random checkpoint (tests/fixtures/of3_tiny_random.pt, issue
 * #7).
 *
 * For both tiny queries the embedder runs in float32 on the CPU backend on the cycle-0 input
 * z_recycled_cycle0 and its update is compared with template_embedder_out (float64 tap), and
 * z + update with msa_module_in_z, by relative Frobenius error, bar 1e-4 (1e-2 in bf16 on a GPU:
 * OF3_TEST_DEVICE, OF3_TEST_PRECISION, test_backend.h). The fixtures' four
 * slots are empty (no templates), so one slot is computed and reused. Then a slot is given a
 * synthetic template: the update must change, stay finite, and the run must be repeatable.
 * Also: dimensions from the shapes, every template_embedder key bound, and the truncated
 * template block differs from the full pair block (§3.3.4). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/bundle.h"
#include "../common/checkpoint.h"
#include "../kernels/backend.h"
#include "../of3-trunk/template_embedder.h"
#include "../of3-trunk/trunk_features.h"
#include "check.h"
#include "fixture_io.h"
#include "test_backend.h"

#define CKPT "tests/fixtures/of3_tiny_random.pt"
#define BAR  1e-4

static void compare(const char *q, const char *what, const float *ours, const of3_bundle_t *b,
                    const char *name, int64_t n)
{
	double max_abs;
	double e = rel_err(ours, b, name, n, &max_abs);
	CHECK(e <= test_bar(BAR),
	      "%s: %s vs %s: relative Frobenius error %.3e (max abs %.3e, bar %.0e)", q, what, name,
	      e, max_abs, test_bar(BAR));
}

/* update[N,N,c_z] (host) = the embedder on z (host) for the features f, run on the backend. */
static int forward(of3_backend_t *be, const of3_template_w_t *w, const of3_trunk_features_t *f,
                   const float *z, float *update)
{
	const int64_t n = f->n_token, nz = n * n * w->c_z;
	of3_trunk_dev_t fd = {0};
	float *dz = test_up(be, z, nz), *du = test_alloc(be, nz);
	float *scratch = test_alloc(be, (int64_t)of3_template_embedder_scratch(w, n));
	int rc = dz && du && scratch ? OF3_OK : of3_err(OF3_ERR_NOMEM, "backend memory");
	rc = rc ? rc : of3_trunk_dev_upload(&fd, f, be);
	rc = rc ? rc : of3_template_embedder_forward(be, w, &fd, dz, du, scratch);
	rc = rc ? rc : test_down(be, update, du, nz);
	of3_trunk_dev_free(&fd, be);
	of3_backend_free(be, dz);
	of3_backend_free(be, du);
	of3_backend_free(be, scratch);
	return rc;
}

static void run_query(const char *q, const of3_template_w_t *w, of3_backend_t *be)
{
	char path[256];
	of3_trunk_features_t f;
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_features.bundle.gz", q);
	of3_bundle_t *feat = read_gz(path);
	snprintf(path, sizeof path, "tests/fixtures/tiny_%s_trunk.bundle.gz", q);
	of3_bundle_t *trunk = read_gz(path);
	CHECK(feat && trunk, "%s: fixtures read", q);
	if (!feat || !trunk)
		goto done;
	int rc = of3_trunk_features_view(&f, feat);
	CHECK(rc == 0 && f.n_template == 4, "%s: features viewed, %lld template slots %s", q,
	      (long long)f.n_template, rc ? of3_errmsg() : "");
	if (rc)
		goto done;
	const int64_t n = f.n_token, r = n * n, c_z = w->c_z;
	float *z = tap_f32(trunk, "z_recycled_cycle0", r * c_z);
	float *upd = malloc((size_t)(r * c_z) * sizeof *upd);
	float *upd2 = malloc((size_t)(r * c_z) * sizeof *upd2);
	size_t n_scratch = of3_template_embedder_scratch(w, n);
	CHECK(z && upd && upd2, "%s: %lld tokens, %zu scratch floats", q, (long long)n, n_scratch);
	if (!z || !upd || !upd2)
		goto free;
	rc = forward(be, w, &f, z, upd);
	CHECK(rc == 0, "%s: template embedder runs on %s %s", q, be->desc, rc ? of3_errmsg() : "");
	compare(q, "template embedder update", upd, trunk, "template_embedder_out", r * c_z);
	for (int64_t i = 0; i < r * c_z; i++)
		upd2[i] = z[i] + upd[i];
	compare(q, "z + template update", upd2, trunk, "msa_module_in_z", r * c_z);

	/* a synthetic template in slot 2 (single chain's worth of features on every token):
	 * the real-template path runs, changes the update and is repeatable */
	{
		const int64_t t = 2, nd = OF3_TF_N_DGRAM;
		int32_t *rt = malloc((size_t)(4 * n * OF3_TF_N_RESTYPE) * sizeof *rt);
		float *pb = malloc((size_t)(4 * n) * sizeof *pb);
		float *dg = calloc((size_t)(4 * r * nd), sizeof *dg);
		float *uv = calloc((size_t)(4 * r * 3), sizeof *uv);
		memcpy(rt, f.template_restype, (size_t)(4 * n * OF3_TF_N_RESTYPE) * sizeof *rt);
		memcpy(pb, f.template_pseudo_beta_mask, (size_t)(4 * n) * sizeof *pb);
		for (int64_t i = 0; i < n; i++) {
			rt[(t * n + i) * OF3_TF_N_RESTYPE + i % 20] = 1;
			pb[t * n + i] = 1;
			for (int64_t j = 0; j < n; j++) {
				int64_t d = i > j ? i - j : j - i;
				dg[((t * n + i) * n + j) * nd + (d < nd ? d : nd - 1)] = 1;
				uv[((t * n + i) * n + j) * 3 + (i + j) % 3] = i == j ? 0.0f : 0.6f;
			}
		}
		of3_trunk_features_t g = f;
		g.template_restype = rt;
		g.template_pseudo_beta_mask = pb;
		g.template_backbone_frame_mask = pb;
		g.template_distogram = dg;
		g.template_unit_vector = uv;
		float *again = malloc((size_t)(r * c_z) * sizeof *again);
		int rc1 = forward(be, w, &g, z, upd2);
		int rc2 = forward(be, w, &g, z, again);
		double diff = 0, norm = 0;
		int finite = 1, same = 1;
		for (int64_t i = 0; i < r * c_z; i++) {
			diff += (upd2[i] - upd[i]) * (double)(upd2[i] - upd[i]);
			norm += upd[i] * (double)upd[i];
			finite &= isfinite(upd2[i]) != 0;
			same &= upd2[i] == again[i];
		}
		CHECK(rc1 == 0 && rc2 == 0 && finite && same && sqrt(diff) > 1e-3 * sqrt(norm),
		      "%s: a synthetic template in slot 2 changes the update (relative %.3e), "
		      "finite, "
		      "repeatable",
		      q, sqrt(diff / norm));
		free(rt);
		free(pb);
		free(dg);
		free(uv);
		free(again);
	}
free:
	free(z);
	free(upd);
	free(upd2);
done:
	of3_bundle_free(feat);
	of3_bundle_free(trunk);
}

/* of3_wbind_all's binding pass */
static int bind_template(void *w, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	return of3_template_embedder_bind(w, ck, wb);
}

int main(int argc, char **argv)
{
	of3_ckpt_t *ck = NULL;
	of3_backend_t be;
	of3_template_w_t w;
	of3_wbuf_t wb = {0};
	int rc;
	if (test_start(argc, argv, &be, &ck, CKPT) < 0)
		return check_summary();
	rc = of3_wbind_all(&wb, ck, &be, bind_template, &w);
	CHECK(rc == 0 && wb.base && wb.n_used == wb.n_cap,
	      "bound the template embedder, %zu floats %s", wb.n_used, rc ? of3_errmsg() : "");
	if (rc)
		goto out;
	CHECK(w.c_t == 8 && w.c_z == 16 && w.n_block == 1 && w.block[0].att_start.mha.n_head == 2,
	      "dimensions from the shapes: c_t %lld, c_z %lld, %d block(s), tri-att %lld x %lld",
	      (long long)w.c_t, (long long)w.c_z, w.n_block,
	      (long long)w.block[0].att_start.mha.n_head,
	      (long long)w.block[0].att_start.mha.d_head);
	rc = of3_ckpt_check_unused(ck, "template_embedder.");
	CHECK(rc == 0, "every template_embedder key is bound %s", rc ? of3_errmsg() : "");

	/* the inference-time block is not the full pair block */
	{
		const int64_t n = 5, r = n * n, c = w.c_t;
		float *a = malloc((size_t)(r * c) * sizeof *a),
		      *b = malloc((size_t)(r * c) * sizeof *b);
		float pm[25];
		size_t ns = of3_pair_block_scratch(&w.block[0], n);
		float *s = test_alloc(&be, (int64_t)ns);
		for (int64_t i = 0; i < r * c; i++)
			a[i] = b[i] = (float)sin(0.37 * (double)i);
		for (int i = 0; i < 25; i++)
			pm[i] = 1;
		float *da = test_up(&be, a, r * c), *db = test_up(&be, b, r * c),
		      *dpm = test_up(&be, pm, 25);
		of3_pair_block_template(da, dpm, &w.block[0], n, s, &be);
		of3_pair_block(db, dpm, &w.block[0], n, s, &be);
		rc = test_down(&be, a, da, r * c);
		rc = rc ? rc : test_down(&be, b, db, r * c);
		double d = 0;
		for (int64_t i = 0; i < r * c; i++)
			d += fabs(a[i] - b[i]);
		CHECK(rc == 0 && d > 1e-3 && of3_pair_block_template_scratch(&w.block[0], n) <= ns,
		      "the template block stops after the starting-node attention (differs from "
		      "the "
		      "full block by %.3e summed)",
		      d);
		free(a);
		free(b);
		of3_backend_free(&be, s);
		of3_backend_free(&be, da);
		of3_backend_free(&be, db);
		of3_backend_free(&be, dpm);
	}

	run_query("protein", &w, &be);
	run_query("protein_ligand", &w, &be);
out:
	of3_wbuf_free(&wb, &be);
	of3_ckpt_close(ck);
	of3_backend_close(&be);
	return check_summary();
}
