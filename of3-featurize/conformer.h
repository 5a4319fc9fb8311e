/* conformer.h: 3D conformers for SMILES ligands by distance geometry (issue #6; spec/data.md
 * §5 has OpenFold3 use RDKit's ETKDG for this, which we do not link).
 *
 * The molecule is embedded with its hydrogens made explicit: distance bounds from ideal bond
 * lengths (element pair, order, hybridisation), bond angles (hybridisation, ring size) and 1-4
 * ranges (cis/trans for stereo double bonds, planar rings), triangle smoothing, random distances
 * within the bounds, a metric-matrix embedding in four dimensions, then an L-BFGS refinement of
 * a bounds error with chirality, planarity and fourth-dimension terms, first in 4D and then in
 * 3D. An attempt whose stereocentres, stereo double bonds or planar centres come out wrong is
 * repeated with new random distances. Hydrogens are dropped from the result. docs/DEVIATIONS.md
 * compares the conformers with RDKit's. Metals bonded to anything and atoms with more than four
 * neighbours are refused. */
#ifndef OF3_CONFORMER_H
#define OF3_CONFORMER_H

#include <stdint.h>

#include "../common/error.h"
#include "../common/rng.h"
#include "tokens.h"

typedef struct {
	int z;           /* atomic number */
	int charge;      /* formal charge */
	int n_hydrogens; /* attached hydrogens, not atoms of their own */
	int parity;      /* 0, or +1 / -1: the sign (n0-x).((n1-x)x(n2-x)) must have, n0 < n1 < n2
	                  * the three lowest-indexed neighbours, a hydrogen counting as last */
} of3_conf_atom_t;

typedef struct {
	int a, b;     /* atom indices */
	int order;    /* 1, 2, 3 (Kekulé) */
	int aromatic; /* in an aromatic system */
} of3_conf_bond_t;

typedef struct {
	int a, b;         /* the double bond */
	int ref_a, ref_b; /* a neighbour of a and one of b */
	int cis;          /* 1: ref_a and ref_b cis, 0: trans */
} of3_conf_stereo_t;

typedef struct {
	int n_atoms, n_bonds, n_stereo;
	of3_conf_atom_t *atoms;    /* [n_atoms] heavy atoms */
	of3_conf_bond_t *bonds;    /* [n_bonds] */
	of3_conf_stereo_t *stereo; /* [n_stereo] */
} of3_conf_mol_t;

/* Fills *mol with chain c's atoms (atom i of the molecule is atom chains[c].first_atom + i)
 * from the assembly's atom_bonds, atom_n_hydrogens, atom_chirality and bond_stereo (the last
 * three are written by of3-parse for SMILES ligands). An assembly without them, or a bond type
 * the embedder cannot use (coordination), is OF3_ERR_INPUT. Free with of3_conf_mol_free. */
int of3_conf_mol_from_tokens(const of3_tokens_t *t, int c, of3_conf_mol_t *mol) OF3_WUR;
void of3_conf_mol_free(of3_conf_mol_t *mol);

/* Embeds mol: pos [n_atoms, 3] receives heavy-atom coordinates in Å (centred on the origin).
 * Draws from rng only. A single heavy atom sits at the origin. Up to max_attempts attempts
 * (each takes new draws); when all fail their checks, OF3_ERR_INPUT saying which check failed.
 * Unsupported chemistry (a bonded metal, more than four neighbours) is OF3_ERR_INPUT.
 * *n_attempts (may be NULL) receives the attempts used. */
int of3_conformer_embed(const of3_conf_mol_t *mol, of3_rng_t *rng, int max_attempts, double *pos,
                        int *n_attempts) OF3_WUR;

#endif
