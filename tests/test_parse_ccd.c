/* test_parse_ccd.c: the Chemical Component Dictionary (of3-parse/ccd.h) and the mmCIF reader
 * (of3-parse/mmcif.h) against what biotite reads from the same CCD: tests/fixtures/ccd/ holds
 * sample components as mmCIF text and, per sample, the expected atoms, bonds and type, both
 * written by tools/ccd/make_test_cases.py through biotite's API (not through our code).
 *
 *   test_parse_ccd [FIXTURE_DIR]        the tests (default tests/fixtures/ccd, run from the root)
 *   test_parse_ccd --bench [CIF]        load and lookup times of the shipped dictionary and of
 *                                       the sample (or the given) components.cif
 *   test_parse_ccd --compare CIF        every block of a full components.cif against the
 *                                       shipped dictionary, field by field (exact) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/bundle.h"
#include "../of3-parse/ccd.h"
#include "../of3-parse/mmcif.h"
#include "check.h"

#define MAX_ATOMS 512
#define MAX_BONDS 1024

typedef struct {
	char code[8], type[64], coords[8];
	int n_atoms, n_bonds;
	of3_ccd_atom_t atoms[MAX_ATOMS];
	of3_ccd_bond_t bonds[MAX_BONDS];
} expected_t;

static const char *fixtures = "tests/fixtures/ccd";

static double clock_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

/* ---- the expected values (expected_<CODE>.tsv) ---- */

static int read_expected(const char *code, expected_t *e)
{
	char path[512], line[512];
	if (snprintf(path, sizeof path, "%s/expected_%s.tsv", fixtures, code) >= (int)sizeof path)
		return -1;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	memset(e, 0, sizeof *e);
	int n_atoms = -1, n_bonds = -1, ok = 1;
	while (ok && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#' || !line[0])
			continue;
		char *field[9] = {0};
		int n = 0;
		for (char *p = line; p && n < 9; n++) {
			field[n] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = 0;
		}
		if (strcmp(field[0], "comp") == 0 && n == 6) {
			snprintf(e->code, sizeof e->code, "%s", field[1]);
			snprintf(e->type, sizeof e->type, "%s", field[2]);
			snprintf(e->coords, sizeof e->coords, "%s", field[3]);
			n_atoms = atoi(field[4]);
			n_bonds = atoi(field[5]);
		} else if (strcmp(field[0], "atom") == 0 && n == 8 && e->n_atoms < MAX_ATOMS) {
			of3_ccd_atom_t *a = &e->atoms[e->n_atoms++];
			snprintf(a->name, sizeof a->name, "%s", field[1]);
			snprintf(a->element, sizeof a->element, "%s", field[2]);
			a->charge = atoi(field[3]);
			a->leaving = atoi(field[4]);
			for (int d = 0; d < 3; d++)
				a->xyz[d] = strtod(field[5 + d], NULL);
		} else if (strcmp(field[0], "bond") == 0 && n == 5 && e->n_bonds < MAX_BONDS) {
			e->bonds[e->n_bonds++] = (of3_ccd_bond_t){atoi(field[1]), atoi(field[2]),
			                                          atoi(field[3]), atoi(field[4])};
		} else {
			ok = 0;
		}
	}
	fclose(f);
	return ok && n_atoms == e->n_atoms && n_bonds == e->n_bonds ? 0 : -1;
}

static int bond_cmp(const void *pa, const void *pb)
{
	const of3_ccd_bond_t *a = pa, *b = pb;
	return a->a != b->a ? a->a - b->a : a->b - b->b;
}

