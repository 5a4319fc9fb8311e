/* of3-featurize: assembly bundle to the model's input features (spec/data.md §4). */
#include <stdio.h>

#include "../common/cli.h"
#include "../common/log.h"
#include "../common/stage.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: of3-featurize [options] [FILE|-]\n\n"
	        "Turns each assembly bundle (from of3-parse) into a features bundle: every tensor\n"
	        "the OpenFold3 model reads (tokens, reference conformers, MSA, templates).\n\n"
	        "Options:\n");
	of3_opts_help_io(f, 1);
	fprintf(f, "\nExample:\n  of3-parse query.json | of3-featurize -o query.features\n\n");
	of3_opts_help_exit(f);
}

/* TODO(#5): the featurizer. Until then every input gets this error (exit status 1). */
static int process(void *ctx, const of3_bundle_t *in, of3_bwriter_t *w, const of3_opts_t *o)
{
	(void)ctx, (void)w, (void)o;
	return of3_err(OF3_ERR_RUNTIME,
	               "query '%s': of3-featurize is not implemented yet "
	               "(issue #5); nothing written",
	               in->query);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {OF3_IO_LONGOPTS, {0}};
	const char *input;
	of3_opts_t opts;
	of3_cli_t cli = {OF3_IO_SHORTOPTS, longopts, usage, NULL, NULL, NULL};
	int rc = of3_cli_parse(&cli, argc, argv, &opts, &input);
	if (rc >= 0)
		return rc;
	of3_stage_t stage = {.input_kind = "assembly", .writes_bundles = 1, .process = process};
	rc = of3_stage_run(&stage, input, &opts);
	return rc < 0 ? of3_report(rc) : 0;
}
