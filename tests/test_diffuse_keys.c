/* test_diffuse_keys.c: the keys and shapes of3-diffuse binds (the diffusion module and the
 * confidence heads) are exactly the "diffusion_module." and "aux_heads." keys of the released
 * checkpoint's layout, as test_trunk_keys.c checks for the trunk.
 *
 * tests/fixtures/checkpoint/default_state_dict_keys.tsv lists every state-dict entry of the
 * reference OpenFold3 model at the default (predict + pae_enabled) configuration. This test
 * writes them as a torch.save-like archive in memory (tests/state_dict_archive.h), opens it with
 * of3_ckpt_open_buffer and runs the planning pass (weights.h: of3_wbuf_t.base NULL) of
 * of3_diffusion_module_bind and of3_heads_bind on it. It checks that every key under the two
 * prefixes was bound and none is left (of3_ckpt_check_unused); that each
 * "sample_diffusion.diffusion_module." key (the sampler's reference to the same module,
 * spec/diffusion_heads.md §3.9, §8 item 11) has a "diffusion_module." twin of the same shape and
 * that the loader folds them; the dimensions learnt against spec/diffusion_heads.md §3.2-3.6,
 * §3.9, §5.3-5.7; the floats planned against the values of the keys (§3.9: 203,240,060; §5.7:
 * 12,889,216); and that a renamed or misshaped key is caught by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/checkpoint.h"
#include "../common/error.h"
#include "../of3-diffuse/diffusion_module.h"
#include "../of3-diffuse/heads.h"
#include "check.h"
#include "state_dict_archive.h"

#define TSV     STATE_DICT_TSV
#define DM      "diffusion_module."
#define AH      "aux_heads."
#define DUP     "sample_diffusion.diffusion_module."
#define DUP_PFX "sample_diffusion."

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

typedef struct {
	of3_diffusion_module_w_t dm;
	of3_heads_w_t heads;
	size_t n_planned;   /* wb.n_used after both planning passes */
	int64_t n_tensors;  /* tensors indexed by the loader */
	int64_t n_folded;   /* sample_diffusion copies folded into their twins */
	int64_t n_dm, n_ah; /* tensors under each prefix */
	int64_t b_dm, b_ah; /* ... of them bound */
	int unused_dm_rc;   /* of3_ckpt_check_unused of each prefix */
	int unused_ah_rc;
	char unused_msg[512]; /* the first check_unused message */
} bound_t;

/* Plans the binding of the diffusion module and the heads on entries e[0..n); returns the
 * status of opening and binding (of3_errmsg() says why), r filled as far as it got. */
static int bind_entries(const entry_t *e, int n, bound_t *r)
{
	buf_t z = {0};
	of3_ckpt_t *ck = NULL;
	of3_wbuf_t wb = {0}; /* base NULL: the planning pass */
	memset(r, 0, sizeof *r);
	build(&z, e, n);
	int rc = of3_ckpt_open_buffer(&ck, z.p, z.n, "default_state_dict_keys");
	if (rc == 0) {
		r->n_tensors = of3_ckpt_info(ck)->n_tensors;
		r->n_folded = of3_ckpt_info(ck)->n_duplicates;
		rc = of3_diffusion_module_bind(&r->dm, ck, &wb);
	}
	if (rc == 0)
		rc = of3_heads_bind(&r->heads, ck, &wb);
	r->n_planned = wb.n_used;
	if (rc == 0) {
		r->unused_dm_rc = of3_ckpt_check_unused(ck, DM);
		if (r->unused_dm_rc)
			snprintf(r->unused_msg, sizeof r->unused_msg, "%s", of3_errmsg());
		r->unused_ah_rc = of3_ckpt_check_unused(ck, AH);
		if (r->unused_ah_rc && !r->unused_msg[0])
			snprintf(r->unused_msg, sizeof r->unused_msg, "%s", of3_errmsg());
		for (int64_t i = 0; i < r->n_tensors; i++) {
			const of3_ckpt_tensor_t *t = of3_ckpt_tensor(ck, i);
			if (starts_with(t->key, DM))
				r->n_dm++, r->b_dm += t->used;
			if (starts_with(t->key, AH))
				r->n_ah++, r->b_ah += t->used;
		}
	}
	of3_ckpt_close(ck);
	free(z.p);
	return rc;
}

static int find(const entry_t *e, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(e[i].key, key))
			return i;
	return -1;
}

