/* test_parse_smiles.c: the SMILES reader against the real RDKit and biotite. Every case of
 * tests/fixtures/smiles/cases.tsv (written by tools/smiles/make_cases.py with rdkit 2025.09.3
 * and biotite 1.2.0) is parsed: a valid SMILES must give RDKit's atoms (element, charge, total
 * H, aromatic as written and as perceived) and bonds (RDKit's begin/end atoms in RDKit's order,
 * the biotite BondType OpenFold3 records, hence RDKit's Kekulé assignment); a SMILES RDKit
 * rejects must be rejected with a message naming the SMILES and a position. A few inputs we
 * reject on purpose (dummy atoms, query bonds, CXSMILES, the empty string) are checked last.
 *
 * usage: test_parse_smiles [CASES.tsv]   (default tests/fixtures/smiles/cases.tsv) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../of3-parse/smiles.h"
#include "check.h"

#define MAX_LINE (1 << 20)

typedef struct {
	int n;                  /* SMILES compared */
	int atoms, charges, hs; /* SMILES whose elements / charges / H counts all match */
	int arom_written, arom_perceived;
	int bond_pairs, kekule, types; /* bond atoms+order, Kekulé orders, biotite types */
} tally_t;

static int split(char *s, char sep, char **out, int max)
{
	int n = 0;
	while (n < max) {
		out[n++] = s;
		char *e = strchr(s, sep);
		if (!e)
			break;
		*e = 0;
		s = e + 1;
	}
	return n;
}

static int kekule_order(int type)
{
	/* AROMATIC_SINGLE..TRIPLE carry the order; COORDINATION and a bond RDKit could not
	 * kekulize (AROMATIC) are reported with order 1 */
	return type >= 5 && type <= 7 ? type - 4 : type == 8 || type == 9 ? 1 : type;
}

/* Compares one valid case; appends what differs to why. */
static int compare(const char *smiles, char *atoms_s, char *bonds_s, tally_t *t, char *why,
                   size_t why_len)
{
	of3_mol_t mol;
	int rc = of3_smiles_parse(smiles, &mol);
	if (rc < 0) {
		snprintf(why, why_len, "rejected: %s", of3_errmsg());
		return 0;
	}
	static char *atoms[100000], *bonds[100000];
	int na = split(atoms_s, ' ', atoms, 100000);
	int nb = strcmp(bonds_s, "-") == 0 ? 0 : split(bonds_s, ' ', bonds, 100000);
	int ok_el = mol.n_atoms == na, ok_q = ok_el, ok_h = ok_el, ok_w = ok_el, ok_p = ok_el;
	size_t k = 0;
	if (!ok_el)
		k += (size_t)snprintf(why + k, why_len - k, "%d atoms, expected %d; ", mol.n_atoms,
		                      na);
	for (int i = 0; i < na && ok_el; i++) {
		char *f[4];
		if (split(atoms[i], ':', f, 4) != 4)
			continue;
		const of3_smiles_atom_t *a = &mol.atoms[i];
		int q = atoi(f[1]), h = atoi(f[2]), w = f[3][0] - '0', p = f[3][1] - '0';
		if (strcmp(a->element, f[0]) != 0)
			ok_el = 0;
		if (a->charge != q)
			ok_q = 0;
		if (a->n_hydrogens != h)
			ok_h = 0;
		if (a->aromatic != w)
			ok_w = 0;
		if (a->aromatic_perceived != p)
			ok_p = 0;
		if (k < why_len &&
		    (strcmp(a->element, f[0]) || a->charge != q || a->n_hydrogens != h ||
		     a->aromatic != w || a->aromatic_perceived != p))
			k += (size_t)snprintf(why + k, why_len - k,
			                      "atom %d %s:%d:%d:%d%d, expected %s:%s:%s:%s; ",
			                      i + 1, a->element, a->charge, a->n_hydrogens,
			                      a->aromatic, a->aromatic_perceived, f[0], f[1], f[2],
			                      f[3]);
	}
	int ok_pairs = mol.n_bonds == nb, ok_kek = ok_pairs, ok_type = ok_pairs;
	if (!ok_pairs && k < why_len)
		k += (size_t)snprintf(why + k, why_len - k, "%d bonds, expected %d; ", mol.n_bonds,
		                      nb);
	for (int i = 0; i < nb && ok_pairs; i++) {
		int a, b, type;
		if (sscanf(bonds[i], "%d-%d:%d", &a, &b, &type) != 3)
			continue;
		const of3_smiles_bond_t *o = &mol.bonds[i];
		int pair = o->a == a && o->b == b;
		int kek = pair && o->order == kekule_order(type) && o->dative == (type == 8);
		int same_type = pair && o->bond_type == type;
		ok_pairs &= pair;
		ok_kek &= kek;
		ok_type &= same_type;
		if (!same_type && k < why_len)
			k += (size_t)snprintf(why + k, why_len - k,
			                      "bond %d %d-%d:%d, expected %s; ", i + 1, o->a, o->b,
			                      o->bond_type, bonds[i]);
	}
	t->atoms += ok_el;
	t->charges += ok_q;
	t->hs += ok_h;
	t->arom_written += ok_w;
	t->arom_perceived += ok_p;
	t->bond_pairs += ok_pairs;
	t->kekule += ok_kek;
	t->types += ok_type;
	of3_mol_free(&mol);
	return ok_el && ok_q && ok_h && ok_w && ok_p && ok_pairs && ok_kek && ok_type;
}

