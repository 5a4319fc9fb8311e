/* smiles.c: a SMILES string read into the molecular graph RDKit's MolFromSmiles (default
 * parameters) gives, as OpenFold3 records it through biotite's from_mol (spec/data.md §2.7).
 *
 * This file holds the parser and the driver. The parser follows RDKit's SMILES grammar: atoms
 * and chain bonds are numbered as written; ring-closure bonds are added after all of them, in
 * ascending ring number, each pair of uses of a number left to right; the first use's bond
 * symbol wins, and a bare digit on the first use makes the closing atom the bond's begin atom.
 * The driver then runs what MolFromSmiles and OpenFold3's conformer step do to the graph
 * (smiles_internal.h). Not supported, and rejected with a message: dummy atoms '*', query bonds
 * '~', CXSMILES extensions ("C |...|"), more than 10000 atoms. An empty SMILES is an error too
 * (RDKit would return an empty molecule, which OpenFold3 cannot use).
 *
 * Known differences from RDKit 2025.09.3 (none seen in the test cases and ~600,000 randomly
 * edited SMILES, tools/smiles/make_cases.py --mutate): RDKit's stereo perception drops the
 * bracket H of an atom written chiral that is no stereocentre and lets implicit hydrogens
 * replace it (its Issue 194), which changes the count only when that atom also carries an
 * aromatic bond outside a ring ("[C@@H]:CC", total H 0 in RDKit, 1 here); a hypervalent atom
 * bonded to two metals makes its bond to the first one dative, where RDKit breaks the tie by
 * canonical rank. */
#include "smiles.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smiles_internal.h"

#define SMILES_MAX_LEN   (1 << 20)
#define SMILES_MAX_ATOMS 10000 /* a guard: ring perception grows faster than linearly */

/* ---- the molecule ---- */

void sm_mol_clear(sm_mol_t *m)
{
	free(m->atoms);
	free(m->bonds);
	free(m->adj_start);
	free(m->adj);
	free(m->ring_start);
	free(m->ring_atoms);
	free(m->atom_n_rings);
	free(m->bond_n_rings);
	memset(m, 0, sizeof *m);
}

int sm_mol_index(sm_mol_t *m)
{
	free(m->adj_start);
	free(m->adj);
	m->adj_start = calloc((size_t)m->n_atoms + 1, sizeof *m->adj_start);
	m->adj = malloc(sizeof *m->adj * (size_t)(2 * m->n_bonds + 1));
	if (!m->adj_start || !m->adj)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; i < m->n_bonds; i++) {
		m->adj_start[m->bonds[i].a + 1]++;
		m->adj_start[m->bonds[i].b + 1]++;
	}
	for (int i = 0; i < m->n_atoms; i++)
		m->adj_start[i + 1] += m->adj_start[i];
	int *fill = calloc((size_t)m->n_atoms + 1, sizeof *fill);
	if (!fill)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; i < m->n_bonds; i++) {
		int a = m->bonds[i].a, b = m->bonds[i].b;
		m->adj[m->adj_start[a] + fill[a]++] = i;
		m->adj[m->adj_start[b] + fill[b]++] = i;
	}
	free(fill);
	return OF3_OK;
}

int sm_other(const sm_mol_t *m, int bond, int atom)
{
	return m->bonds[bond].a == atom ? m->bonds[bond].b : m->bonds[bond].a;
}

int sm_bond_between(const sm_mol_t *m, int a, int b)
{
	for (int k = m->adj_start[a]; k < m->adj_start[a + 1]; k++)
		if (sm_other(m, m->adj[k], a) == b)
			return m->adj[k];
	return -1;
}

int sm_err(const sm_mol_t *m, int pos, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (pos > 0)
		return of3_err(OF3_ERR_INPUT, "SMILES '%.300s': %s (position %d)", m->smiles, what,
		               pos);
	return of3_err(OF3_ERR_INPUT, "SMILES '%.300s': %s", m->smiles, what);
}

