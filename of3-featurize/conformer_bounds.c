/* conformer_bounds.c: the distance bounds a SMILES conformer is embedded in (issue #6): the
 * molecule with explicit hydrogens, hybridisation, ideal bond lengths and angles, 1-4 ranges
 * and non-bonded lower bounds, then triangle smoothing. The numbers are typical MMFF94
 * geometries (bond lengths by element pair, order and hybridisation; angles by hybridisation
 * and ring size), chosen to land within 0.05 Å and 5° of RDKit's MMFF-optimised conformers
 * (docs/PARITY.md has the measured rates). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conformer_internal.h"

#define PI  3.14159265358979323846
#define DEG (PI / 180.0)

static int is_metal(int z)
{
	return (z >= 3 && z <= 4) || (z >= 11 && z <= 13) || (z >= 19 && z <= 32) ||
	       (z >= 37 && z <= 51) || (z >= 55 && z <= 84) || z >= 87;
}

void cw_free(cw_t *w)
{
	free(w->z), free(w->charge), free(w->hyb), free(w->deg), free(w->nbr);
	free(w->border), free(w->barom), free(w->topo), free(w->lo), free(w->hi);
	free(w->chiral), free(w->planar), free(w->dbl), free(w->lin), free(w->lin_d);
	memset(w, 0, sizeof *w);
}

static int add_edge(cw_t *w, int a, int b, int order, int arom)
{
	if (w->deg[a] >= CW_MAX_DEG || w->deg[b] >= CW_MAX_DEG)
		return of3_err(OF3_ERR_INPUT,
		               "SMILES atom %d has more than %d neighbours (hydrogens included): "
		               "the conformer generator handles at most 4",
		               (w->deg[a] >= CW_MAX_DEG ? a : b) + 1, CW_MAX_DEG);
	int k = a * CW_MAX_DEG + w->deg[a]++;
	w->nbr[k] = b, w->border[k] = (signed char)order, w->barom[k] = (signed char)arom;
	k = b * CW_MAX_DEG + w->deg[b]++;
	w->nbr[k] = a, w->border[k] = (signed char)order, w->barom[k] = (signed char)arom;
	return OF3_OK;
}

int cw_bond(const cw_t *w, int a, int b, int *arom)
{
	for (int k = 0; k < w->deg[a]; k++)
		if (w->nbr[a * CW_MAX_DEG + k] == b) {
			if (arom)
				*arom = w->barom[a * CW_MAX_DEG + k];
			return w->border[a * CW_MAX_DEG + k];
		}
	return 0;
}

/* Hybridisation: 1 sp, 2 sp2 (planar), 3 sp3. Lone-pair donors next to an sp2 centre (amide
 * and aniline N, ester and phenol O) are planar, as RDKit's conjugation makes them. */
static void hybridise(cw_t *w)
{
	for (int i = 0; i < w->n; i++) {
		int n2 = 0, n3 = 0, na = 0;
		for (int k = 0; k < w->deg[i]; k++) {
			int o = w->border[i * CW_MAX_DEG + k];
			na += w->barom[i * CW_MAX_DEG + k];
			n2 += o == 2, n3 += o == 3;
		}
		int z = w->z[i];
		w->hyb[i] = 3;
		if (z == 1)
			continue;
		if (z == 15 || z == 16 || z == 34) { /* P, S, Se: tetrahedral unless aromatic */
			if (na || (w->deg[i] <= 2 && (n2 || n3)))
				w->hyb[i] = 2;
			if (w->deg[i] == 2 && n2 == 2)
				w->hyb[i] = 1;
			continue;
		}
		if (n3 || (n2 >= 2 && w->deg[i] == 2))
			w->hyb[i] = 1;
		else if (n2 || na || (z == 5 && w->deg[i] <= 3))
			w->hyb[i] = 2;
	}
	for (int i = 0; i < w->n; i++) {
		int z = w->z[i];
		if (w->hyb[i] != 3 || (z != 7 && z != 8) || w->deg[i] > 3)
			continue;
		for (int k = 0; k < w->deg[i]; k++) {
			int j = w->nbr[i * CW_MAX_DEG + k];
			if (w->z[j] != 1 && w->hyb[j] <= 2 && w->z[j] != 16 && w->z[j] != 15)
				w->hyb[i] = 2;
		}
	}
}

