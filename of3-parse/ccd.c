/* ccd.c: the Chemical Component Dictionary of ccd.h (shared spec/data.md §2.3), from the bundle
 * of3 ships (its schema: tools/ccd/README.md) or from a components.cif read block by block with
 * mmcif.h. A component's view is built on its first lookup and kept until of3_ccd_close(). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#include "ccd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/bundle.h"
#include "mmcif.h"

#define ID_BYTES        5 /* widths of the fixed-width arrays of the shipped bundle */
#define NAME_BYTES      4
#define ELEMENT_BYTES   2
#define TYPE_BYTES      64 /* of3_ccd_comp_t.type */
#define HUGE_PAGE_BYTES ((size_t)2 << 20)
#define MAX_TENSORS     32 /* in a CCD bundle (it has 13) */

struct of3_ccd_t {
	char *label;            /* the file, for messages */
	char *source;           /* of3_ccd_source() */
	int n_comps;            /* components (bundle) or data blocks (CIF, once indexed) */
	of3_ccd_comp_t **built; /* [n_comps]: views built so far */

	/* the shipped bundle (tools/ccd/README.md): header and values in `bundle`; the bytes of
	 * its tensor i at payload + offset[i], one buffer inside payload_map */
	of3_bundle_t *bundle;
	uint8_t *payload;
	void *payload_map;
	size_t payload_map_bytes;
	size_t offset[MAX_TENSORS];
	const uint8_t *comp_id, *comp_type, *comp_coords;
	const int32_t *atom_start, *bond_start;
	const uint8_t *atom_name, *atom_element, *atom_charge, *atom_leaving;
	const int32_t *atom_xyz_mang; /* milli-Ångström */
	const uint8_t *bond_atoms, *bond_order, *bond_aromatic;
	int n_types;
	char (*types)[TYPE_BYTES];

	/* a components.cif, mmap'ed; its blocks indexed on first lookup */
	char *text;
	size_t text_bytes;
	int indexed;
	of3_cif_span_t *spans; /* [n_comps], sorted by name, then file order */
};

/* One allocation holds a component with room for its atoms and bonds. */
static of3_ccd_comp_t *comp_alloc(int n_atoms, int n_bonds)
{
	size_t bytes = sizeof(of3_ccd_comp_t) + (size_t)n_atoms * sizeof(of3_ccd_atom_t) +
	               (size_t)n_bonds * sizeof(of3_ccd_bond_t);
	of3_ccd_comp_t *c = calloc(1, bytes);
	if (!c)
		return NULL;
	of3_ccd_atom_t *atoms = (of3_ccd_atom_t *)(c + 1);
	c->atoms = atoms;
	c->bonds = (of3_ccd_bond_t *)(atoms + n_atoms);
	c->n_atoms = n_atoms;
	c->n_bonds = n_bonds;
	return c;
}

