/* smiles_rings.c: the ring list RDKit's sanitization stores on a molecule (symmetrizeSSSR:
 * the smallest set of smallest rings by RDKit's variant of Figueras' algorithm, plus the rings
 * of equal size that could replace one of them). Kekulization walks these rings in this order
 * and from the first atom of the first ring, so the rings, their order and the order of the
 * atoms inside each ring all follow RDKit's, step for step: trimming of chain atoms,
 * breadth-first searches from degree-2 atoms (one per chain of them), the degree-3 fallback,
 * removal of extra rings after a sort by size, and symmetrization. Dative bonds are not ring
 * bonds. */
#include <stdlib.h>
#include <string.h>

#include "smiles_internal.h"

#define BFS_QUEUE_MAX 200000 /* RDKit gives up on paths beyond this many */

typedef struct {
	int *v;
	int n, cap;
} ivec_t;

typedef struct {
	ivec_t *r;
	int n, cap;
} rings_t;

typedef struct {
	sm_mol_t *m;
	int err;
	char *active;    /* bond takes part (not dative, not trimmed) */
	int *degree;     /* active degree */
	rings_t invars;  /* every ring found so far, to skip duplicates (as atom sets) */
	rings_t extras;  /* rings removeExtraRings set aside, for symmetrization */
	char *ring_bond; /* bonds of rings found from degree-2 atoms */
	char *ring_atom;
} ctx_t;

static void ivec_push(ctx_t *c, ivec_t *v, int x)
{
	if (c->err)
		return;
	if (v->n == v->cap) {
		int cap = v->cap ? 2 * v->cap : 8;
		int *p = realloc(v->v, sizeof *p * (size_t)cap);
		if (!p) {
			c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
			return;
		}
		v->v = p;
		v->cap = cap;
	}
	v->v[v->n++] = x;
}

static int ivec_has(const ivec_t *v, int x)
{
	for (int i = 0; i < v->n; i++)
		if (v->v[i] == x)
			return 1;
	return 0;
}

static void rings_push(ctx_t *c, rings_t *rs, const ivec_t *ring)
{
	if (c->err)
		return;
	if (rs->n == rs->cap) {
		int cap = rs->cap ? 2 * rs->cap : 8;
		ivec_t *p = realloc(rs->r, sizeof *p * (size_t)cap);
		if (!p) {
			c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
			return;
		}
		rs->r = p;
		rs->cap = cap;
	}
	ivec_t copy = {0};
	for (int i = 0; i < ring->n; i++)
		ivec_push(c, &copy, ring->v[i]);
	rs->r[rs->n++] = copy;
}

static void rings_free(rings_t *rs)
{
	for (int i = 0; i < rs->n; i++)
		free(rs->r[i].v);
	free(rs->r);
	memset(rs, 0, sizeof *rs);
}

/* Two rings are the same ring when they hold the same atoms. */
static int same_atoms(const ivec_t *a, const ivec_t *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (!ivec_has(b, a->v[i]))
			return 0;
	return 1;
}

static int find_ring(const rings_t *rs, const ivec_t *ring)
{
	for (int i = 0; i < rs->n; i++)
		if (same_atoms(&rs->r[i], ring))
			return i;
	return -1;
}

/* boost::dynamic_bitset's operator< on atom sets: the highest atom where they differ. */
static int cmp_atom_sets(const ivec_t *a, const ivec_t *b, int n_atoms)
{
	for (int i = n_atoms - 1; i >= 0; i--) {
		int x = ivec_has(a, i), y = ivec_has(b, i);
		if (x != y)
			return x ? 1 : -1;
	}
	return 0;
}

/* The bonds of a ring: ring[i]-ring[i+1], then the last atom back to the first. */
static void ring_bonds(ctx_t *c, const ivec_t *ring, ivec_t *out)
{
	out->n = 0;
	for (int i = 0; i < ring->n; i++) {
		int b = sm_bond_between(c->m, ring->v[i], ring->v[(i + 1) % ring->n]);
		ivec_push(c, out, b);
	}
}

