/* tokens.c: index an assembly bundle into chains, tokens and atoms, checking it on the way. */
#include "tokens.h"

#include <stdlib.h>
#include <string.h>

/* One token per residue for these names in a polymer; every other atom is its own token. */
static const char *const standard_residues[] = {
        "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU",
        "LYS", "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "UNK", "A",
        "G",   "C",   "U",   "N",   "DA",  "DG",  "DC",  "DT",  "DN",  NULL};

static int is_standard(const char *name)
{
	for (const char *const *s = standard_residues; *s; s++)
		if (strcmp(*s, name) == 0)
			return 1;
	return 0;
}

static int bad(const of3_bundle_t *b, const char *what)
{
	return of3_err(OF3_ERR_INPUT, "query '%s': assembly bundle: %s", b->query, what);
}

/* A 1-d or 2-d tensor view of the expected dtype and shape (dim1 0 for 1-d). */
static int view(const of3_bundle_t *b, const char *name, of3_dtype_t dtype, int64_t dim0,
                int64_t dim1, const void **out)
{
	const of3_tensor_t *t = of3_bundle_tensor(b, name);
	char what[160];
	if (!t) {
		snprintf(what, sizeof what, "tensor %s is missing (made by an older of3-parse?)",
		         name);
		return bad(b, what);
	}
	int ndim = dim1 ? 2 : 1;
	if (t->dtype != dtype || t->ndim != ndim || (dim0 >= 0 && t->shape[0] != dim0) ||
	    (ndim == 2 && t->shape[1] != dim1)) {
		snprintf(what, sizeof what,
		         "tensor %s is %s with %d dimensions, expected %s [%lld%s]", name,
		         of3_dtype_name(t->dtype), t->ndim, of3_dtype_name(dtype), (long long)dim0,
		         ndim == 2 ? ", ..." : "");
		return bad(b, what);
	}
	*out = t->data;
	return OF3_OK;
}