static void upper(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

/* ---- the shipped bundle ---- */

/* The tensor `name` with dtype and shape [d0] (d1 == 0) or [d0, d1]; d0 < 0 takes any length,
 * returned in *n. */
static int bundle_tensor(of3_ccd_t *c, const char *name, of3_dtype_t dtype, int64_t d0, int64_t d1,
                         const void **data, int64_t *n)
{
	const of3_tensor_t *t = of3_bundle_tensor(c->bundle, name);
	if (!t)
		return of3_err(OF3_ERR_INPUT,
		               "%s: not a CCD bundle of this version: no tensor '%s' (rebuild it "
		               "with tools/ccd/make_ccd.py, then run make)",
		               c->label, name);
	int ndim = d1 ? 2 : 1;
	if (t->dtype != dtype || t->ndim != ndim || (d0 >= 0 && t->shape[0] != d0) ||
	    (d1 && t->shape[1] != d1) || t->shape[0] > INT32_MAX)
		return of3_err(OF3_ERR_INPUT,
		               "%s: CCD bundle tensor '%s' has the wrong dtype or shape", c->label,
		               name);
	*data = c->payload + c->offset[t - c->bundle->tensors];
	if (n)
		*n = t->shape[0];
	return OF3_OK;
}

/* Offsets [n + 1] into arrays of `total` rows: from 0, never decreasing, ending at total. */
static int check_starts(const of3_ccd_t *c, const char *name, const int32_t *start, int n,
                        int64_t total)
{
	if (start[0] != 0 || start[n] != total)
		return of3_err(OF3_ERR_INPUT, "%s: CCD bundle tensor '%s' is corrupt", c->label,
		               name);
	for (int i = 0; i < n; i++)
		if (start[i + 1] < start[i])
			return of3_err(OF3_ERR_INPUT, "%s: CCD bundle tensor '%s' is corrupt",
			               c->label, name);
	return OF3_OK;
}

static int bundle_types(of3_ccd_t *c)
{
	const msgpack_object *v = of3_bundle_value(c->bundle, "types");
	if (!v || v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size > 256)
		return of3_err(OF3_ERR_INPUT, "%s: CCD bundle value 'types' missing or not a list",
		               c->label);
	c->n_types = (int)v->via.array.size;
	c->types = calloc((size_t)c->n_types + 1, sizeof *c->types);
	if (!c->types)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; i < c->n_types; i++) {
		const msgpack_object *s = &v->via.array.ptr[i];
		if (s->type != MSGPACK_OBJECT_STR || s->via.str.size >= TYPE_BYTES)
			return of3_err(OF3_ERR_INPUT,
			               "%s: CCD bundle type %d is not a short string", c->label, i);
		memcpy(c->types[i], s->via.str.ptr, s->via.str.size);
	}
	return OF3_OK;
}

/* Reads every tensor's bytes into one buffer, through the reader's streaming mode: the payload
 * (~30 MB) lands on 2 MiB huge pages where the kernel grants them, which halves the load time
 * against a buffer per tensor on 4 KiB pages (page faults dominate; docs/PERFORMANCE.md). The
 * file's size bounds the payload. */
static int bundle_read(of3_ccd_t *c, size_t file_bytes)
{
	of3_breader_t *r = NULL;
	of3_tensor_t *t;
	int rc = of3_breader_open(&r, c->label);
	if (rc == OF3_OK)
		rc = of3_breader_begin(r, &c->bundle);
	if (rc == OF3_END)
		rc = of3_err(OF3_ERR_INPUT, "%s: empty file, not a CCD bundle", c->label);
	if (rc == OF3_OK && strcmp(c->bundle->kind, "ccd") != 0)
		rc = of3_err(OF3_ERR_INPUT, "%s: a bundle of kind %s, not a CCD bundle", c->label,
		             c->bundle->kind);
	if (rc == OF3_OK) {
		c->payload_map_bytes = file_bytes + HUGE_PAGE_BYTES;
		c->payload_map = mmap(NULL, c->payload_map_bytes, PROT_READ | PROT_WRITE,
		                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c->payload_map == MAP_FAILED) {
			c->payload_map = NULL;
			rc = of3_err(OF3_ERR_NOMEM, "out of memory for the CCD (%zu bytes)",
			             file_bytes);
		}
	}
	if (rc == OF3_OK) {
		uintptr_t base = (uintptr_t)c->payload_map;
		c->payload = (uint8_t *)((base + HUGE_PAGE_BYTES - 1) &
		                         ~(uintptr_t)(HUGE_PAGE_BYTES - 1));
#ifdef MADV_HUGEPAGE
		madvise(c->payload, file_bytes, MADV_HUGEPAGE); /* advice only: failure is fine */
#endif
	}
	size_t used = 0;
	while (rc == OF3_OK && (rc = of3_breader_record(r, c->bundle, &t)) > 0) {
		if (rc == OF3_RECORD_END) {
			rc = OF3_OK;
			break;
		}
		if (rc != OF3_RECORD_TENSOR) {
			rc = OF3_OK;
			continue;
		}
		if (c->bundle->n_tensors > MAX_TENSORS || t->nbytes > file_bytes - used) {
			rc = of3_err(OF3_ERR_INPUT, "%s: not a CCD bundle (tensor '%s')", c->label,
			             t->name);
			break;
		}
		c->offset[c->bundle->n_tensors - 1] = used;
		rc = of3_breader_tensor_read(r, c->payload + used, t->nbytes);
		used += (t->nbytes + OF3_TENSOR_ALIGN - 1) / OF3_TENSOR_ALIGN * OF3_TENSOR_ALIGN;
		used = used < file_bytes ? used : file_bytes;
	}
	of3_breader_close(r);
	return rc;
}

