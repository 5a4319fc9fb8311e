/* of3-trunk: the trunk: features to single and pair representations after all recycles. */
#include <stdio.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/log.h"
#include "../common/stage.h"
#include "../kernels/backend.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: of3-trunk -w WEIGHTS [options] [FILE|-]\n\n"
	           "Runs the OpenFold3 trunk (input embedder, templates, MSA module, pairformer, "
	           "recycling)\non each features bundle and writes a trunk bundle (s_input, "
	           "s_trunk, z_trunk added).\n\n"
	           "Options:\n"
	           "  -w, --weights FILE  OpenFold3 checkpoint (of3_ft3_v1.pt), required\n");
	of3_opts_help_compute(f);
	of3_opts_help_io(f, 1);
	fprintf(f, "\nExample:\n"
	           "  of3-parse q.json | of3-featurize | of3-trunk -w of3.pt | of3-diffuse -w "
	           "of3.pt |\n"
	           "      of3-writecif -o out/\n\n");
	of3_opts_help_exit(f);
}

/* TODO(#7): the stage itself. Until then every input gets this error (exit status 1). */
static int process(void *ctx, const of3_bundle_t *in, of3_bwriter_t *w, const of3_opts_t *o)
{
	(void)ctx, (void)w, (void)o;
	return of3_err(OF3_ERR_RUNTIME,
	               "query '%s': of3-trunk is not implemented yet (issue #7); "
	               "nothing written",
	               in->query);
}

static int own_option(int c, const char *arg, void *ctx)
{
	if (c != 'w')
		return 0;
	*(const char **)ctx = arg;
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"weights", required_argument, NULL, 'w'},
	                                         OF3_COMPUTE_LONGOPTS,
	                                         OF3_IO_LONGOPTS,
	                                         {0}};
	const char *weights = NULL, *input;
	of3_opts_t opts;
	of3_cli_t cli = {"w:" OF3_COMPUTE_SHORTOPTS OF3_IO_SHORTOPTS,
	                 longopts,
	                 usage,
	                 of3_backends_built(),
	                 own_option,
	                 &weights};
	int rc = of3_cli_parse(&cli, argc, argv, &opts, &input);
	if (rc >= 0)
		return rc;
	if (!weights)
		return of3_report(of3_err(OF3_ERR_USAGE, "no weights: give -w FILE (see --help)"));
	of3_backend_t be;
	if ((rc = of3_backend_open(&be, opts.device, opts.threads)) < 0)
		return of3_report(rc);
	of3_verbose("running on %s", be.desc);
	of3_stage_t stage = {
	        .input_kind = "features", .writes_bundles = 1, .process = process, .ctx = &be};
	rc = of3_stage_run(&stage, input, &opts);
	of3_backend_close(&be);
	return rc < 0 ? of3_report(rc) : 0;
}
