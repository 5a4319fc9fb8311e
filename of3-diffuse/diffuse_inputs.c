/* diffuse_inputs.c: checking a trunk bundle and viewing what of3-diffuse reads
 * (diffuse_inputs.h). */
#include "diffuse_inputs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/error.h"

#define ANY OF3_DIM_ANY

/* The first non-finite value of x[n] as OF3_ERR_INPUT naming the tensor and the flat index. */
static int check_finite(const char *name, const float *x, int64_t n, int rc)
{
	for (int64_t i = 0; rc == 0 && i < n; i++)
		if (!isfinite(x[i]))
			return of3_err(
			        OF3_ERR_INPUT,
			        "trunk: tensor '%s' holds %s at flat index %lld (of %lld): the "
			        "inputs are not usable",
			        name, isnan(x[i]) ? "NaN" : "an infinity", (long long)i,
			        (long long)n);
	return rc;
}

int of3_diffuse_inputs_view(of3_diffuse_inputs_t *v, const of3_bundle_t *b, int64_t c_si,
                            int64_t c_s, int64_t c_z)
{
	const of3_dtype_t I = OF3_DTYPE_I32, F = OF3_DTYPE_F32;
	int rc = 0;
	memset(v, 0, sizeof *v);
	of3_diffusion_feats_t *f = &v->f;
	of3_heads_tokens_t *t = &v->tok;

	int64_t sh_tok[1] = {ANY}, sh_atom[1] = {ANY};
	f->token_mask = of3_bundle_want(b, "features", "token_mask", F, 1, sh_tok, &rc);
	f->atom_mask = of3_bundle_want(b, "features", "atom_mask", F, 1, sh_atom, &rc);
	if (rc)
		return rc;
	const int64_t n = sh_tok[0], a = sh_atom[0];
	int64_t a1[1] = {a}, a3[2] = {a, 3}, ael[2] = {a, OF3_DIFF_N_ELEMENT};
	int64_t achr[3] = {a, 4, OF3_DIFF_N_CHARS / 4}, n1[1] = {n}, n32[2] = {n, 32};
#define WANT(dst, name, dt, nd, shape) \
	dst = of3_bundle_want(b, "features", name, dt, nd, shape, &rc)
	WANT(f->ref_pos, "ref_pos", F, 2, a3);
	WANT(f->ref_mask, "ref_mask", I, 1, a1);
	WANT(f->ref_element, "ref_element", I, 2, ael);
	WANT(f->ref_charge, "ref_charge", F, 1, a1);
	WANT(f->ref_atom_name_chars, "ref_atom_name_chars", I, 3, achr);
	WANT(f->ref_space_uid, "ref_space_uid", I, 1, a1);
	WANT(f->atom_to_token_index, "atom_to_token_index", I, 1, a1);
	WANT(f->residue_index, "residue_index", I, 1, n1);
	WANT(f->token_index, "token_index", I, 1, n1);
	WANT(f->asym_id, "asym_id", I, 1, n1);
	WANT(f->entity_id, "entity_id", I, 1, n1);
	WANT(f->sym_id, "sym_id", I, 1, n1);
	const int32_t *restype;
	WANT(restype, "restype", I, 2, n32);
	WANT(t->is_protein, "is_protein", I, 1, n1);
	WANT(t->is_rna, "is_rna", I, 1, n1);
	WANT(t->is_dna, "is_dna", I, 1, n1);
	WANT(t->is_atomized, "is_atomized", I, 1, n1);
	WANT(t->start_atom_index, "start_atom_index", I, 1, n1);
	WANT(t->num_atoms_per_token, "num_atoms_per_token", I, 1, n1);
#undef WANT
	if (rc)
		return rc;
	/* the trunk outputs: their token count must be the features' (another query's otherwise) */
	const char *outs[3] = {"s_input", "s_trunk", "z_trunk"};
	const float **dst[3] = {&v->s_input, &v->s_trunk, &v->z_trunk};
	for (int k = 0; k < 3 && rc == 0; k++) {
		const of3_tensor_t *x = of3_bundle_tensor(b, outs[k]);
		if (x && x->ndim >= 1 && x->shape[0] != n)
			return of3_err(
			        OF3_ERR_INPUT,
			        "trunk: tensor '%s' is for %lld tokens but the features have "
			        "%lld: the trunk outputs belong to another query",
			        outs[k], (long long)x->shape[0], (long long)n);
		int64_t sh[3] = {n, k == 2 ? n : k == 0 ? c_si : c_s, c_z};
		*dst[k] = of3_bundle_want(b, "trunk", outs[k], F, k == 2 ? 3 : 2, sh, &rc);
	}
	rc = check_finite("s_input", v->s_input, n * c_si, rc);
	rc = check_finite("s_trunk", v->s_trunk, n * c_s, rc);
	rc = check_finite("z_trunk", v->z_trunk, n * n * c_z, rc);
	rc = check_finite("ref_pos", f->ref_pos, a * 3, rc);
	rc = check_finite("ref_charge", f->ref_charge, a, rc);
	if (rc)
		return rc;
	for (int64_t i = 0; i < a; i++) {
		const int32_t tk = f->atom_to_token_index[i];
		if (tk < 0 || tk >= n || (i > 0 && tk < f->atom_to_token_index[i - 1]))
			return of3_err(
			        OF3_ERR_INPUT,
			        "features: tensor 'atom_to_token_index': atom %lld names token "
			        "%d, %s",
			        (long long)i, (int)tk,
			        tk < 0 || tk >= n ? "outside the tokens" : "out of token order");
	}
	v->restype_idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *v->restype_idx);
	if (!v->restype_idx)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int64_t i = 0; i < n; i++) {
		v->restype_idx[i] = 31; /* no hot entry: unknown */
		for (int k = 0; k < 32; k++)
			if (restype[i * 32 + k])
				v->restype_idx[i] = k;
	}
	v->n_tok = n, v->n_atom = a;
	t->n_tok = n, t->n_atom = a;
	t->restype = v->restype_idx;
	t->token_mask = f->token_mask;
	t->atom_mask = f->atom_mask;
	return OF3_OK;
}

void of3_diffuse_inputs_free(of3_diffuse_inputs_t *v)
{
	free(v->restype_idx);
	v->restype_idx = NULL;
}
