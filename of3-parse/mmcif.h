/* mmcif.h: reading mmCIF text (CIF 1.1 syntax, as wwPDB writes components.cif).
 *
 * Data blocks (data_NAME), loop_ tables and single key-value items (_category.item value; the
 * items of one category form a table of one row), values unquoted, in '...' or "..." (CIF's rule:
 * a quote closes the value only when whitespace or the line's end follows it, so 'N,N'-dimethyl'
 * is one value) or in semicolon text fields (a line starting with ';' up to the next such line),
 * comments (#), and '?' (unknown) and '.' (inapplicable) as missing values.
 *
 * Works on a memory buffer (the caller reads or mmaps the file); values point into that buffer
 * and nothing is copied. A large file is used a block at a time: of3_cif_index() finds the blocks
 * without parsing them, of3_cif_parse_block() parses the one asked for.
 *
 * Not supported (OF3_ERR_INPUT when met): save frames, global_ and stop_, and CIF 2.0 syntax
 * (triple-quoted strings, lists, tables). Malformed text is OF3_ERR_INPUT "<label>:<line>: ...". */
#ifndef OF3_MMCIF_H
#define OF3_MMCIF_H

#include <stddef.h>

#include "../common/error.h"

enum { OF3_CIF_PRESENT, OF3_CIF_UNKNOWN /* unquoted ? */, OF3_CIF_INAPPLICABLE /* unquoted . */ };

typedef struct {
	const char *s; /* the value, not NUL-terminated; without its quotes or text-field ';' */
	int len;       /* bytes */
	int line;      /* 1-based line of the file where the value starts */
	int state;     /* OF3_CIF_PRESENT, OF3_CIF_UNKNOWN or OF3_CIF_INAPPLICABLE */
} of3_cif_value_t;

typedef struct {
	const char *s; /* not NUL-terminated */
	int len;
} of3_cif_name_t;

typedef struct {
	of3_cif_name_t category; /* "chem_comp_atom" (the tag's part before '.', no '_') */
	int line;                /* line of its loop_ or of its first item */
	int looped;              /* from a loop_ (else key-value items, one row) */
	int n_cols, n_rows;
	of3_cif_name_t *items;   /* [n_cols]: "atom_id" (the tag's part after '.') */
	of3_cif_value_t *values; /* [n_rows, n_cols], row-major */
	int m_cols;              /* capacities (private) */
	size_t m_values;
} of3_cif_table_t;

typedef struct {
	of3_cif_name_t name; /* the block code: "ALA" for data_ALA */
	int line;            /* line of the data_ header */
	int n_tables, m_tables;
	of3_cif_table_t *tables;
} of3_cif_block_t;

/* Where one data block lies in a text: [begin, end) bytes, from its data_ line (inclusive) to the
 * next block's data_ line. */
typedef struct {
	of3_cif_name_t name;
	size_t begin, end;
	int line; /* line of the data_ header */
} of3_cif_span_t;

/* Finds the data blocks of text[0, len): lines that start with data_ (leading blanks allowed)
 * outside semicolon text fields. Only blank and comment lines may come before the first block.
 * *spans (free with free()) lists the *n_spans blocks in text order. OF3_ERR_INPUT naming the
 * line for text before the first block, an unterminated text field, or no block at all. */
int of3_cif_index(const char *text, size_t len, const char *label, of3_cif_span_t **spans,
                  int *n_spans) OF3_WUR;

/* Parses the one data block in text[0, len), which starts at a line start (line number
 * first_line of the file; messages say "<label>:<line>: ..."): optional blank and comment lines,
 * the data_ header, then its items and loops. A second data_ header in the text is an error, so
 * pass one span from of3_cif_index(). Fills *block (free its arrays with of3_cif_block_free(); the
 * values point into text, which must outlive the block). */
int of3_cif_parse_block(const char *text, size_t len, int first_line, const char *label,
                        of3_cif_block_t *block) OF3_WUR;
void of3_cif_block_free(of3_cif_block_t *block);

/* The table of a category ("chem_comp_atom"), or NULL. */
const of3_cif_table_t *of3_cif_table(const of3_cif_block_t *block, const char *category);
/* The column of an item ("atom_id") in a table, or -1. */
int of3_cif_column(const of3_cif_table_t *table, const char *item);
/* The value at (row, col); col -1 (an absent column) gives an OF3_CIF_UNKNOWN value on the row's
 * first value's line. */
of3_cif_value_t of3_cif_value(const of3_cif_table_t *table, int row, int col);
/* 1 when the value is present and equals s (ASCII case-insensitive when nocase). */
int of3_cif_value_is(of3_cif_value_t v, const char *s, int nocase);

#endif
