/* trunk_features.c: checking a features bundle and viewing the tensors the trunk reads
 * (trunk_features.h; spec/trunk.md §3.1.1, §3.3.1, §3.4.2), and the query's features in
 * backend memory: what the layers read, derived on the host once per query (issue #10). */
#include "trunk_features.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"

#define ANY OF3_DIM_ANY

static const void *want(const of3_bundle_t *b, const char *name, of3_dtype_t dtype, int ndim,
                        int64_t *shape, int *rc)
{
	return of3_bundle_want(b, "features", name, dtype, ndim, shape, rc);
}

int of3_trunk_features_view(of3_trunk_features_t *f, const of3_bundle_t *b)
{
	const of3_dtype_t I = OF3_DTYPE_I32, F = OF3_DTYPE_F32;
	int rc = 0;
	int64_t n = ANY, a = ANY, s = ANY, t = ANY;
	memset(f, 0, sizeof *f);

	int64_t sh_tok[1] = {ANY};
	f->token_mask = want(b, "token_mask", F, 1, sh_tok, &rc);
	n = sh_tok[0];
	int64_t sh_atom[1] = {ANY};
	f->atom_mask = want(b, "atom_mask", F, 1, sh_atom, &rc);
	a = sh_atom[0];
	if (rc)
		return rc;

	int64_t a3[2] = {a, 3}, a1[1] = {a}, ael[2] = {a, OF3_TF_N_ELEMENT};
	int64_t achr[3] = {a, OF3_TF_N_NAME_CHARS, OF3_TF_N_CHAR};
	f->ref_pos = want(b, "ref_pos", F, 2, a3, &rc);
	f->ref_mask = want(b, "ref_mask", I, 1, a1, &rc);
	f->ref_element = want(b, "ref_element", I, 2, ael, &rc);
	f->ref_charge = want(b, "ref_charge", F, 1, a1, &rc);
	f->ref_atom_name_chars = want(b, "ref_atom_name_chars", I, 3, achr, &rc);
	f->ref_space_uid = want(b, "ref_space_uid", I, 1, a1, &rc);
	f->atom_to_token_index = want(b, "atom_to_token_index", I, 1, a1, &rc);

	int64_t n1[1] = {n}, n32[2] = {n, OF3_TF_N_RESTYPE}, nn[2] = {n, n};
	f->restype = want(b, "restype", I, 2, n32, &rc);
	f->profile = want(b, "profile", F, 2, n32, &rc);
	f->deletion_mean = want(b, "deletion_mean", F, 1, n1, &rc);
	f->residue_index = want(b, "residue_index", I, 1, n1, &rc);
	f->token_index = want(b, "token_index", I, 1, n1, &rc);
	f->asym_id = want(b, "asym_id", I, 1, n1, &rc);
	f->entity_id = want(b, "entity_id", I, 1, n1, &rc);
	f->sym_id = want(b, "sym_id", I, 1, n1, &rc);
	f->token_bonds = want(b, "token_bonds", I, 2, nn, &rc);

	int64_t msa[3] = {ANY, n, OF3_TF_N_RESTYPE};
	f->msa = want(b, "msa", I, 3, msa, &rc);
	s = msa[0];
	int64_t sn[2] = {s, n};
	f->has_deletion = want(b, "has_deletion", F, 2, sn, &rc);
	f->deletion_value = want(b, "deletion_value", F, 2, sn, &rc);
	f->msa_mask = want(b, "msa_mask", F, 2, sn, &rc);

	int64_t trt[3] = {ANY, n, OF3_TF_N_RESTYPE};
	f->template_restype = want(b, "template_restype", I, 3, trt, &rc);
	t = trt[0];
	int64_t tn[2] = {t, n}, tdg[4] = {t, n, n, OF3_TF_N_DGRAM}, tuv[4] = {t, n, n, 3};
	f->template_pseudo_beta_mask = want(b, "template_pseudo_beta_mask", F, 2, tn, &rc);
	f->template_backbone_frame_mask = want(b, "template_backbone_frame_mask", F, 2, tn, &rc);
	f->template_distogram = want(b, "template_distogram", F, 4, tdg, &rc);
	f->template_unit_vector = want(b, "template_unit_vector", F, 4, tuv, &rc);
	if (rc)
		return rc;

	for (int64_t i = 0; i < a; i++)
		if (f->atom_to_token_index[i] < 0 || f->atom_to_token_index[i] >= n)
			return of3_err(
			        OF3_ERR_INPUT,
			        "features: tensor 'atom_to_token_index': atom %lld names token "
			        "%d, outside [0, %lld)",
			        (long long)i, (int)f->atom_to_token_index[i], (long long)n);
	f->n_token = n;
	f->n_atom = a;
	f->n_msa = s;
	f->n_template = t;
	return OF3_OK;
}

