/* diffusion_module.c: one diffusion-module call (spec/diffusion_heads.md §3.1-§3.7).
 *
 * of3_diffusion_prepare() does the noise-independent work once per query (the rollout cache),
 * of3_diffusion_module_forward() the rest per step on all samples. Every tensor step is an op of
 * the backend's table; the host computes only what depends on the query's features or the
 * noise level alone (the relative-position one-hot rows, the Fourier embedding of t̂) and
 * uploads it. */
#include "diffusion_module.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"
#include "../kernels/graph.h"
#include "../kernels/ops.h"

#define PFX    "diffusion_module."
#define COND   "diffusion_module.diffusion_conditioning."
#define ENC    "diffusion_module.atom_attn_enc."
#define REF    "diffusion_module.atom_attn_enc.ref_atom_feature_embedder."
#define NPE    "diffusion_module.atom_attn_enc.noisy_position_embedder."
#define DEC    "diffusion_module.atom_attn_dec."
#define TWO_PI 6.283185307179586476925286766559
#define R_MAX  32 /* relpos r_max, c_max (§3.2 step 1) */
#define C_MAX  2

static int bind_transitions(of3_transition_w_t *tr, of3_ckpt_t *ck, of3_wbuf_t *wb,
                            const char *name, int64_t c)
{
	char p[128];
	int rc = OF3_OK;
	for (int k = 0; rc == 0 && k < OF3_DIFF_N_TRANS; k++) {
		int64_t ck_c = c;
		snprintf(p, sizeof p, COND "%s.%d.", name, k);
		rc = of3_transition_bind(&tr[k], ck, wb, p, &ck_c);
	}
	return rc;
}

int of3_diffusion_module_bind(of3_diffusion_module_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	int64_t cz = -1, cs = -1, czr, csc = -1, nf = -1, three = 3;
	int64_t ca = -1, cp = -1, ct = -1, cs_atom;
	int64_t shp[2];
	memset(w, 0, sizeof *w);
	/* conditioning: c_z from transition_z, c_s from transition_s */
	const of3_ckpt_tensor_t *t = NULL;
	int rc = of3_ckpt_expect(ck, &t, 1, (int64_t[]){-1},
	                         COND "transition_z.0.layer_norm.weight");
	if (rc)
		return rc;
	cz = t->shape[0];
	rc = of3_ckpt_expect(ck, &t, 1, (int64_t[]){-1}, COND "transition_s.0.layer_norm.weight");
	if (rc)
		return rc;
	cs = t->shape[0];
	czr = cz + OF3_DIFF_RELPOS;
	rc = of3_wbind_ln(wb, ck, &w->cond_ln_z, &czr, 0, COND, "layer_norm_z");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->cond_z, &cz, &czr, 0, COND, "linear_z");
	rc = rc ? rc : bind_transitions(w->tr_z, ck, wb, "transition_z", cz);
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->cond_ln_s, &csc, 0, COND, "layer_norm_s");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->cond_s, &cs, &csc, 0, COND, "linear_s");
	shp[0] = -1, shp[1] = 1;
	rc = rc ? rc : of3_wbind(wb, ck, &w->fourier_w, 2, shp, COND, "fourier_emb.w");
	nf = shp[0];
	shp[0] = nf;
	rc = rc ? rc : of3_wbind(wb, ck, &w->fourier_b, 1, shp, COND, "fourier_emb.b");
	if (rc == 0 && nf > OF3_DIFF_MAX_FOURIER)
		return of3_err(OF3_ERR_INPUT,
		               "checkpoint: " COND
		               "fourier_emb.w has %lld rows, at most %d supported",
		               (long long)nf, OF3_DIFF_MAX_FOURIER);
	if (rc == 0 && wb->base) { /* the host's copy (conditioning_single), from the staging */
		memcpy(w->fourier_hw, wb->host + (w->fourier_w - wb->base),
		       (size_t)nf * sizeof *w->fourier_hw);
		memcpy(w->fourier_hb, wb->host + (w->fourier_b - wb->base),
		       (size_t)nf * sizeof *w->fourier_hb);
	}
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->cond_ln_n, &nf, 0, COND, "layer_norm_n");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->cond_n, &cs, &nf, 0, COND, "linear_n");
	rc = rc ? rc : bind_transitions(w->tr_s, ck, wb, "transition_s", cs);
	if (rc)
		return rc;
	if (csc <= cs)
		return of3_err(OF3_ERR_INPUT,
		               "checkpoint: " COND
		               "layer_norm_s is %lld wide, not wider than c_s %lld",
		               (long long)csc, (long long)cs);
	/* encoder */
	rc = of3_ref_atom_bind(&w->ref, ck, wb, REF, &ca);
	rc = rc ? rc : of3_atom_pair_bind(&w->pair, ck, wb, REF, ENC, ca, &cp);
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->npe_ln_s, &cs, 0, NPE, "layer_norm_s");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->npe_s, &ca, &cs, 0, NPE, "linear_s");
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->npe_ln_z, &cz, 0, NPE, "layer_norm_z");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->npe_z, &cp, &cz, 0, NPE, "linear_z");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->npe_r, &ca, &three, 0, NPE, "linear_r");
	cs_atom = ca;
	rc = rc ? rc
	        : of3_atom_transformer_bind(&w->enc, ck, wb, ENC "atom_transformer.", &ca, &cs_atom,
	                                    cp);
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->to_token, &ct, &ca, 0, ENC, "linear_q.0");
	/* token level */
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->ln_s, &cs, 0, PFX, "layer_norm_s");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->lin_s, &ct, &cs, 0, PFX, "linear_s");
	rc = rc ? rc
	        : of3_diffusion_transformer_bind(&w->dt, ck, wb, PFX "diffusion_transformer.", &ct,
	                                         &cs, &cz);
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->ln_a, &ct, 0, PFX, "layer_norm_a");
	/* decoder */
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->q_in, &ca, &ct, 0, DEC, "linear_q_in");
	rc = rc ? rc
	        : of3_atom_transformer_bind(&w->dec, ck, wb, DEC "atom_transformer.", &ca, &cs_atom,
	                                    cp);
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->dec_ln, &ca, 0, DEC, "layer_norm");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->q_out, &three, &ca, 0, DEC, "linear_q_out");
	w->c_s = cs, w->c_z = cz, w->c_si = csc - cs, w->n_fourier = nf;
	w->c_atom = ca, w->c_p = cp, w->c_token = ct;
	return rc;
}

