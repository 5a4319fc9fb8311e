/* smiles_aromatic.c: RDKit's default aromaticity model (setAromaticity with
 * AROMATICITY_RDKIT), which decides which bonds biotite's from_mol records as aromatic
 * (AROMATIC_SINGLE/AROMATIC_DOUBLE) whatever the SMILES wrote: a Kekulé-written benzene ring is
 * aromatic, a written-aromatic ring RDKit does not accept as aromatic is not. Each ring atom
 * gets an electron-donor type from its valence, charge, lone pairs and exocyclic multiple bonds;
 * a ring, or a fused combination of up to six rings that share single bonds, whose donor
 * electrons can make 4n+2 is aromatic, and its outer bonds (and their atoms) are marked.
 * Runs on the kekulized molecule with RDKit's valence caches, as sanitization does. */
#include <stdlib.h>
#include <string.h>

#include "smiles_internal.h"

#define MAX_FUSED_RING_SIZE 24 /* larger rings take no part in fused systems */
#define MAX_FUSED_RINGS     6  /* combinations of at most this many rings are tried */

enum { VACANT, ONE, TWO, ONE_OR_TWO, ANY, NONE }; /* electron donor types */

static int degree(const sm_mol_t *m, int atom)
{
	return m->adj_start[atom + 1] - m->adj_start[atom];
}

static int more_electronegative(int z1, int z2)
{
	int n1 = sm_n_outer(z1), n2 = sm_n_outer(z2);
	return n1 > n2 || (n1 == n2 && z1 < z2);
}

/* A multiple bond out of the ring system: 1 and its other atom in *who. */
static int non_cyclic_multiple_bond(const sm_mol_t *m, int atom, int *who)
{
	for (int k = m->adj_start[atom]; k < m->adj_start[atom + 1]; k++) {
		int b = m->adj[k];
		if (!m->bond_n_rings[b] && sm_valence_contrib2(m, b, atom) >= 4) {
			*who = sm_other(m, b, atom);
			return 1;
		}
	}
	return 0;
}

static int cyclic_multiple_bond(const sm_mol_t *m, int atom)
{
	for (int k = m->adj_start[atom]; k < m->adj_start[atom + 1]; k++) {
		int b = m->adj[k];
		if (m->bond_n_rings[b] && sm_valence_contrib2(m, b, atom) >= 4)
			return 1;
	}
	return 0;
}

static int multiple_bond(const sm_mol_t *m, int atom)
{
	const sm_atom_t *a = &m->atoms[atom];
	int deg = degree(m, atom) + a->n_explicit_h;
	for (int k = m->adj_start[atom]; k < m->adj_start[atom + 1]; k++)
		if ((sm_valence_contrib2(m, m->adj[k], atom) + 1) / 2 == 0)
			deg--;
	return a->explicit_valence != deg;
}

/* RDKit's countAtomElec: electrons the atom can give to a pi system, -1 none. */
static int count_atom_electrons(const sm_mol_t *m, int atom)
{
	const sm_atom_t *a = &m->atoms[atom];
	int dv = sm_valence(a->z, 0);
	if (dv <= 1)
		return -1;
	int deg = degree(m, atom) + sm_total_h(a);
	for (int k = m->adj_start[atom]; k < m->adj_start[atom + 1]; k++)
		if (sm_valence_contrib2(m, m->adj[k], atom) == 0)
			deg--;
	if (deg > 3)
		return -1;
	int nlp = sm_n_outer(a->z) - dv - a->charge;
	if (nlp < 0)
		nlp = 0;
	int res = (dv - deg) + nlp - a->n_radicals;
	if (res > 1 && a->explicit_valence - degree(m, atom) > 1)
		res = 1;
	return res;
}

static int donor_type(const sm_mol_t *m, int atom)
{
	const sm_atom_t *a = &m->atoms[atom];
	int nelec = count_atom_electrons(m, atom), who = -1;
	if (nelec < 0)
		return NONE;
	if (nelec == 0) {
		if (non_cyclic_multiple_bond(m, atom, &who))
			return VACANT;
		return cyclic_multiple_bond(m, atom) ? ONE : NONE;
	}
	if (nelec == 1) {
		if (non_cyclic_multiple_bond(m, atom, &who))
			return more_electronegative(m->atoms[who].z, a->z) ? VACANT : ONE;
		if (multiple_bond(m, atom))
			return ONE;
		return a->charge == 1 ? VACANT : NONE;
	}
	if (non_cyclic_multiple_bond(m, atom, &who) && more_electronegative(m->atoms[who].z, a->z))
		nelec--;
	return nelec % 2 == 1 ? ONE : TWO;
}

