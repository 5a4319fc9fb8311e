/* of3-writecif: diffuse bundle to mmCIF files, confidence JSON and a ranking (spec/data.md §8). */
#include <stdio.h>

#include "../common/cli.h"
#include "../common/log.h"
#include "../common/stage.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: of3-writecif -o DIR [options] [FILE|-]\n\n"
	        "Writes, for each diffuse bundle, one mmCIF file per sample, the confidence JSON\n"
	        "files and a ranking into DIR/<query>/.\n\n"
	        "Options:\n"
	        "  -o, --output DIR    output directory (required; created if missing)\n"
	        "  -q, --quiet         no progress or notes on stderr\n"
	        "  -v, --verbose       more detail on stderr\n"
	        "      --progress      progress on stderr even when it is not a terminal\n"
	        "  -h, --help          this help\n"
	        "      --version       version and libraries\n");
	fprintf(f, "\nExample:\n  of3-diffuse -w of3.pt query.trunk | of3-writecif -o out/\n\n");
	of3_opts_help_exit(f);
}

/* TODO(#9): the writer. Until then every input gets this error (exit status 1). */
static int process(void *ctx, const of3_bundle_t *in, of3_bwriter_t *w, const of3_opts_t *o)
{
	(void)ctx, (void)w, (void)o;
	return of3_err(OF3_ERR_RUNTIME,
	               "query '%s': of3-writecif is not implemented yet "
	               "(issue #9); nothing written",
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
	if (!opts.output)
		return of3_report(of3_err(OF3_ERR_USAGE, "no output directory: give -o DIR"));
	of3_stage_t stage = {.input_kind = "diffuse", .writes_bundles = 0, .process = process};
	rc = of3_stage_run(&stage, input, &opts);
	return rc < 0 ? of3_report(rc) : 0;
}
