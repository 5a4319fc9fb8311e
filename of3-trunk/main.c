/* of3-trunk: the trunk: features to single and pair representations after all recycles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/checkpoint.h"
#include "../common/cli.h"
#include "../common/log.h"
#include "../common/stage.h"
#include "../kernels/backend.h"
#include "trunk.h"

enum { OPT_CYCLES = 2000 };

typedef struct {
	const char *weights;
	int n_cycles;
} trunk_opts_t;

typedef struct {
	of3_backend_t be;
	const char *weights;
	of3_trunk_t *trunk; /* bound at the first query, kept for the rest */
	of3_ckpt_layout_t layout;
	int n_cycles;
	const char *precision; /* what the products ran in, for the bundle: "fp32" or "bf16" */
} trunk_ctx_t;

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: of3-trunk -w WEIGHTS [options] [FILE|-]\n\n"
	        "Runs the OpenFold3 trunk (input embedder, templates, MSA module, pairformer, "
	        "recycling)\non each features bundle and writes a trunk bundle: the features "
	        "bundle's tensors and\nvalues plus s_input, s_trunk and z_trunk (float32).\n\n"
	        "Options:\n"
	        "  -w, --weights FILE  OpenFold3 checkpoint (of3_ft3_v1.pt, layout p1), required\n"
	        "      --cycles N      trunk cycles, num_recycles + 1 (default %d, the released\n"
	        "                      model's; the tiny test checkpoint was made with 3)\n",
	        OF3_TRUNK_CYCLES);
	of3_opts_help_compute(f);
	fprintf(f, "                      The CPU backend computes in fp32 only: --precision bf16 "
	           "runs fp32\n                      there (with a note). On CUDA the default bf16 "
	           "is within 1e-2\n                      (relative) of --precision fp32; the same "
	           "seed on the same card\n                      gives identical bytes.\n");
	of3_opts_help_io(f, 1);
	fprintf(f, "\nExample:\n"
	           "  of3-parse q.json | of3-featurize | of3-trunk -w of3.pt | of3-diffuse -w "
	           "of3.pt |\n"
	           "      of3-writecif -o out/\n\n");
	of3_opts_help_exit(f);
}

/* Binds the weights, once per process: at the first query, so that the output and the input's
 * kind are checked before a large checkpoint is read. */
static int load(trunk_ctx_t *c)
{
	of3_ckpt_t *ck = NULL;
	int rc = of3_ckpt_open(&ck, c->weights);
	if (rc < 0)
		return rc;
	c->layout = of3_ckpt_info(ck)->layout;
	of3_verbose("%s: layout %s, %lld tensors", c->weights, of3_ckpt_layout_name(c->layout),
	            (long long)of3_ckpt_info(ck)->n_tensors);
	rc = of3_trunk_load(&c->trunk, ck, &c->be);
	of3_ckpt_close(ck);
	if (rc == 0) {
		const of3_trunk_dims_t *d = of3_trunk_dims(c->trunk);
		of3_verbose("trunk: c_s %lld, c_z %lld, c_s_input %lld, %d pairformer blocks, %.1f "
		            "MiB of weights, %d cycles; loaded at %.2f s",
		            (long long)d->c_s, (long long)d->c_z, (long long)d->c_s_input,
		            d->n_pairformer_block, (double)d->n_weight_floats * 4 / (1 << 20),
		            c->n_cycles, of3_elapsed_s());
	}
	return rc;
}

static int process(void *ctx, const of3_bundle_t *in, of3_bwriter_t *w, const of3_opts_t *o)
{
	trunk_ctx_t *c = ctx;
	int rc = c->trunk ? OF3_OK : load(c);
	if (rc < 0)
		return rc;
	const of3_trunk_dims_t *d = of3_trunk_dims(c->trunk);
	const of3_tensor_t *tm = of3_bundle_tensor(in, "token_mask");
	const int64_t n = tm && tm->ndim == 1 ? tm->shape[0] : 0;
	const int64_t sh_in[2] = {n, d->c_s_input}, sh_s[2] = {n, d->c_s}, sh_z[3] = {n, n, d->c_z};
	of3_trunk_out_t out = {0};
	of3_bundle_t *hdr = NULL;
	for (int i = 0; i < in->n_tensors; i++)
		if (!strcmp(in->tensors[i].name, "s_input") ||
		    !strcmp(in->tensors[i].name, "s_trunk") ||
		    !strcmp(in->tensors[i].name, "z_trunk"))
			return of3_err(
			        OF3_ERR_INPUT,
			        "query '%s': the features bundle already holds '%s' (a trunk "
			        "bundle given twice?)",
			        in->query, in->tensors[i].name);
	if (n > 0) { /* page-locked on a GPU: the outputs come down at full speed */
		out.s_input =
		        of3_backend_host_alloc(&c->be, (size_t)(n * d->c_s_input) * sizeof(float));
		out.s_trunk = of3_backend_host_alloc(&c->be, (size_t)(n * d->c_s) * sizeof(float));
		out.z_trunk =
		        of3_backend_host_alloc(&c->be, (size_t)(n * n * d->c_z) * sizeof(float));
		if (!out.s_input || !out.s_trunk || !out.z_trunk) {
			rc = of3_err(OF3_ERR_NOMEM,
			             "query '%s': out of memory for the trunk outputs", in->query);
			goto done;
		}
	}
	if ((rc = of3_trunk_run(c->trunk, in, c->n_cycles, o->seed, &out, &c->be)) < 0)
		goto done;
	hdr = of3_bundle_init("trunk", in->query);
	if (!hdr) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto done;
	}
	rc = of3_bundle_meta_copy(hdr, in);
	rc = rc ? rc
	        : of3_bundle_meta_set_str(hdr, "checkpoint_layout",
	                                  of3_ckpt_layout_name(c->layout));
	rc = rc ? rc : of3_bundle_meta_set_int(hdr, "cycles", c->n_cycles);
	rc = rc ? rc : of3_bundle_meta_set_str(hdr, "trunk_precision", c->precision);
	rc = rc ? rc : of3_bwriter_begin(w, hdr);
	for (int i = 0; i < in->n_tensors && rc == 0; i++)
		rc = of3_bwriter_tensor(w, &in->tensors[i]);
	for (int i = 0; i < in->n_values && rc == 0; i++)
		rc = of3_bwriter_value(w, in->values[i].name, &in->values[i].value);
	rc = rc ? rc : of3_bwriter_tensor_begin(w, "s_input", OF3_DTYPE_F32, 2, sh_in);
	rc = rc ? rc : of3_bwriter_tensor_data(w, out.s_input, (size_t)(n * d->c_s_input) * 4);
	rc = rc ? rc : of3_bwriter_tensor_begin(w, "s_trunk", OF3_DTYPE_F32, 2, sh_s);
	rc = rc ? rc : of3_bwriter_tensor_data(w, out.s_trunk, (size_t)(n * d->c_s) * 4);
	rc = rc ? rc : of3_bwriter_tensor_begin(w, "z_trunk", OF3_DTYPE_F32, 3, sh_z);
	rc = rc ? rc : of3_bwriter_tensor_data(w, out.z_trunk, (size_t)(n * n * d->c_z) * 4);
	rc = rc ? rc : of3_bwriter_end(w);
	if (rc == 0)
		of3_verbose("query '%s': written at %.2f s", in->query, of3_elapsed_s());
