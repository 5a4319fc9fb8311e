/* tokens.h: an assembly bundle read back as chains, tokens and atoms, the tables every feature
 * is computed from (spec/data.md §3-4).
 *
 * of3-parse already decided the atoms, their order and their tokens (atom_token_id); this module
 * checks the assembly bundle is complete and consistent, and indexes it: each token's first atom
 * and atom count, chain, residue number and name; each chain's tokens, sequence and MSA files. */
#ifndef OF3_TOKENS_H
#define OF3_TOKENS_H

#include <stdint.h>

#include "../common/bundle.h"

enum { OF3_MOL_PROTEIN_ID = 0, OF3_MOL_RNA_ID = 1, OF3_MOL_DNA_ID = 2, OF3_MOL_LIGAND_ID = 3 };

typedef struct {
	const char *id; /* chain id */
	int mol_type;   /* OF3_MOL_*_ID */
	int entity_id, asym_id, sym_id;
	const char *sequence; /* polymers: one-letter codes as the query gave them (the letter,
	                         not the non-canonical residue, at modified positions); NULL
	                         for ligands */
	const char *smiles;   /* a SMILES ligand, or NULL */
	int n_main_msa;
	const char **main_msa_paths; /* files or directories, as the query named them */
	int n_paired_msa;
	const char **paired_msa_paths;
	const char *template_alignment_path; /* or NULL */
	int first_token, n_tokens; /* this chain's tokens: [first_token, first_token + n_tokens) */
	int first_atom, n_atoms;
} of3_fchain_t;

typedef struct {
	int n_atoms, n_tokens, n_chains;
	of3_fchain_t *chains; /* in atom order */
	/* per token [n_tokens] */
	int32_t *start_atom;    /* index of its first atom */
	int32_t *n_token_atoms; /* its atom count */
	int32_t *chain;         /* index into chains */
	int32_t *res_id;        /* residue number (1-based sequence position; 1 for ligands) */
	uint8_t *atomized;      /* one token per atom (ligands, non-canonical residues) */
	const char **res_name;  /* residue name of its first atom */
	/* per atom [n_atoms]: views of the assembly's tensors and labels */
	const int32_t *atom_token; /* atom_token_id */
	const int32_t *atom_res_id, *atom_charge, *atom_mol_type;
	const float *atom_ccd_pos; /* [n_atoms, 3] */
	const uint8_t *atom_has_ccd_pos;
	const char **atom_name, **atom_element, **atom_res_name, **atom_chain_id;
	int n_bonds;
	const int32_t *bonds; /* [n_bonds, 3]: atom, atom, biotite bond type */
	/* query-level switches (spec/data.md §1.3) */
	int use_msas, use_main_msas, use_paired_msas;
	const of3_bundle_t *assembly;
} of3_tokens_t;

/* Indexes an assembly bundle. Anything missing, of the wrong dtype or shape, or inconsistent
 * (a token whose atoms are not contiguous, a chain table that does not match the atoms) is
 * OF3_ERR_INPUT naming the query and the tensor or value. t borrows from the bundle: keep the
 * bundle alive while t is used. */
int of3_tokens_init(of3_tokens_t *t, const of3_bundle_t *assembly) OF3_WUR;
void of3_tokens_free(of3_tokens_t *t);

#endif
