/* test_writecif_pdb.c: the PDB writer of of3-writecif (pdb.h) on a made-up assembly of more than
 * 99999 atoms and 9999 residues: hybrid-36 serials and residue numbers, fixed columns, atom name
 * alignment, truncated residue names, two-letter elements, charges, TER and CONECT records; and
 * the refusals (a two-character chain id, a coordinate past the columns) before any file exists.
 *
 * Also the tool of tests/writecif_biotite.py and writecif_gemmi.py:
 *   test_writecif_pdb --write-big STEM
 * writes that assembly as STEM.pdb and STEM.cif for the Python readers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../of3-writecif/cif.h"
#include "../of3-writecif/pdb.h"
#include "../of3-writecif/writer.h"
#include "check.h"

/* A made-up query: chain A of n_res glycines without OXT (N CA C O), chain B one ligand LIG0
 * (C1, CL12: a four-character name with a two-letter element), chain C a Mg2+ ion. */
typedef struct {
	of3_wc_query_t q;
	int32_t *i32; /* res_id, charge, mol, entity, atom_to_token, bonds, token arrays */
	uint8_t *het;
	float *x, *plddt;
} made_t;

static char *sdup(const char *s)
{
	char *d = malloc(strlen(s) + 1);
	return d ? strcpy(d, s) : NULL;
}

static int make(made_t *m, int n_res)
{
	memset(m, 0, sizeof *m);
	of3_wc_query_t *q = &m->q;
	int A = 4 * n_res + 3, N = n_res + 2, nb = 4 * n_res - 1 + 1;
	q->name = "made";
	q->n_sample = 1, q->n_atom = A, q->n_token = N, q->n_bond = nb;
	m->i32 = calloc((size_t)5 * A + 3 * nb + 3 * N, sizeof *m->i32);
	m->het = calloc((size_t)A, 1);
	m->x = malloc((size_t)A * 3 * sizeof *m->x);
	m->plddt = malloc((size_t)A * sizeof *m->plddt);
	q->atom_chain_id = calloc((size_t)A, sizeof(char *));
	q->atom_res_name = calloc((size_t)A, sizeof(char *));
	q->atom_name = calloc((size_t)A, sizeof(char *));
	q->atom_element = calloc((size_t)A, sizeof(char *));
	q->chain_asym = calloc(3, sizeof *q->chain_asym);
	q->chain_name = calloc(3, sizeof(char *));
	if (!m->i32 || !m->het || !m->x || !m->plddt || !q->atom_chain_id || !q->atom_res_name ||
	    !q->atom_name || !q->atom_element || !q->chain_asym || !q->chain_name)
		return -1;
	int32_t *res = m->i32, *chg = res + A, *mol = chg + A, *ent = mol + A, *tok = ent + A,
	        *bond = tok + A, *asym = bond + 3 * nb, *tent = asym + N, *rix = tent + N;
	static const char *const bb[] = {"N", "CA", "C", "O"}, *const be[] = {"N", "C", "C", "O"};
	int k = 0;
	for (int a = 0; a < A; a++) {
		int r = a / 4, lig = a >= 4 * n_res;
		int j = lig ? a - 4 * n_res : a % 4;
		const char *name = lig ? (const char *[]){"C1", "CL12", "MG"}[j] : bb[j];
		const char *el = lig ? (const char *[]){"C", "Cl", "MG"}[j] : be[j];
		q->atom_chain_id[a] = sdup(lig ? (j < 2 ? "B" : "C") : "A");
		q->atom_res_name[a] = sdup(lig ? (j < 2 ? "LIG0" : "MG") : "GLY");
		q->atom_name[a] = sdup(name);
		q->atom_element[a] = sdup(el);
		if (!q->atom_chain_id[a] || !q->atom_res_name[a] || !q->atom_name[a] ||
		    !q->atom_element[a])
			return -1;
		res[a] = lig ? 1 : r + 1;
		chg[a] = lig && j == 2 ? 2 : 0;
		mol[a] = lig ? OF3_MOL_LIGAND : OF3_MOL_PROTEIN;
		ent[a] = lig ? 2 + (j == 2) : 1;
		tok[a] = lig ? n_res + (j == 2) : r;
		m->het[a] = (uint8_t)lig;
		/* a line through space: every coordinate fits, the last atoms have four digits */
		m->x[3 * a] = (float)(a % 1000) * 0.5f - 250.f;
		m->x[3 * a + 1] = (float)(a / 1000) * 0.125f - 0.125f;
		m->x[3 * a + 2] = (float)(a % 7) - 3.f;
		m->plddt[a] = (float)(a % 10001) / 100.f;
		if (!lig && j > 0) /* N-CA, CA-C, C=O */
			bond[3 * k] = a - 1 + (j == 3), bond[3 * k + 1] = a,
			         bond[3 * k + 2] = j == 3 ? OF3_BOND_DOUBLE : OF3_BOND_SINGLE, k++;
		if (!lig && j == 2 && r + 1 < n_res) /* C-N to the next residue */
			bond[3 * k] = a, bond[3 * k + 1] = a + 2, bond[3 * k + 2] = OF3_BOND_SINGLE,
			         k++;
	}
	bond[3 * k] = 4 * n_res, bond[3 * k + 1] = 4 * n_res + 1, bond[3 * k + 2] = OF3_BOND_SINGLE;
	k++;
	for (int i = 0; i < N; i++) {
		asym[i] = i < n_res ? 1 : i - n_res + 2;
		tent[i] = i < n_res ? 1 : i - n_res + 2;
		rix[i] = i < n_res ? i + 1 : 1;
	}
	q->n_bond = k;
	q->atom_res_id = res, q->atom_charge = chg, q->atom_molecule_type_id = mol;
	q->atom_entity_id = ent, q->atom_to_token_index = tok, q->atom_hetero = m->het;
	q->atom_bonds = bond, q->asym_id = asym, q->entity_id = tent, q->residue_index = rix;
	q->x = m->x;
	q->n_chain = 3;
	for (int c = 0; c < 3; c++) {
		q->chain_asym[c] = c + 1;
		if (!(q->chain_name[c] = sdup((const char *[]){"A", "B", "C"}[c])))
			return -1;
	}
	return 0;
}

