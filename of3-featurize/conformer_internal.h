/* conformer_internal.h: the working molecule of the conformer generator (hydrogens explicit,
 * indices after the heavy atoms) and its distance bounds. Private to conformer*.c. */
#ifndef OF3_CONFORMER_INTERNAL_H
#define OF3_CONFORMER_INTERNAL_H

#include "conformer.h"

#define CW_MAX_DEG   4   /* neighbours per atom, hydrogens included */
#define CW_MAX_HEAVY 300 /* bounds and smoothing are O(n^2) memory and O(n^3) time */

typedef struct {
	int c, n[3];  /* centre and its three lowest-indexed neighbours */
	double sign;  /* +1 / -1: required sign of the volume; 0: planar (volume 0) */
	double v_min; /* |volume| the chirality term asks for */
} cw_vol_t;

typedef struct {
	int n, n_heavy;
	int *z, *charge, *hyb, *deg; /* [n]; hyb 1 sp, 2 sp2, 3 sp3 */
	int *nbr;                    /* [n, CW_MAX_DEG], ascending */
	signed char *border, *barom; /* [n, CW_MAX_DEG] bond order, aromatic flag */
	unsigned char *topo;         /* [n, n] bonds between, capped at 4 */
	double *lo, *hi;             /* [n, n] distance bounds, Å */
	int n_chiral, n_planar, n_dbl;
	cw_vol_t *chiral; /* stereocentres */
	cw_vol_t *planar; /* sp2 centres with three neighbours: volume 0 */
	int *dbl;         /* [n_dbl, 4]: i-b=c-j, kept coplanar */
	int n_lin;
	int *lin;      /* [n_lin, 2]: the two neighbours of a linear (sp) centre */
	double *lin_d; /* [n_lin]: their distance when the angle is 180°, Å */
} cw_t;

int cw_build(cw_t *w, const of3_conf_mol_t *m) OF3_WUR; /* molecule, bounds, not smoothed */
void cw_smooth(cw_t *w);
void cw_free(cw_t *w);
int cw_bond(const cw_t *w, int a, int b, int *arom); /* order, 0 when not bonded */
double cw_bond_length(const cw_t *w, int a, int b);  /* ideal, Å */
int cw_path(const cw_t *w, int a, int b, int x, int y, int max_len, int *path);

#endif