/* Single-bond covalent radius by element and hybridisation. */
static double radius(int z, int hyb)
{
	switch (z) {
	case 1: return 0.325;
	case 5: return 0.82;
	case 6: return hyb == 3 ? 0.765 : hyb == 2 ? 0.75 : 0.695;
	case 7: return hyb == 3 ? 0.715 : hyb == 2 ? 0.685 : 0.65;
	case 8: return hyb == 3 ? 0.66 : 0.655;
	case 9: return 0.61;
	case 14: return 1.11;
	case 15: return 1.09;
	case 16: return 1.05;
	case 17: return 1.01;
	case 34: return 1.17;
	case 35: return 1.165;
	case 53: return 1.37;
	default: return 1.2;
	}
}

static int pair_is(int za, int zb, int x, int y)
{
	return (za == x && zb == y) || (za == y && zb == x);
}

/* A terminal atom with charge -1 next to an atom that has a terminal double-bonded O or S:
 * carboxylate, phosphate, sulfonate, nitro. */
static int resonant(const cw_t *w, int x, int term)
{
	if (w->deg[term] != 1 || (w->z[term] != 8 && w->z[term] != 16))
		return 0;
	for (int k = 0; k < w->deg[x]; k++) {
		int j = w->nbr[x * CW_MAX_DEG + k];
		if (j != term && w->deg[j] == 1 && (w->z[j] == 8 || w->z[j] == 16) &&
		    (w->charge[j] < 0 || w->charge[term] < 0) &&
		    w->border[x * CW_MAX_DEG + k] + cw_bond(w, x, term, NULL) == 3)
			return 1;
	}
	return 0;
}

static double single_len(const cw_t *w, int a, int b)
{
	int za = w->z[a], zb = w->z[b];
	int tetra = w->deg[za == 15 || za == 16 ? a : b] == 4;
	if (pair_is(za, zb, 15, 8))
		return 1.60;
	if (pair_is(za, zb, 15, 7))
		return 1.68;
	if (pair_is(za, zb, 16, 8))
		return tetra ? 1.58 : 1.66;
	if (pair_is(za, zb, 16, 7))
		return tetra ? 1.65 : 1.70;
	double r = radius(za, w->hyb[a]) + radius(zb, w->hyb[b]);
	if ((za == 7 && w->charge[a] > 0 && w->deg[a] == 4) ||
	    (zb == 7 && w->charge[b] > 0 && w->deg[b] == 4))
		r += 0.03; /* ammonium */
	if (za == 6 && zb == 6 && w->hyb[a] <= 2 && w->hyb[b] <= 2)
		r -= 0.03; /* conjugated C-C */
	/* conjugation between planar centres shortens C-N and C-O bonds */
	if (w->hyb[a] <= 2 && w->hyb[b] <= 2 && za != 1 && zb != 1 &&
	    (za == 7 || za == 8) != (zb == 7 || zb == 8))
		r -= 0.04;
	return r;
}

static double double_len(int za, int zb)
{
	if (pair_is(za, zb, 6, 6))
		return 1.34;
	if (pair_is(za, zb, 6, 7))
		return 1.28;
	if (pair_is(za, zb, 6, 8))
		return 1.22;
	if (pair_is(za, zb, 7, 7))
		return 1.25;
	if (pair_is(za, zb, 7, 8))
		return 1.22;
	if (pair_is(za, zb, 6, 16))
		return 1.67;
	if (pair_is(za, zb, 16, 8))
		return 1.45;
	if (pair_is(za, zb, 15, 8))
		return 1.49;
	if (pair_is(za, zb, 16, 7))
		return 1.52;
	return radius(za, 2) + radius(zb, 2) - 0.18;
}