static size_t max2(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* The rollout cache (spec/diffusion_heads.md §8 item 7): what depends on the trunk outputs and
 * the features but not on the noise level or the coordinates. The reference recomputes all of
 * it in each of the 200 calls; here it is made once per query, and the conditioned pair z and
 * the atom pairs p, needed only to make it, never outlive of3_diffusion_prepare(). */
typedef struct {
	size_t s_base;   /* [N,c_s] linear_s(LN_w(s_trunk ‖ s_input)), before the noise term */
	size_t c;        /* [A,c_atom] atom conditioning (with the trunk single) */
	size_t enc_cond; /* the encoder's atom transformer terms (pair biases, AdaLN, gates) */
	size_t dec_cond; /* the decoder's */
	size_t tok_bias; /* [n_block,N,N,H] the diffusion transformer's pair biases */
	size_t dt_stack; /* the diffusion transformer's stacked weights (fp32 and bf16) */
	size_t pool;     /* int32 [N+1] segment offsets, then [A] atom rows, for segment_mean */
	size_t size;
} cache_t; /* offsets in floats (the int32 tables take a float's room per entry) */

static cache_t cache_layout(const of3_diffusion_module_w_t *w, int64_t n_tok, int64_t n_atom)
{
	cache_t k;
	const size_t enc = of3_atom_transformer_cond_size(&w->enc, n_atom);
	const size_t dec = of3_atom_transformer_cond_size(&w->dec, n_atom);
	const size_t bias = of3_diffusion_transformer_bias_size(&w->dt, n_tok);
	const size_t stack = of3_diffusion_transformer_stack_size(&w->dt, n_tok);
	k.s_base = 0; /* each part at an of3_align boundary */
	k.c = k.s_base + (size_t)of3_align(n_tok * w->c_s);
	k.enc_cond = k.c + (size_t)of3_align(n_atom * w->c_atom);
	k.dec_cond = k.enc_cond + (size_t)of3_align((int64_t)enc);
	k.tok_bias = k.dec_cond + (size_t)of3_align((int64_t)dec);
	k.dt_stack = k.tok_bias + (size_t)of3_align((int64_t)bias);
	k.pool = k.dt_stack + (size_t)of3_align((int64_t)stack);
	k.size = k.pool + (size_t)(n_tok + 1 + n_atom);
	return k;
}

size_t of3_diffusion_cache_size(const of3_diffusion_module_w_t *w, int64_t n_tok, int64_t n_atom)
{
	return cache_layout(w, n_tok, n_atom).size;
}

/* Scratch of of3_diffusion_prepare(): z, p, then the largest of its steps. */
static size_t prepare_scratch(const of3_diffusion_module_w_t *w, int64_t n_tok, int64_t n_atom)
{
	const size_t n = (size_t)n_tok, a = (size_t)n_atom, nb = (size_t)of3_atom_n_block(n_atom);
	const size_t np = nb * OF3_ATOM_NQ * OF3_ATOM_NK, ca = (size_t)w->c_atom;
	const size_t cs = (size_t)w->c_s, cz = (size_t)w->c_z, czr = cz + OF3_DIFF_RELPOS;
	const int64_t mr = of3_pair_rows_per_chunk(n_tok, (int64_t)czr); /* conditioning_pair */
	const size_t m = (size_t)mr, mz = (size_t)of3_pair_rows_per_chunk(n_tok, (int64_t)cz);
	size_t in = m * n * czr + m * n * OF3_DIFF_RELPOS + m * n +
	            max2(of3_transition_scratch(&w->tr_z[0], mr * n_tok),
	                 of3_transition_scratch(&w->tr_z[1], mr * n_tok));
	in = max2(in, n * (cs + (size_t)w->c_si));
	in = max2(in, a * OF3_DIFF_N_CHARS + a * ca);
	in = max2(in, n * cs + n * ca + a * ca);
	in = max2(in, mz * n * cz + n * n * (size_t)w->c_p + np);
	in = max2(in, of3_atom_pair_scratch(&w->pair, n_atom));
	in = max2(in, of3_atom_transformer_prepare_scratch(&w->enc, n_atom));
	in = max2(in, of3_atom_transformer_prepare_scratch(&w->dec, n_atom));
	in = max2(in, of3_diffusion_transformer_bias_scratch(&w->dt, n_tok));
	return n * n * cz + np * (size_t)w->c_p + in;
}

/* Scratch of one step on D samples: s, x̂, r, Δr, the Fourier features, q, q_skip, a, then the
 * largest of its steps (of3_diffusion_module_forward's layout). */
static size_t step_scratch(const of3_diffusion_module_w_t *w, int64_t n_tok, int64_t n_atom,
                           int64_t n_sample)
{
	const size_t n = (size_t)n_tok, a = (size_t)n_atom, d = (size_t)n_sample;
	const size_t ca = (size_t)w->c_atom, ct = (size_t)w->c_token, cs = (size_t)w->c_s;
	size_t in = (size_t)(2 * of3_align(w->n_fourier) + of3_align(w->c_s)) +
	            max2(of3_transition_scratch(&w->tr_s[0], n_tok),
	                 of3_transition_scratch(&w->tr_s[1], n_tok));
	in = max2(in, d * a * 3);
	in = max2(in, of3_atom_transformer_run_scratch(&w->enc, n_atom, n_sample));
	in = max2(in, of3_atom_transformer_run_scratch(&w->dec, n_atom, n_sample));
	in = max2(in, d * a * ct); /* aggregation: every sample's relu(linear_q(q)) */
	in = max2(in, n * cs + n * ct);
	in = max2(in, of3_diffusion_transformer_scratch(&w->dt, n_tok, n_sample));
	in = max2(in, d * n * ca); /* decoder input: linear_q_in(a) per token */
	in = max2(in, d * a * (ca + 3));
	const int64_t N = n_tok, A = n_atom, D = n_sample;
	return (size_t)(of3_align(N * w->c_s) + 3 * of3_align(D * A * 3) + of3_align(w->n_fourier) +
	                2 * of3_align(D * A * w->c_atom) + of3_align(D * N * w->c_token)) +
	       in;
}

size_t of3_diffusion_module_scratch(const of3_diffusion_module_w_t *w, int64_t n_tok,
                                    int64_t n_atom, int64_t n_sample)
{
	return max2(prepare_scratch(w, n_tok, n_atom), step_scratch(w, n_tok, n_atom, n_sample));
}

static int64_t clip_bin(int64_t d, int64_t r, int cond)
{
	if (!cond)
		return 2 * r + 1;
	d += r;
	return d < 0 ? 0 : d > 2 * r ? 2 * r : d;
}

const of3_diffusion_feats_t *of3_diffusion_host_feats(const of3_diffusion_in_t *in,
                                                      const of3_backend_t *be)
{
	if (in->hf.token_mask)
		return &in->hf;
	return be->kind == OF3_BACKEND_CPU ? &in->f : NULL;
}

/* §3.2 pair part: z[N,N,c_z] from z_trunk and the relative-position encoding, a chunk of m pair
 * rows at a time (of3_pair_rows_per_chunk) so no N^2 x (c_z + 139) tensor exists. The one-hot
 * rows and the pair-mask rows depend on the features only: the host makes them (hf) and uploads
 * them, the backend concatenates. */
static int conditioning_pair(float *z, const of3_diffusion_in_t *in,
                             const of3_diffusion_feats_t *hf, const of3_diffusion_module_w_t *w,
                             float *scratch, of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = in->n_tok, cz = w->c_z, czr = cz + OF3_DIFF_RELPOS;
	const int64_t nr = OF3_DIFF_RELPOS, m = of3_pair_rows_per_chunk(n, czr);
	float *row = scratch;           /* [m,N,c_z+139] */
	float *rel = row + m * n * czr; /* [m,N,139] one-hot rows, then pm [m,N] the pair mask */
	float *pm = rel + m * n * nr;
	float *trs = pm + m * n;
	const size_t n_host = (size_t)(m * n * nr + m * n);
	float *h = malloc(n_host * sizeof *h);
	if (!h)
		return of3_err(OF3_ERR_NOMEM, "out of memory (relative-position rows)");
	int rc = OF3_OK;
	for (int64_t i0 = 0; i0 < n && rc == 0; i0 += m) {
		const int64_t mi = n - i0 < m ? n - i0 : m, r = mi * n;
		memset(h, 0, n_host * sizeof *h);
		for (int64_t i = i0; i < i0 + mi; i++)
			for (int64_t j = 0; j < n; j++) {
				const int64_t e = (i - i0) * n + j;
				float *o = h + e * nr;
				const int same_chain = hf->asym_id[i] == hf->asym_id[j];
				const int same_res = hf->residue_index[i] == hf->residue_index[j];
				const int same_ent = hf->entity_id[i] == hf->entity_id[j];
				o[clip_bin((int64_t)hf->residue_index[i] - hf->residue_index[j],
				           R_MAX, same_chain)] = 1.0f;
				o[2 * R_MAX + 2 +
				  clip_bin((int64_t)hf->token_index[i] - hf->token_index[j], R_MAX,
				           same_chain && same_res)] = 1.0f;
				o[4 * R_MAX + 4] = same_ent ? 1.0f : 0.0f;
				o[4 * R_MAX + 5 +
				  clip_bin((int64_t)hf->sym_id[i] - hf->sym_id[j], C_MAX,
				           same_ent)] = 1.0f;
				h[m * n * nr + e] = hf->token_mask[i] * hf->token_mask[j];
			}
		rc = of3_backend_upload(be, rel, h, n_host * sizeof *h);
		if (rc)
			break;
		op->concat_rows(row, in->z_trunk + i0 * n * cz, rel, r, cz, nr);
		op->layer_norm(row, row, w->cond_ln_z.w, NULL, r, czr, OF3_LN_EPS);
		float *zi = z + i0 * n * cz;
		op->linear(zi, row, w->cond_z.w, NULL, r, czr, cz);
		for (int k = 0; k < OF3_DIFF_N_TRANS; k++)
			of3_transition(zi, pm, &w->tr_z[k], r, trs, be);
	}
	free(h);
	return rc;
}

/* The atom-to-token pooling tables of step 9 (segment_mean's): token t owns the atoms
 * off[t] .. off[t+1]-1, atoms being contiguous in token order (of3-diffuse checks its inputs). */
static int upload_pool(float *dst, const of3_diffusion_feats_t *hf, int64_t n_tok, int64_t n_atom,
                       of3_backend_t *be)
{
	int32_t *t = malloc((size_t)(n_tok + 1 + n_atom) * sizeof *t);
	if (!t)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	int32_t *off = t, *rows = t + n_tok + 1;
	int64_t i = 0;
	for (int64_t k = 0; k < n_tok; k++) {
		off[k] = (int32_t)i;
		while (i < n_atom && hf->atom_to_token_index[i] == k)
			i++;
	}
	off[n_tok] = (int32_t)i;
	for (int64_t a = 0; a < n_atom; a++)
		rows[a] = (int32_t)a;
	int rc = of3_backend_upload(be, dst, t, (size_t)(n_tok + 1 + n_atom) * sizeof *t);
	free(t);
	return rc;
}

int of3_diffusion_prepare(float *cache, const of3_diffusion_out_t *out,
                          const of3_diffusion_in_t *in, const of3_diffusion_module_w_t *w,
                          float *scratch, of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const of3_diffusion_feats_t *f = &in->f;
	const int64_t n = in->n_tok, A = in->n_atom, ca = w->c_atom, cs = w->c_s, csi = w->c_si;
	const int64_t cz = w->c_z, cp = w->c_p, nb = of3_atom_n_block(A);
	const int64_t np = nb * OF3_ATOM_NQ * OF3_ATOM_NK;
	const of3_diffusion_feats_t *hf = of3_diffusion_host_feats(in, be);
	if (!hf)
		return of3_err(OF3_ERR_RUNTIME, "diffusion module: the features' host copy (hf) is "
		                                "missing on a device backend");
	const cache_t k = cache_layout(w, n, A);
	float *s_base = cache + k.s_base, *c_l = cache + k.c, *enc_cond = cache + k.enc_cond;
	float *dec_cond = cache + k.dec_cond, *tok_bias = cache + k.tok_bias;
	float *z = scratch;        /* [N,N,c_z] conditioned pair */
	float *p = z + n * n * cz; /* [nb,32,128,c_p] atom pairs */
	float *inner = p + np * cp;

	int rc = conditioning_pair(z, in, hf, w, inner, be);
	rc = rc ? rc : upload_pool(cache + k.pool, hf, n, A, be);
	if (rc == 0)
		of3_diffusion_transformer_stack(cache + k.dt_stack, &w->dt, n, be);
	if (rc)
		return rc;
	if (out && out->cond_z)
		op->copy(out->cond_z, z, n * n * cz);

	/* §3.2 single part up to the noise term: s_base = linear_s(LN_w(s_trunk ‖ s_input)) */
	{
		float *cat = inner; /* [N,c_s+c_si] */
		op->concat_rows(cat, in->s_trunk, in->s_input, n, cs, csi);
		op->layer_norm(cat, cat, w->cond_ln_s.w, NULL, n, cs + csi, OF3_LN_EPS);
		op->linear(s_base, cat, w->cond_s.w, NULL, n, cs + csi, cs);
	}

	/* §3.3 step 1: c_l from the reference features */
	of3_ref_atom_embed(c_l, f->ref_pos, f->ref_charge, f->ref_mask, f->ref_element,
	                   f->ref_atom_name_chars, &w->ref, A, inner, inner + A * OF3_DIFF_N_CHARS,
	                   be);

	/* step 2: reference pair features */
	of3_atom_pair_embed(p, f->ref_pos, f->ref_space_uid, f->atom_mask, &w->pair, A, inner, be);

	/* step 3: c += linear_s(LN_w(s_trunk)) broadcast to atoms */
	{
		float *sn = inner, *ts = sn + n * cs, *ta = ts + n * ca;
		op->layer_norm(sn, in->s_trunk, w->npe_ln_s.w, NULL, n, cs, OF3_LN_EPS);
		op->linear(ts, sn, w->npe_s.w, NULL, n, cs, ca);
		op->gather_rows(ta, ts, f->atom_to_token_index, A, ca);
		op->add(c_l, ta, A * ca);
	}
	if (out && out->enc_c)
		op->copy(out->enc_c, c_l, A * ca);

	/* step 4: p += linear_z(LN_w(z))[tok(l), tok(m)] ⊙ M on the blocks */
	{
		const int64_t m = of3_pair_rows_per_chunk(n, cz);
		float *zn = inner, *z16 = zn + m * n * cz, *pm = z16 + n * n * cp;
		for (int64_t i = 0; i < n; i += m) {
			const int64_t r = (n - i < m ? n - i : m) * n;
			op->layer_norm(zn, z + i * n * cz, w->npe_ln_z.w, NULL, r, cz, OF3_LN_EPS);
			op->linear(z16 + i * n * cp, zn, w->npe_z.w, NULL, r, cz, cp);
		}
		op->atom_block_masks(NULL, NULL, pm, f->atom_mask, A);
		op->atom_pair_gather_add(p, z16, f->atom_to_token_index, pm, A, n, cp);
	}
	/* steps 5-6 */
	of3_atom_pair_update(p, c_l, f->atom_mask, &w->pair, A, inner, be);

	/* what the encoder's and decoder's atom transformers and the token transformer take from
	 * c, p and z */
	of3_atom_transformer_prepare(enc_cond, c_l, p, &w->enc, A, inner, be);
	of3_atom_transformer_prepare(dec_cond, c_l, p, &w->dec, A, inner, be);
	of3_diffusion_transformer_pair_bias(tok_bias, z, &w->dt, n, inner, be);
	return OF3_OK;
}

/* §3.2 single part from s_base: s[N,c_s] = transitions(s_base + linear_n(LN_w(fourier(t̂)))).
 * The Fourier features of the one scalar t̂ are made on the host (of3_diffusion_fourier) and
 * reach the backend as fe[n_f], from the caller (in->fourier) or uploaded here; the rest is
 * conditioning_single, ops only. */
void of3_diffusion_fourier(float *fe, double t_hat, const of3_diffusion_module_w_t *w)
{
	const double nl = 0.25 * log(t_hat / OF3_DIFF_SIGMA_DATA);
	for (int64_t k = 0; k < w->n_fourier; k++)
		fe[k] = (float)cos(TWO_PI * (nl * w->fourier_hw[k] + w->fourier_hb[k]));
}

static int fourier_upload(float *fe, const of3_diffusion_in_t *in,
                          const of3_diffusion_module_w_t *w, of3_backend_t *be)
{
	float fh[OF3_DIFF_MAX_FOURIER]; /* n_f values of one scalar: made on the host */
	of3_diffusion_fourier(fh, in->t_hat, w);
	return of3_backend_upload(be, fe, fh, (size_t)w->n_fourier * sizeof *fh);
}

/* A step's buffers and arguments, for the two recorded runs of ops (step_cond, step_body) that
 * of3_graph_run may replay: every pointer in here is the same at every step. */
typedef struct {
	const of3_diffusion_out_t *out;
	const of3_diffusion_in_t *in;
	const of3_diffusion_module_w_t *w;
	const float *s_base, *c_l, *enc_cond, *dec_cond, *tok_bias, *dt_stack;
	const int32_t *pool_off, *pool_rows;
	const float *fe; /* [n_f] Fourier features of t̂ (in->fourier, or uploaded) */
	float *s;        /* [N,c_s] conditioned single at t̂ */
	float *xh;       /* [D,A,3] x̂ masked */
	float *r;        /* [D,A,3] x̂ / sqrt(t̂² + σ²) */
	float *q, *qs;   /* [D,A,c_atom] */
	float *a;        /* [D,N,c_token] */
	float *dr;       /* [D,A,3] decoder output Δr */
	float *inner;
	const of3_backend_t *be;
} step_t;

/* §3.2's single from fe, and x̂ masked (§3.3 step 7's first half) */
static void step_cond(void *ctx)
{
	const step_t *t = ctx;
	const of3_diffusion_module_w_t *w = t->w;
	const of3_diffusion_in_t *in = t->in;
	const of3_ops_t *op = t->be->ops;
	const int64_t n = in->n_tok, A = in->n_atom, D = in->n_sample, cs = w->c_s;
	const int64_t nf = w->n_fourier;
	float *fn = t->inner;           /* [n_f] */
	float *ns = fn + of3_align(nf); /* [c_s] */
	float *trs = ns + of3_align(cs);
	op->layer_norm(fn, t->fe, w->cond_ln_n.w, NULL, 1, nf, OF3_LN_EPS);
	op->linear(ns, fn, w->cond_n.w, NULL, 1, nf, cs);
	op->copy(t->s, t->s_base, n * cs);
	op->add_bcast(t->s, ns, n, cs);
	for (int k = 0; k < OF3_DIFF_N_TRANS; k++)
		of3_transition(t->s, in->f.token_mask, &w->tr_s[k], n, trs, t->be);
	if (t->out->cond_s)
		op->copy(t->out->cond_s, t->s, n * cs);
	op->copy(t->xh, in->x_noisy, D * A * 3);
	op->mask_rows_rep(t->xh, in->f.atom_mask, A, D * A, 3);
}

/* From r = x̂ / sqrt(t̂² + σ²) to the decoder's Δr: §3.3 step 7's second half to §3.5 */
static void step_body(void *ctx)
{
	const step_t *t = ctx;
	const of3_diffusion_module_w_t *w = t->w;
	const of3_diffusion_in_t *in = t->in;
	const of3_diffusion_out_t *out = t->out;
	const of3_diffusion_feats_t *f = &in->f;
	const of3_ops_t *op = t->be->ops;
	const int64_t n = in->n_tok, A = in->n_atom, D = in->n_sample, ca = w->c_atom;
	const int64_t ct = w->c_token, cs = w->c_s;
	float *q = t->q, *qs = t->qs, *a = t->a, *inner = t->inner;

	/* q = c + linear_r(r) */
	op->linear(q, t->r, w->npe_r.w, NULL, D * A, 3, ca);
	op->add_bcast(q, t->c_l, D, A * ca);
	/* step 8 */
	of3_atom_transformer_run(q, D, t->enc_cond, f->atom_mask, &w->enc, A, inner, t->be);
	op->mask_rows_rep(q, f->atom_mask, A, D * A, ca);
	op->copy(qs, q, D * A * ca);
	if (out->enc_q)
		op->copy(out->enc_q, qs, D * A * ca);
	/* step 9: masked mean of relu(linear_q(q)) per token, summed in double; the row-wise
	 * steps on every sample at once */
	{
		float *rq = inner; /* [D,A,c_token] */
		op->linear(rq, q, w->to_token.w, NULL, D * A, ca, ct);
		op->relu(rq, rq, D * A * ct);
		op->mask_rows_rep(rq, f->atom_mask, A, D * A, ct);
		for (int64_t d = 0; d < D; d++)
			op->segment_mean(a + d * n * ct, ct, rq + d * A * ct, f->atom_mask,
			                 t->pool_off, t->pool_rows, n, ct);
	}
	if (out->enc_a)
		op->copy(out->enc_a, a, D * n * ct);
	/* a += linear_s(LN_w(s)), the same term for every sample; transformer; LN_w */
	{
		float *sn = inner, *ta = sn + n * cs;
		op->layer_norm(sn, t->s, w->ln_s.w, NULL, n, cs, OF3_LN_EPS);
		op->linear(ta, sn, w->lin_s.w, NULL, n, cs, ct);
		op->add_bcast(a, ta, D, n * ct);
	}
	of3_diffusion_transformer(a, D, t->s, t->tok_bias, t->dt_stack, f->token_mask, &w->dt, n,
	                          inner, t->be);
	if (out->trans_a)
		op->copy(out->trans_a, a, D * n * ct);
	op->layer_norm(a, a, w->ln_a.w, NULL, D * n, ct, OF3_LN_EPS);
	/* decoder (§3.5): q = q_skip + linear_q_in(a) broadcast to atoms (the sum in the other
	 * order, the same float) */
	{
		float *tq = inner; /* [D,N,c_atom] */
		op->linear(tq, a, w->q_in.w, NULL, D * n, ct, ca);
		op->gather_rows_rep(q, tq, f->atom_to_token_index, D, A, n, ca);
		op->add(q, qs, D * A * ca);
	}
	of3_atom_transformer_run(q, D, t->dec_cond, f->atom_mask, &w->dec, A, inner, t->be);
	{
		float *qn = inner;
		op->layer_norm(qn, q, w->dec_ln.w, NULL, D * A, ca, OF3_LN_EPS);
		op->linear(t->dr, qn, w->q_out.w, NULL, D * A, ca, 3);
		if (out->r_update)
			op->copy(out->r_update, t->dr, D * A * 3);
	}
}

int of3_diffusion_module_forward(const of3_diffusion_out_t *out, const of3_diffusion_in_t *in,
                                 const of3_diffusion_module_w_t *w, const float *cache,
                                 float *scratch, of3_diffusion_graphs_t *graphs, of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = in->n_tok, A = in->n_atom, D = in->n_sample, ca = w->c_atom;
	const int64_t ct = w->c_token, cs = w->c_s;
	const cache_t k = cache_layout(w, n, A);
	step_t t = {.out = out, .in = in, .w = w, .be = be};
	t.s_base = cache + k.s_base, t.c_l = cache + k.c, t.enc_cond = cache + k.enc_cond;
	t.dec_cond = cache + k.dec_cond, t.tok_bias = cache + k.tok_bias;
	t.dt_stack = cache + k.dt_stack;
	t.pool_off = (const int32_t *)(cache + k.pool), t.pool_rows = t.pool_off + n + 1;
	t.s = scratch; /* each part at an of3_align boundary (step_scratch) */
	t.xh = t.s + of3_align(n * cs);
	t.r = t.xh + of3_align(D * A * 3);
	t.dr = t.r + of3_align(D * A * 3);
	float *fe_up =
	        t.dr + of3_align(D * A * 3); /* [n_f] uploaded here when in->fourier is NULL */
	t.q = fe_up + of3_align(w->n_fourier);
	t.qs = t.q + of3_align(D * A * ca);
	t.a = t.qs + of3_align(D * A * ca);
	t.inner = t.a + of3_align(D * n * ct);

	/* the t̂-dependent scalars stay out of the recorded runs: the upload before, the scaling
	 * of x̂ between them, the EDM combine after */
	const double th = in->t_hat, sd2 = OF3_DIFF_SIGMA_DATA * OF3_DIFF_SIGMA_DATA;
	const double c_skip = sd2 / (sd2 + th * th);
	const double c_out = OF3_DIFF_SIGMA_DATA * th / sqrt(sd2 + th * th);
	t.fe = in->fourier ? in->fourier : fe_up;
	int rc = in->fourier ? OF3_OK : fourier_upload(fe_up, in, w, be);
	rc = rc ? rc : of3_graph_run(be, graphs ? &graphs->cond : NULL, step_cond, &t);
	if (rc)
		return rc;
	op->div_scalar(t.r, t.xh, (float)sqrt(th * th + sd2), D * A * 3);
	rc = of3_graph_run(be, graphs ? &graphs->body : NULL, step_body, &t);
	if (rc)
		return rc;
	op->edm_combine(out->x_denoised, t.xh, t.dr, in->f.atom_mask, c_skip, c_out, D * A, A, 3);
	return OF3_OK;
}

void of3_diffusion_graphs_free(of3_diffusion_graphs_t *graphs, of3_backend_t *be)
{
	of3_graph_free(be, graphs->cond);
	of3_graph_free(be, graphs->body);
	graphs->cond = graphs->body = NULL;
}
