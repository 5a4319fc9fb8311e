/* assembly.c: a query's chains to atoms, bonds, ids and tokens (spec/data.md §2.1-2.7, §3). */
#include "assembly.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smiles.h"

/* ---- residue naming (spec/data.md §2.2) ---- */

static const char *const protein_3[26] = {
        ['A' - 'A'] = "ALA", ['R' - 'A'] = "ARG", ['N' - 'A'] = "ASN", ['D' - 'A'] = "ASP",
        ['C' - 'A'] = "CYS", ['Q' - 'A'] = "GLN", ['E' - 'A'] = "GLU", ['G' - 'A'] = "GLY",
        ['H' - 'A'] = "HIS", ['I' - 'A'] = "ILE", ['L' - 'A'] = "LEU", ['K' - 'A'] = "LYS",
        ['M' - 'A'] = "MET", ['F' - 'A'] = "PHE", ['P' - 'A'] = "PRO", ['S' - 'A'] = "SER",
        ['T' - 'A'] = "THR", ['W' - 'A'] = "TRP", ['Y' - 'A'] = "TYR", ['V' - 'A'] = "VAL",
        ['X' - 'A'] = "UNK",
};

/* The residue a one-letter code stands for; letters OpenFold3 does not know become the
 * molecule type's unknown residue, as in OpenFold3. */