double cw_bond_length(const cw_t *w, int a, int b)
{
	int arom = 0, order = cw_bond(w, a, b, &arom);
	int za = w->z[a], zb = w->z[b];
	if (arom) {
		if (pair_is(za, zb, 6, 6))
			return 1.39;
		if (pair_is(za, zb, 6, 7)) {
			int n = za == 7 ? a : b;
			return w->deg[n] == 3 ? 1.37 : 1.34;
		}
		if (pair_is(za, zb, 7, 7))
			return 1.35;
		if (pair_is(za, zb, 6, 8))
			return 1.36;
		if (pair_is(za, zb, 6, 16))
			return 1.72;
		if (pair_is(za, zb, 7, 8))
			return 1.39;
		if (pair_is(za, zb, 7, 16))
			return 1.65;
		return single_len(w, a, b) - 0.06;
	}
	if (order == 1 && (resonant(w, a, b) || resonant(w, b, a))) {
		int x = resonant(w, a, b) ? a : b;
		if (w->z[x] == 16)
			return 1.47;
		if (w->z[x] == 15)
			return 1.52;
		return 0.5 * (single_len(w, a, b) + double_len(za, zb));
	}
	if (order == 2) {
		int t = w->deg[a] == 1 ? a : w->deg[b] == 1 ? b : -1;
		if (t >= 0 && w->charge[t] == 0 && resonant(w, t == a ? b : a, t) == 0) {
			/* the double bond partner of a resonant single bond shares its length */
			int x = t == a ? b : a;
			for (int k = 0; k < w->deg[x]; k++) {
				int j = w->nbr[x * CW_MAX_DEG + k];
				if (j != t && resonant(w, x, j))
					return cw_bond_length(w, x, j);
			}
		}
		return double_len(za, zb);
	}
	if (order == 3) {
		if (pair_is(za, zb, 6, 6))
			return 1.20;
		if (pair_is(za, zb, 6, 7))
			return 1.16;
		return radius(za, 1) + radius(zb, 1) - 0.3;
	}
	return single_len(w, a, b);
}

/* Shortest path from a to b that avoids atoms x and y, at most max_len bonds: its length, or 0
 * (path atoms in path[0..len] when path is given). */
int cw_path(const cw_t *w, int a, int b, int x, int y, int max_len, int *path)
{
	int q[64], prev[64], dist[64], n = 0, head = 0;
	q[n] = a, prev[n] = -1, dist[n++] = 0;
	while (head < n) {
		int u = q[head], du = dist[head];
		head++;
		if (du >= max_len)
			continue;
		for (int k = 0; k < w->deg[u]; k++) {
			int v = w->nbr[u * CW_MAX_DEG + k];
			if (v == x || v == y)
				continue;
			int seen = 0;
			for (int s = 0; s < n && !seen; s++)
				seen = q[s] == v;
			if (seen)
				continue;
			if (n == 64)
				return 0;
			q[n] = v, prev[n] = head - 1, dist[n] = du + 1;
			if (v == b) {
				if (path)
					for (int s = n, d = du + 1; s >= 0; s = prev[s], d--)
						path[d] = q[s];
				return du + 1;
			}
			n++;
		}
	}
	return 0;
}

/* Whether x is c's double-bond partner, or the resonance twin of one (carboxylate O-). */
static int partner(const cw_t *w, int c, int x)
{
	int arom = 0;
	return (cw_bond(w, c, x, &arom) == 2 && !arom) || resonant(w, c, x);
}

/* Angle a-c-b at a planar centre with three neighbours, as MMFF94 puts them: a double-bond
 * partner P opens its angles, more towards carbon when the third neighbour is an O or N
 * (acids, esters, amides); carboxylate and nitro O-X-O open to about 129 and 124. */
