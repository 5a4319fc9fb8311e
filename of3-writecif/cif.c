/* cif.c: mmCIF text of one sample (cif.h). Residues are runs of atoms with equal chain id,
 * residue number and residue name; ligand residues get label_seq_id "." as OpenFold3 writes
 * them. */
#include "cif.h"

#include <stdlib.h>
#include <string.h>

static const char *poly_type(int mol)
{
	return mol == OF3_MOL_PROTEIN ? "polypeptide(L)"
	       : mol == OF3_MOL_RNA   ? "polyribonucleotide"
	                              : "polydeoxyribonucleotide";
}

static const char *comp_type(int mol)
{
	return mol == OF3_MOL_PROTEIN ? "'L-peptide linking'"
	       : mol == OF3_MOL_RNA   ? "'RNA linking'"
	       : mol == OF3_MOL_DNA   ? "'DNA linking'"
	                              : "non-polymer";
}

/* The first atom of entity e's first chain, or -1. */
static int entity_first_atom(const of3_wc_query_t *q, int32_t e)
{
	for (int a = 0; a < q->n_atom; a++)
		if (q->atom_entity_id[a] == e)
			return a;
	return -1;
}

static void entities(of3_sbuf_t *o, const of3_wc_query_t *q)
{
	int32_t prev = INT32_MIN;
	int any_poly = 0;
	of3_sbuf_printf(o, "#\nloop_\n_entity.id\n_entity.type\n_entity.pdbx_description\n");
	for (;;) { /* entity ids in ascending order */
		int32_t e = INT32_MAX;
		int found = 0;
		for (int a = 0; a < q->n_atom; a++)
			if (q->atom_entity_id[a] > prev && q->atom_entity_id[a] <= e)
				e = q->atom_entity_id[a], found = 1;
		if (!found)
			break;
		int mol = q->atom_molecule_type_id[entity_first_atom(q, e)];
		any_poly |= mol != OF3_MOL_LIGAND;
		of3_sbuf_printf(o, "%d %s ?\n", e,
		                mol == OF3_MOL_LIGAND ? "non-polymer" : "polymer");
		prev = e;
	}
	if (!any_poly)
		return;
	of3_sbuf_printf(o, "#\nloop_\n_entity_poly.entity_id\n_entity_poly.type\n"
	                   "_entity_poly.nstd_linkage\n_entity_poly.pdbx_seq_one_letter_code\n"
	                   "_entity_poly.pdbx_strand_id\n");
	of3_sbuf_t seq = {0};
	for (prev = INT32_MIN;;) {
		int32_t e = INT32_MAX;
		int found = 0;
		for (int a = 0; a < q->n_atom; a++)
			if (q->atom_entity_id[a] > prev && q->atom_entity_id[a] <= e)
				e = q->atom_entity_id[a], found = 1;
		if (!found)
			break;
		prev = e;
		int a0 = entity_first_atom(q, e), mol = q->atom_molecule_type_id[a0];
		if (mol == OF3_MOL_LIGAND)
			continue;
		seq.len = 0;
		for (int a = a0;
		     a < q->n_atom && !strcmp(q->atom_chain_id[a], q->atom_chain_id[a0]); a++) {
			if (a > a0 && of3_wc_same_res(q, a, a - 1))
				continue;
			int k = of3_wc_std_res(q->atom_res_name[a]);
			if (k)
				of3_sbuf_printf(&seq, "%c", k);
			else
				of3_sbuf_printf(&seq, "(%s)", q->atom_res_name[a]);
		}
		of3_sbuf_printf(o, "%d %s no ", e, poly_type(mol));
		of3_sbuf_cif(o, seq.data ? seq.data : "");
		of3_sbuf_printf(o, " ");
		/* strand ids: every chain of the entity, comma-separated */
		int first = 1;
		for (int c = 0; c < q->n_chain; c++) {
			for (int i = 0; i < q->n_token; i++)
				if (q->asym_id[i] == q->chain_asym[c]) {
					if (q->entity_id[i] == e)
						of3_sbuf_printf(o, "%s%s", first ? "" : ",",
						                q->chain_name[c]),
						        first = 0;
					break;
				}
		}
		of3_sbuf_printf(o, "\n");
	}
	o->failed |= seq.failed;
	of3_sbuf_printf(o, "#\nloop_\n_entity_poly_seq.entity_id\n_entity_poly_seq.num\n"
	                   "_entity_poly_seq.mon_id\n_entity_poly_seq.hetero\n");
	for (prev = INT32_MIN;;) {
		int32_t e = INT32_MAX;
		int found = 0;
		for (int a = 0; a < q->n_atom; a++)
			if (q->atom_entity_id[a] > prev && q->atom_entity_id[a] <= e)
				e = q->atom_entity_id[a], found = 1;
		if (!found)
			break;
		prev = e;
		int a0 = entity_first_atom(q, e);
		if (q->atom_molecule_type_id[a0] == OF3_MOL_LIGAND)
			continue;
		for (int a = a0;
		     a < q->n_atom && !strcmp(q->atom_chain_id[a], q->atom_chain_id[a0]); a++)
			if (a == a0 || !of3_wc_same_res(q, a, a - 1))
				of3_sbuf_printf(o, "%d %d %s n\n", e, q->atom_res_id[a],
				                q->atom_res_name[a]);
	}
	of3_sbuf_free(&seq);
}

