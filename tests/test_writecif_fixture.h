/* test_writecif_fixture.h: a diffuse bundle (docs/FORMAT.md "Bundle kinds") assembled from the
 * reference fixtures tests/fixtures/<name>_{features,sample,heads}.bundle.gz, float64 cast to
 * float32, for the of3-writecif tests. */
#ifndef TEST_WRITECIF_FIXTURE_H
#define TEST_WRITECIF_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "../common/bundle.h"

/* The first bundle of a gzipped fixture, or NULL. */
static of3_bundle_t *wc_read_gz(const char *path)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
	FILE *f = popen(cmd, "r");
	of3_breader_t *r = NULL;
	of3_bundle_t *b = NULL;
	if (f && of3_breader_open_fd(&r, fileno(f), path) == OF3_OK &&
	    of3_breader_next(r, &b) != OF3_OK)
		b = NULL;
	of3_breader_close(r);
	if (f)
		pclose(f);
	return b;
}

/* Adds `t` to `out` under `name`, float64 cast to float32. */
static int wc_copy_tensor(of3_bundle_t *out, const of3_tensor_t *t, const char *name)
{
	of3_tensor_t *n;
	of3_dtype_t dt = t->dtype == OF3_DTYPE_F64 ? OF3_DTYPE_F32 : t->dtype;
	int rc = of3_bundle_add_tensor(out, name, dt, t->ndim, t->shape, 1, &n);
	if (rc < 0)
		return rc;
	if (t->dtype == OF3_DTYPE_F64) {
		int64_t k = of3_tensor_numel(t);
		for (int64_t i = 0; i < k; i++)
			((float *)n->data)[i] = (float)((const double *)t->data)[i];
	} else {
		memcpy(n->data, t->data, t->nbytes);
	}
	return OF3_OK;
}

/* The diffuse bundle of fixture `name` ("tiny_protein"); *heads_out (if given) gets the heads
 * fixture (the reference metrics), else it is freed. NULL on failure. */
static of3_bundle_t *wc_fixture_diffuse(const char *name, of3_bundle_t **heads_out)
{
	char p[512];
	snprintf(p, sizeof p, "tests/fixtures/%s_features.bundle.gz", name);
	of3_bundle_t *f = wc_read_gz(p);
	snprintf(p, sizeof p, "tests/fixtures/%s_sample.bundle.gz", name);
	of3_bundle_t *s = wc_read_gz(p);
	snprintf(p, sizeof p, "tests/fixtures/%s_heads.bundle.gz", name);
	of3_bundle_t *h = wc_read_gz(p);
	of3_bundle_t *d = NULL;
	int rc = OF3_OK;
	if (!f || !s || !h || !(d = of3_bundle_init("diffuse", f->query)))
		goto fail;
	for (int i = 0; i < f->n_tensors && rc == OF3_OK; i++) {
		if (of3_diffuse_carries(f->tensors[i].name))
			rc = wc_copy_tensor(d, &f->tensors[i], f->tensors[i].name);
	}
	for (int i = 0; i < f->n_values && rc == OF3_OK; i++)
		rc = of3_bundle_add_value(d, f->values[i].name, &f->values[i].value);
	static const char *const logits[] = {"plddt_logits",     "pae_logits",
	                                     "pde_logits",       "experimentally_resolved_logits",
	                                     "distogram_logits", NULL};
	const of3_tensor_t *x = of3_bundle_tensor(s, "atom_positions_predicted");
	if (rc == OF3_OK && x)
		rc = wc_copy_tensor(d, x, "atom_positions_predicted");
	for (int k = 0; logits[k] && rc == OF3_OK; k++) {
		const of3_tensor_t *t = of3_bundle_tensor(h, logits[k]);
		rc = t ? wc_copy_tensor(d, t, logits[k]) : OF3_ERR_INPUT;
	}
	if (rc == OF3_OK && x)
		rc = of3_bundle_meta_set_int(d, "n_sample", x->shape[0]);
	if (rc == OF3_OK)
		rc = of3_bundle_meta_set_int(d, "seed", 42);
	if (rc < 0 || !x)
		goto fail;
	of3_bundle_free(f), of3_bundle_free(s);
	if (heads_out)
		*heads_out = h;
	else
		of3_bundle_free(h);
	return d;
fail:
	of3_bundle_free(f), of3_bundle_free(s), of3_bundle_free(h), of3_bundle_free(d);
	return NULL;
}

#endif