static double sp2_angle(const cw_t *w, int a, int c, int b)
{
	int third = -1;
	for (int k = 0; k < w->deg[c]; k++) {
		int j = w->nbr[c * CW_MAX_DEG + k];
		if (j != a && j != b)
			third = j;
	}
	int pa = partner(w, c, a), pb = partner(w, c, b), pt = third >= 0 && partner(w, c, third);
	if (pa && pb)
		return w->z[c] == 7 ? 124 : 129;
	if (!pa && !pb) {
		if (!pt)
			return 120;
		return 360 - sp2_angle(w, third, c, a) - sp2_angle(w, third, c, b);
	}
	int x = pa ? b : a, zt = third >= 0 ? w->z[third] : 0;
	if (third >= 0 && pt) /* X between two partners: carboxylate, nitro */
		return (360 - (w->z[c] == 7 ? 124 : 129)) / 2;
	if (w->z[x] == 1)
		return 121;
	if (zt == 1)
		return 124.5;
	if (zt == 8)
		return w->z[x] == 6 ? 125.5 : 122;
	if (zt == 7)
		return w->z[x] == 6 ? 122.5 : 123;
	return w->z[x] == 7 ? 123 : 121;
}

/* Ideal angle a-c-b in degrees, before sp2 centres are made to sum to 360. fixed: a ring
 * angle that the sum does not change. */
static double ideal_angle(const cw_t *w, int a, int c, int b, int *fixed)
{
	int path[8];
	int len = cw_path(w, a, b, c, -1, 4, path);
	int rs = len ? len + 2 : 0, hyb = w->hyb[c], zc = w->z[c];
	*fixed = rs >= 3 && rs <= 6;
	if (hyb == 1)
		return 180;
	if (rs == 3)
		return 60;
	if (rs == 4)
		return 90;
	if (rs == 5) {
		int has_s = 0;
		for (int k = 0; k <= len; k++)
			has_s |= w->z[path[k]] == 16 || w->z[path[k]] == 34;
		if (zc == 16 || zc == 34)
			return hyb == 2 ? 91 : 94;
		if (zc == 8 && hyb == 3)
			return 107;
		if (zc == 6 && hyb == 3 && (w->z[a] == 8 || w->z[b] == 8))
			return 106;
		if (zc == 7 && hyb == 2 && w->deg[c] == 3 && !w->barom[c * CW_MAX_DEG])
			return 112; /* lactam and other non-aromatic planar N */
		if (has_s)
			return 112;
		if (zc == 7 && hyb == 2) /* imidazole-type N: 104.5; pyrrole-type NH: 110 */
			return w->deg[c] == 2 ? 104.5 : 110;
		return hyb == 2 ? 108 : 104;
	}
	if (rs == 6)
		return hyb == 2   ? (zc == 7 && w->deg[c] == 2 ? 117 : 120)
		       : zc == 8  ? 111
		       : zc == 16 ? 97
		                  : 110.5;
	if (hyb == 2) {
		if (zc == 8) /* conjugated ether, ester, phenol and acid O */
			return w->z[a] == 1 || w->z[b] == 1 ? 107 : 116;
		if (zc == 7 && w->deg[c] == 2)
			return 117;
		if (w->deg[c] == 3)
			return sp2_angle(w, a, c, b);
		return 120;
	}
	/* S and P: terminal (=O, O-) pairs open up, the rest close */
	int ta = w->deg[a] == 1 && w->z[a] != 1, tb = w->deg[b] == 1 && w->z[b] != 1;
	if (zc == 16 || zc == 34) {
		if (w->deg[c] == 2)
			return 100;
		if (w->deg[c] == 3)
			return ta || tb ? 106 : 97;
		return ta && tb ? 121 : ta || tb ? 107 : 104;
	}
	if (zc == 15)
		return ta && tb ? 119 : ta || tb ? 114 : 102;
	for (int k = 0; k < w->deg[c]; k++) {
		int j = w->nbr[c * CW_MAX_DEG + k];
		for (int l = k + 1; l < w->deg[c]; l++) {
			int r = cw_path(w, j, w->nbr[c * CW_MAX_DEG + l], c, -1, 2, NULL);
			if (r == 1)
				return 117;
			if (r == 2)
				return 113;
		}
	}
	if (zc == 8)
		return w->z[a] == 1 || w->z[b] == 1 ? 107 : 111;
	if (zc == 7)
		return w->z[a] == 1 || w->z[b] == 1 ? 109 : 111;
	if (zc == 6 && w->z[a] != 1 && w->z[b] != 1) { /* heavy-C-heavy opens with hydrogens */
		int nh = 0, cc = w->z[a] == 6 && w->z[b] == 6, o = w->z[a] == 8 || w->z[b] == 8;
		for (int k = 0; k < w->deg[c]; k++)
			nh += w->z[w->nbr[c * CW_MAX_DEG + k]] == 1;
		if (w->z[a] == 9 && w->z[b] == 9)
			return 106.5;
		if (nh == 2)
			return cc ? 113 : 110.5;
		if (nh == 1)
			return cc ? 112 : o ? 110 : 111.5;
		return cc ? 110.5 : o ? 108 : 109.5;
	}
	return 109.5;
}