static int add_atom(sm_mol_t *m, const sm_atom_t *a)
{
	if (m->n_atoms >= SMILES_MAX_ATOMS)
		return sm_err(m, a->pos, "more than %d atoms", SMILES_MAX_ATOMS);
	if (m->n_atoms == m->cap_atoms) {
		int cap = m->cap_atoms ? 2 * m->cap_atoms : 16;
		sm_atom_t *p = realloc(m->atoms, sizeof *p * (size_t)cap);
		if (!p)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		m->atoms = p;
		m->cap_atoms = cap;
	}
	m->atoms[m->n_atoms] = *a;
	return m->n_atoms++;
}

static int add_bond(sm_mol_t *m, const sm_bond_t *b)
{
	if (m->n_bonds == m->cap_bonds) {
		int cap = m->cap_bonds ? 2 * m->cap_bonds : 16;
		sm_bond_t *p = realloc(m->bonds, sizeof *p * (size_t)cap);
		if (!p)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		m->bonds = p;
		m->cap_bonds = cap;
	}
	m->bonds[m->n_bonds] = *b;
	return m->n_bonds++;
}

/* ---- the parser ---- */

typedef struct {
	int present;     /* a bond symbol was written */
	int type;        /* SM_* or 0 for '/', '\\' */
	int reverse;     /* '<-': the right-hand atom begins the bond */
	int unspecified; /* '/', '\\' */
	int dir;
	int pos;
} bond_sym_t;

typedef struct {
	int number, atom, pos;
	bond_sym_t sym;
} ring_mark_t;

typedef struct {
	const char *s;
	int len, i;
	sm_mol_t *m;
	ring_mark_t *marks;
	int n_marks, cap_marks;
	int *branch, *branch_pos;
	int n_branch, cap_branch;
} parser_t;

static int syntax(parser_t *p, int at, const char *what)
{
	return sm_err(p->m, at + 1, "%s", what);
}

static int elem_by_symbol(const char *s, int n)
{
	for (int z = 1; z <= 118; z++) {
		const char *sym = sm_symbol(z);
		if ((int)strlen(sym) == n && strncmp(sym, s, (size_t)n) == 0)
			return z;
	}
	/* the old systematic names RDKit still reads */
	static const char *const sys[] = {"Uun", "Uuu", "Uub", "Uut", "Uuq",
	                                  "Uup", "Uuh", "Uus", "Uuo"};
	if (n == 3)
		for (int k = 0; k < 9; k++)
			if (strncmp(sys[k], s, 3) == 0)
				return 110 + k;
	return 0;
}

/* A number as RDKit's grammar reads one: "0" or a nonzero digit followed by digits. */
static int read_number(parser_t *p, int *value)
{
	const char *s = p->s;
	if (p->i >= p->len || s[p->i] < '0' || s[p->i] > '9')
		return 0;
	if (s[p->i] == '0') {
		p->i++;
		*value = 0;
		return 1;
	}
	long v = 0;
	while (p->i < p->len && s[p->i] >= '0' && s[p->i] <= '9') {
		int d = s[p->i] - '0';
		if (v >= INT32_MAX / 10 || 10 * v >= INT32_MAX - d) /* RDKit's limit */
			return syntax(p, p->i, "number too large");
		v = 10 * v + d;
		p->i++;
	}
	*value = (int)v;
	return 1;
}

/* @TH, @AL, @SP, @TB, @OH: 0..4, else -1 */
static int chirality_class(const char *s)
{
	static const char *const cls[] = {"TH", "AL", "SP", "TB", "OH"};
	for (int k = 0; k < 5; k++)
		if (strncmp(s, cls[k], 2) == 0)
			return k;
	return -1;
}