static int same_shape(const entry_t *a, const entry_t *b)
{
	if (a->ndim != b->ndim)
		return 0;
	for (int d = 0; d < a->ndim; d++)
		if (a->shape[d] != b->shape[d])
			return 0;
	return 1;
}

static void check_dims(const bound_t *r)
{
	const of3_diffusion_module_w_t *w = &r->dm;
	CHECK(w->c_atom == 128 && w->c_p == 16 && w->c_token == 768 && w->c_s == 384 &&
	              w->c_z == 128 && w->c_si == 449 && w->n_fourier == 256,
	      "diffusion module widths (§3.2, §3.3, §3.9): c_atom %lld, c_p %lld, c_token %lld, "
	      "c_s %lld, c_z %lld, c_si %lld, n_fourier %lld",
	      (long long)w->c_atom, (long long)w->c_p, (long long)w->c_token, (long long)w->c_s,
	      (long long)w->c_z, (long long)w->c_si, (long long)w->n_fourier);
	int dt_ok = w->dt.n_block == 24 && w->dt.c_a == 768 && w->dt.c_s == 384 && w->dt.c_z == 128;
	for (int b = 0; b < w->dt.n_block; b++) {
		const of3_dt_block_w_t *k = &w->dt.blk[b];
		dt_ok = dt_ok && k->mha.n_head == 16 && k->mha.d_head == 48 &&
		        k->tr.n_hidden == 1536 && k->c_a == 768 && k->c_s == 384 && k->c_z == 128;
	}
	CHECK(dt_ok,
	      "diffusion transformer (§3.4): %d blocks, each c_a 768, c_s 384, c_z 128, 16 heads "
	      "x 48, transition hidden 1536 (block 0: %lld heads x %lld, hidden %lld)",
	      w->dt.n_block, (long long)w->dt.blk[0].mha.n_head, (long long)w->dt.blk[0].mha.d_head,
	      (long long)w->dt.blk[0].tr.n_hidden);
	const of3_atom_transformer_w_t *at[2] = {&w->enc, &w->dec};
	int at_ok = 1;
	for (int i = 0; i < 2; i++) {
		at_ok = at_ok && at[i]->n_block == 3 && at[i]->c_a == 128 && at[i]->c_s == 128 &&
		        at[i]->c_p == 16;
		for (int b = 0; b < at[i]->n_block; b++) {
			const of3_atom_block_w_t *k = &at[i]->blk[b];
			at_ok = at_ok && k->mha.n_head == 4 && k->mha.d_head == 32 &&
			        k->tr.n_hidden == 256 && k->c_a == 128 && k->c_s == 128 &&
			        k->c_p == 16;
		}
	}
	CHECK(at_ok,
	      "atom transformers (§3.3, §3.5, §3.6): %d encoder and %d decoder blocks, each "
	      "c_a = c_s 128, c_p 16, 4 heads x 32, transition hidden 256",
	      w->enc.n_block, w->dec.n_block);

	const of3_heads_w_t *h = &r->heads;
	CHECK(h->n_block == 4 && h->c_s == 384 && h->c_z == 128 && h->c_si == 449 &&
	              h->n_dist_bin == 39,
	      "heads' Pairformer embedding (§5.3): %d blocks, c_s %lld, c_z %lld, c_si %lld, %lld "
	      "distance bins",
	      h->n_block, (long long)h->c_s, (long long)h->c_z, (long long)h->c_si,
	      (long long)h->n_dist_bin);
	int pf_ok = 1;
	for (int b = 0; b < h->n_block; b++) {
		const of3_pairformer_block_w_t *k = &h->blocks[b];
		pf_ok = pf_ok && k->c_s == 384 && k->c_z == 128 && k->apb.mha.n_head == 16 &&
		        k->apb.mha.d_head == 24 && k->pair.att_start.mha.n_head == 4 &&
		        k->pair.att_start.mha.d_head == 32 && k->pair.att_end.mha.n_head == 4 &&
		        k->pair.mul_out.h == 128 && k->pair.mul_in.h == 128 &&
		        k->pair.transition.n_hidden == 512 && k->single.n_hidden == 1536;
	}
	CHECK(pf_ok,
	      "heads' Pairformer blocks (§5.4): single attention 16 heads x 24, triangle "
	      "attention 4 x 32, triangle multiplication hidden 128, transitions 512 / 1536 "
	      "(block 0: %lld x %lld, %lld x %lld)",
	      (long long)h->blocks[0].apb.mha.n_head, (long long)h->blocks[0].apb.mha.d_head,
	      (long long)h->blocks[0].pair.att_start.mha.n_head,
	      (long long)h->blocks[0].pair.att_start.mha.d_head);
	CHECK(h->n_plddt_bin == 50 && h->n_resolved_bin == 2 && h->n_pde_bin == 64 &&
	              h->n_pae_bin == 64 && h->n_distogram_bin == 64,
	      "head bins (§5.5, §5.6): pLDDT %lld, resolved %lld, PDE %lld, PAE %lld, distogram "
	      "%lld",
	      (long long)h->n_plddt_bin, (long long)h->n_resolved_bin, (long long)h->n_pde_bin,
	      (long long)h->n_pae_bin, (long long)h->n_distogram_bin);
}

