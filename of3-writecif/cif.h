/* cif.h: one sample as an mmCIF text (spec/data.md §8.2): entity, entity_poly,
 * entity_poly_seq, struct_asym, chem_comp, chem_comp_bond (every residue's own bonds),
 * pdbx_nonpoly_scheme (the ligand residues, for OpenStructure as OpenFold3 writes it), the
 * atom_site loop with per-atom pLDDT in B_iso_or_equiv, struct_conn for bonds between residues
 * that are not plain backbone links (ligand-polymer, ligand-ligand, modified residues,
 * disulfides; metal coordination as metalc), and the ModelCIF global pLDDT (ma_qa_metric). */
#ifndef OF3_WC_CIF_H
#define OF3_WC_CIF_H

#include "query.h"
#include "sbuf.h"

/* Appends sample i_sample of q to out: coordinates x [N_atom, 3] (Å, 3 decimals), plddt
 * [N_atom] (0-100) and its mean. Returns OF3_OK or OF3_ERR_NOMEM. */
int of3_wc_cif(of3_sbuf_t *out, const of3_wc_query_t *q, const float *x, const float *plddt,
               double avg_plddt) OF3_WUR;

#endif
