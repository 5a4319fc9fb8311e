/* of3-parse: query JSON to assembly bundles, one per query (spec/data.md §1-3). */
#include <stdio.h>
#include <stdlib.h>

#include "../common/bundle.h"
#include "../common/cli.h"
#include "../common/log.h"
#include "assembly.h"
#include "ccd.h"
#include "json_file.h"
#include "query.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: of3-parse [options] [QUERY.json|-]\n\n"
	        "Reads a query file and writes one assembly bundle per query: every atom of every\n"
	        "chain in CCD order (hydrogens and leaving atoms removed as OpenFold3 removes "
	        "them),\n"
	        "bonds, entity, chain and symmetry ids, tokens. Accepts the OpenFold3 format\n"
	        "({\"queries\": {...}}) and the AlphaFold3 and AlphaFold Server JSON dialects\n"
	        "(docs/QUERY.md). A file with a bad query fails as a whole; nothing is written.\n\n"
	        "Options:\n"
	        "      --ccd FILE      a components.cif to use instead of the bundled Chemical\n"
	        "                      Component Dictionary (data/README.md says which that is)\n");
	of3_opts_help_io(f, 1);
	fprintf(f,
	        "\nExample:\n  of3-parse examples/query_ubiquitin.json | of3-featurize | ...\n\n");
	of3_opts_help_exit(f);
}

enum { OPT_CCD = 2000 };

static int own_option(int c, const char *arg, void *ctx)
{
	if (c != OPT_CCD)
		return 0;
	*(const char **)ctx = arg;
	return 1;
}

/* Builds every query first, so one bad query fails the file before anything is written. */
static int parse_file(const char *input, const char *ccd_path, of3_bwriter_t *w)
{
	cJSON *json = NULL;
	of3_query_set_t qs = {0};
	of3_ccd_t *ccd = NULL;
	of3_bundle_t **out = NULL;
	int rc = of3_json_load(input, &json);
	const char *label = input[0] == '-' && !input[1] ? "stdin" : input;
	rc = rc ? rc : of3_query_set_parse(json, label, &qs);
	rc = rc ? rc : of3_ccd_open(&ccd, ccd_path);
	if (rc == OF3_OK && !(out = calloc((size_t)qs.n_queries + 1, sizeof *out)))
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int i = 0; rc == OF3_OK && i < qs.n_queries; i++) {
		rc = of3_assembly_build(&qs.queries[i], ccd, &out[i]);
		if (rc < 0)
			of3_err_prefix(rc, "%s", label);
		else
			of3_verbose("query '%s': %d chains", qs.queries[i].name,
			            qs.queries[i].n_chains);
	}
	for (int i = 0; rc == OF3_OK && i < qs.n_queries; i++)
		rc = of3_bwriter_bundle(w, out[i]);
	for (int i = 0; out && i < qs.n_queries; i++)
		of3_bundle_free(out[i]);
	free(out);
	of3_ccd_close(ccd);
	of3_query_set_free(&qs);
	cJSON_Delete(json);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"ccd", required_argument, NULL, OPT_CCD}, OF3_IO_LONGOPTS, {0}};
	const char *input, *ccd_path = NULL;
	char libs[64];
	snprintf(libs, sizeof libs, "cJSON %s", cJSON_Version());
	of3_opts_t opts;
	of3_cli_t cli = {OF3_IO_SHORTOPTS, longopts, usage, libs, own_option, &ccd_path};
	int rc = of3_cli_parse(&cli, argc, argv, &opts, &input);
	if (rc >= 0)
		return rc;
	of3_bwriter_t *w;
	if ((rc = of3_bwriter_open(&w, opts.output)) < 0)
		return of3_report(rc);
	rc = parse_file(input, ccd_path, w);
	if (rc < 0) {
		of3_bwriter_abort(w);
		return of3_report(rc);
	}
	rc = of3_bwriter_close(w);
	return rc < 0 ? of3_report(rc) : 0;
}
