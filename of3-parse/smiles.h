/* smiles.h: a SMILES string read into a molecular graph, the way RDKit's MolFromSmiles with
 * default settings sees it (spec/data.md §2.7): atoms in SMILES order with element, formal
 * charge, explicit/implicit hydrogen counts and aromaticity; bonds with their order after
 * kekulization (aromatic bonds become single or double as RDKit assigns them). Explicit [H]
 * atoms that RDKit would remove are folded into their neighbour's hydrogen count.
 * The 3D conformer is issue #6; this is only the graph. */
#ifndef OF3_SMILES_H
#define OF3_SMILES_H

#include "../common/error.h"

typedef struct {
	char element[3];  /* upper case, as biotite names it ("C", "CL", "BR") */
	int charge;       /* formal charge */
	int n_hydrogens;  /* total attached hydrogens (explicit + implicit) after sanitization */
	int aromatic;     /* written aromatic (lower case) in the SMILES */
	int isotope;      /* 0 when not given */
	int chirality;    /* 0 none, 1 @, 2 @@ (as written) */
} of3_smiles_atom_t;

typedef struct {
	int a, b;         /* atom indices, in the order the bond was written (a before b) */
	int order;        /* 1, 2, 3 (4 quadruple) after kekulization */
	int aromatic;     /* the bond was aromatic before kekulization */
	int stereo;       /* '/' 1, '\\' 2, else 0 */
} of3_smiles_bond_t;

typedef struct {
	int n_atoms;
	of3_smiles_atom_t *atoms;
	int n_bonds;
	of3_smiles_bond_t *bonds;
} of3_mol_t;

/* Parses s into *mol. Invalid syntax, an unknown element, an unclosed ring or branch, an
 * aromatic system that cannot be kekulized, or a valence no element allows is OF3_ERR_INPUT
 * with the 1-based character position ("SMILES 'C1CC': ring bond 1 is never closed (position
 * 2)"). */
int of3_smiles_parse(const char *s, of3_mol_t *mol) OF3_WUR;
void of3_mol_free(of3_mol_t *mol);

#endif