/* Entry i renamed to name (and its sample_diffusion twin j, if j >= 0, to DUP_PFX name):
 * binding must fail with OF3_ERR_INPUT naming the original key as missing. */
static void check_renamed(entry_t *e, int n, int i, int j, const char *name)
{
	char *saved = e[i].key, *saved_j = j >= 0 ? e[j].key : NULL, dup[512];
	char want[512];
	bound_t *r = malloc(sizeof *r);
	snprintf(want, sizeof want, "'%s' is missing", saved);
	snprintf(dup, sizeof dup, DUP_PFX "%s", name);
	e[i].key = (char *)name;
	if (j >= 0)
		e[j].key = dup;
	int rc = bind_entries(e, n, r);
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), want), "a renamed key%s: %s",
	      j >= 0 ? " (both copies)" : "", of3_errmsg());
	e[i].key = saved;
	if (j >= 0)
		e[j].key = saved_j;
	free(r);
}

/* Entries i (and j, if j >= 0) with dimension d set to v: binding must fail with OF3_ERR_INPUT
 * naming the key. */
static void check_misshaped(entry_t *e, int n, int i, int j, int d, long long v)
{
	long long si = e[i].shape[d], sj = j >= 0 ? e[j].shape[d] : 0;
	bound_t *r = malloc(sizeof *r);
	char want[512];
	snprintf(want, sizeof want, "'%s'", e[i].key);
	e[i].shape[d] = v;
	if (j >= 0)
		e[j].shape[d] = v;
	int rc = bind_entries(e, n, r);
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), want) && strstr(of3_errmsg(), "shape"),
	      "a misshaped key%s: %s", j >= 0 ? " (both copies)" : "", of3_errmsg());
	e[i].shape[d] = si;
	if (j >= 0)
		e[j].shape[d] = sj;
	free(r);
}