static void chem_comps(of3_sbuf_t *o, const of3_wc_query_t *q)
{
	of3_sbuf_printf(o, "#\nloop_\n_chem_comp.id\n_chem_comp.type\n_chem_comp.mon_nstd_flag\n");
	const char *prev = "";
	for (;;) { /* residue names in ascending order */
		const char *next = NULL;
		int a_next = -1;
		for (int a = 0; a < q->n_atom; a++)
			if (strcmp(q->atom_res_name[a], prev) > 0 &&
			    (!next || strcmp(q->atom_res_name[a], next) < 0))
				next = q->atom_res_name[a], a_next = a;
		if (!next)
			break;
		int mol = q->atom_molecule_type_id[a_next];
		of3_sbuf_cif(o, next);
		of3_sbuf_printf(o, " %s %s\n", comp_type(mol),
		                mol == OF3_MOL_LIGAND  ? "."
		                : of3_wc_std_res(next) ? "y"
		                                       : "n");
		prev = next;
	}
}

static void seq_id(of3_sbuf_t *o, const of3_wc_query_t *q, int a)
{
	if (q->atom_molecule_type_id[a] == OF3_MOL_LIGAND)
		of3_sbuf_printf(o, ".");
	else
		of3_sbuf_printf(o, "%d", q->atom_res_id[a]);
}

/* mmCIF's value_order for a bond type; dative bonds have no mmCIF order, so they become
 * single as OpenFold3 does when biotite cannot write them. */
static const char *value_order(int type, int upper)
{
	static const char *const ORDER[][2] = {{"?", "?"},       {"sing", "SING"}, {"doub", "DOUB"},
	                                       {"trip", "TRIP"}, {"quad", "QUAD"}, {"sing", "SING"},
	                                       {"doub", "DOUB"}, {"trip", "TRIP"}, {"sing", "SING"},
	                                       {"arom", "AROM"}};
	return type >= 0 && type <= OF3_BOND_AROMATIC ? ORDER[type][upper] : "?";
}

static const char *aromatic_flag(int type)
{
	return type == OF3_BOND_ANY || type < 0 || type > OF3_BOND_AROMATIC        ? "?"
	       : type >= OF3_BOND_AROMATIC_SINGLE && type != OF3_BOND_COORDINATION ? "Y"
	                                                                           : "N";
}

typedef struct {
	const char *comp, *lo, *hi; /* the atom names in strcmp order: one key per bond */
	int k;
} comp_bond_t;

static int by_key(const void *x, const void *y)
{
	const comp_bond_t *a = x, *b = y;
	int c = strcmp(a->comp, b->comp);
	if (!c)
		c = strcmp(a->lo, b->lo);
	if (!c)
		c = strcmp(a->hi, b->hi);
	return c ? c : a->k - b->k;
}

static int by_k(const void *x, const void *y)
{
	return ((const comp_bond_t *)x)->k - ((const comp_bond_t *)y)->k;
}

/* Every residue's own bonds, once per residue name. A reader that finds chem_comp_bond (biotite)
 * takes intra-residue bonds only from it, so the standard residues are listed too, and the
 * ligands' bonds (absent from any dictionary for SMILES ligands) come back as predicted. */
