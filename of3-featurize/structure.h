/* structure.h: the token-level structure features (spec/data.md §4.1) and the reference
 * conformer features (§4.2), from the token tables. */
#ifndef OF3_STRUCTURE_H
#define OF3_STRUCTURE_H

#include <stdint.h>

#include "../common/bundle.h"
#include "tokens.h"

/* Adds token_index, residue_index, asym_id, entity_id, sym_id, restype [N_token, 32],
 * is_protein, is_rna, is_dna, is_ligand, is_atomized, token_mask, num_atoms_per_token,
 * start_atom_index, atom_mask [N_atom], atom_to_token_index [N_atom], token_bonds
 * [N_token, N_token]. */
int of3_structure_features(const of3_tokens_t *t, of3_bundle_t *out) OF3_WUR;

/* Adds ref_mask, ref_element [N_atom, 119], ref_charge, ref_atom_name_chars [N_atom, 4, 64],
 * ref_space_uid: everything about the reference conformers but their positions. */
int of3_reference_features(const of3_tokens_t *t, of3_bundle_t *out) OF3_WUR;

/* Adds ref_pos [N_atom, 3] (after of3_reference_features). The conformers are the CCD's
 * coordinates (docs/DEVIATIONS.md: OpenFold3 runs RDKit's ETKDG instead), each centred on its
 * positioned atoms, turned by a uniformly random rotation and shifted by a N(0, 1) Å
 * translation: seven normals per conformer from Philox stream OF3_RNG_STREAM_REF_POS of seed,
 * quaternion (w, x, y, z) then translation. SMILES ligands get a conformer from conformer.h
 * (issue #6) first; one it cannot embed is OF3_ERR_INPUT. */
int of3_reference_positions(const of3_tokens_t *t, uint64_t seed, of3_bundle_t *out) OF3_WUR;

/* Adds the four template slots, empty: template_restype [4, N_token, 32],
 * template_pseudo_beta_mask, template_backbone_frame_mask [4, N_token],
 * template_distogram [4, N_token, N_token, 39], template_unit_vector [4, N_token, N_token, 3],
 * all zero. A chain that names a template alignment is OF3_ERR_INPUT ("not supported yet"). */
int of3_template_features(const of3_tokens_t *t, of3_bundle_t *out) OF3_WUR;

#endif