/* "" when comp is what biotite read, else what differs first. */
static const char *differs(const of3_ccd_comp_t *c, const expected_t *e, char *why, size_t n)
{
	static const char *coords[] = {"ideal", "model", "none"};
	if (strcmp(c->id, e->code) != 0 || strcmp(c->type, e->type) != 0)
		return snprintf(why, n, "id/type '%s' '%s'", c->id, c->type), why;
	if (c->coords < 0 || c->coords > 2 || strcmp(coords[c->coords], e->coords) != 0)
		return snprintf(why, n, "coordinates %d, expected %s", c->coords, e->coords), why;
	if (c->n_atoms != e->n_atoms || c->n_bonds != e->n_bonds)
		return snprintf(why, n, "%d atoms %d bonds, expected %d %d", c->n_atoms, c->n_bonds,
		                e->n_atoms, e->n_bonds),
		       why;
	for (int i = 0; i < c->n_atoms; i++) {
		const of3_ccd_atom_t *a = &c->atoms[i], *b = &e->atoms[i];
		double dx = 0;
		for (int d = 0; d < 3; d++)
			dx = fmax(dx, fabs(a->xyz[d] - b->xyz[d]));
		if (strcmp(a->name, b->name) || strcmp(a->element, b->element) ||
		    a->charge != b->charge || a->leaving != b->leaving || !(dx <= 1e-3))
			return snprintf(why, n,
			                "atom %d: %s %s %d %d (%.3f %.3f %.3f), expected %s", i,
			                a->name, a->element, a->charge, a->leaving, a->xyz[0],
			                a->xyz[1], a->xyz[2], b->name),
			       why;
	}
	of3_ccd_bond_t got[MAX_BONDS];
	if (c->n_bonds > MAX_BONDS)
		return "too many bonds";
	memcpy(got, c->bonds, (size_t)c->n_bonds * sizeof *got);
	qsort(got, (size_t)c->n_bonds, sizeof *got, bond_cmp);
	for (int i = 0; i < c->n_bonds; i++)
		if (memcmp(&got[i], &e->bonds[i], sizeof got[i]) != 0)
			return snprintf(why, n,
			                "bond %d-%d order %d aromatic %d, expected %d-%d %d %d",
			                got[i].a, got[i].b, got[i].order, got[i].aromatic,
			                e->bonds[i].a, e->bonds[i].b, e->bonds[i].order,
			                e->bonds[i].aromatic),
			       why;
	return "";
}

/* ---- helpers ---- */

/* The shipped dictionary: from beside the executable (the sanitizer build has it there), else
 * from share/of3/ (the release build's, next to bin/; tests run from the repository root). */
static int open_shipped(of3_ccd_t **ccd, int quiet)
{
	int rc = of3_ccd_open(ccd, NULL);
	if (rc < 0 && !getenv("OF3_CCD") && access("share/of3/ccd.bundle", R_OK) == 0) {
		if (!quiet)
			CHECK(rc == OF3_ERR_RUNTIME && strstr(of3_errmsg(), "run make"),
			      "a missing shipped dictionary says to run make: %s", of3_errmsg());
		setenv("OF3_CCD", "share/of3/ccd.bundle", 1);
		rc = of3_ccd_open(ccd, NULL);
	}
	return rc;
}

static int read_samples(char codes[][8], int max)
{
	char path[512], line[64];
	snprintf(path, sizeof path, "%s/samples.txt", fixtures);
	FILE *f = fopen(path, "r");
	int n = 0;
	while (f && n < max && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0] && strlen(line) < 8)
			memcpy(codes[n++], line, strlen(line) + 1);
	}
	if (f)
		fclose(f);
	return n;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Opens text as a components.cif and looks code up: the status, with the message in msg. */
static int cif_get(const char *text, const char *code, const of3_ccd_comp_t **comp, char *msg,
                   size_t n)
{
	char path[] = "/tmp/of3_test_ccd_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -100;
	close(fd);
	write_file(path, text);
	of3_ccd_t *ccd = NULL;
	static of3_ccd_comp_t copy; /* outlives the dictionary */
	int rc = of3_ccd_open(&ccd, path);
	if (rc == OF3_OK)
		rc = of3_ccd_get(ccd, code, comp);
	if (rc == OF3_OK) {
		copy = **comp; /* atoms/bonds are not used after close */
		*comp = &copy;
	}
	snprintf(msg, n, "%s", rc < 0 ? of3_errmsg() : "");
	of3_ccd_close(ccd);
	unlink(path);
	return rc;
}

/* ---- the tests ---- */

static void test_samples(of3_ccd_t *shipped, of3_ccd_t *cif)
{
	static expected_t e;
	char codes[64][8], why[256];
	int n = read_samples(codes, 64);
	CHECK(n >= 30, "%d sample components listed in %s/samples.txt", n, fixtures);
	for (int i = 0; i < n; i++) {
		if (read_expected(codes[i], &e) < 0) {
			CHECK(0, "%s: expected_%s.tsv reads", codes[i], codes[i]);
			continue;
		}
		of3_ccd_t *src[2] = {shipped, cif};
		const char *label[2] = {"shipped", "mmCIF"};
		for (int s = 0; s < 2; s++) {
			const of3_ccd_comp_t *c = NULL;
			if (!src[s])
				continue;
			int rc = of3_ccd_get(src[s], codes[i], &c);
			const char *d = rc < 0 ? of3_errmsg() : differs(c, &e, why, sizeof why);
			CHECK(rc == OF3_OK && !*d,
			      "%s %s: %d atoms, %d bonds, %s coordinates, %s as "
			      "biotite reads them %s",
			      label[s], codes[i], e.n_atoms, e.n_bonds, e.coords, e.type, d);
		}
	}
}

