/* msa.h: the MSA features of a query (spec/data.md §4.3, §6): files named by the query parsed
 * (A3M, Stockholm), assembled per chain (query row, paired block, main block), paired online by
 * species for heteromers, and featurized over the tokens.
 *
 * Chains of protein or RNA without MSA files get a query-only MSA (OpenFold3's behaviour with
 * --use_msa_server=False, since of3 has no MSA server); use_msas false gives the one-row
 * all-gap fallback. Where OpenFold3 fails (spec/data.md §6.8), we do what it would have done
 * had it worked, and docs/DEVIATIONS.md says so. */
#ifndef OF3_MSA_H
#define OF3_MSA_H

#include "../common/bundle.h"
#include "tokens.h"

/* Adds to out: msa i32 [N_msa, N_token, 32], has_deletion f32 [N_msa, N_token],
 * deletion_value f32 [N_msa, N_token], deletion_mean f32 [N_token], profile f32 [N_token, 32],
 * msa_mask f32 [N_msa, N_token], num_paired_seqs i32 [1]; and meta n_msa.
 * A missing or malformed MSA file, or one whose query row does not match the chain's sequence,
 * is OF3_ERR_INPUT naming the file, line and chain. */
int of3_msa_features(const of3_tokens_t *t, of3_bundle_t *out) OF3_WUR;

/* Flags of of3_msa_features_flags (0: exactly OpenFold3's features, what of3_msa_features
 * gives). */
enum {
	/* profile = the true per-column letter frequencies of the main MSA, instead of OpenFold3's
	 * scrambled ones (its calculate_profile labels a block's counts by the wrong columns;
	 * docs/DEVIATIONS.md). Only for experiments: the released weights were trained on the
	 * scrambled profile. Query-only MSAs give the same profile either way. */
	OF3_MSA_F_TRUE_PROFILE = 1u << 0,
};

/* of3_msa_features with flags (OF3_MSA_F_*). */
int of3_msa_features_flags(const of3_tokens_t *t, unsigned flags, of3_bundle_t *out) OF3_WUR;

#endif