static void trim_bonds(ctx_t *c, int cand, char *active, int *degree, ivec_t *changed)
{
	const sm_mol_t *m = c->m;
	for (int k = m->adj_start[cand]; k < m->adj_start[cand + 1]; k++) {
		int b = m->adj[k];
		if (!active[b])
			continue;
		int o = sm_other(m, b, cand);
		if (degree[o] <= 2 && changed && !ivec_has(changed, o))
			ivec_push(c, changed, o);
		active[b] = 0;
		degree[o]--;
		degree[cand]--;
	}
}

static int pop_smallest(ivec_t *set)
{
	int best = 0;
	for (int i = 1; i < set->n; i++)
		if (set->v[i] < set->v[best])
			best = i;
	int x = set->v[best];
	set->v[best] = set->v[--set->n];
	return x;
}

/* All smallest rings through root (RDKit's smallestRingsBfs); returns how many. */
static int smallest_rings_bfs(ctx_t *c, int root, const char *active, const int *forbidden,
                              int n_forbidden, rings_t *out)
{
	const sm_mol_t *m = c->m;
	int n = m->n_atoms, found = 0;
	enum { WHITE, GRAY, BLACK };
	char *done = calloc((size_t)n + 1, 1);
	int *parent = malloc(sizeof *parent * ((size_t)n + 1));
	int *depth = calloc((size_t)n + 1, sizeof *depth);
	int *queue = malloc(sizeof *queue * ((size_t)n + 1));
	char *mark = calloc((size_t)n + 1, 1); /* atoms on the two paths */
	ivec_t ring = {0};
	if (!done || !parent || !depth || !queue || !mark) {
		c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++)
		parent[i] = -1;
	for (int i = 0; i < n_forbidden; i++)
		done[forbidden[i]] = BLACK;
	int head = 0, tail = 0, cur_size = 1 << 30;
	queue[tail++] = root;
	while (head < tail) {
		int curr = queue[head++];
		done[curr] = BLACK;
		int d = depth[curr] + 1;
		if (d > cur_size)
			break;
		for (int k = m->adj_start[curr]; k < m->adj_start[curr + 1]; k++) {
			int b = m->adj[k];
			if (!active[b])
				continue;
			int nbr = sm_other(m, b, curr);
			if (done[nbr] == BLACK || parent[curr] == nbr)
				continue;
			if (done[nbr] == WHITE) {
				parent[nbr] = curr;
				done[nbr] = GRAY;
				depth[nbr] = d;
				queue[tail++] = nbr;
				continue;
			}
			/* reached again by another path: the two paths close a ring, unless they
			 * meet before the root */
			ring.n = 0;
			ivec_push(c, &ring, nbr);
			for (int p = parent[nbr]; p != -1 && p != root; p = parent[p])
				ivec_push(c, &ring, p);
			ivec_t back = {0};
			ivec_push(c, &back, curr);
			for (int i = 0; i < ring.n && !c->err; i++)
				mark[ring.v[i]] = 1;
			mark[curr] = 1;
			int ok = 1;
			for (int p = parent[curr]; p != -1; p = parent[p]) {
				if (mark[p]) {
					ok = 0;
					break;
				}
				mark[p] = 1;
				ivec_push(c, &back, p);
			}
			for (int i = 0; i < ring.n && !c->err; i++)
				mark[ring.v[i]] = 0;
			for (int i = 0; i < back.n && !c->err; i++)
				mark[back.v[i]] = 0;
			if (c->err) {
				free(back.v);
				goto out;
			}
			if (!ok) {
				free(back.v);
				continue;
			}
			/* ring = reversed(back) + ring: root ... curr, nbr ... */
			ivec_t full = {0};
			for (int i = back.n - 1; i >= 0; i--)
				ivec_push(c, &full, back.v[i]);
			for (int i = 0; i < ring.n; i++)
				ivec_push(c, &full, ring.v[i]);
			free(back.v);
			if (full.n > 1) {
				if (full.n <= cur_size) {
					cur_size = full.n;
					rings_push(c, out, &full);
					found++;
				} else {
					free(full.v);
					goto out;
				}
			}
			free(full.v);
		}
	}
out:
	free(done);
	free(parent);
	free(depth);
	free(queue);
	free(mark);
	free(ring.v);
	return found;
}

