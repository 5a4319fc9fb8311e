/* structure.c: token-level structure features and the empty template slots
 * (spec/data.md §4.1, §4.4). */
#include "structure.h"

#include <string.h>

/* restype's vocabulary, in its exact order (STANDARD_RESIDUES_WITH_GAP_3); 31 is the gap. */
static const char *const restype_names[32] = {
        "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU",
        "LYS", "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "UNK", "A",
        "G",   "C",   "U",   "N",   "DA",  "DG",  "DC",  "DT",  "DN",  "GAP"};
enum { RESTYPE_UNK = 20 };

static int restype_index(const char *name)
{
	for (int i = 0; i < 31; i++)
		if (strcmp(restype_names[i], name) == 0)
			return i;
	return RESTYPE_UNK; /* ligands, non-canonical residues: OpenFold3's "unknown" */
}

int of3_structure_features(const of3_tokens_t *t, of3_bundle_t *out)
{
	int rc = OF3_OK;
	int64_t nt = t->n_tokens, na = t->n_atoms, tok[1] = {nt}, atom[1] = {na};
	int64_t tok32[2] = {nt, 32}, tok2[2] = {nt, nt};
	int32_t *token_index =
	        of3_bundle_new_tensor(out, "token_index", OF3_DTYPE_I32, 1, tok, &rc);
	int32_t *residue_index =
	        of3_bundle_new_tensor(out, "residue_index", OF3_DTYPE_I32, 1, tok, &rc);
	int32_t *asym_id = of3_bundle_new_tensor(out, "asym_id", OF3_DTYPE_I32, 1, tok, &rc);
	int32_t *entity_id = of3_bundle_new_tensor(out, "entity_id", OF3_DTYPE_I32, 1, tok, &rc);
	int32_t *sym_id = of3_bundle_new_tensor(out, "sym_id", OF3_DTYPE_I32, 1, tok, &rc);
	int32_t *restype = of3_bundle_new_tensor(out, "restype", OF3_DTYPE_I32, 2, tok32, &rc);
	int32_t *is_type[4];
	static const char *is_names[4] = {"is_protein", "is_rna", "is_dna", "is_ligand"};
	for (int k = 0; k < 4; k++)
		is_type[k] = of3_bundle_new_tensor(out, is_names[k], OF3_DTYPE_I32, 1, tok, &rc);
	int32_t *is_atomized =
	        of3_bundle_new_tensor(out, "is_atomized", OF3_DTYPE_I32, 1, tok, &rc);
	float *token_mask = of3_bundle_new_tensor(out, "token_mask", OF3_DTYPE_F32, 1, tok, &rc);
	int32_t *num_atoms =
	        of3_bundle_new_tensor(out, "num_atoms_per_token", OF3_DTYPE_I32, 1, tok, &rc);
	int32_t *start_atom =
	        of3_bundle_new_tensor(out, "start_atom_index", OF3_DTYPE_I32, 1, tok, &rc);
	float *atom_mask = of3_bundle_new_tensor(out, "atom_mask", OF3_DTYPE_F32, 1, atom, &rc);
	int32_t *atom_to_token =
	        of3_bundle_new_tensor(out, "atom_to_token_index", OF3_DTYPE_I32, 1, atom, &rc);
	int32_t *token_bonds =
	        of3_bundle_new_tensor(out, "token_bonds", OF3_DTYPE_I32, 2, tok2, &rc);
	if (rc < 0)
		return rc;
	for (int i = 0; i < t->n_tokens; i++) {
		const of3_fchain_t *c = &t->chains[t->chain[i]];
		token_index[i] = i;
		residue_index[i] = t->res_id[i];
		asym_id[i] = c->asym_id;
		entity_id[i] = c->entity_id;
		sym_id[i] = c->sym_id;
		restype[(size_t)i * 32 + (size_t)restype_index(t->res_name[i])] = 1;
		is_type[c->mol_type][i] = 1;
		is_atomized[i] = t->atomized[i];
		token_mask[i] = 1.0f;
		num_atoms[i] = t->n_token_atoms[i];
		start_atom[i] = t->start_atom[i];
	}
	for (int a = 0; a < t->n_atoms; a++) {
		atom_mask[a] = 1.0f;
		atom_to_token[a] = t->atom_token[a];
	}
	/* only bonds between two atomized tokens: ligands, non-canonical residues, and links
	 * between those (cleanup.py:filter_fully_atomized_bonds) */
	for (int k = 0; k < t->n_bonds; k++) {
		int ta = t->atom_token[t->bonds[3 * k]], tb = t->atom_token[t->bonds[3 * k + 1]];
		if (!t->atomized[ta] || !t->atomized[tb] || ta == tb)
			continue;
		token_bonds[(size_t)ta * (size_t)nt + (size_t)tb] = 1;
		token_bonds[(size_t)tb * (size_t)nt + (size_t)ta] = 1;
	}
	return OF3_OK;
}

int of3_template_features(const of3_tokens_t *t, of3_bundle_t *out)
{
	for (int c = 0; c < t->n_chains; c++)
		if (t->chains[c].template_alignment_path)
			return of3_err(
			        OF3_ERR_INPUT,
			        "query '%s', chain %s: template_alignment_file_path "
			        "is given, but templates are not supported yet; remove it to "
			        "predict without templates",
			        t->assembly->query, t->chains[c].id);
	int rc = OF3_OK;
	int64_t nt = t->n_tokens, s32[3] = {4, nt, 32}, s1[2] = {4, nt}, sd[4] = {4, nt, nt, 39},
	        su[4] = {4, nt, nt, 3};
	of3_bundle_new_tensor(out, "template_restype", OF3_DTYPE_I32, 3, s32, &rc);
	of3_bundle_new_tensor(out, "template_pseudo_beta_mask", OF3_DTYPE_F32, 2, s1, &rc);
	of3_bundle_new_tensor(out, "template_backbone_frame_mask", OF3_DTYPE_F32, 2, s1, &rc);
	of3_bundle_new_tensor(out, "template_distogram", OF3_DTYPE_F32, 4, sd, &rc);
	of3_bundle_new_tensor(out, "template_unit_vector", OF3_DTYPE_F32, 4, su, &rc);
	return rc;
}