/* ---- the query in backend memory ---- */

/* Whether template slot t has no template: every feature zero. */
static int slot_empty(const of3_trunk_features_t *f, int64_t t)
{
	const int64_t n = f->n_token, r = n * n;
	for (int64_t i = 0; i < n * OF3_TF_N_RESTYPE; i++)
		if (f->template_restype[t * n * OF3_TF_N_RESTYPE + i] != 0)
			return 0;
	for (int64_t i = 0; i < n; i++)
		if (f->template_pseudo_beta_mask[t * n + i] != 0 ||
		    f->template_backbone_frame_mask[t * n + i] != 0)
			return 0;
	for (int64_t i = 0; i < r * OF3_TF_N_DGRAM; i++)
		if (f->template_distogram[t * r * OF3_TF_N_DGRAM + i] != 0)
			return 0;
	for (int64_t i = 0; i < r * 3; i++)
		if (f->template_unit_vector[t * r * 3 + i] != 0)
			return 0;
	return 1;
}

/* Slots computed: every non-empty one and the first empty one. */
static int64_t n_computed(const of3_trunk_features_t *f)
{
	int64_t k = 0;
	int have_empty = 0;
	for (int64_t t = 0; t < f->n_template; t++) {
		const int empty = slot_empty(f, t);
		k += !empty || !have_empty;
		have_empty |= empty;
	}
	return k;
}

/* Byte offsets of every tensor in the allocation, 256-byte aligned. */
typedef struct {
	size_t ref_pos, ref_charge, atom_mask, ref_mask, ref_element, ref_chars, ref_uid;
	size_t token_mask, pair_mask, pool_off, pool_rows, token_feat, bins, bonds;
	size_t msa_feat, msa_mask, msa_rows, tmpl_rt, tmpl_dg, tmpl_sc, end;
} layout_t;

static layout_t layout(const of3_trunk_features_t *f, int64_t n_tmpl)
{
	const size_t n = (size_t)f->n_token, a = (size_t)f->n_atom, s = (size_t)f->n_msa;
	const size_t r = n * n, t = (size_t)n_tmpl, e = 4; /* float and int32 alike */
	layout_t l;
	size_t o = 0;
#define PUT(field, bytes) (l.field = o, o += ((size_t)(bytes) + 255) / 256 * 256)
	PUT(ref_pos, a * 3 * e);
	PUT(ref_charge, a * e);
	PUT(atom_mask, a * e);
	PUT(ref_mask, a * e);
	PUT(ref_element, a * OF3_TF_N_ELEMENT * e);
	PUT(ref_chars, a * OF3_TF_N_NAME_CHARS * OF3_TF_N_CHAR * e);
	PUT(ref_uid, a * e);
	PUT(token_mask, n * e);
	PUT(pair_mask, r * e);
	PUT(pool_off, (n + 1) * e);
	PUT(pool_rows, a * e);
	PUT(token_feat, n * OF3_TF_N_TOKEN_FEAT * e);
	PUT(bins, r * 4 * e);
	PUT(bonds, r * e);
	PUT(msa_feat, s * n * OF3_TF_N_MSA_FEAT * e);
	PUT(msa_mask, s * n * e);
	PUT(msa_rows, OF3_TF_MAX_MSA_ROWS * e);
	PUT(tmpl_rt, t * n * OF3_TF_N_RESTYPE * e);
	PUT(tmpl_dg, t * r * OF3_TF_N_DGRAM * e);
	PUT(tmpl_sc, t * OF3_TF_N_TMPL_SCAL * r * e);
#undef PUT
	l.end = o;
	return l;
}

size_t of3_trunk_dev_bytes(const of3_trunk_features_t *f)
{
	return layout(f, n_computed(f)).end;
}

/* The clipped relative-offset bin of spec/trunk.md §3.1.4. */
static int32_t clip_bin(int64_t d, int64_t r, int cond)
{
	if (!cond)
		return (int32_t)(2 * r + 1);
	d += r;
	return (int32_t)(d < 0 ? 0 : d > 2 * r ? 2 * r : d);
}

/* The four ones of the relative-position one-hot of token pair (i, j): residue offset, token
 * offset, same entity (or -1), chain offset; columns as linear_relpos reads them. */