/* Adds a ring to res unless an equal one was found before; marks ring atoms and bonds. */
static void add_new_ring(ctx_t *c, rings_t *res, const ivec_t *ring, int mark)
{
	if (find_ring(&c->invars, ring) >= 0)
		return;
	rings_push(c, res, ring);
	rings_push(c, &c->invars, ring);
	if (mark && !c->err) {
		for (int i = 0; i < ring->n; i++) {
			c->ring_atom[ring->v[i]] = 1;
			c->ring_bond[sm_bond_between(c->m, ring->v[i],
			                             ring->v[(i + 1) % ring->n])] = 1;
		}
	}
}

static void mark_useless_d2s(ctx_t *c, int root, char *forb)
{
	const sm_mol_t *m = c->m;
	for (int k = m->adj_start[root]; k < m->adj_start[root + 1]; k++) {
		int b = m->adj[k];
		if (!c->active[b])
			continue;
		int o = sm_other(m, b, root);
		if (!forb[o] && c->degree[o] == 2) {
			forb[o] = 1;
			mark_useless_d2s(c, o, forb);
		}
	}
}

/* One degree-2 atom per chain of them, in fragment order. */
static void pick_d2_nodes(ctx_t *c, const ivec_t *frag, ivec_t *d2)
{
	d2->n = 0;
	char *forb = calloc((size_t)c->m->n_atoms + 1, 1);
	if (!forb) {
		c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
		return;
	}
	for (;;) {
		int root = -1;
		for (int i = 0; i < frag->n; i++) {
			int a = frag->v[i];
			if (c->degree[a] == 2 && !forb[a]) {
				root = a;
				ivec_push(c, d2, a);
				forb[a] = 1;
				break;
			}
		}
		if (root < 0)
			break;
		mark_useless_d2s(c, root, forb);
	}
	free(forb);
}

typedef struct {
	ivec_t ring;  /* a ring found from more than one degree-2 atom */
	ivec_t nodes; /* those atoms */
} dup_t;

static void find_rings_d2_nodes(ctx_t *c, rings_t *res, const ivec_t *d2)
{
	const sm_mol_t *m = c->m;
	int n = m->n_atoms;
	dup_t *dups = NULL; /* std::map<ring atom set, d2 atoms> */
	int n_dups = 0;
	ivec_t *dup_map = calloc((size_t)n + 1, sizeof *dup_map);        /* d2 atom -> others */
	rings_t *node_rings = calloc((size_t)n + 1, sizeof *node_rings); /* d2 atom -> rings */
	if (!dup_map || !node_rings) {
		c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int di = 0; di < d2->n && !c->err; di++) {
		int cand = d2->v[di];
		rings_t srings = {0};
		int ns = smallest_rings_bfs(c, cand, c->active, NULL, 0, &srings);
		for (int r = 0; r < ns && !c->err; r++) {
			const ivec_t *ring = &srings.r[r];
			add_new_ring(c, res, ring, 1);
			rings_push(c, &node_rings[cand], ring);
			for (int node = 0; node < n; node++) /* std::map order: by atom */
				if (node != cand && node_rings[node].n &&
				    find_ring(&node_rings[node], ring) >= 0) {
					ivec_push(c, &dup_map[cand], node);
					ivec_push(c, &dup_map[node], cand);
				}
			int k = 0;
			while (k < n_dups && !same_atoms(&dups[k].ring, ring))
				k++;
			if (k == n_dups) {
				dup_t *p = realloc(dups, sizeof *p * (size_t)(n_dups + 1));
				if (!p) {
					c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
					break;
				}
				dups = p;
				memset(&dups[n_dups], 0, sizeof *dups);
				for (int i = 0; i < ring->n; i++)
					ivec_push(c, &dups[n_dups].ring, ring->v[i]);
				n_dups++;
			}
			ivec_push(c, &dups[k].nodes, cand);
		}
		if (ns == 0) {
			/* a chain that closes no ring: trim it away */
			ivec_t changed = {0};
			ivec_push(c, &changed, cand);
			while (changed.n && !c->err)
				trim_bonds(c, pop_smallest(&changed), c->active, c->degree,
				           &changed);
			free(changed.v);
		}
		rings_free(&srings);
	}
	/* rings found from several degree-2 atoms can hide another small ring: cut the bonds
	 * to the other atoms and search again (RDKit's findSSSRforDupCands), in the map's
	 * order of ring atom sets */
	for (int i = 1; i < n_dups; i++)
		for (int j = i; j > 0 && cmp_atom_sets(&dups[j].ring, &dups[j - 1].ring, n) < 0;
		     j--) {
			dup_t t = dups[j];
			dups[j] = dups[j - 1];
			dups[j - 1] = t;
		}
	for (int k = 0; k < n_dups && !c->err; k++) {
		if (dups[k].nodes.n < 2)
			continue;
		rings_t nrings = {0};
		int min_size = 1 << 30;
		for (int di = 0; di < dups[k].nodes.n && !c->err; di++) {
			int cand = dups[k].nodes.v[di];
			char *active = malloc((size_t)m->n_bonds + 1);
			int *degree = malloc(sizeof *degree * ((size_t)n + 1));
			if (!active || !degree) {
				free(active);
				free(degree);
				c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
				break;
			}
			memcpy(active, c->active, (size_t)m->n_bonds);
			memcpy(degree, c->degree, sizeof *degree * (size_t)n);
			for (int t = 0; t < dup_map[cand].n; t++)
				trim_bonds(c, dup_map[cand].v[t], active, degree, NULL);
			int before = nrings.n;
			smallest_rings_bfs(c, cand, active, NULL, 0, &nrings);
			for (int r = before; r < nrings.n; r++)
				if (nrings.r[r].n < min_size)
					min_size = nrings.r[r].n;
			free(active);
			free(degree);
		}
		for (int r = 0; r < nrings.n && !c->err; r++)
			if (nrings.r[r].n == min_size)
				add_new_ring(c, res, &nrings.r[r], 0);
		rings_free(&nrings);
	}
out:
	for (int k = 0; k < n_dups; k++) {
		free(dups[k].ring.v);
		free(dups[k].nodes.v);
	}
	free(dups);
	if (dup_map)
		for (int i = 0; i < n; i++)
			free(dup_map[i].v);
	free(dup_map);
	if (node_rings)
		for (int i = 0; i < n; i++)
			rings_free(&node_rings[i]);
	free(node_rings);
}

