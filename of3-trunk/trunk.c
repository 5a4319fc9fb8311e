/* trunk.c: binding the trunk's weights once and running spec/trunk.md §2.1's recycling loop:
 * input embedder once, then per cycle the z recycling update, template embedder, MSA module,
 * the s recycling update and the Pairformer stack. Cycle 0 is not special-cased: LN(0) is the
 * LayerNorm bias, so cycle 0 adds linear(LN bias) to every token and pair, as the reference. */
#include "trunk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../kernels/layers/pairformer.h"
#include "input_embedder.h"
#include "msa_module.h"
#include "template_embedder.h"
#include "trunk_features.h"

/* Top-level checkpoint groups the trunk owns (spec/trunk.md §1.2); the rest belongs to
 * of3-diffuse. */
static const char *const TRUNK_PREFIXES[] = {
        "input_embedder.",      "layer_norm_z.", "linear_z.",
        "layer_norm_s.",        "linear_s.",     "template_embedder.",
        "msa_module_embedder.", "msa_module.",   "pairformer_stack.",
};

struct of3_trunk_t {
	of3_trunk_dims_t dims;
	float *weights; /* every bound tensor, float32 */
	of3_input_embedder_w_t emb;
	of3_template_w_t tmpl;
	of3_msa_w_t msa;
	of3_ln_w_t ln_z, ln_s;
	of3_lin_w_t lin_z, lin_s;
	of3_pairformer_block_w_t *pf; /* [n_pairformer_block] */
};

static size_t max2(size_t a, size_t b)
{
	return a > b ? a : b;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One pass over every trunk module: planning when wb->base is NULL, binding otherwise. */
static int bind_all(of3_trunk_t *t, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	of3_trunk_dims_t *d = &t->dims;
	int rc = of3_input_embedder_bind(&t->emb, ck, wb);
	int64_t c_z = t->emb.c_z, c_s = t->emb.c_s;
	rc = rc ? rc : of3_template_embedder_bind(&t->tmpl, ck, wb);
	rc = rc ? rc : of3_msa_module_bind(&t->msa, ck, wb);
	if (rc == 0 &&
	    (t->tmpl.c_z != c_z || t->msa.c_z != c_z || t->msa.c_s_input != t->emb.c_s_input))
		rc = of3_err(
		        OF3_ERR_INPUT,
		        "checkpoint: the input embedder's c_z %lld and c_s_input %lld disagree "
		        "with the template embedder's c_z %lld or the MSA module's c_z %lld, "
		        "c_s_input %lld",
		        (long long)c_z, (long long)t->emb.c_s_input, (long long)t->tmpl.c_z,
		        (long long)t->msa.c_z, (long long)t->msa.c_s_input);
	rc = rc ? rc : of3_wbind_ln(wb, ck, &t->ln_z, &c_z, 1, "", "layer_norm_z");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &t->lin_z, &c_z, &c_z, 0, "", "linear_z");
	rc = rc ? rc : of3_wbind_ln(wb, ck, &t->ln_s, &c_s, 1, "", "layer_norm_s");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &t->lin_s, &c_s, &c_s, 0, "", "linear_s");
	for (int b = 0; b < d->n_pairformer_block && rc == 0; b++) {
		char prefix[64];
		snprintf(prefix, sizeof prefix, "pairformer_stack.blocks.%d.", b);
		rc = of3_pairformer_block_bind(&t->pf[b], ck, wb, prefix);
		if (rc == 0 && (t->pf[b].c_s != c_s || t->pf[b].c_z != c_z))
			rc = of3_err(OF3_ERR_INPUT,
			             "checkpoint: pairformer block %d has c_s %lld, c_z %lld; the "
			             "recycling layers have %lld, %lld",
			             b, (long long)t->pf[b].c_s, (long long)t->pf[b].c_z,
			             (long long)c_s, (long long)c_z);
	}
	d->c_s = c_s;
	d->c_z = c_z;
	d->c_s_input = t->emb.c_s_input;
	return rc;
}

/* Layout, block count, the planning pass over every key and the check for unbound trunk
 * keys: everything of3_trunk_load does short of allocating and copying the weights. */
