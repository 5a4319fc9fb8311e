/* of3-diffuse: diffusion sampling and the confidence heads: trunk bundle to atom coordinates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/checkpoint.h"
#include "../common/cli.h"
#include "../common/log.h"
#include "../common/stage.h"
#include "../kernels/backend.h"
#include "diffuse_inputs.h"
#include "diffusion_module.h"
#include "heads.h"
#include "sampler.h"

enum { OPT_SAMPLES = 2000, OPT_STEPS, OPT_REPLAY };

#define DEFAULT_SAMPLES 5   /* no_full_rollout_samples (spec/diffusion_heads.md §1.1) */
#define DEFAULT_STEPS   200 /* no_full_rollout_steps */
#define MAX_SAMPLES     1000

typedef struct {
	const char *weights, *replay;
	long long n_sample, n_step; /* 0: default (or the replay file's) */
} diffuse_opts_t;

/* The weights of both parts, bound into one allocation. */
typedef struct {
	of3_diffusion_module_w_t mod;
	of3_heads_w_t heads;
	of3_wbuf_t wb;
} model_t;

typedef struct {
	of3_backend_t be;
	diffuse_opts_t opt;
	model_t *m;           /* bound at the first query, kept for the rest */
	of3_bundle_t *replay; /* --noise-replay's bundle */
} diffuse_ctx_t;

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: of3-diffuse -w WEIGHTS [options] [FILE|-]\n\n"
	        "Samples atom coordinates with the diffusion module and runs the confidence heads "
	        "on\neach trunk bundle; writes a diffuse bundle (coordinates per sample, the "
	        "heads' logits,\nthe features of3-writecif needs).\n\n"
	        "Options:\n"
	        "  -w, --weights FILE  OpenFold3 checkpoint (of3_ft3_v1.pt, layout p1), required\n"
	        "      --samples N     diffusion samples, one batch (default %d, 1..%d)\n"
	        "      --steps N       sampler steps (default %d, 1..%d)\n"
	        "      --noise-replay FILE\n"
	        "                      take the sampler's random draws from a recorded bundle\n"
	        "                      (sample_noise_init [D,A,3], sample_aug_quat [T,D,4],\n"
	        "                      sample_aug_trans [T,D,3], sample_noise_step [T,D,A,3], as\n"
	        "                      tools/reference records OpenFold3's) instead of Philox;\n"
	        "                      samples and steps default to the file's\n",
	        DEFAULT_SAMPLES, MAX_SAMPLES, DEFAULT_STEPS, OF3_SAMPLER_MAX_STEPS);
	of3_opts_help_compute(f);
	fprintf(f, "                      The seed names the Philox streams: sample k draws from\n"
	           "                      stream k, so it is the same for any --samples > k.\n"
	           "                      The CPU backend computes in fp32 only; the CUDA backend "
	           "cannot\n                      run this stage yet (issue #10).\n");
	of3_opts_help_io(f, 1);
	fprintf(f, "\nExample:\n"
	           "  of3-parse q.json | of3-featurize | of3-trunk -w of3.pt | of3-diffuse -w "
	           "of3.pt |\n"
	           "      of3-writecif -o out/\n\n");
	of3_opts_help_exit(f);
}

static int load(diffuse_ctx_t *c)
{
	of3_ckpt_t *ck = NULL;
	model_t *m = calloc(1, sizeof *m);
	if (!m)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	int rc = of3_ckpt_open(&ck, c->opt.weights);
	for (int pass = 0; pass < 2 && rc == 0; pass++) { /* plan, allocate once, bind */
		if (pass == 1 && (rc = of3_wbuf_alloc(&m->wb)) < 0)
			break;
		rc = of3_diffusion_module_bind(&m->mod, ck, &m->wb);
		rc = rc ? rc : of3_heads_bind(&m->heads, ck, &m->wb);
	}
	of3_ckpt_close(ck);
	if (rc < 0) {
		free(m->wb.base);
		free(m);
		return rc;
	}
	of3_verbose("diffusion module: c_atom %lld, c_token %lld, %d transformer blocks; heads: "
	            "%d pairformer blocks; %.1f MiB of weights",
	            (long long)m->mod.c_atom, (long long)m->mod.c_token, m->mod.dt.n_block,
	            m->heads.n_block, (double)m->wb.n_cap * 4 / (1 << 20));
	c->m = m;
	return OF3_OK;
}

