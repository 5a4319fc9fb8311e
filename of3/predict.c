/* predict.c: `of3 predict`: preflight checks, the per-query and per-seed stage loop, timing.json,
 * the summary. */
#include "predict.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/bundle.h"
#include "../common/checkpoint.h"
#include "../common/cli.h"
#include "../common/log.h"
#include "../common/outfile.h"
#include "../common/version.h"
#include "seeds.h"
#include "spawn.h"

/* ST_DRIVER: a failure of the driver's own (a query name used twice, timing.json) */
enum { ST_PARSE, ST_FEATURIZE, ST_TRUNK, ST_DIFFUSE, ST_WRITECIF, N_STAGES, ST_DRIVER = N_STAGES };
static const char *const stage_name[N_STAGES + 1] = {"of3-parse",   "of3-featurize", "of3-trunk",
                                                     "of3-diffuse", "of3-writecif",  "of3"};

#define MAX_SEEDS 1000

typedef struct {
	const char *weights, *cache, *layout;
	/* passed on only when given, so each stage keeps its own default */
	const char *samples, *steps, *cycles, *device, *precision, *threads;
	uint64_t seeds[MAX_SEEDS];
	int n_seeds, seeds_count, seeds_list; /* --seeds N, --seed S,... */
	int keep, pdb;
	int child_progress; /* the driver shows progress, so the stages must too */
	of3_opts_t o;
	char bindir[PATH_MAX];
	char tmp[PATH_MAX];
} predict_t;

/* One row of the summary: a query, or a query file that did not parse. */
typedef struct {
	char *name;
	const char *file;
	int index;   /* query k of the run: names its intermediate files */
	int n_token; /* -1: unknown */
	int n_atom;
	double t[N_STAGES]; /* wall seconds, summed over seeds; t[ST_PARSE] is the file's */
	int ran[N_STAGES];
	int failed_stage; /* -1: none */
	int status;       /* failing exit status */
	char msg[512];
	int have_best;
	double best;
	uint64_t best_seed;
	int best_sample;
} row_t;

enum {
	OPT_SEEDS = 2000,
	OPT_SAMPLES,
	OPT_STEPS,
	OPT_CYCLES,
	OPT_CACHE,
	OPT_LAYOUT,
	OPT_KEEP,
	OPT_PDB,
};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: of3 predict -w WEIGHTS -o DIR [options] QUERY.json [QUERY.json ...]\n\n"
	        "Predicts the structure of every query in the query files: runs of3-parse,\n"
	        "of3-featurize, of3-trunk, of3-diffuse and of3-writecif (found next to of3) for "
	        "each\n"
	        "query and seed, and writes the mmCIF, confidence and ranking files into DIR in\n"
	        "OpenFold3's layout, with DIR/<query>/seed_<S>/timing.json. A failing query does "
	        "not\n"
	        "stop the others. Prints a summary per query (tokens, atoms, seconds per stage,\n"
	        "best ranking score) and \"N queries succeeded, M failed\" on stdout.\n\n"
	        "Options:\n"
	        "  -w, --weights FILE  OpenFold3 checkpoint (of3_ft3_v1.pt), required\n"
	        "  -o, --output DIR    output directory, required (created if missing)\n"
	        "      --seeds N       N model seeds, the ones OpenFold3's --num_model_seeds N "
	        "runs\n"
	        "                      (2746317213, 1181241943, ...; default: the one seed 42)\n"
	        "  -s, --seed S[,S..]  these seeds instead\n"
	        "      --samples N     diffusion samples per seed (default: of3-diffuse's, 5)\n"
	        "      --steps N       diffusion steps (default: of3-diffuse's, 200)\n"
	        "      --cycles N      trunk cycles, num_recycles + 1 (default: of3-trunk's, 4)\n"
	        "      --cache DIR     keep featurized queries in DIR and reuse them "
	        "(of3-featurize)\n"
	        "      --layout L      openfold3 (default) or alphafold3 (of3-writecif; no\n"
	        "                      timing.json in that layout)\n"
	        "      --pdb           also a PDB file beside each mmCIF file (of3-writecif)\n"
	        "  -t, --threads N     CPU threads for of3-trunk and of3-diffuse (default 0: all)\n"
	        "      --device DEV    auto, cpu, cuda or cuda:N (default: the stages' auto)\n"
	        "      --precision P   bf16 or fp32 (default: the stages' bf16)\n"
	        "      --keep-intermediates\n"
	        "                      keep the bundles passed between the stages (in\n"
	        "                      DIR/.of3-tmp.XXXXXX, named in the summary)\n"
	        "  -q, --quiet         no progress or notes on stderr (the summary still prints)\n"
	        "  -v, --verbose       more detail on stderr, from every stage\n"
	        "      --progress      progress on stderr even when it is not a terminal\n"
	        "  -h, --help          this help\n"
	        "      --version       version and libraries\n\n"
	        "timing.json holds {\"runtime_s\": ...}, as OpenFold3 writes it: the model's time "
	        "for\nthe seed (of3-trunk plus of3-diffuse), and each stage's seconds.\n\n"
	        "Example:\n"
	        "  of3 predict -w of3_ft3_v1.pt -o out/ --seeds 5 examples/query_ubiquitin.json\n\n"
	        "Exit status: 0 every query succeeded; 2 usage or preflight error (nothing run), "
	        "or\n"
	        "every failed query failed on bad input; 1 any query failed at run time.\n");
}

