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
	of3_backend_t *be; /* where the weights live */
	of3_wbuf_t wb;     /* every bound tensor, float32, in backend memory */
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

int of3_trunk_load(of3_trunk_t **out, of3_ckpt_t *ck, of3_backend_t *be)
{
	*out = NULL;
	of3_trunk_t *t = calloc(1, sizeof *t);
	if (!t)
		return of3_err(OF3_ERR_NOMEM, "out of memory binding the trunk");
	t->be = be;
	int rc = plan(t, ck, &t->wb);
	if (rc < 0)
		goto fail;
	if ((rc = of3_wbuf_alloc_on(&t->wb, be)) < 0) {
		of3_err_prefix(rc, "binding the trunk");
		goto fail;
	}
	if ((rc = bind_all(t, ck, &t->wb)) < 0 || (rc = of3_wbuf_upload(&t->wb, be)) < 0)
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
	of3_wbuf_free(&t->wb, t->be);
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
	op->copy(x, tmp, n_r * c);
}

/* The most heads any attention of the trunk has: the CUDA attention op keeps its bias
 * transposed in scratch, Q*K*H floats. */
static int64_t max_heads(const of3_trunk_t *t)
{
	int64_t h = 1;
#define MAXH(x) (h = (x) > h ? (x) : h)
	for (int b = 0; b < t->dims.n_pairformer_block; b++) {
		MAXH(t->pf[b].pair.att_start.n_head);
		MAXH(t->pf[b].pair.att_end.n_head);
		MAXH(t->pf[b].apb.n_head);
	}
	for (int b = 0; b < t->msa.n_block; b++)
		MAXH(t->msa.block[b].pair.att_start.n_head);
	for (int b = 0; b < t->tmpl.n_block; b++)
		MAXH(t->tmpl.block[b].att_start.n_head);
#undef MAXH
	return h;
}

/* Fails with a clear message, before anything is allocated, when a query's activations and
 * features cannot fit where the backend computes (issue #10): on CUDA the device's free memory
 * against activations + features + the ops' own scratch (at most 256 MiB of chunked products,
 * or an attention bias of Q*K*H floats) + a margin for cuBLAS and allocation granularity; on
 * the CPU the machine's physical memory. */
static int check_memory(const of3_trunk_t *t, const char *q, int64_t n, size_t act_bytes,
                        size_t feat_bytes, of3_backend_t *be)
{
	const double gib = 1 << 30;
	size_t free_b = 0, total_b = 0;
	if (be->kind == OF3_BACKEND_CPU) {
		long pages = sysconf(_SC_PHYS_PAGES), page_bytes = sysconf(_SC_PAGESIZE);
		if (pages > 0 && page_bytes > 0 &&
		    (double)(act_bytes + feat_bytes) > (double)pages * (double)page_bytes)
			return of3_err(OF3_ERR_NOMEM,
			               "query '%s': %lld tokens need %.2f GiB of trunk activations "
			               "and features, more than this machine's %.2f GiB of memory",
			               q, (long long)n, (double)(act_bytes + feat_bytes) / gib,
			               (double)pages * (double)page_bytes / gib);
		return OF3_OK;
	}
	const size_t bias = (size_t)(n * n) * (size_t)max_heads(t) * sizeof(float);
	const size_t ops = bias > ((size_t)256 << 20) ? bias : ((size_t)256 << 20);
	const size_t margin = ((size_t)256 << 20) + (act_bytes + feat_bytes) / 20;
	const size_t need = act_bytes + feat_bytes + ops + margin;
	int rc = of3_backend_mem_info(be, &free_b, &total_b);
	if (rc < 0)
		return of3_err_prefix(rc, "query '%s'", q);
	of3_verbose("query '%s': %lld tokens, estimated %.2f GiB of GPU memory (activations %.2f, "
	            "features %.2f, op scratch %.2f, margin %.2f), %.2f GiB free",
	            q, (long long)n, need / gib, act_bytes / gib, feat_bytes / gib, ops / gib,
	            margin / gib, free_b / gib);
	if (need > free_b)
		return of3_err(
		        OF3_ERR_NOMEM,
		        "query '%s': %lld tokens need an estimated %.2f GiB of GPU memory "
		        "(trunk activations %.2f GiB, features %.2f GiB, op scratch %.2f GiB, "
		        "margin %.2f GiB) but %s has %.2f GiB free of %.2f GiB (the weights "
		        "hold %.2f GiB); use a GPU with more memory or --device cpu",
		        q, (long long)n, need / gib, act_bytes / gib, feat_bytes / gib, ops / gib,
		        margin / gib, be->desc, free_b / gib, total_b / gib,
		        (double)t->dims.n_weight_floats * sizeof(float) / gib);
	return OF3_OK;
}

