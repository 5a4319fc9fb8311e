/* refconf.c: the reference-conformer features (spec/data.md §4.2, §5.4).
 *
 * OpenFold3 makes each residue's and ligand's conformer with RDKit's ETKDG at inference; we take
 * the CCD's coordinates instead (stereo-correct, no RDKit; docs/DEVIATIONS.md has the measured
 * difference) and embed SMILES ligands with our own distance-geometry generator (conformer.h,
 * issue #6), then centre each conformer, turn it by a uniformly random rotation and shift it
 * by a N(0, 1) Å translation, as OpenFold3 does (centre_random_augmentation). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/rigid.h"
#include "../common/rng.h"
#include "conformer.h"
#include "structure.h"

/* Element symbols by atomic number (1..118); ref_element is the one-hot of Z - 1. */
static const char *const elements[119] = {
        "",   "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si",
        "P",  "S",  "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu",
        "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru",
        "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr",
        "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",
        "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac",
        "Th", "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf",
        "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};

static int atomic_number(const char *symbol)
{
	for (int z = 1; z <= 118; z++)
		if (strcasecmp(elements[z], symbol) == 0)
			return z;
	return 0;
}

/* Centres atoms [a0, a1) on their positioned atoms, rotates by a random rotation and shifts by
 * a random translation: pos = (x - mean) R^T + t. Seven normal draws per conformer, in the
 * order quaternion (w, x, y, z), translation (x, y, z). */
static void place(const float *src, int a0, int a1, of3_rng_t *rng, float *pos, const int32_t *mask)
{
	double q[4], tr[3], r[3][3], mean[3] = {0, 0, 0};
	for (int k = 0; k < 4; k++)
		q[k] = of3_rng_normal(rng);
	for (int k = 0; k < 3; k++)
		tr[k] = of3_rng_normal(rng);
	of3_quat_rotation(q, r);
	int n = 0;
	for (int a = a0; a < a1; a++)
		if (mask[a]) {
			for (int k = 0; k < 3; k++)
				mean[k] += src[3 * a + k];
			n++;
		}
	if (n == 0)
		return; /* nothing positioned: OpenFold3 skips the augmentation too */
	for (int k = 0; k < 3; k++)
		mean[k] /= n;
	for (int a = a0; a < a1; a++) {
		if (!mask[a])
			continue;
		double x[3];
		for (int k = 0; k < 3; k++)
			x[k] = src[3 * a + k] - mean[k];
		for (int i = 0; i < 3; i++)
			pos[3 * a + i] =
			        (float)(r[i][0] * x[0] + r[i][1] * x[1] + r[i][2] * x[2] + tr[i]);
	}
}

/* The end of the conformer that starts at atom a0: a residue instance of a polymer, or a whole
 * ligand chain (its atoms all have res_id 1). */
static int next_conformer(const of3_tokens_t *t, int a0)
{
	int a1 = a0 + 1;
	while (a1 < t->n_atoms && t->atom_res_id[a1] == t->atom_res_id[a0] &&
	       strcmp(t->atom_chain_id[a1], t->atom_chain_id[a0]) == 0)
		a1++;
	return a1;
}

int of3_reference_features(const of3_tokens_t *t, of3_bundle_t *out)
{
	int rc = OF3_OK;
	int64_t na = t->n_atoms, s1[1] = {na}, s119[2] = {na, 119}, s464[3] = {na, 4, 64};
	int32_t *mask = of3_bundle_new_tensor(out, "ref_mask", OF3_DTYPE_I32, 1, s1, &rc);
	int32_t *element = of3_bundle_new_tensor(out, "ref_element", OF3_DTYPE_I32, 2, s119, &rc);
	float *charge = of3_bundle_new_tensor(out, "ref_charge", OF3_DTYPE_F32, 1, s1, &rc);
	int32_t *name_chars =
	        of3_bundle_new_tensor(out, "ref_atom_name_chars", OF3_DTYPE_I32, 3, s464, &rc);
	int32_t *uid = of3_bundle_new_tensor(out, "ref_space_uid", OF3_DTYPE_I32, 1, s1, &rc);
	if (rc < 0)
		return rc;
	for (int a = 0; a < t->n_atoms; a++) {
		int z = atomic_number(t->atom_element[a]);
		if (z == 0)
			return of3_err(OF3_ERR_INPUT,
			               "query '%s', atom %d (%s %s): unknown element '%s'",
			               t->assembly->query, a + 1, t->atom_res_name[a],
			               t->atom_name[a], t->atom_element[a]);
		element[(size_t)a * 119 + (size_t)(z - 1)] = 1;
		charge[a] = (float)t->atom_charge[a];
		/* 0 only for CCD components without coordinates; SMILES atoms get a conformer */
		mask[a] = t->atom_has_ccd_pos[a] || t->chains[t->chain[t->atom_token[a]]].smiles;
		const char *name = t->atom_name[a];
		if (strlen(name) > 4)
			return of3_err(OF3_ERR_INPUT,
			               "query '%s', atom %d: name '%s' is longer than 4 "
			               "characters",
			               t->assembly->query, a + 1, name);
		for (int k = 0; k < 4; k++) {
			int ch = k < (int)strlen(name) ? (unsigned char)name[k] : ' ';
			if (ch < 32 || ch > 95)
				return of3_err(OF3_ERR_INPUT,
				               "query '%s', atom %d: name '%s' has a character "
				               "OpenFold3 cannot encode (ASCII 32-95 only)",
				               t->assembly->query, a + 1, name);
			name_chars[((size_t)a * 4 + (size_t)k) * 64 + (size_t)(ch - 32)] = 1;
		}
	}
	/* one conformer per residue instance of a polymer and per ligand chain instance */
	int n_mols = 0;
	for (int a0 = 0; a0 < t->n_atoms;) {
		int a1 = next_conformer(t, a0);
		for (int a = a0; a < a1; a++)
			uid[a] = n_mols;
		n_mols++;
		a0 = a1;
	}
	return OF3_OK;
}

/* Conformers for the SMILES chains: their atoms' rows of src [n_atoms, 3] are overwritten by
 * the embedder's coordinates. Each chain draws from its own part of stream
 * OF3_RNG_STREAM_CONFORMER (position chain index * 2^40), so chains never shift each other. */
static int embed_smiles(const of3_tokens_t *t, uint64_t seed, float *src)
{
	for (int c = 0; c < t->n_chains; c++) {
		if (!t->chains[c].smiles)
			continue;
		of3_conf_mol_t mol;
		int rc = of3_conf_mol_from_tokens(t, c, &mol);
		if (rc < 0)
			return rc;
		double *x = malloc(((size_t)mol.n_atoms + 1) * 3 * sizeof *x);
		if (!x) {
			of3_conf_mol_free(&mol);
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		}
		of3_rng_t rng;
		of3_rng_init(&rng, seed, OF3_RNG_STREAM_CONFORMER);
		of3_rng_seek(&rng, (uint64_t)c << 40);
		rc = of3_conformer_embed(&mol, &rng, 10, x, NULL);
		if (rc == OF3_OK)
			for (int i = 0; i < mol.n_atoms * 3; i++)
				src[(size_t)t->chains[c].first_atom * 3 + (size_t)i] = (float)x[i];
		free(x);
		of3_conf_mol_free(&mol);
		if (rc < 0)
			return of3_err_prefix(rc, "query '%s', chain %s (SMILES '%s')",
			                      t->assembly->query, t->chains[c].id,
			                      t->chains[c].smiles);
	}
	return OF3_OK;
}

int of3_reference_positions(const of3_tokens_t *t, uint64_t seed, of3_bundle_t *out)
{
	const of3_tensor_t *m = of3_bundle_tensor(out, "ref_mask");
	if (!m)
		return of3_err(OF3_ERR_RUNTIME, "ref_pos needs ref_mask: call "
		                                "of3_reference_features first");
	int rc = OF3_OK;
	int64_t s3[2] = {t->n_atoms, 3};
	float *pos = of3_bundle_new_tensor(out, "ref_pos", OF3_DTYPE_F32, 2, s3, &rc);
	if (rc < 0)
		return rc;
	float *src = malloc(((size_t)t->n_atoms + 1) * 3 * sizeof *src);
	if (!src)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	memcpy(src, t->atom_ccd_pos, (size_t)t->n_atoms * 3 * sizeof *src);
	if ((rc = embed_smiles(t, seed, src)) < 0) {
		free(src);
		return rc;
	}
	of3_rng_t rng;
	of3_rng_init(&rng, seed, OF3_RNG_STREAM_REF_POS);
	for (int a0 = 0; a0 < t->n_atoms;) {
		int a1 = next_conformer(t, a0);
		place(src, a0, a1, &rng, pos, m->data);
		a0 = a1;
	}
	free(src);
	return OF3_OK;
}
