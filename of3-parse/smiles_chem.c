/* smiles_chem.c: the chemistry RDKit's MolFromSmiles applies to a parsed SMILES graph
 * (spec/data.md §2.7): the element table (valence lists, outer-shell electrons), folding
 * explicit [H] atoms into their neighbours (removeHs), the clean-up of hypervalent nitrogen,
 * phosphorus and halogen oxides and of bonds to metals (cleanUp, cleanUpOrganometallics),
 * explicit and implicit valences with RDKit's error cases (updatePropertyCache), radicals and
 * the hydrogen bookkeeping after aromaticity perception (adjustHs). Valences are counted in
 * half units so that aromatic bonds (1.5) stay integers.
 * Left out: canonical atom ranking, which RDKit uses only to choose between two metals when a
 * hypervalent atom is bonded to both; we take the first metal in bond order. */
#include <stdlib.h>
#include <string.h>

#include "smiles_internal.h"

typedef struct {
	const char *symbol;
	int n_outer;     /* outer-shell electrons */
	int n_valences;  /* length of valences */
	int valences[4]; /* allowed valences, the first is the default; -1: any */
} element_t;

/* RDKit 2025.09's periodic table (atomic_data.cpp), atomic numbers 0..118. */
static const element_t elements[119] = {
        {"*", 0, 1, {-1}},          {"H", 1, 1, {1}},        {"He", 2, 1, {0}},
        {"Li", 1, 2, {1, -1}},      {"Be", 2, 1, {2}},       {"B", 3, 1, {3}},
        {"C", 4, 1, {4}},           {"N", 5, 1, {3}},        {"O", 6, 1, {2}},
        {"F", 7, 1, {1}},           {"Ne", 8, 1, {0}},       {"Na", 1, 2, {1, -1}},
        {"Mg", 2, 2, {2, -1}},      {"Al", 3, 1, {3}},       {"Si", 4, 1, {4}},
        {"P", 5, 2, {3, 5}},        {"S", 6, 3, {2, 4, 6}},  {"Cl", 7, 1, {1}},
        {"Ar", 8, 1, {0}},          {"K", 1, 2, {1, -1}},    {"Ca", 2, 2, {2, -1}},
        {"Sc", 3, 1, {-1}},         {"Ti", 4, 1, {-1}},      {"V", 5, 1, {-1}},
        {"Cr", 6, 1, {-1}},         {"Mn", 7, 1, {-1}},      {"Fe", 8, 1, {-1}},
        {"Co", 9, 1, {-1}},         {"Ni", 10, 1, {-1}},     {"Cu", 11, 1, {-1}},
        {"Zn", 2, 1, {-1}},         {"Ga", 3, 1, {3}},       {"Ge", 4, 1, {4}},
        {"As", 5, 2, {3, 5}},       {"Se", 6, 3, {2, 4, 6}}, {"Br", 7, 1, {1}},
        {"Kr", 8, 1, {0}},          {"Rb", 1, 2, {1, -1}},   {"Sr", 2, 2, {2, -1}},
        {"Y", 3, 1, {-1}},          {"Zr", 4, 1, {-1}},      {"Nb", 5, 1, {-1}},
        {"Mo", 6, 1, {-1}},         {"Tc", 7, 1, {-1}},      {"Ru", 8, 1, {-1}},
        {"Rh", 9, 1, {-1}},         {"Pd", 10, 1, {-1}},     {"Ag", 11, 1, {-1}},
        {"Cd", 2, 1, {-1}},         {"In", 3, 1, {3}},       {"Sn", 4, 2, {2, 4}},
        {"Sb", 5, 2, {3, 5}},       {"Te", 6, 3, {2, 4, 6}}, {"I", 7, 3, {1, 3, 5}},
        {"Xe", 8, 4, {0, 2, 4, 6}}, {"Cs", 1, 1, {1}},       {"Ba", 2, 2, {2, -1}},
        {"La", 3, 1, {-1}},         {"Ce", 4, 1, {-1}},      {"Pr", 3, 1, {-1}},
        {"Nd", 4, 1, {-1}},         {"Pm", 5, 1, {-1}},      {"Sm", 6, 1, {-1}},
        {"Eu", 7, 1, {-1}},         {"Gd", 8, 1, {-1}},      {"Tb", 9, 1, {-1}},
        {"Dy", 10, 1, {-1}},        {"Ho", 11, 1, {-1}},     {"Er", 12, 1, {-1}},
        {"Tm", 13, 1, {-1}},        {"Yb", 14, 1, {-1}},     {"Lu", 15, 1, {-1}},
        {"Hf", 4, 1, {-1}},         {"Ta", 5, 1, {-1}},      {"W", 6, 1, {-1}},
        {"Re", 7, 1, {-1}},         {"Os", 8, 1, {-1}},      {"Ir", 9, 1, {-1}},
        {"Pt", 10, 1, {-1}},        {"Au", 11, 1, {-1}},     {"Hg", 2, 1, {-1}},
        {"Tl", 3, 1, {-1}},         {"Pb", 4, 2, {2, 4}},    {"Bi", 5, 2, {3, 5}},
        {"Po", 6, 3, {2, 4, 6}},    {"At", 7, 3, {1, 3, 5}}, {"Rn", 8, 1, {0}},
        {"Fr", 1, 1, {1}},          {"Ra", 2, 2, {2, -1}},   {"Ac", 3, 1, {-1}},
        {"Th", 4, 1, {-1}},         {"Pa", 3, 1, {-1}},      {"U", 4, 1, {-1}},
        {"Np", 5, 1, {-1}},         {"Pu", 6, 1, {-1}},      {"Am", 7, 1, {-1}},
        {"Cm", 8, 1, {-1}},         {"Bk", 9, 1, {-1}},      {"Cf", 10, 1, {-1}},
        {"Es", 11, 1, {-1}},        {"Fm", 12, 1, {-1}},     {"Md", 13, 1, {-1}},
        {"No", 14, 1, {-1}},        {"Lr", 15, 1, {-1}},     {"Rf", 2, 1, {-1}},
        {"Db", 2, 1, {-1}},         {"Sg", 2, 1, {-1}},      {"Bh", 2, 1, {-1}},
        {"Hs", 2, 1, {-1}},         {"Mt", 2, 1, {-1}},      {"Ds", 2, 1, {-1}},
        {"Rg", 2, 1, {-1}},         {"Cn", 2, 1, {-1}},      {"Nh", 2, 1, {-1}},
        {"Fl", 2, 1, {-1}},         {"Mc", 2, 1, {-1}},      {"Lv", 2, 1, {-1}},
        {"Ts", 2, 1, {-1}},         {"Og", 2, 1, {-1}},
};

