/* test_diffuse_heads.c: parity of the confidence heads (of3-diffuse/heads.c,
 * spec/diffusion_heads.md §5) with the real OpenFold3 on the tiny random checkpoint
 * (tests/fixtures/of3_tiny_random.pt, issue #8).
 *
 * For both tiny queries: s_input, s_trunk, z_trunk (tiny_*_trunk), the token tables
 * (tiny_*_features) and the sampled coordinates atom_positions_predicted (tiny_*_sample), all
 * converted to float32; the heads run on the backend of tests/test_device.h (the CPU, or CUDA
 * under `make test-gpu`; inputs uploaded, outputs downloaded) and every recorded output of
 * tiny_*_heads (the Pairformer embedding's s and z, distogram, pLDDT, experimentally resolved,
 * PDE and PAE logits; float64) is compared by relative Frobenius error, bar 1e-4 (5e-2 in bf16
 * mode). Also:
 * representative atoms of every residue kind on a synthetic token table, the table errors,
 * and a missing key named in the binding error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/bundle.h"
#include "../common/checkpoint.h"
#include "../kernels/backend.h"
#include "../of3-diffuse/heads.h"
#include "check.h"
#include "fixture_io.h"
#include "test_device.h"

#define CKPT "tests/fixtures/of3_tiny_random.pt"
#define BAR  td_bar(1e-4, 5e-2)

/* The tensor as float32 (malloc'ed) when it holds exactly n float values, else NULL. */
static float *tensor_f32(const of3_bundle_t *b, const char *name, int64_t n)
{
	const of3_tensor_t *t = of3_bundle_tensor(b, name);
	if (!t || of3_tensor_numel(t) != n ||
	    (t->dtype != OF3_DTYPE_F64 && t->dtype != OF3_DTYPE_F32))
		return NULL;
	float *out = malloc((size_t)(n > 0 ? n : 1) * sizeof *out);
	for (int64_t i = 0; out && i < n; i++)
		out[i] = t->dtype == OF3_DTYPE_F64 ? (float)((const double *)t->data)[i]
		                                   : ((const float *)t->data)[i];
	return out;
}

/* An int32 tensor of n values, viewed in place (NULL when absent or of another size). */
static const int32_t *tensor_i32(const of3_bundle_t *b, const char *name, int64_t n)
{
	const of3_tensor_t *t = of3_bundle_tensor(b, name);
	return t && t->dtype == OF3_DTYPE_I32 && of3_tensor_numel(t) == n ? t->data : NULL;
}

static void compare(const char *q, const char *what, const float *ours, const of3_bundle_t *b,
                    const char *name, int64_t n)
{
	const of3_tensor_t *t = of3_bundle_tensor(b, name);
	if (!t || t->dtype != OF3_DTYPE_F64 || of3_tensor_numel(t) != n) {
		CHECK(0, "%s: %s: tensor %s absent or not %lld float64 values", q, what, name,
		      (long long)n);
		return;
	}
	double num = 0, den = 0, max_abs = 0;
	for (int64_t i = 0; i < n; i++) {
		double ref = ((const double *)t->data)[i], d = ours[i] - ref;
		num += d * d;
		den += ref * ref;
		max_abs = fabs(d) > max_abs || isnan(d) ? fabs(d) : max_abs;
	}
	double e = sqrt(num) / (den > 0 ? sqrt(den) : 1);
	CHECK(e <= BAR, "%s: %s vs %s: relative Frobenius error %.3e (max abs %.3e, bar %.0e)", q,
	      what, name, e, max_abs, BAR);
}