/* No degree-2 atom left: the three rings through the first degree-3 atom. */
static void find_rings_d3_node(ctx_t *c, rings_t *res, int cand)
{
	const sm_mol_t *m = c->m;
	rings_t s = {0};
	int nsmall = smallest_rings_bfs(c, cand, c->active, NULL, 0, &s);
	for (int r = 0; r < s.n; r++)
		add_new_ring(c, res, &s.r[r], 0);
	if (nsmall < 3 && nsmall > 0 && !c->err) {
		int nb[3], k3 = 0;
		for (int k = m->adj_start[cand]; k < m->adj_start[cand + 1] && k3 < 3; k++)
			if (c->active[m->adj[k]])
				nb[k3++] = sm_other(m, m->adj[k], cand);
		if (k3 < 3) {
			rings_free(&s);
			return;
		}
		rings_t t = {0};
		if (nsmall == 2) {
			int f = -1;
			for (int i = 0; i < 3 && f < 0; i++)
				if (ivec_has(&s.r[0], nb[i]) && ivec_has(&s.r[1], nb[i]))
					f = nb[i];
			if (f >= 0) {
				smallest_rings_bfs(c, cand, c->active, &f, 1, &t);
				for (int r = 0; r < t.n; r++)
					add_new_ring(c, res, &t.r[r], 0);
			}
		} else {
			int f1 = -1, f2 = -1;
			if (!ivec_has(&s.r[0], nb[0]))
				f1 = nb[1], f2 = nb[2];
			else if (!ivec_has(&s.r[0], nb[1]))
				f1 = nb[0], f2 = nb[2];
			else if (!ivec_has(&s.r[0], nb[2]))
				f1 = nb[0], f2 = nb[1];
			if (f1 >= 0) {
				smallest_rings_bfs(c, cand, c->active, &f2, 1, &t);
				for (int r = 0; r < t.n; r++)
					add_new_ring(c, res, &t.r[r], 0);
				rings_free(&t);
				smallest_rings_bfs(c, cand, c->active, &f1, 1, &t);
				for (int r = 0; r < t.n; r++)
					add_new_ring(c, res, &t.r[r], 0);
			}
		}
		rings_free(&t);
	}
	rings_free(&s);
}

