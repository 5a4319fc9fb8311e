/* cli.c: shared option parsing and help text. */
#include "cli.h"

#include <errno.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "log.h"
#include "version.h"

void of3_opts_init(of3_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->device = "auto";
	o->precision = OF3_PRECISION_BF16;
	o->seed = 42;
}

int of3_parse_int(const char *s, const char *opt, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno == ERANGE)
		return of3_err(OF3_ERR_USAGE, "%s: '%s' is not a whole number", opt, s);
	if (v < lo || v > hi)
		return of3_err(OF3_ERR_USAGE, "%s: %lld is outside %lld..%lld", opt, v, lo, hi);
	*out = v;
	return OF3_OK;
}

int of3_opts_parse(of3_opts_t *o, int c, const char *arg)
{
	long long v;
	switch (c) {
	case 'o': o->output = arg; return 1;
	case 'q': o->quiet = 1; return 1;
	case 'v': o->verbose = 1; return 1;
	case OF3_OPT_PROGRESS: o->progress = 1; return 1;
	case 't':
		if (of3_parse_int(arg, "--threads", 0, 4096, &v) < 0)
			return OF3_ERR_USAGE;
		o->threads = (int)v;
		return 1;
	case 's':
		if (of3_parse_int(arg, "--seed", 0, INT64_MAX, &v) < 0)
			return OF3_ERR_USAGE;
		o->seed = (uint64_t)v;
		o->seed_given = 1;
		return 1;
	case OF3_OPT_DEVICE:
		if (strcmp(arg, "auto") && strcmp(arg, "cpu") && strncmp(arg, "cuda", 4))
			return of3_err(OF3_ERR_USAGE,
			               "--device: '%s' is not auto, cpu, cuda or cuda:N", arg);
		o->device = arg;
		return 1;
	case OF3_OPT_PRECISION:
		if (strcmp(arg, "bf16") == 0)
			o->precision = OF3_PRECISION_BF16;
		else if (strcmp(arg, "fp32") == 0)
			o->precision = OF3_PRECISION_FP32;
		else
			return of3_err(OF3_ERR_USAGE, "--precision: '%s' is not bf16 or fp32", arg);
		return 1;
	}
	return 0;
}

void of3_opts_help_io(FILE *f, int binary_output)
{
	fprintf(f,
	        "  -o, --output FILE   write to FILE (default: stdout%s); FILE appears only when\n"
	        "                      complete\n",
	        binary_output ? ", never a terminal" : "");
	fprintf(f, "  -q, --quiet         no progress or notes on stderr\n"
	           "  -v, --verbose       more detail on stderr, and a closing summary\n"
	           "      --progress      progress on stderr even when it is not a terminal\n"
	           "  -h, --help          this help\n"
	           "      --version       version and libraries\n");
}

void of3_opts_help_compute(FILE *f)
{
	fprintf(f,
	        "  -t, --threads N     CPU threads (default 0: all cores)\n"
	        "      --device DEV    auto, cpu, cuda or cuda:N (default auto: the first GPU if\n"
	        "                      this build has CUDA and one is present, else cpu)\n"
	        "      --precision P   bf16 (default: bf16 tensor-core products, fp32 elsewhere) "
	        "or\n"
	        "                      fp32 (parity mode: fp32 everywhere, no TF32)\n"
	        "  -s, --seed N        random seed (default 42)\n");
}

void of3_opts_help_exit(FILE *f)
{
	fprintf(f, "Exit status: 0 success, 1 runtime failure (out of memory, unreadable weights, "
	           "stage\nnot available), 2 bad input or usage.\n");
}

int of3_opts_input(int argc, char **argv, const char **path)
{
	if (argc - optind > 1)
		return of3_err(OF3_ERR_USAGE, "one input at a time ('%s' and '%s' given)",
		               argv[optind], argv[optind + 1]);
	if (argc - optind == 1) {
		*path = argv[optind];
		return OF3_OK;
	}
	if (isatty(STDIN_FILENO))
		return of3_err(OF3_ERR_USAGE,
		               "no input: give a FILE, or pipe into stdin (see --help)");
	*path = "-";
	return OF3_OK;
}

void of3_print_version(const char *extra)
{
	printf("%s %s\n", of3_progname(), OF3_VERSION);
	printf("bundle format %d; msgpack-c %s\n", OF3_BUNDLE_VERSION, msgpack_version());
	if (extra)
		printf("%s\n", extra);
}

int of3_cli_parse(const of3_cli_t *cli, int argc, char **argv, of3_opts_t *o, const char **input)
{
	of3_set_progname(argv[0]);
	of3_opts_init(o);
	int c, rc;
	while ((c = getopt_long(argc, argv, cli->shortopts, cli->longopts, NULL)) != -1) {
		if (c == 'h') {
			cli->usage(stdout);
			return 0;
		}
		if (c == OF3_OPT_VERSION) {
			of3_print_version(cli->version_extra);
			return 0;
		}
		rc = cli->own ? cli->own(c, optarg, cli->ctx) : 0;
		if (rc == 0)
			rc = of3_opts_parse(o, c, optarg);
		if (rc < 0)
			return of3_report(rc);
		if (rc == 0) { /* getopt has said what was wrong */
			cli->usage(stderr);
			return 2;
		}
	}
	of3_log_init(o->quiet, o->verbose, o->progress);
	if (input && (rc = of3_opts_input(argc, argv, input)) < 0)
		return of3_report(rc);
	return -1;
}
