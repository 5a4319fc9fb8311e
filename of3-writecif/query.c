/* query.c: a diffuse bundle into of3_wc_query_t, every tensor checked (query.h). */
#include "query.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The tensor `name` with that dtype and shape (-1 in want: any size, written back), or an
 * error naming it. Optional tensors that are absent leave *out NULL. */
static int get(const of3_bundle_t *b, const char *name, of3_dtype_t dtype, int ndim, int64_t *want,
               int required, const void **out)
{
	const of3_tensor_t *t = of3_bundle_tensor(b, name);
	*out = NULL;
	if (!t)
		return required ? of3_err(OF3_ERR_INPUT,
		                          "query '%s': tensor '%s' is missing; a diffuse bundle "
		                          "(docs/FORMAT.md) carries it",
		                          b->query, name)
		                : OF3_OK;
	int ok = t->dtype == dtype && t->ndim == ndim;
	for (int d = 0; ok && d < ndim; d++) {
		if (want[d] < 0)
			want[d] = t->shape[d];
		ok = t->shape[d] == want[d];
	}
	if (!ok)
		return of3_err(
		        OF3_ERR_INPUT,
		        "query '%s': tensor '%s' has dtype %s and %d dimensions, expected %s "
		        "with shape [%lld%s]",
		        b->query, name, of3_dtype_name(t->dtype), t->ndim, of3_dtype_name(dtype),
		        (long long)want[0], ndim > 1 ? ", ..." : "");
	*out = t->data;
	return OF3_OK;
}

/* A value holding an array of n strings, copied. */
static int strings(const of3_bundle_t *b, const char *name, int n, char ***out)
{
	const msgpack_object *v = of3_bundle_value(b, name);
	if (!v || v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size != (uint32_t)n)
		return of3_err(
		        OF3_ERR_INPUT,
		        "query '%s': value '%s' must be an array of %d strings (one per atom)",
		        b->query, name, n);
	char **s = calloc((size_t)n ? (size_t)n : 1, sizeof *s);
	if (!s)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	*out = s;
	for (int i = 0; i < n; i++) {
		const msgpack_object *e = &v->via.array.ptr[i];
		if (e->type != MSGPACK_OBJECT_STR || e->via.str.size > 64)
			return of3_err(OF3_ERR_INPUT,
			               "query '%s': value '%s' item %d is not a short string",
			               b->query, name, i);
		if (!(s[i] = malloc(e->via.str.size + 1)))
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		memcpy(s[i], e->via.str.ptr, e->via.str.size);
		s[i][e->via.str.size] = 0;
	}
	return OF3_OK;
}

