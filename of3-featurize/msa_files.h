/* msa_files.h: which MSA files a chain's paths stand for (spec/data.md §6.2).
 *
 * A path is an .a3m or .sto file, or a directory whose regular .a3m/.sto files directly inside
 * are taken. Only files whose name stem OpenFold3 knows are read (of3_msa_stem_max_rows), each
 * keeping at most that many rows. Files in a directory with other names are skipped, as in
 * OpenFold3; a file named explicitly with an unknown stem, an .npz file, a missing path, two
 * files with the same stem, or paths that leave no file to read are OF3_ERR_INPUT. */
#ifndef OF3_MSA_FILES_H
#define OF3_MSA_FILES_H

#include <stdint.h>

#include "../common/error.h"

typedef struct {
	char *stem; /* file name without its extension: "uniref90_hits" */
	char *path; /* as named, or directory/name */
	char *real; /* canonical path (realpath) */
} of3_msa_file_t;

/* Row limit of an MSA file stem (OpenFold3's MSASettings.max_seq_counts), or -1 when files of
 * that name are not read. */
int64_t of3_msa_stem_max_rows(const char *stem);

/* The files n_paths paths stand for, sorted by stem. *files is NULL and *n_files 0 when
 * n_paths is 0. Free with of3_msa_files_free. */
int of3_msa_files_expand(const char *const *paths, int n_paths, of3_msa_file_t **files,
                         int *n_files) OF3_WUR;
void of3_msa_files_free(of3_msa_file_t *files, int n_files);

/* The names of3_msa_stem_max_rows knows, comma-separated (for messages). */
const char *of3_msa_known_stems(void);

#endif
