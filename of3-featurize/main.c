/* of3-featurize: assembly bundles to the model's input features (spec/data.md §4). */
#include <stdio.h>

#include "../common/cli.h"
#include "../common/log.h"
#include "../common/stage.h"
#include "cache.h"
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
	const char *cache = ctx;
	char key[OF3_CACHE_KEY_HEX];
	of3_bundle_t *out = NULL;
	int rc = cache ? of3_cache_key(in, o->seed, key) : OF3_OK;
	if (rc == OF3_OK && cache && of3_cache_load(cache, key, in->query, &out) == OF3_OK) {
		of3_verbose("query '%s': features from the cache (%s/%s.features)", in->query,
		            cache, key);
	} else if (rc == OF3_OK) {
		rc = of3_featurize(in, o->seed, &out);
		if (rc == OF3_OK)
			of3_verbose("query '%s': features ready (%.2f s)", in->query,
			            of3_elapsed_s());
		if (rc == OF3_OK && cache)
			rc = of3_cache_store(cache, key, out);
	}
	if (rc == OF3_OK)
		rc = of3_bwriter_bundle(w, out);
	of3_bundle_free(out);
	return rc;
}

enum { OPT_CACHE = 2000 };

static int own_option(int c, const char *arg, void *ctx)
{
	if (c != OPT_CACHE)
		return 0;
	*(const char **)ctx = arg;
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"seed", required_argument, NULL, 's'},
	                                         {"cache", required_argument, NULL, OPT_CACHE},
	                                         OF3_IO_LONGOPTS,
	                                         {0}};
	const char *input, *cache = NULL;
	of3_opts_t opts;
	of3_cli_t cli = {"s:" OF3_IO_SHORTOPTS, longopts, usage, NULL, own_option, &cache};
	int rc = of3_cli_parse(&cli, argc, argv, &opts, &input);
	if (rc >= 0)
		return rc;
	of3_stage_t stage = {.input_kind = "assembly",
	                     .writes_bundles = 1,
	                     .process = process,
	                     .ctx = (void *)cache};
	rc = of3_stage_run(&stage, input, &opts);
	return rc < 0 ? of3_report(rc) : 0;
}