static int parse_bracket_atom(parser_t *p, sm_atom_t *a)
{
	const char *s = p->s;
	int start = p->i++, rc, v;
	a->no_implicit = 1;
	if ((rc = read_number(p, &v)) < 0)
		return rc;
	if (rc)
		a->isotope = v;
	if (p->i >= p->len)
		return syntax(p, start, "unclosed bracket atom");
	int hydrogen = 0;
	char c = s[p->i];
	if (c == '#') {
		p->i++;
		if ((rc = read_number(p, &v)) <= 0)
			return rc < 0 ? rc : syntax(p, p->i, "atomic number expected after '#'");
		if (v == 0)
			return syntax(p, start, "dummy atoms ([#0], '*') are not supported");
		if (v > 118)
			return syntax(p, start, "atomic number above 118");
		a->z = v;
	} else if (c == '*') {
		return syntax(p, p->i, "dummy atoms ('*') are not supported");
	} else {
		int z = 0, n = 0;
		static const char *const arom2[] = {"si", "as", "se", "te"};
		static const int arom2_z[] = {14, 33, 34, 52};
		for (int k = 0; k < 4 && !z; k++)
			if (p->i + 1 < p->len && strncmp(s + p->i, arom2[k], 2) == 0)
				z = arom2_z[k], n = 2, a->aromatic = 1;
		for (int len = 3; len >= 1 && !z; len--)
			if (p->i + len <= p->len && s[p->i] >= 'A' && s[p->i] <= 'Z')
				if ((z = elem_by_symbol(s + p->i, len)))
					n = len;
		if (!z) {
			const char *low = strchr("bcnops", c);
			static const int low_z[] = {5, 6, 7, 8, 15, 16};
			if (c && low) {
				z = low_z[low - "bcnops"], n = 1, a->aromatic = 1;
			}
		}
		if (!z)
			return syntax(p, p->i, "unknown element");
		a->z = z;
		hydrogen = z == 1;
		p->i += n;
	}
	a->written_aromatic = a->aromatic;
	/* chirality (not on hydrogen: RDKit's grammar has none there) */
	if (!hydrogen && p->i < p->len && s[p->i] == '@') {
		int at = p->i++;
		if (p->i < p->len && s[p->i] == '@') {
			p->i++;
			a->chirality = 2;
		} else if (p->i + 1 < p->len && chirality_class(s + p->i) >= 0) {
			static const int limit[] = {2, 2, 3, 20, 30};
			int k = chirality_class(s + p->i);
			p->i += 2;
			int perm = 0;
			if ((rc = read_number(p, &perm)) < 0)
				return rc;
			if (rc && perm == 0)
				return syntax(p, at, "chiral permutation cannot be zero");
			if (perm > limit[k])
				return syntax(p, at, "invalid chiral specification");
			if (k == 0)
				a->chirality = perm == 2 ? 2 : 1;
			else
				a->nontetrahedral = k >= 2;
		} else {
			a->chirality = 1;
		}
	}
	/* hydrogen count */
	if (p->i < p->len && s[p->i] == 'H') {
		p->i++;
		if ((rc = read_number(p, &v)) < 0)
			return rc;
		a->n_explicit_h = rc ? v : 1;
	}
	/* charge */
	if (p->i < p->len && (s[p->i] == '+' || s[p->i] == '-')) {
		char sign = s[p->i++];
		int q = 1;
		if (p->i < p->len && s[p->i] == sign) {
			p->i++;
			q = 2;
		} else if ((rc = read_number(p, &v)) < 0) {
			return rc;
		} else if (rc) {
			q = v;
		}
		a->charge = sign == '+' ? q : -q;
	}
	/* atom class */
	if (p->i < p->len && s[p->i] == ':') {
		p->i++;
		if ((rc = read_number(p, &v)) <= 0)
			return rc < 0 ? rc
			              : syntax(p, p->i, "atom class number expected after ':'");
		a->map = v;
	}
	if (p->i >= p->len)
		return syntax(p, start, "unclosed bracket atom");
	if (s[p->i] != ']')
		return syntax(p, p->i, "unexpected character in bracket atom");
	p->i++;
	return OF3_OK;
}

/* An atom at the cursor: 1 read, 0 none there, < 0 error. */
static int parse_atom(parser_t *p, sm_atom_t *a)
{
	const char *s = p->s;
	memset(a, 0, sizeof *a);
	a->pos = p->i + 1;
	if (p->i >= p->len)
		return 0;
	char c = s[p->i];
	if (c == '[') {
		int rc = parse_bracket_atom(p, a);
		return rc < 0 ? rc : 1;
	}
	if (c == '*')
		return syntax(p, p->i, "dummy atoms ('*') are not supported");
	int z = 0, n = 1;
	if (c == 'C' && p->i + 1 < p->len && s[p->i + 1] == 'l')
		z = 17, n = 2;
	else if (c == 'B' && p->i + 1 < p->len && s[p->i + 1] == 'r')
		z = 35, n = 2;
	else {
		static const char organic[] = "BCNOPSFI";
		static const int organic_z[] = {5, 6, 7, 8, 15, 16, 9, 53};
		static const char aromatic[] = "bcnops";
		static const int aromatic_z[] = {5, 6, 7, 8, 15, 16};
		const char *k;
		if ((k = strchr(organic, c)) && c)
			z = organic_z[k - organic];
		else if ((k = strchr(aromatic, c)) && c)
			z = aromatic_z[k - aromatic], a->aromatic = 1;
	}
	if (!z)
		return 0;
	a->z = z;
	a->written_aromatic = a->aromatic;
	p->i += n;
	return 1;
}