static void relpos_bins(int32_t *b, const of3_trunk_features_t *f, int64_t i, int64_t j)
{
	const int64_t rr = OF3_TF_RELPOS_R_MAX, rc = OF3_TF_RELPOS_C_MAX;
	const int same_chain = f->asym_id[i] == f->asym_id[j];
	const int same_res = f->residue_index[i] == f->residue_index[j];
	const int same_ent = f->entity_id[i] == f->entity_id[j];
	const int32_t b_ent = (int32_t)(2 * (2 * rr + 2));
	b[0] = clip_bin((int64_t)f->residue_index[i] - f->residue_index[j], rr, same_chain);
	b[1] = (int32_t)(2 * rr + 2) +
	       clip_bin((int64_t)f->token_index[i] - f->token_index[j], rr, same_chain && same_res);
	b[2] = b_ent + 1 + clip_bin((int64_t)f->sym_id[i] - f->sym_id[j], rc, same_ent);
	b[3] = same_ent ? b_ent : -1;
}

/* Template slot t's features for the pair embedding (spec/trunk.md §3.3.2): restype as float,
 * the distogram and the five scalar pair features, each times the "multichain mask"
 * F[i,j] = asym_id_i * asym_id_j, as the released weights expect (an erratum of OpenFold3,
 * reproduced). */
static void template_slot(float *rt, float *dg, float *sc, const of3_trunk_features_t *f, int64_t t)
{
	const int64_t n = f->n_token, r = n * n;
	const float *pb = f->template_pseudo_beta_mask + t * n;
	const float *bb = f->template_backbone_frame_mask + t * n;
	const float *dgram = f->template_distogram + t * r * OF3_TF_N_DGRAM;
	const float *uv = f->template_unit_vector + t * r * 3;
	for (int64_t i = 0; i < n * OF3_TF_N_RESTYPE; i++)
		rt[i] = (float)f->template_restype[t * n * OF3_TF_N_RESTYPE + i];
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < n; j++) {
			const int64_t ij = i * n + j;
			const float fij = (float)((int64_t)f->asym_id[i] * f->asym_id[j]);
			for (int64_t k = 0; k < OF3_TF_N_DGRAM; k++)
				dg[ij * OF3_TF_N_DGRAM + k] = dgram[ij * OF3_TF_N_DGRAM + k] * fij;
			sc[0 * r + ij] = (pb[i] * pb[j]) * fij;
			for (int q = 1; q < 4; q++)
				sc[q * r + ij] = uv[ij * 3 + q - 1] * fij;
			sc[4 * r + ij] = (bb[i] * bb[j]) * fij;
		}
}