static void run_query(const char *q, const of3_heads_w_t *w, of3_backend_t *be)
{
	char path[256];
	of3_bundle_t *bun[4] = {0};
	const char *kind[4] = {"features", "trunk", "sample", "heads"};
	int ok = 1;
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "tests/fixtures/tiny_%s_%s.bundle.gz", q, kind[i]);
		bun[i] = read_gz(path);
		ok = ok && bun[i];
	}
	CHECK(ok, "%s: fixtures read", q);
	if (!ok)
		goto done;
	const of3_bundle_t *feat = bun[0], *trunk = bun[1], *samp = bun[2], *ref = bun[3];
	const of3_tensor_t *tm = of3_bundle_tensor(feat, "token_mask");
	const of3_tensor_t *am = of3_bundle_tensor(feat, "atom_mask");
	const of3_tensor_t *xt = of3_bundle_tensor(samp, "atom_positions_predicted");
	if (!tm || !am || !xt || xt->ndim != 3) {
		CHECK(0, "%s: token_mask, atom_mask, atom_positions_predicted [D,A,3] present", q);
		goto done;
	}
	const int64_t n = tm->shape[0], n_atom = am->shape[0], n_sample = xt->shape[0];
	const int64_t r = n * n;

	/* token tables */
	const int32_t *rt1 = tensor_i32(feat, "restype", n * 32);
	int32_t *restype = malloc((size_t)n * sizeof *restype);
	for (int64_t i = 0; rt1 && i < n; i++) {
		restype[i] = 31;
		for (int k = 0; k < 32; k++)
			if (rt1[i * 32 + k])
				restype[i] = k;
	}
	of3_heads_tokens_t tok = {
	        .n_tok = n,
	        .n_atom = n_atom,
	        .restype = restype,
	        .is_protein = tensor_i32(feat, "is_protein", n),
	        .is_rna = tensor_i32(feat, "is_rna", n),
	        .is_dna = tensor_i32(feat, "is_dna", n),
	        .is_atomized = tensor_i32(feat, "is_atomized", n),
	        .start_atom_index = tensor_i32(feat, "start_atom_index", n),
	        .num_atoms_per_token = tensor_i32(feat, "num_atoms_per_token", n),
	        .token_mask = tm->data,
	        .atom_mask = am->data,
	};
	int32_t *rep_atom = malloc((size_t)n * sizeof *rep_atom);
	int32_t *atom_slot = malloc((size_t)n_atom * sizeof *atom_slot);
	float *rep_mask = malloc((size_t)n * sizeof *rep_mask);
	float *pair_mask = malloc((size_t)r * sizeof *pair_mask);
	of3_heads_in_t in = {
	        .n_tok = n,
	        .n_atom = n_atom,
	        .n_sample = n_sample,
	        .s_input = tensor_f32(trunk, "s_input", n * w->c_si),
	        .s_trunk = tensor_f32(trunk, "s_trunk", n * w->c_s),
	        .z_trunk = tensor_f32(trunk, "z_trunk", r * w->c_z),
	        .x = tensor_f32(samp, "atom_positions_predicted", n_sample * n_atom * 3),
	        .tab = {rep_atom, rep_mask, pair_mask, atom_slot},
	};
	of3_heads_out_t out = {
	        .distogram = malloc((size_t)(r * w->n_distogram_bin) * sizeof(float)),
	        .plddt = malloc((size_t)(n_sample * n_atom * w->n_plddt_bin) * sizeof(float)),
	        .resolved = malloc((size_t)(n_sample * n_atom * w->n_resolved_bin) * sizeof(float)),
	        .pde = malloc((size_t)(n_sample * r * w->n_pde_bin) * sizeof(float)),
	        .pae = malloc((size_t)(n_sample * r * w->n_pae_bin) * sizeof(float)),
	        .s = malloc((size_t)(n_sample * n * w->c_s) * sizeof(float)),
	        .z = malloc((size_t)(n_sample * r * w->c_z) * sizeof(float)),
	};
	size_t n_scratch = of3_heads_scratch(w, n);
	float *scratch = of3_backend_alloc(be, n_scratch * sizeof *scratch);
	ok = rt1 && tok.is_protein && tok.is_rna && tok.is_dna && tok.is_atomized &&
	     tok.start_atom_index && tok.num_atoms_per_token && tm->dtype == OF3_DTYPE_F32 &&
	     am->dtype == OF3_DTYPE_F32 && in.s_input && in.s_trunk && in.z_trunk && in.x;
	CHECK(ok,
	      "%s: %lld tokens, %lld atoms, %lld samples; inputs as float32, %zu scratch floats", q,
	      (long long)n, (long long)n_atom, (long long)n_sample, n_scratch);
	if (!ok)
		goto free_all;
	int rc = of3_heads_tables(&in.tab, &tok);
	CHECK(rc == 0, "%s: token tables %s", q, rc ? of3_errmsg() : "");
	if (rc)
		goto free_all;
	const of3_heads_in_t din = {
	        .n_tok = n,
	        .n_atom = n_atom,
	        .n_sample = n_sample,
	        .s_input = td_up(in.s_input, (size_t)(n * w->c_si) * 4),
	        .s_trunk = td_up(in.s_trunk, (size_t)(n * w->c_s) * 4),
	        .z_trunk = td_up(in.z_trunk, (size_t)(r * w->c_z) * 4),
	        .x = td_up(in.x, (size_t)(n_sample * n_atom * 3) * 4),
	        .tab = {td_up(rep_atom, (size_t)n * 4), td_up(rep_mask, (size_t)n * 4),
	                td_up(pair_mask, (size_t)r * 4), td_up(atom_slot, (size_t)n_atom * 4)},
	};
	const of3_heads_out_t dout = {
	        .distogram = td_out(out.distogram, r * w->n_distogram_bin),
	        .plddt = td_out(out.plddt, n_sample * n_atom * w->n_plddt_bin),
	        .resolved = td_out(out.resolved, n_sample * n_atom * w->n_resolved_bin),
	        .pde = td_out(out.pde, n_sample * r * w->n_pde_bin),
	        .pae = td_out(out.pae, n_sample * r * w->n_pae_bin),
	        .s = td_out(out.s, n_sample * n * w->c_s),
	        .z = td_out(out.z, n_sample * r * w->c_z),
	};
	of3_heads_forward(&dout, &din, w, scratch, be);
	rc = of3_backend_sync(be);
	CHECK(rc == 0, "%s: heads ran %s", q, rc ? of3_errmsg() : "");
	td_down(out.distogram, dout.distogram, r * w->n_distogram_bin);
	td_down(out.plddt, dout.plddt, n_sample * n_atom * w->n_plddt_bin);
	td_down(out.resolved, dout.resolved, n_sample * n_atom * w->n_resolved_bin);
	td_down(out.pde, dout.pde, n_sample * r * w->n_pde_bin);
	td_down(out.pae, dout.pae, n_sample * r * w->n_pae_bin);
	td_down(out.s, dout.s, n_sample * n * w->c_s);
	td_down(out.z, dout.z, n_sample * r * w->c_z);
	td_free(din.s_input), td_free(din.s_trunk), td_free(din.z_trunk), td_free(din.x);
	td_free(din.tab.rep_atom), td_free(din.tab.rep_mask), td_free(din.tab.pair_mask);
	td_free(din.tab.atom_slot);
	td_free(dout.distogram), td_free(dout.plddt), td_free(dout.resolved), td_free(dout.pde);
	td_free(dout.pae), td_free(dout.s), td_free(dout.z);
	compare(q, "pairformer embedding s", out.s, ref, "confidence_pairformer_s",
	        n_sample * n * w->c_s);
	compare(q, "pairformer embedding z", out.z, ref, "confidence_pairformer_z",
	        n_sample * r * w->c_z);
	compare(q, "distogram", out.distogram, ref, "distogram_logits", r * w->n_distogram_bin);
	compare(q, "pLDDT", out.plddt, ref, "plddt_logits", n_sample * n_atom * w->n_plddt_bin);
	compare(q, "experimentally resolved", out.resolved, ref, "experimentally_resolved_logits",
	        n_sample * n_atom * w->n_resolved_bin);
	compare(q, "PDE", out.pde, ref, "pde_logits", n_sample * r * w->n_pde_bin);
	compare(q, "PAE", out.pae, ref, "pae_logits", n_sample * r * w->n_pae_bin);