static void unmake(made_t *m)
{
	of3_wc_query_t *q = &m->q;
	for (int a = 0; a < q->n_atom; a++) {
		if (q->atom_chain_id)
			free(q->atom_chain_id[a]);
		if (q->atom_res_name)
			free(q->atom_res_name[a]);
		if (q->atom_name)
			free(q->atom_name[a]);
		if (q->atom_element)
			free(q->atom_element[a]);
	}
	for (int c = 0; c < 3 && q->chain_name; c++)
		free(q->chain_name[c]);
	free(q->atom_chain_id), free(q->atom_res_name), free(q->atom_name), free(q->atom_element);
	free(q->chain_asym), free(q->chain_name);
	free(m->i32), free(m->het), free(m->x), free(m->plddt);
}

static void hy36(void)
{
	static const struct {
		int width;
		long v;
		const char *want;
	} c[] = {{5, 1, "    1"},
	         {5, 99999, "99999"},
	         {5, 100000, "A0000"},
	         {5, 100035, "A000Z"},
	         {5, 100036, "A0010"},
	         {4, 9999, "9999"},
	         {4, 10000, "A000"},
	         {4, -999, "-999"},
	         {5, 100000 + 26L * 1679616 - 1, "ZZZZZ"},
	         {5, 100000 + 26L * 1679616, "a0000"},
	         {4, 10000 + 2 * 26L * 46656 - 1, "zzzz"}};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		char buf[8] = "";
		int rc = of3_wc_hy36(buf, c[i].width, c[i].v);
		CHECK(rc == 0 && !strcmp(buf, c[i].want),
		      "hybrid-36 of %ld in %d columns: '%s' ('%s')", c[i].v, c[i].width, buf,
		      c[i].want);
	}
	char buf[8];
	CHECK(of3_wc_hy36(buf, 4, -1000) < 0 && of3_wc_hy36(buf, 4, 10000 + 2 * 26L * 46656) < 0,
	      "hybrid-36 refuses -1000 and past zzzz in 4 columns");
}