static void test_specifics(of3_ccd_t *ccd, const char *label)
{
	const of3_ccd_comp_t *c = NULL, *again = NULL;
	int rc = of3_ccd_get(ccd, "ARG", &c);
	int ok = rc == OF3_OK && c->n_atoms == 12 && strcmp(c->atoms[10].name, "NH2") == 0 &&
	         c->atoms[10].charge == 1 && c->atoms[9].charge == 0;
	CHECK(ok, "%s: ARG NH2 has charge +1", label);
	rc = of3_ccd_get(ccd, "ALA", &c);
	ok = rc == OF3_OK && c->n_atoms == 6 && strcmp(c->atoms[5].name, "OXT") == 0 &&
	     c->atoms[5].leaving && !c->atoms[0].leaving &&
	     strcmp(c->type, "L-PEPTIDE LINKING") == 0;
	CHECK(ok, "%s: ALA OXT is a leaving atom, ALA is L-PEPTIDE LINKING", label);
	rc = of3_ccd_get(ccd, "ALA", &again);
	CHECK(rc == OF3_OK && again == c, "%s: a second lookup returns the same component", label);
	const char *unknown[] = {"XX9Q", "ala", "", "TOOLONG"};
	for (int i = 0; i < 4; i++) {
		rc = of3_ccd_get(ccd, unknown[i], &c);
		char want[64];
		snprintf(want, sizeof want, "unknown CCD code '%s'", unknown[i]);
		CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), want),
		      "%s: unknown code '%s' is bad input naming it: %s", label, unknown[i],
		      of3_errmsg());
	}
}

struct bad_case {
	const char *what, *text, *code, *needle;
};

