/* test_device.h: the backend the diffuse parity tests (tests/test_diffuse_{module,sampler,heads}.c)
 * run on, and copies between host memory and it (header-only, like check.h).
 *
 * OF3_TEST_DEVICE and OF3_TEST_PRECISION pick it as tests/test_backend.h says (cpu by default, as
 * `make test` runs them; cuda in `make test-gpu`); in bf16 the bars are td_bar's looser ones. Every
 * buffer the ops touch is allocated with of3_backend_alloc and filled by upload, also on the CPU,
 * so the tests exercise the same path on both backends. */
#ifndef OF3_TEST_DEVICE_H
#define OF3_TEST_DEVICE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/backend.h"
#include "../of3-diffuse/diffusion_module.h"
#include "test_backend.h"

static of3_backend_t td_be;
/* 1 when the products run in bf16 (CUDA with OF3_TEST_PRECISION=bf16). */
static inline int td_bf16(void)
{
	return test_bf16;
}

/* The bar: the CPU's (fp32) one, or the bf16 one in bf16 mode. */
static inline double td_bar(double fp32_bar, double bf16_bar)
{
	return td_bf16() ? bf16_bar : fp32_bar;
}

/* n_bytes of backend memory holding a copy of host memory h (NULL stays NULL). Exits on
 * failure: a test without its inputs cannot go on. */
static inline void *td_up(const void *h, size_t n_bytes)
{
	if (!h)
		return NULL;
	void *d = of3_backend_alloc(&td_be, n_bytes ? n_bytes : 1);
	if (!d || (n_bytes && of3_backend_upload(&td_be, d, h, n_bytes) < 0)) {
		fprintf(stderr, "test_device: upload of %zu bytes: %s\n", n_bytes, of3_errmsg());
		exit(1);
	}
	return d;
}

/* n floats of backend memory (for outputs); NULL when h is NULL (an output not asked for). */
static inline float *td_out(const void *h, int64_t n)
{
	if (!h)
		return NULL;
	float *d = of3_backend_alloc(&td_be, (size_t)(n > 0 ? n : 1) * sizeof(float));
	if (!d) {
		fprintf(stderr, "test_device: %s\n", of3_errmsg());
		exit(1);
	}
	return d;
}

/* Copies n floats of backend memory d back into host memory h (both may be NULL). */
static inline void td_down(float *h, const float *d, int64_t n)
{
	if (!h || !d)
		return;
	if (of3_backend_sync(&td_be) < 0 ||
	    of3_backend_download(&td_be, h, d, (size_t)n * sizeof *h) < 0) {
		fprintf(stderr, "test_device: download: %s\n", of3_errmsg());
		exit(1);
	}
}

static inline void td_free(const void *d)
{
	of3_backend_free(&td_be, (void *)d);
}

/* The module's inputs in backend memory from host inputs h (x_noisy too when present); hf is
 * h's features, as of3-diffuse passes them. Free with td_in_free. */
static inline void td_in(of3_diffusion_in_t *d, const of3_diffusion_in_t *h, int64_t c_si,
                         int64_t c_s, int64_t c_z)
{
	const size_t n = (size_t)h->n_tok, a = (size_t)h->n_atom, f4 = sizeof(float);
	const of3_diffusion_feats_t *f = &h->f;
	*d = *h;
	d->hf = h->f;
	d->x_noisy = td_up(h->x_noisy, (size_t)h->n_sample * a * 3 * f4);
	d->s_input = td_up(h->s_input, n * (size_t)c_si * f4);
	d->s_trunk = td_up(h->s_trunk, n * (size_t)c_s * f4);
	d->z_trunk = td_up(h->z_trunk, n * n * (size_t)c_z * f4);
	d->f.ref_pos = td_up(f->ref_pos, a * 3 * f4);
	d->f.ref_mask = td_up(f->ref_mask, a * 4);
	d->f.ref_element = td_up(f->ref_element, a * OF3_DIFF_N_ELEMENT * 4);
	d->f.ref_charge = td_up(f->ref_charge, a * f4);
	d->f.ref_atom_name_chars = td_up(f->ref_atom_name_chars, a * OF3_DIFF_N_CHARS * 4);
	d->f.ref_space_uid = td_up(f->ref_space_uid, a * 4);
	d->f.atom_mask = td_up(f->atom_mask, a * f4);
	d->f.atom_to_token_index = td_up(f->atom_to_token_index, a * 4);
	d->f.residue_index = td_up(f->residue_index, n * 4);
	d->f.token_index = td_up(f->token_index, n * 4);
	d->f.asym_id = td_up(f->asym_id, n * 4);
	d->f.entity_id = td_up(f->entity_id, n * 4);
	d->f.sym_id = td_up(f->sym_id, n * 4);
	d->f.token_mask = td_up(f->token_mask, n * f4);
}

static inline void td_in_free(of3_diffusion_in_t *d)
{
	const of3_diffusion_feats_t *f = &d->f;
	const void *p[] = {d->x_noisy,       d->s_input,     d->s_trunk,
	                   d->z_trunk,       f->ref_pos,     f->ref_mask,
	                   f->ref_element,   f->ref_charge,  f->ref_atom_name_chars,
	                   f->ref_space_uid, f->atom_mask,   f->atom_to_token_index,
	                   f->residue_index, f->token_index, f->asym_id,
	                   f->entity_id,     f->sym_id,      f->token_mask};
	for (size_t i = 0; i < sizeof p / sizeof *p; i++)
		td_free(p[i]);
	memset(d, 0, sizeof *d);
}

#endif