/* A replay tensor as float32 (malloc'ed) when it has the expected shape. */
static float *replay_tensor(const of3_bundle_t *r, const char *path, const char *name, int ndim,
                            const int64_t *shape, int *rc)
{
	if (*rc)
		return NULL;
	const of3_tensor_t *t = of3_bundle_tensor(r, name);
	int ok = t && t->ndim == ndim && (t->dtype == OF3_DTYPE_F32 || t->dtype == OF3_DTYPE_F64);
	for (int i = 0; ok && i < ndim; i++)
		ok = t->shape[i] == shape[i];
	if (!ok) {
		*rc = of3_err(OF3_ERR_INPUT,
		              "%s: tensor '%s' %s; expected f32 or f64 [%lld, %lld%s%s] for this "
		              "query and these --samples/--steps",
		              path, name, t ? "has another dtype or shape" : "is missing",
		              (long long)shape[0], (long long)shape[1], ndim > 2 ? ", ..." : "",
		              "");
		return NULL;
	}
	const int64_t n = of3_tensor_numel(t);
	float *y = malloc((size_t)(n > 0 ? n : 1) * sizeof *y);
	if (!y) {
		*rc = of3_err(OF3_ERR_NOMEM, "out of memory for %s", name);
		return NULL;
	}
	for (int64_t i = 0; i < n; i++)
		y[i] = t->dtype == OF3_DTYPE_F32 ? ((const float *)t->data)[i]
		                                 : (float)((const double *)t->data)[i];
	for (int64_t i = 0; i < n; i++)
		if (!isfinite(y[i])) {
			*rc = of3_err(OF3_ERR_INPUT, "%s: tensor '%s' holds NaN or infinity", path,
			              name);
			free(y);
			return NULL;
		}
	return y;
}

/* Every tenth step, and the first and last. */
static void progress(void *ctx, int64_t step, int64_t n_step)
{
	if (step % 10 && step != 1 && step != n_step)
		return;
	of3_progress("query '%s': diffusion step %lld/%lld, %.1f s", (const char *)ctx,
	             (long long)step, (long long)n_step, of3_elapsed_s());
}

/* Features the diffuse bundle leaves out: the trunk's large inputs and outputs
 * (docs/FORMAT.md "diffuse"). */
static int carried(const char *name)
{
	static const char *const big[] = {"msa",
	                                  "has_deletion",
	                                  "deletion_value",
	                                  "profile",
	                                  "msa_mask",
	                                  "template_restype",
	                                  "template_pseudo_beta_mask",
	                                  "template_backbone_frame_mask",
	                                  "template_distogram",
	                                  "template_unit_vector",
	                                  "ref_element",
	                                  "ref_atom_name_chars",
	                                  "s_input",
	                                  "s_trunk",
	                                  "z_trunk",
	                                  NULL};
	for (int k = 0; big[k]; k++)
		if (!strcmp(big[k], name))
			return 0;
	return 1;
}

/* What one query's run produces (host memory). */
typedef struct {
	float *x;                                        /* [D,A,3] */
	float *distogram, *plddt, *resolved, *pde, *pae; /* as of3_heads_out_t */
} result_t;

