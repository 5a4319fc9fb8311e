/* featurize.c: tokens, structure, reference conformers, MSAs, templates; the assembly forwarded. */
#include "featurize.h"

#include <string.h>

#include "msa.h"
#include "structure.h"
#include "tokens.h"

/* Copies the assembly's tensors and values: of3-writecif needs the atoms at the end. */
static int forward_assembly(const of3_bundle_t *a, of3_bundle_t *out)
{
	for (int i = 0; i < a->n_tensors; i++) {
		const of3_tensor_t *s = &a->tensors[i];
		of3_tensor_t *d;
		int rc = of3_bundle_add_tensor(out, s->name, s->dtype, s->ndim, s->shape, 1, &d);
		if (rc < 0)
			return rc;
		if (s->nbytes)
			memcpy(d->data, s->data, s->nbytes);
	}
	for (int i = 0; i < a->n_values; i++) {
		int rc = of3_bundle_add_value(out, a->values[i].name, &a->values[i].value);
		if (rc < 0)
			return rc;
	}
	return OF3_OK;
}

int of3_featurize(const of3_bundle_t *assembly, uint64_t seed, of3_bundle_t **out)
{
	of3_tokens_t t;
	int rc = of3_tokens_init(&t, assembly);
	if (rc < 0)
		return rc;
	of3_bundle_t *b = of3_bundle_init("features", assembly->query);
	if (!b) {
		of3_tokens_free(&t);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	rc = of3_bundle_meta_copy(b, assembly);
	rc = rc ? rc : forward_assembly(assembly, b);
	rc = rc ? rc : of3_structure_features(&t, b);
	rc = rc ? rc : of3_reference_features(&t, b);
	rc = rc ? rc : of3_reference_positions(&t, seed, b);
	rc = rc ? rc : of3_msa_features(&t, b);
	rc = rc ? rc : of3_template_features(&t, b);
	rc = rc ? rc : of3_bundle_meta_set_int(b, "n_token", t.n_tokens);
	rc = rc ? rc : of3_bundle_meta_set_int(b, "n_atom", t.n_atoms);
	rc = rc ? rc : of3_bundle_meta_set_int(b, "n_templ", 4);
	rc = rc ? rc : of3_bundle_meta_set_int(b, "seed", (int64_t)seed);
	rc = rc ? rc : of3_bundle_meta_set_str(b, "featurizer", OF3_FEATURIZER_CONVENTIONS);
	of3_tokens_free(&t);
	if (rc < 0) {
		of3_bundle_free(b);
		return rc;
	}
	*out = b;
	return OF3_OK;
}
