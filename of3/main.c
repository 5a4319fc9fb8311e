/* of3: the one command over the five pipeline programs; `of3 predict` is its subcommand. */
#include <stdio.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/error.h"
#include "predict.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: of3 <command> [options]\n\n"
	           "Commands:\n"
	           "  predict   query files to structures: runs of3-parse, of3-featurize, "
	           "of3-trunk,\n"
	           "            of3-diffuse and of3-writecif for every query and seed "
	           "(of3 predict --help)\n\n"
	           "Options:\n"
	           "  -h, --help      this help\n"
	           "      --version   version and libraries\n\n"
	           "Example:\n"
	           "  of3 predict -w of3_ft3_v1.pt -o out/ examples/query_ubiquitin.json\n");
}

int main(int argc, char **argv)
{
	of3_set_progname(argv[0]);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		of3_print_version(NULL);
		return 0;
	}
	if (!strcmp(cmd, "predict")) {
		/* the subcommand sees the program's own path as argv[0], so its messages say "of3"
		 */
		argv[1] = argv[0];
		return of3_predict_main(argc - 1, argv + 1);
	}
	of3_print_error("unknown command '%s' (of3 --help lists the commands)", cmd);
	return 2;
}
