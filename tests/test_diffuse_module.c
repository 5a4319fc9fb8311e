/* test_diffuse_module.c: parity of one diffusion-module call (of3-diffuse/diffusion_module.c,
 * spec/diffusion_heads.md §3) with the real OpenFold3 on the tiny random checkpoint
 * (tests/fixtures/of3_tiny_random.pt).
 *
 * For both tiny queries: the features (tiny_*_features), s_input, s_trunk, z_trunk
 * (tiny_*_trunk), and from tiny_*_diffusion the noise level diffusion_t and the noisy
 * coordinates diffusion_x_noisy [D,A,3], all as float32; the module runs once on the backend of
 * tests/test_device.h (the CPU, or CUDA under `make test-gpu`), inputs uploaded and outputs
 * downloaded through the backend API, and the recorded intermediates (conditioned s and z, the
 * encoder's c, q and a, the diffusion transformer output, the decoder's Δr) and x_denoised
 * (float64 taps, tools/reference/of3ref/taps.py) are compared by relative Frobenius error, bar
 * 1e-4 (CPU and CUDA fp32), 5e-2 in bf16 mode. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/bundle.h"
#include "../common/checkpoint.h"
#include "../kernels/backend.h"
#include "../of3-diffuse/diffusion_module.h"
#include "check.h"
#include "fixture_io.h"
#include "test_device.h"

#define CKPT "tests/fixtures/of3_tiny_random.pt"
#define BAR  td_bar(1e-4, 5e-2)

/* A tensor of dtype dt and n values, viewed in place (NULL when absent or different). */
static const void *view(const of3_bundle_t *b, const char *name, of3_dtype_t dt, int64_t n)
{
	const of3_tensor_t *t = of3_bundle_tensor(b, name);
	return t && t->dtype == dt && of3_tensor_numel(t) == n ? t->data : NULL;
}

static void compare(const char *q, const char *what, const float *ours, const of3_bundle_t *b,
                    const char *name, int64_t n)
{
	double max_abs;
	double e = rel_err(ours, b, name, n, &max_abs);
	CHECK(e >= 0 && e <= BAR,
	      "%s: %s vs %s: relative Frobenius error %.3e (max abs %.3e, bar %.0e)", q, what, name,
	      e, max_abs, BAR);
}

