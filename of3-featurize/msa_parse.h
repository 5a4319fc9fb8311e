/* msa_parse.h: reading one MSA file (A3M or Stockholm) into aligned letters and deletion
 * counts (spec/data.md §6.3).
 *
 * Both readers give the alignment in the query's columns: row 0 is the file's first sequence,
 * every row has n_cols letters, and del[r][c] counts the residues row r has in insertions just
 * before column c (trailing insertions are dropped), as OpenFold3's parse_a3m / parse_stockholm.
 * Letters are kept as written ('-' a gap; lower case only from Stockholm, where it later maps to
 * the unknown residue). Malformed input is OF3_ERR_INPUT with the label (file name) and line. */
#ifndef OF3_MSA_PARSE_H
#define OF3_MSA_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"

typedef struct {
	int64_t n_rows, n_cols;
	char *res;         /* [n_rows, n_cols] aligned letters (not NUL-terminated rows) */
	int32_t *del;      /* [n_rows, n_cols] deletion counts before each column */
	char *header_text; /* the rows' headers (A3M: text after '>'; Stockholm: names), each
	                      NUL-terminated, back to back */
	int64_t *header;   /* [n_rows] offset of each row's header in header_text */
} of3_msa_t;

/* A3M (HH-suite / ColabFold): '>' starts a record, lines starting with '#' and blank lines are
 * skipped, a record's sequence may span lines. Upper-case letters and '-' are columns; lower-case
 * letters are insertions, counted as the next column's deletions; '.' (a gap in an insertion
 * column) is dropped. Any other character, a sequence before the first header, an empty first
 * sequence, or a record whose column count differs from the first one is an error.
 * Keeps the first max_rows records (all are checked). text need not be NUL-terminated. */
int of3_msa_parse_a3m(const char *text, size_t n, const char *label, int64_t max_rows,
                      of3_msa_t *out) OF3_WUR;

/* Stockholm: blank lines and lines starting with '#' or '//' are skipped; every other line is
 * "name sequence" (exactly two fields), segments of a name concatenate. Columns where the first
 * sequence has '-' or '.' are removed; a row's residues in removed columns count as deletions of
 * the next kept column. Letters, '-' and '.' only; every sequence must be as long as the first.
 * Keeps the first max_rows names. */
int of3_msa_parse_sto(const char *text, size_t n, const char *label, int64_t max_rows,
                      of3_msa_t *out) OF3_WUR;

/* Reads a file and parses it by its extension (.a3m or .sto; anything else is an error).
 * A file that cannot be read is OF3_ERR_INPUT naming it (it was named by the query). */
int of3_msa_read(const char *path, int64_t max_rows, of3_msa_t *out) OF3_WUR;

/* The header of row r. */
static inline const char *of3_msa_header(const of3_msa_t *m, int64_t r)
{
	return m->header_text + m->header[r];
}

void of3_msa_free(of3_msa_t *m);

#endif
