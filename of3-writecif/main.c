/* of3-writecif: diffuse bundle to mmCIF files, confidence JSON and a ranking (spec/data.md §8). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/log.h"
#include "../common/stage.h"
#include "writer.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: of3-writecif -o DIR [options] [FILE|-]\n\n"
	        "Writes, for each diffuse bundle, one mmCIF file per sample, the confidence JSON\n"
	        "files and a ranking into DIR/<query>/.\n\n"
	        "Options:\n"
	        "  -o, --output DIR    output directory (required; created if missing)\n"
	        "      --layout L      openfold3 (default): "
	        "<query>/seed_<S>/<query>_seed_<S>_sample_<k>_*\n"
	        "                      and <query>/ranking.csv; alphafold3: "
	        "<query>/seed-<S>_sample-<k>/,\n"
	        "                      ranking_scores.csv and the best sample at "
	        "<query>/<query>_*\n"
	        "      --pdb           also a PDB file beside each mmCIF file (same name, .pdb):\n"
	        "                      pLDDT in the B-factor column, residue names cut to 3\n"
	        "                      characters, hybrid-36 serials past 99999 atoms; a query\n"
	        "                      the format cannot hold (a chain id of 2 characters, a\n"
	        "                      coordinate past 9999.999) is refused before any file\n"
	        "  -q, --quiet         no progress or notes on stderr\n"
	        "  -v, --verbose       more detail on stderr\n"
	        "      --progress      progress on stderr even when it is not a terminal\n"
	        "  -h, --help          this help\n"
	        "      --version       version and libraries\n");
	fprintf(f, "\nExample:\n  of3-diffuse -w of3.pt query.trunk | of3-writecif -o out/\n\n");
	of3_opts_help_exit(f);
}

enum { OPT_LAYOUT = 2000, OPT_PDB };

static int own_option(int c, const char *arg, void *ctx)
{
	of3_wc_opts_t *wo = ctx;
	if (c == OPT_PDB) {
		wo->pdb = 1;
		return 1;
	}
	if (c != OPT_LAYOUT)
		return 0;
	if (!strcmp(arg, "openfold3"))
		wo->layout = OF3_LAYOUT_OPENFOLD3;
	else if (!strcmp(arg, "alphafold3"))
		wo->layout = OF3_LAYOUT_ALPHAFOLD3;
	else
		return of3_err(OF3_ERR_USAGE, "--layout: '%s' is neither openfold3 nor alphafold3",
		               arg);
	return 1;
}

static int process(void *ctx, const of3_bundle_t *in, of3_bwriter_t *w, const of3_opts_t *o)
{
	(void)w;
	of3_wc_query_t q;
	double best;
	int rc = of3_wc_query_load(&q, in);
	if (rc == OF3_OK)
		rc = of3_wc_write(&q, o->output, ctx, &best);
	if (rc == OF3_OK)
		of3_note("query '%s': %d samples of %d tokens, %d atoms written to %s/%s; best "
		         "ranking score %.4f",
		         q.name, q.n_sample, q.n_token, q.n_atom, o->output, q.name, best);
	of3_wc_query_free(&q);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {OF3_IO_LONGOPTS,
	                                         {"layout", required_argument, NULL, OPT_LAYOUT},
	                                         {"pdb", no_argument, NULL, OPT_PDB},
	                                         {0}};
	const char *input;
	of3_opts_t opts;
	of3_wc_opts_t wo = {OF3_LAYOUT_OPENFOLD3, 0};
	char libs[64];
	snprintf(libs, sizeof libs, "cJSON %s", cJSON_Version());
	of3_cli_t cli = {OF3_IO_SHORTOPTS, longopts, usage, libs, own_option, &wo};
	int rc = of3_cli_parse(&cli, argc, argv, &opts, &input);
	if (rc >= 0)
		return rc;
	if (!opts.output)
		return of3_report(of3_err(OF3_ERR_USAGE, "no output directory: give -o DIR"));
	of3_stage_t stage = {
	        .input_kind = "diffuse", .writes_bundles = 0, .process = process, .ctx = &wo};
	rc = of3_stage_run(&stage, input, &opts);
	return rc < 0 ? of3_report(rc) : 0;
}