const char *sm_symbol(int z)
{
	return z >= 0 && z <= 118 ? elements[z].symbol : "?";
}

int sm_n_outer(int z)
{
	return elements[z].n_outer;
}

int sm_n_valences(int z)
{
	return elements[z].n_valences;
}

int sm_valence(int z, int i)
{
	return elements[z].valences[i];
}

static int default_valence(int z)
{
	return elements[z].valences[0];
}

static int last_valence(int z)
{
	return elements[z].valences[elements[z].n_valences - 1];
}

int sm_is_metal(int z)
{
	static const int non_metals[] = {0,  1,  2,  5,  6,  7,  8,  9,  10, 14, 15, 16,
	                                 17, 18, 33, 34, 35, 36, 52, 53, 54, 85, 86};
	for (size_t i = 0; i < sizeof non_metals / sizeof *non_metals; i++)
		if (non_metals[i] == z)
			return 0;
	return 1;
}

int sm_valence_contrib2(const sm_mol_t *m, int bond, int atom)
{
	const sm_bond_t *b = &m->bonds[bond];
	switch (b->type) {
	case SM_SINGLE: return 2;
	case SM_DOUBLE: return 4;
	case SM_TRIPLE: return 6;
	case SM_QUADRUPLE: return 8;
	case SM_AROMATIC: return 3;
	case SM_DATIVE: return b->b == atom ? 2 : 0;
	default: return 0;
	}
}

int sm_is_aromatic_atom(const sm_mol_t *m, int atom)
{
	if (m->atoms[atom].aromatic)
		return 1;
	for (int k = m->adj_start[atom]; k < m->adj_start[atom + 1]; k++) {
		const sm_bond_t *b = &m->bonds[m->adj[k]];
		if (b->aromatic || b->type == SM_AROMATIC)
			return 1;
	}
	return 0;
}

int sm_total_h(const sm_atom_t *a)
{
	return a->n_explicit_h + (a->no_implicit ? 0 : a->implicit_h);
}

static int degree(const sm_mol_t *m, int atom)
{
	return m->adj_start[atom + 1] - m->adj_start[atom];
}