static void check_rejected(const char *smiles, const char *what)
{
	of3_mol_t mol;
	int rc = of3_smiles_parse(smiles, &mol);
	CHECK(rc == OF3_ERR_INPUT && mol.n_atoms == 0 && strstr(of3_errmsg(), "SMILES '"),
	      "'%s' is rejected (%s): %s", smiles, what, rc < 0 ? of3_errmsg() : "accepted");
	if (rc >= 0)
		of3_mol_free(&mol);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "tests/fixtures/smiles/cases.tsv";
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 1;
	}
	char *line = malloc(MAX_LINE), why[2048];
	tally_t t = {0};
	int n_err = 0, n_err_ok = 0;
	while (line && fgets(line, MAX_LINE, f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		char *col[4];
		int nc = split(line, '\t', col, 4);
		if (strcmp(col[0], "OK") == 0 && nc == 4) {
			t.n++;
			why[0] = 0;
			int ok = compare(col[1], col[2], col[3], &t, why, sizeof why);
			CHECK(ok, "%s%s%s", col[1], ok ? "" : ": ", why);
		} else if (strcmp(col[0], "ERR") == 0 && nc >= 2) {
			of3_mol_t mol;
			int rc = of3_smiles_parse(col[1], &mol);
			int ok = rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "position") != NULL;
			n_err++;
			n_err_ok += ok;
			CHECK(ok, "%s rejected as RDKit does (%s): %s", col[1],
			      nc > 2 ? col[2] : "", rc < 0 ? of3_errmsg() : "accepted");
			if (rc >= 0)
				of3_mol_free(&mol);
		}
	}
	fclose(f);
	free(line);
	CHECK(t.n > 0, "%s holds valid cases", path);

	/* deliberate differences from RDKit, and the text around a SMILES */
	check_rejected("", "empty");
	check_rejected("   ", "blank");
	check_rejected("*C", "dummy atom");
	check_rejected("[*]C", "dummy atom");
	check_rejected("[#0]C", "dummy atom");
	check_rejected("C~C", "query bond");
	check_rejected("CCO |$A;B;C$|", "CXSMILES");
	of3_mol_t mol;
	int rc = of3_smiles_parse(" CCO ethanol", &mol);
	CHECK(rc == OF3_OK && mol.n_atoms == 3,
	      "' CCO ethanol': the name after the SMILES is ignored");
	if (rc >= 0)
		of3_mol_free(&mol);
	rc = of3_smiles_parse("C1CC", &mol);
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "SMILES 'C1CC'") &&
	              strstr(of3_errmsg(), "(position 2)"),
	      "unclosed ring names the SMILES and the position: %s", of3_errmsg());

	printf("# %d valid SMILES: elements %d, charges %d, H counts %d, written aromaticity %d, "
	       "perceived aromaticity %d, bond atoms %d, Kekule orders %d, biotite bond types %d "
	       "match RDKit/biotite\n",
	       t.n, t.atoms, t.charges, t.hs, t.arom_written, t.arom_perceived, t.bond_pairs,
	       t.kekule, t.types);
	printf("# %d invalid SMILES: %d rejected\n", n_err, n_err_ok);
	return check_summary();
}