static void test_malformed(void)
{
	static const struct bad_case cases[] = {
	        {"unterminated quote",
	         "data_BAD\n_chem_comp.id BAD\n_chem_comp.type 'NON-POLYMER\n", "BAD",
	         ":3: unterminated quoted value"},
	        {"unterminated double quote",
	         "data_BAD\nloop_\n_chem_comp_atom.atom_id\n_chem_comp_atom.type_symbol\n"
	         "\"C1 C\nO1 O\n",
	         "BAD", ":5: unterminated quoted value"},
	        {"unterminated semicolon field",
	         "data_BAD\n_chem_comp.id BAD\n_chem_comp.name\n;some text\n"
	         "_chem_comp.type NON-POLYMER\n",
	         "BAD", ":4: unterminated semicolon text field"},
	        {"loop with a ragged row",
	         "data_BAD\nloop_\n_chem_comp_atom.comp_id\n_chem_comp_atom.atom_id\n"
	         "_chem_comp_atom.type_symbol\nBAD C1 C\nBAD C2\n#\n",
	         "BAD", ":7: ragged loop_ of 'chem_comp_atom'"},
	        {"missing data_ block", "# a comment\n_chem_comp.id BAD\n", "BAD",
	         ":2: '_chem_comp.id BAD' before the first data_ block"},
	        {"no data_ block at all", "# only a comment\n\n", "BAD", ":2: no data_ block"},
	        {"tag without a value", "data_BAD\n_chem_comp.id\n_chem_comp.type X\n", "BAD",
	         ":2: tag '_chem_comp.id' has no value"},
	        {"value without a tag", "data_BAD\n_chem_comp.id BAD\nstray\n", "BAD",
	         ":3: value 'stray' without a tag"},
	        {"tag given twice", "data_BAD\n_chem_comp.id BAD\n_chem_comp.id BAD\n", "BAD",
	         ":3: tag '_chem_comp.id' given twice"},
	        {"loop without tags", "data_BAD\nloop_\nBAD\n", "BAD", ":2: loop_ without tags"},
	        {"loop mixing categories",
	         "data_BAD\nloop_\n_chem_comp_atom.atom_id\n_chem_comp_bond.atom_id_1\nC1 C1\n",
	         "BAD", ":4: tag '_chem_comp_bond.atom_id_1' in a loop_"},
	        {"save frame", "data_BAD\nsave_x\n_a.b c\nsave_\n", "BAD", ":2: 'save_x' is not"},
	        {"coordinate that is not a number",
	         "data_BAD\nloop_\n_chem_comp_atom.atom_id\n_chem_comp_atom.type_symbol\n"
	         "_chem_comp_atom.pdbx_model_Cartn_x_ideal\n_chem_comp_atom.pdbx_model_Cartn_y_"
	         "ideal\n"
	         "_chem_comp_atom.pdbx_model_Cartn_z_ideal\nC1 C 1.0 2.0 3.0\nO1 O 1.0 2x 3.0\n",
	         "BAD", ":9: component 'BAD': coordinate '2x' is not a number"},
	        {"atom name too long",
	         "data_BAD\nloop_\n_chem_comp_atom.atom_id\n_chem_comp_atom.type_symbol\nC12345 "
	         "C\n",
	         "BAD", ":5: component 'BAD': atom_id 'C12345' longer than 4"},
	        {"bond to an unknown atom",
	         "data_BAD\nloop_\n_chem_comp_atom.atom_id\n_chem_comp_atom.type_symbol\nC1 C\n"
	         "loop_\n_chem_comp_bond.atom_id_1\n_chem_comp_bond.atom_id_2\n"
	         "_chem_comp_bond.value_order\nC1 C9 SING\n",
	         "BAD", ":10: component 'BAD': bond to atom 'C9'"},
	        {"unknown bond order",
	         "data_BAD\nloop_\n_chem_comp_atom.atom_id\n_chem_comp_atom.type_symbol\nC1 C\n"
	         "C2 C\nloop_\n_chem_comp_bond.atom_id_1\n_chem_comp_bond.atom_id_2\n"
	         "_chem_comp_bond.value_order\nC1 C2 HALF\n",
	         "BAD", ":11: component 'BAD': bond value_order 'HALF'"},
	        {"bad charge",
	         "data_BAD\nloop_\n_chem_comp_atom.atom_id\n_chem_comp_atom.type_symbol\n"
	         "_chem_comp_atom.charge\nC1 C +1e\n",
	         "BAD", ":6: component 'BAD': charge '+1e' is not an integer"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const of3_ccd_comp_t *c;
		char msg[512];
		int rc = cif_get(cases[i].text, cases[i].code, &c, msg, sizeof msg);
		CHECK(rc == OF3_ERR_INPUT && strstr(msg, cases[i].needle) && strstr(msg, "/tmp/"),
		      "malformed CIF, %s: bad input naming file and line: %s", cases[i].what, msg);
	}
	/* a gzip-compressed file is refused with advice */
	const of3_ccd_comp_t *c;
	char msg[512];
	int rc = cif_get("\x1f\x8b\x08", "ALA", &c, msg, sizeof msg);
	CHECK(rc == OF3_ERR_INPUT && strstr(msg, "gunzip"), "a gzipped components.cif: %s", msg);
}

/* wwPDB's own layout: other categories, quoted values with inner quotes, '#' inside values,
 * text fields inside a loop, CRLF line ends, blocks of other components around it. */
static void test_wwpdb_syntax(void)
{
	static const char text[] =
	        "data_AAA\r\n_chem_comp.id AAA\r\n_chem_comp.type 'NON-POLYMER'\r\n"
	        "loop_\r\n_chem_comp_atom.comp_id\r\n_chem_comp_atom.atom_id\r\n"
	        "_chem_comp_atom.type_symbol\r\nAAA X1 C\r\n#\r\n"
	        "data_XYZ\n"
	        "#\n"
	        "_chem_comp.id                                    XYZ\n"
	        "_chem_comp.name                                  'N,N'-dimethyl thing'\n"
	        "_chem_comp.type                                  \"d-saccharide, beta linking\"\n"
	        "_chem_comp.pdbx_synonyms                         ?\n"
	        "#\n"
	        "loop_\n"
	        "_chem_comp_atom.comp_id\n"
	        "_chem_comp_atom.atom_id\n"
	        "_chem_comp_atom.alt_atom_id\n"
	        "_chem_comp_atom.type_symbol\n"
	        "_chem_comp_atom.charge\n"
	        "_chem_comp_atom.pdbx_leaving_atom_flag\n"
	        "_chem_comp_atom.model_Cartn_x\n"
	        "_chem_comp_atom.model_Cartn_y\n"
	        "_chem_comp_atom.model_Cartn_z\n"
	        "_chem_comp_atom.pdbx_model_Cartn_x_ideal\n"
	        "_chem_comp_atom.pdbx_model_Cartn_y_ideal\n"
	        "_chem_comp_atom.pdbx_model_Cartn_z_ideal\n"
	        "XYZ \"C1'\" 'C1\"' C  0 N 1.000 2.000 3.000 -1.5   0.25   1e1\n"
	        "XYZ O1      O1     O  -1 Y 4.000 5.000 6.000 ?      0.0    0.0\n"
	        "XYZ H1      H1     H  0 N 7.000 8.000 9.000 1.0    1.0    1.0\n"
	        "XYZ 'NA'    NA     na 1 . 0.5   0.5   0.5   0.0    0.0    0.0\n"
	        "#\n"
	        "loop_\n"
	        "_chem_comp_bond.comp_id\n"
	        "_chem_comp_bond.atom_id_1\n"
	        "_chem_comp_bond.atom_id_2\n"
	        "_chem_comp_bond.value_order\n"
	        "_chem_comp_bond.pdbx_aromatic_flag\n"
	        "XYZ \"C1'\" O1 doub N\n"
	        "XYZ \"C1'\" H1 SING N\n"
	        "XYZ NA O1 SING Y\n"
	        "#\n"
	        "loop_\n"
	        "_pdbx_chem_comp_descriptor.comp_id\n"
	        "_pdbx_chem_comp_descriptor.type\n"
	        "_pdbx_chem_comp_descriptor.descriptor\n"
	        "XYZ SMILES C#N\n"
	        "XYZ InChI\n"
	        ";InChI=1S/CHN/c1-2/h1H\n"
	        "data_not_a_block on a text-field line\n"
	        ";\n"
	        "XYZ SMILES_CANONICAL \"O=C(O)C'\"\n"
	        "#\n"
	        "data_ZZZ\n_chem_comp.id ZZZ\n";
	const of3_ccd_comp_t *c = NULL;
	char msg[512];
	int rc = cif_get(text, "XYZ", &c, msg, sizeof msg);
	int ok = rc == OF3_OK && c->n_atoms == 3 && c->n_bonds == 2 &&
	         strcmp(c->type, "D-SACCHARIDE, BETA LINKING") == 0 &&
	         c->coords == OF3_CCD_COORDS_MODEL;
	CHECK(ok,
	      "wwPDB-style block: 3 heavy atoms, 2 bonds, type upper-cased, model coordinates "
	      "(an ideal one is '?') %s",
	      msg);
	/* cif_get's copy keeps the counts only: look the atoms up through a live dictionary */
	char path[] = "/tmp/of3_test_ccd_XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0) {
		close(fd);
		write_file(path, text);
		of3_ccd_t *ccd = NULL;
		rc = of3_ccd_open(&ccd, path);
		if (rc == OF3_OK)
			rc = of3_ccd_get(ccd, "XYZ", &c);
		ok = rc == OF3_OK && c->n_atoms == 3 && strcmp(c->atoms[0].name, "C1'") == 0 &&
		     strcmp(c->atoms[1].element, "O") == 0 && c->atoms[1].charge == -1 &&
		     c->atoms[1].leaving && strcmp(c->atoms[2].name, "NA") == 0 &&
		     strcmp(c->atoms[2].element, "NA") == 0 && c->atoms[2].charge == 1 &&
		     !c->atoms[2].leaving && c->atoms[1].xyz[2] == 6.0 &&
		     c->atoms[2].xyz[0] == 0.5 && c->bonds[0].a == 0 && c->bonds[0].b == 1 &&
		     c->bonds[0].order == 2 && !c->bonds[0].aromatic && c->bonds[1].a == 1 &&
		     c->bonds[1].b == 2 && c->bonds[1].aromatic;
		CHECK(ok, "wwPDB-style block: names with quotes, charges, flags, bonds %s",
		      rc < 0 ? of3_errmsg() : "");
		rc = ccd ? of3_ccd_get(ccd, "AAA", &c) : -1;
		CHECK(rc == OF3_OK && c->n_atoms == 1 && strcmp(c->atoms[0].name, "X1") == 0 &&
		              c->coords == OF3_CCD_COORDS_NONE,
		      "CRLF block: one atom without coordinates %s", rc < 0 ? of3_errmsg() : "");
		rc = ccd ? of3_ccd_get(ccd, "ZZZ", &c) : -1;
		CHECK(rc == OF3_OK && c->n_atoms == 0 && c->coords == OF3_CCD_COORDS_NONE,
		      "a block without atoms is an empty component");
		rc = ccd ? of3_ccd_get(ccd, "not_a", &c) : -1;
		CHECK(rc == OF3_ERR_INPUT, "a data_ line inside a text field is not a block");
		CHECK(ccd && strstr(of3_ccd_source(ccd), path), "the source names the file");
		of3_ccd_close(ccd);
		unlink(path);
	}
}