/* RDKit sorts the rings by size with std::sort, which is not stable: equal-sized rings end up
 * in the order libstdc++'s introsort leaves them (sm_std_sort). */
static void sort_by_size(ctx_t *c, rings_t *rs)
{
	int n = rs->n;
	sm_sort_item_t *items = malloc(sizeof *items * ((size_t)n + 1));
	ivec_t *sorted = malloc(sizeof *sorted * ((size_t)n + 1));
	if (!items || !sorted) {
		c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
	} else {
		for (int i = 0; i < n; i++)
			items[i] = (sm_sort_item_t){rs->r[i].n, i};
		sm_std_sort(items, n);
		for (int i = 0; i < n; i++)
			sorted[i] = rs->r[items[i].index];
		memcpy(rs->r, sorted, sizeof *sorted * (size_t)n);
	}
	free(items);
	free(sorted);
}

/* More rings than the cyclomatic number: keep the smallest that add new bonds. */
static void remove_extra_rings(ctx_t *c, rings_t *res)
{
	const sm_mol_t *m = c->m;
	int n = res->n, nb = m->n_bonds;
	if (n < 1)
		return;
	sort_by_size(c, res);
	if (c->err)
		return;
	char *bits = calloc((size_t)n * (size_t)nb + 1, 1);
	char *avail = malloc((size_t)n + 1), *keep = calloc((size_t)n + 1, 1);
	char *consider = malloc((size_t)n + 1), *munion = calloc((size_t)nb + 1, 1);
	ivec_t bonds = {0};
	if (!bits || !avail || !keep || !consider || !munion) {
		c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		ring_bonds(c, &res->r[i], &bonds);
		for (int k = 0; k < bonds.n && !c->err; k++)
			bits[(size_t)i * nb + bonds.v[k]] = 1;
	}
	for (int i = 0; i < n; i++)
		avail[i] = 1;
#define BIT(i, b) bits[(size_t)(i)*nb + (b)]
	for (int i = 0; i < n; i++) {
		int subset = 1;
		for (int b = 0; b < nb && subset; b++)
			subset = !BIT(i, b) || munion[b];
		if (subset)
			avail[i] = 0;
		if (!avail[i])
			continue;
		for (int b = 0; b < nb; b++)
			munion[b] |= BIT(i, b);
		keep[i] = 1;
		int size = res->r[i].n, any = 0;
		memset(consider, 0, (size_t)n);
		for (int j = i + 1; j < n; j++)
			if (avail[j] && res->r[j].n == size)
				consider[j] = 1, any = 1;
		while (any) {
			int best = i + 1, best_overlap = -1;
			for (int j = i + 1; j < n && res->r[j].n == size; j++) {
				if (!consider[j] || !avail[j])
					continue;
				int overlap = 0;
				for (int b = 0; b < nb; b++)
					overlap += BIT(j, b) && munion[b];
				if (overlap > best_overlap)
					best_overlap = overlap, best = j;
			}
			consider[best] = 0;
			int sub = 1;
			for (int b = 0; b < nb && sub; b++)
				sub = !BIT(best, b) || munion[b];
			if (!sub) {
				keep[best] = 1;
				for (int b = 0; b < nb; b++)
					munion[b] |= BIT(best, b);
			}
			avail[best] = 0;
			any = 0;
			for (int j = i + 1; j < n; j++)
				any |= consider[j];
		}
	}
#undef BIT
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (keep[i])
			res->r[k++] = res->r[i];
		else {
			rings_push(c, &c->extras, &res->r[i]);
			free(res->r[i].v);
		}
	}
	res->n = k;
out:
	free(bits);
	free(avail);
	free(keep);
	free(consider);
	free(munion);
	free(bonds.v);
}