static int plan(of3_trunk_t *t, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	int rc = of3_ckpt_require_layout(ck, OF3_CKPT_LAYOUT_P1);
	if (rc < 0)
		return rc;
	int64_t n_pf = of3_ckpt_count_blocks(ck, "pairformer_stack.blocks");
	if (n_pf > 1024)
		return of3_err(OF3_ERR_INPUT,
		               "checkpoint: %lld pairformer_stack.blocks.* (the released "
		               "model has 48)",
		               (long long)n_pf);
	t->dims.n_pairformer_block = (int)n_pf;
	t->pf = calloc((size_t)(n_pf ? n_pf : 1), sizeof *t->pf);
	if (!t->pf)
		return of3_err(OF3_ERR_NOMEM, "out of memory binding the trunk");
	*wb = (of3_wbuf_t){0};
	if ((rc = bind_all(t, ck, wb)) < 0)
		return rc;
	/* after the other modules, so that a checkpoint of something else fails naming a key */
	if (n_pf == 0)
		return of3_err(OF3_ERR_INPUT,
		               "checkpoint: no pairformer_stack.blocks.* (the released "
		               "model has 48)");
	t->dims.n_weight_floats = wb->n_used;
	for (size_t i = 0; i < sizeof TRUNK_PREFIXES / sizeof *TRUNK_PREFIXES; i++)
		if ((rc = of3_ckpt_check_unused(ck, TRUNK_PREFIXES[i])) < 0)
			return rc;
	return OF3_OK;
}

int of3_trunk_check(of3_ckpt_t *ck, of3_trunk_dims_t *dims)
{
	of3_trunk_t t = {0};
	of3_wbuf_t wb;
	int rc = plan(&t, ck, &wb);
	*dims = t.dims;
	free(t.pf);
	return rc;
}

int of3_trunk_load(of3_trunk_t **out, of3_ckpt_t *ck)
{
	*out = NULL;
	of3_wbuf_t wb;
	of3_trunk_t *t = calloc(1, sizeof *t);
	if (!t)
		return of3_err(OF3_ERR_NOMEM, "out of memory binding the trunk");
	int rc = plan(t, ck, &wb);
	if (rc < 0)
		goto fail;
	if ((rc = of3_wbuf_alloc(&wb)) < 0) {
		of3_err_prefix(rc, "binding the trunk");
		goto fail;
	}
	t->weights = wb.base;
	if ((rc = bind_all(t, ck, &wb)) < 0)
		goto fail;
	*out = t;
	return OF3_OK;
fail:
	of3_trunk_free(t);
	return rc;
}

void of3_trunk_free(of3_trunk_t *t)
{
	if (!t)
		return;
	free(t->weights);
	free(t->pf);
	free(t);
}

const of3_trunk_dims_t *of3_trunk_dims(const of3_trunk_t *t)
{
	return &t->dims;
}

/* x[R,C] = init[R,C] + linear(LN(x)): the recycling update (§2.1, §3.2). x is normalised in
 * place, tmp[R,C] takes the projection. */
static void recycle(float *x, const float *init, const of3_ln_w_t *ln, const of3_lin_w_t *lin,
                    int64_t n_r, float *tmp, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t c = lin->n_out;
	op->layer_norm(x, x, ln->w, ln->b, n_r, c, OF3_LN_EPS);
	op->linear(tmp, x, lin->w, NULL, n_r, c, c);
	op->add(tmp, init, n_r * c);
	memcpy(x, tmp, (size_t)(n_r * c) * sizeof *x);
}