free_all:
	free(restype), free(rep_atom), free(atom_slot), free(rep_mask), free(pair_mask);
	free((void *)in.s_input), free((void *)in.s_trunk), free((void *)in.z_trunk);
	free((void *)in.x), of3_backend_free(be, scratch);
	free(out.distogram), free(out.plddt), free(out.resolved), free(out.pde), free(out.pae);
	free(out.s), free(out.z);
done:
	for (int i = 0; i < 4; i++)
		of3_bundle_free(bun[i]);
}

/* Representative atoms of each residue kind (§5.2) on a synthetic query, and table errors. */
static void test_tables(void)
{
	enum { N = 9 };
	/* ALA, GLY, UNK protein, DA, DC, RNA G, RNA U, DN, an atomized ligand atom */
	const int32_t restype[N] = {0, 7, 20, 26, 28, 22, 24, 30, 20};
	const int32_t prot[N] = {1, 1, 1, 0, 0, 0, 0, 0, 0}, dna[N] = {0, 0, 0, 1, 1, 0, 0, 1, 0};
	const int32_t rna[N] = {0, 0, 0, 0, 0, 1, 1, 0, 0},
	              atomized[N] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
	int32_t nat[N] = {5, 4, 5, 21, 19, 23, 20, 20, 1}, start[N];
	const int32_t want[N] = {4, 1, 4, 20, 12, 22, 13, -1, 0}; /* offsets; -1 none */
	int32_t n_atom = 0;
	for (int i = 0; i < N; i++)
		start[i] = n_atom, n_atom += nat[i];
	float tmask[N], *amask = malloc((size_t)n_atom * sizeof *amask), pm[N * N], rm[N];
	int32_t ra[N], *slot = malloc((size_t)n_atom * sizeof *slot);
	for (int i = 0; i < N; i++)
		tmask[i] = 1.0f;
	for (int a = 0; a < n_atom; a++)
		amask[a] = 1.0f;
	amask[start[1] + 1] = 0.0f; /* GLY's CA unresolved: its mask follows */
	of3_heads_tokens_t tok = {N,        n_atom, restype, prot,  rna,  dna,
	                          atomized, start,  nat,     tmask, amask};
	of3_heads_tables_t t = {ra, rm, pm, slot};
	int rc = of3_heads_tables(&t, &tok), ok = rc == 0;
	for (int i = 0; ok && i < N; i++)
		ok = want[i] < 0 ? ra[i] == 0 && rm[i] == 0.0f
		                 : ra[i] == start[i] + want[i] && rm[i] == (i == 1 ? 0.0f : 1.0f);
	CHECK(ok,
	      "representative atoms: CB, CA (Gly), CB (UNK), C4 (DA), C2 (DC), C4 (G), C2 (U), "
	      "atom 0 masked (DN), the ligand atom %s",
	      rc ? of3_errmsg() : "");
	CHECK(rc == 0 && slot[start[3] + 7] == 3 * OF3_HEADS_ATOM_SLOTS + 7 &&
	              slot[n_atom - 1] == 8 * 23,
	      "atom slots: atom k of token i reads row 23 i + k");
	nat[5] = 24, nat[6] = 19; /* 24 atoms in one token */
	rc = of3_heads_tables(&t, &tok);
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "token 5 has 24 atoms"),
	      "more than 23 atoms in a token: %s", of3_errmsg());
	nat[5] = 23, nat[6] = 20, start[2] = 10;
	rc = of3_heads_tables(&t, &tok);
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "not contiguous"),
	      "atoms out of token order: %s", of3_errmsg());
	free(amask), free(slot);
}

