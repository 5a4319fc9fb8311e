/* of3-featurize: assembly bundles to the model's input features (spec/data.md §4). */
#include <stdio.h>

#include "../common/cli.h"
#include "../common/log.h"
#include "../common/stage.h"
#include "featurize.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: of3-featurize [options] [FILE|-]\n\n"
	        "Turns each assembly bundle (from of3-parse) into a features bundle: every tensor\n"
	        "the OpenFold3 model reads (tokens, reference conformers, MSAs, templates).\n"
	        "MSAs come from the files the query names (A3M, Stockholm); a protein or RNA "
	        "chain\n"
	        "without one gets its query sequence alone.\n\n"
	        "Options:\n"
	        "  -s, --seed N        seed of the reference conformers' random rotation and\n"
	        "                      translation (default 42)\n");
	of3_opts_help_io(f, 1);
	fprintf(f, "\nExample:\n  of3-parse query.json | of3-featurize -o query.features\n\n");
	of3_opts_help_exit(f);
}

static int process(void *ctx, const of3_bundle_t *in, of3_bwriter_t *w, const of3_opts_t *o)
{
	(void)ctx;
	of3_bundle_t *out;
	int rc = of3_featurize(in, o->seed, &out);
	if (rc < 0)
		return rc;
	of3_verbose("query '%s': features ready (%.2f s)", in->query, of3_elapsed_s());
	rc = of3_bwriter_bundle(w, out);
	of3_bundle_free(out);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"seed", required_argument, NULL, 's'}, OF3_IO_LONGOPTS, {0}};
	const char *input;
	of3_opts_t opts;
	of3_cli_t cli = {"s:" OF3_IO_SHORTOPTS, longopts, usage, NULL, NULL, NULL};
	int rc = of3_cli_parse(&cli, argc, argv, &opts, &input);
	if (rc >= 0)
		return rc;
	of3_stage_t stage = {.input_kind = "assembly", .writes_bundles = 1, .process = process};
	rc = of3_stage_run(&stage, input, &opts);
	return rc < 0 ? of3_report(rc) : 0;
}