static void set_bounds(cw_t *w, int i, int j, double lo, double hi)
{
	size_t n = (size_t)w->n;
	if (lo > w->lo[i * n + j])
		w->lo[i * n + j] = w->lo[j * n + i] = lo;
	if (hi < w->hi[i * n + j])
		w->hi[i * n + j] = w->hi[j * n + i] = hi;
}

/* d(a, d) for a-b-c-d with bonds r1, r2, r3, angles t1 (a-b-c), t2 (b-c-d) and torsion phi. */
static double dist14(double r1, double r2, double r3, double t1, double t2, double phi)
{
	double ax = r1 * cos(t1), ay = r1 * sin(t1);
	double dx = r2 - r3 * cos(t2), dy = r3 * sin(t2) * cos(phi), dz = r3 * sin(t2) * sin(phi);
	return sqrt((dx - ax) * (dx - ax) + (dy - ay) * (dy - ay) + dz * dz);
}

static double angle_from(double r1, double r2, double d13)
{
	double c = (r1 * r1 + r2 * r2 - d13 * d13) / (2 * r1 * r2);
	return acos(c < -1 ? -1 : c > 1 ? 1 : c);
}

/* The cis (1) or trans (0) requirement stereo puts on i-b=c-j, or -1. */
static int stereo_cis(const cw_t *w, const of3_conf_mol_t *m, int i, int b, int c, int j)
{
	for (int s = 0; s < m->n_stereo; s++) {
		const of3_conf_stereo_t *st = &m->stereo[s];
		int ra, rb;
		if (st->a == b && st->b == c)
			ra = st->ref_a, rb = st->ref_b;
		else if (st->a == c && st->b == b)
			ra = st->ref_b, rb = st->ref_a;
		else
			continue;
		(void)w;
		return st->cis ^ (i != ra) ^ (j != rb);
	}
	return -1;
}

