/* msa_files.c: from the MSA paths a query names to the files read (spec/data.md §6.2,
 * OpenFold3's MsaSampleParserInference and parse_msas_direct). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "msa_files.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
	const char *stem;
	int64_t max_rows;
} known[] = {
        {"uniref90_hits", 10000},
        {"uniprot_hits", 50000},
        {"bfd_uniclust_hits", 10000000},
        {"bfd_uniref_hits", 10000000},
        {"cfdb_uniref30", 10000000},
        {"mgnify_hits", 5000},
        {"rfam_hits", 10000},
        {"rnacentral_hits", 10000},
        {"nt_hits", 10000},
        {"concat_cfdb_uniref100_filtered", 10000000},
        {"colabfold_main", 16384},
        {"colabfold_paired", 8192},
};

int64_t of3_msa_stem_max_rows(const char *stem)
{
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(known[i].stem, stem) == 0)
			return known[i].max_rows;
	return -1;
}

const char *of3_msa_known_stems(void)
{
	return "uniref90_hits, uniprot_hits, bfd_uniclust_hits, bfd_uniref_hits, cfdb_uniref30, "
	       "mgnify_hits, rfam_hits, rnacentral_hits, nt_hits, "
	       "concat_cfdb_uniref100_filtered, colabfold_main, colabfold_paired";
}

void of3_msa_files_free(of3_msa_file_t *files, int n_files)
{
	if (!files)
		return;
	for (int i = 0; i < n_files; i++) {
		free(files[i].stem);
		free(files[i].path);
		free(files[i].real);
	}
	free(files);
}

/* The extension of a file name (".a3m"), or "" */
static const char *ext_of(const char *name)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	const char *dot = strrchr(base, '.');
	return dot && dot != base ? dot : "";
}

typedef struct {
	of3_msa_file_t *v;
	int n, cap;
	int n_npz; /* .npz files seen (and refused or skipped) */
} list_t;

static int add(list_t *l, const char *path)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 8;
		of3_msa_file_t *v = realloc(l->v, (size_t)cap * sizeof *v);
		if (!v)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t stem_n = strlen(base) - strlen(ext_of(base));
	of3_msa_file_t *f = &l->v[l->n];
	f->stem = strndup(base, stem_n);
	f->path = strdup(path);
	f->real = realpath(path, NULL);
	if (!f->real)
		f->real = strdup(path);
	l->n++;
	if (!f->stem || !f->path || !f->real)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	return OF3_OK;
}

static int is_msa_ext(const char *ext)
{
	return strcmp(ext, ".a3m") == 0 || strcmp(ext, ".sto") == 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular .a3m/.sto files of known stem directly inside dir, in name order. */
static int add_dir(list_t *l, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return of3_err(OF3_ERR_INPUT, "MSA directory '%s' cannot be read: %s", dir,
		               strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = OF3_OK;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *ext = ext_of(e->d_name);
		if (strcmp(ext, ".npz") == 0)
			l->n_npz++;
		if (!is_msa_ext(ext))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			char **nn = realloc(names, cap * sizeof *nn);
			if (!nn) {
				rc = of3_err(OF3_ERR_NOMEM, "out of memory");
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(e->d_name))) {
			rc = of3_err(OF3_ERR_NOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == OF3_OK)
		qsort(names, n, sizeof *names, cmp_name);
	for (size_t i = 0; i < n && rc == OF3_OK; i++) {
		size_t len = strlen(dir) + strlen(names[i]) + 2;
		char *p = malloc(len);
		if (!p) {
			rc = of3_err(OF3_ERR_NOMEM, "out of memory");
			break;
		}
		snprintf(p, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
		struct stat st;
		char *stem = strndup(names[i], strlen(names[i]) - 4);
		if (!stem)
			rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		else if (stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		         of3_msa_stem_max_rows(stem) >= 0)
			rc = add(l, p);
		free(stem);
		free(p);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int cmp_stem(const void *a, const void *b)
{
	const of3_msa_file_t *x = a, *y = b;
	int c = strcmp(x->stem, y->stem);
	return c ? c : strcmp(x->path, y->path);
}

int of3_msa_files_expand(const char *const *paths, int n_paths, of3_msa_file_t **files,
                         int *n_files)
{
	*files = NULL;
	*n_files = 0;
	if (n_paths == 0)
		return OF3_OK;
	list_t l = {0};
	int rc = OF3_OK;
	for (int i = 0; i < n_paths && rc == OF3_OK; i++) {
		const char *p = paths[i];
		struct stat st;
		if (stat(p, &st) != 0) {
			rc = of3_err(OF3_ERR_INPUT, "MSA path '%s' cannot be read: %s", p,
			             strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			rc = add_dir(&l, p);
		} else if (strcmp(ext_of(p), ".npz") == 0) {
			rc = of3_err(OF3_ERR_INPUT,
			             "MSA file '%s': npz MSAs are not supported; give a3m or sto",
			             p);
		} else if (!is_msa_ext(ext_of(p))) {
			rc = of3_err(
			        OF3_ERR_INPUT,
			        "MSA file '%s': unknown MSA format (the name must end in .a3m or "
			        ".sto, or name a directory of such files)",
			        p);
		} else if (!S_ISREG(st.st_mode)) {
			rc = of3_err(OF3_ERR_INPUT, "MSA file '%s' is not a regular file", p);
		} else {
			rc = add(&l, p);
			if (rc == OF3_OK && of3_msa_stem_max_rows(l.v[l.n - 1].stem) < 0)
				rc = of3_err(
				        OF3_ERR_INPUT,
				        "MSA file '%s': OpenFold3 reads MSA files only by these "
				        "names (before .a3m or .sto): %s; rename the file",
				        p, of3_msa_known_stems());
		}
	}
	if (rc == OF3_OK && l.n == 0)
		rc = of3_err(OF3_ERR_INPUT,
		             "MSA path '%s'%s: no file to read: %s (OpenFold3 reads NAME.a3m or "
		             "NAME.sto files, NAME one of %s)",
		             paths[0], n_paths > 1 ? " and the others named with it" : "",
		             l.n_npz ? "npz MSAs are not supported; give a3m or sto"
		                     : "no MSA file of a known name",
		             of3_msa_known_stems());
	if (rc == OF3_OK) {
		qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_stem);
		for (int i = 1; i < l.n && rc == OF3_OK; i++)
			if (strcmp(l.v[i].stem, l.v[i - 1].stem) == 0 &&
			    strcmp(l.v[i].real, l.v[i - 1].real) != 0)
				rc = of3_err(OF3_ERR_INPUT,
				             "MSA files '%s' and '%s' have the same name stem '%s' "
				             "(one chain can have one file of each name)",
				             l.v[i - 1].path, l.v[i].path, l.v[i].stem);
	}
	if (rc == OF3_OK) {
		/* the same file named twice (a directory and a file in it) is read once */
		int w = 0;
		for (int i = 0; i < l.n; i++) {
			if (w > 0 && strcmp(l.v[i].real, l.v[w - 1].real) == 0) {
				free(l.v[i].stem);
				free(l.v[i].path);
				free(l.v[i].real);
				continue;
			}
			l.v[w++] = l.v[i];
		}
		l.n = w;
	}
	if (rc < 0) {
		of3_msa_files_free(l.v, l.n);
		return rc;
	}
	*files = l.v;
	*n_files = l.n;
	return OF3_OK;
}
