/* msa_module.h: the MSA module embedder (spec/trunk.md §3.4: row subsampling to at most 1024
 * rows, embedding from msa/has_deletion/deletion_value and s_input) and the MSA module stack
 * (§3.5: outer product mean with its bias before the division, pair-weighted averaging, MSA
 * transition, pair block; the last block without the MSA-track update). Returns only z.
 *
 * Subsampling follows OpenFold3's rule (valid rows first; a random choice when more than the
 * maximum are valid) with our Philox generator (common/rng.h, stream
 * OF3_RNG_STREAM_MSA_SUBSAMPLE); the reference's recorded row choices can be replayed instead
 * (of3_msa_module_forward_rows) for parity. */
#ifndef OF3_TRUNK_MSA_MODULE_H
#define OF3_TRUNK_MSA_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/backend.h"
#include "../kernels/layers/mha.h"
#include "../kernels/layers/pairformer.h"
#include "../kernels/layers/weights.h"
#include "trunk_features.h"

#define OF3_MSA_MAX_BLOCKS 16
#define OF3_MSA_MAX_ROWS   OF3_TF_MAX_MSA_ROWS /* rows kept by the predict preset's subsampling */

/* Outer product mean: layer_norm [c_m], linear_1/linear_2 [c_o, c_m], linear_out
 * [c_z, c_o*c_o] with bias. */
typedef struct {
	of3_ln_w_t ln;
	of3_lin_w_t l1, l2, out;
	int64_t c_m, c_o, c_z;
} of3_opm_w_t;

/* Pair-weighted averaging (msa_att_row): layer_norm_m [c_m], layer_norm_z [c_z], linear_z
 * [H, c_z], linear_v/linear_g [H*d, c_m], linear_o [c_m, H*d], no biases (mha: no q, k). */
typedef struct {
	of3_ln_w_t ln_m, ln_z;
	of3_lin_w_t bias;
	of3_mha_w_t mha;
	int64_t c_m, c_z;
} of3_pwa_w_t;

/* One block under "msa_module.blocks.{k}.". */
typedef struct {
	of3_opm_w_t opm;
	int has_msa_update; /* 0 for the last block: no msa_att_row / msa_transition keys */
	of3_pwa_w_t pwa;
	of3_transition_w_t transition;
	of3_pair_block_w_t pair;
} of3_msa_block_w_t;

/* Weights under "msa_module_embedder." and "msa_module.". */
typedef struct {
	of3_lin_w_t lin_m;       /* msa_module_embedder.linear_m [c_m, 34] */
	of3_lin_w_t lin_s_input; /* msa_module_embedder.linear_s_input [c_m, c_s_input] */
	int n_block;
	of3_msa_block_w_t block[OF3_MSA_MAX_BLOCKS];
	int64_t c_m, c_z, c_s_input;
} of3_msa_w_t;

/* Binds every "msa_module_embedder." and "msa_module." key (planning pass when wb->base is
 * NULL). Returns 0 or OF3_ERR_INPUT naming a missing or misshaped key. */
int of3_msa_module_bind(of3_msa_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb) OF3_WUR;

/* Scratch floats of3_msa_module_forward needs for n_tok tokens and n_msa bundle rows (at most
 * OF3_MSA_MAX_ROWS of them are used). */
size_t of3_msa_module_scratch(const of3_msa_w_t *w, int64_t n_tok, int64_t n_msa);

/* The rows of f's MSA the module uses in recycling cycle `cycle` (spec/trunk.md §3.4.1): with
 * at most OF3_MSA_MAX_ROWS valid rows (>= 1 unmasked token), all valid rows in ascending order,
 * then invalid ones in a random order up to the maximum; with more, a random choice of valid
 * rows in random order. Random draws come from stream OF3_RNG_STREAM_MSA_SUBSAMPLE of seed, at
 * positions that depend on the cycle (each cycle draws anew). rows: OF3_MSA_MAX_ROWS entries;
 * returns the number written (0 when f has no MSA rows). */
int64_t of3_msa_subsample(const of3_trunk_features_t *f, uint64_t seed, int cycle, int64_t *rows);

/* z[N,N,c_z] = MSAModule(MSAEmbedder(rows of the MSA, s_input[N,c_s_input]), z) in place, with
 * the MSA rows rows[0..n_rows) (host memory, each in [0, f->n_msa), n_rows <=
 * OF3_MSA_MAX_ROWS) gathered on the device from the query's features f (of3_trunk_dev_upload):
 * the replay entry point for recorded row choices. m_out: NULL, or [n_rows,N,c_m] receiving
 * the embedded MSA before the first block (a parity tap). Every float buffer where the backend
 * computes; scratch: of3_msa_module_scratch() floats. Returns 0, OF3_ERR_INPUT for sizes or
 * rows that do not fit, or OF3_ERR_RUNTIME when the rows cannot be uploaded. */
int of3_msa_module_forward_rows(of3_backend_t *be, const of3_msa_w_t *w, const of3_trunk_dev_t *f,
                                const int64_t *rows, int64_t n_rows, const float *s_input, float *z,
                                float *m_out, float *scratch) OF3_WUR;

/* The same with the rows of of3_msa_subsample(f, seed, cycle), f the host view and fd the same
 * query in backend memory. */
int of3_msa_module_forward(of3_backend_t *be, const of3_msa_w_t *w, const of3_trunk_features_t *f,
                           const of3_trunk_dev_t *fd, const float *s_input, float *z, uint64_t seed,
                           int cycle, float *scratch) OF3_WUR;

#endif
