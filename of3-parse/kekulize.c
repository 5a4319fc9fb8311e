/* kekulize.c: aromatic bonds turned into single and double bonds exactly as RDKit's Kekulize
 * assigns them (spec/data.md §2.7; biotite's from_mol records the result as AROMATIC_SINGLE /
 * AROMATIC_DOUBLE). RDKit's assignment is deterministic but depends on how it walks the graph,
 * so this follows the same walk: ring systems (rings that share a bond) in ring order, the
 * atoms of a system in the order its rings list them; atoms that can take a double bond are
 * found from their valence; then from the first atom of the system, a walk over the system's
 * atoms (a queue fed with each atom's untried neighbours, in reverse bond order) gives each
 * candidate atom a double bond to its first candidate neighbour, remembers the alternatives, and
 * backtracks to the last alternative (at most 100 times) when an atom is left without one.
 * Dummy atoms are not supported by the parser, so RDKit's dummy-atom permutations are absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smiles_internal.h"

#define MAX_BACKTRACKS 100

/* RDKit's isEarlyAtom: elements left of carbon, whose charge counts the other way. */
static int is_early_atom(int z)
{
	static const unsigned char early[] = {
	        3,  4,  5,  11, 12, 13, 19, 20, 21, 22, 30, 31, 32, 37, 38, 39, 40, 41, 48, 49, 50,
	        51, 55, 56, 57, 58, 59, 60, 61, 72, 73, 80, 81, 82, 83, 87, 88, 89, 90, 91, 92, 93};
	if (z >= 104)
		return 1;
	for (size_t i = 0; i < sizeof early; i++)
		if (early[i] == z)
			return 1;
	return 0;
}

typedef struct {
	int *v;
	int n, cap;
} list_t;

typedef struct {
	sm_mol_t *m;
	int err;
	char *in_system; /* atom belongs to the ring system being kekulized */
} kctx_t;

static void push(kctx_t *c, list_t *l, int x)
{
	if (c->err)
		return;
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 16;
		int *p = realloc(l->v, sizeof *p * (size_t)cap);
		if (!p) {
			c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
			return;
		}
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = x;
}

static void push_front(kctx_t *c, list_t *l, int x)
{
	push(c, l, x);
	if (c->err)
		return;
	memmove(l->v + 1, l->v, sizeof *l->v * (size_t)(l->n - 1));
	l->v[0] = x;
}

static int pop_front(list_t *l)
{
	int x = l->v[0];
	memmove(l->v, l->v + 1, sizeof *l->v * (size_t)(l->n - 1));
	l->n--;
	return x;
}

static int index_of(const list_t *l, int x)
{
	for (int i = 0; i < l->n; i++)
		if (l->v[i] == x)
			return i;
	return -1;
}

/* Which atoms of the system can take a double bond (RDKit's markDbondCands); the system's
 * aromatic bonds become single, its non-aromatic atoms are done from the start. */