/* The element whose valence rules apply: the atomic number shifted by the charge (N+ is
 * treated like C), unless the element has no valence rules at all. */
static int effective_z(const sm_atom_t *a)
{
	if (elements[a->z].n_valences == 1 && elements[a->z].valences[0] == -1)
		return a->z;
	int e = a->z - a->charge;
	return e < 0 ? 0 : e > 118 ? 118 : e;
}

static int can_be_hypervalent(int z, int eff)
{
	return (eff > 16 && (z == 15 || z == 16)) || (eff > 34 && (z == 33 || z == 34));
}

/* RDKit's calculateExplicitValence. Returns -1 (and records the message) when strict and
 * the valence is above every allowed one. */
static int explicit_valence(const sm_mol_t *m, int i, int strict)
{
	const sm_atom_t *a = &m->atoms[i];
	int acc2 = 2 * a->n_explicit_h;
	for (int k = m->adj_start[i]; k < m->adj_start[i + 1]; k++)
		acc2 += sm_valence_contrib2(m, m->adj[k], i);
	int eff = effective_z(a), dv = default_valence(eff);
	const element_t *e = &elements[eff];
	if (acc2 > 2 * dv && sm_is_aromatic_atom(m, i)) {
		/* an aromatic atom above its default valence takes the closest allowed valence
		 * below, if within 1.5: the N in c1cccn1C counts 3, not 4 */
		int pval = dv;
		for (int k = 0; k < e->n_valences; k++) {
			if (e->valences[k] == -1 || 2 * e->valences[k] > acc2)
				break;
			pval = e->valences[k];
		}
		if (acc2 - 2 * pval <= 3)
			acc2 = 2 * pval;
	}
	int res = (acc2 + 1) / 2; /* RDKit rounds x.5 up */
	if (strict) {
		int max_valence = last_valence(eff), offset = 0;
		if (can_be_hypervalent(a->z, eff)) {
			max_valence = last_valence(a->z);
			offset = -a->charge;
		}
		if (a->z == 1 && a->charge == -1)
			max_valence = 2;
		if (max_valence >= 0 && last_valence(a->z) >= 0 && res + offset > max_valence) {
			sm_err(m, a->pos, "atom %d (%s) has valence %d, more than %s allows", i + 1,
			       sm_symbol(a->z), res, sm_symbol(a->z));
			return -1;
		}
	}
	return res;
}

/* RDKit's calculateImplicitValence: the implicit hydrogens. -1 on a strict error. */
static int implicit_valence(const sm_mol_t *m, int i, int strict)
{
	const sm_atom_t *a = &m->atoms[i];
	if (a->no_implicit || a->z == 0)
		return 0;
	int ev = a->explicit_valence;
	if (ev == 0 && a->n_radicals == 0 && a->z == 1) {
		if (a->charge == 1 || a->charge == -1)
			return 0;
		if (a->charge == 0)
			return 1;
		if (strict) {
			sm_err(m, a->pos, "unreasonable formal charge on atom %d (H)", i + 1);
			return -1;
		}
		return 0;
	}
	int v = ev + a->n_radicals;
	int eff = effective_z(a);
	if (eff == 0)
		return 0;
	int dv = default_valence(eff);
	if (dv == -1)
		return 0;
	if (can_be_hypervalent(a->z, eff)) {
		eff = a->z;
		v -= a->charge;
	}
	const element_t *e = &elements[eff];
	if (sm_is_aromatic_atom(m, i)) {
		if (v <= dv)
			return dv - v;
		int ok = 0;
		for (int k = 0; k < e->n_valences && e->valences[k] > 0; k++)
			ok |= e->valences[k] == v;
		if (!ok && strict) {
			sm_err(m, a->pos,
			       "aromatic atom %d (%s) has valence %d, which %s does not allow",
			       i + 1, sm_symbol(a->z), v, sm_symbol(a->z));
			return -1;
		}
		return 0;
	}
	for (int k = 0; k < e->n_valences && e->valences[k] >= 0; k++)
		if (v <= e->valences[k])
			return e->valences[k] - v;
	if (strict && e->valences[e->n_valences - 1] != -1 && last_valence(a->z) > 0) {
		sm_err(m, a->pos, "atom %d (%s) has valence %d, more than %s allows", i + 1,
		       sm_symbol(a->z), v, sm_symbol(a->z));
		return -1;
	}
	return 0;
}

