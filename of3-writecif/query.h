/* query.h: one diffuse bundle (docs/FORMAT.md "Bundle kinds") as flat arrays for the metrics
 * and the writers: the atom and token tables and the sample outputs, checked once.
 *
 * Loading checks every dtype and shape the writer relies on (a wrong bundle is OF3_ERR_INPUT
 * naming the tensor) and refuses non-finite coordinates. Strings are copied out of the bundle;
 * tensor arrays point into it, so the bundle must outlive the query. */
#ifndef OF3_WC_QUERY_H
#define OF3_WC_QUERY_H

#include <stdint.h>

#include "../common/bundle.h"

enum { OF3_MOL_PROTEIN = 0, OF3_MOL_RNA = 1, OF3_MOL_DNA = 2, OF3_MOL_LIGAND = 3 };

/* The bond types of atom_bonds: biotite's BondType values, which of3-parse writes. */
enum {
	OF3_BOND_ANY,
	OF3_BOND_SINGLE,
	OF3_BOND_DOUBLE,
	OF3_BOND_TRIPLE,
	OF3_BOND_QUADRUPLE,
	OF3_BOND_AROMATIC_SINGLE,
	OF3_BOND_AROMATIC_DOUBLE,
	OF3_BOND_AROMATIC_TRIPLE,
	OF3_BOND_COORDINATION,
	OF3_BOND_AROMATIC
};

typedef struct {
	const char *name; /* the query's name (the bundle's) */
	int64_t seed;     /* meta seed (0 when absent) */
	int n_sample, n_atom, n_token;
	/* atoms [N_atom] */
	char **atom_chain_id, **atom_res_name, **atom_name, **atom_element; /* owned copies */
	const int32_t *atom_res_id, *atom_charge, *atom_molecule_type_id, *atom_entity_id;
	const int32_t *atom_to_token_index;
	const uint8_t *atom_hetero;
	const float *atom_mask; /* NULL: all atoms present */
	int n_bond;
	const int32_t *atom_bonds; /* [N_bond, 3]: atom, atom, bond type */
	/* tokens [N_token] */
	const int32_t *asym_id, *entity_id, *residue_index, *start_atom_index, *num_atoms_per_token;
	const int32_t *is_protein, *is_rna, *is_dna, *is_ligand, *is_atomized;
	const float *token_mask;
	int32_t *restype; /* owned: the argmax of the one-hot restype [N_token, 32] */
	/* sample outputs */
	const float *x;                /* atom_positions_predicted [N_sample, N_atom, 3], Å */
	const float *plddt_logits;     /* [N_sample, N_atom, 50] */
	const float *pae_logits;       /* [N_sample, N_token, N_token, 64] */
	const float *pde_logits;       /* [N_sample, N_token, N_token, 64] */
	const float *distogram_logits; /* [N_token, N_token, 64] */
	/* chains, in asym_id order */
	int n_chain;
	int32_t *chain_asym; /* owned [n_chain] */
	char **chain_name;   /* owned [n_chain]: the chain id of the query ("A") */
} of3_wc_query_t;

/* Fills q from a "diffuse" bundle b. Returns OF3_OK, OF3_ERR_INPUT (a missing or misshapen
 * tensor or value, NaN or infinite coordinates: the message names which) or OF3_ERR_NOMEM.
 * Free with of3_wc_query_free() either way. */
int of3_wc_query_load(of3_wc_query_t *q, const of3_bundle_t *b) OF3_WUR;
void of3_wc_query_free(of3_wc_query_t *q);

/* The index in q->chain_asym of asym id `asym`, or -1. */
int of3_wc_query_chain(const of3_wc_query_t *q, int32_t asym);

/* Residues are runs of atoms with equal chain id, residue number and residue name. */
int of3_wc_same_res(const of3_wc_query_t *q, int a, int b);
/* The one-letter code of a standard amino acid or nucleotide ("ALA" 'A', "DA" 'A'), or 0. */
int of3_wc_std_res(const char *res_name);
/* 1 when bond k (a row of atom_bonds) joins two residues and is not the plain backbone link
 * (C-N, O3'-P) of adjacent standard residues of one chain: the bonds a file must list
 * explicitly (struct_conn, CONECT), because readers derive the backbone links themselves. */
int of3_wc_bond_explicit(const of3_wc_query_t *q, int k);

#endif