static void chem_comp_bond(of3_sbuf_t *o, const of3_wc_query_t *q)
{
	comp_bond_t *v = malloc(((size_t)q->n_bond + 1) * sizeof *v);
	if (!v) {
		o->failed = 1;
		return;
	}
	int n = 0;
	for (int k = 0; k < q->n_bond; k++) {
		int a = q->atom_bonds[3 * k], b = q->atom_bonds[3 * k + 1];
		if (!of3_wc_same_res(q, a, b))
			continue;
		int swap = strcmp(q->atom_name[a], q->atom_name[b]) > 0;
		v[n++] = (comp_bond_t){q->atom_res_name[a], q->atom_name[swap ? b : a],
		                       q->atom_name[swap ? a : b], k};
	}
	qsort(v, (size_t)n, sizeof *v, by_key);
	int m = 0;
	for (int i = 0; i < n; i++)
		if (!i || strcmp(v[i].comp, v[m - 1].comp) || strcmp(v[i].lo, v[m - 1].lo) ||
		    strcmp(v[i].hi, v[m - 1].hi))
			v[m++] = v[i];
	qsort(v, (size_t)m, sizeof *v, by_k);
	if (m)
		of3_sbuf_printf(
		        o, "#\nloop_\n_chem_comp_bond.comp_id\n_chem_comp_bond.atom_id_1\n"
		           "_chem_comp_bond.atom_id_2\n_chem_comp_bond.value_order\n"
		           "_chem_comp_bond.pdbx_aromatic_flag\n"
		           "_chem_comp_bond.pdbx_stereo_config\n_chem_comp_bond.pdbx_ordinal\n");
	for (int i = 0; i < m; i++) {
		const int32_t *bond = &q->atom_bonds[3 * v[i].k];
		of3_sbuf_cif(o, v[i].comp);
		of3_sbuf_printf(o, " ");
		of3_sbuf_cif(o, q->atom_name[bond[0]]);
		of3_sbuf_printf(o, " ");
		of3_sbuf_cif(o, q->atom_name[bond[1]]);
		of3_sbuf_printf(o, " %s %s ? %d\n", value_order(bond[2], 1), aromatic_flag(bond[2]),
		                i + 1);
	}
	free(v);
}

/* One row per ligand residue, which OpenStructure needs to place the ligands. */
static void nonpoly_scheme(of3_sbuf_t *o, const of3_wc_query_t *q)
{
	int n = 0;
	for (int a = 0; a < q->n_atom; a++) {
		if (q->atom_molecule_type_id[a] != OF3_MOL_LIGAND ||
		    (a > 0 && of3_wc_same_res(q, a, a - 1)))
			continue;
		if (!n++)
			of3_sbuf_printf(o, "#\nloop_\n_pdbx_nonpoly_scheme.asym_id\n"
			                   "_pdbx_nonpoly_scheme.entity_id\n"
			                   "_pdbx_nonpoly_scheme.mon_id\n"
			                   "_pdbx_nonpoly_scheme.ndb_seq_num\n"
			                   "_pdbx_nonpoly_scheme.pdb_seq_num\n"
			                   "_pdbx_nonpoly_scheme.auth_seq_num\n"
			                   "_pdbx_nonpoly_scheme.pdb_mon_id\n"
			                   "_pdbx_nonpoly_scheme.auth_mon_id\n"
			                   "_pdbx_nonpoly_scheme.pdb_strand_id\n"
			                   "_pdbx_nonpoly_scheme.pdb_ins_code\n");
		const char *chain = q->atom_chain_id[a], *res = q->atom_res_name[a];
		int num = q->atom_res_id[a];
		of3_sbuf_cif(o, chain);
		of3_sbuf_printf(o, " %d ", q->atom_entity_id[a]);
		of3_sbuf_cif(o, res);
		of3_sbuf_printf(o, " %d %d %d ", num, num, num);
		of3_sbuf_cif(o, res);
		of3_sbuf_printf(o, " ");
		of3_sbuf_cif(o, res);
		of3_sbuf_printf(o, " ");
		of3_sbuf_cif(o, chain);
		of3_sbuf_printf(o, " .\n");
	}
}

static void struct_conn(of3_sbuf_t *o, const of3_wc_query_t *q)
{
	int n = 0;
	for (int k = 0; k < q->n_bond; k++) {
		if (!of3_wc_bond_explicit(q, k))
			continue;
		int a = q->atom_bonds[3 * k], b = q->atom_bonds[3 * k + 1],
		    type = q->atom_bonds[3 * k + 2];
		if (!n++)
			of3_sbuf_printf(o, "#\nloop_\n_struct_conn.id\n_struct_conn.conn_type_id\n"
			                   "_struct_conn.pdbx_value_order\n"
			                   "_struct_conn.ptnr1_label_asym_id\n"
			                   "_struct_conn.ptnr1_label_comp_id\n"
			                   "_struct_conn.ptnr1_label_seq_id\n"
			                   "_struct_conn.ptnr1_label_atom_id\n"
			                   "_struct_conn.ptnr1_auth_seq_id\n"
			                   "_struct_conn.ptnr2_label_asym_id\n"
			                   "_struct_conn.ptnr2_label_comp_id\n"
			                   "_struct_conn.ptnr2_label_seq_id\n"
			                   "_struct_conn.ptnr2_label_atom_id\n"
			                   "_struct_conn.ptnr2_auth_seq_id\n");
		const char *conn = type == OF3_BOND_COORDINATION ? "metalc" : "covale";
		of3_sbuf_printf(o, "%s%d %s %s", conn, n, conn,
		                type == OF3_BOND_COORDINATION ? "?" : value_order(type, 0));
		for (int e = 0; e < 2; e++) {
			int x = e ? b : a;
			of3_sbuf_printf(o, " ");
			of3_sbuf_cif(o, q->atom_chain_id[x]);
			of3_sbuf_printf(o, " ");
			of3_sbuf_cif(o, q->atom_res_name[x]);
			of3_sbuf_printf(o, " ");
			seq_id(o, q, x);
			of3_sbuf_printf(o, " ");
			of3_sbuf_cif(o, q->atom_name[x]);
			of3_sbuf_printf(o, " %d", q->atom_res_id[x]);
		}
		of3_sbuf_printf(o, "\n");
	}
}