void sm_update_atom_valence(sm_mol_t *m, int i)
{
	m->atoms[i].explicit_valence = explicit_valence(m, i, 0);
	m->atoms[i].implicit_h = implicit_valence(m, i, 0);
}

void sm_recompute_implicit(sm_mol_t *m, int i)
{
	m->atoms[i].implicit_h = implicit_valence(m, i, 0);
}

int sm_update_valences(sm_mol_t *m, int strict)
{
	for (int i = 0; i < m->n_atoms; i++) {
		int ev = explicit_valence(m, i, strict);
		if (ev < 0)
			return OF3_ERR_INPUT;
		m->atoms[i].explicit_valence = ev;
		int iv = implicit_valence(m, i, strict);
		if (iv < 0)
			return OF3_ERR_INPUT;
		m->atoms[i].implicit_h = iv;
	}
	return OF3_OK;
}

/* ---- removeHs ---- */

/* Whether MolFromSmiles folds this explicit hydrogen atom into its neighbour (RDKit's
 * shouldRemoveH with the default RemoveHsParameters). */
static int should_remove_h(const sm_mol_t *m, int i)
{
	const sm_atom_t *a = &m->atoms[i];
	if (a->z != 1 || degree(m, i) != 1 || a->isotope || a->charge == -1)
		return 0;
	int bond = m->adj[m->adj_start[i]], nbr = sm_other(m, bond, i);
	if (m->atoms[nbr].z == 1 || m->atoms[nbr].nontetrahedral)
		return 0;
	/* it defines the stereo of a double bond: F/C=C/[H] */
	if (degree(m, nbr) == 2 && m->bonds[bond].dir)
		for (int k = m->adj_start[nbr]; k < m->adj_start[nbr + 1]; k++)
			if (m->bonds[m->adj[k]].type == SM_DOUBLE)
				return 0;
	return 1;
}

int sm_remove_hs(sm_mol_t *m)
{
	int n = m->n_atoms;
	char *drop = calloc((size_t)n + 1, 1);
	int *new_index = malloc(sizeof *new_index * ((size_t)n + 1));
	if (!drop || !new_index) {
		free(drop);
		free(new_index);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	int any = 0;
	for (int i = 0; i < n; i++)
		any |= drop[i] = (char)should_remove_h(m, i);
	if (any) {
		for (int i = 0; i < n; i++)
			if (drop[i])
				m->atoms[sm_other(m, m->adj[m->adj_start[i]], i)].n_explicit_h++;
		int k = 0;
		for (int i = 0; i < n; i++) {
			new_index[i] = drop[i] ? -1 : k;
			if (!drop[i])
				m->atoms[k++] = m->atoms[i];
		}
		m->n_atoms = k;
		k = 0;
		for (int i = 0; i < m->n_bonds; i++) {
			sm_bond_t b = m->bonds[i];
			if (new_index[b.a] < 0 || new_index[b.b] < 0)
				continue;
			b.dir_first = new_index[b.dir_first];
			b.a = new_index[b.a];
			b.b = new_index[b.b];
			m->bonds[k++] = b;
		}
		m->n_bonds = k;
	}
	free(drop);
	free(new_index);
	return any ? sm_mol_index(m) : OF3_OK;
}

/* ---- cleanUp ---- */

static int nitrogen_cleanup(sm_mol_t *m)
{
	/* CN(=O)=O -> C[N+](=O)[O-], O=n1ccccc1 -> [O-][n+]1ccccc1; then C-N=N#N ->
	 * C-N=[N+]=[N-], for the same five-valent neutral nitrogens */
	char *five = calloc((size_t)m->n_atoms + 1, 1);
	if (!five)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; i < m->n_atoms; i++) {
		sm_atom_t *a = &m->atoms[i];
		if (a->z != 7 || a->charge || explicit_valence(m, i, 0) != 5)
			continue;
		five[i] = 1;
		for (int k = m->adj_start[i]; k < m->adj_start[i + 1]; k++) {
			int b = m->adj[k], o = sm_other(m, b, i);
			if (m->atoms[o].z == 8 && m->atoms[o].charge == 0 &&
			    m->bonds[b].type == SM_DOUBLE) {
				m->bonds[b].type = SM_SINGLE;
				a->charge = 1;
				m->atoms[o].charge = -1;
				break;
			}
		}
	}
	for (int i = 0; i < m->n_atoms; i++) {
		if (!five[i])
			continue;
		for (int k = m->adj_start[i]; k < m->adj_start[i + 1]; k++) {
			int b = m->adj[k], o = sm_other(m, b, i);
			if (m->atoms[o].z == 7 && m->atoms[o].charge == 0 &&
			    m->bonds[b].type == SM_TRIPLE) {
				m->bonds[b].type = SM_DOUBLE;
				m->atoms[i].charge = 1;
				m->atoms[o].charge = -1;
				break;
			}
		}
	}
	free(five);
	return OF3_OK;
}