static int parse_seed_list(predict_t *p, const char *arg)
{
	char buf[64];
	const char *s = arg;
	p->n_seeds = 0;
	for (;;) {
		size_t n = strcspn(s, ",");
		long long v;
		if (n >= sizeof buf)
			return of3_err(OF3_ERR_USAGE, "--seed: '%.*s' is not a whole number",
			               (int)n, s);
		memcpy(buf, s, n);
		buf[n] = 0;
		if (of3_parse_int(buf, "--seed", 0, INT64_MAX, &v) < 0)
			return OF3_ERR_USAGE;
		if (p->n_seeds == MAX_SEEDS)
			return of3_err(OF3_ERR_USAGE, "--seed: more than %d seeds", MAX_SEEDS);
		p->seeds[p->n_seeds++] = (uint64_t)v;
		if (!s[n])
			break;
		s += n + 1;
	}
	p->seeds_list = 1;
	return OF3_OK;
}

static int own_option(int c, const char *arg, void *ctx)
{
	predict_t *p = ctx;
	of3_opts_t scratch;
	long long v;
	switch (c) {
	case 'w': p->weights = arg; return 1;
	case OPT_CACHE: p->cache = arg; return 1;
	case OPT_KEEP: p->keep = 1; return 1;
	case OPT_PDB: p->pdb = 1; return 1;
	case 's': return parse_seed_list(p, arg) < 0 ? OF3_ERR_USAGE : 1;
	case OPT_SEEDS:
		if (of3_parse_int(arg, "--seeds", 1, MAX_SEEDS, &v) < 0)
			return OF3_ERR_USAGE;
		p->seeds_count = (int)v;
		return 1;
	case OPT_SAMPLES:
		if (of3_parse_int(arg, "--samples", 1, 1000, &v) < 0)
			return OF3_ERR_USAGE;
		p->samples = arg;
		return 1;
	case OPT_STEPS:
		if (of3_parse_int(arg, "--steps", 1, 100000, &v) < 0)
			return OF3_ERR_USAGE;
		p->steps = arg;
		return 1;
	case OPT_CYCLES:
		if (of3_parse_int(arg, "--cycles", 1, 100, &v) < 0)
			return OF3_ERR_USAGE;
		p->cycles = arg;
		return 1;
	case OPT_LAYOUT:
		if (strcmp(arg, "openfold3") && strcmp(arg, "alphafold3"))
			return of3_err(OF3_ERR_USAGE,
			               "--layout: '%s' is neither openfold3 nor alphafold3", arg);
		p->layout = arg;
		return 1;
	case 't':
	case OF3_OPT_DEVICE:
	case OF3_OPT_PRECISION:
		/* checked as the stages check them, passed on as given */
		of3_opts_init(&scratch);
		if (of3_opts_parse(&scratch, c, arg) < 0)
			return OF3_ERR_USAGE;
		*(c == 't' ? &p->threads : c == OF3_OPT_DEVICE ? &p->device : &p->precision) = arg;
		return 1;
	}
	return 0;
}

/* ---- preflight: everything a run needs, checked before anything is written ---- */