/* RDKit's fastFindRings (depth-first), the fallback when too few rings were found. */
static void dfs_rings(ctx_t *c, int atom, int from, char *color, ivec_t *path, rings_t *res)
{
	const sm_mol_t *m = c->m;
	color[atom] = 1;
	ivec_push(c, path, atom);
	for (int k = m->adj_start[atom]; k < m->adj_start[atom + 1] && !c->err; k++) {
		int nbr = sm_other(m, m->adj[k], atom);
		if (color[nbr] == 0) {
			if (m->adj_start[nbr + 1] - m->adj_start[nbr] < 2)
				color[nbr] = 2;
			else
				dfs_rings(c, nbr, atom, color, path, res);
		} else if (color[nbr] == 1 && from >= 0 && nbr != from) {
			ivec_t cycle = {0};
			int i = path->n - 1;
			while (i >= 0 && path->v[i] != atom)
				i--;
			for (; i >= 0 && path->v[i] != nbr; i--)
				ivec_push(c, &cycle, path->v[i]);
			ivec_push(c, &cycle, nbr);
			rings_push(c, res, &cycle);
			free(cycle.v);
		}
	}
	color[atom] = 2;
	path->n--;
}

static void fast_find_rings(ctx_t *c, rings_t *res)
{
	const sm_mol_t *m = c->m;
	char *color = calloc((size_t)m->n_atoms + 1, 1);
	ivec_t path = {0};
	if (!color) {
		c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
		return;
	}
	for (int i = 0; i < m->n_atoms && !c->err; i++) {
		if (color[i])
			continue;
		if (m->adj_start[i + 1] - m->adj_start[i] < 2) {
			color[i] = 2;
			continue;
		}
		dfs_rings(c, i, -1, color, &path, res);
	}
	free(color);
	free(path.v);
}

/* RDKit's fix for highly fused systems: a ring through a bond between ring atoms that no
 * ring found so far contains (breadth-first over paths). 1 found, 0 not. */
static int ring_connecting_atoms(ctx_t *c, int bond, rings_t *res)
{
	const sm_mol_t *m = c->m;
	int start = m->bonds[bond].a, end = m->bonds[bond].b, found = 0;
	rings_t queue = {0};
	ivec_t first = {0};
	ivec_push(c, &first, start);
	rings_push(c, &queue, &first);
	free(first.v);
	for (int head = 0; head < queue.n && !found && !c->err; head++) {
		if (queue.n - head >= BFS_QUEUE_MAX) {
			c->err = sm_err(m, 0, "ring system too large to analyse");
			break;
		}
		ivec_t path = queue.r[head];
		int curr = path.v[path.n - 1];
		for (int k = m->adj_start[curr]; k < m->adj_start[curr + 1] && !found; k++) {
			int nbr = sm_other(m, m->adj[k], curr);
			if (nbr == end) {
				if (curr == start)
					continue;
				ivec_t cand = {0};
				for (int i = 0; i < path.n; i++)
					ivec_push(c, &cand, path.v[i]);
				ivec_push(c, &cand, nbr);
				if (find_ring(&c->invars, &cand) < 0) {
					add_new_ring(c, res, &cand, 1);
					found = 1;
				}
				free(cand.v);
			} else if (c->ring_atom[nbr] && !ivec_has(&path, nbr)) {
				ivec_t next = {0};
				for (int i = 0; i < path.n; i++)
					ivec_push(c, &next, path.v[i]);
				ivec_push(c, &next, nbr);
				rings_push(c, &queue, &next);
				free(next.v);
				path = queue.r[head]; /* queue.r may have moved */
			}
		}
	}
	rings_free(&queue);
	return found;
}

