/* trunk_features.h: the trunk's view of a features bundle (spec/trunk.md §3.1.1, §3.3.1,
 * §3.4.2; docs/FORMAT.md "features").
 *
 * of3_trunk_features_view() checks that every tensor the trunk reads is present with the dtype
 * and shape it expects and points the struct's fields at the bundle's data (nothing is copied;
 * the view lives as long as the bundle). Integer features are i32, real ones f32, as
 * of3-featurize writes them. The struct is shared by the input embedder, the template embedder,
 * the MSA module and the trunk driver; fields may be added, never renamed. Dimension letters as
 * in kernels/ops.h (N tokens, A atoms, S MSA rows) plus T template slots. */
#ifndef OF3_TRUNK_FEATURES_H
#define OF3_TRUNK_FEATURES_H

#include <stdint.h>

#include "../common/bundle.h"

#define OF3_TF_N_ELEMENT    119 /* ref_element one-hot width (atomic number - 1, 118 unknown) */
#define OF3_TF_N_NAME_CHARS 4   /* ref_atom_name_chars: characters per atom name ... */
#define OF3_TF_N_CHAR       64  /* ... each one-hot over ord(c) - 32 */
#define OF3_TF_N_RESTYPE    32  /* restype, profile, msa and template_restype width */
#define OF3_TF_N_DGRAM      39  /* template_distogram bins */

typedef struct {
	int64_t n_token;    /* N */
	int64_t n_atom;     /* A */
	int64_t n_msa;      /* S: MSA rows in the bundle (before any subsampling) */
	int64_t n_template; /* T: template slots (4 from of3-featurize) */

	/* atoms (spec/trunk.md §3.1.1) */
	const float *ref_pos;               /* [A,3] Å, reference conformer */
	const int32_t *ref_mask;            /* [A] */
	const int32_t *ref_element;         /* [A,119] one-hot */
	const float *ref_charge;            /* [A] formal charge */
	const int32_t *ref_atom_name_chars; /* [A,4,64] one-hot */
	const int32_t *ref_space_uid;       /* [A] conformer id */
	const float *atom_mask;             /* [A] */
	const int32_t *atom_to_token_index; /* [A] owning token, 0 <= i < N */

	/* tokens */
	const int32_t *restype;       /* [N,32] one-hot */
	const float *profile;         /* [N,32] */
	const float *deletion_mean;   /* [N] */
	const int32_t *residue_index; /* [N] */
	const int32_t *token_index;   /* [N] */
	const int32_t *asym_id;       /* [N] */
	const int32_t *entity_id;     /* [N] */
	const int32_t *sym_id;        /* [N] */
	const int32_t *token_bonds;   /* [N,N] {0,1} */
	const float *token_mask;      /* [N] */

	/* MSA (spec/trunk.md §3.4) */
	const int32_t *msa;          /* [S,N,32] one-hot */
	const float *has_deletion;   /* [S,N] */
	const float *deletion_value; /* [S,N] */
	const float *msa_mask;       /* [S,N] */

	/* templates (spec/trunk.md §3.3.1) */
	const int32_t *template_restype;           /* [T,N,32] */
	const float *template_pseudo_beta_mask;    /* [T,N] */
	const float *template_backbone_frame_mask; /* [T,N] */
	const float *template_distogram;           /* [T,N,N,39] */
	const float *template_unit_vector;         /* [T,N,N,3] */
} of3_trunk_features_t;

/* Fills *f from a features bundle. Returns OF3_OK, or OF3_ERR_INPUT naming the first tensor
 * that is missing or has another dtype or shape ("features: tensor 'ref_pos' is missing",
 * "features: tensor 'restype': shape [12, 31], expected [12, 32]"), or an atom_to_token_index
 * outside [0, N). */
int of3_trunk_features_view(of3_trunk_features_t *f, const of3_bundle_t *features) OF3_WUR;

#endif