static int find_stages(predict_t *p, const char *argv0)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0)
		self[n] = 0;
	else /* no /proc: the directory the program was run from */
		snprintf(self, sizeof self, "%s", strchr(argv0, '/') ? argv0 : "./of3");
	char *slash = strrchr(self, '/');
	*slash = 0;
	snprintf(p->bindir, sizeof p->bindir, "%s", self[0] ? self : "/");
	for (int s = 0; s < N_STAGES; s++) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof path, "%s/%s", p->bindir, stage_name[s]);
		if (access(path, X_OK) < 0)
			return of3_err(OF3_ERR_SYS,
			               "%s: not found beside of3 (build every program with make)",
			               path);
	}
	return OF3_OK;
}

static int check_query_file(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return of3_err(OF3_ERR_USAGE, "query file %s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return of3_err(OF3_ERR_USAGE, "query file %s: is a directory", path);
	if (access(path, R_OK) < 0)
		return of3_err(OF3_ERR_USAGE, "query file %s: %s", path, strerror(errno));
	return OF3_OK;
}

/* Opens the checkpoint as the stages will (its directory and pickle only), so that a missing,
 * damaged or unsupported file stops the run before any query. */
static int check_weights(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return of3_err(OF3_ERR_USAGE, "weights %s: %s", path, strerror(errno));
	of3_ckpt_t *ck = NULL;
	int rc = of3_ckpt_open(&ck, path);
	if (rc == OF3_OK)
		rc = of3_ckpt_require_layout(ck, OF3_CKPT_LAYOUT_P1);
	of3_ckpt_close(ck);
	return rc < 0 ? of3_err_prefix(OF3_ERR_USAGE, "weights") : OF3_OK;
}

static int make_dirs(const char *path)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return of3_err(OF3_ERR_USAGE, "output directory %s: path too long", path);
	for (char *s = buf + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		struct stat st;
		*s = 0;
		if (mkdir(buf, 0777) < 0 && errno != EEXIST)
			return of3_err(OF3_ERR_USAGE, "output directory %s: cannot create %s: %s",
			               path, buf, strerror(errno));
		if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
			return of3_err(OF3_ERR_USAGE,
			               "output directory %s: %s is in the way (not a directory)",
			               path, buf);
		*s = c;
		if (!c)
			break;
	}
	if (access(path, W_OK | X_OK) < 0)
		return of3_err(OF3_ERR_USAGE, "output directory %s: not writable: %s", path,
		               strerror(errno));
	return OF3_OK;
}

static void remove_tmp(predict_t *p)
{
	if (!p->tmp[0])
		return;
	DIR *d = opendir(p->tmp);
	struct dirent *e;
	char path[PATH_MAX + 256];
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof path, "%s/%s", p->tmp, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(p->tmp);
	p->tmp[0] = 0;
}

/* ---- running the stages ---- */

typedef struct {
	char *v[48];
	int n;
	char num[8][24];
	int n_num;
} args_t;

