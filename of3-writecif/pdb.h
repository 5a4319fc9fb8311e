/* pdb.h: one sample as a PDB file (wwPDB format v3.3 columns), what --pdb writes beside each
 * mmCIF file: ATOM/HETATM records with per-atom pLDDT in the B-factor column, TER after each
 * polymer chain, CONECT for the ligands' bonds and the bonds between residues that struct_conn
 * lists, END.
 *
 * The format's fixed columns bound what it can hold; where OpenFold3 (through biotite) wraps or
 * fails, this writer does what readers expect:
 *   residue names longer than 3 characters (SMILES ligands' "LIG0") are cut to 3, as OpenFold3
 *   does (a reader that looks the cut name up in the CCD may find another component, "LIG":
 *   the CONECT records hold the true bonds); atom serials past 99999 and residue numbers past 9999
 * are hybrid-36 ("A0000"), which gemmi and biotite read; a chain id of more than one character, an
 * atom name of more than 4, an element of more than 2 or a coordinate outside -999.999..9999.999
 * cannot be written, and of3_wc_pdb_check() says so before any file of the query is written. */
#ifndef OF3_WC_PDB_H
#define OF3_WC_PDB_H

#include "query.h"
#include "sbuf.h"

/* OF3_OK when every sample of q fits the PDB format, else OF3_ERR_INPUT naming the atom, chain or
 * coordinate that does not. */
int of3_wc_pdb_check(const of3_wc_query_t *q) OF3_WUR;

/* Appends sample x [N_atom, 3] with plddt [N_atom] to out; q must have passed
 * of3_wc_pdb_check(). Returns OF3_OK or OF3_ERR_NOMEM. */
int of3_wc_pdb(of3_sbuf_t *out, const of3_wc_query_t *q, const float *x,
               const float *plddt) OF3_WUR;

/* Writes v in `width` columns as hybrid-36 into buf (width + 1 bytes): decimal while it fits,
 * then upper-case then lower-case base 36. Returns 0, or -1 when v is out of its range. */
int of3_wc_hy36(char *buf, int width, long v);

#endif