/* A bond symbol at the cursor: 1 read, 0 none there, < 0 error. */
static int parse_bond(parser_t *p, bond_sym_t *b)
{
	const char *s = p->s;
	memset(b, 0, sizeof *b);
	if (p->i >= p->len)
		return 0;
	b->pos = p->i + 1;
	b->present = 1;
	switch (s[p->i]) {
	case '-':
		if (p->i + 1 < p->len && s[p->i + 1] == '>') {
			b->type = SM_DATIVE;
			p->i++;
		} else {
			b->type = SM_SINGLE;
		}
		break;
	case '<':
		if (p->i + 1 >= p->len || s[p->i + 1] != '-')
			return syntax(p, p->i, "unexpected character");
		b->type = SM_DATIVE;
		b->reverse = 1;
		p->i++;
		break;
	case '=': b->type = SM_DOUBLE; break;
	case '#': b->type = SM_TRIPLE; break;
	case '$': b->type = SM_QUADRUPLE; break;
	case ':': b->type = SM_AROMATIC; break;
	case '/': b->unspecified = 1, b->dir = 1; break;
	case '\\':
		b->unspecified = 1, b->dir = 2;
		if (p->i + 1 < p->len && s[p->i + 1] == '\\')
			p->i++;
		break;
	case '~': return syntax(p, p->i, "query bonds ('~') are not supported");
	default: b->present = 0; return 0;
	}
	p->i++;
	return 1;
}

/* A ring-closure number at the cursor: 1 read, 0 none there, < 0 error. */
static int parse_ring_number(parser_t *p, int *number)
{
	const char *s = p->s;
	if (p->i >= p->len)
		return 0;
	if (s[p->i] >= '0' && s[p->i] <= '9') {
		*number = s[p->i++] - '0';
		return 1;
	}
	if (s[p->i] != '%')
		return 0;
	int at = p->i++;
	if (p->i + 1 < p->len && s[p->i] >= '1' && s[p->i] <= '9' && s[p->i + 1] >= '0' &&
	    s[p->i + 1] <= '9') {
		*number = 10 * (s[p->i] - '0') + s[p->i + 1] - '0';
		p->i += 2;
		return 1;
	}
	if (p->i < p->len && s[p->i] == '(') {
		int v = 0, n = 0;
		p->i++;
		while (p->i < p->len && s[p->i] >= '0' && s[p->i] <= '9' && n < 5)
			v = 10 * v + (s[p->i++] - '0'), n++;
		if (n > 0 && p->i < p->len && s[p->i] == ')') {
			p->i++;
			*number = v;
			return 1;
		}
	}
	return syntax(p, at, "bad ring-closure number after '%'");
}

static int push_mark(parser_t *p, const ring_mark_t *r)
{
	if (p->n_marks == p->cap_marks) {
		int cap = p->cap_marks ? 2 * p->cap_marks : 16;
		ring_mark_t *q = realloc(p->marks, sizeof *q * (size_t)cap);
		if (!q)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		p->marks = q;
		p->cap_marks = cap;
	}
	p->marks[p->n_marks++] = *r;
	return OF3_OK;
}

static int push_branch(parser_t *p, int atom, int pos)
{
	if (p->n_branch == p->cap_branch) {
		int cap = p->cap_branch ? 2 * p->cap_branch : 16;
		int *a = realloc(p->branch, sizeof *a * (size_t)cap);
		if (!a)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		p->branch = a;
		int *b = realloc(p->branch_pos, sizeof *b * (size_t)cap);
		if (!b)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		p->branch_pos = b;
		p->cap_branch = cap;
	}
	p->branch[p->n_branch] = atom;
	p->branch_pos[p->n_branch++] = pos;
	return OF3_OK;
}