static void arg(args_t *a, const char *s)
{
	if (a->n < (int)(sizeof a->v / sizeof *a->v) - 1)
		a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

static void arg_opt(args_t *a, const char *flag, const char *value)
{
	if (value)
		arg(a, flag), arg(a, value);
}

static void arg_u64(args_t *a, const char *flag, uint64_t v)
{
	char *s = a->num[a->n_num++ % 8];
	snprintf(s, sizeof a->num[0], "%llu", (unsigned long long)v);
	arg(a, flag), arg(a, s);
}

/* The program's path and the verbosity flags every stage takes. */
static void arg_stage(args_t *a, const predict_t *p, int stage, char *path, size_t size)
{
	a->n = a->n_num = 0;
	snprintf(path, size, "%s/%s", p->bindir, stage_name[stage]);
	arg(a, path);
	if (p->o.quiet)
		arg(a, "-q");
	if (p->o.verbose)
		arg(a, "-v");
	if (p->child_progress)
		arg(a, "--progress");
}

/* Runs one stage for row r; 0 on success, -1 when the stage (or starting it) failed, with the
 * row marked. */
static int run_stage(row_t *r, int stage, args_t *a)
{
	of3_spawn_result_t res;
	of3_spawn_signals();
	int rc = of3_spawn(a->v, &res);
	r->ran[stage] = 1;
	if (rc < 0) {
		r->failed_stage = stage, r->status = 1;
		snprintf(r->msg, sizeof r->msg, "%s", of3_errmsg());
		of3_print_error("%s", of3_errmsg());
		return -1;
	}
	r->t[stage] += res.seconds;
	if (res.status == 0)
		return 0;
	r->failed_stage = stage, r->status = res.status;
	snprintf(r->msg, sizeof r->msg, "%s",
	         res.last[0]        ? res.last
	         : res.status > 128 ? "killed by a signal"
	                            : "no message");
	return -1;
}

static void tmp_path(char *out, size_t size, const predict_t *p, const row_t *r, uint64_t seed,
                     const char *ext)
{
	snprintf(out, size, "%s/q%d_s%llu.%s", p->tmp, r->index, (unsigned long long)seed, ext);
}

/* OpenFold3's timing.json (indent 4, as json.dumps writes it) plus our stages' seconds. */
static int write_timing(const predict_t *p, const row_t *r, uint64_t seed, const double t[])
{
	char path[PATH_MAX + 512], text[512];
	snprintf(path, sizeof path, "%s/%s/seed_%llu/timing.json", p->o.output, r->name,
	         (unsigned long long)seed);
	int n = snprintf(text, sizeof text,
	                 "{\n    \"runtime_s\": %.6f,\n    \"featurize_s\": %.6f,\n"
	                 "    \"trunk_s\": %.6f,\n    \"diffuse_s\": %.6f,\n"
	                 "    \"writecif_s\": %.6f\n}",
	                 t[ST_TRUNK] + t[ST_DIFFUSE], t[ST_FEATURIZE], t[ST_TRUNK], t[ST_DIFFUSE],
	                 t[ST_WRITECIF]);
	of3_outfile_t of;
	int rc = of3_outfile_open(&of, path, 0);
	rc = rc ? rc : of3_write_all(of.fd, text, (size_t)n, of.label);
	rc = rc ? rc : of3_outfile_commit(&of);
	if (rc < 0)
		of3_outfile_abort(&of);
	return rc;
}

/* The best ranking score of this run's seeds from the ranking file of3-writecif keeps per query
 * (it also holds rows of earlier runs' seeds, which are not this run's result). */
static void read_best(const predict_t *p, row_t *r)
{
	char path[PATH_MAX + 512], line[1024];
	int af3 = p->layout && !strcmp(p->layout, "alphafold3");
	snprintf(path, sizeof path, "%s/%s/%s", p->o.output, r->name,
	         af3 ? "ranking_scores.csv" : "ranking.csv");
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f)) {
		unsigned long long seed;
		int sample;
		double score;
		if (sscanf(line, "%llu,%d,%lf", &seed, &sample, &score) != 3 || score != score)
			continue;
		int ours = 0;
		for (int i = 0; i < p->n_seeds; i++)
			ours |= p->seeds[i] == seed;
		if (ours && (!r->have_best || score > r->best)) {
			r->have_best = 1, r->best = score;
			r->best_seed = seed, r->best_sample = sample;
		}
	}
	if (f)
		fclose(f);
}