static void test_cif_reader(void)
{
	static const char text[] = "data_T\n_a.x 'it''s' _a.y \"say \"hi\"\" _a.z ;not-a-field\n"
	                           "loop_ _b.p _b.q\n1 ?\n. 'q'\n;\nline 1\nline 2\n;\n''\n";
	of3_cif_block_t b;
	int rc = of3_cif_parse_block(text, sizeof text - 1, 10, "mem", &b);
	const of3_cif_table_t *a = rc == OF3_OK ? of3_cif_table(&b, "a") : NULL;
	const of3_cif_table_t *t = rc == OF3_OK ? of3_cif_table(&b, "b") : NULL;
	int ok = a && t && a->n_rows == 1 && a->n_cols == 3 && t->n_rows == 3 && t->n_cols == 2;
	ok = ok && of3_cif_value_is(of3_cif_value(a, 0, 0), "it''s", 0) &&
	     of3_cif_value_is(of3_cif_value(a, 0, 1), "say \"hi\"", 0) &&
	     of3_cif_value_is(of3_cif_value(a, 0, 2), ";not-a-field", 0);
	ok = ok && of3_cif_value(t, 0, 1).state == OF3_CIF_UNKNOWN &&
	     of3_cif_value(t, 1, 0).state == OF3_CIF_INAPPLICABLE &&
	     of3_cif_value(t, 1, 1).state == OF3_CIF_PRESENT &&
	     of3_cif_value_is(of3_cif_value(t, 2, 0), "\nline 1\nline 2", 0) &&
	     of3_cif_value(t, 2, 0).line == 15 && of3_cif_value(t, 2, 1).len == 0 &&
	     of3_cif_value(t, 2, 1).line == 19 && t->line == 12;
	CHECK(ok, "mmCIF reader: quote rules, '?' and '.', text fields, line numbers %s",
	      rc < 0 ? of3_errmsg() : "");
	if (rc == OF3_OK)
		of3_cif_block_free(&b);
}