static void phosphorus_cleanup(sm_mol_t *m, int i)
{
	/* C=P(=O)X -> C=[P+]([O-])X */
	sm_atom_t *a = &m->atoms[i];
	if (a->charge || explicit_valence(m, i, 0) != 5 || degree(m, i) != 3)
		return;
	int dbl_o = -1, o_atom = -1, dbl_cn = 0;
	for (int k = m->adj_start[i]; k < m->adj_start[i + 1]; k++) {
		int b = m->adj[k], o = sm_other(m, b, i);
		const sm_atom_t *n = &m->atoms[o];
		if (n->z == 8 && n->charge == 0 && m->bonds[b].type == SM_DOUBLE)
			dbl_o = b, o_atom = o;
		else if ((n->z == 6 || n->z == 7) && degree(m, o) >= 2 &&
		         m->bonds[b].type == SM_DOUBLE)
			dbl_cn = 1;
	}
	if (dbl_cn && dbl_o >= 0) {
		m->atoms[o_atom].charge = -1;
		m->bonds[dbl_o].type = SM_SINGLE;
		a->charge = 1;
	}
}

static void halogen_cleanup(sm_mol_t *m, int i)
{
	/* X(=O)(=O)(=O)O -> [X+3]([O-])([O-])([O-])O, and likewise for 5 and 3 */
	sm_atom_t *a = &m->atoms[i];
	int ev = explicit_valence(m, i, 0);
	if (a->charge || (ev != 7 && ev != 5 && ev != 3))
		return;
	for (int k = m->adj_start[i]; k < m->adj_start[i + 1]; k++)
		if (m->atoms[sm_other(m, m->adj[k], i)].z != 8)
			return;
	int q = 0;
	for (int k = m->adj_start[i]; k < m->adj_start[i + 1]; k++) {
		int b = m->adj[k];
		if (m->bonds[b].type == SM_DOUBLE) {
			m->bonds[b].type = SM_SINGLE;
			m->atoms[sm_other(m, b, i)].charge = -1;
			q++;
		}
	}
	a->charge = q;
}

static int hypervalent_non_metal(sm_mol_t *m, int i)
{
	sm_atom_t *a = &m->atoms[i];
	if (sm_is_metal(a->z))
		return 0;
	sm_update_atom_valence(m, i);
	int eff = a->z - a->charge;
	if (eff <= 0)
		return 0;
	int max_v = last_valence(eff > 118 ? 118 : eff), ev = a->explicit_valence;
	int total_degree = degree(m, i) + sm_total_h(a);
	return max_v > 0 && (ev > max_v || (ev == max_v && a->aromatic && total_degree == 4));
}

static int n_dative(const sm_mol_t *m, int atom)
{
	int n = 0;
	for (int k = m->adj_start[atom]; k < m->adj_start[atom + 1]; k++)
		n += m->bonds[m->adj[k]].type == SM_DATIVE;
	return n;
}

/* A non-metal above its valence, single-bonded to a metal: the bond becomes dative. */
static void metal_cleanup(sm_mol_t *m)
{
	for (int i = 0; i < m->n_atoms; i++) {
		int z = m->atoms[i].z;
		if (z == 1 || z == 2 || z == 9 || z == 10 || !hypervalent_non_metal(m, i))
			continue;
		int best = -1;
		for (int k = m->adj_start[i]; k < m->adj_start[i + 1]; k++) {
			int b = m->adj[k], o = sm_other(m, b, i);
			if (m->bonds[b].type != SM_SINGLE || !sm_is_metal(m->atoms[o].z))
				continue;
			if (best < 0 || n_dative(m, o) < n_dative(m, sm_other(m, best, i)))
				best = b;
		}
		if (best >= 0) {
			sm_bond_t *b = &m->bonds[best];
			int metal = sm_other(m, best, i);
			b->type = SM_DATIVE;
			b->a = i;
			b->b = metal;
		}
	}
}