static void run_query(const predict_t *p, row_t *r, const char *assembly, int q, int n_q)
{
	char prog[PATH_MAX + 32], feat[PATH_MAX + 64], trunk[PATH_MAX + 64], diff[PATH_MAX + 64];
	args_t a;
	for (int k = 0; k < p->n_seeds && !of3_interrupted(); k++) {
		uint64_t seed = p->seeds[k];
		double t0[N_STAGES];
		memcpy(t0, r->t, sizeof t0);
		tmp_path(feat, sizeof feat, p, r, seed, "features");
		tmp_path(trunk, sizeof trunk, p, r, seed, "trunk");
		tmp_path(diff, sizeof diff, p, r, seed, "diffuse");
		for (int st = ST_FEATURIZE; st < N_STAGES; st++) {
			of3_progress("query '%s' (%d/%d), seed %llu (%d/%d): %s", r->name, q + 1,
			             n_q, (unsigned long long)seed, k + 1, p->n_seeds,
			             stage_name[st]);
			arg_stage(&a, p, st, prog, sizeof prog);
			switch (st) {
			case ST_FEATURIZE:
				arg_u64(&a, "--seed", seed);
				arg_opt(&a, "--cache", p->cache);
				arg(&a, assembly), arg(&a, "-o"), arg(&a, feat);
				break;
			case ST_TRUNK:
			case ST_DIFFUSE:
				arg(&a, "-w"), arg(&a, p->weights);
				arg_u64(&a, "--seed", seed);
				if (st == ST_TRUNK) {
					arg_opt(&a, "--cycles", p->cycles);
				} else {
					arg_opt(&a, "--samples", p->samples);
					arg_opt(&a, "--steps", p->steps);
				}
				arg_opt(&a, "--device", p->device);
				arg_opt(&a, "--precision", p->precision);
				arg_opt(&a, "--threads", p->threads);
				arg(&a, st == ST_TRUNK ? feat : trunk);
				arg(&a, "-o"), arg(&a, st == ST_TRUNK ? trunk : diff);
				break;
			case ST_WRITECIF:
				arg(&a, "-o"), arg(&a, p->o.output);
				arg_opt(&a, "--layout", p->layout);
				if (p->pdb)
					arg(&a, "--pdb");
				arg(&a, diff);
				break;
			}
			if (run_stage(r, st, &a) < 0)
				break;
			of3_progress("query '%s', seed %llu: %s done in %.2f s", r->name,
			             (unsigned long long)seed, stage_name[st], r->t[st] - t0[st]);
		}
		if (!p->keep)
			unlink(feat), unlink(trunk), unlink(diff);
		if (r->failed_stage >= 0)
			return;
		double t[N_STAGES];
		for (int st = 0; st < N_STAGES; st++)
			t[st] = r->t[st] - t0[st];
		if ((!p->layout || !strcmp(p->layout, "openfold3")) &&
		    write_timing(p, r, seed, t) < 0) {
			r->failed_stage = ST_DRIVER, r->status = 1;
			snprintf(r->msg, sizeof r->msg, "%s", of3_errmsg());
			of3_print_error("%s", of3_errmsg());
			return;
		}
	}
	if (of3_interrupted() && r->failed_stage < 0) {
		r->failed_stage = ST_DRIVER, r->status = 128 + of3_interrupted();
		snprintf(r->msg, sizeof r->msg, "interrupted");
		return;
	}
	read_best(p, r);
}

/* ---- the summary ---- */

static void print_time(const row_t *r, int st)
{
	if (r->ran[st])
		printf(" %9.2f s", r->t[st]);
	else
		printf(" %11s", "-");
}

static void summary(const predict_t *p, const row_t *rows, int n_rows, int n_ok)
{
	int w = 5;
	for (int i = 0; i < n_rows; i++)
		if ((int)strlen(rows[i].name) > w)
			w = (int)strlen(rows[i].name);
	printf("\n%-*s %6s %7s %11s %11s %11s %11s  %s\n", w, "query", "tokens", "atoms",
	       "featurize", "trunk", "diffuse", "writecif", "best ranking score");
	for (int i = 0; i < n_rows; i++) {
		const row_t *r = &rows[i];
		printf("%-*s", w, r->name);
		if (r->n_token >= 0)
			printf(" %6d %7d", r->n_token, r->n_atom);
		else
			printf(" %6s %7s", "-", "-");
		for (int st = ST_FEATURIZE; st < N_STAGES; st++)
			print_time(r, st);
		if (r->failed_stage == ST_DRIVER)
			printf("  failed: %s\n", r->msg);
		else if (r->failed_stage >= 0)
			printf("  failed at %s (exit %d): %s\n", stage_name[r->failed_stage],
			       r->status, r->msg);
		else if (r->have_best)
			printf("  %.4f (seed %llu, sample %d)\n", r->best,
			       (unsigned long long)r->best_seed, r->best_sample);
		else
			printf("  -\n");
	}
	printf("(seconds summed over %d seed%s; parsing:", p->n_seeds, p->n_seeds == 1 ? "" : "s");
	const char *file = NULL;
	for (int i = 0; i < n_rows; i++)
		if (rows[i].file != file && rows[i].ran[ST_PARSE]) {
			file = rows[i].file;
			printf(" %s %.2f s", file, rows[i].t[ST_PARSE]);
		}
	printf(")\n");
	if (p->keep)
		printf("intermediate bundles kept in %s\n", p->tmp);
	printf("%d quer%s succeeded, %d failed\n", n_ok, n_ok == 1 ? "y" : "ies", n_rows - n_ok);
}

