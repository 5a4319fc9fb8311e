/* of3-parse: query JSON to assembly bundles, one per query (spec/data.md §1-3). */
#include <stdio.h>

#include "../common/bundle.h"
#include "../common/cli.h"
#include "../common/log.h"
#include "json_file.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: of3-parse [options] [QUERY.json|-]\n\n"
	        "Reads an OpenFold3 query file ({\"queries\": {...}}) and writes one assembly "
	        "bundle\n"
	        "per query: chains, residues, atoms in CCD order, bonds, entity and chain ids.\n\n"
	        "Options:\n");
	of3_opts_help_io(f, 1);
	fprintf(f,
	        "\nExample:\n  of3-parse examples/query_ubiquitin.json | of3-featurize | ...\n\n");
	of3_opts_help_exit(f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {OF3_IO_LONGOPTS, {0}};
	const char *input;
	char libs[64];
	snprintf(libs, sizeof libs, "cJSON %s", cJSON_Version());
	of3_opts_t opts;
	of3_cli_t cli = {OF3_IO_SHORTOPTS, longopts, usage, libs, NULL, NULL};
	int rc = of3_cli_parse(&cli, argc, argv, &opts, &input);
	if (rc >= 0)
		return rc;
	of3_bwriter_t *w;
	if ((rc = of3_bwriter_open(&w, opts.output)) < 0)
		return of3_report(rc);
	cJSON *json = NULL;
	rc = of3_json_load(input, &json);
	/* TODO(#4): queries to assembly bundles. Until then valid JSON gets this error (status 1).
	 */
	if (rc == OF3_OK)
		rc = of3_err(OF3_ERR_RUNTIME,
		             "%s: turning queries into assembly bundles is not "
		             "implemented yet (issue #4); nothing written",
		             input);
	cJSON_Delete(json);
	of3_bwriter_abort(w);
	return of3_report(rc);
}