/* RDKit's findSSSR; returns 1 when it fell back to fastFindRings. */
static int find_sssr(ctx_t *c, rings_t *res)
{
	sm_mol_t *m = c->m;
	int n = m->n_atoms;
	for (int i = 0; i < m->n_bonds; i++)
		c->active[i] = m->bonds[i].type != SM_DATIVE;
	int *full_degree = calloc((size_t)n + 1, sizeof *full_degree);
	int *frag_of = malloc(sizeof *frag_of * ((size_t)n + 1));
	int *stack = malloc(sizeof *stack * ((size_t)n + 1));
	char *done = malloc((size_t)n + 1);
	if (!full_degree || !frag_of || !stack || !done) {
		c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		full_degree[i] = m->adj_start[i + 1] - m->adj_start[i];
		c->degree[i] = 0;
		for (int k = m->adj_start[i]; k < m->adj_start[i + 1]; k++)
			c->degree[i] += c->active[m->adj[k]];
		frag_of[i] = -1;
	}
	/* fragments (all bonds), numbered by their lowest atom, atoms ascending */
	int n_frags = 0;
	for (int i = 0; i < n; i++) {
		if (frag_of[i] >= 0)
			continue;
		int sp = 0;
		stack[sp++] = i;
		frag_of[i] = n_frags;
		while (sp) {
			int a = stack[--sp];
			for (int k = m->adj_start[a]; k < m->adj_start[a + 1]; k++) {
				int o = sm_other(m, m->adj[k], a);
				if (frag_of[o] < 0) {
					frag_of[o] = n_frags;
					stack[sp++] = o;
				}
			}
		}
		n_frags++;
	}
	for (int f = 0; f < n_frags && !c->err; f++) {
		ivec_t frag = {0}, changed = {0}, d2 = {0};
		rings_t frag_res = {0};
		int bonds_all = 0, bonds_active = 0;
		for (int i = 0; i < n; i++)
			if (frag_of[i] == f) {
				ivec_push(c, &frag, i);
				bonds_all += full_degree[i];
				bonds_active += c->degree[i];
				if (c->degree[i] < 2)
					ivec_push(c, &changed, i);
			}
		bonds_all /= 2;
		bonds_active /= 2;
		if (frag.n < 3 || bonds_all - frag.n + 1 < 1)
			goto next;
		memset(done, 0, (size_t)n);
		int n_done = 0;
		while (n_done < frag.n && !c->err) {
			while (changed.n) {
				int cand = pop_smallest(&changed);
				if (!done[cand]) {
					done[cand] = 1;
					n_done++;
					trim_bonds(c, cand, c->active, c->degree, &changed);
				}
			}
			pick_d2_nodes(c, &frag, &d2);
			if (d2.n) {
				find_rings_d2_nodes(c, &frag_res, &d2);
				for (int i = 0; i < d2.n; i++) {
					done[d2.v[i]] = 1;
					n_done++;
					trim_bonds(c, d2.v[i], c->active, c->degree, &changed);
				}
			} else if (n_done < frag.n) {
				int cand = -1;
				for (int i = 0; i < frag.n && cand < 0; i++)
					if (c->degree[frag.v[i]] == 3)
						cand = frag.v[i];
				if (cand < 0)
					break;
				find_rings_d3_node(c, &frag_res, cand);
				done[cand] = 1;
				n_done++;
				trim_bonds(c, cand, c->active, c->degree, &changed);
			}
		}
		int expected = bonds_active - frag.n + 1;
		if (frag_res.n < expected && !c->err) {
			int *dead = calloc((size_t)m->n_bonds + 1, sizeof *dead);
			if (!dead) {
				c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
				goto next;
			}
			for (;;) {
				int cand = -1;
				for (int b = 0; b < bonds_active && b < m->n_bonds && cand < 0; b++)
					if (!c->ring_bond[b] && !dead[b] &&
					    c->ring_atom[m->bonds[b].a] &&
					    c->ring_atom[m->bonds[b].b])
						cand = b;
				if (cand < 0 || c->err)
					break;
				if (!ring_connecting_atoms(c, cand, &frag_res))
					dead[cand] = 1;
			}
			free(dead);
			if (frag_res.n < expected && !c->err) {
				rings_free(&frag_res);
				free(frag.v);
				free(changed.v);
				free(d2.v);
				rings_free(res);
				fast_find_rings(c, res);
				goto fallback;
			}
		}
		if (frag_res.n > expected)
			remove_extra_rings(c, &frag_res);
		for (int r = 0; r < frag_res.n; r++)
			rings_push(c, res, &frag_res.r[r]);
	next:
		rings_free(&frag_res);
		free(frag.v);
		free(changed.v);
		free(d2.v);
	}
out:
	free(full_degree);
	free(frag_of);
	free(stack);
	free(done);
	return 0;
fallback:
	free(full_degree);
	free(frag_of);
	free(stack);
	free(done);
	return 1;
}