static int candidate(const sm_mol_t *m, int atom, int edon)
{
	const sm_atom_t *a = &m->atoms[atom];
	if (a->z > 18 && a->z != 34 && a->z != 52)
		return 0;
	if (edon == NONE)
		return 0;
	int eff = a->z - a->charge;
	if (eff < 0)
		eff = 0;
	if (eff > 118)
		eff = 118;
	int total = a->explicit_valence + (a->no_implicit ? 0 : a->implicit_h);
	if (sm_valence(a->z, 0) > 0 && total > sm_valence(eff, 0))
		return 0;
	if (a->n_radicals && (a->z != 6 || a->charge))
		return 0;
	if (a->explicit_valence - degree(m, atom) > 1) {
		int n_mult = 0;
		for (int k = m->adj_start[atom]; k < m->adj_start[atom + 1] && n_mult <= 1; k++) {
			int t = m->bonds[m->adj[k]].type;
			n_mult += t == SM_DOUBLE || t == SM_TRIPLE;
		}
		if (n_mult > 1)
			return 0;
	}
	return 1;
}

typedef struct {
	const sm_mol_t *m;
	int n;       /* candidate rings */
	int **atoms; /* their atoms */
	int *len;
	int **bonds; /* their bonds */
	char *neigh; /* n x n: rings share exactly one bond (and neither is too large) */
} crings_t;

/* Depth-first ring system from `start` over neighbour rings not yet done. */
static void pick_fused(const crings_t *cr, int start, char *done, int *out, int *n_out)
{
	done[start] = 1;
	out[(*n_out)++] = start;
	for (int j = 0; j < cr->n; j++)
		if (!done[j] && cr->neigh[(size_t)start * cr->n + j])
			pick_fused(cr, j, done, out, n_out);
}

static int huckel(const int *edon, const int *atoms, int n)
{
	int lo = 0, hi = 0, n_any = 0;
	for (int i = 0; i < n; i++) {
		int t = edon[atoms[i]];
		if (t == ANY && ++n_any > 1)
			return 0;
		int l = 0, h = 0;
		if (t == ANY || t == ONE_OR_TWO)
			l = 1, h = 2;
		else if (t == ONE)
			l = h = 1;
		else if (t == TWO)
			l = h = 2;
		lo += l;
		hi += h;
	}
	if (hi >= 6) {
		for (int e = lo; e <= hi; e++)
			if ((e - 2) % 4 == 0)
				return 1;
		return 0;
	}
	return hi == 2;
}

static int next_combination(int *comb, int k, int n)
{
	int c = k - 1;
	while (comb[c] == n - k + c)
		if (--c < 0)
			return -1;
	comb[c]++;
	for (int i = c + 1; i < k; i++)
		comb[i] = comb[i - 1] + 1;
	return c;
}

/* RDKit's applyHuckelToFused over one ring system. */
static int huckel_fused(sm_mol_t *m, const crings_t *cr, const int *fused, int nf, const int *edon)
{
	int n_atoms = m->n_atoms, rc = OF3_OK;
	char *fused_bond = calloc((size_t)m->n_bonds + 1, 1),
	     *done_bond = calloc((size_t)m->n_bonds + 1, 1);
	int *count = calloc((size_t)n_atoms + 1, sizeof *count),
	    *unon = malloc(sizeof *unon * ((size_t)n_atoms + 1));
	int *bcount = calloc((size_t)m->n_bonds + 1, sizeof *bcount);
	char *sub_done = malloc((size_t)cr->n + 1);
	int *picked = malloc(sizeof *picked * ((size_t)cr->n + 1));
	if (!fused_bond || !done_bond || !count || !unon || !bcount || !sub_done || !picked) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto out;
	}
	int n_ring_bonds = 0, n_done_bonds = 0;
	for (int i = 0; i < nf; i++)
		for (int k = 0; k < cr->len[fused[i]]; k++) {
			int b = cr->bonds[fused[i]][k];
			n_ring_bonds += !fused_bond[b];
			fused_bond[b] = 1;
		}
	int comb[MAX_FUSED_RINGS], cur[MAX_FUSED_RINGS];
	int size = 0, pos = -1;
	for (;;) {
		if (pos == -1) {
			if (size == 2 && nf > 300)
				break;
			size++;
			if (size > (nf < MAX_FUSED_RINGS ? nf : MAX_FUSED_RINGS) ||
			    n_done_bonds >= n_ring_bonds)
				break;
			for (int i = 0; i < size; i++)
				comb[i] = i;
			pos = 0;
		} else {
			pos = next_combination(comb, size, nf);
		}
		if (pos == -1)
			continue;
		for (int i = 0; i < size; i++)
			cur[i] = fused[comb[i]];
		/* the combination must itself be fused (RDKit's checkFused) */
		if (cr->n) {
			memset(sub_done, 1, (size_t)cr->n);
			for (int i = 0; i < size; i++)
				sub_done[cur[i]] = 0;
			int n_picked = 0;
			pick_fused(cr, cur[0], sub_done, picked, &n_picked);
			if (n_picked != size)
				continue;
		}
		memset(count, 0, sizeof *count * (size_t)n_atoms);
		for (int i = 0; i < size; i++)
			for (int k = 0; k < cr->len[cur[i]]; k++)
				count[cr->atoms[cur[i]][k]]++;
		int nu = 0;
		for (int a = 0; a < n_atoms; a++)
			if (count[a] == 1 || count[a] == 2)
				unon[nu++] = a;
		if (!huckel(edon, unon, nu))
			continue;
		/* the bonds in exactly one of the rings become aromatic */
		memset(bcount, 0, sizeof *bcount * (size_t)m->n_bonds);
		for (int i = 0; i < size; i++)
			for (int k = 0; k < cr->len[cur[i]]; k++)
				bcount[cr->bonds[cur[i]][k]]++;
		for (int b = 0; b < m->n_bonds; b++) {
			if (bcount[b] != 1)
				continue;
			sm_bond_t *bd = &m->bonds[b];
			bd->aromatic = 1;
			if (bd->type == SM_SINGLE || bd->type == SM_DOUBLE) {
				bd->type = SM_AROMATIC;
				m->atoms[bd->a].aromatic = 1;
				m->atoms[bd->b].aromatic = 1;
			}
			n_done_bonds += !done_bond[b];
			done_bond[b] = 1;
		}
	}