/* Every prefix of two real blocks, and random edits of them, read without a crash (the
 * sanitizer build checks memory) and give either a result or bad input. */
static void test_robustness(const char *sample)
{
	FILE *f = fopen(sample, "rb");
	static char text[1 << 20];
	size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
	if (f)
		fclose(f);
	text[len] = 0;
	char *end = strstr(text, "data_ARG"); /* ALA and GLY come first */
	len = end ? (size_t)(end - text) : 0;
	int bad = 0, n_prefix = 0, n_edit = 0;
	for (size_t n = 0; n <= len; n++, n_prefix++) {
		of3_cif_span_t *spans = NULL;
		int n_spans = 0, rc = of3_cif_index(text, n, "prefix", &spans, &n_spans);
		for (int i = 0; rc == OF3_OK && i < n_spans; i++) {
			of3_cif_block_t b;
			rc = of3_cif_parse_block(text + spans[i].begin,
			                         spans[i].end - spans[i].begin, spans[i].line,
			                         "prefix", &b);
			if (rc == OF3_OK)
				of3_cif_block_free(&b);
		}
		bad += rc != OF3_OK && rc != OF3_ERR_INPUT;
		free(spans);
	}
	static const char alphabet[] = "'\";\n\r\t #_.?-AZaz09";
	uint32_t x = 12345;
	char path[] = "/tmp/of3_test_ccd_XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	for (int k = 0; fd >= 0 && len > 0 && k < 200; k++, n_edit++) {
		static char edited[1 << 20];
		memcpy(edited, text, len);
		edited[len] = 0;
		for (int e = 0; e < 1 + k % 4; e++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			edited[x % len] = alphabet[(x >> 16) % (sizeof alphabet - 1)];
		}
		write_file(path, edited);
		of3_ccd_t *ccd = NULL;
		const of3_ccd_comp_t *c;
		int rc = of3_ccd_open(&ccd, path);
		for (int i = 0; rc == OF3_OK && i < 2; i++)
			rc = of3_ccd_get(ccd, i ? "GLY" : "ALA", &c);
		bad += rc != OF3_OK && rc != OF3_ERR_INPUT;
		of3_ccd_close(ccd);
	}
	if (fd >= 0)
		unlink(path);
	CHECK(len > 0 && !bad,
	      "%d prefixes and %d random edits of ALA and GLY: each reads or is bad "
	      "input (%d otherwise)",
	      n_prefix, n_edit, bad);
}

