/* writer.h: every output file of one query (spec/data.md §8, issue #9).
 *
 * OpenFold3 layout (default), under DIR/<query>/:
 *   seed_<S>/<query>_seed_<S>_sample_<k>_model.cif            k = 1..N_sample
 *   seed_<S>/<query>_seed_<S>_sample_<k>_model.pdb            with pdb
 *   seed_<S>/<query>_seed_<S>_sample_<k>_confidences.json      plddt [N_atom], pae, pde
 *                                                               [N_token][N_token]
 *   seed_<S>/<query>_seed_<S>_sample_<k>_confidences_aggregated.json
 *   ranking.csv        every sample of every seed written so far, best first
 * AlphaFold3 layout, under DIR/<query>/:
 *   seed-<S>_sample-<k>/model.cif (and model.pdb), confidences.json,
 *   summary_confidences.json   k = 0..
 *   ranking_scores.csv, and the best sample so far as <query>_model.cif (.pdb),
 *   <query>_confidences.json, <query>_summary_confidences.json
 * Every file is written under a temporary name and renamed (common/outfile.h). */
#ifndef OF3_WC_WRITER_H
#define OF3_WC_WRITER_H

#include "query.h"

typedef enum { OF3_LAYOUT_OPENFOLD3, OF3_LAYOUT_ALPHAFOLD3 } of3_wc_layout_t;

typedef struct {
	of3_wc_layout_t layout;
	int pdb; /* also a .pdb file beside each .cif (pdb.h) */
} of3_wc_opts_t;

/* Computes the metrics of every sample of q and writes its files under dir (created if
 * missing). Returns OF3_OK, OF3_ERR_INPUT (with pdb, a query the PDB format cannot hold:
 * nothing is written), OF3_ERR_SYS (a directory or file cannot be written: the message names
 * it) or OF3_ERR_NOMEM. *best_score (may be NULL) gets the best ranking score. */
int of3_wc_write(const of3_wc_query_t *q, const char *dir, const of3_wc_opts_t *opts,
                 double *best_score) OF3_WUR;

#endif
