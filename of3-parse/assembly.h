/* assembly.h: one query's atoms, built as OpenFold3 builds its atom array (spec/data.md §2–3).
 *
 * Chains in query order, one copy per chain id; polymer residues from the Chemical Component
 * Dictionary with hydrogens and leaving atoms removed; ligands from the CCD or from SMILES;
 * intra-residue bonds from the CCD and peptide / phosphodiester links between neighbours;
 * entity, asym and sym ids; one token per standard polymer residue and one per atom elsewhere.
 * The result is an "assembly" bundle (its layout is described at of3_assembly_build). */
#ifndef OF3_ASSEMBLY_H
#define OF3_ASSEMBLY_H

#include "../common/bundle.h"
#include "ccd.h"
#include "query.h"

/* Builds query q into a new bundle *out of kind "assembly":
 *   values  atom_chain_id, atom_res_name, atom_name, atom_element: [N_atom] strings
 *           chains: one map per chain copy {id, molecule_type, entity_id, asym_id, sym_id,
 *           sequence | ccd_code | smiles, main_msa_paths, paired_msa_paths, ...}
 *           query_json: the query's JSON text
 *   tensors atom_res_id, atom_charge, atom_molecule_type_id, atom_entity_id, atom_asym_id,
 *           atom_sym_id, atom_token_id: i32 [N_atom]; atom_hetero u8 [N_atom];
 *           atom_bonds i32 [N_bond, 3] (atom, atom, biotite bond type), sorted;
 *           atom_ccd_pos f32 [N_atom, 3]: the CCD's coordinates, and atom_has_ccd_pos u8
 *           [N_atom]: 0 where there are none (SMILES atoms, whose conformer is issue #6, and the
 *           few CCD components without coordinates)
 *           atom_n_hydrogens i32 [N_atom]: hydrogens on each SMILES atom (0 on CCD
 *           atoms); atom_chirality i32
 *           [N_atom]: a SMILES stereocentre's parity as of3_smiles_atom_t.parity defines it
 *           (neighbours by atom index, a hydrogen last; +1 when (n0-x).((n1-x)x(n2-x)) > 0,
 *           -1 when < 0, 0 none or not SMILES); bond_stereo i32 [N_stereo, 5]: SMILES double
 *           bonds with a written cis/trans configuration: atom a, atom b, a's neighbour, b's
 *           neighbour, 1 when those two are cis or 2 trans (of3-featurize's conformer
 *           generator, issue #6, reads all three)
 *   meta    n_atom, n_token, n_bond, n_chain, use_msas, use_main_msas, use_paired_msas,
 *           ccd (the dictionary's source)
 * Bad input (an unknown CCD code, bad SMILES) is OF3_ERR_INPUT naming query, chain and
 * residue position. */
int of3_assembly_build(const of3_query_t *q, of3_ccd_t *ccd, of3_bundle_t **out) OF3_WUR;

#endif