/* Bundles that are not a CCD, or a cut one, are bad input naming the file. */
static void test_bad_bundles(void)
{
	char path[] = "/tmp/of3_test_ccd_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return;
	close(fd);
	const char *kinds[] = {"assembly", "ccd"};
	const char *want[] = {"a bundle of kind assembly, not a CCD bundle", "no tensor 'comp_id'"};
	for (int i = 0; i < 2; i++) {
		of3_bundle_t *b = of3_bundle_init(kinds[i], "q");
		of3_bwriter_t *w = NULL;
		int rc = b ? of3_bwriter_open(&w, path) : -1;
		if (rc == OF3_OK && (rc = of3_bwriter_bundle(w, b)) == OF3_OK)
			rc = of3_bwriter_close(w);
		else
			of3_bwriter_abort(w);
		of3_bundle_free(b);
		of3_ccd_t *ccd = NULL;
		if (rc == OF3_OK)
			rc = of3_ccd_open(&ccd, path);
		CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), want[i]) &&
		              strstr(of3_errmsg(), path),
		      "--ccd with a bundle of kind %s lacking the tables: %s", kinds[i],
		      of3_errmsg());
		of3_ccd_close(ccd);
	}
	/* the shipped bundle cut short */
	FILE *in = fopen("share/of3/ccd.bundle", "rb"), *out = fopen(path, "wb");
	static char head[200000];
	size_t n = in ? fread(head, 1, sizeof head, in) : 0;
	if (out) {
		fwrite(head, 1, n, out);
		fclose(out);
	}
	if (in)
		fclose(in);
	if (n == sizeof head) {
		of3_ccd_t *ccd = NULL;
		int rc = of3_ccd_open(&ccd, path);
		CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "truncated"),
		      "a CCD bundle cut short: %s", of3_errmsg());
		of3_ccd_close(ccd);
	}
	unlink(path);
}

static void test_missing(void)
{
	char *old = getenv("OF3_CCD") ? strdup(getenv("OF3_CCD")) : NULL;
	setenv("OF3_CCD", "/nonexistent/of3/ccd.bundle", 1);
	of3_ccd_t *ccd = NULL;
	int rc = of3_ccd_open(&ccd, NULL);
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "/nonexistent/of3/ccd.bundle") &&
	              strstr(of3_errmsg(), "OF3_CCD") && !ccd,
	      "OF3_CCD naming a missing file: %s", of3_errmsg());
	rc = of3_ccd_open(&ccd, "/nonexistent/components.cif");
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "/nonexistent/components.cif"),
	      "--ccd naming a missing file: %s", of3_errmsg());
	setenv("OF3_CCD", "tests/fixtures/ccd/samples.txt", 1);
	rc = of3_ccd_open(&ccd, NULL);
	if (rc == OF3_OK)
		rc = of3_ccd_get(ccd, "ALA", &(const of3_ccd_comp_t *){NULL});
	CHECK(rc == OF3_ERR_INPUT, "OF3_CCD naming a text file that is not mmCIF: %s",
	      of3_errmsg());
	of3_ccd_close(ccd);
	if (old)
		setenv("OF3_CCD", old, 1);
	else
		unsetenv("OF3_CCD");
	free(old);
}

/* ---- --bench and --compare ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Wall and CPU time of opening a dictionary and looking every sample up, 21 runs. */
static int bench(const char *cif_path)
{
	char codes[64][8];
	int n_codes = read_samples(codes, 64), rc = OF3_OK;
	double wall[21], cpu[21];
	for (int pass = 0; pass < 2 && rc == OF3_OK; pass++) {
		const char *label = pass ? cif_path : "shipped";
		for (int k = 0; k < 21 && rc == OF3_OK; k++) {
			of3_ccd_t *ccd = NULL;
			const of3_ccd_comp_t *c;
			double t0 = now_ms(), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
			rc = pass ? of3_ccd_open(&ccd, cif_path) : open_shipped(&ccd, 1);
			double t1 = now_ms();
			for (int i = 0; i < n_codes && rc == OF3_OK; i++)
				rc = of3_ccd_get(ccd, codes[i], &c);
			double t2 = now_ms();
			if (k == 0)
				printf("# %s: first run: open %.2f ms, %d lookups %.2f ms\n", label,
				       t1 - t0, n_codes, t2 - t1);
			wall[k] = t2 - t0;
			cpu[k] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
			of3_ccd_close(ccd);
		}
		qsort(wall, 21, sizeof wall[0], cmp_double);
		qsort(cpu, 21, sizeof cpu[0], cmp_double);
		printf("# %s: open + %d lookups, 21 runs: wall median %.2f ms (min %.2f, max "
		       "%.2f), "
		       "CPU median %.2f ms (min %.2f)\n",
		       label, n_codes, wall[10], wall[0], wall[20], cpu[10], cpu[0]);
	}
	if (rc < 0)
		fprintf(stderr, "test_parse_ccd: %s\n", of3_errmsg());
	return rc < 0;
}