static int write_result(of3_bwriter_t *w, const of3_bundle_t *in, const result_t *r,
                        const model_t *m, int64_t D, int64_t T, int64_t N, int64_t A,
                        const of3_opts_t *o, const char *noise)
{
	const of3_heads_w_t *h = &m->heads;
	of3_bundle_t *hdr = of3_bundle_init("diffuse", in->query);
	if (!hdr)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	int rc = of3_bundle_meta_copy(hdr, in);
	rc = rc ? rc : of3_bundle_meta_set_int(hdr, "n_sample", D);
	rc = rc ? rc : of3_bundle_meta_set_int(hdr, "n_step", T);
	rc = rc ? rc : of3_bundle_meta_set_int(hdr, "seed", (int64_t)o->seed);
	rc = rc ? rc : of3_bundle_meta_set_str(hdr, "noise", noise);
	rc = rc ? rc : of3_bundle_meta_set_str(hdr, "diffuse_precision", "fp32");
	rc = rc ? rc : of3_bwriter_begin(w, hdr);
	for (int i = 0; rc == 0 && i < in->n_tensors; i++)
		if (carried(in->tensors[i].name))
			rc = of3_bwriter_tensor(w, &in->tensors[i]);
	for (int i = 0; rc == 0 && i < in->n_values; i++)
		rc = of3_bwriter_value(w, in->values[i].name, &in->values[i].value);
	struct {
		const char *name;
		const float *data;
		int ndim;
		int64_t shape[4];
	} outs[] = {
	        {"atom_positions_predicted", r->x, 3, {D, A, 3}},
	        {"plddt_logits", r->plddt, 3, {D, A, h->n_plddt_bin}},
	        {"pae_logits", r->pae, 4, {D, N, N, h->n_pae_bin}},
	        {"pde_logits", r->pde, 4, {D, N, N, h->n_pde_bin}},
	        {"experimentally_resolved_logits", r->resolved, 3, {D, A, h->n_resolved_bin}},
	        {"distogram_logits", r->distogram, 3, {N, N, h->n_distogram_bin}},
	};
	for (size_t k = 0; rc == 0 && k < sizeof outs / sizeof *outs; k++) {
		int64_t n = 1;
		for (int i = 0; i < outs[k].ndim; i++)
			n *= outs[k].shape[i];
		rc = of3_bwriter_tensor_begin(w, outs[k].name, OF3_DTYPE_F32, outs[k].ndim,
		                              outs[k].shape);
		rc = rc ? rc : of3_bwriter_tensor_data(w, outs[k].data, (size_t)n * sizeof(float));
	}
	rc = rc ? rc : of3_bwriter_end(w);
	of3_bundle_free(hdr);
	return rc;
}

/* The draws of a --noise-replay bundle for D samples, T steps, A atoms. */
static int replay_source(of3_noise_src_t *src, const of3_bundle_t *r, const char *path, int64_t D,
                         int64_t T, int64_t A)
{
	int rc = OF3_OK;
	src->init = replay_tensor(r, path, "sample_noise_init", 3, (int64_t[]){D, A, 3}, &rc);
	src->quat = replay_tensor(r, path, "sample_aug_quat", 3, (int64_t[]){T, D, 4}, &rc);
	src->trans = replay_tensor(r, path, "sample_aug_trans", 3, (int64_t[]){T, D, 3}, &rc);
	src->noise = replay_tensor(r, path, "sample_noise_step", 4, (int64_t[]){T, D, A, 3}, &rc);
	return rc;
}

static void free_source(of3_noise_src_t *src)
{
	free((void *)src->init), free((void *)src->quat), free((void *)src->trans);
	free((void *)src->noise);
}