int sm_cleanup(sm_mol_t *m)
{
	int rc = nitrogen_cleanup(m);
	if (rc < 0)
		return rc;
	for (int i = 0; i < m->n_atoms; i++) {
		int z = m->atoms[i].z;
		if (z == 15)
			phosphorus_cleanup(m, i);
		else if (z == 17 || z == 35 || z == 53)
			halogen_cleanup(m, i);
	}
	metal_cleanup(m);
	return OF3_OK;
}

/* ---- radicals and hydrogen bookkeeping ---- */

void sm_assign_radicals(sm_mol_t *m)
{
	for (int i = 0; i < m->n_atoms; i++) {
		sm_atom_t *a = &m->atoms[i];
		if (!a->no_implicit || a->z == 0)
			continue;
		const element_t *e = &elements[a->z];
		int q = a->charge, n_outer = e->n_outer;
		if (e->n_valences != 1 || e->valences[0] != -1) {
			int acc2 = 2 * a->n_explicit_h;
			for (int k = m->adj_start[i]; k < m->adj_start[i + 1]; k++)
				acc2 += sm_valence_contrib2(m, m->adj[k], i);
			int total = acc2 / 2; /* RDKit truncates accum + 0.1 here */
			int base = a->z <= 2 ? 2 : 8;
			int n = base - n_outer - total + q;
			if (n < 0) {
				n = 0;
				if (e->n_valences > 1)
					for (int k = 0; k < e->n_valences; k++)
						if (e->valences[k] - total + q >= 0) {
							n = e->valences[k] - total + q;
							break;
						}
			}
			int n2 = n_outer - total - q;
			if (n2 >= 0 && n2 < n)
				n = n2;
			a->n_radicals = n;
		} else if (degree(m, i) > 0) {
			a->n_radicals = 0;
		} else {
			int nv = n_outer - q;
			a->n_radicals = nv < 0 ? 0 : nv % 2;
		}
	}
}

void sm_adjust_hs(sm_mol_t *m)
{
	for (int i = 0; i < m->n_atoms; i++) {
		sm_atom_t *a = &m->atoms[i];
		int orig = a->no_implicit ? 0 : a->implicit_h;
		a->explicit_valence = explicit_valence(m, i, 0);
		int now = implicit_valence(m, i, 0);
		a->implicit_h = now;
		if (now < orig) {
			a->n_explicit_h += orig - now;
			a->explicit_valence = explicit_valence(m, i, 0);
		}
	}
}

/* Whether RDKit's removeHs keeps the count of a removed hydrogen as an explicit one on the
 * heavy atom (molRemoveH without updateExplicitCount); total is the atom's valence with the
 * hydrogen atoms attached. */
static int keeps_explicit(const sm_mol_t *m, int i, int n_h, int total)
{
	const sm_atom_t *a = &m->atoms[i];
	if (a->no_implicit || a->chirality || a->nontetrahedral)
		return 1;
	if (a->aromatic && (a->z == 7 || a->z == 15))
		return 1;
	if (a->aromatic) {
		/* may_need_extra_H, judged with the hydrogens as single bonds */
		int singles = n_h, arom = 0, other = 0;
		for (int k = m->adj_start[i]; k < m->adj_start[i + 1]; k++) {
			int t = m->bonds[m->adj[k]].type;
			singles += t == SM_SINGLE;
			arom += t == SM_AROMATIC;
			other += t != SM_SINGLE && t != SM_AROMATIC;
		}
		if (!other && singles == 1 && arom == 2 && total == 3)
			return 1;
	}
	const element_t *e = &elements[a->z];
	for (int k = 1; k < e->n_valences; k++)
		if (e->valences[k] == total)
			return 1;
	return 0;
}

void sm_add_remove_all_hs(sm_mol_t *m)
{
	for (int i = 0; i < m->n_atoms; i++) {
		sm_atom_t *a = &m->atoms[i];
		int n_h = sm_total_h(a);
		/* RDKit's valence cache as removeHs computes it, the hydrogens still attached */
		a->n_explicit_h = n_h;
		a->explicit_valence = explicit_valence(m, i, 0);
		a->implicit_h = implicit_valence(m, i, 0);
		int total = a->explicit_valence + (a->no_implicit ? 0 : a->implicit_h);
		if (n_h)
			a->n_explicit_h = keeps_explicit(m, i, n_h, total) ? n_h : 0;
	}
}
