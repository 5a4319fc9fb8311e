/* of3-inspect: print what a bundle stream (docs/FORMAT.md) or a checkpoint holds. */
#include <stdio.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/log.h"
#include "../common/outfile.h"
#include "inspect.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: of3-inspect [options] [FILE|-]...\n\n"
	        "Prints each bundle's header and each tensor's name, dtype, shape, min, max, mean\n"
	        "and NaN count. Reads stdin when no FILE is given.\n\n"
	        "A FILE that is a PyTorch checkpoint (torch.save zip archive, e.g. of3_ft3_v1.pt)\n"
	        "is read as the pipeline reads weights: prints its layout (p1, p2, OpenBind or\n"
	        "unknown), where the weights were found (top level or EMA), the number of tensors\n"
	        "and parameters, and each key with dtype and shape. A malformed checkpoint exits "
	        "2\n"
	        "with the key or byte offset at fault.\n\n"
	        "Options:\n");
	of3_opts_help_io(f, 0);
	fprintf(f, "\nExamples:\n  of3-parse query.json | of3-featurize | of3-inspect\n"
	           "  of3-inspect of3_ft3_v1.pt\n\n");
	of3_opts_help_exit(f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {OF3_IO_LONGOPTS, {0}};
	of3_opts_t opts;
	of3_cli_t cli = {OF3_IO_SHORTOPTS, longopts, usage, NULL, NULL, NULL};
	int rc = of3_cli_parse(&cli, argc, argv, &opts, NULL);
	if (rc >= 0)
		return rc;
	const char *stdin_only[] = {"-"};
	const char *const *inputs = (const char *const *)argv + optind;
	int n_inputs = argc - optind;
	if (n_inputs == 0) {
		const char *path;
		if ((rc = of3_opts_input(argc, argv, &path)) < 0)
			return of3_report(rc);
		inputs = stdin_only;
		n_inputs = 1;
	}
	of3_outfile_t of;
	rc = of3_outfile_open(&of, opts.output, 0);
	FILE *out = rc < 0 ? NULL : of.fd == 1 ? stdout : fdopen(of.fd, "w");
	if (rc < 0)
		return of3_report(rc);
	for (int i = 0; rc == 0 && i < n_inputs; i++) {
		if (n_inputs > 1)
			fprintf(out, "== %s\n", inputs[i]);
		rc = of3_inspect(inputs[i], out);
	}
	if (fflush(out) != 0 && rc == 0)
		rc = of3_err(OF3_ERR_SYS, "writing %s", of.label);
	if (rc < 0) {
		of3_outfile_abort(&of);
		return of3_report(rc);
	}
	if (out != stdout) { /* fclose closes the descriptor; the commit renames */
		fclose(out);
		of.fd = -1;
	}
	rc = of3_outfile_commit(&of);
	return rc < 0 ? of3_report(rc) : 0;
}