/* ---- the run ---- */

static row_t *new_row(row_t **rows, int *n, int *cap)
{
	if (*n == *cap) {
		row_t *g = realloc(*rows, (size_t)(*cap = *cap * 2 + 8) * sizeof **rows);
		if (!g)
			return NULL;
		*rows = g;
	}
	row_t *r = &(*rows)[(*n)++];
	memset(r, 0, sizeof *r);
	r->failed_stage = -1;
	r->n_token = r->n_atom = -1;
	return r;
}

static int meta_int(const of3_bundle_t *b, const char *key)
{
	const msgpack_object *v = of3_bundle_meta(b, key);
	return v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int)v->via.u64 : -1;
}

/* Parses one query file and splits its assembly stream into one file per query, so that each
 * query runs (and fails) on its own. Adds the file's rows; returns the first new row's index. */
static int parse_file(predict_t *p, const char *file, int fi, row_t **rows, int *n_rows, int *cap,
                      int *n_queries)
{
	char prog[PATH_MAX + 32], asm_all[PATH_MAX + 32], path[PATH_MAX + 64];
	int first = *n_rows;
	args_t a;
	row_t *r = new_row(rows, n_rows, cap);
	if (!r)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	r->name = strdup(file);
	r->file = file;
	snprintf(asm_all, sizeof asm_all, "%s/f%d.assembly", p->tmp, fi);
	of3_progress("%s: of3-parse", file);
	arg_stage(&a, p, ST_PARSE, prog, sizeof prog);
	arg(&a, file), arg(&a, "-o"), arg(&a, asm_all);
	if (run_stage(r, ST_PARSE, &a) < 0)
		return first;
	double t_parse = r->t[ST_PARSE];
	(*n_rows)--; /* the file's row becomes its queries' rows */
	free(r->name);
	of3_breader_t *br = NULL;
	of3_bundle_t *b = NULL;
	int rc = of3_breader_open(&br, asm_all);
	while (rc == OF3_OK && (rc = of3_breader_next(br, &b)) == OF3_OK) {
		r = new_row(rows, n_rows, cap);
		if (!r) {
			rc = of3_err(OF3_ERR_NOMEM, "out of memory");
			break;
		}
		r->name = strdup(b->query);
		r->file = file;
		r->index = (*n_queries)++;
		r->n_token = meta_int(b, "n_token");
		r->n_atom = meta_int(b, "n_atom");
		r->ran[ST_PARSE] = 1;
		r->t[ST_PARSE] = t_parse;
		for (int i = 0; i < *n_rows - 1; i++)
			if ((*rows)[i].n_token >= 0 && !strcmp((*rows)[i].name, r->name)) {
				r->failed_stage = ST_DRIVER, r->status = 2;
				snprintf(r->msg, sizeof r->msg,
				         "query name '%s' is also in %s: the two would write the "
				         "same files",
				         r->name, (*rows)[i].file);
				of3_print_error("%s: %s", file, r->msg);
				break;
			}
		snprintf(path, sizeof path, "%s/q%d.assembly", p->tmp, r->index);
		of3_bwriter_t *w = NULL;
		rc = of3_bwriter_open(&w, path);
		rc = rc ? rc : of3_bwriter_bundle(w, b);
		if (rc == OF3_OK)
			rc = of3_bwriter_close(w);
		else if (w)
			of3_bwriter_abort(w);
		of3_bundle_free(b);
		b = NULL;
	}
	of3_breader_close(br);
	unlink(asm_all);
	of3_progress("%s: of3-parse done in %.2f s, %d quer%s", file, t_parse, *n_rows - first,
	             *n_rows - first == 1 ? "y" : "ies");
	return rc == OF3_END ? first : rc;
}