static void run_query(const char *q, const of3_diffusion_module_w_t *w, of3_backend_t *be)
{
	char path[256];
	of3_bundle_t *bun[3] = {0};
	const char *kind[3] = {"features", "trunk", "diffusion"};
	int ok = 1;
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "tests/fixtures/tiny_%s_%s.bundle.gz", q, kind[i]);
		bun[i] = read_gz(path);
		ok = ok && bun[i];
	}
	CHECK(ok, "%s: fixtures read", q);
	if (!ok)
		goto done;
	const of3_bundle_t *feat = bun[0], *trunk = bun[1], *ref = bun[2];
	const of3_tensor_t *tm = of3_bundle_tensor(feat, "token_mask");
	const of3_tensor_t *am = of3_bundle_tensor(feat, "atom_mask");
	const of3_tensor_t *xt = of3_bundle_tensor(ref, "diffusion_x_noisy");
	const double *tt = view(ref, "diffusion_t", OF3_DTYPE_F64, 1);
	if (!tm || !am || !xt || xt->ndim != 3 || !tt) {
		CHECK(0,
		      "%s: token_mask, atom_mask, diffusion_x_noisy [D,A,3], diffusion_t present",
		      q);
		goto done;
	}
	const int64_t n = tm->shape[0], A = am->shape[0], D = xt->shape[0];
	const int64_t ca = w->c_atom, ct = w->c_token;
	of3_diffusion_in_t in = {
	        .n_tok = n,
	        .n_atom = A,
	        .n_sample = D,
	        .t_hat = *tt,
	        .x_noisy = tap_f32(ref, "diffusion_x_noisy", D * A * 3),
	        .s_input = tap_f32(trunk, "s_input", n * w->c_si),
	        .s_trunk = tap_f32(trunk, "s_trunk", n * w->c_s),
	        .z_trunk = tap_f32(trunk, "z_trunk", n * n * w->c_z),
	        .f =
	                {
	                        .ref_pos = view(feat, "ref_pos", OF3_DTYPE_F32, A * 3),
	                        .ref_mask = view(feat, "ref_mask", OF3_DTYPE_I32, A),
	                        .ref_element = view(feat, "ref_element", OF3_DTYPE_I32,
	                                            A * OF3_DIFF_N_ELEMENT),
	                        .ref_charge = view(feat, "ref_charge", OF3_DTYPE_F32, A),
	                        .ref_atom_name_chars = view(feat, "ref_atom_name_chars",
	                                                    OF3_DTYPE_I32, A * OF3_DIFF_N_CHARS),
	                        .ref_space_uid = view(feat, "ref_space_uid", OF3_DTYPE_I32, A),
	                        .atom_mask = view(feat, "atom_mask", OF3_DTYPE_F32, A),
	                        .atom_to_token_index =
	                                view(feat, "atom_to_token_index", OF3_DTYPE_I32, A),
	                        .residue_index = view(feat, "residue_index", OF3_DTYPE_I32, n),
	                        .token_index = view(feat, "token_index", OF3_DTYPE_I32, n),
	                        .asym_id = view(feat, "asym_id", OF3_DTYPE_I32, n),
	                        .entity_id = view(feat, "entity_id", OF3_DTYPE_I32, n),
	                        .sym_id = view(feat, "sym_id", OF3_DTYPE_I32, n),
	                        .token_mask = view(feat, "token_mask", OF3_DTYPE_F32, n),
	                },
	};
	of3_diffusion_out_t out = {
	        .x_denoised = malloc((size_t)(D * A * 3) * sizeof(float)),
	        .cond_s = malloc((size_t)(n * w->c_s) * sizeof(float)),
	        .cond_z = malloc((size_t)(n * n * w->c_z) * sizeof(float)),
	        .enc_c = malloc((size_t)(A * ca) * sizeof(float)),
	        .enc_q = malloc((size_t)(D * A * ca) * sizeof(float)),
	        .enc_a = malloc((size_t)(D * n * ct) * sizeof(float)),
	        .trans_a = malloc((size_t)(D * n * ct) * sizeof(float)),
	        .r_update = malloc((size_t)(D * A * 3) * sizeof(float)),
	};
	size_t n_scratch = of3_diffusion_module_scratch(w, n, A, D);
	size_t n_cache = of3_diffusion_cache_size(w, n, A);
	float *scratch = of3_backend_alloc(be, n_scratch * sizeof *scratch);
	float *cache = of3_backend_alloc(be, n_cache * sizeof *cache);
	const of3_diffusion_feats_t *f = &in.f;
	ok = in.x_noisy && in.s_input && in.s_trunk && in.z_trunk && f->ref_pos && f->ref_mask &&
	     f->ref_element && f->ref_charge && f->ref_atom_name_chars && f->ref_space_uid &&
	     f->atom_mask && f->atom_to_token_index && f->residue_index && f->token_index &&
	     f->asym_id && f->entity_id && f->sym_id && f->token_mask && scratch && cache;
	CHECK(ok,
	      "%s: %lld tokens, %lld atoms, %lld samples at t = %g; inputs present, %zu scratch "
	      "floats",
	      q, (long long)n, (long long)A, (long long)D, *tt, n_scratch);
	if (!ok)
		goto free_all;
	of3_diffusion_in_t din; /* the same in backend memory */
	td_in(&din, &in, w->c_si, w->c_s, w->c_z);
	const of3_diffusion_out_t dout = {
	        .x_denoised = td_out(out.x_denoised, D * A * 3),
	        .cond_s = td_out(out.cond_s, n * w->c_s),
	        .cond_z = td_out(out.cond_z, n * n * w->c_z),
	        .enc_c = td_out(out.enc_c, A * ca),
	        .enc_q = td_out(out.enc_q, D * A * ca),
	        .enc_a = td_out(out.enc_a, D * n * ct),
	        .trans_a = td_out(out.trans_a, D * n * ct),
	        .r_update = td_out(out.r_update, D * A * 3),
	};
	int rc = of3_diffusion_prepare(cache, &dout, &din, w, scratch, be);
	CHECK(rc == 0, "%s: prepare (%zu cache floats) %s", q, n_cache, rc ? of3_errmsg() : "");
	rc = rc ? rc : of3_diffusion_module_forward(&dout, &din, w, cache, scratch, NULL, be);
	rc = rc ? rc : of3_backend_sync(be);
	CHECK(rc == 0, "%s: forward %s", q, rc ? of3_errmsg() : "");
	td_down(out.x_denoised, dout.x_denoised, D * A * 3);
	td_down(out.cond_s, dout.cond_s, n * w->c_s);
	td_down(out.cond_z, dout.cond_z, n * n * w->c_z);
	td_down(out.enc_c, dout.enc_c, A * ca);
	td_down(out.enc_q, dout.enc_q, D * A * ca);
	td_down(out.enc_a, dout.enc_a, D * n * ct);
	td_down(out.trans_a, dout.trans_a, D * n * ct);
	td_down(out.r_update, dout.r_update, D * A * 3);
	td_in_free(&din);
	td_free(dout.x_denoised), td_free(dout.cond_s), td_free(dout.cond_z), td_free(dout.enc_c);
	td_free(dout.enc_q), td_free(dout.enc_a), td_free(dout.trans_a), td_free(dout.r_update);
	if (rc)
		goto free_all;
	compare(q, "conditioned s", out.cond_s, ref, "diffusion_cond_s", n * w->c_s);
	compare(q, "conditioned z", out.cond_z, ref, "diffusion_cond_z", n * n * w->c_z);
	compare(q, "encoder c", out.enc_c, ref, "diffusion_enc_c", A * ca);
	compare(q, "encoder q", out.enc_q, ref, "diffusion_enc_q", D * A * ca);
	compare(q, "encoder a", out.enc_a, ref, "diffusion_enc_a", D * n * ct);
	compare(q, "diffusion transformer a", out.trans_a, ref, "diffusion_transformer_a",
	        D * n * ct);
	compare(q, "decoder r_update", out.r_update, ref, "diffusion_dec_r_update", D * A * 3);
	compare(q, "x_denoised", out.x_denoised, ref, "diffusion_x_denoised", D * A * 3);