/* Copies a string array value of n items into NUL-terminated strings. */
static int strings(const of3_bundle_t *b, const char *name, int n, const char ***out)
{
	const msgpack_object *v = of3_bundle_value(b, name);
	char what[160];
	if (!v || v->type != MSGPACK_OBJECT_ARRAY || (int64_t)v->via.array.size != n) {
		snprintf(what, sizeof what, "value %s is missing or not a list of %d strings", name,
		         n);
		return bad(b, what);
	}
	size_t bytes = 0;
	for (int i = 0; i < n; i++) {
		const msgpack_object *s = &v->via.array.ptr[i];
		if (s->type != MSGPACK_OBJECT_STR) {
			snprintf(what, sizeof what, "value %s: item %d is not a string", name, i);
			return bad(b, what);
		}
		bytes += s->via.str.size + 1;
	}
	char *buf = malloc(bytes + 1);
	const char **p = malloc((size_t)(n ? n : 1) * sizeof *p);
	if (!buf || !p) {
		free(buf);
		free(p);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	char *at = buf;
	for (int i = 0; i < n; i++) {
		const msgpack_object *s = &v->via.array.ptr[i];
		memcpy(at, s->via.str.ptr, s->via.str.size);
		at[s->via.str.size] = 0;
		p[i] = at;
		at += s->via.str.size + 1;
	}
	if (n == 0)
		free(buf); /* of3_tokens_free frees a table through its first string */
	*out = p;
	return OF3_OK;
}

/* Duplicates a msgpack string (NULL for nil or absent); *ok cleared on a wrong type. */
static const char *dup_str(const msgpack_object *o, int *ok)
{
	if (!o || o->type == MSGPACK_OBJECT_NIL)
		return NULL;
	if (o->type != MSGPACK_OBJECT_STR) {
		*ok = 0;
		return NULL;
	}
	char *s = malloc(o->via.str.size + 1);
	if (!s) {
		*ok = 0;
		return NULL;
	}
	memcpy(s, o->via.str.ptr, o->via.str.size);
	s[o->via.str.size] = 0;
	return s;
}

static const char **dup_strs(const msgpack_object *o, int *n, int *ok)
{
	*n = 0;
	if (!o || o->type == MSGPACK_OBJECT_NIL)
		return NULL;
	if (o->type != MSGPACK_OBJECT_ARRAY) {
		*ok = 0;
		return NULL;
	}
	const char **v = calloc(o->via.array.size + 1, sizeof *v);
	if (!v) {
		*ok = 0;
		return NULL;
	}
	for (uint32_t i = 0; i < o->via.array.size && *ok; i++)
		v[i] = dup_str(&o->via.array.ptr[i], ok);
	*n = (int)o->via.array.size;
	return v;
}

static int64_t get_int(const msgpack_object *o, int *ok)
{
	if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (int64_t)o->via.u64;
	if (o && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return o->via.i64;
	*ok = 0;
	return 0;
}

static int read_chains(of3_tokens_t *t, const of3_bundle_t *b)
{
	const msgpack_object *v = of3_bundle_value(b, "chains");
	if (!v || v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size == 0)
		return bad(b, "value chains is missing or empty");
	t->n_chains = (int)v->via.array.size;
	t->chains = calloc((size_t)t->n_chains, sizeof *t->chains);
	if (!t->chains)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; i < t->n_chains; i++) {
		const msgpack_object *m = &v->via.array.ptr[i];
		of3_fchain_t *c = &t->chains[i];
		int ok = m->type == MSGPACK_OBJECT_MAP;
		c->id = dup_str(of3_map_get(m, "id"), &ok);
		c->mol_type = (int)get_int(of3_map_get(m, "molecule_type"), &ok);
		c->entity_id = (int)get_int(of3_map_get(m, "entity_id"), &ok);
		c->asym_id = (int)get_int(of3_map_get(m, "asym_id"), &ok);
		c->sym_id = (int)get_int(of3_map_get(m, "sym_id"), &ok);
		c->sequence = dup_str(of3_map_get(m, "sequence"), &ok);
		c->smiles = dup_str(of3_map_get(m, "smiles"), &ok);
		c->main_msa_paths = dup_strs(of3_map_get(m, "main_msa_paths"), &c->n_main_msa, &ok);
		c->paired_msa_paths =
		        dup_strs(of3_map_get(m, "paired_msa_paths"), &c->n_paired_msa, &ok);
		c->template_alignment_path =
		        dup_str(of3_map_get(m, "template_alignment_path"), &ok);
		if (!ok || !c->id || c->mol_type < 0 || c->mol_type > 3) {
			char what[64];
			snprintf(what, sizeof what, "chains: entry %d is malformed", i + 1);
			return bad(b, what);
		}
	}
	return OF3_OK;
}

static const char *meta_flag_names[] = {"use_msas", "use_main_msas", "use_paired_msas"};

int of3_tokens_init(of3_tokens_t *t, const of3_bundle_t *b)
{
	memset(t, 0, sizeof *t);
	t->assembly = b;
	int rc = of3_bundle_expect_kind(b, "assembly");
	if (rc < 0)
		return rc;
	const of3_tensor_t *rid = of3_bundle_tensor(b, "atom_res_id");
	if (!rid || rid->ndim != 1)
		return bad(b, "tensor atom_res_id is missing");
	int n = (int)rid->shape[0];
	t->n_atoms = n;
	const void *p;
	if ((rc = view(b, "atom_res_id", OF3_DTYPE_I32, n, 0, &p)) < 0)
		goto fail;
	t->atom_res_id = p;
	if ((rc = view(b, "atom_charge", OF3_DTYPE_I32, n, 0, &p)) < 0)
		goto fail;
	t->atom_charge = p;
	if ((rc = view(b, "atom_molecule_type_id", OF3_DTYPE_I32, n, 0, &p)) < 0)
		goto fail;
	t->atom_mol_type = p;
	if ((rc = view(b, "atom_token_id", OF3_DTYPE_I32, n, 0, &p)) < 0)
		goto fail;
	t->atom_token = p;
	if ((rc = view(b, "atom_has_ccd_pos", OF3_DTYPE_U8, n, 0, &p)) < 0)
		goto fail;
	t->atom_has_ccd_pos = p;
	if ((rc = view(b, "atom_ccd_pos", OF3_DTYPE_F32, n, 3, &p)) < 0)
		goto fail;
	t->atom_ccd_pos = p;
	for (int k = 0; k < 3; k++) { /* per-atom ids checked here, read from the chain table */
		static const char *ids[3] = {"atom_entity_id", "atom_asym_id", "atom_sym_id"};
		if ((rc = view(b, ids[k], OF3_DTYPE_I32, n, 0, &p)) < 0)
			goto fail;
	}
	const of3_tensor_t *bt = of3_bundle_tensor(b, "atom_bonds");
	if (!bt || bt->dtype != OF3_DTYPE_I32 || bt->ndim != 2 || bt->shape[1] != 3) {
		rc = bad(b, "tensor atom_bonds is missing or not i32 [N_bond, 3]");
		goto fail;
	}
	t->n_bonds = (int)bt->shape[0];
	t->bonds = bt->data;
	for (int i = 0; i < 3 * t->n_bonds; i++)
		if (i % 3 < 2 && (t->bonds[i] < 0 || t->bonds[i] >= n)) {
			rc = bad(b, "tensor atom_bonds names an atom that does not exist");
			goto fail;
		}
	if ((rc = strings(b, "atom_name", n, &t->atom_name)) < 0 ||
	    (rc = strings(b, "atom_element", n, &t->atom_element)) < 0 ||
	    (rc = strings(b, "atom_res_name", n, &t->atom_res_name)) < 0 ||
	    (rc = strings(b, "atom_chain_id", n, &t->atom_chain_id)) < 0 ||
	    (rc = read_chains(t, b)) < 0)
		goto fail;
	for (int k = 0; k < 3; k++) {
		const msgpack_object *m = of3_bundle_meta(b, meta_flag_names[k]);
		int *flag = k == 0   ? &t->use_msas
		            : k == 1 ? &t->use_main_msas
		                     : &t->use_paired_msas;
		*flag = m && m->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int)m->via.u64 != 0 : 1;
	}

	/* tokens: ids 0.. in atom order, each a contiguous run of atoms */
	t->n_tokens = n ? t->atom_token[n - 1] + 1 : 0;
	size_t nt = (size_t)(t->n_tokens > 0 ? t->n_tokens : 1);
	t->start_atom = malloc(nt * sizeof *t->start_atom);
	t->n_token_atoms = calloc(nt, sizeof *t->n_token_atoms);
	t->chain = malloc(nt * sizeof *t->chain);
	t->res_id = malloc(nt * sizeof *t->res_id);
	t->atomized = malloc(nt);
	t->res_name = malloc(nt * sizeof *t->res_name);
	if (!t->start_atom || !t->n_token_atoms || !t->chain || !t->res_id || !t->atomized ||
	    !t->res_name) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto fail;
	}
	int chain = -1;
	for (int i = 0; i < n; i++) {
		int tok = t->atom_token[i];
		int new_token = i == 0 || tok != t->atom_token[i - 1];
		if (tok != (i == 0 ? 0 : t->atom_token[i - 1] + new_token)) {
			rc = bad(b, "tensor atom_token_id does not number tokens 0, 1, ... in atom "
			            "order");
			goto fail;
		}
		int new_chain = i == 0 ||
		                strcmp(t->atom_chain_id[i], t->atom_chain_id[i - 1]) != 0 ||
		                t->atom_res_id[i] < t->atom_res_id[i - 1];
		if (new_chain) {
			if (!new_token) {
				rc = bad(b, "a token spans two chains");
				goto fail;
			}
			if (++chain >= t->n_chains ||
			    strcmp(t->chains[chain].id, t->atom_chain_id[i])) {
				rc = bad(b, "value chains does not list the chains of the atoms in "
				            "order");
				goto fail;
			}
			t->chains[chain].first_token = tok;
			t->chains[chain].first_atom = i;
		}
		t->chains[chain].n_atoms++;
		if (new_token) {
			t->start_atom[tok] = i;
			t->chain[tok] = chain;
			t->res_id[tok] = t->atom_res_id[i];
			t->res_name[tok] = t->atom_res_name[i];
			t->atomized[tok] = t->atom_mol_type[i] == OF3_MOL_LIGAND_ID ||
			                   !is_standard(t->atom_res_name[i]);
			t->chains[chain].n_tokens++;
		}
		t->n_token_atoms[tok]++;
	}
	if (chain + 1 != t->n_chains) {
		rc = bad(b, "value chains lists more chains than the atoms have");
		goto fail;
	}
	return OF3_OK;
fail:
	of3_tokens_free(t);
	return rc;
}

static void free_strs(const char **v, int n)
{
	for (int i = 0; v && i < n; i++)
		free((void *)v[i]);
	free(v);
}

void of3_tokens_free(of3_tokens_t *t)
{
	for (int i = 0; t->chains && i < t->n_chains; i++) {
		of3_fchain_t *c = &t->chains[i];
		free((void *)c->id);
		free((void *)c->sequence);
		free((void *)c->smiles);
		free((void *)c->template_alignment_path);
		free_strs(c->main_msa_paths, c->n_main_msa);
		free_strs(c->paired_msa_paths, c->n_paired_msa);
	}
	free(t->chains);
	/* each string table is one block starting at its first string */
	const char **tables[4] = {t->atom_name, t->atom_element, t->atom_res_name,
	                          t->atom_chain_id};
	for (int k = 0; k < 4; k++) {
		if (tables[k] && t->n_atoms > 0)
			free((void *)tables[k][0]);
		free(tables[k]);
	}
	free(t->start_atom);
	free(t->n_token_atoms);
	free(t->chain);
	free(t->res_id);
	free(t->atomized);
	free(t->res_name);
	memset(t, 0, sizeof *t);
}