static int bundle_load(of3_ccd_t *c, size_t file_bytes)
{
	int rc = bundle_read(c, file_bytes);
	if (rc < 0)
		return rc;
	int64_t n = 0, n_atoms = 0, n_bonds = 0;
	const void *p;
	if ((rc = bundle_tensor(c, "comp_id", OF3_DTYPE_U8, -1, ID_BYTES, &p, &n)) < 0)
		return rc;
	c->comp_id = p;
	c->n_comps = (int)n;
	if ((rc = bundle_tensor(c, "atom_xyz", OF3_DTYPE_I32, -1, 3, &p, &n_atoms)) < 0)
		return rc;
	c->atom_xyz_mang = p;
	if ((rc = bundle_tensor(c, "bond_atoms", OF3_DTYPE_U8, -1, 2, &p, &n_bonds)) < 0)
		return rc;
	c->bond_atoms = p;
	struct {
		const char *name;
		of3_dtype_t dtype;
		int64_t d0, d1;
		const void **data;
	} want[] = {
	        {"comp_type", OF3_DTYPE_U8, n, 0, (const void **)&c->comp_type},
	        {"comp_coords", OF3_DTYPE_U8, n, 0, (const void **)&c->comp_coords},
	        {"comp_atom_start", OF3_DTYPE_I32, n + 1, 0, (const void **)&c->atom_start},
	        {"comp_bond_start", OF3_DTYPE_I32, n + 1, 0, (const void **)&c->bond_start},
	        {"atom_name", OF3_DTYPE_U8, n_atoms, NAME_BYTES, (const void **)&c->atom_name},
	        {"atom_element", OF3_DTYPE_U8, n_atoms, ELEMENT_BYTES,
	         (const void **)&c->atom_element},
	        {"atom_charge", OF3_DTYPE_U8, n_atoms, 0, (const void **)&c->atom_charge},
	        {"atom_leaving", OF3_DTYPE_U8, n_atoms, 0, (const void **)&c->atom_leaving},
	        {"bond_order", OF3_DTYPE_U8, n_bonds, 0, (const void **)&c->bond_order},
	        {"bond_aromatic", OF3_DTYPE_U8, n_bonds, 0, (const void **)&c->bond_aromatic},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if ((rc = bundle_tensor(c, want[i].name, want[i].dtype, want[i].d0, want[i].d1,
		                        want[i].data, NULL)) < 0)
			return rc;
	if ((rc = check_starts(c, "comp_atom_start", c->atom_start, c->n_comps, n_atoms)) < 0 ||
	    (rc = check_starts(c, "comp_bond_start", c->bond_start, c->n_comps, n_bonds)) < 0 ||
	    (rc = bundle_types(c)) < 0)
		return rc;
	/* lookups binary-search the codes: they must be sorted and unique */
	for (int i = 0; i < c->n_comps; i++) {
		if (c->comp_type[i] >= c->n_types || c->comp_coords[i] > OF3_CCD_COORDS_NONE ||
		    (i > 0 && memcmp(c->comp_id + (size_t)(i - 1) * ID_BYTES,
		                     c->comp_id + (size_t)i * ID_BYTES, ID_BYTES) >= 0))
			return of3_err(OF3_ERR_INPUT, "%s: CCD bundle component %d is corrupt",
			               c->label, i);
	}
	const msgpack_object *src = of3_bundle_meta(c->bundle, "source");
	if (src && src->type == MSGPACK_OBJECT_STR) {
		c->source = malloc(src->via.str.size + 1);
		if (c->source) {
			memcpy(c->source, src->via.str.ptr, src->via.str.size);
			c->source[src->via.str.size] = 0;
		}
	} else {
		size_t k = strlen(c->label) + 32;
		if ((c->source = malloc(k)))
			snprintf(c->source, k, "CCD bundle %s", c->label);
	}
	if (!c->source)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	c->built = calloc((size_t)c->n_comps + 1, sizeof *c->built);
	return c->built ? OF3_OK : of3_err(OF3_ERR_NOMEM, "out of memory");
}

/* Index of the component with this code, or -1. */
static int bundle_find(const of3_ccd_t *c, const char *code)
{
	uint8_t key[ID_BYTES] = {0};
	memcpy(key, code, strlen(code));
	int lo = 0, hi = c->n_comps - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int cmp = memcmp(c->comp_id + (size_t)mid * ID_BYTES, key, ID_BYTES);
		if (cmp == 0)
			return mid;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static int bundle_build(const of3_ccd_t *c, int i, of3_ccd_comp_t **out)
{
	int rc;
	int32_t a0 = c->atom_start[i], b0 = c->bond_start[i];
	int n_atoms = c->atom_start[i + 1] - a0, n_bonds = c->bond_start[i + 1] - b0;
	of3_ccd_comp_t *comp = comp_alloc(n_atoms, n_bonds);
	if (!comp)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	memcpy(comp->id, c->comp_id + (size_t)i * ID_BYTES, ID_BYTES);
	memcpy(comp->type, c->types[c->comp_type[i]], TYPE_BYTES);
	comp->coords = c->comp_coords[i];
	of3_ccd_atom_t *atoms = (of3_ccd_atom_t *)comp->atoms;
	for (int k = 0; k < n_atoms; k++) {
		size_t j = (size_t)a0 + (size_t)k;
		memcpy(atoms[k].name, c->atom_name + j * NAME_BYTES, NAME_BYTES);
		memcpy(atoms[k].element, c->atom_element + j * ELEMENT_BYTES, ELEMENT_BYTES);
		atoms[k].charge = (int8_t)c->atom_charge[j];
		atoms[k].leaving = c->atom_leaving[j] != 0;
		for (int d = 0; d < 3; d++)
			atoms[k].xyz[d] = c->atom_xyz_mang[3 * j + (size_t)d] / 1000.0;
	}
	of3_ccd_bond_t *bonds = (of3_ccd_bond_t *)comp->bonds;
	for (int k = 0; k < n_bonds; k++) {
		size_t j = (size_t)b0 + (size_t)k;
		bonds[k] = (of3_ccd_bond_t){c->bond_atoms[2 * j], c->bond_atoms[2 * j + 1],
		                            c->bond_order[j], c->bond_aromatic[j]};
		if (bonds[k].a >= bonds[k].b || bonds[k].b >= n_atoms || bonds[k].order < 1 ||
		    bonds[k].order > 4 || bonds[k].aromatic > 1) {
			rc = of3_err(OF3_ERR_INPUT,
			             "%s: CCD bundle component '%s': bond %d is corrupt", c->label,
			             comp->id, k);
			free(comp);
			return rc;
		}
	}
	*out = comp;
	return OF3_OK;
}

/* ---- a components.cif ---- */

static int span_cmp(const void *pa, const void *pb)
{
	const of3_cif_span_t *a = pa, *b = pb;
	int n = a->name.len < b->name.len ? a->name.len : b->name.len;
	int cmp = memcmp(a->name.s, b->name.s, (size_t)n);
	if (cmp == 0)
		cmp = (a->name.len > b->name.len) - (a->name.len < b->name.len);
	if (cmp == 0)
		cmp = (a->begin > b->begin) - (a->begin < b->begin);
	return cmp;
}

static int cif_index(of3_ccd_t *c)
{
	int rc = of3_cif_index(c->text, c->text_bytes, c->label, &c->spans, &c->n_comps);
	if (rc < 0)
		return rc;
	qsort(c->spans, (size_t)c->n_comps, sizeof *c->spans, span_cmp);
	c->built = calloc((size_t)c->n_comps, sizeof *c->built);
	if (!c->built)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	c->indexed = 1;
	return OF3_OK;
}

/* The first block (in file order) named code, or -1. */
static int cif_find(const of3_ccd_t *c, const char *code)
{
	int n = (int)strlen(code), lo = 0, hi = c->n_comps - 1, found = -1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		of3_cif_name_t name = c->spans[mid].name;
		int k = name.len < n ? name.len : n;
		int cmp = memcmp(name.s, code, (size_t)k);
		if (cmp == 0)
			cmp = (name.len > n) - (name.len < n);
		if (cmp == 0)
			found = mid;
		if (cmp >= 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return found;
}

typedef struct {
	const char *label, *code;
} where_t;

/* A value that must be present and at most max_len bytes, copied NUL-terminated into dst. */
static int cif_text(where_t w, of3_cif_value_t v, const char *what, int max_len, char *dst)
{
	if (v.state != OF3_CIF_PRESENT || v.len == 0)
		return of3_err(OF3_ERR_INPUT, "%s:%d: component '%s': %s missing", w.label, v.line,
		               w.code, what);
	if (v.len > max_len)
		return of3_err(
		        OF3_ERR_INPUT, "%s:%d: component '%s': %s '%.*s' longer than %d characters",
		        w.label, v.line, w.code, what, v.len > 80 ? 80 : v.len, v.s, max_len);
	memcpy(dst, v.s, (size_t)v.len);
	dst[v.len] = 0;
	return OF3_OK;
}

static int cif_number(where_t w, of3_cif_value_t v, const char *what, double *out)
{
	char buf[64];
	char *end;
	int rc = cif_text(w, v, what, (int)sizeof buf - 1, buf);
	if (rc < 0)
		return rc;
	errno = 0;
	*out = strtod(buf, &end);
	if (end != buf + v.len || errno || !isfinite(*out))
		return of3_err(OF3_ERR_INPUT, "%s:%d: component '%s': %s '%s' is not a number",
		               w.label, v.line, w.code, what, buf);
	return OF3_OK;
}

static int cif_charge(where_t w, of3_cif_value_t v, int *out)
{
	char buf[16];
	char *end;
	*out = 0;
	if (v.state != OF3_CIF_PRESENT)
		return OF3_OK; /* '?' reads as 0, as biotite reads it */
	int rc = cif_text(w, v, "charge", (int)sizeof buf - 1, buf);
	if (rc < 0)
		return rc;
	errno = 0;
	long q = strtol(buf, &end, 10);
	if (end != buf + v.len || errno || q < -128 || q > 127)
		return of3_err(OF3_ERR_INPUT,
		               "%s:%d: component '%s': charge '%s' is not an integer", w.label,
		               v.line, w.code, buf);
	*out = (int)q;
	return OF3_OK;
}

/* 1 when every row has all three coordinate columns present (biotite's rule: one missing value
 * anywhere, hydrogens included, and the other set is used for every atom). */
static int coords_complete(const of3_cif_table_t *t, const int col[3])
{
	for (int d = 0; d < 3; d++)
		if (col[d] < 0)
			return 0;
	for (int r = 0; r < t->n_rows; r++)
		for (int d = 0; d < 3; d++)
			if (of3_cif_value(t, r, col[d]).state != OF3_CIF_PRESENT)
				return 0;
	return 1;
}

static int is_hydrogen(const char *element)
{
	return strcmp(element, "H") == 0 || strcmp(element, "D") == 0;
}

/* The atoms of chem_comp_atom: heavy[r] gets each row's index among the kept atoms, or -1. */
static int cif_atoms(where_t w, const of3_cif_table_t *t, of3_ccd_comp_t *comp, int *heavy)
{
	static const char *ideal_items[3] = {"pdbx_model_Cartn_x_ideal", "pdbx_model_Cartn_y_ideal",
	                                     "pdbx_model_Cartn_z_ideal"};
	static const char *model_items[3] = {"model_Cartn_x", "model_Cartn_y", "model_Cartn_z"};
	int ideal[3], model[3];
	for (int d = 0; d < 3; d++) {
		ideal[d] = of3_cif_column(t, ideal_items[d]);
		model[d] = of3_cif_column(t, model_items[d]);
	}
	const int *xyz = NULL;
	comp->coords = OF3_CCD_COORDS_NONE;
	if (t->n_rows > 0 && coords_complete(t, ideal)) {
		comp->coords = OF3_CCD_COORDS_IDEAL;
		xyz = ideal;
	} else if (t->n_rows > 0 && coords_complete(t, model)) {
		comp->coords = OF3_CCD_COORDS_MODEL;
		xyz = model;
	}
	int c_name = of3_cif_column(t, "atom_id"), c_element = of3_cif_column(t, "type_symbol");
	int c_charge = of3_cif_column(t, "charge");
	int c_leaving = of3_cif_column(t, "pdbx_leaving_atom_flag");
	of3_ccd_atom_t *atoms = (of3_ccd_atom_t *)comp->atoms;
	int n = 0, rc = OF3_OK;
	for (int r = 0; r < t->n_rows && rc == OF3_OK; r++) {
		of3_ccd_atom_t a = {0};
		if ((rc = cif_text(w, of3_cif_value(t, r, c_name), "atom_id", 4, a.name)) < 0 ||
		    (rc = cif_text(w, of3_cif_value(t, r, c_element), "type_symbol", 2,
		                   a.element)) < 0)
			break;
		upper(a.element);
		heavy[r] = -1;
		if (is_hydrogen(a.element))
			continue;
		if ((rc = cif_charge(w, of3_cif_value(t, r, c_charge), &a.charge)) < 0)
			break;
		a.leaving = of3_cif_value_is(of3_cif_value(t, r, c_leaving), "Y", 1);
		for (int d = 0; xyz && d < 3 && rc == OF3_OK; d++)
			rc = cif_number(w, of3_cif_value(t, r, xyz[d]), "coordinate", &a.xyz[d]);
		heavy[r] = n;
		atoms[n++] = a;
	}
	comp->n_atoms = n;
	return rc;
}

/* The bonds of chem_comp_bond among the kept atoms (rows are the chem_comp_atom table's). */
static int cif_bonds(where_t w, const of3_cif_table_t *t, const of3_cif_table_t *atoms_t,
                     const int *heavy, of3_ccd_comp_t *comp)
{
	static const char *orders[4] = {"SING", "DOUB", "TRIP", "QUAD"};
	int c_a = of3_cif_column(t, "atom_id_1"), c_b = of3_cif_column(t, "atom_id_2");
	int c_order = of3_cif_column(t, "value_order");
	int c_arom = of3_cif_column(t, "pdbx_aromatic_flag");
	int c_name = atoms_t ? of3_cif_column(atoms_t, "atom_id") : -1;
	of3_ccd_bond_t *bonds = (of3_ccd_bond_t *)comp->bonds;
	int n = 0;
	for (int r = 0; r < t->n_rows; r++) {
		of3_cif_value_t ends[2] = {of3_cif_value(t, r, c_a), of3_cif_value(t, r, c_b)};
		int row[2] = {-1, -1};
		for (int e = 0; e < 2; e++) {
			for (int k = 0; atoms_t && k < atoms_t->n_rows && row[e] < 0; k++) {
				of3_cif_value_t name = of3_cif_value(atoms_t, k, c_name);
				if (ends[e].state == OF3_CIF_PRESENT && name.len == ends[e].len &&
				    memcmp(name.s, ends[e].s, (size_t)name.len) == 0)
					row[e] = k;
			}
			if (row[e] < 0)
				return of3_err(OF3_ERR_INPUT,
				               "%s:%d: component '%s': bond to atom '%.*s', which "
				               "chem_comp_atom does not list",
				               w.label, ends[e].line, w.code,
				               ends[e].len > 40 ? 40 : ends[e].len, ends[e].s);
		}
		of3_cif_value_t vo = of3_cif_value(t, r, c_order);
		int order = 0;
		for (int k = 0; k < 4 && !order; k++)
			if (of3_cif_value_is(vo, orders[k], 1))
				order = k + 1;
		if (!order)
			return of3_err(OF3_ERR_INPUT,
			               "%s:%d: component '%s': bond value_order '%.*s' (of3 reads "
			               "SING, DOUB, TRIP, QUAD)",
			               w.label, vo.line, w.code, vo.len > 20 ? 20 : vo.len, vo.s);
		int a = heavy[row[0]], b = heavy[row[1]];
		if (a < 0 || b < 0)
			continue; /* a bond to a hydrogen */
		if (a == b)
			return of3_err(OF3_ERR_INPUT,
			               "%s:%d: component '%s': bond of an atom to itself", w.label,
			               ends[0].line, w.code);
		bonds[n++] =
		        (of3_ccd_bond_t){a < b ? a : b, a < b ? b : a, order,
		                         of3_cif_value_is(of3_cif_value(t, r, c_arom), "Y", 1)};
	}
	comp->n_bonds = n;
	return OF3_OK;
}

static int cif_build(const of3_ccd_t *c, int i, const char *code, of3_ccd_comp_t **out)
{
	const of3_cif_span_t *s = &c->spans[i];
	of3_cif_block_t block;
	int rc = of3_cif_parse_block(c->text + s->begin, s->end - s->begin, s->line, c->label,
	                             &block);
	if (rc < 0)
		return rc;
	where_t w = {c->label, code};
	const of3_cif_table_t *cc = of3_cif_table(&block, "chem_comp");
	const of3_cif_table_t *ca = of3_cif_table(&block, "chem_comp_atom");
	const of3_cif_table_t *cb = of3_cif_table(&block, "chem_comp_bond");
	int *heavy = NULL;
	of3_ccd_comp_t *comp = comp_alloc(ca ? ca->n_rows : 0, cb ? cb->n_rows : 0);
	if (!comp || (ca && !(heavy = malloc((size_t)ca->n_rows * sizeof *heavy + 1))))
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
	if (rc == OF3_OK) {
		strcpy(comp->id, code);
		comp->coords = OF3_CCD_COORDS_NONE;
		of3_cif_value_t type = cc ? of3_cif_value(cc, 0, of3_cif_column(cc, "type"))
		                          : (of3_cif_value_t){"", 0, s->line, OF3_CIF_UNKNOWN};
		if (type.state == OF3_CIF_PRESENT)
			rc = cif_text(w, type, "chem_comp.type", TYPE_BYTES - 1, comp->type);
		upper(comp->type);
	}
	if (rc == OF3_OK && ca)
		rc = cif_atoms(w, ca, comp, heavy);
	if (rc == OF3_OK && cb && cb->n_rows > 0)
		rc = cif_bonds(w, cb, ca, heavy, comp);
	else if (comp)
		comp->n_bonds = 0;
	free(heavy);
	of3_cif_block_free(&block);
	if (rc < 0) {
		free(comp);
		return rc;
	}
	*out = comp;
	return OF3_OK;
}

/* ---- the interface ---- */

/* The shipped dictionary's path: $OF3_CCD, else <executable's directory>/../share/of3/. */
static int shipped_path(char *path, size_t n, int *from_env)
{
	const char *env = getenv("OF3_CCD");
	*from_env = env && *env;
	if (*from_env) {
		if (strlen(env) >= n)
			return of3_err(OF3_ERR_INPUT, "OF3_CCD is too long a path");
		strcpy(path, env);
		return OF3_OK;
	}
	char exe[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (k <= 0)
		return of3_err(
		        OF3_ERR_RUNTIME,
		        "cannot find the executable's directory to locate the shipped "
		        "Chemical Component Dictionary: set OF3_CCD=FILE or pass --ccd FILE");
	exe[k] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	if ((size_t)snprintf(path, n, "%s/../share/of3/ccd.bundle", exe) >= n)
		return of3_err(OF3_ERR_RUNTIME, "the executable's path is too long");
	return OF3_OK;
}

static int open_file(of3_ccd_t *c, int shipped, int from_env)
{
	int fd = open(c->label, O_RDONLY);
	if (fd < 0 && shipped && !from_env && errno == ENOENT)
		return of3_err(OF3_ERR_RUNTIME,
		               "the Chemical Component Dictionary %s is missing: run make (it "
		               "unpacks data/ccd.bundle.gz there), or set OF3_CCD=FILE, or pass "
		               "--ccd components.cif",
		               c->label);
	if (fd < 0)
		return of3_err(errno == ENOENT || errno == EACCES ? OF3_ERR_INPUT : OF3_ERR_SYS,
		               "cannot open the Chemical Component Dictionary %s%s: %s", c->label,
		               from_env ? " (from OF3_CCD)" : "", strerror(errno));
	struct stat st;
	unsigned char magic[2] = {0, 0};
	int rc = OF3_OK;
	if (fstat(fd, &st) != 0)
		rc = of3_err(OF3_ERR_SYS, "%s", c->label);
	else if (!S_ISREG(st.st_mode))
		rc = of3_err(OF3_ERR_INPUT, "%s: not a regular file", c->label);
	else if (st.st_size > 0 && pread(fd, magic, 2, 0) < 1)
		rc = of3_err(OF3_ERR_SYS, "reading %s", c->label);
	else if (magic[0] == 0x1f && magic[1] == 0x8b)
		rc = of3_err(OF3_ERR_INPUT, "%s: gzip-compressed; decompress it first (gunzip)",
		             c->label);
	/* a bundle starts with a msgpack map (the header); mmCIF is text */
	int is_bundle = (shipped && !from_env) || (magic[0] >= 0x80 && magic[0] <= 0x8f) ||
	                magic[0] == 0xde || magic[0] == 0xdf;
	if (rc == OF3_OK && !is_bundle && st.st_size > 0) {
		c->text_bytes = (size_t)st.st_size;
		c->text = mmap(NULL, c->text_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
		if (c->text == MAP_FAILED) {
			c->text = NULL;
			rc = of3_err(OF3_ERR_SYS, "mapping %s", c->label);
		}
	}
	close(fd);
	if (rc < 0)
		return rc;
	if (is_bundle)
		return bundle_load(c, (size_t)st.st_size);
	size_t k = strlen(c->label) + 32;
	if (!(c->source = malloc(k)))
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	snprintf(c->source, k, "mmCIF %s", c->label);
	return OF3_OK;
}

int of3_ccd_open(of3_ccd_t **ccd, const char *path)
{
	char shipped[PATH_MAX + 32];
	int from_env = 0, rc;
	*ccd = NULL;
	if (!path) {
		if ((rc = shipped_path(shipped, sizeof shipped, &from_env)) < 0)
			return rc;
	}
	of3_ccd_t *c = calloc(1, sizeof *c);
	if (!c || !(c->label = strdup(path ? path : shipped))) {
		free(c);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	if ((rc = open_file(c, !path, from_env)) < 0) {
		of3_ccd_close(c);
		return rc;
	}
	*ccd = c;
	return OF3_OK;
}

void of3_ccd_close(of3_ccd_t *ccd)
{
	if (!ccd)
		return;
	for (int i = 0; ccd->built && i < ccd->n_comps; i++)
		free(ccd->built[i]);
	free(ccd->built);
	of3_bundle_free(ccd->bundle);
	if (ccd->payload_map)
		munmap(ccd->payload_map, ccd->payload_map_bytes);
	free(ccd->types);
	free(ccd->spans);
	if (ccd->text)
		munmap(ccd->text, ccd->text_bytes);
	free(ccd->source);
	free(ccd->label);
	free(ccd);
}

int of3_ccd_get(of3_ccd_t *ccd, const char *code, const of3_ccd_comp_t **out)
{
	int rc, i = -1;
	size_t n = strlen(code);
	if (!ccd->bundle && !ccd->indexed) {
		if (!ccd->text)
			return of3_err(OF3_ERR_INPUT, "%s:1: empty file, no data_ block",
			               ccd->label);
		if ((rc = cif_index(ccd)) < 0)
			return rc;
	}
	if (n >= 1 && n <= ID_BYTES)
		i = ccd->bundle ? bundle_find(ccd, code) : cif_find(ccd, code);
	if (i < 0)
		return of3_err(OF3_ERR_INPUT, "unknown CCD code '%s' (not in %s)", code,
		               ccd->source);
	if (!ccd->built[i]) {
		rc = ccd->bundle ? bundle_build(ccd, i, &ccd->built[i])
		                 : cif_build(ccd, i, code, &ccd->built[i]);
		if (rc < 0)
			return rc;
	}
	*out = ccd->built[i];
	return OF3_OK;
}

const char *of3_ccd_source(const of3_ccd_t *ccd)
{
	return ccd->source;
}