done:
	of3_bundle_free(hdr);
	of3_backend_host_free(&c->be, out.s_input);
	of3_backend_host_free(&c->be, out.s_trunk);
	of3_backend_host_free(&c->be, out.z_trunk);
	return rc;
}

static int own_option(int c, const char *arg, void *ctx)
{
	trunk_opts_t *t = ctx;
	long long v;
	if (c == 'w') {
		t->weights = arg;
		return 1;
	}
	if (c != OPT_CYCLES)
		return 0;
	if (of3_parse_int(arg, "--cycles", 1, 100, &v) < 0)
		return OF3_ERR_USAGE;
	t->n_cycles = (int)v;
	return 1;
}

/* Opens the backend. The trunk opts in to the CUDA op table (issue #10): backend.c still hands
 * out none for CUDA until every program runs on it, so --device auto asks for a GPU here and
 * falls back to the CPU when none can be opened. */
static int setup(trunk_ctx_t *c, const of3_opts_t *o)
{
	int rc;
	c->precision = "fp32";
#ifdef OF3_WITH_CUDA
	if (strcmp(o->device, "auto") == 0 && of3_backend_open(&c->be, "cuda", o->threads) == 0) {
		rc = OF3_OK;
	} else {
		if (strcmp(o->device, "auto") == 0)
			of3_verbose("no GPU (%s): running on the CPU", of3_errmsg());
		rc = of3_backend_open(&c->be, o->device, o->threads);
	}
	if (rc == 0 && c->be.kind == OF3_BACKEND_CUDA) {
		c->be.ops = of3_ops_cuda();
		if (!c->be.ops)
			return of3_err(OF3_ERR_RUNTIME, "the CUDA backend has no op table");
		of3_backend_set_precision(&c->be, o->precision);
		of3_backend_warmup(&c->be, OF3_WARMUP_TRUNK);
		c->precision = o->precision == OF3_PRECISION_FP32 ? "fp32" : "bf16";
	}
#else
	rc = of3_backend_open(&c->be, o->device, o->threads);
#endif
	if (rc < 0)
		return rc;
	of3_verbose("running on %s, %s products (open at %.2f s)", c->be.desc, c->precision,
	            of3_elapsed_s());
	if (c->be.kind == OF3_BACKEND_CPU && o->precision == OF3_PRECISION_BF16)
		of3_note("the CPU backend computes in fp32 (--precision bf16 is for the CUDA "
		         "backend)");
	return OF3_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"weights", required_argument, NULL, 'w'},
	                                         {"cycles", required_argument, NULL, OPT_CYCLES},
	                                         OF3_COMPUTE_LONGOPTS,
	                                         OF3_IO_LONGOPTS,
	                                         {0}};
	trunk_opts_t topts = {NULL, OF3_TRUNK_CYCLES};
	const char *input;
	of3_opts_t opts;
	of3_cli_t cli = {"w:" OF3_COMPUTE_SHORTOPTS OF3_IO_SHORTOPTS,
	                 longopts,
	                 usage,
	                 of3_backends_built(),
	                 own_option,
	                 &topts};
	int rc = of3_cli_parse(&cli, argc, argv, &opts, &input);
	if (rc >= 0)
		return rc;
	if (!topts.weights)
		return of3_report(of3_err(OF3_ERR_USAGE, "no weights: give -w FILE (see --help)"));
	trunk_ctx_t ctx = {.weights = topts.weights, .n_cycles = topts.n_cycles};
	rc = setup(&ctx, &opts);
	if (rc == 0) {
		of3_stage_t stage = {.input_kind = "features",
		                     .writes_bundles = 1,
		                     .process = process,
		                     .ctx = &ctx};
		rc = of3_stage_run(&stage, input, &opts);
	}
	if (rc == 0)
		of3_backend_quick_exit(&ctx.be, 0);
	of3_trunk_free(ctx.trunk);
	of3_backend_close(&ctx.be);
	of3_verbose("backend closed at %.2f s", of3_elapsed_s());
	return rc < 0 ? of3_report(rc) : 0;
}