int main(int argc, char **argv)
{
	static entry_t e[MAX_KEYS];
	static bound_t r;
	if (argc > 1 && chdir(argv[1]) != 0) {
		perror(argv[1]);
		return 1;
	}
	int n = read_tsv(TSV, e, MAX_KEYS);
	CHECK(n > 4000, "%s: %d state-dict entries", TSV, n);
	if (n <= 0)
		return check_summary();

	/* the list itself: counts, values, and the sample_diffusion copies' twins */
	int n_dm = 0, n_ah = 0, n_dup = 0, n_twin = 0;
	long long v_dm = 0, v_ah = 0, v_dup = 0;
	size_t aligned = 0; /* floats the planning pass carves: each tensor rounded up to 16 */
	for (int i = 0; i < n; i++) {
		long long k = entry_numel(&e[i]);
		if (starts_with(e[i].key, DM))
			n_dm++, v_dm += k, aligned += (size_t)(k + 15) / 16 * 16;
		else if (starts_with(e[i].key, AH))
			n_ah++, v_ah += k, aligned += (size_t)(k + 15) / 16 * 16;
		else if (starts_with(e[i].key, DUP)) {
			n_dup++, v_dup += k;
			int t = find(e, n, e[i].key + strlen(DUP_PFX));
			n_twin += t >= 0 && same_shape(&e[i], &e[t]);
		}
	}
	CHECK(n_dm == 767 && v_dm == 203240060,
	      "%d '" DM "' entries in the list, %lld values (§3.9: 203,240,060)", n_dm, v_dm);
	CHECK(n_ah == 244 && v_ah == 12889216,
	      "%d '" AH "' entries in the list, %lld values (§5.7: 12,889,216)", n_ah, v_ah);
	CHECK(n_dup == n_dm && n_twin == n_dup && v_dup == v_dm,
	      "%d '" DUP "' entries, %d with a '" DM "' twin of the same shape (§3.9, §8 item 11)",
	      n_dup, n_twin);

	/* the binding */
	int rc = bind_entries(e, n, &r);
	CHECK(rc == 0,
	      "the diffusion module and the heads bind the default configuration's state "
	      "dict %s",
	      rc ? of3_errmsg() : "");
	CHECK(r.n_folded == n_dup && r.n_tensors == n - n_dup,
	      "the loader folds the %lld sample_diffusion copies into their twins (%lld tensors "
	      "indexed)",
	      (long long)r.n_folded, (long long)r.n_tensors);
	CHECK(r.n_dm == n_dm && r.b_dm == r.n_dm, "every '" DM "' key was bound: %lld of %lld",
	      (long long)r.b_dm, (long long)r.n_dm);
	CHECK(r.n_ah == n_ah && r.b_ah == r.n_ah, "every '" AH "' key was bound: %lld of %lld",
	      (long long)r.b_ah, (long long)r.n_ah);
	CHECK(r.unused_dm_rc == 0 && r.unused_ah_rc == 0,
	      "no key under '" DM "' or '" AH "' left unbound %s", r.unused_msg);
	if (rc == 0)
		check_dims(&r);
	size_t values = (size_t)(v_dm + v_ah);
	CHECK(r.n_planned == aligned && r.n_planned >= values &&
	              r.n_planned < values + 16 * (size_t)(n_dm + n_ah),
	      "%zu floats planned: the %zu values plus alignment (%zu, each tensor rounded up to "
	      "16 floats)",
	      r.n_planned, values, aligned);

	/* renamed and misshaped keys are caught by name */
	static const char *const dt_key =
	        DM "diffusion_transformer.blocks.23.conditioned_transition.linear_out.weight";
	static const char *const dec_key =
	        DM "atom_attn_dec.atom_transformer.blocks.2.attention_pair_bias.linear_z.weight";
	static const char *const pf_key =
	        AH "pairformer_embedding.pairformer_stack.blocks.3.single_transition.linear_out."
	           "weight";
	int i_dt = find(e, n, dt_key), i_dec = find(e, n, dec_key), i_pf = find(e, n, pf_key);
	int i_pae = find(e, n, AH "pae.linear.weight");
	int j_dt = -1, j_dec = -1;
	char dup_key[512];
	if (i_dt >= 0) {
		snprintf(dup_key, sizeof dup_key, DUP_PFX "%s", dt_key);
		j_dt = find(e, n, dup_key);
	}
	if (i_dec >= 0) {
		snprintf(dup_key, sizeof dup_key, DUP_PFX "%s", dec_key);
		j_dec = find(e, n, dup_key);
	}
	CHECK(i_dt >= 0 && j_dt >= 0 && i_dec >= 0 && j_dec >= 0 && i_pf >= 0 && i_pae >= 0,
	      "the keys to rename and misshape are listed");
	if (i_dt >= 0 && j_dt >= 0 && i_dec >= 0 && j_dec >= 0 && i_pf >= 0 && i_pae >= 0) {
		check_renamed(e, n, i_dt, j_dt,
		              DM
		              "diffusion_transformer.blocks.23.conditioned_transition.linear_outt."
		              "weight");
		check_renamed(e, n, i_pae, -1, AH "pae.linearr.weight");
		check_misshaped(e, n, i_dec, j_dec, 1, 17);
		check_misshaped(e, n, i_pf, -1, 1, 1537);

		/* only the "diffusion_module." copy renamed: the sample_diffusion copy stands in
		 * for it, and the renamed key is left unbound, by name */
		char *saved = e[i_dt].key;
		e[i_dt].key =
		        DM "diffusion_transformer.blocks.23.conditioned_transition.linear_outt."
		           "weight";
		rc = bind_entries(e, n, &r);
		CHECK(rc == 0 && r.unused_dm_rc == OF3_ERR_INPUT &&
		              strstr(r.unused_msg, "linear_outt.weight"),
		      "one copy renamed: bound from its twin, the stray key left unused: %s",
		      rc ? of3_errmsg() : r.unused_msg);
		e[i_dt].key = saved;
		/* only the sample_diffusion copy misshaped: refused when the twins are folded */
		long long s1 = e[j_dec].shape[1];
		e[j_dec].shape[1] = 17;
		rc = bind_entries(e, n, &r);
		CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "twin"),
		      "twins of different shapes: %s", of3_errmsg());
		e[j_dec].shape[1] = s1;
	}
	for (int i = 0; i < n; i++)
		free(e[i].key);
	return check_summary();
}
