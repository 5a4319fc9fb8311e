/* metrics.h: the confidence metrics of one sample and its ranking score
 * (spec/diffusion_heads.md §5.2, §6; AlphaFold3 SI §5.7-5.9).
 *
 * Every metric is OpenFold3's definition except two, fixed on purpose (docs/DEVIATIONS.md):
 * has_clash follows AlphaFold3 (OpenFold3's is always 0), and the ranking score is AlphaFold3's
 * (0.8 ipTM + 0.2 pTM, or pTM alone for one chain, + 0.5 disorder - 100 has_clash).
 * OpenFold3's values of both are kept beside them (has_clash_of3, ranking_score_of3).
 * Computed in the writer, not in of3-diffuse, because disorder needs the atom tables (residue
 * and atom names) that only the writer reads, and because the diffuse bundle then carries what
 * the network computed and nothing derived from it. */
#ifndef OF3_WC_METRICS_H
#define OF3_WC_METRICS_H

#include "query.h"

typedef struct {
	int n_atom, n_token, n_chain, n_pair;
	float *plddt;        /* [N_atom], 0-100 */
	float *pde, *pae;    /* [N_token, N_token], Å */
	float *contact_prob; /* [N_token, N_token]: P(distance < 8 Å) from the distogram */
	uint8_t *has_frame;  /* [N_token] */
	double avg_plddt, gpde, ptm, iptm, disorder;
	int has_clash;            /* AlphaFold3's definition */
	int has_clash_of3;        /* OpenFold3 as shipped: always 0 */
	double ranking_score;     /* AlphaFold3's */
	double ranking_score_of3; /* OpenFold3's: 0.8 ipTM + 0.2 pTM + 0.5 disorder + 100 clash */
	double *chain_ptm;        /* [n_chain], chains in q->chain_asym order */
	int *pair_c1, *pair_c2;   /* [n_pair]: chain indices, c1 < c2, row-major */
	double *chain_pair_iptm;  /* [n_pair] */
	double *bespoke_iptm;     /* [n_pair] */
} of3_wc_metrics_t;

/* Computes every metric of sample i_sample (0-based) of q into m (allocated here; free with
 * of3_wc_metrics_free, also after a failure). Returns OF3_OK or OF3_ERR_NOMEM. */
int of3_wc_metrics_compute(of3_wc_metrics_t *m, const of3_wc_query_t *q, int i_sample) OF3_WUR;
void of3_wc_metrics_free(of3_wc_metrics_t *m);

/* Token i's representative atom (CB, CA, C4, C2 or its own atom; §5.2) as a global atom index,
 * and whether it is valid (*valid 0: the reference uses atom 0 with mask 0). */
int of3_wc_rep_atom(const of3_wc_query_t *q, int i, int *valid);

/* Fraction of protein residues whose smoothed relative SASA exceeds 0.581 (§6.9), from sample
 * coordinates x [N_atom, 3]; 0 without protein; NaN when no residue could be scored. Returns
 * OF3_OK or OF3_ERR_NOMEM. */
int of3_wc_disorder(const of3_wc_query_t *q, const float *x, double *out) OF3_WUR;

#endif