static int process(void *ctx, const of3_bundle_t *in, of3_bwriter_t *w, const of3_opts_t *o)
{
	diffuse_ctx_t *c = ctx;
	int rc = c->m ? OF3_OK : load(c);
	if (rc < 0)
		return rc;
	const model_t *m = c->m;
	of3_diffuse_inputs_t v;
	if ((rc = of3_diffuse_inputs_view(&v, in, m->mod.c_si, m->mod.c_s, m->mod.c_z)) < 0) {
		of3_diffuse_inputs_free(&v);
		return rc;
	}
	const int64_t N = v.n_tok, A = v.n_atom;
	int64_t D = c->opt.n_sample ? c->opt.n_sample : DEFAULT_SAMPLES;
	int64_t T = c->opt.n_step ? c->opt.n_step : DEFAULT_STEPS;
	of3_noise_src_t src = {.seed = o->seed};
	if (c->replay) { /* unless given, samples and steps are the recording's */
		const of3_tensor_t *q = of3_bundle_tensor(c->replay, "sample_aug_quat");
		if (q && q->ndim == 3) {
			T = c->opt.n_step ? T : q->shape[0];
			D = c->opt.n_sample ? D : q->shape[1];
		}
		rc = replay_source(&src, c->replay, c->opt.replay, D, T, A);
	}
	result_t r = {0};
	of3_heads_tables_t tab = {0};
	const of3_heads_w_t *h = &m->heads;
	const size_t n_cache = of3_diffusion_cache_size(&m->mod, N, A);
	size_t n_scratch = of3_sampler_scratch(&m->mod, N, A, D);
	if (of3_heads_scratch(h, N) > n_scratch)
		n_scratch = of3_heads_scratch(h, N);
	float *cache = NULL, *scratch = NULL;
	if (rc == 0) {
		cache = malloc(n_cache * sizeof *cache);
		scratch = malloc(n_scratch * sizeof *scratch);
		r.x = malloc((size_t)(D * A * 3) * sizeof *r.x);
		r.distogram = malloc((size_t)(N * N * h->n_distogram_bin) * sizeof(float));
		r.plddt = malloc((size_t)(D * A * h->n_plddt_bin) * sizeof(float));
		r.resolved = malloc((size_t)(D * A * h->n_resolved_bin) * sizeof(float));
		r.pde = malloc((size_t)(D * N * N * h->n_pde_bin) * sizeof(float));
		r.pae = malloc((size_t)(D * N * N * h->n_pae_bin) * sizeof(float));
		tab.rep_atom = malloc((size_t)(N + 1) * sizeof *tab.rep_atom);
		tab.rep_mask = malloc((size_t)(N + 1) * sizeof *tab.rep_mask);
		tab.pair_mask = malloc((size_t)(N * N + 1) * sizeof *tab.pair_mask);
		tab.atom_slot = malloc((size_t)(A + 1) * sizeof *tab.atom_slot);
		if (!cache || !scratch || !r.x || !r.distogram || !r.plddt || !r.resolved ||
		    !r.pde || !r.pae || !tab.rep_atom || !tab.rep_mask || !tab.pair_mask ||
		    !tab.atom_slot)
			rc = of3_err(OF3_ERR_NOMEM,
			             "query '%s': out of memory (%lld tokens, %lld atoms, %lld "
			             "samples: %.2f GiB of cache and scratch)",
			             in->query, (long long)N, (long long)A, (long long)D,
			             (double)(n_cache + n_scratch) * 4 / (1 << 30));
	}
	rc = rc ? rc : of3_heads_tables(&tab, &v.tok);
	of3_diffusion_in_t din = {.n_tok = N,
	                          .n_atom = A,
	                          .n_sample = D,
	                          .s_input = v.s_input,
	                          .s_trunk = v.s_trunk,
	                          .z_trunk = v.z_trunk,
	                          .f = v.f};
	of3_verbose("query '%s': %lld tokens, %lld atoms, %lld samples x %lld steps, noise %s",
	            in->query, (long long)N, (long long)A, (long long)D, (long long)T,
	            c->replay ? c->opt.replay : "Philox");
	rc = rc ? rc : of3_diffusion_prepare(cache, NULL, &din, &m->mod, scratch, &c->be);
	rc = rc ? rc
	        : of3_sample_diffusion(r.x, T, &din, &m->mod, cache, &src, NULL, progress,
	                               (void *)in->query, scratch, &c->be);
	for (int64_t i = 0; rc == 0 && i < D * A * 3; i++)
		if (!isfinite(r.x[i]))
			rc = of3_err(
			        OF3_ERR_RUNTIME,
			        "query '%s': sampling gave a non-finite coordinate (sample %lld, "
			        "atom %lld); nothing written",
			        in->query, (long long)(i / (A * 3)), (long long)(i / 3 % A));
	if (rc == 0) {
		const of3_heads_in_t hin = {.n_tok = N,
		                            .n_atom = A,
		                            .n_sample = D,
		                            .s_input = v.s_input,
		                            .s_trunk = v.s_trunk,
		                            .z_trunk = v.z_trunk,
		                            .x = r.x,
		                            .tab = tab};
		const of3_heads_out_t hout = {.distogram = r.distogram,
		                              .plddt = r.plddt,
		                              .resolved = r.resolved,
		                              .pde = r.pde,
		                              .pae = r.pae};
		of3_heads_forward(&hout, &hin, h, scratch, &c->be);
		of3_progress("query '%s': heads done, %.1f s", in->query, of3_elapsed_s());
		rc = write_result(w, in, &r, m, D, T, N, A, o, c->replay ? "replay" : "philox");
	}
	free(cache), free(scratch), free(r.x), free(r.distogram), free(r.plddt), free(r.resolved);
	free(r.pde), free(r.pae), free(tab.rep_atom), free(tab.rep_mask), free(tab.pair_mask);
	free(tab.atom_slot);
	free_source(&src);
	of3_diffuse_inputs_free(&v);
	return rc;
}