out:
	free(fused_bond);
	free(done_bond);
	free(count);
	free(unon);
	free(bcount);
	free(sub_done);
	free(picked);
	return rc;
}

int sm_set_aromaticity(sm_mol_t *m)
{
	int n = m->n_atoms, nr = m->n_rings, rc = OF3_OK;
	int *edon = malloc(sizeof *edon * ((size_t)n + 1));
	char *seen = calloc((size_t)n + 1, 1), *cand = calloc((size_t)n + 1, 1);
	crings_t cr = {m,
	               0,
	               calloc((size_t)nr + 1, sizeof(int *)),
	               calloc((size_t)nr + 1, sizeof(int)),
	               calloc((size_t)nr + 1, sizeof(int *)),
	               NULL};
	char *done = NULL;
	int *fused = NULL;
	if (!edon || !seen || !cand || !cr.atoms || !cr.len || !cr.bonds) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* candidate rings: every atom can take part */
	for (int r = 0; r < nr; r++) {
		int all = 1;
		for (int k = m->ring_start[r]; k < m->ring_start[r + 1]; k++) {
			int a = m->ring_atoms[k];
			if (seen[a]) {
				all &= cand[a];
				continue;
			}
			seen[a] = 1;
			edon[a] = donor_type(m, a);
			cand[a] = (char)candidate(m, a, edon[a]);
			all &= cand[a];
		}
		if (!all)
			continue;
		int len = m->ring_start[r + 1] - m->ring_start[r];
		int *atoms = malloc(sizeof *atoms * (size_t)len),
		    *bonds = malloc(sizeof *bonds * (size_t)len);
		if (!atoms || !bonds) {
			free(atoms);
			free(bonds);
			rc = of3_err(OF3_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (int i = 0; i < len; i++) {
			atoms[i] = m->ring_atoms[m->ring_start[r] + i];
			bonds[i] = sm_bond_between(m, atoms[i],
			                           m->ring_atoms[m->ring_start[r] + (i + 1) % len]);
		}
		cr.atoms[cr.n] = atoms;
		cr.bonds[cr.n] = bonds;
		cr.len[cr.n++] = len;
	}
	cr.neigh = calloc((size_t)cr.n * (size_t)cr.n + 1, 1);
	done = calloc((size_t)cr.n + 1, 1);
	fused = malloc(sizeof *fused * ((size_t)cr.n + 1));
	if (!cr.neigh || !done || !fused) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < cr.n; i++) {
		if (cr.len[i] > MAX_FUSED_RING_SIZE)
			continue;
		for (int j = i + 1; j < cr.n; j++) {
			if (cr.len[j] > MAX_FUSED_RING_SIZE)
				continue;
			int shared = 0;
			for (int x = 0; x < cr.len[i]; x++)
				for (int y = 0; y < cr.len[j]; y++)
					shared += cr.bonds[i][x] == cr.bonds[j][y];
			if (shared == 1)
				cr.neigh[(size_t)i * cr.n + j] = cr.neigh[(size_t)j * cr.n + i] = 1;
		}
	}
	for (int start = 0; start < cr.n && rc >= 0; start++) {
		if (done[start])
			continue;
		int nf = 0;
		pick_fused(&cr, start, done, fused, &nf);
		rc = huckel_fused(m, &cr, fused, nf, edon);
	}
out:
	for (int i = 0; i < cr.n; i++) {
		free(cr.atoms[i]);
		free(cr.bonds[i]);
	}
	free(cr.atoms);
	free(cr.len);
	free(cr.bonds);
	free(cr.neigh);
	free(edon);
	free(seen);
	free(cand);
	free(done);
	free(fused);
	return rc;
}