static const char *residue_name(of3_mol_type_t type, char letter)
{
	int i = letter - 'A';
	int known = i >= 0 && i < 26;
	switch (type) {
	case OF3_MOL_PROTEIN: return known && protein_3[i] ? protein_3[i] : "UNK";
	case OF3_MOL_RNA:
		return letter == 'A'   ? "A"
		       : letter == 'G' ? "G"
		       : letter == 'C' ? "C"
		       : letter == 'U' ? "U"
		                       : "N";
	case OF3_MOL_DNA:
		return letter == 'A'   ? "DA"
		       : letter == 'G' ? "DG"
		       : letter == 'C' ? "DC"
		       : letter == 'T' ? "DT"
		                       : "DN";
	default: return "UNK";
	}
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* One token per residue for these names in a polymer (tokenization's "canonical residues"). */
static const char *const standard_residues[] = {
        "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU",
        "LYS", "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "UNK", "A",
        "G",   "C",   "U",   "N",   "DA",  "DG",  "DC",  "DT",  "DN",  NULL};
/* Residues biotite writes as ATOM rather than HETATM (its NON_HETERO set). */
static const char *const non_hetero[] = {"ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY",
                                         "HIS", "ILE", "LEU", "LYS", "MET", "PHE", "PRO", "SER",
                                         "THR", "TRP", "TYR", "VAL", "PYL", "SEC", "A",   "DA",
                                         "G",   "DG",  "C",   "DC",  "U",   "DT",  NULL};
/* Link types between which biotite adds a C-N or O3'-P bond. */
static const char *const peptide_links[] = {"PEPTIDE LINKING", "L-PEPTIDE LINKING",
                                            "D-PEPTIDE LINKING", NULL};
static const char *const nucleic_links[] = {"RNA LINKING", "DNA LINKING", NULL};

/* ---- the growing atom table ---- */

typedef struct {
	int n, m;
	int32_t *res_id, *charge, *mol_type, *entity, *asym, *sym, *token;
	uint8_t *hetero;
	uint8_t *has_pos;      /* the CCD gave coordinates for this atom */
	float *pos;            /* [m, 3] */
	const char **chain_id; /* points into the query */
	const char **res_name; /* points into the CCD, a static table or lig_names */
	char (*name)[8];
	char (*element)[4];
	int n_bonds, m_bonds;
	int32_t *bonds;           /* [m_bonds, 3] */
	char lig_names[64][8];    /* "LIG0", ... */
	int32_t *n_h, *chirality; /* SMILES atoms' hydrogens and parity; 0 elsewhere */
	int n_stereo, m_stereo;
	int32_t *stereo; /* [m_stereo, 5]: SMILES cis/trans double bonds */
} atoms_t;

static void atoms_free(atoms_t *t)
{
	free(t->res_id), free(t->charge), free(t->mol_type), free(t->entity), free(t->asym);
	free(t->sym), free(t->token), free(t->hetero), free(t->has_pos), free(t->pos);
	free(t->chain_id);
	free(t->res_name), free(t->name), free(t->element), free(t->bonds);
	free(t->n_h), free(t->chirality), free(t->stereo);
}

#define GROW(p, m) ((p) = realloc((p), (size_t)(m) * sizeof *(p)))

/* Appends one atom; returns its index or an error. */
static int add_atom(atoms_t *t, const char *chain_id, int res_id, const char *res_name,
                    const char *name, const char *element, int charge, of3_mol_type_t type,
                    int entity, const double *xyz)
{
	if (t->n == t->m) {
		int m = t->m ? 2 * t->m : 1024;
		if (!GROW(t->res_id, m) || !GROW(t->charge, m) || !GROW(t->mol_type, m) ||
		    !GROW(t->entity, m) || !GROW(t->asym, m) || !GROW(t->sym, m) ||
		    !GROW(t->token, m) || !GROW(t->hetero, m) || !GROW(t->has_pos, m) ||
		    !GROW(t->chain_id, m) || !GROW(t->res_name, m) || !GROW(t->name, m) ||
		    !GROW(t->element, m) || !GROW(t->n_h, m) || !GROW(t->chirality, m) ||
		    !(t->pos = realloc(t->pos, (size_t)m * 3 * sizeof *t->pos)))
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		t->m = m;
	}
	int i = t->n++;
	t->chain_id[i] = chain_id;
	t->res_id[i] = res_id;
	t->res_name[i] = res_name;
	snprintf(t->name[i], sizeof t->name[i], "%s", name);
	snprintf(t->element[i], sizeof t->element[i], "%s", element);
	t->charge[i] = charge;
	t->mol_type[i] = (int32_t)type;
	t->entity[i] = entity;
	t->hetero[i] = !in_list(res_name, non_hetero);
	t->has_pos[i] = xyz != NULL;
	t->n_h[i] = t->chirality[i] = 0;
	for (int k = 0; k < 3; k++)
		t->pos[3 * i + k] = xyz ? (float)xyz[k] : 0.0f;
	return i;
}

static int add_bond(atoms_t *t, int a, int b, int type)
{
	if (t->n_bonds == t->m_bonds) {
		int m = t->m_bonds ? 2 * t->m_bonds : 1024;
		if (!(t->bonds = realloc(t->bonds, (size_t)m * 3 * sizeof *t->bonds)))
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		t->m_bonds = m;
	}
	int32_t *p = t->bonds + 3 * t->n_bonds++;
	p[0] = a < b ? a : b;
	p[1] = a < b ? b : a;
	p[2] = type;
	return OF3_OK;
}

/* biotite's BondType for a CCD bond: 1-4 by order, 5-7 for aromatic single/double/triple.
 * (SMILES bonds come with theirs: smiles.h's bond_type.) */
static int bond_type(int order, int aromatic)
{
	return aromatic && order <= 3 ? 4 + order : order;
}

/* ---- residues and ligands ---- */

/* Where a chain's previous residue can link to the next one. */
typedef struct {
	const char *link; /* its CCD type */
	int c, o3;        /* its C and O3' atoms, or -1 */
	int res_id;
} link_end_t;

static int is_standard_leaving(of3_mol_type_t type, const char *name)
{
	if (type == OF3_MOL_PROTEIN)
		return strcmp(name, "OXT") == 0;
	return strcmp(name, "OP3") == 0 || strcmp(name, "O3P") == 0;
}

/* Adds one polymer residue (spec/data.md §2.4-2.5) and its links to the previous one. */
static int add_residue(atoms_t *t, const of3_ccd_comp_t *comp, const char *chain_id, int res_id,
                       of3_mol_type_t type, int entity, int noncanonical, link_end_t *prev)
{
	/* Non-canonical residues lose the CCD's leaving atoms; if the CCD flags none, or for
	 * standard residues, the chain type's standard list (OXT, or OP3/O3P) goes. */
	int any_flagged = 0;
	for (int i = 0; i < comp->n_atoms; i++)
		any_flagged |= comp->atoms[i].leaving;
	int use_flags = noncanonical && any_flagged;
	int *index = malloc((comp->n_atoms > 0 ? (size_t)comp->n_atoms : 1) * sizeof *index);
	int c = -1, o3 = -1, n = -1, p = -1, rc = OF3_OK;
	if (!index)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; i < comp->n_atoms; i++) {
		const of3_ccd_atom_t *a = &comp->atoms[i];
		index[i] = -1;
		if (use_flags ? a->leaving : is_standard_leaving(type, a->name))
			continue;
		int k = add_atom(t, chain_id, res_id, comp->id, a->name, a->element, a->charge,
		                 type, entity, a->xyz);
		if (k < 0) {
			free(index);
			return k;
		}
		index[i] = k;
		if (!strcmp(a->name, "C"))
			c = k;
		else if (!strcmp(a->name, "O3'"))
			o3 = k;
		else if (!strcmp(a->name, "N") && n < 0)
			n = k;
		else if (!strcmp(a->name, "P") && p < 0)
			p = k;
	}
	for (int i = 0; rc == OF3_OK && i < comp->n_bonds; i++) {
		const of3_ccd_bond_t *b = &comp->bonds[i];
		if (index[b->a] >= 0 && index[b->b] >= 0)
			rc = add_bond(t, index[b->a], index[b->b],
			              bond_type(b->order, b->aromatic));
	}
	free(index);
	if (rc < 0)
		return rc;
	if (prev->link && res_id - prev->res_id <= 1) {
		if (in_list(prev->link, peptide_links) && in_list(comp->type, peptide_links)) {
			if (prev->c >= 0 && n >= 0)
				rc = add_bond(t, prev->c, n, 1);
		} else if (in_list(prev->link, nucleic_links) &&
		           in_list(comp->type, nucleic_links)) {
			if (prev->o3 >= 0 && p >= 0)
				rc = add_bond(t, prev->o3, p, 1);
		}
		if (rc < 0)
			return rc;
	}
	prev->link = comp->type;
	prev->c = c;
	prev->o3 = o3;
	prev->res_id = res_id;
	return OF3_OK;
}

static int add_ccd_ligand(atoms_t *t, const of3_ccd_comp_t *comp, const char *chain_id, int entity)
{
	int first = t->n;
	for (int i = 0; i < comp->n_atoms; i++) {
		const of3_ccd_atom_t *a = &comp->atoms[i];
		int k = add_atom(t, chain_id, 1, comp->id, a->name, a->element, a->charge,
		                 OF3_MOL_LIGAND, entity,
		                 comp->coords == OF3_CCD_COORDS_NONE ? NULL : a->xyz);
		if (k < 0)
			return k;
	}
	for (int i = 0; i < comp->n_bonds; i++) {
		int rc = add_bond(t, first + comp->bonds[i].a, first + comp->bonds[i].b,
		                  bond_type(comp->bonds[i].order, comp->bonds[i].aromatic));
		if (rc < 0)
			return rc;
	}
	return OF3_OK;
}

/* Atoms named per element in order, C1 C2 ... N1 ... CL1, as biotite names SMILES atoms. */
static int add_smiles_ligand(atoms_t *t, const of3_mol_t *mol, const char *res_name,
                             const char *chain_id, int entity)
{
	int first = t->n;
	for (int i = 0; i < mol->n_atoms; i++)
		if (strcmp(mol->atoms[i].element, "H") == 0)
			return of3_err(OF3_ERR_INPUT,
			               "SMILES atom %d is a hydrogen RDKit keeps ([2H], [H+], "
			               "[H] on a stereo bond); OpenFold3 fails on these, write the "
			               "hydrogen "
			               "implicitly",
			               i + 1);
	for (int i = 0; i < mol->n_atoms; i++) {
		const char *el = mol->atoms[i].element;
		int count = 1;
		for (int j = 0; j < i; j++)
			count += strcmp(mol->atoms[j].element, el) == 0;
		char name[16];
		snprintf(name, sizeof name, "%s%d", el, count);
		if (strlen(name) > 4)
			return of3_err(OF3_ERR_INPUT,
			               "atom %s: OpenFold3 names SMILES atoms with at most "
			               "4 characters, so at most 999 %s atoms fit",
			               name, el);
		int k = add_atom(t, chain_id, 1, res_name, name, el, mol->atoms[i].charge,
		                 OF3_MOL_LIGAND, entity, NULL);
		if (k < 0)
			return k;
		t->n_h[k] = mol->atoms[i].n_hydrogens;
		t->chirality[k] = mol->atoms[i].parity;
	}
	for (int i = 0; i < mol->n_bonds; i++) {
		const of3_smiles_bond_t *b = &mol->bonds[i];
		int rc = add_bond(t, first + b->a, first + b->b, b->bond_type);
		if (rc < 0)
			return rc;
		if (!b->cis_trans)
			continue;
		if (t->n_stereo == t->m_stereo) {
			int m = t->m_stereo ? 2 * t->m_stereo : 64;
			if (!(t->stereo = realloc(t->stereo, (size_t)m * 5 * sizeof *t->stereo)))
				return of3_err(OF3_ERR_NOMEM, "out of memory");
			t->m_stereo = m;
		}
		int32_t *p = t->stereo + 5 * t->n_stereo++;
		p[0] = first + b->a, p[1] = first + b->b;
		p[2] = first + b->ref_a, p[3] = first + b->ref_b;
		p[4] = b->cis_trans;
	}
	return OF3_OK;
}

/* ---- ids ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_bond(const void *a, const void *b)
{
	const int32_t *x = a, *y = b;
	return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

/* The string an entity is keyed by: sequence, CCD code or SMILES (spec/data.md §2.1). */
static const char *entity_key(const of3_chain_t *c)
{
	return c->sequence ? c->sequence : c->ccd_code ? c->ccd_code : c->smiles;
}

/* 1-based index of s among the sorted unique strings keys[0..n). */
static int rank_of(const char *s, const char **keys, int n)
{
	int r = 0;
	for (int i = 0; i < n; i++)
		if (strcmp(keys[i], s) == 0)
			return r + 1;
		else if (i + 1 == n || strcmp(keys[i], keys[i + 1]) != 0)
			r++;
	return -1;
}

/* asym_id: sorted unique chain ids; sym_id: running count of chains per entity in atom order;
 * tokens: one per standard polymer residue, one per atom otherwise. */
static int number_atoms(atoms_t *t)
{
	/* the distinct chain ids, sorted: one per chain start, so few */
	int n_ids = 0;
	const char **ids = malloc((size_t)(t->n ? t->n : 1) * sizeof *ids);
	if (!ids)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; i < t->n; i++)
		if (i == 0 || t->chain_id[i] != t->chain_id[i - 1])
			ids[n_ids++] = t->chain_id[i];
	qsort(ids, (size_t)n_ids, sizeof *ids, cmp_str);
	int max_entity = 0;
	for (int i = 0; i < t->n; i++)
		max_entity = t->entity[i] > max_entity ? t->entity[i] : max_entity;
	int *copies = calloc((size_t)max_entity + 1, sizeof *copies);
	if (!copies) {
		free(ids);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	int token = -1, sym = 0, asym = 0;
	for (int i = 0; i < t->n; i++) {
		int new_chain = i == 0 || strcmp(t->chain_id[i], t->chain_id[i - 1]) != 0 ||
		                t->res_id[i] < t->res_id[i - 1];
		if (new_chain) {
			sym = ++copies[t->entity[i]];
			asym = rank_of(t->chain_id[i], ids, n_ids);
		}
		t->sym[i] = sym;
		t->asym[i] = asym;
		int per_residue = t->mol_type[i] != OF3_MOL_LIGAND &&
		                  in_list(t->res_name[i], standard_residues);
		int same_residue = !new_chain && t->res_id[i] == t->res_id[i - 1] &&
		                   strcmp(t->res_name[i], t->res_name[i - 1]) == 0;
		if (!(per_residue && same_residue))
			token++;
		t->token[i] = token;
	}
	free(copies);
	free(ids);
	return token + 1;
}

/* ---- the bundle ---- */

static int put_i32(of3_bundle_t *b, const char *name, const int32_t *v, int n)
{
	of3_tensor_t *t;
	int64_t shape[1] = {n};
	int rc = of3_bundle_add_tensor(b, name, OF3_DTYPE_I32, 1, shape, 1, &t);
	if (rc == OF3_OK && n)
		memcpy(t->data, v, t->nbytes);
	return rc;
}

static int put_strings(of3_bundle_t *b, const char *name, const char *const *s, size_t stride,
                       int n)
{
	msgpack_object arr = {.type = MSGPACK_OBJECT_ARRAY};
	msgpack_object *items = malloc((size_t)(n ? n : 1) * sizeof *items);
	if (!items)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		const char *str = stride ? (const char *)s + (size_t)i * stride : s[i];
		items[i].type = MSGPACK_OBJECT_STR;
		items[i].via.str.ptr = str;
		items[i].via.str.size = (uint32_t)strlen(str);
	}
	arr.via.array.size = (uint32_t)n;
	arr.via.array.ptr = items;
	int rc = of3_bundle_add_value(b, name, &arr);
	free(items);
	return rc;
}