static int unspecified_type(const sm_mol_t *m, int a, int b)
{
	return m->atoms[a].aromatic && m->atoms[b].aromatic ? SM_AROMATIC : SM_SINGLE;
}

/* The bond from the active atom `from` to the new atom `to`. */
static int chain_bond(parser_t *p, int from, int to, const bond_sym_t *sym)
{
	sm_bond_t b = {0};
	b.a = from;
	b.b = to;
	b.pos = sym->present ? sym->pos : p->m->atoms[to].pos;
	b.dir = sym->dir;
	b.dir_first = from;
	if (!sym->present) {
		b.type = unspecified_type(p->m, from, to);
	} else if (sym->unspecified) {
		b.unspecified = 1;
	} else {
		b.type = sym->type;
		if (sym->reverse)
			b.a = to, b.b = from;
	}
	b.key_a = b.a == from ? b.pos : 0;
	b.key_b = b.b == from ? b.pos : 0;
	int rc = add_bond(p->m, &b);
	return rc < 0 ? rc : OF3_OK;
}

static int cmp_mark(const void *x, const void *y)
{
	const ring_mark_t *a = x, *b = y;
	if (a->number != b->number)
		return (a->number > b->number) - (a->number < b->number);
	return (a->pos > b->pos) - (a->pos < b->pos);
}

/* RDKit's CloseMolRings: ring numbers in ascending order, uses paired left to right. */
static int close_rings(parser_t *p)
{
	sm_mol_t *m = p->m;
	if (p->n_marks)
		qsort(p->marks, (size_t)p->n_marks, sizeof *p->marks, cmp_mark);
	for (int k = 0; k < p->n_marks;) {
		const ring_mark_t *r1 = &p->marks[k];
		if (k + 1 >= p->n_marks || p->marks[k + 1].number != r1->number)
			return sm_err(m, r1->pos, "ring bond %d is never closed", r1->number);
		const ring_mark_t *r2 = &p->marks[k + 1];
		if (r1->atom == r2->atom)
			return sm_err(m, r2->pos, "ring bond %d joins an atom to itself",
			              r1->number);
		int rc = sm_mol_index(m);
		if (rc < 0)
			return rc;
		if (sm_bond_between(m, r1->atom, r2->atom) >= 0)
			return sm_err(m, r2->pos,
			              "ring bond %d duplicates the bond between atoms %d and %d",
			              r1->number, r1->atom + 1, r2->atom + 1);
		sm_bond_t b = {0};
		const ring_mark_t *use = r1->sym.present && !r1->sym.unspecified ? r1 : r2;
		const ring_mark_t *other = use == r1 ? r2 : r1;
		b.a = use->atom;
		b.b = other->atom;
		b.pos = r2->pos;
		if (use->sym.present && !use->sym.unspecified) {
			b.type = use->sym.type;
			if (use->sym.reverse)
				b.a = other->atom, b.b = use->atom;
		} else {
			b.unspecified = 1;
		}
		b.dir = use->sym.dir ? use->sym.dir : other->sym.dir;
		b.dir_first = use->sym.dir ? use->atom : other->atom;
		b.key_a = b.a == r1->atom ? r1->pos : r2->pos;
		b.key_b = b.b == r1->atom ? r1->pos : r2->pos;
		if ((rc = add_bond(m, &b)) < 0)
			return rc;
		k += 2;
	}
	return OF3_OK;
}

