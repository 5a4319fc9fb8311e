/* cli.h: the options every of3 program shares, parsed and documented once (STYLE.md 15-20).
 *
 * A program's long-option table is its own options followed by OF3_IO_LONGOPTS (and
 * OF3_COMPUTE_LONGOPTS for the GPU stages); its getopt loop hands every option it does not know
 * to of3_opts_parse(). Exit statuses: 0 success, 1 runtime failure, 2 bad input or usage. */
#ifndef OF3_CLI_H
#define OF3_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

typedef enum { OF3_PRECISION_BF16, OF3_PRECISION_FP32 } of3_precision_t;

typedef struct {
	const char *output; /* -o: NULL means stdout */
	int quiet, verbose, progress;
	int threads;        /* 0: all cores */
	const char *device; /* "auto", "cpu", "cuda", "cuda:N" */
	of3_precision_t precision;
	uint64_t seed;
	int seed_given;
} of3_opts_t;

enum { OF3_OPT_PROGRESS = 1000, OF3_OPT_VERSION, OF3_OPT_DEVICE, OF3_OPT_PRECISION };

/* clang-format off */
#define OF3_IO_SHORTOPTS "o:qvh"
#define OF3_IO_LONGOPTS                                        \
	{"output", required_argument, NULL, 'o'},              \
	{"quiet", no_argument, NULL, 'q'},                     \
	{"verbose", no_argument, NULL, 'v'},                   \
	{"progress", no_argument, NULL, OF3_OPT_PROGRESS},     \
	{"help", no_argument, NULL, 'h'},                      \
	{"version", no_argument, NULL, OF3_OPT_VERSION}
#define OF3_COMPUTE_SHORTOPTS "t:s:"
#define OF3_COMPUTE_LONGOPTS                                   \
	{"threads", required_argument, NULL, 't'},             \
	{"device", required_argument, NULL, OF3_OPT_DEVICE},   \
	{"precision", required_argument, NULL, OF3_OPT_PRECISION}, \
	{"seed", required_argument, NULL, 's'}
/* clang-format on */

/* A program's command line: the shared options plus its own. */
typedef struct {
	const char *shortopts;         /* its own short options followed by the shared ones */
	const struct option *longopts; /* likewise, ending with a zero entry */
	void (*usage)(FILE *f);
	const char *version_extra; /* extra --version lines (libraries, backends), or NULL */
	/* The program's own options: 1 if c was one, 0 if not, OF3_ERR_USAGE for a bad value.
	 * NULL when it has none. */
	int (*own)(int c, const char *arg, void *ctx);
	void *ctx;
} of3_cli_t;

/* Parses argv into o and the program's own options, starts logging, and resolves the one input
 * path into *input (skipped when input is NULL). Returns -1 to go on, or the exit status main()
 * returns at once: 0 after --help or --version, 2 after a usage error (already reported). */
int of3_cli_parse(const of3_cli_t *cli, int argc, char **argv, of3_opts_t *o, const char **input);

/* Defaults: stdout, progress when stderr is a terminal, all cores, device auto, bf16, seed 42. */
void of3_opts_init(of3_opts_t *o);

/* Handles one shared option. Returns 1 if c was a shared option, 0 if not, OF3_ERR_USAGE for a
 * bad value. -h and --version are left to the caller (they print and exit 0). */
int of3_opts_parse(of3_opts_t *o, int c, const char *arg);

/* Help text of the shared options, with their defaults. */
void of3_opts_help_io(FILE *f, int binary_output);
void of3_opts_help_compute(FILE *f);
void of3_opts_help_exit(FILE *f);

/* Parses a whole decimal integer in [lo, hi] for option `opt` (no atoi: "2OO" is an error). */
int of3_parse_int(const char *s, const char *opt, long long lo, long long hi,
                  long long *out) OF3_WUR;

/* The input path: the one positional argument, or "-" for stdin. With no argument a terminal
 * stdin is refused (the user forgot the input). More than one argument is a usage error. */
int of3_opts_input(int argc, char **argv, const char **path) OF3_WUR;

/* "<progname> <version>" and the libraries built in; extra (may be NULL) adds lines. */
void of3_print_version(const char *extra);

#endif
