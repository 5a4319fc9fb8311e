/* cif.c: mmCIF text of one sample (cif.h). Residues are runs of atoms with equal chain id,
 * residue number and residue name; ligand residues get label_seq_id "." as OpenFold3 writes
 * them. */
#include "cif.h"

#include <stdlib.h>
#include <string.h>

static const char *const STD[] = {"ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY",
                                  "HIS", "ILE", "LEU", "LYS", "MET", "PHE", "PRO", "SER",
                                  "THR", "TRP", "TYR", "VAL", "A",   "G",   "C",   "U",
                                  "DA",  "DG",  "DC",  "DT",  NULL};
static const char ONE[] = "ARNDCQEGHILKMFPSTWYVAGCUAGCT";

static int std_index(const char *res)
{
	for (int i = 0; STD[i]; i++)
		if (!strcmp(STD[i], res))
			return i;
	return -1;
}

static int same_res(const of3_wc_query_t *q, int a, int b)
{
	return !strcmp(q->atom_chain_id[a], q->atom_chain_id[b]) &&
	       q->atom_res_id[a] == q->atom_res_id[b] &&
	       !strcmp(q->atom_res_name[a], q->atom_res_name[b]);
}

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
			if (a > a0 && same_res(q, a, a - 1))
				continue;
			int k = std_index(q->atom_res_name[a]);
			if (k >= 0)
				of3_sbuf_printf(&seq, "%c", ONE[k]);
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
			if (a == a0 || !same_res(q, a, a - 1))
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
		                : std_index(next) >= 0 ? "y"
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

static void struct_conn(of3_sbuf_t *o, const of3_wc_query_t *q)
{
	int n = 0;
	for (int k = 0; k < q->n_bond; k++) {
		int a = q->atom_bonds[3 * k], b = q->atom_bonds[3 * k + 1];
		if (same_res(q, a, b))
			continue;
		/* plain polymer links between standard residues are implied by the sequence */
		if (q->atom_molecule_type_id[a] != OF3_MOL_LIGAND &&
		    q->atom_molecule_type_id[b] != OF3_MOL_LIGAND &&
		    std_index(q->atom_res_name[a]) >= 0 && std_index(q->atom_res_name[b]) >= 0)
			continue;
		if (!n++)
			of3_sbuf_printf(o, "#\nloop_\n_struct_conn.id\n_struct_conn.conn_type_id\n"
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
		of3_sbuf_printf(o, "covale%d covale", n);
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