free_all:
	free((void *)in.x_noisy), free((void *)in.s_input), free((void *)in.s_trunk);
	free((void *)in.z_trunk), of3_backend_free(be, scratch), of3_backend_free(be, cache);
	free(out.x_denoised), free(out.cond_s), free(out.cond_z), free(out.enc_c), free(out.enc_q);
	free(out.enc_a), free(out.trans_a), free(out.r_update);
done:
	for (int i = 0; i < 3; i++)
		of3_bundle_free(bun[i]);
}

/* of3_wbind_all's binding pass */
static int bind_module(void *w, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	return of3_diffusion_module_bind(w, ck, wb);
}

int main(int argc, char **argv)
{
	of3_ckpt_t *ck = NULL;
	of3_diffusion_module_w_t *w = malloc(sizeof *w);
	of3_wbuf_t wb = {0};
	CHECK(w != NULL, "memory for the weights' pointers");
	if (!w || test_start(argc, argv, &td_be, &ck, CKPT) < 0) {
		free(w);
		return check_summary();
	}
	int rc = of3_wbind_all(&wb, ck, &td_be, bind_module, w);
	CHECK(rc == 0 && wb.base && wb.n_used == wb.n_cap,
	      "bound the diffusion module, %zu floats %s", wb.n_used, rc ? of3_errmsg() : "");
	if (rc)
		goto out;
	printf("# dimensions: c_s %lld, c_z %lld, c_si %lld, Fourier %lld, c_atom %lld, c_p %lld, "
	       "c_token %lld; blocks: encoder %d, transformer %d (%lld heads), decoder %d\n",
	       (long long)w->c_s, (long long)w->c_z, (long long)w->c_si, (long long)w->n_fourier,
	       (long long)w->c_atom, (long long)w->c_p, (long long)w->c_token, w->enc.n_block,
	       w->dt.n_block, (long long)w->dt.blk[0].mha.n_head, w->dec.n_block);
	run_query("protein", w, &td_be);
	run_query("protein_ligand", w, &td_be);
	/* the per-rollout loops over pair rows in chunks of 4 (the last one shorter), not all at
	 * once as above, first those of width c_z, then the conditioned pair's (c_z + 139): the
	 * same bars */
	const int64_t widths[2] = {w->c_z, w->c_z + OF3_DIFF_RELPOS};
	for (int i = 0; i < 2; i++) {
		of3_pair_set_chunk_floats(4 * 33 * widths[i]);
		printf("# pair rows of width %lld in chunks of %lld\n", (long long)widths[i],
		       (long long)of3_pair_rows_per_chunk(33, widths[i]));
		run_query("protein_ligand", w, &td_be);
	}
	of3_pair_set_chunk_floats(0);
	rc = of3_ckpt_check_unused(ck, "diffusion_module.");
	CHECK(rc == 0, "every diffusion_module. key is used %s", rc ? of3_errmsg() : "");
out:
	of3_wbuf_free(&wb, &td_be);
	free(w);
	of3_ckpt_close(ck);
	of3_backend_close(&td_be);
	return check_summary();
}