static void mark_candidates(kctx_t *c, const list_t *atoms, char *cand, list_t *done)
{
	sm_mol_t *m = c->m;
	int any = 0;
	for (int i = 0; i < atoms->n; i++)
		any |= sm_is_aromatic_atom(m, atoms->v[i]);
	if (!any)
		return;
	list_t make_single = {0};
	for (int i = 0; i < atoms->n; i++) {
		int ai = atoms->v[i];
		const sm_atom_t *a = &m->atoms[ai];
		if (!sm_is_aromatic_atom(m, ai)) {
			push(c, done, ai);
			continue;
		}
		int sbo = 0, n_ignore = 0;
		for (int k = m->adj_start[ai]; k < m->adj_start[ai + 1]; k++) {
			int b = m->adj[k];
			const sm_bond_t *bd = &m->bonds[b];
			if (bd->aromatic && (bd->type == SM_SINGLE || bd->type == SM_DOUBLE ||
			                     bd->type == SM_AROMATIC)) {
				sbo++;
				push(c, &make_single, b);
			} else {
				int contrib = (sm_valence_contrib2(m, b, ai) + 1) / 2; /* lround */
				sbo += contrib;
				n_ignore += contrib == 0;
			}
		}
		int total_h = sm_total_h(a);
		sbo += total_h;
		int chrg = a->charge;
		if (is_early_atom(a->z))
			chrg = -chrg;
		if (a->z == 6 && chrg > 0)
			chrg = -chrg;
		int dv = sm_valence(a->z, 0) + chrg;
		int tbo = a->explicit_valence + (a->no_implicit ? 0 : a->implicit_h);
		int n_rad = a->n_radicals;
		int degree = m->adj_start[ai + 1] - m->adj_start[ai];
		int total_degree = degree + (a->no_implicit ? 0 : a->implicit_h) - n_ignore;
		for (int vi = 1; tbo > dv && vi < sm_n_valences(a->z) && sm_valence(a->z, vi) > 0;
		     vi++)
			dv = sm_valence(a->z, vi) + chrg;
		/* aromatic N-oxides written O=n1ccccc1 */
		if (tbo == 5 && sbo == 4 && dv == 3 && total_degree == 3 && n_rad == 0 &&
		    chrg == 0 && total_h == 0 && (a->z == 7 || a->z == 15 || a->z == 33))
			dv = 5;
		if (total_degree + n_rad >= dv)
			continue;
		if (dv == sbo + 1 + n_rad)
			cand[ai] = 1;
		else if (!n_rad && a->no_implicit && dv == sbo + 2)
			cand[ai] = 1;
	}
	for (int i = 0; i < make_single.n; i++)
		m->bonds[make_single.v[i]].type = SM_SINGLE;
	free(make_single.v);
}

/* Option lists of the atoms where a choice was made, keyed by atom. */
typedef struct {
	list_t *opts; /* per atom */
	char *has;    /* atom has a stored option list */
} options_t;

/* RDKit's backTrack: undo everything after the last choice and walk from it again. */
static void back_track(kctx_t *c, int last_opt, list_t *done, list_t *queue, char *cand,
                       char *added)
{
	sm_mol_t *m = c->m;
	int at = index_of(done, last_opt);
	for (int i = done->n - 1; i >= at; i--)
		push_front(c, queue, done->v[i]);
	for (int b = 0; b < m->n_bonds; b++) {
		if (!added[b])
			continue;
		int a1 = m->bonds[b].a, a2 = m->bonds[b].b;
		int i1 = index_of(done, a1), i2 = index_of(done, a2);
		if ((i1 < 0 || i1 >= at) && (i2 < 0 || i2 >= at)) {
			added[b] = 0;
			m->bonds[b].type = SM_SINGLE;
			cand[a1] = cand[a2] = 1;
		}
	}
	done->n = at;
}