static int parse(parser_t *p)
{
	const char *s = p->s;
	sm_mol_t *m = p->m;
	int active = -1, rc;
	sm_atom_t atom;
	/* the first atom */
	if ((rc = parse_atom(p, &atom)) <= 0)
		return rc < 0 ? rc : syntax(p, p->i, "an atom expected");
	if ((active = add_atom(m, &atom)) < 0)
		return active;
	while (p->i < p->len) {
		char c = s[p->i];
		int at = p->i;
		if (c == '(') {
			if ((rc = push_branch(p, active, at + 1)) < 0)
				return rc;
			p->i++;
			bond_sym_t sym;
			if ((rc = parse_bond(p, &sym)) < 0)
				return rc;
			if ((rc = parse_atom(p, &atom)) <= 0)
				return rc < 0 ? rc
				              : syntax(p, p->i, "an atom expected in the branch");
			int a = add_atom(m, &atom);
			if (a < 0)
				return a;
			if ((rc = chain_bond(p, active, a, &sym)) < 0)
				return rc;
			active = a;
			continue;
		}
		if (c == ')') {
			if (p->n_branch == 0)
				return syntax(p, at, "')' closes no branch");
			active = p->branch[--p->n_branch];
			p->i++;
			continue;
		}
		if (c == '.') {
			p->i++;
			if ((rc = parse_atom(p, &atom)) <= 0)
				return rc < 0 ? rc : syntax(p, p->i, "an atom expected after '.'");
			if ((active = add_atom(m, &atom)) < 0)
				return active;
			continue;
		}
		bond_sym_t sym;
		if ((rc = parse_bond(p, &sym)) < 0)
			return rc;
		int number = 0;
		if ((rc = parse_ring_number(p, &number)) < 0)
			return rc;
		if (rc) {
			ring_mark_t r = {number, active, at + 1, sym};
			if ((rc = push_mark(p, &r)) < 0)
				return rc;
			continue;
		}
		if ((rc = parse_atom(p, &atom)) < 0)
			return rc;
		if (rc == 0)
			return syntax(p, p->i,
			              sym.present ? "an atom or ring number expected after the bond"
			                          : "unexpected character");
		int a = add_atom(m, &atom);
		if (a < 0)
			return a;
		if ((rc = chain_bond(p, active, a, &sym)) < 0)
			return rc;
		active = a;
	}
	if (p->n_branch > 0)
		return sm_err(m, p->branch_pos[p->n_branch - 1], "branch '(' is never closed");
	if ((rc = close_rings(p)) < 0)
		return rc;
	/* RDKit's SetUnspecifiedBondTypes */
	for (int i = 0; i < m->n_bonds; i++) {
		sm_bond_t *b = &m->bonds[i];
		if (b->unspecified)
			b->type = unspecified_type(m, b->a, b->b);
		b->aromatic = b->written_aromatic = b->type == SM_AROMATIC;
	}
	return sm_mol_index(m);
}

/* ---- the driver ---- */

/* RDKit's sanitizeMol, the steps that change what we report. */
static int sanitize(sm_mol_t *m)
{
	int rc;
	if ((rc = sm_cleanup(m)) < 0 || (rc = sm_update_valences(m, 1)) < 0 ||
	    (rc = sm_find_rings(m)) < 0 || (rc = sm_kekulize(m)) < 0)
		return rc;
	sm_assign_radicals(m);
	if ((rc = sm_set_aromaticity(m)) < 0)
		return rc;
	sm_adjust_hs(m);
	return sm_update_valences(m, 1);
}

/* The written chirality of atom x as of3_smiles_atom_t.parity defines it: the parity of the
 * permutation from the written neighbour order (preceding atom, hydrogen, ring closures, then
 * branches and the next atom) to the sorted one decides whether '@' stays '@'. */
static int parity(const sm_mol_t *m, int x, int n_h)
{
	const sm_atom_t *a = &m->atoms[x];
	if (!a->chirality || a->nontetrahedral || n_h > 1)
		return 0;
	int key[8], idx[8], n = 0;
	for (int k = m->adj_start[x]; k < m->adj_start[x + 1]; k++) {
		const sm_bond_t *b = &m->bonds[m->adj[k]];
		if (n == 4)
			return 0;
		key[n] = b->a == x ? b->key_a : b->key_b;
		idx[n++] = sm_other(m, m->adj[k], x);
	}
	if (n + n_h < 3 || n + n_h > 4)
		return 0;
	if (n < 4) { /* the hydrogen, or a lone pair, stands where a hydrogen is written */
		key[n] = a->pos;
		idx[n++] = m->n_atoms;
	}
	/* the written order, then count inversions of the indices in that order */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && key[j - 1] > key[j]; j--) {
			int t = key[j], u = idx[j];
			key[j] = key[j - 1], idx[j] = idx[j - 1];
			key[j - 1] = t, idx[j - 1] = u;
		}
	int odd = 0;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			odd ^= idx[i] > idx[j];
	int anticlockwise = (a->chirality == 1) != odd;
	return anticlockwise ? 1 : -1;
}