int of3_trunk_dev_upload(of3_trunk_dev_t *d, const of3_trunk_features_t *f, of3_backend_t *be)
{
	const int64_t n = f->n_token, a = f->n_atom, s = f->n_msa, r = n * n, nt = f->n_template;
	memset(d, 0, sizeof *d);
	d->n_token = n;
	d->n_atom = a;
	d->n_msa = s;
	d->n_template = nt;
	d->tmpl_empty = calloc((size_t)(nt ? nt : 1), 1);
	d->tmpl_slot = calloc((size_t)(nt ? nt : 1), sizeof *d->tmpl_slot);
	if (!d->tmpl_empty || !d->tmpl_slot)
		return of3_err(OF3_ERR_NOMEM, "out of memory for the query's features");
	int64_t k = 0, first_empty = -1;
	for (int64_t t = 0; t < nt; t++) {
		d->tmpl_empty[t] = (unsigned char)slot_empty(f, t);
		if (d->tmpl_empty[t] && first_empty >= 0) {
			d->tmpl_slot[t] = first_empty;
			continue;
		}
		if (d->tmpl_empty[t])
			first_empty = k;
		d->tmpl_slot[t] = k++;
	}
	d->n_tmpl_computed = k;
	const layout_t l = layout(f, k);
	char *h = calloc(l.end ? l.end : 1, 1);
	if (!h)
		return of3_err(OF3_ERR_NOMEM,
		               "out of memory staging %.1f MiB of the query's features",
		               (double)l.end / (1 << 20));
#define H(T, field) ((T *)(h + l.field))
	memcpy(H(float, ref_pos), f->ref_pos, (size_t)(a * 3) * 4);
	memcpy(H(float, ref_charge), f->ref_charge, (size_t)a * 4);
	memcpy(H(float, atom_mask), f->atom_mask, (size_t)a * 4);
	memcpy(H(int32_t, ref_mask), f->ref_mask, (size_t)a * 4);
	memcpy(H(int32_t, ref_element), f->ref_element, (size_t)(a * OF3_TF_N_ELEMENT) * 4);
	memcpy(H(int32_t, ref_chars), f->ref_atom_name_chars,
	       (size_t)(a * OF3_TF_N_NAME_CHARS * OF3_TF_N_CHAR) * 4);
	memcpy(H(int32_t, ref_uid), f->ref_space_uid, (size_t)a * 4);
	memcpy(H(float, token_mask), f->token_mask, (size_t)n * 4);
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < n; j++) {
			H(float, pair_mask)[i * n + j] = f->token_mask[i] * f->token_mask[j];
			relpos_bins(H(int32_t, bins) + (i * n + j) * 4, f, i, j);
			H(float, bonds)[i * n + j] = (float)f->token_bonds[i * n + j];
		}
	/* atoms by token: a counting sort keeps each token's atoms in ascending order */
	int32_t *off = H(int32_t, pool_off), *rows = H(int32_t, pool_rows);
	for (int64_t i = 0; i < a; i++)
		off[f->atom_to_token_index[i] + 1]++;
	for (int64_t t = 0; t < n; t++)
		off[t + 1] += off[t];
	for (int64_t i = 0; i < a; i++) /* off[t] walks up to off[t+1], then is restored */
		rows[off[f->atom_to_token_index[i]]++] = (int32_t)i;
	for (int64_t t = n; t > 0; t--)
		off[t] = off[t - 1];
	off[0] = 0;
	for (int64_t t = 0; t < n; t++) {
		float *x = H(float, token_feat) + t * OF3_TF_N_TOKEN_FEAT;
		for (int64_t c = 0; c < OF3_TF_N_RESTYPE; c++) {
			x[c] = (float)f->restype[t * OF3_TF_N_RESTYPE + c];
			x[OF3_TF_N_RESTYPE + c] = f->profile[t * OF3_TF_N_RESTYPE + c];
		}
		x[2 * OF3_TF_N_RESTYPE] = f->deletion_mean[t];
	}
	for (int64_t i = 0; i < s * n; i++) {
		float *x = H(float, msa_feat) + i * OF3_TF_N_MSA_FEAT;
		for (int c = 0; c < OF3_TF_N_RESTYPE; c++)
			x[c] = (float)f->msa[i * OF3_TF_N_RESTYPE + c];
		x[OF3_TF_N_RESTYPE] = f->has_deletion[i];
		x[OF3_TF_N_RESTYPE + 1] = f->deletion_value[i];
		H(float, msa_mask)[i] = f->msa_mask[i];
	}
	for (int64_t t = 0, done = 0; t < nt; t++)
		if (d->tmpl_slot[t] == done) {
			template_slot(H(float, tmpl_rt) + done * n * OF3_TF_N_RESTYPE,
			              H(float, tmpl_dg) + done * r * OF3_TF_N_DGRAM,
			              H(float, tmpl_sc) + done * OF3_TF_N_TMPL_SCAL * r, f, t);
			done++;
		}
#undef H
	int rc = OF3_OK;
	d->mem = of3_backend_alloc(be, l.end);
	if (!d->mem)
		rc = of3_err_prefix(OF3_ERR_NOMEM, "the query's features (%.1f MiB)",
		                    (double)l.end / (1 << 20));
	else
		rc = of3_backend_upload(be, d->mem, h, l.end);
	free(h);
	if (rc < 0)
		return rc;
	d->n_bytes = l.end;
	char *m = d->mem;
#define D(T, field) ((T *)(m + l.field))
	d->ref_pos = D(const float, ref_pos);
	d->ref_charge = D(const float, ref_charge);
	d->atom_mask = D(const float, atom_mask);
	d->ref_mask = D(const int32_t, ref_mask);
	d->ref_element = D(const int32_t, ref_element);
	d->ref_atom_name_chars = D(const int32_t, ref_chars);
	d->ref_space_uid = D(const int32_t, ref_uid);
	d->token_mask = D(const float, token_mask);
	d->pair_mask = D(const float, pair_mask);
	d->pool_off = D(const int32_t, pool_off);
	d->pool_rows = D(const int32_t, pool_rows);
	d->token_feat = D(const float, token_feat);
	d->relpos_bins = D(const int32_t, bins);
	d->token_bonds = D(const float, bonds);
	d->msa_feat = D(const float, msa_feat);
	d->msa_mask = D(const float, msa_mask);
	d->msa_rows = D(int32_t, msa_rows);
	d->tmpl_restype = D(const float, tmpl_rt);
	d->tmpl_dgram = D(const float, tmpl_dg);
	d->tmpl_scalar = D(const float, tmpl_sc);
#undef D
	return OF3_OK;
}

void of3_trunk_dev_free(of3_trunk_dev_t *d, of3_backend_t *be)
{
	of3_backend_free(be, d->mem);
	free(d->tmpl_empty);
	free(d->tmpl_slot);
	memset(d, 0, sizeof *d);
}
