/* smiles.h: a SMILES string read into a molecular graph, the way RDKit's MolFromSmiles with
 * default settings sees it (spec/data.md §2.7): atoms in SMILES order with element, formal
 * charge, explicit/implicit hydrogen counts and aromaticity; bonds with their order after
 * kekulization (aromatic bonds become single or double as RDKit assigns them). Explicit [H]
 * atoms that RDKit would remove are folded into their neighbour's hydrogen count.
 *
 * Bonds come in RDKit's bond order: chain bonds as written, then ring-closure bonds by ascending
 * ring number. bond_type is the biotite BondType OpenFold3 records for the bond (biotite 1.2.0
 * from_mol on the molecule after OpenFold3's conformer step): aromatic is decided by RDKit's
 * aromaticity perception, not by how the SMILES was written, so C1=CC=CC=C1 gives
 * AROMATIC_SINGLE/AROMATIC_DOUBLE (5/6) and the Kekulé pattern RDKit picks for the perceived
 * ring; order holds the same Kekulé bond order as a plain number.
 *
 * Hydrogen atoms that survive MolFromSmiles ([2H]C, [H][H], [H+], [H-]C, F/C=C/[H]) are kept as
 * atoms of element "H"; OpenFold3's RemoveAllHs drops them later and its featurization then
 * fails, so a caller may want to reject them.
 * The 3D conformer is issue #6; this is only the graph. */
#ifndef OF3_SMILES_H
#define OF3_SMILES_H

#include "../common/error.h"

typedef struct {
	char element[3]; /* upper case, as biotite names it ("C", "CL", "BR") */
	int charge;      /* formal charge after RDKit's clean-ups, as OpenFold3 records it: CN(=O)=O
	                  * has N+ and O-; OI(=O)O gets I+ and O- only in the second sanitization
	                  * of OpenFold3's conformer step */
	int n_hydrogens; /* total attached hydrogens (explicit + implicit) after MolFromSmiles */
	int aromatic;    /* written aromatic (lower case) in the SMILES */
	int isotope;     /* 0 when not given */
	int chirality;   /* 0 none, 1 @ (or @TH1), 2 @@ (or @TH2), as written */
	int aromatic_perceived; /* aromatic after RDKit's aromaticity perception */
	int parity; /* the chirality written, independent of the SMILES' neighbour order: with the
	             * neighbours sorted by atom index (a hydrogen or lone pair last), +1 when
	             * they are '@' (anticlockwise seen from the first), so that the signed
	             * volume (n0 - x) . ((n1 - x) x (n2 - x)) is positive; -1 for '@@'; 0 when
	             * not written or the atom has 2 or more hydrogens */
} of3_smiles_atom_t;

typedef struct {
	int a, b;      /* RDKit's begin and end atom: the order written, except that a ring closure
	                * written as a bare digit at its first use begins at its closing atom, and
	                * '<-' begins at the right-hand atom (biotite stores min, max) */
	int order;     /* 1, 2, 3 (4 quadruple) after kekulization; 1 for a dative bond */
	int aromatic;  /* the bond was aromatic as written (':' or between two aromatic atoms) */
	int stereo;    /* '/' 1, '\\' 2, else 0 */
	int dative;    /* '->' or '<-', or a bond to a metal RDKit made dative (a donates to b) */
	int bond_type; /* biotite BondType OpenFold3 records: 1 SINGLE, 2 DOUBLE, 3 TRIPLE,
	                * 4 QUADRUPLE, 5 AROMATIC_SINGLE, 6 AROMATIC_DOUBLE, 7 AROMATIC_TRIPLE,
	                * 8 COORDINATION, 9 AROMATIC (RDKit could not kekulize it: C:C outside a
	                * ring; order is then 1) */
	int cis_trans; /* a double bond outside rings of fewer than 8 atoms whose ends both have
	                * a '/' or '\\' neighbour: 1 when ref_a and ref_b are cis, 2 trans;
	                * else 0 */
	int ref_a, ref_b; /* the neighbours of a and of b that cis_trans refers to, or -1 */
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
 * 2)"). Text after the SMILES and a blank (a name) is ignored; an empty SMILES, dummy atoms '*',
 * query bonds '~' and CXSMILES extensions are errors. On error *mol is empty. */
int of3_smiles_parse(const char *s, of3_mol_t *mol) OF3_WUR;
void of3_mol_free(of3_mol_t *mol);

#endif