static int compare(const char *cif_path)
{
	of3_ccd_t *shipped = NULL, *cif = NULL;
	int rc = open_shipped(&shipped, 1);
	if (rc == OF3_OK)
		rc = of3_ccd_open(&cif, cif_path);
	FILE *f = rc == OF3_OK ? fopen(cif_path, "rb") : NULL;
	struct stat st;
	char *text = f && fstat(fileno(f), &st) == 0 ? malloc((size_t)st.st_size + 1) : NULL;
	of3_cif_span_t *spans = NULL;
	int n = 0, bad = 0;
	if (text && fread(text, 1, (size_t)st.st_size, f) == (size_t)st.st_size)
		rc = of3_cif_index(text, (size_t)st.st_size, cif_path, &spans, &n);
	else if (rc == OF3_OK)
		rc = of3_err(OF3_ERR_SYS, "reading %s", cif_path);
	if (f)
		fclose(f);
	double t0 = now_ms();
	for (int i = 0; i < n && rc == OF3_OK; i++) {
		char code[8] = {0};
		if (spans[i].name.len > 5)
			continue;
		memcpy(code, spans[i].name.s, (size_t)spans[i].name.len);
		const of3_ccd_comp_t *a, *b;
		if ((rc = of3_ccd_get(shipped, code, &a)) < 0 ||
		    (rc = of3_ccd_get(cif, code, &b)) < 0)
			break;
		int same = strcmp(a->id, b->id) == 0 && strcmp(a->type, b->type) == 0 &&
		           a->coords == b->coords && a->n_atoms == b->n_atoms &&
		           a->n_bonds == b->n_bonds &&
		           memcmp(a->atoms, b->atoms, (size_t)a->n_atoms * sizeof *a->atoms) == 0 &&
		           memcmp(a->bonds, b->bonds, (size_t)a->n_bonds * sizeof *a->bonds) == 0;
		if (!same && bad++ < 20)
			printf("not ok - %s differs between the shipped dictionary and %s\n", code,
			       cif_path);
	}
	if (rc < 0)
		printf("not ok - %s\n", of3_errmsg());
	else
		printf("%s - %d components of %s equal the shipped ones (%d differ); lookups %.0f "
		       "ms\n",
		       bad ? "not ok" : "ok", n - bad, cif_path, bad, now_ms() - t0);
	free(spans);
	free(text);
	of3_ccd_close(shipped);
	of3_ccd_close(cif);
	return rc < 0 || bad;
}

int main(int argc, char **argv)
{
	char sample[512];
	if (argc >= 2 && strcmp(argv[1], "--compare") == 0 && argc == 3)
		return compare(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "--bench") == 0) {
		snprintf(sample, sizeof sample, "%s/sample_components.cif", fixtures);
		return bench(argc >= 3 ? argv[2] : sample);
	}
	if (argc == 2)
		fixtures = argv[1];
	snprintf(sample, sizeof sample, "%s/sample_components.cif", fixtures);

	of3_ccd_t *shipped = NULL, *cif = NULL;
	int rc = open_shipped(&shipped, 0);
	CHECK(rc == OF3_OK, "the shipped dictionary opens %s", rc < 0 ? of3_errmsg() : "");
	if (shipped)
		CHECK(strstr(of3_ccd_source(shipped), "biotite 1.2.0") != NULL, "its source: %s",
		      of3_ccd_source(shipped));
	rc = of3_ccd_open(&cif, sample);
	CHECK(rc == OF3_OK, "%s opens %s", sample, rc < 0 ? of3_errmsg() : "");
	test_samples(shipped, cif);
	if (shipped)
		test_specifics(shipped, "shipped");
	if (cif)
		test_specifics(cif, "mmCIF");
	of3_ccd_close(shipped);
	of3_ccd_close(cif);
	test_malformed();
	test_wwpdb_syntax();
	test_cif_reader();
	test_robustness(sample);
	test_bad_bundles();
	test_missing();
	return check_summary();
}