/* Whether neighbour y of double-bond atom x is "up" by its bond's '/' or '\\': '/' after x
 * means up, '/' before x down. -1 when the bond has no direction. */
static int up(const sm_mol_t *m, int x, int y)
{
	int b = sm_bond_between(m, x, y);
	if (b < 0 || !m->bonds[b].dir)
		return -1;
	int slash = m->bonds[b].dir == 1;
	return m->bonds[b].dir_first == x ? slash : !slash;
}

/* Bond i's cis/trans configuration from its neighbours' directions (of3_smiles_bond_t). */
static void cis_trans(const sm_mol_t *m, int i, of3_smiles_bond_t *o)
{
	const sm_bond_t *b = &m->bonds[i];
	o->ref_a = o->ref_b = -1;
	if (b->type != SM_DOUBLE)
		return;
	for (int r = 0; r < m->n_rings; r++) {
		int n = m->ring_start[r + 1] - m->ring_start[r];
		const int *ra = m->ring_atoms + m->ring_start[r];
		int has_a = 0, has_b = 0;
		for (int k = 0; k < n; k++)
			has_a |= ra[k] == b->a, has_b |= ra[k] == b->b;
		if (has_a && has_b && n < 8)
			return;
	}
	int ua = -1, ub = -1;
	for (int k = m->adj_start[b->a]; k < m->adj_start[b->a + 1] && ua < 0; k++) {
		int y = sm_other(m, m->adj[k], b->a);
		if (y != b->b && (ua = up(m, b->a, y)) >= 0)
			o->ref_a = y;
	}
	for (int k = m->adj_start[b->b]; k < m->adj_start[b->b + 1] && ub < 0; k++) {
		int y = sm_other(m, m->adj[k], b->b);
		if (y != b->a && (ub = up(m, b->b, y)) >= 0)
			o->ref_b = y;
	}
	if (ua < 0 || ub < 0) {
		o->ref_a = o->ref_b = -1;
		return;
	}
	o->cis_trans = ua == ub ? 1 : 2;
}

/* The parse as MolFromSmiles leaves it (hydrogen counts, perceived aromaticity), and charges
 * and bond types as biotite records them after OpenFold3's conformer step. */
static int record(const sm_mol_t *m, const int *n_h, const char *atom_arom, const char *bond_arom,
                  of3_mol_t *out)
{
	out->atoms = calloc((size_t)m->n_atoms + 1, sizeof *out->atoms);
	out->bonds = calloc((size_t)m->n_bonds + 1, sizeof *out->bonds);
	if (!out->atoms || !out->bonds)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; i < m->n_atoms; i++) {
		const sm_atom_t *a = &m->atoms[i];
		of3_smiles_atom_t *o = &out->atoms[i];
		const char *sym = sm_symbol(a->z);
		for (int k = 0; k < 2 && sym[k]; k++)
			o->element[k] =
			        (char)(sym[k] >= 'a' && sym[k] <= 'z' ? sym[k] - 32 : sym[k]);
		o->charge = a->charge;
		o->n_hydrogens = n_h[i];
		o->aromatic = a->written_aromatic;
		o->isotope = a->isotope;
		o->chirality = a->chirality;
		o->aromatic_perceived = atom_arom[i];
	}
	for (int i = 0; i < m->n_bonds; i++) {
		const sm_bond_t *b = &m->bonds[i];
		of3_smiles_bond_t *o = &out->bonds[i];
		o->a = b->a;
		o->b = b->b;
		o->order = b->type == SM_DATIVE ? 1 : b->type;
		o->aromatic = b->written_aromatic;
		o->stereo = b->dir;
		o->dative = b->type == SM_DATIVE;
		if (b->type == SM_DATIVE)
			o->bond_type = 8;
		else if (b->type == SM_AROMATIC)
			o->bond_type = 9, o->order = 1;
		else if (bond_arom[i])
			o->bond_type = b->type == SM_DOUBLE ? 6 : b->type == SM_TRIPLE ? 7 : 5;
		else
			o->bond_type = b->type;
	}
	out->n_atoms = m->n_atoms;
	out->n_bonds = m->n_bonds;
	for (int i = 0; i < m->n_atoms; i++)
		out->atoms[i].parity = parity(m, i, n_h[i]);
	for (int i = 0; i < m->n_bonds; i++)
		cis_trans(m, i, &out->bonds[i]);
	return OF3_OK;
}

