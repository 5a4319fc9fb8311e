/* trunk_features.c: checking a features bundle and viewing the tensors the trunk reads
 * (trunk_features.h; spec/trunk.md §3.1.1, §3.3.1, §3.4.2). */
#include "trunk_features.h"

#include <stdio.h>
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