static void free_strings(char **s, int n)
{
	if (!s)
		return;
	for (int i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

static const char *const STD[] = {"ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY",
                                  "HIS", "ILE", "LEU", "LYS", "MET", "PHE", "PRO", "SER",
                                  "THR", "TRP", "TYR", "VAL", "A",   "G",   "C",   "U",
                                  "DA",  "DG",  "DC",  "DT",  NULL};
static const char ONE[] = "ARNDCQEGHILKMFPSTWYVAGCUAGCT";

int of3_wc_std_res(const char *res)
{
	for (int i = 0; STD[i]; i++)
		if (!strcmp(STD[i], res))
			return ONE[i];
	return 0;
}

int of3_wc_same_res(const of3_wc_query_t *q, int a, int b)
{
	return !strcmp(q->atom_chain_id[a], q->atom_chain_id[b]) &&
	       q->atom_res_id[a] == q->atom_res_id[b] &&
	       !strcmp(q->atom_res_name[a], q->atom_res_name[b]);
}

static int backbone_link(const of3_wc_query_t *q, int a, int b)
{
	const char *na = q->atom_name[a], *nb = q->atom_name[b];
	return q->atom_res_id[b] == q->atom_res_id[a] + 1 &&
	       ((!strcmp(na, "C") && !strcmp(nb, "N")) || (!strcmp(na, "O3'") && !strcmp(nb, "P")));
}

int of3_wc_bond_explicit(const of3_wc_query_t *q, int k)
{
	int a = q->atom_bonds[3 * k], b = q->atom_bonds[3 * k + 1];
	if (of3_wc_same_res(q, a, b))
		return 0;
	if (strcmp(q->atom_chain_id[a], q->atom_chain_id[b]) ||
	    q->atom_molecule_type_id[a] == OF3_MOL_LIGAND ||
	    q->atom_molecule_type_id[b] == OF3_MOL_LIGAND || !of3_wc_std_res(q->atom_res_name[a]) ||
	    !of3_wc_std_res(q->atom_res_name[b]))
		return 1;
	return !backbone_link(q, a, b) && !backbone_link(q, b, a);
}

int of3_wc_query_chain(const of3_wc_query_t *q, int32_t asym)
{
	for (int c = 0; c < q->n_chain; c++)
		if (q->chain_asym[c] == asym)
			return c;
	return -1;
}

static int check_indices(const of3_wc_query_t *q)
{
	for (int i = 0; i < q->n_token; i++) {
		int64_t s = q->start_atom_index[i], n = q->num_atoms_per_token[i];
		if (s < 0 || n < 0 || s + n > q->n_atom)
			return of3_err(
			        OF3_ERR_INPUT,
			        "query '%s': token %d: atoms [%lld, %lld) outside the %d atoms",
			        q->name, i, (long long)s, (long long)(s + n), q->n_atom);
	}
	for (int a = 0; a < q->n_atom; a++)
		if (q->atom_to_token_index[a] < 0 || q->atom_to_token_index[a] >= q->n_token)
			return of3_err(OF3_ERR_INPUT,
			               "query '%s': atom %d: token index %d out of range", q->name,
			               a, q->atom_to_token_index[a]);
	for (int k = 0; k < q->n_bond; k++)
		for (int e = 0; e < 2; e++)
			if (q->atom_bonds[3 * k + e] < 0 || q->atom_bonds[3 * k + e] >= q->n_atom)
				return of3_err(
				        OF3_ERR_INPUT,
				        "query '%s': atom_bonds row %d names atom %d, not one of "
				        "the %d atoms",
				        q->name, k, q->atom_bonds[3 * k + e], q->n_atom);
	return OF3_OK;
}

/* Chains in asym order, each named by the chain id of its first atom. */
static int make_chains(of3_wc_query_t *q)
{
	q->chain_asym = calloc((size_t)q->n_token + 1, sizeof *q->chain_asym);
	q->chain_name = calloc((size_t)q->n_token + 1, sizeof *q->chain_name);
	if (!q->chain_asym || !q->chain_name)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; i < q->n_token; i++) {
		int32_t a = q->asym_id[i];
		if (of3_wc_query_chain(q, a) >= 0)
			continue;
		int c = q->n_chain++;
		while (c > 0 && q->chain_asym[c - 1] > a) {
			q->chain_asym[c] = q->chain_asym[c - 1];
			c--;
		}
		q->chain_asym[c] = a;
	}
	for (int c = 0; c < q->n_chain; c++) {
		for (int i = 0; i < q->n_token; i++)
			if (q->asym_id[i] == q->chain_asym[c] && q->num_atoms_per_token[i] > 0) {
				q->chain_name[c] = strdup(q->atom_chain_id[q->start_atom_index[i]]);
				break;
			}
		if (!q->chain_name[c])
			return of3_err(OF3_ERR_INPUT,
			               "query '%s': chain with asym id %d has no atoms", q->name,
			               q->chain_asym[c]);
	}
	return OF3_OK;
}

int of3_wc_query_load(of3_wc_query_t *q, const of3_bundle_t *b)
{
	memset(q, 0, sizeof *q);
	q->name = b->query;
	const msgpack_object *seed = of3_bundle_meta(b, "seed");
	if (seed && seed->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		q->seed = (int64_t)seed->via.u64;
	const void *p;
	int rc;
	int64_t sx[3] = {-1, -1, 3};
	if ((rc = get(b, "atom_positions_predicted", OF3_DTYPE_F32, 3, sx, 1, &p)) < 0)
		return rc;
	q->x = p;
	if (sx[0] < 1 || sx[1] < 1 || sx[0] > 100000 || sx[1] > INT32_MAX / 64)
		return of3_err(OF3_ERR_INPUT,
		               "query '%s': atom_positions_predicted has %lld samples of "
		               "%lld atoms",
		               b->query, (long long)sx[0], (long long)sx[1]);
	q->n_sample = (int)sx[0];
	q->n_atom = (int)sx[1];
	int64_t tn[1] = {-1};
	if ((rc = get(b, "token_index", OF3_DTYPE_I32, 1, tn, 1, &p)) < 0)
		return rc;
	q->n_token = (int)tn[0];
	int64_t S = q->n_sample, A = q->n_atom, N = q->n_token;
#define GET(field, name, dt, nd, ...)                            \
	do {                                                     \
		int64_t shp[] = {__VA_ARGS__};                   \
		if ((rc = get(b, name, dt, nd, shp, 1, &p)) < 0) \
			return rc;                               \
		q->field = p;                                    \
	} while (0)
	GET(atom_res_id, "atom_res_id", OF3_DTYPE_I32, 1, A);
	GET(atom_charge, "atom_charge", OF3_DTYPE_I32, 1, A);
	GET(atom_molecule_type_id, "atom_molecule_type_id", OF3_DTYPE_I32, 1, A);
	GET(atom_entity_id, "atom_entity_id", OF3_DTYPE_I32, 1, A);
	GET(atom_to_token_index, "atom_to_token_index", OF3_DTYPE_I32, 1, A);
	GET(atom_hetero, "atom_hetero", OF3_DTYPE_U8, 1, A);
	GET(asym_id, "asym_id", OF3_DTYPE_I32, 1, N);
	GET(entity_id, "entity_id", OF3_DTYPE_I32, 1, N);
	GET(residue_index, "residue_index", OF3_DTYPE_I32, 1, N);
	GET(start_atom_index, "start_atom_index", OF3_DTYPE_I32, 1, N);
	GET(num_atoms_per_token, "num_atoms_per_token", OF3_DTYPE_I32, 1, N);
	GET(is_protein, "is_protein", OF3_DTYPE_I32, 1, N);
	GET(is_rna, "is_rna", OF3_DTYPE_I32, 1, N);
	GET(is_dna, "is_dna", OF3_DTYPE_I32, 1, N);
	GET(is_ligand, "is_ligand", OF3_DTYPE_I32, 1, N);
	GET(is_atomized, "is_atomized", OF3_DTYPE_I32, 1, N);
	GET(token_mask, "token_mask", OF3_DTYPE_F32, 1, N);
	GET(plddt_logits, "plddt_logits", OF3_DTYPE_F32, 3, S, A, 50);
	GET(pae_logits, "pae_logits", OF3_DTYPE_F32, 4, S, N, N, 64);
	GET(pde_logits, "pde_logits", OF3_DTYPE_F32, 4, S, N, N, 64);
	GET(distogram_logits, "distogram_logits", OF3_DTYPE_F32, 3, N, N, 64);
#undef GET
	int64_t am[1] = {A};
	if ((rc = get(b, "atom_mask", OF3_DTYPE_F32, 1, am, 0, &p)) < 0)
		return rc;
	q->atom_mask = p;
	int64_t bs[2] = {-1, 3};
	if ((rc = get(b, "atom_bonds", OF3_DTYPE_I32, 2, bs, 1, &p)) < 0)
		return rc;
	q->atom_bonds = p;
	q->n_bond = (int)bs[0];
	int64_t rs[2] = {N, 32};
	if ((rc = get(b, "restype", OF3_DTYPE_I32, 2, rs, 1, &p)) < 0)
		return rc;
	if (!(q->restype = malloc((size_t)N * sizeof *q->restype + 1)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int64_t i = 0; i < N; i++) {
		const int32_t *r = (const int32_t *)p + 32 * i;
		int k = 0;
		for (int j = 1; j < 32; j++)
			if (r[j] > r[k])
				k = j;
		q->restype[i] = k;
	}
	if ((rc = strings(b, "atom_chain_id", q->n_atom, &q->atom_chain_id)) < 0 ||
	    (rc = strings(b, "atom_res_name", q->n_atom, &q->atom_res_name)) < 0 ||
	    (rc = strings(b, "atom_name", q->n_atom, &q->atom_name)) < 0 ||
	    (rc = strings(b, "atom_element", q->n_atom, &q->atom_element)) < 0)
		return rc;
	for (int64_t i = 0; i < S * A * 3; i++)
		if (!isfinite(q->x[i]))
			return of3_err(
			        OF3_ERR_INPUT,
			        "query '%s': sample %lld, atom %lld (%s %s %d %s): coordinate "
			        "is %s; the diffusion diverged, nothing written for this query",
			        b->query, (long long)(i / (A * 3) + 1), (long long)(i / 3 % A + 1),
			        q->atom_chain_id[i / 3 % A], q->atom_res_name[i / 3 % A],
			        q->atom_res_id[i / 3 % A], q->atom_name[i / 3 % A],
			        isnan(q->x[i]) ? "NaN" : "infinite");
	if ((rc = check_indices(q)) < 0)
		return rc;
	return make_chains(q);
}

void of3_wc_query_free(of3_wc_query_t *q)
{
	if (!q)
		return;
	free_strings(q->atom_chain_id, q->n_atom);
	free_strings(q->atom_res_name, q->n_atom);
	free_strings(q->atom_name, q->n_atom);
	free_strings(q->atom_element, q->n_atom);
	free_strings(q->chain_name, q->n_chain);
	free(q->chain_asym);
	free(q->restype);
	memset(q, 0, sizeof *q);
}