int of3_trunk_run(const of3_trunk_t *t, const of3_bundle_t *features, int n_cycles, uint64_t seed,
                  of3_trunk_out_t *out, const of3_backend_t *be)
{
	const char *q = features->query;
	const of3_trunk_dims_t *d = &t->dims;
	of3_trunk_features_t f;
	int rc = of3_trunk_features_view(&f, features);
	if (rc < 0)
		return of3_err_prefix(rc, "query '%s'", q);
	const int64_t n = f.n_token, c_s = d->c_s, c_z = d->c_z;
	const size_t nn = (size_t)(n * n);

	/* plan (STYLE.md rule 27): every activation and the largest scratch, one allocation */
	size_t n_scratch = of3_input_embedder_scratch(&t->emb, n, f.n_atom);
	n_scratch = max2(n_scratch, of3_template_embedder_scratch(&t->tmpl, n));
	n_scratch = max2(n_scratch, of3_msa_module_scratch(&t->msa, n, f.n_msa));
	for (int b = 0; b < d->n_pairformer_block; b++)
		n_scratch = max2(n_scratch, of3_pairformer_block_scratch(&t->pf[b], n));
	const size_t n_s = (size_t)n * (size_t)c_s, n_z = nn * (size_t)c_z;
	size_t n_total = 0;
#define CARVE(nf) (n_total += ((size_t)(nf) + 15) / 16 * 16)
	size_t o_mask = n_total;
	CARVE(n);
	size_t o_pmask = n_total;
	CARVE(nn);
	size_t o_sinit = n_total;
	CARVE(n_s);
	size_t o_s = n_total;
	CARVE(n_s);
	size_t o_zinit = n_total;
	CARVE(n_z);
	size_t o_z = n_total;
	CARVE(n_z);
	size_t o_tmp = n_total;
	CARVE(max2(n_z, n_s));
	size_t o_scratch = n_total;
	CARVE(n_scratch);
#undef CARVE
	const double gib = (double)n_total * sizeof(float) / (1 << 30);
	long pages = sysconf(_SC_PHYS_PAGES), page_bytes = sysconf(_SC_PAGESIZE);
	if (pages > 0 && page_bytes > 0 &&
	    (double)n_total * sizeof(float) > (double)pages * (double)page_bytes)
		return of3_err(OF3_ERR_NOMEM,
		               "query '%s': %lld tokens need %.2f GiB of trunk activations, more "
		               "than this machine's %.2f GiB of memory",
		               q, (long long)n, gib,
		               (double)pages * (double)page_bytes / (1 << 30));
	float *mem = malloc(n_total * sizeof(float));
	if (!mem)
		return of3_err(OF3_ERR_NOMEM,
		               "query '%s': out of memory allocating %.2f GiB of trunk activations "
		               "for %lld tokens",
		               q, gib, (long long)n);
	of3_verbose("query '%s': %lld tokens, %.3f GiB of trunk activations", q, (long long)n, gib);
	float *mask = mem + o_mask, *pair_mask = mem + o_pmask, *s_init = mem + o_sinit,
	      *s = mem + o_s, *z_init = mem + o_zinit, *z = mem + o_z, *tmp = mem + o_tmp,
	      *scratch = mem + o_scratch;
	const of3_ops_t *op = be->ops;

	memcpy(mask, f.token_mask, (size_t)n * sizeof *mask);
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < n; j++)
			pair_mask[i * n + j] = mask[i] * mask[j];

	double t0 = now_s();
	rc = of3_input_embedder_forward(be, &t->emb, &f, out->s_input, s_init, z_init, scratch);
	if (rc < 0) {
		free(mem);
		return of3_err_prefix(rc, "query '%s'", q);
	}
	of3_verbose("query '%s': input embedder, %.1f s", q, now_s() - t0);

	memset(s, 0, n_s * sizeof(float));
	memset(z, 0, n_z * sizeof(float));
	for (int cycle = 0; cycle < n_cycles; cycle++) {
		t0 = now_s();
		recycle(z, z_init, &t->ln_z, &t->lin_z, (int64_t)nn, tmp, be);
		rc = of3_template_embedder_forward(be, &t->tmpl, &f, z, tmp, scratch);
		if (rc < 0)
			break;
		op->add(z, tmp, (int64_t)n_z);
		rc = of3_msa_module_forward(be, &t->msa, &f, out->s_input, z, seed, cycle, scratch);
		if (rc < 0)
			break;
		recycle(s, s_init, &t->ln_s, &t->lin_s, n, tmp, be);
		for (int b = 0; b < d->n_pairformer_block; b++)
			of3_pairformer_block(s, z, mask, pair_mask, &t->pf[b], n, scratch, be);
		if (out->s_cycle)
			memcpy(out->s_cycle + (size_t)cycle * n_s, s, n_s * sizeof(float));
		if (out->z_cycle)
			memcpy(out->z_cycle + (size_t)cycle * n_z, z, n_z * sizeof(float));
		of3_progress("query '%s': cycle %d/%d, %.1f s", q, cycle + 1, n_cycles,
		             now_s() - t0);
	}
	if (rc < 0) {
		free(mem);
		return of3_err_prefix(rc, "query '%s'", q);
	}
	memcpy(out->s_trunk, s, n_s * sizeof(float));
	memcpy(out->z_trunk, z, n_z * sizeof(float));
	free(mem);
	return OF3_OK;
}
