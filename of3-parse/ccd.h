/* ccd.h: the wwPDB Chemical Component Dictionary, as OpenFold3 reads it (spec/data.md §2.3).
 *
 * Per component: its type (chem_comp.type, upper case) and its heavy atoms in CCD row order
 * (hydrogen and deuterium dropped, as OpenFold3 drops them before anything else) with element,
 * formal charge, leaving-atom flag and coordinates, plus the bonds among those atoms.
 *
 * Two sources: the dictionary shipped with of3 (a compact bundle made by tools/ccd/ from the
 * CCD that biotite 1.2.0 bundles, the one the reference used), or a user's components.cif
 * (mmCIF text, read by our own parser; only the blocks asked for are parsed). */
#ifndef OF3_CCD_H
#define OF3_CCD_H

#include "../common/error.h"

enum { OF3_CCD_COORDS_IDEAL, OF3_CCD_COORDS_MODEL, OF3_CCD_COORDS_NONE };

typedef struct {
	char name[5];    /* atom_id, at most 4 characters */
	char element[3]; /* type_symbol, upper case ("C", "CL") */
	int charge;      /* formal charge */
	int leaving;     /* pdbx_leaving_atom_flag is "Y" */
	double xyz[3];   /* Å: ideal coordinates; the model ones when any ideal one is missing
	                    (biotite's rule, judged over all atoms, hydrogens included); zero
	                    when both are missing */
} of3_ccd_atom_t;

typedef struct {
	int a, b;     /* atom indices within the component, a < b */
	int order;    /* value_order: 1 SING, 2 DOUB, 3 TRIP, 4 QUAD */
	int aromatic; /* pdbx_aromatic_flag is "Y" */
} of3_ccd_bond_t;

typedef struct {
	char id[6];    /* the code, at most 5 characters */
	char type[64]; /* chem_comp.type, upper case, e.g. "L-PEPTIDE LINKING", "NON-POLYMER";
	                  "" when the file gives none */
	int coords;    /* OF3_CCD_COORDS_*; NONE also for a component without atoms (UNL) */
	int n_atoms;
	const of3_ccd_atom_t *atoms;
	int n_bonds;
	const of3_ccd_bond_t *bonds;
} of3_ccd_comp_t;

typedef struct of3_ccd_t of3_ccd_t;

/* Opens the dictionary: path NULL means the shipped one (found as $OF3_CCD, else
 * <executable's directory>/../share/of3/ccd.bundle); a path is a components.cif file (or a CCD
 * bundle: a file that starts with a msgpack map is read as one). A missing or malformed file is
 * OF3_ERR_INPUT naming the file and line or byte; a missing shipped dictionary at the default
 * place is OF3_ERR_RUNTIME ("... run make ..."). A components.cif is mmap'ed, its data_ blocks
 * are indexed on the first lookup (so syntax errors outside any one block, such as text before
 * the first data_ line, surface there) and only the blocks looked up are parsed. */
int of3_ccd_open(of3_ccd_t **ccd, const char *path) OF3_WUR;
void of3_ccd_close(of3_ccd_t *ccd);

/* Looks a component up by code (case-sensitive, as in the CCD). OF3_ERR_INPUT "unknown CCD code
 * 'XYZ'" when absent. The component lives until of3_ccd_close(); a second lookup of the same
 * code returns the same pointer. With a components.cif, a malformed block is OF3_ERR_INPUT
 * "<file>:<line>: ...". */
int of3_ccd_get(of3_ccd_t *ccd, const char *code, const of3_ccd_comp_t **out) OF3_WUR;

/* Where the dictionary came from, for the assembly bundle's meta ("biotite 1.2.0 CCD, ..."). */
const char *of3_ccd_source(const of3_ccd_t *ccd);

#endif
