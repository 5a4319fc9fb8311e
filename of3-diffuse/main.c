/* of3-diffuse: diffusion sampling and the confidence heads: trunk bundle to atom coordinates. */
#include <stdio.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/log.h"
#include "../common/stage.h"
#include "../kernels/backend.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: of3-diffuse -w WEIGHTS [options] [FILE|-]\n\n"
	           "Samples atom coordinates with the diffusion module and runs the confidence "
	           "heads on\neach trunk bundle; writes a diffuse bundle (coordinates per sample, "
	           "confidences).\n\n"
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

/* TODO(#8): the stage itself. Until then every input gets this error (exit status 1). */
static int process(void *ctx, const of3_bundle_t *in, of3_bwriter_t *w, const of3_opts_t *o)
{
	(void)ctx, (void)w, (void)o;
	return of3_err(OF3_ERR_RUNTIME,
	               "query '%s': of3-diffuse is not implemented yet (issue #8); "
	               "nothing written",
	               in->query);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"weights", required_argument, NULL, 'w'},
	                                         OF3_COMPUTE_LONGOPTS,
	                                         OF3_IO_LONGOPTS,
	                                         {NULL, 0, NULL, 0}};
	const char *weights = NULL, *input;
	of3_opts_t opts;
	of3_set_progname(argv[0]);
	of3_opts_init(&opts);
	int c, rc;
	while ((c = getopt_long(argc, argv, "w:" OF3_COMPUTE_SHORTOPTS OF3_IO_SHORTOPTS, longopts,
	                        NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == OF3_OPT_VERSION) {
			of3_print_version(of3_backends_built());
			return 0;
		}
		if (c == 'w') {
			weights = optarg;
			continue;
		}
		if ((rc = of3_opts_parse(&opts, c, optarg)) < 0)
			return of3_report(rc);
		if (rc == 0) {
			usage(stderr);
			return 2;
		}
	}
	of3_log_init(opts.quiet, opts.verbose, opts.progress);
	if (!weights)
		return of3_report(of3_err(OF3_ERR_USAGE, "no weights: give -w FILE (see --help)"));
	if ((rc = of3_opts_input(argc, argv, &input)) < 0)
		return of3_report(rc);
	of3_backend_t be;
	if ((rc = of3_backend_open(&be, opts.device, opts.threads)) < 0)
		return of3_report(rc);
	of3_verbose("running on %s", be.desc);
	of3_stage_t stage = {
	        .input_kind = "trunk", .writes_bundles = 1, .process = process, .ctx = &be};
	rc = of3_stage_run(&stage, input, &opts);
	of3_backend_close(&be);
	return rc < 0 ? of3_report(rc) : 0;
}