static int own_option(int c, const char *arg, void *ctx)
{
	diffuse_opts_t *d = ctx;
	switch (c) {
	case 'w': d->weights = arg; return 1;
	case OPT_SAMPLES:
		return of3_parse_int(arg, "--samples", 1, MAX_SAMPLES, &d->n_sample) < 0
		               ? OF3_ERR_USAGE
		               : 1;
	case OPT_STEPS:
		return of3_parse_int(arg, "--steps", 1, OF3_SAMPLER_MAX_STEPS, &d->n_step) < 0
		               ? OF3_ERR_USAGE
		               : 1;
	case OPT_REPLAY: d->replay = arg; return 1;
	}
	return 0;
}

/* Opens the backend (the CUDA one cannot run this stage yet) and reads a replay file. */
static int setup(diffuse_ctx_t *c, const of3_opts_t *o)
{
	int rc = of3_backend_open(&c->be, o->device, o->threads);
	if (rc < 0)
		return rc;
	if (!c->be.ops)
		return of3_err(OF3_ERR_RUNTIME, "the CUDA backend cannot run the diffusion yet "
		                                "(issue #10); use --device cpu");
	of3_verbose("running on %s", c->be.desc);
	if (o->precision == OF3_PRECISION_BF16)
		of3_verbose("the CPU backend computes in fp32 (--precision bf16 is for the CUDA "
		            "backend)");
	if (!c->opt.replay)
		return OF3_OK;
	of3_breader_t *rd = NULL;
	rc = of3_breader_open(&rd, c->opt.replay);
	rc = rc ? rc : of3_breader_next(rd, &c->replay);
	of3_breader_close(rd);
	if (rc == 0 && !c->replay)
		rc = of3_err(OF3_ERR_INPUT, "%s: no bundle in the file", c->opt.replay);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"weights", required_argument, NULL, 'w'},
	        {"samples", required_argument, NULL, OPT_SAMPLES},
	        {"steps", required_argument, NULL, OPT_STEPS},
	        {"noise-replay", required_argument, NULL, OPT_REPLAY},
	        OF3_COMPUTE_LONGOPTS,
	        OF3_IO_LONGOPTS,
	        {0}};
	diffuse_ctx_t ctx = {0};
	const char *input;
	of3_opts_t opts;
	of3_cli_t cli = {"w:" OF3_COMPUTE_SHORTOPTS OF3_IO_SHORTOPTS,
	                 longopts,
	                 usage,
	                 of3_backends_built(),
	                 own_option,
	                 &ctx.opt};
	int rc = of3_cli_parse(&cli, argc, argv, &opts, &input);
	if (rc >= 0)
		return rc;
	if (!ctx.opt.weights)
		return of3_report(of3_err(OF3_ERR_USAGE, "no weights: give -w FILE (see --help)"));
	rc = setup(&ctx, &opts);
	if (rc == 0) {
		of3_stage_t stage = {.input_kind = "trunk",
		                     .writes_bundles = 1,
		                     .process = process,
		                     .ctx = &ctx};
		rc = of3_stage_run(&stage, input, &opts);
	}
	if (ctx.m)
		free(ctx.m->wb.base);
	free(ctx.m);
	of3_bundle_free(ctx.replay);
	of3_backend_close(&ctx.be);
	return rc < 0 ? of3_report(rc) : 0;
}