/* of3_wbind_all's binding pass */
static int bind_heads(void *w, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	return of3_heads_bind(w, ck, wb);
}

int main(int argc, char **argv)
{
	of3_ckpt_t *ck = NULL;
	of3_heads_w_t w;
	of3_wbuf_t wb = {0};
	if (test_start(argc, argv, &td_be, &ck, CKPT) < 0)
		return check_summary();
	test_tables();
	int rc = of3_wbind_all(&wb, ck, &td_be, bind_heads, &w);
	CHECK(rc == 0 && wb.base && wb.n_used == wb.n_cap, "bound the heads, %zu floats %s",
	      wb.n_used, rc ? of3_errmsg() : "");
	if (rc)
		goto out;
	CHECK(w.c_s == 32 && w.c_z == 16 && w.c_si == 97 && w.n_block == 1 && w.n_dist_bin == 39 &&
	              w.n_plddt_bin == 50 && w.n_resolved_bin == 2 && w.n_pde_bin == 64 &&
	              w.n_pae_bin == 64 && w.n_distogram_bin == 64,
	      "dimensions from the shapes: c_s %lld, c_z %lld, s_input %lld, %d blocks, bins: "
	      "distance %lld, pLDDT %lld, resolved %lld, PDE %lld, PAE %lld, distogram %lld",
	      (long long)w.c_s, (long long)w.c_z, (long long)w.c_si, w.n_block,
	      (long long)w.n_dist_bin, (long long)w.n_plddt_bin, (long long)w.n_resolved_bin,
	      (long long)w.n_pde_bin, (long long)w.n_pae_bin, (long long)w.n_distogram_bin);
	run_query("protein", &w, &td_be);
	run_query("protein_ligand", &w, &td_be);
	rc = of3_ckpt_check_unused(ck, "aux_heads.");
	CHECK(rc == 0, "every aux_heads. key is used %s", rc ? of3_errmsg() : "");
out:
	of3_wbuf_free(&wb, &td_be);
	of3_ckpt_close(ck);
	of3_backend_close(&td_be);
	return check_summary();
}
