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
#include "../kernels/backend.h"

#define OF3_TF_N_ELEMENT    119 /* ref_element one-hot width (atomic number - 1, 118 unknown) */
#define OF3_TF_N_NAME_CHARS 4   /* ref_atom_name_chars: characters per atom name ... */
#define OF3_TF_N_CHAR       64  /* ... each one-hot over ord(c) - 32 */
#define OF3_TF_N_RESTYPE    32  /* restype, profile, msa and template_restype width */
#define OF3_TF_N_DGRAM      39  /* template_distogram bins */
#define OF3_TF_N_TOKEN_FEAT (2 * OF3_TF_N_RESTYPE + 1) /* restype | profile | deletion_mean */
#define OF3_TF_N_MSA_FEAT   (OF3_TF_N_RESTYPE + 2)     /* msa | has_deletion | deletion_value */
#define OF3_TF_N_TMPL_SCAL  5    /* template pair scalars: pseudo-beta, unit vector x y z, frame */
#define OF3_TF_MAX_MSA_ROWS 1024 /* rows the MSA module keeps (OF3_MSA_MAX_ROWS) */
#define OF3_TF_RELPOS_R_MAX 32   /* residue and token offsets clipped to [-32, 32] */
#define OF3_TF_RELPOS_C_MAX 2    /* chain (sym_id) offsets clipped to [-2, 2] */

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

/* The features of one query where the backend computes (device memory on CUDA, host memory on
 * the CPU: the same code either way), made once per query by of3_trunk_dev_upload(): copies of
 * the atom features the atom encoder reads, and tensors derived on the host from the features
 * (masks, the relative-position bins, the template pair features, the MSA rows as float) so
 * that no layer loops over a feature on the host. One allocation; the host-side fields
 * (n_*, tmpl_empty, tmpl_slot) are plain host memory. */
typedef struct {
	void *mem; /* the backend allocation every pointer below lies in */
	size_t n_bytes;
	int64_t n_token, n_atom, n_msa, n_template;

	/* copies of the view's atom features */
	const float *ref_pos, *ref_charge, *atom_mask;
	const int32_t *ref_mask, *ref_element, *ref_atom_name_chars, *ref_space_uid;

	/* tokens */
	const float *token_mask;    /* [N] */
	const float *pair_mask;     /* [N,N] token_mask_i * token_mask_j */
	const int32_t *pool_off;    /* [N+1] token t owns pool_rows[pool_off[t] .. pool_off[t+1]) */
	const int32_t *pool_rows;   /* [A] atoms by token, ascending within each */
	const float *token_feat;    /* [N,65] restype | profile | deletion_mean, s_input's tail */
	const int32_t *relpos_bins; /* [N,N,4] ones of the relpos one-hot, 4th -1: none (§3.1.4) */
	const float *token_bonds;   /* [N,N] as float */

	/* MSA: every row of the bundle; the module gathers its choice on the device */
	const float *msa_feat; /* [S,N,34] msa one-hot | has_deletion | deletion_value */
	const float *msa_mask; /* [S,N] */
	int32_t *msa_rows;     /* [1024] the rows of the current cycle (written by the module) */

	/* templates: only the slots that are computed (every non-empty slot and the first empty
	 * one; later empty slots reuse the first one's result) */
	int64_t n_tmpl_computed;
	unsigned char *tmpl_empty; /* host [T]: slot t has no template (all features zero) */
	int64_t *tmpl_slot;        /* host [T]: slot t's index among the computed slots */
	const float *tmpl_restype; /* [n_tmpl_computed, N, 32] as float */
	const float *tmpl_dgram;   /* [n_tmpl_computed, N, N, 39] distogram x F */
	const float *tmpl_scalar;  /* [n_tmpl_computed, 5, N, N] the scalar pair features x F */
} of3_trunk_dev_t;

/* Bytes of3_trunk_dev_upload() allocates in backend memory for f (for the memory estimate). */
size_t of3_trunk_dev_bytes(const of3_trunk_features_t *f);

/* Builds *d from f in a host staging buffer and copies it into one backend allocation.
 * OF3_ERR_NOMEM when it does not fit; free with of3_trunk_dev_free() (also after a failure). */
int of3_trunk_dev_upload(of3_trunk_dev_t *d, const of3_trunk_features_t *f,
                         of3_backend_t *be) OF3_WUR;
void of3_trunk_dev_free(of3_trunk_dev_t *d, of3_backend_t *be);

#endif
