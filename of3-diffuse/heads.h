/* heads.h: the confidence and prediction heads of OpenFold3 (spec/diffusion_heads.md §5,
 * AF3 Alg. 31): representative atoms (§5.2), the Pairformer embedding of the predicted
 * coordinates (§5.3, its blocks the shared kernels/layers/pairformer code), the distogram head
 * on the trunk pair, and the pLDDT, experimentally-resolved, PDE and PAE heads (§5.5).
 *
 * Use: of3_heads_bind() twice (plan, then into one allocation, weights.h), of3_heads_tables()
 * once per query on the host (token/atom index tables and masks, which the caller copies to
 * the backend's device), of3_heads_scratch() floats of scratch, then of3_heads_forward() for
 * all samples. Nothing here allocates. Dimensions come from the checkpoint's shapes, so the
 * tiny test checkpoint and the released one run through the same code.
 *
 * Not here: the confidence metrics computed from the logits (pLDDT, pTM, ranking, §6), the
 * trace hook naming intermediates (STYLE.md rule 14). */
#ifndef OF3_DIFFUSE_HEADS_H
#define OF3_DIFFUSE_HEADS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/checkpoint.h"
#include "../kernels/backend.h"
#include "../kernels/layers/pairformer.h"
#include "../kernels/layers/weights.h"

#define OF3_HEADS_ATOM_SLOTS 23    /* per-token atom slots of pLDDT / resolved logits (§5.5) */
#define OF3_HEADS_MAX_BLOCKS 16    /* Pairformer-embedding blocks accepted (4 in OpenFold3) */
#define OF3_HEADS_DIST_FIRST 3.25f /* distance-bin edges: first, spacing (Å), count (§5.3) */
#define OF3_HEADS_DIST_STEP  1.25f

/* Weights under "aux_heads.", shapes as spec/diffusion_heads.md §5.7 (letters of
 * kernels/ops.h; c_si is the width of s_input, 449 released). */
typedef struct {
	of3_lin_w_t lin_i, lin_j; /* pairformer_embedding.linear_{i,j} [c_z, c_si] */
	of3_lin_w_t lin_dist;     /* pairformer_embedding.linear_distance [c_z, n_dist_bin] */
	/* pairformer_embedding.pairformer_stack.blocks.k, k < n_block */
	of3_pairformer_block_w_t blocks[OF3_HEADS_MAX_BLOCKS];
	int n_block;
	of3_ln_w_t plddt_ln, resolved_ln; /* plddt / experimentally_resolved .layer_norm [c_s] */
	of3_lin_w_t plddt, resolved; /* .linear [23*n_plddt_bin, c_s], [23*n_resolved_bin, c_s] */
	of3_ln_w_t pde_ln, pae_ln;   /* pde / pae .layer_norm [c_z] */
	of3_lin_w_t pde, pae;        /* .linear [n_pde_bin, c_z], [n_pae_bin, c_z] */
	of3_lin_w_t distogram;       /* distogram.linear [n_distogram_bin, c_z] */
	int64_t c_s, c_z, c_si;
	int64_t n_dist_bin;      /* distance one-hot bins of the embedding (39) */
	int64_t n_plddt_bin;     /* 50 */
	int64_t n_resolved_bin;  /* 2 */
	int64_t n_pde_bin;       /* 64 */
	int64_t n_pae_bin;       /* 64 */
	int64_t n_distogram_bin; /* 64 */
} of3_heads_w_t;

/* Binds every "aux_heads." key; the number of Pairformer-embedding blocks is counted in the
 * checkpoint. Returns 0, or OF3_ERR_INPUT naming a missing or misshaped key (or too many
 * blocks, or a slot layout that does not split into 23 slots). Call with wb->base NULL to plan,
 * then again into the allocation (weights.h). */
int of3_heads_bind(of3_heads_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb) OF3_WUR;

/* The token and atom tables of one query as featurized (spec/data.md §4), host memory. */
typedef struct {
	int64_t n_tok, n_atom;
	const int32_t *restype;          /* [N] residue type index 0..31 (argmax of the one-hot) */
	const int32_t *is_protein;       /* [N] 0/1 */
	const int32_t *is_rna;           /* [N] 0/1 */
	const int32_t *is_dna;           /* [N] 0/1 */
	const int32_t *is_atomized;      /* [N] 0/1 */
	const int32_t *start_atom_index; /* [N] first atom of each token */
	const int32_t *num_atoms_per_token; /* [N] */
	const float *token_mask;            /* [N] */
	const float *atom_mask;             /* [A] */
} of3_heads_tokens_t;

/* What of3_heads_tables() computes, into arrays the caller provides (host memory). */
typedef struct {
	int32_t *rep_atom;  /* [N] global atom index of each token's representative atom (§5.2) */
	float *rep_mask;    /* [N] representative-atom mask, the embedding's single mask */
	float *pair_mask;   /* [N,N] token_mask ⊗ token_mask, the embedding's pair mask */
	int32_t *atom_slot; /* [A] row of a per-token [N*23] slot layout for each atom (§5.5) */
} of3_heads_tables_t;

/* Fills t from the token tables: representative atoms (CB; CA for Gly; C4 for purines, C2 for
 * pyrimidines; the atom of an atomized token; atom 0 with mask 0 otherwise), the masks and the
 * atom-slot map. OF3_ERR_INPUT (message naming the token) when a token has more than 23 atoms,
 * atoms are not contiguous in token order, or an index falls outside the atoms. */
int of3_heads_tables(of3_heads_tables_t *t, const of3_heads_tokens_t *tok) OF3_WUR;

/* Inputs of of3_heads_forward(), every buffer on the backend's device. */
typedef struct {
	int64_t n_tok, n_atom, n_sample;
	const float *s_input;   /* [N, c_si] the input embedder's single output */
	const float *s_trunk;   /* [N, c_s] */
	const float *z_trunk;   /* [N, N, c_z] */
	const float *x;         /* [D, A, 3] predicted atom positions (Å) */
	of3_heads_tables_t tab; /* of3_heads_tables()'s arrays, copied to the device */
} of3_heads_in_t;

/* Outputs; any may be NULL to skip it (s and z are the Pairformer embedding's outputs, for
 * parity checks). */
typedef struct {
	float *distogram; /* [N, N, n_distogram_bin], sample-independent */
	float *plddt;     /* [D, A, n_plddt_bin] */
	float *resolved;  /* [D, A, n_resolved_bin] experimentally resolved */
	float *pde;       /* [D, N, N, n_pde_bin] */
	float *pae;       /* [D, N, N, n_pae_bin] */
	float *s;         /* [D, N, c_s] */
	float *z;         /* [D, N, N, c_z] */
} of3_heads_out_t;

/* Scratch floats of3_heads_forward() needs for n_tok tokens (independent of samples). */
size_t of3_heads_scratch(const of3_heads_w_t *w, int64_t n_tok);

/* Runs the heads on every sample in turn: out from in, weights w, scratch of
 * of3_heads_scratch() floats on be's device. */
void of3_heads_forward(const of3_heads_out_t *out, const of3_heads_in_t *in, const of3_heads_w_t *w,
                       float *scratch, const of3_backend_t *be);

#endif