/* RDKit's kekulizeWorker: 1 kekulized, 0 not possible. */
static int kekulize_worker(kctx_t *c, const list_t *atoms, char *cand, list_t *done)
{
	sm_mol_t *m = c->m;
	int n = m->n_atoms, ok = 1, last_opt = -1, n_bt = 0;
	list_t queue = {0}, bt_moves = {0}, opts = {0}, lstack = {0};
	options_t o = {calloc((size_t)n + 1, sizeof(list_t)), calloc((size_t)n + 1, 1)};
	char *added = calloc((size_t)m->n_bonds + 1, 1), *local = calloc((size_t)m->n_bonds + 1, 1);
	if (!o.opts || !o.has || !added || !local) {
		c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto out;
	}
	while ((done->n < atoms->n || queue.n) && !c->err) {
		int curr = -1;
		if (queue.n) {
			curr = pop_front(&queue);
		} else {
			for (int i = 0; i < atoms->n && curr < 0; i++)
				if (index_of(done, atoms->v[i]) < 0)
					curr = atoms->v[i];
			if (curr < 0)
				break;
		}
		push(c, done, curr);
		opts.n = 0;
		int c_cand = cand[curr];
		if (o.has[curr]) {
			for (int i = 0; i < o.opts[curr].n; i++)
				push(c, &opts, o.opts[curr].v[i]);
		} else {
			lstack.n = 0;
			for (int k = m->adj_start[curr]; k < m->adj_start[curr + 1]; k++) {
				int b = m->adj[k], nbr = sm_other(m, b, curr);
				if (index_of(done, nbr) >= 0 || !c->in_system[nbr])
					continue;
				if (index_of(&queue, nbr) < 0)
					push_front(c, &lstack, nbr);
				if (c_cand && cand[nbr] && m->bonds[b].aromatic)
					push(c, &opts, nbr);
			}
			for (int i = 0; i < lstack.n; i++)
				push(c, &queue, lstack.v[i]);
		}
		if (!c_cand)
			continue;
		if (opts.n) {
			int nb = pop_front(&opts);
			int b = sm_bond_between(m, curr, nb);
			m->bonds[b].type = SM_DOUBLE;
			cand[curr] = cand[nb] = 0;
			added[b] = local[b] = 1;
			if (o.has[curr]) {
				if (opts.n == 0) {
					o.has[curr] = 0;
					bt_moves.n--;
					last_opt = bt_moves.n ? bt_moves.v[bt_moves.n - 1] : -1;
				} else {
					o.opts[curr].n = 0;
					for (int i = 0; i < opts.n; i++)
						push(c, &o.opts[curr], opts.v[i]);
				}
			} else if (opts.n) {
				last_opt = curr;
				push(c, &bt_moves, curr);
				o.has[curr] = 1;
				o.opts[curr].n = 0;
				for (int i = 0; i < opts.n; i++)
					push(c, &o.opts[curr], opts.v[i]);
			}
		} else if (last_opt >= 0 && n_bt < MAX_BACKTRACKS) {
			/* a candidate atom without a partner: an earlier choice was wrong */
			back_track(c, last_opt, done, &queue, cand, added);
			n_bt++;
		} else {
			for (int b = 0; b < m->n_bonds; b++)
				if (local[b])
					m->bonds[b].type = SM_SINGLE;
			ok = 0;
			break;
		}
	}
out:
	if (o.opts)
		for (int i = 0; i < n; i++)
			free(o.opts[i].v);
	free(o.opts);
	free(o.has);
	free(added);
	free(local);
	free(queue.v);
	free(bt_moves.v);
	free(opts.v);
	free(lstack.v);
	return ok;
}

static int kekulize_system(kctx_t *c, const list_t *rings_of_system)
{
	sm_mol_t *m = c->m;
	list_t atoms = {0}, done = {0};
	char *cand = calloc((size_t)m->n_atoms + 1, 1), *cand0 = malloc((size_t)m->n_atoms + 1);
	int rc = OF3_OK;
	if (!cand || !cand0) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < rings_of_system->n; i++) {
		int r = rings_of_system->v[i];
		for (int k = m->ring_start[r]; k < m->ring_start[r + 1]; k++)
			if (index_of(&atoms, m->ring_atoms[k]) < 0)
				push(c, &atoms, m->ring_atoms[k]);
	}
	memset(c->in_system, 0, (size_t)m->n_atoms);
	for (int i = 0; i < atoms.n; i++)
		c->in_system[atoms.v[i]] = 1;
	mark_candidates(c, &atoms, cand, &done);
	memcpy(cand0, cand, (size_t)m->n_atoms);
	if (!c->err && !kekulize_worker(c, &atoms, cand, &done) && !c->err) {
		int first = -1, k = 0;
		char list[256] = "";
		for (int i = 0; i < m->n_atoms; i++)
			if (cand0[i]) {
				if (first < 0)
					first = i;
				if (k < (int)sizeof list - 16)
					k += snprintf(list + k, sizeof list - (size_t)k, " %d",
					              i + 1);
			}
		if (first < 0)
			first = atoms.v[0];
		rc = sm_err(m, m->atoms[first].pos,
		            "the aromatic system cannot be kekulized (atoms left without a double "
		            "bond:%s)",
		            list[0] ? list : " none");
	}