int of3_trunk_run(const of3_trunk_t *t, const of3_bundle_t *features, int n_cycles, uint64_t seed,
                  of3_trunk_out_t *out, of3_backend_t *be)
{
	const char *q = features->query;
	const of3_trunk_dims_t *d = &t->dims;
	of3_trunk_features_t f;
	of3_trunk_dev_t fd;
	int rc = of3_trunk_features_view(&f, features);
	if (rc < 0)
		return of3_err_prefix(rc, "query '%s'", q);
	const int64_t n = f.n_token, c_s = d->c_s, c_z = d->c_z, c_si = d->c_s_input;
	const size_t nn = (size_t)(n * n);

	/* plan (STYLE.md rule 27): every activation and the largest scratch, one allocation */
	size_t n_scratch = of3_input_embedder_scratch(&t->emb, n, f.n_atom);
	n_scratch = max2(n_scratch, of3_template_embedder_scratch(&t->tmpl, n));
	n_scratch = max2(n_scratch, of3_msa_module_scratch(&t->msa, n, f.n_msa));
	for (int b = 0; b < d->n_pairformer_block; b++)
		n_scratch = max2(n_scratch, of3_pairformer_block_scratch(&t->pf[b], n));
	const size_t n_s = (size_t)n * (size_t)c_s, n_z = nn * (size_t)c_z;
	const size_t n_si = (size_t)n * (size_t)c_si;
	size_t n_total = 0;
#define CARVE(nf) (n_total += ((size_t)(nf) + 63) / 64 * 64)
	size_t o_sinput = n_total;
	CARVE(n_si);
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
	const size_t act_bytes = n_total * sizeof(float);
	if ((rc = check_memory(t, q, n, act_bytes, of3_trunk_dev_bytes(&f), be)) < 0)
		return rc;
	float *mem = of3_backend_alloc(be, act_bytes);
	if (!mem)
		return of3_err_prefix(OF3_ERR_NOMEM,
		                      "query '%s': %.2f GiB of trunk activations for %lld tokens",
		                      q, (double)act_bytes / (1 << 30), (long long)n);
	if ((rc = of3_trunk_dev_upload(&fd, &f, be)) < 0) {
		of3_trunk_dev_free(&fd, be);
		of3_backend_free(be, mem);
		return of3_err_prefix(rc, "query '%s'", q);
	}
	of3_verbose("query '%s': %lld tokens, %.3f GiB of trunk activations, %.3f GiB of features "
	            "on %s",
	            q, (long long)n, (double)act_bytes / (1 << 30), (double)fd.n_bytes / (1 << 30),
	            be->desc);
	float *s_input = mem + o_sinput, *s_init = mem + o_sinit, *s = mem + o_s,
	      *z_init = mem + o_zinit, *z = mem + o_z, *tmp = mem + o_tmp,
	      *scratch = mem + o_scratch;
	const of3_ops_t *op = be->ops;

	double t0 = now_s();
	rc = of3_input_embedder_forward(be, &t->emb, &fd, s_input, s_init, z_init, scratch);
	rc = rc ? rc : of3_backend_sync(be);
	if (rc < 0)
		goto done;
	of3_verbose("query '%s': input embedder, %.3f s (at %.2f s)", q, now_s() - t0,
	            of3_elapsed_s());

	of3_backend_warmup_wait(be); /* before the cycles (of3_backend_warmup) */
	op->fill(s, 0.0f, (int64_t)n_s);
	op->fill(z, 0.0f, (int64_t)n_z);
	for (int cycle = 0; cycle < n_cycles; cycle++) {
		t0 = now_s();
		recycle(z, z_init, &t->ln_z, &t->lin_z, (int64_t)nn, tmp, be);
		rc = of3_template_embedder_forward(be, &t->tmpl, &fd, z, tmp, scratch);
		if (rc < 0)
			break;
		op->add(z, tmp, (int64_t)n_z);
		rc = of3_msa_module_forward(be, &t->msa, &f, &fd, s_input, z, seed, cycle, scratch);
		if (rc < 0)
			break;
		recycle(s, s_init, &t->ln_s, &t->lin_s, n, tmp, be);
		for (int b = 0; b < d->n_pairformer_block; b++)
			of3_pairformer_block(s, z, fd.token_mask, fd.pair_mask, &t->pf[b], n,
			                     scratch, be);
		if (out->s_cycle)
			rc = of3_backend_download(be, out->s_cycle + (size_t)cycle * n_s, s,
			                          n_s * sizeof(float));
		if (rc == 0 && out->z_cycle)
			rc = of3_backend_download(be, out->z_cycle + (size_t)cycle * n_z, z,
			                          n_z * sizeof(float));
		rc = rc ? rc : of3_backend_sync(be);
		if (rc < 0)
			break;
		of3_progress("query '%s': cycle %d/%d, %.3f s (at %.2f s)", q, cycle + 1, n_cycles,
		             now_s() - t0, of3_elapsed_s());
	}
	if (rc == 0)
		rc = of3_backend_download(be, out->s_input, s_input, n_si * sizeof(float));
	if (rc == 0)
		rc = of3_backend_download(be, out->s_trunk, s, n_s * sizeof(float));
	if (rc == 0)
		rc = of3_backend_download(be, out->z_trunk, z, n_z * sizeof(float));
done:
	of3_trunk_dev_free(&fd, be);
	of3_backend_free(be, mem);
	return rc < 0 ? of3_err_prefix(rc, "query '%s'", q) : OF3_OK;
}