/* MolFromSmiles after the parse (removeHs, sanitizeMol), then OpenFold3's AddHs/RemoveAllHs
 * round trip, which sanitizes again (and, should that fail, keeps the molecule unsanitized),
 * and biotite's Kekulize of the result. */
static int chemistry(sm_mol_t *m, of3_mol_t *out)
{
	int rc;
	if ((rc = sm_remove_hs(m)) < 0 || (rc = sanitize(m)) < 0)
		return rc;
	size_t na = (size_t)m->n_atoms + 1, nb = (size_t)m->n_bonds + 1;
	int *n_h = malloc(sizeof *n_h * na);
	char *atom_arom = malloc(na), *bond_arom = malloc(nb);
	sm_atom_t *atoms = malloc(sizeof *atoms * na);
	sm_bond_t *bonds = malloc(sizeof *bonds * nb);
	if (!n_h || !atom_arom || !bond_arom || !atoms || !bonds) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < m->n_atoms; i++) {
		n_h[i] = sm_total_h(&m->atoms[i]);
		atom_arom[i] = (char)m->atoms[i].aromatic;
	}
	/* with hydrogen atoms left, OpenFold3's RemoveAllHs would change the graph (and its
	 * featurization then fails): keep MolFromSmiles' molecule as it is */
	int h_atoms = 0;
	for (int i = 0; i < m->n_atoms; i++)
		h_atoms |= m->atoms[i].z == 1;
	if (h_atoms)
		goto kekulize;
	sm_add_remove_all_hs(m);
	memcpy(atoms, m->atoms, sizeof *atoms * (size_t)m->n_atoms);
	if (m->n_bonds)
		memcpy(bonds, m->bonds, sizeof *bonds * (size_t)m->n_bonds);
	if ((rc = sanitize(m)) == OF3_ERR_NOMEM)
		goto out;
	if (rc < 0) {
		memcpy(m->atoms, atoms, sizeof *atoms * (size_t)m->n_atoms);
		if (m->n_bonds)
			memcpy(m->bonds, bonds, sizeof *bonds * (size_t)m->n_bonds);
		if ((rc = sm_find_rings(m)) < 0)
			goto out;
	}
kekulize:
	for (int i = 0; i < m->n_bonds; i++)
		bond_arom[i] = m->bonds[i].type == SM_AROMATIC;
	/* biotite only warns when this fails and keeps the bonds as the failed attempt left them:
	 * still aromatic in the systems it did not reach (BondType AROMATIC) */
	if ((rc = sm_kekulize(m)) == OF3_ERR_NOMEM)
		goto out;
	rc = record(m, n_h, atom_arom, bond_arom, out);
out:
	free(n_h);
	free(atom_arom);
	free(bond_arom);
	free(atoms);
	free(bonds);
	return rc;
}

int of3_smiles_parse(const char *smiles, of3_mol_t *out)
{
	memset(out, 0, sizeof *out);
	sm_mol_t m = {0};
	m.smiles = smiles ? smiles : "";
	const char *s = m.smiles;
	size_t start = strspn(s, " \t\r\n");
	size_t len = strcspn(s + start, " \t\r\n");
	const char *rest = s + start + len + strspn(s + start + len, " \t\r\n");
	if (len == 0)
		return sm_err(&m, 0, "empty SMILES");
	if (len > SMILES_MAX_LEN)
		return sm_err(&m, 0, "longer than %d characters", SMILES_MAX_LEN);
	if (*rest == '|')
		return sm_err(&m, (int)(rest - s) + 1, "CXSMILES extensions are not supported");
	parser_t p = {0};
	p.s = s;
	p.i = (int)start;
	p.len = (int)(start + len);
	p.m = &m;
	int rc = parse(&p);
	free(p.marks);
	free(p.branch);
	free(p.branch_pos);
	if (rc >= 0)
		rc = chemistry(&m, out);
	sm_mol_clear(&m);
	if (rc < 0)
		of3_mol_free(out);
	return rc;
}

void of3_mol_free(of3_mol_t *mol)
{
	if (!mol)
		return;
	free(mol->atoms);
	free(mol->bonds);
	memset(mol, 0, sizeof *mol);
}