/* The line of `text` whose columns 1-11 are `head`, or NULL. */
static const char *line_of(const char *text, const char *head)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, head, strlen(head)))
			return p;
	return NULL;
}

static int line_is(const char *p, const char *want)
{
	return p && !strncmp(p, want, strlen(want)) && p[strlen(want)] == '\n';
}

static void big(void)
{
	made_t m;
	int n_res = 25001; /* 100004 polymer atoms, residue numbers past 9999 */
	if (make(&m, n_res) < 0) {
		CHECK(0, "made-up assembly");
		unmake(&m);
		return;
	}
	of3_wc_query_t *q = &m.q;
	CHECK(of3_wc_pdb_check(q) == OF3_OK, "a 100007-atom assembly fits the PDB format");
	of3_sbuf_t b = {0};
	int rc = of3_wc_pdb(&b, q, m.x, m.plddt);
	CHECK(rc == OF3_OK && b.len > 0, "PDB text written");
	const char *t = b.data ? b.data : "";
	/* cols: record, serial, name, resName, chain, resSeq, x, y, z, occupancy, B, element,
	 * charge */
	CHECK(line_is(t, "ATOM      1  N   GLY A   1    -250.000  -0.125  -3.000  1.00  0.00"
	                 "           N  "),
	      "first atom line in its columns");
	CHECK(line_is(line_of(t, "ATOM  99999"), "ATOM  99999  C   GLY AABKO     249.000  12.250   "
	                                         "0.000  1.00 99.89           C  "),
	      "serial 99999 decimal, residue 25000 is ABKO (hybrid-36)");
	CHECK(line_is(line_of(t, "ATOM  A0000"), "ATOM  A0000  O   GLY AABKO     249.500  12.250   "
	                                         "1.000  1.00 99.90           O  "),
	      "serial 100000 is A0000 (hybrid-36)");
	long ter = 4L * n_res + 1;
	char s[8], head[16];
	of3_wc_hy36(s, 5, ter);
	snprintf(head, sizeof head, "TER   %s", s);
	const char *p = line_of(t, head);
	char want[96];
	snprintf(want, sizeof want, "TER   %s      GLY AABKP", s);
	CHECK(line_is(p, want), "TER after chain A takes serial %s: %s", s, want);
	CHECK(p && !strncmp(strchr(p, '\n') + 1, "HETATM", 6), "the ligand follows TER as HETATM");
	of3_wc_hy36(s, 5, ter + 2);
	snprintf(head, sizeof head, "HETATM%s", s);
	p = line_of(t, head);
	CHECK(p && !strncmp(p + 11, " CL12 LIG B   1", 15) && !strncmp(p + 76, "CL  \n", 5),
	      "4-character atom name from column 13, residue LIG0 cut to LIG, element CL");
	of3_wc_hy36(s, 5, ter + 3);
	snprintf(head, sizeof head, "HETATM%s", s);
	p = line_of(t, head);
	CHECK(p && !strncmp(p + 11, " MG    MG C   1", 15) && !strncmp(p + 76, "MG2+\n", 5),
	      "two-letter element name from column 13, charge 2+");
	CHECK(!line_of(t, "CONECT    1"), "no CONECT for the polymer's own bonds");
	char c1[8], c2[8];
	of3_wc_hy36(c1, 5, ter + 1), of3_wc_hy36(c2, 5, ter + 2);
	snprintf(want, sizeof want, "CONECT%s%s", c1, c2);
	CHECK(line_is(line_of(t, want), want), "CONECT for the ligand bond: %s", want);
	CHECK(b.len > 4 && !strcmp(b.data + b.len - 4, "END\n"), "ends with END");
	int bad = 0;
	for (const char *l = t; *l; l = strchr(l, '\n') + 1)
		if ((!strncmp(l, "ATOM  ", 6) || !strncmp(l, "HETATM", 6)) &&
		    strchr(l, '\n') - l != 80)
			bad++;
	CHECK(!bad, "every ATOM/HETATM line has 80 columns (%d do not)", bad);
	of3_sbuf_free(&b);
	unmake(&m);
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void refusals(const char *dir)
{
	made_t m;
	if (make(&m, 3) < 0) {
		CHECK(0, "made-up assembly");
		unmake(&m);
		return;
	}
	of3_wc_query_t *q = &m.q;
	m.plddt[0] = 0;
	/* of3_wc_write needs logits for the metrics; the refusal comes before them */
	of3_wc_opts_t o = {OF3_LAYOUT_OPENFOLD3, 1};
	free(q->atom_chain_id[0]);
	q->atom_chain_id[0] = sdup("AB");
	int rc = of3_wc_write(q, dir, &o, NULL);
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "chain id") && !exists(dir),
	      "a two-character chain id is refused before any file: %s", of3_errmsg());
	strcpy(q->atom_chain_id[0], "A");
	m.x[3 * 5 + 2] = -1000.f;
	rc = of3_wc_write(q, dir, &o, NULL);
	CHECK(rc == OF3_ERR_INPUT && strstr(of3_errmsg(), "-999.999..9999.999") && !exists(dir),
	      "a coordinate of -1000 is refused before any file: %s", of3_errmsg());
	m.x[3 * 5 + 2] = 9999.999f;
	CHECK(of3_wc_pdb_check(q) == OF3_OK, "9999.999 fits");
	free(q->atom_name[1]);
	q->atom_name[1] = sdup("CA123");
	CHECK(of3_wc_pdb_check(q) == OF3_ERR_INPUT && strstr(of3_errmsg(), "1 to 4 characters"),
	      "a 5-character atom name is refused: %s", of3_errmsg());
	unmake(&m);
}