/* Extra rings of the same size that could replace an SSSR ring without losing a bond that
 * only that ring holds are added after the SSSR (RDKit's symmetrizeSSSR). */
static void symmetrize(ctx_t *c, rings_t *res)
{
	const sm_mol_t *m = c->m;
	int n_sssr = res->n;
	int *count = calloc((size_t)m->n_bonds + 1, sizeof *count);
	rings_t bond_rings = {0};
	ivec_t bonds = {0}, extra = {0};
	if (!count) {
		c->err = of3_err(OF3_ERR_NOMEM, "out of memory");
		return;
	}
	for (int r = 0; r < n_sssr; r++) {
		ring_bonds(c, &res->r[r], &bonds);
		rings_push(c, &bond_rings, &bonds);
		for (int k = 0; k < bonds.n && !c->err; k++)
			count[bonds.v[k]]++;
	}
	for (int e = 0; e < c->extras.n && !c->err; e++) {
		ring_bonds(c, &c->extras.r[e], &extra);
		for (int r = 0; r < n_sssr && !c->err; r++) {
			const ivec_t *ring = &bond_rings.r[r];
			if (ring->n != extra.n)
				continue;
			int share = 0, replaces = 1;
			for (int k = 0; k < ring->n; k++) {
				int b = ring->v[k];
				if (count[b] == 1 || !share) {
					if (ivec_has(&extra, b))
						share = 1;
					else if (count[b] == 1)
						replaces = 0;
				}
			}
			if (share && replaces) {
				rings_push(c, res, &c->extras.r[e]);
				break;
			}
		}
	}
	free(count);
	rings_free(&bond_rings);
	free(bonds.v);
	free(extra.v);
}

int sm_find_rings(sm_mol_t *m)
{
	ctx_t c = {0};
	c.m = m;
	rings_t res = {0};
	c.active = calloc((size_t)m->n_bonds + 1, 1);
	c.degree = calloc((size_t)m->n_atoms + 1, sizeof *c.degree);
	c.ring_bond = calloc((size_t)m->n_bonds + 1, 1);
	c.ring_atom = calloc((size_t)m->n_atoms + 1, 1);
	if (!c.active || !c.degree || !c.ring_bond || !c.ring_atom)
		c.err = of3_err(OF3_ERR_NOMEM, "out of memory");
	if (!c.err && !find_sssr(&c, &res) && !c.err && c.extras.n)
		symmetrize(&c, &res);
	if (!c.err) {
		free(m->ring_start);
		free(m->ring_atoms);
		free(m->atom_n_rings);
		free(m->bond_n_rings);
		int total = 0;
		for (int r = 0; r < res.n; r++)
			total += res.r[r].n;
		m->n_rings = res.n;
		m->ring_start = malloc(sizeof *m->ring_start * ((size_t)res.n + 1));
		m->ring_atoms = malloc(sizeof *m->ring_atoms * ((size_t)total + 1));
		m->atom_n_rings = calloc((size_t)m->n_atoms + 1, sizeof *m->atom_n_rings);
		m->bond_n_rings = calloc((size_t)m->n_bonds + 1, sizeof *m->bond_n_rings);
		if (!m->ring_start || !m->ring_atoms || !m->atom_n_rings || !m->bond_n_rings) {
			c.err = of3_err(OF3_ERR_NOMEM, "out of memory");
		} else {
			int k = 0;
			for (int r = 0; r < res.n; r++) {
				m->ring_start[r] = k;
				const ivec_t *ring = &res.r[r];
				for (int i = 0; i < ring->n; i++) {
					m->ring_atoms[k++] = ring->v[i];
					m->atom_n_rings[ring->v[i]]++;
					int b = sm_bond_between(m, ring->v[i],
					                        ring->v[(i + 1) % ring->n]);
					if (b >= 0)
						m->bond_n_rings[b]++;
				}
			}
			m->ring_start[res.n] = k;
		}
	}
	rings_free(&res);
	rings_free(&c.invars);
	rings_free(&c.extras);
	free(c.active);
	free(c.degree);
	free(c.ring_bond);
	free(c.ring_atom);
	return c.err ? c.err : OF3_OK;
}