int of3_predict_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"weights", required_argument, NULL, 'w'},
	        {"seeds", required_argument, NULL, OPT_SEEDS},
	        {"samples", required_argument, NULL, OPT_SAMPLES},
	        {"steps", required_argument, NULL, OPT_STEPS},
	        {"cycles", required_argument, NULL, OPT_CYCLES},
	        {"cache", required_argument, NULL, OPT_CACHE},
	        {"layout", required_argument, NULL, OPT_LAYOUT},
	        {"keep-intermediates", no_argument, NULL, OPT_KEEP},
	        {"pdb", no_argument, NULL, OPT_PDB},
	        OF3_COMPUTE_LONGOPTS,
	        OF3_IO_LONGOPTS,
	        {0}};
	static predict_t p; /* large (paths, seeds): not on the stack */
	memset(&p, 0, sizeof p);
	of3_cli_t cli = {
	        "w:" OF3_COMPUTE_SHORTOPTS OF3_IO_SHORTOPTS, longopts, usage, NULL, own_option, &p};
	int rc = of3_cli_parse(&cli, argc, argv, &p.o, NULL);
	if (rc >= 0)
		return rc;
	p.child_progress = !p.o.quiet && (p.o.progress || isatty(STDERR_FILENO));
	if (optind >= argc)
		return of3_report(of3_err(OF3_ERR_USAGE, "no query file (see --help)"));
	if (!p.weights)
		return of3_report(of3_err(OF3_ERR_USAGE, "no weights: give -w FILE (see --help)"));
	if (!p.o.output)
		return of3_report(of3_err(OF3_ERR_USAGE, "no output directory: give -o DIR"));
	if (p.seeds_count && p.seeds_list)
		return of3_report(of3_err(OF3_ERR_USAGE, "give --seeds N or --seed S, not both"));
	if (p.seeds_count) {
		p.n_seeds = p.seeds_count;
		of3_model_seeds(p.n_seeds, p.seeds);
	} else if (!p.seeds_list) {
		p.n_seeds = 1;
		p.seeds[0] = OF3_DEFAULT_SEED;
	}
	if ((rc = find_stages(&p, argv[0])) < 0)
		return of3_report(rc);
	for (int i = optind; i < argc; i++)
		if ((rc = check_query_file(argv[i])) < 0)
			return of3_report(rc);
	if ((rc = check_weights(p.weights)) < 0 || (rc = make_dirs(p.o.output)) < 0)
		return of3_report(rc);
	snprintf(p.tmp, sizeof p.tmp, "%s/.of3-tmp.XXXXXX", p.o.output);
	if (!mkdtemp(p.tmp)) {
		p.tmp[0] = 0;
		return of3_report(
		        of3_err(OF3_ERR_SYS, "cannot make a temporary folder in %s", p.o.output));
	}
	of3_spawn_signals();
	of3_verbose("stages from %s, seeds %llu%s, intermediates in %s", p.bindir,
	            (unsigned long long)p.seeds[0], p.n_seeds > 1 ? ", ..." : "", p.tmp);

	row_t *rows = NULL;
	int n_rows = 0, cap = 0, n_queries = 0;
	for (int i = optind; i < argc && rc == OF3_OK && !of3_interrupted(); i++) {
		int first = parse_file(&p, argv[i], i - optind, &rows, &n_rows, &cap, &n_queries);
		if (first < 0) {
			rc = first;
			break;
		}
		for (int j = first; j < n_rows && !of3_interrupted(); j++) {
			row_t *r = &rows[j];
			char asm_path[PATH_MAX + 64];
			snprintf(asm_path, sizeof asm_path, "%s/q%d.assembly", p.tmp, r->index);
			if (r->failed_stage < 0)
				run_query(&p, r, asm_path, j - first, n_rows - first);
			if (!p.keep)
				unlink(asm_path);
		}
	}
	int n_ok = 0, any_runtime = 0;
	for (int i = 0; i < n_rows; i++) {
		n_ok += rows[i].failed_stage < 0;
		any_runtime |= rows[i].failed_stage >= 0 && rows[i].status != 2;
	}
	if (rc == OF3_OK && !of3_interrupted())
		summary(&p, rows, n_rows, n_ok);
	if (!p.keep)
		remove_tmp(&p);
	for (int i = 0; i < n_rows; i++)
		free(rows[i].name);
	free(rows);
	if (of3_interrupted()) {
		int sig = of3_interrupted();
		signal(sig, SIG_DFL);
		raise(sig);
		return 128 + sig;
	}
	if (rc < 0)
		return of3_report(rc);
	return n_ok == n_rows ? 0 : any_runtime ? 1 : 2;
}