static int write_big(const char *stem)
{
	made_t m;
	char path[1024];
	of3_sbuf_t b = {0};
	int rc = make(&m, 25001) < 0 ? OF3_ERR_NOMEM : OF3_OK;
	double mean = 0;
	for (int a = 0; rc == OF3_OK && a < m.q.n_atom; a++)
		mean += m.plddt[a] / m.q.n_atom;
	if (rc == OF3_OK && (rc = of3_wc_pdb(&b, &m.q, m.x, m.plddt)) == OF3_OK) {
		snprintf(path, sizeof path, "%s.pdb", stem);
		rc = of3_write_file(path, b.data, b.len);
	}
	b.len = 0;
	if (rc == OF3_OK && (rc = of3_wc_cif(&b, &m.q, m.x, m.plddt, mean)) == OF3_OK) {
		snprintf(path, sizeof path, "%s.cif", stem);
		rc = of3_write_file(path, b.data, b.len);
	}
	if (rc < 0)
		fprintf(stderr, "test_writecif_pdb: %s\n", of3_errmsg());
	of3_sbuf_free(&b);
	unmake(&m);
	return rc < 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-big"))
		return write_big(argv[2]);
	hy36();
	big();
	char dir[] = "/tmp/of3_test_pdb_XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(0, "scratch directory");
		return check_summary();
	}
	char out[64];
	snprintf(out, sizeof out, "%s/out", dir);
	refusals(out);
	CHECK(rmdir(dir) == 0, "scratch directory removed");
	return check_summary();
}