int of3_wc_cif(of3_sbuf_t *o, const of3_wc_query_t *q, const float *x, const float *plddt,
               double avg_plddt)
{
	char name[128];
	size_t k = 0;
	for (const char *p = q->name; *p && k < sizeof name - 1; p++)
		name[k++] = (*p > ' ' && *p < 127) ? *p : '_';
	name[k] = 0;
	of3_sbuf_printf(o, "data_%s\n#\n_entry.id ", k ? name : "model");
	of3_sbuf_cif(o, k ? name : "model");
	of3_sbuf_printf(o, "\n");
	entities(o, q);
	of3_sbuf_printf(o, "#\nloop_\n_struct_asym.id\n_struct_asym.entity_id\n");
	for (int c = 0; c < q->n_chain; c++)
		for (int i = 0; i < q->n_token; i++)
			if (q->asym_id[i] == q->chain_asym[c]) {
				of3_sbuf_cif(o, q->chain_name[c]);
				of3_sbuf_printf(o, " %d\n", q->entity_id[i]);
				break;
			}
	chem_comps(o, q);
	chem_comp_bond(o, q);
	nonpoly_scheme(o, q);
	of3_sbuf_printf(o, "#\nloop_\n_atom_site.group_PDB\n_atom_site.id\n_atom_site.type_symbol\n"
	                   "_atom_site.label_atom_id\n_atom_site.label_alt_id\n"
	                   "_atom_site.label_comp_id\n_atom_site.label_asym_id\n"
	                   "_atom_site.label_entity_id\n_atom_site.label_seq_id\n"
	                   "_atom_site.pdbx_PDB_ins_code\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n"
	                   "_atom_site.Cartn_z\n_atom_site.occupancy\n_atom_site.B_iso_or_equiv\n"
	                   "_atom_site.pdbx_formal_charge\n_atom_site.auth_seq_id\n"
	                   "_atom_site.auth_comp_id\n_atom_site.auth_asym_id\n"
	                   "_atom_site.auth_atom_id\n_atom_site.pdbx_PDB_model_num\n");
	for (int a = 0; a < q->n_atom; a++) {
		of3_sbuf_printf(o, "%s %d ", q->atom_hetero[a] ? "HETATM" : "ATOM", a + 1);
		of3_sbuf_cif(o, q->atom_element[a]);
		of3_sbuf_printf(o, " ");
		of3_sbuf_cif(o, q->atom_name[a]);
		of3_sbuf_printf(o, " . ");
		of3_sbuf_cif(o, q->atom_res_name[a]);
		of3_sbuf_printf(o, " ");
		of3_sbuf_cif(o, q->atom_chain_id[a]);
		of3_sbuf_printf(o, " %d ", q->atom_entity_id[a]);
		seq_id(o, q, a);
		of3_sbuf_printf(o, " ? %.3f %.3f %.3f 1.00 %.2f ", x[3 * a], x[3 * a + 1],
		                x[3 * a + 2], plddt[a]);
		if (q->atom_charge[a])
			of3_sbuf_printf(o, "%d", q->atom_charge[a]);
		else
			of3_sbuf_printf(o, "?");
		of3_sbuf_printf(o, " %d ", q->atom_res_id[a]);
		of3_sbuf_cif(o, q->atom_res_name[a]);
		of3_sbuf_printf(o, " ");
		of3_sbuf_cif(o, q->atom_chain_id[a]);
		of3_sbuf_printf(o, " ");
		of3_sbuf_cif(o, q->atom_name[a]);
		of3_sbuf_printf(o, " 1\n");
	}
	struct_conn(o, q);
	of3_sbuf_printf(o,
	                "#\n_ma_qa_metric.id 1\n_ma_qa_metric.name pLDDT\n"
	                "_ma_qa_metric.type pLDDT\n_ma_qa_metric.mode global\n"
	                "_ma_qa_metric.software_group_id .\n#\n"
	                "_ma_qa_metric_global.ordinal_id 1\n_ma_qa_metric_global.model_id 1\n"
	                "_ma_qa_metric_global.metric_id 1\n"
	                "_ma_qa_metric_global.metric_value %.2f\n#\n",
	                avg_plddt);
	return of3_sbuf_status(o);
}
