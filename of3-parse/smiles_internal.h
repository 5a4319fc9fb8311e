/* smiles_internal.h: the molecular graph the SMILES reader works on while it repeats what
 * RDKit's MolFromSmiles does (spec/data.md §2.7): parse, fold explicit [H] atoms into their
 * neighbours, clean up (nitro groups, ...), compute valences and implicit hydrogens, find rings,
 * kekulize, perceive aromaticity. Atom and bond indices, the order of each atom's bonds and the
 * ring list follow RDKit's exactly, because RDKit's kekulization depends on all three.
 * Private to of3-parse/smiles*.c and kekulize.c. */
#ifndef OF3_SMILES_INTERNAL_H
#define OF3_SMILES_INTERNAL_H

#include "../common/error.h"

/* Bond types (RDKit's Bond::BondType, the ones SMILES can write). */
enum {
	SM_SINGLE = 1,
	SM_DOUBLE = 2,
	SM_TRIPLE = 3,
	SM_QUADRUPLE = 4,
	SM_AROMATIC = 5, /* order 1.5 */
	SM_DATIVE = 6,   /* '->' / '<-': counts only towards the end atom's valence */
};

typedef struct {
	int z;                /* atomic number */
	int charge;           /* formal charge */
	int isotope;          /* 0 when not given */
	int chirality;        /* 0 none, 1 @ (or @TH1), 2 @@ (or @TH2) */
	int nontetrahedral;   /* @AL, @SP, @TB or @OH was written */
	int map;              /* atom class [C:1] */
	int n_explicit_h;     /* RDKit's numExplicitHs: bracket H count plus folded [H] atoms */
	int no_implicit;      /* bracket atom: gets no implicit hydrogens */
	int aromatic;         /* RDKit's isAromatic flag at the current stage */
	int written_aromatic; /* lower case in the SMILES */
	int n_radicals;       /* assigned after the first kekulization, as RDKit does */
	int explicit_valence; /* RDKit's property cache (calcExplicitValence) */
	int implicit_h;       /* implicit hydrogens (calcImplicitValence) */
	int pos;              /* 1-based position of the atom in the SMILES */
} sm_atom_t;

typedef struct {
	int a, b;             /* RDKit's begin and end atom */
	int type;             /* SM_SINGLE ... SM_DATIVE */
	int aromatic;         /* RDKit's isAromatic flag at the current stage */
	int written_aromatic; /* aromatic as parsed (':' or between two aromatic atoms) */
	int dir;              /* '/' 1, '\\' 2, else 0 */
	int unspecified;      /* no order written ('', '/', '\\'): decided by the atoms' case */
	int pos;              /* 1-based position of the bond (or ring-closure digit) */
	int key_a, key_b;     /* where the bond stands in a's and b's neighbour list as written
	                       * (0 for the bond to the preceding atom, else the position of the
	                       * bond, ring digit or next atom): the order '@'/'@@' refer to */
	int dir_first;        /* the atom written before the '/' or '\\' (for dir) */
} sm_bond_t;

typedef struct {
	const char *smiles; /* for messages */
	int n_atoms, n_bonds;
	sm_atom_t *atoms;
	sm_bond_t *bonds;
	int cap_atoms, cap_bonds;
	/* adjacency, rebuilt by sm_mol_index(): the bonds of atom i are adj[adj_start[i] ..
	 * adj_start[i+1]-1], in bond index order (RDKit's neighbour order) */
	int *adj_start, *adj;
	/* rings as RDKit's RingInfo holds them after symmetrizeSSSR: ring r is the atom cycle
	 * ring_atoms[ring_start[r] .. ring_start[r+1]-1] */
	int n_rings;
	int *ring_start, *ring_atoms;
	int *atom_n_rings, *bond_n_rings; /* ring membership counts */
} sm_mol_t;

/* ---- smiles.c ---- */
/* Records "SMILES '<smiles>': <what> (position <pos>)" and returns OF3_ERR_INPUT. */
int sm_err(const sm_mol_t *m, int pos, const char *fmt, ...) OF3_PRINTF(3, 4);
void sm_mol_clear(sm_mol_t *m);
int sm_mol_index(sm_mol_t *m) OF3_WUR; /* rebuilds adj from bonds */
int sm_other(const sm_mol_t *m, int bond, int atom);
int sm_bond_between(const sm_mol_t *m, int a, int b); /* bond index or -1 */

/* ---- smiles_chem.c: elements, hydrogens, clean-up, valence ---- */
const char *sm_symbol(int z); /* "C", "Cl", ... */
int sm_n_outer(int z);        /* outer shell electrons */
int sm_n_valences(int z);     /* length of the allowed-valence list */
int sm_valence(int z, int i); /* i-th allowed valence; -1 means "any" */
int sm_is_metal(int z);
int sm_valence_contrib2(const sm_mol_t *m, int bond, int atom); /* twice the bond's valence */
int sm_is_aromatic_atom(const sm_mol_t *m, int atom);           /* flag or an aromatic bond */
int sm_total_h(const sm_atom_t *a);
int sm_remove_hs(sm_mol_t *m) OF3_WUR; /* MolFromSmiles' removeHs */
int sm_cleanup(sm_mol_t *m) OF3_WUR;   /* nitro, N-oxide, P, halogen oxides, metals */
int sm_update_valences(sm_mol_t *m, int strict) OF3_WUR; /* RDKit's updatePropertyCache */
void sm_update_atom_valence(sm_mol_t *m, int atom);      /* one atom, not strict */
void sm_recompute_implicit(sm_mol_t *m, int atom);       /* from the cached explicit valence */
void sm_assign_radicals(sm_mol_t *m);
void sm_adjust_hs(sm_mol_t *m); /* RDKit's adjustHs after aromaticity perception */
/* OpenFold3's conformer step (AddHs, then RemoveAllHs before its sanitization) as it changes
 * the hydrogen bookkeeping and RDKit's valence cache; the graph itself is unchanged when no
 * hydrogen atom survived removeHs. */
void sm_add_remove_all_hs(sm_mol_t *m);

/* ---- smiles_sort.c ---- */
typedef struct {
	int key;   /* sorted ascending */
	int index; /* what the caller sorts */
} sm_sort_item_t;
void sm_std_sort(sm_sort_item_t *items, int n); /* libstdc++'s std::sort, unstable as it is */

/* ---- smiles_rings.c ---- */
int sm_find_rings(sm_mol_t *m) OF3_WUR; /* RDKit's symmetrizeSSSR */

/* ---- kekulize.c ---- */
/* RDKit's Kekulize(mol, markAtomsBonds=true): aromatic bonds become single or double, the
 * aromatic flags are cleared. A system that cannot be kekulized is OF3_ERR_INPUT. */
int sm_kekulize(sm_mol_t *m) OF3_WUR;

/* ---- smiles_aromatic.c ---- */
/* RDKit's default aromaticity model (setAromaticity): sets the aromatic flags of atoms and
 * bonds and turns aromatic single/double bonds into SM_AROMATIC. */
int sm_set_aromaticity(sm_mol_t *m) OF3_WUR;

#endif