out:
	if (c->err)
		rc = c->err;
	free(atoms.v);
	free(done.v);
	free(cand);
	free(cand0);
	return rc;
}

int sm_kekulize(sm_mol_t *m)
{
	int any = 0;
	for (int i = 0; i < m->n_bonds; i++)
		any |= m->bonds[i].aromatic;
	for (int i = 0; i < m->n_atoms; i++) {
		sm_recompute_implicit(m, i); /* RDKit's calcImplicitValence(false) first */
		any |= sm_is_aromatic_atom(m, i);
	}
	if (!any)
		return OF3_OK;
	kctx_t c = {m, 0, calloc((size_t)m->n_atoms + 1, 1)};
	int n = m->n_rings, rc = OF3_OK;
	char *share = calloc((size_t)n * (size_t)n + 1, 1), *fused_done = calloc((size_t)n + 1, 1);
	int *stack = malloc(sizeof *stack * ((size_t)n + 1));
	list_t system = {0};
	if (!c.in_system || !share || !fused_done || !stack) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* rings are neighbours when they share a bond */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++) {
			int hit = 0;
			for (int a = m->ring_start[i]; a < m->ring_start[i + 1] && !hit; a++) {
				int len_i = m->ring_start[i + 1] - m->ring_start[i];
				int x = m->ring_atoms[a];
				int y = m->ring_atoms[m->ring_start[i] +
				                      (a - m->ring_start[i] + 1) % len_i];
				int len_j = m->ring_start[j + 1] - m->ring_start[j];
				for (int b = m->ring_start[j]; b < m->ring_start[j + 1] && !hit;
				     b++) {
					int u = m->ring_atoms[b];
					int v = m->ring_atoms[m->ring_start[j] +
					                      (b - m->ring_start[j] + 1) % len_j];
					hit = (x == u && y == v) || (x == v && y == u);
				}
			}
			share[(size_t)i * n + j] = share[(size_t)j * n + i] = (char)hit;
		}
	/* ring systems by depth-first search over neighbours (RDKit's pickFusedRings) */
	for (int start = 0; start < n && rc >= 0; start++) {
		if (fused_done[start])
			continue;
		system.n = 0;
		int sp = 0;
		stack[sp++] = start;
		/* recursive order: a ring, then each undone neighbour's whole subtree in turn */
		int *next = calloc((size_t)n + 1, sizeof *next);
		if (!next) {
			rc = of3_err(OF3_ERR_NOMEM, "out of memory");
			break;
		}
		fused_done[start] = 1;
		push(&c, &system, start);
		while (sp) {
			int r = stack[sp - 1], j = next[r];
			while (j < n && (fused_done[j] || !share[(size_t)r * n + j]))
				j++;
			next[r] = j + 1;
			if (j >= n) {
				sp--;
				continue;
			}
			fused_done[j] = 1;
			push(&c, &system, j);
			stack[sp++] = j;
		}
		free(next);
		if (c.err) {
			rc = c.err;
			break;
		}
		rc = kekulize_system(&c, &system);
	}
	if (rc < 0)
		goto out;
	/* the aromatic flags go; pyrrole-type N and P lose the explicit H they were written with */
	for (int i = 0; i < m->n_bonds; i++)
		m->bonds[i].aromatic = 0;
	for (int i = 0; i < m->n_atoms; i++) {
		sm_atom_t *a = &m->atoms[i];
		if (!a->aromatic)
			continue;
		if (m->atom_n_rings[i] == 0) {
			rc = sm_err(m, a->pos, "atom %d is written aromatic but is not in a ring",
			            i + 1);
			goto out;
		}
		a->aromatic = 0;
		if ((a->z == 7 || a->z == 15) && a->charge == 0 && a->n_explicit_h == 1) {
			a->no_implicit = 0;
			a->n_explicit_h = 0;
			sm_update_atom_valence(m, i);
		}
	}
out:
	free(c.in_system);
	free(share);
	free(fused_done);
	free(stack);
	free(system.v);
	return rc;
}