/* Packs a string array (n strings, or none) into the packer. */
static void pack_strs(msgpack_packer *pk, char *const *v, int n)
{
	msgpack_pack_array(pk, (size_t)(n > 0 ? n : 0));
	for (int i = 0; i < n; i++) {
		msgpack_pack_str(pk, strlen(v[i]));
		msgpack_pack_str_body(pk, v[i], strlen(v[i]));
	}
}

static void pack_kv_str(msgpack_packer *pk, const char *key, const char *v)
{
	msgpack_pack_str(pk, strlen(key));
	msgpack_pack_str_body(pk, key, strlen(key));
	if (!v) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_str(pk, strlen(v));
	msgpack_pack_str_body(pk, v, strlen(v));
}

static void pack_key(msgpack_packer *pk, const char *key)
{
	msgpack_pack_str(pk, strlen(key));
	msgpack_pack_str_body(pk, key, strlen(key));
}

/* The chain table of the assembly: one map per chain copy, in atom order, with what
 * of3-featurize needs beyond the atoms (sequence as written, MSA and template files). */
static int put_chains(of3_bundle_t *b, const of3_query_t *q, const atoms_t *t)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	int n = 0;
	for (int i = 0; i < q->n_chains; i++)
		n += q->chains[i].n_ids;
	msgpack_pack_array(&pk, (size_t)n);
	int atom = 0;
	for (int i = 0; i < q->n_chains; i++) {
		const of3_chain_t *c = &q->chains[i];
		for (int k = 0; k < c->n_ids; k++) {
			while (atom < t->n && strcmp(t->chain_id[atom], c->ids[k]) != 0)
				atom++;
			msgpack_pack_map(&pk, 12);
			pack_kv_str(&pk, "id", c->ids[k]);
			pack_key(&pk, "molecule_type");
			msgpack_pack_int(&pk, (int)c->type);
			pack_key(&pk, "entity_id");
			msgpack_pack_int(&pk, atom < t->n ? t->entity[atom] : 0);
			pack_key(&pk, "asym_id");
			msgpack_pack_int(&pk, atom < t->n ? t->asym[atom] : 0);
			pack_key(&pk, "sym_id");
			msgpack_pack_int(&pk, atom < t->n ? t->sym[atom] : 0);
			pack_kv_str(&pk, "sequence", c->sequence);
			pack_kv_str(&pk, "ccd_code", c->ccd_code);
			pack_kv_str(&pk, "smiles", c->smiles);
			pack_key(&pk, "main_msa_paths");
			pack_strs(&pk, c->main_msa_paths, c->n_main_msa);
			pack_key(&pk, "paired_msa_paths");
			pack_strs(&pk, c->paired_msa_paths, c->n_paired_msa);
			pack_kv_str(&pk, "template_alignment_path", c->template_alignment_path);
			pack_key(&pk, "template_chain_ids");
			pack_strs(&pk, c->template_chain_ids, c->n_template_chain_ids);
		}
	}
	msgpack_unpacked up;
	msgpack_unpacked_init(&up);
	size_t off = 0;
	int rc = msgpack_unpack_next(&up, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS
	                 ? of3_bundle_add_value(b, "chains", &up.data)
	                 : of3_err(OF3_ERR_NOMEM, "out of memory");
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int write_bundle(const atoms_t *t, int n_tokens, const of3_query_t *q, of3_ccd_t *ccd,
                        of3_bundle_t *b)
{
	int rc = put_strings(b, "atom_chain_id", t->chain_id, 0, t->n);
	rc = rc ? rc : put_strings(b, "atom_res_name", t->res_name, 0, t->n);
	rc = rc ? rc
	        : put_strings(b, "atom_name", (const char *const *)t->name, sizeof *t->name, t->n);
	rc = rc ? rc
	        : put_strings(b, "atom_element", (const char *const *)t->element,
	                      sizeof *t->element, t->n);
	rc = rc ? rc : put_i32(b, "atom_res_id", t->res_id, t->n);
	rc = rc ? rc : put_i32(b, "atom_charge", t->charge, t->n);
	rc = rc ? rc : put_i32(b, "atom_molecule_type_id", t->mol_type, t->n);
	rc = rc ? rc : put_i32(b, "atom_entity_id", t->entity, t->n);
	rc = rc ? rc : put_i32(b, "atom_asym_id", t->asym, t->n);
	rc = rc ? rc : put_i32(b, "atom_sym_id", t->sym, t->n);
	rc = rc ? rc : put_i32(b, "atom_token_id", t->token, t->n);
	of3_tensor_t *x;
	int64_t shape[2] = {t->n, 3}, bshape[2] = {t->n_bonds, 3};
	if (rc == OF3_OK &&
	    (rc = of3_bundle_add_tensor(b, "atom_hetero", OF3_DTYPE_U8, 1, shape, 1, &x)) == OF3_OK)
		memcpy(x->data, t->hetero, x->nbytes);
	if (rc == OF3_OK && (rc = of3_bundle_add_tensor(b, "atom_has_ccd_pos", OF3_DTYPE_U8, 1,
	                                                shape, 1, &x)) == OF3_OK)
		memcpy(x->data, t->has_pos, x->nbytes);
	if (rc == OF3_OK &&
	    (rc = of3_bundle_add_tensor(b, "atom_bonds", OF3_DTYPE_I32, 2, bshape, 1, &x)) ==
	            OF3_OK &&
	    x->nbytes)
		memcpy(x->data, t->bonds, x->nbytes);
	if (rc == OF3_OK &&
	    (rc = of3_bundle_add_tensor(b, "atom_ccd_pos", OF3_DTYPE_F32, 2, shape, 1, &x)) ==
	            OF3_OK &&
	    x->nbytes)
		memcpy(x->data, t->pos, x->nbytes);
	rc = rc ? rc : put_i32(b, "atom_n_hydrogens", t->n_h, t->n);
	rc = rc ? rc : put_i32(b, "atom_chirality", t->chirality, t->n);
	int64_t sshape[2] = {t->n_stereo, 5};
	if (rc == OF3_OK &&
	    (rc = of3_bundle_add_tensor(b, "bond_stereo", OF3_DTYPE_I32, 2, sshape, 1, &x)) ==
	            OF3_OK &&
	    x->nbytes)
		memcpy(x->data, t->stereo, x->nbytes);
	rc = rc ? rc : put_chains(b, q, t);
	rc = rc ? rc : of3_bundle_add_str(b, "query_json", q->json ? q->json : "");
	rc = rc ? rc : of3_bundle_meta_set_int(b, "n_atom", t->n);
	rc = rc ? rc : of3_bundle_meta_set_int(b, "n_token", n_tokens);
	rc = rc ? rc : of3_bundle_meta_set_int(b, "n_bond", t->n_bonds);
	int n_chain = 0;
	for (int i = 0; i < q->n_chains; i++)
		n_chain += q->chains[i].n_ids;
	rc = rc ? rc : of3_bundle_meta_set_int(b, "n_chain", n_chain);
	rc = rc ? rc : of3_bundle_meta_set_int(b, "use_msas", q->use_msas);
	rc = rc ? rc : of3_bundle_meta_set_int(b, "use_main_msas", q->use_main_msas);
	rc = rc ? rc : of3_bundle_meta_set_int(b, "use_paired_msas", q->use_paired_msas);
	rc = rc ? rc : of3_bundle_meta_set_str(b, "ccd", of3_ccd_source(ccd));
	return rc;
}

/* "query 'q', chain 2 (ids A, B)" for messages. */
static void chain_label(char *buf, size_t n, const of3_query_t *q, const of3_chain_t *c)
{
	int k = snprintf(buf, n, "query '%s', chain %d (id%s ", q->name, c->index + 1,
	                 c->n_ids == 1 ? "" : "s");
	for (int i = 0; i < c->n_ids && (size_t)k < n; i++)
		k += snprintf(buf + k, n - (size_t)k, "%s%s", i ? ", " : "", c->ids[i]);
	if ((size_t)k < n)
		snprintf(buf + k, n - (size_t)k, ")");
}

static int build_chain(atoms_t *t, const of3_query_t *q, const of3_chain_t *c, of3_ccd_t *ccd,
                       const char **keys, int n_keys, const char **smiles_keys, int n_smiles)
{
	char where[256];
	chain_label(where, sizeof where, q, c);
	int entity = rank_of(entity_key(c), keys, n_keys);
	of3_mol_t mol = {0};
	const char *lig_name = NULL;
	int rc = OF3_OK;
	if (c->smiles) {
		if ((rc = of3_smiles_parse(c->smiles, &mol)) < 0)
			return of3_err_prefix(rc, "%s", where);
		int r = rank_of(c->smiles, smiles_keys, n_smiles) - 1;
		if (r < 0 || r >= (int)(sizeof t->lig_names / sizeof *t->lig_names)) {
			of3_mol_free(&mol);
			return of3_err(OF3_ERR_INPUT, "%s: more than 64 different SMILES ligands",
			               where);
		}
		snprintf(t->lig_names[r], sizeof t->lig_names[r], "LIG%d", r);
		lig_name = t->lig_names[r];
	}
	for (int k = 0; rc == OF3_OK && k < c->n_ids; k++) {
		const char *id = c->ids[k];
		if (c->smiles) {
			rc = add_smiles_ligand(t, &mol, lig_name, id, entity);
		} else if (c->ccd_code) {
			const of3_ccd_comp_t *comp;
			rc = of3_ccd_get(ccd, c->ccd_code, &comp);
			if (rc == OF3_OK)
				rc = add_ccd_ligand(t, comp, id, entity);
		} else {
			link_end_t prev = {0};
			int nc = 0;
			for (int i = 0; rc == OF3_OK && c->sequence[i]; i++) {
				const char *code = residue_name(c->type, c->sequence[i]);
				int noncanonical = nc < c->n_noncanonical &&
				                   c->noncanonical[nc].position == i + 1;
				if (noncanonical)
					code = c->noncanonical[nc++].ccd;
				const of3_ccd_comp_t *comp;
				rc = of3_ccd_get(ccd, code, &comp);
				if (rc == OF3_OK)
					rc = add_residue(t, comp, id, i + 1, c->type, entity,
					                 noncanonical, &prev);
				else
					of3_err_prefix(rc, "%s: residue %d", where, i + 1);
			}
			if (rc < 0)
				break;
		}
	}
	of3_mol_free(&mol);
	if (rc < 0 && !c->sequence)
		of3_err_prefix(rc, "%s", where);
	return rc;
}

int of3_assembly_build(const of3_query_t *q, of3_ccd_t *ccd, of3_bundle_t **out)
{
	atoms_t t = {0};
	const char **keys = malloc((size_t)(q->n_chains ? q->n_chains : 1) * 2 * sizeof *keys);
	if (!keys)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	const char **smiles_keys = keys + q->n_chains;
	int n_keys = 0, n_smiles = 0, rc = OF3_OK;
	for (int i = 0; i < q->n_chains; i++) {
		keys[n_keys++] = entity_key(&q->chains[i]);
		if (q->chains[i].smiles)
			smiles_keys[n_smiles++] = q->chains[i].smiles;
	}
	qsort(keys, (size_t)n_keys, sizeof *keys, cmp_str);
	qsort(smiles_keys, (size_t)n_smiles, sizeof *smiles_keys, cmp_str);
	for (int i = 0; rc == OF3_OK && i < q->n_chains; i++)
		rc = build_chain(&t, q, &q->chains[i], ccd, keys, n_keys, smiles_keys, n_smiles);
	int n_tokens = rc == OF3_OK ? number_atoms(&t) : rc;
	if (n_tokens < 0)
		rc = n_tokens;
	if (rc == OF3_OK && t.n_bonds) /* a lone ion has none (and no array) */
		qsort(t.bonds, (size_t)t.n_bonds, 3 * sizeof *t.bonds, cmp_bond);
	of3_bundle_t *b = rc == OF3_OK ? of3_bundle_init("assembly", q->name) : NULL;
	if (rc == OF3_OK && !b)
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
	if (rc == OF3_OK)
		rc = write_bundle(&t, n_tokens, q, ccd, b);
	atoms_free(&t);
	free(keys);
	if (rc < 0) {
		of3_bundle_free(b);
		return rc;
	}
	*out = b;
	return OF3_OK;
}