int cw_build(cw_t *w, const of3_conf_mol_t *m)
{
	int nh = m->n_atoms, n = nh;
	for (int i = 0; i < nh; i++)
		n += m->atoms[i].n_hydrogens;
	if (nh > CW_MAX_HEAVY)
		return of3_err(OF3_ERR_INPUT,
		               "the SMILES ligand has %d heavy atoms; the conformer generator "
		               "handles at most %d",
		               nh, CW_MAX_HEAVY);
	size_t nn = (size_t)n * (size_t)n;
	w->n = n, w->n_heavy = nh;
	w->z = calloc((size_t)n, sizeof *w->z);
	w->charge = calloc((size_t)n, sizeof *w->charge);
	w->hyb = calloc((size_t)n, sizeof *w->hyb);
	w->deg = calloc((size_t)n, sizeof *w->deg);
	w->nbr = calloc((size_t)n * CW_MAX_DEG, sizeof *w->nbr);
	w->border = calloc((size_t)n * CW_MAX_DEG, 1);
	w->barom = calloc((size_t)n * CW_MAX_DEG, 1);
	w->topo = calloc(nn, 1);
	w->lo = malloc(nn * sizeof *w->lo);
	w->hi = malloc(nn * sizeof *w->hi);
	w->lin = malloc(((size_t)n + 1) * 2 * sizeof *w->lin);
	w->lin_d = malloc(((size_t)n + 1) * sizeof *w->lin_d);
	if (!w->lin || !w->lin_d)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	if (!w->z || !w->charge || !w->hyb || !w->deg || !w->nbr || !w->border || !w->barom ||
	    !w->topo || !w->lo || !w->hi)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	int rc, h = nh;
	for (int i = 0; i < nh; i++) {
		w->z[i] = m->atoms[i].z;
		w->charge[i] = m->atoms[i].charge;
		for (int k = 0; k < m->atoms[i].n_hydrogens; k++) {
			w->z[h] = 1;
			if ((rc = add_edge(w, i, h++, 1, 0)) < 0)
				return rc;
		}
	}
	for (int k = 0; k < m->n_bonds; k++) {
		const of3_conf_bond_t *b = &m->bonds[k];
		if (b->a < 0 || b->b < 0 || b->a >= nh || b->b >= nh || b->a == b->b)
			return of3_err(OF3_ERR_INPUT, "SMILES bond %d: bad atom index", k + 1);
		if (is_metal(w->z[b->a]) || is_metal(w->z[b->b]))
			return of3_err(
			        OF3_ERR_INPUT,
			        "SMILES atom %d: bonded metal atoms are not supported by the "
			        "conformer generator (issue #6); give the metal as a separate "
			        "ion or the ligand as a CCD code",
			        (is_metal(w->z[b->a]) ? b->a : b->b) + 1);
		if ((rc = add_edge(w, b->a, b->b, b->order, b->aromatic)) < 0)
			return rc;
	}
	/* bonded hydrogens sit after their atom's bonds, so sort each list by index: the
	 * chirality convention is "neighbours by index, hydrogen last" and H indices are last */
	for (int i = 0; i < n; i++)
		for (int k = 1; k < w->deg[i]; k++)
			for (int l = k;
			     l > 0 && w->nbr[i * CW_MAX_DEG + l - 1] > w->nbr[i * CW_MAX_DEG + l];
			     l--) {
				int p = i * CW_MAX_DEG + l;
				int t = w->nbr[p];
				signed char o = w->border[p], a = w->barom[p];
				w->nbr[p] = w->nbr[p - 1], w->border[p] = w->border[p - 1],
				w->barom[p] = w->barom[p - 1];
				w->nbr[p - 1] = t, w->border[p - 1] = o, w->barom[p - 1] = a;
			}
	hybridise(w);
	/* topological distance, capped at 4 (4 = further or disconnected) */
	memset(w->topo, 4, nn);
	for (int i = 0; i < n; i++) {
		w->topo[(size_t)i * n + i] = 0;
		for (int k = 0; k < w->deg[i]; k++) {
			int j = w->nbr[i * CW_MAX_DEG + k];
			w->topo[(size_t)i * n + j] = 1;
			for (int l = 0; l < w->deg[j]; l++) {
				int q = w->nbr[j * CW_MAX_DEG + l];
				if (q != i && w->topo[(size_t)i * n + q] > 2)
					w->topo[(size_t)i * n + q] = 2;
				for (int r = 0; r < w->deg[q]; r++) {
					int s = w->nbr[q * CW_MAX_DEG + r];
					if (s != i && s != j && w->topo[(size_t)i * n + s] > 3)
						w->topo[(size_t)i * n + s] = 3;
				}
			}
		}
	}
	/* non-bonded defaults; connected pairs get their upper bound from smoothing */
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			int hh = (w->z[i] == 1) + (w->z[j] == 1);
			w->lo[(size_t)i * n + j] = i == j ? 0 : hh == 0 ? 2.7 : hh == 1 ? 2.2 : 1.8;
			w->hi[(size_t)i * n + j] = i == j ? 0 : 1000;
		}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			if (w->topo[(size_t)i * n + j] > 0 && w->topo[(size_t)i * n + j] < 4)
				w->lo[(size_t)i * n + j] = 0;
	/* bonds */
	double *r0 = malloc(nn * sizeof *r0); /* ideal 1-2 and 1-3 distances */
	if (!r0)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; i < n; i++)
		for (int k = 0; k < w->deg[i]; k++) {
			int j = w->nbr[i * CW_MAX_DEG + k];
			double d = cw_bond_length(w, i, j);
			r0[(size_t)i * n + j] = d;
			set_bounds(w, i, j, d - 0.01, d + 0.01);
		}
	/* angles */
	for (int c = 0; c < n; c++) {
		int dg = w->deg[c];
		if (dg < 2)
			continue;
		double ang[CW_MAX_DEG][CW_MAX_DEG];
		int fix[CW_MAX_DEG][CW_MAX_DEG];
		double sum_free, sum_fixed;
		int n_free;
	again:
		sum_free = sum_fixed = 0, n_free = 0;
		for (int k = 0; k < dg; k++)
			for (int l = k + 1; l < dg; l++) {
				ang[k][l] = ideal_angle(w, w->nbr[c * CW_MAX_DEG + k], c,
				                        w->nbr[c * CW_MAX_DEG + l], &fix[k][l]);
				if (fix[k][l])
					sum_fixed += ang[k][l];
				else
					sum_free += ang[k][l], n_free++;
			}
		/* a conjugated N that small fused rings fold (the beta-lactam N of penicillins)
		 * cannot be planar: make it pyramidal */
		if (w->hyb[c] == 2 && dg == 3 && w->z[c] == 7 &&
		    ((n_free == 1 && 360 - sum_fixed > 135) || (n_free == 0 && sum_fixed < 340))) {
			int has_double = 0;
			for (int k = 0; k < dg; k++)
				has_double |= w->border[c * CW_MAX_DEG + k] == 2 ||
				              w->barom[c * CW_MAX_DEG + k];
			if (!has_double) {
				w->hyb[c] = 3;
				goto again;
			}
		}
		double scale = 1;
		if (w->hyb[c] == 2 && dg == 3 && n_free)
			scale = (360 - sum_fixed) / sum_free;
		for (int k = 0; k < dg; k++)
			for (int l = k + 1; l < dg; l++) {
				int a = w->nbr[c * CW_MAX_DEG + k], b = w->nbr[c * CW_MAX_DEG + l];
				double t = fix[k][l] ? ang[k][l] : ang[k][l] * scale;
				double tol = w->hyb[c] == 3 && fix[k][l] ? 3 : 2.5;
				if (t > 179)
					tol = 3;
				double ra = r0[(size_t)c * n + a], rb = r0[(size_t)c * n + b];
				double t0 = (t - tol) * DEG, t1 = fmin(t + tol, 180) * DEG;
				double d0 = sqrt(ra * ra + rb * rb - 2 * ra * rb * cos(t0));
				double d1 = sqrt(ra * ra + rb * rb - 2 * ra * rb * cos(t1));
				double dm = sqrt(ra * ra + rb * rb - 2 * ra * rb * cos(t * DEG));
				if (w->topo[(size_t)a * n + b] == 2 && t > 179 && w->n_lin < w->n) {
					w->lin[2 * w->n_lin] = a, w->lin[2 * w->n_lin + 1] = b;
					w->lin_d[w->n_lin++] = ra + rb;
				}
				if (w->topo[(size_t)a * n + b] == 2) {
					set_bounds(w, a, b, d0, d1);
					r0[(size_t)a * n + b] = r0[(size_t)b * n + a] = dm;
				}
			}
	}
	/* 1-4 pairs */
	for (int i = 0; i < n; i++)
		for (int k = 0; k < w->deg[i]; k++) {
			int b = w->nbr[i * CW_MAX_DEG + k];
			for (int l = 0; l < w->deg[b]; l++) {
				int c = w->nbr[b * CW_MAX_DEG + l];
				if (c == i)
					continue;
				for (int q = 0; q < w->deg[c]; q++) {
					int j = w->nbr[c * CW_MAX_DEG + q];
					if (j <= i || j == b || w->topo[(size_t)i * n + j] != 3)
						continue;
					double r1 = r0[(size_t)i * n + b],
					       r2 = r0[(size_t)b * n + c],
					       r3 = r0[(size_t)c * n + j];
					double t1 = angle_from(r1, r2, r0[(size_t)i * n + c]);
					double t2 = angle_from(r2, r3, r0[(size_t)b * n + j]);
					double dc = dist14(r1, r2, r3, t1, t2, 0);
					double dt = dist14(r1, r2, r3, t1, t2, PI);
					int arom = 0, order = cw_bond(w, b, c, &arom);
					int ring = cw_path(w, i, j, b, c, 4, NULL);
					int rs = ring ? ring + 3 : 0;
					int cis = -1;
					if (order == 2 && !arom)
						cis = rs && rs < 8 ? 1
						                   : stereo_cis(w, m, i, b, c, j);
					if (cis == 1)
						set_bounds(w, i, j, dc - 0.04, dc + 0.04);
					else if (cis == 0)
						set_bounds(w, i, j, dt - 0.04, dt + 0.04);
					else if (rs && rs <= 6 && w->hyb[b] == 2 && w->hyb[c] == 2)
						set_bounds(w, i, j, dc - 0.03, dc + 0.03);
					else if (rs && rs <= 7)
						set_bounds(w, i, j, dc - 0.04,
						           dist14(r1, r2, r3, t1, t2,
						                  (rs <= 5   ? 50
						                   : rs == 6 ? 68
						                             : 95) *
						                          DEG));
					else
						set_bounds(w, i, j, dc - 0.04, dt + 0.04);
				}
			}
		}
	free(r0);
	/* disconnected fragments: keep them a few Å apart */
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			if (i != j && w->hi[(size_t)i * n + j] >= 1000)
				w->hi[(size_t)i * n + j] = 999;
	return OF3_OK;
}

/* Floyd-Warshall triangle smoothing of the bounds; pairs left inconsistent (lower above
 * upper) get lower = upper. Disconnected pairs (upper 999) end up at most a few Å beyond the
 * molecules' extent. */
void cw_smooth(cw_t *w)
{
	size_t n = (size_t)w->n;
	double *lo = w->lo, *hi = w->hi;
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < n; i++) {
			double uik = hi[i * n + k], lik = lo[i * n + k];
			for (size_t j = i + 1; j < n; j++) {
				double u = uik + hi[k * n + j];
				if (u < hi[i * n + j])
					hi[i * n + j] = hi[j * n + i] = u;
				double l = fmax(lik - hi[k * n + j], lo[k * n + j] - uik);
				if (l > lo[i * n + j])
					lo[i * n + j] = lo[j * n + i] = l;
			}
		}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			if (hi[i * n + j] >= 999 && i != j)
				hi[i * n + j] = lo[i * n + j] + 6;
			if (lo[i * n + j] > hi[i * n + j])
				lo[i * n + j] = hi[i * n + j];
		}
}
