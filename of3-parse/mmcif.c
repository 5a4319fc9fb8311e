/* mmcif.c: the mmCIF text reader of mmcif.h: a block index that scans lines, and a tokenizer plus
 * a small state machine (data_ header, key-value items, loop_ tables) for one block. */
#include "mmcif.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CIF_MAX_VALUES ((size_t)INT32_MAX) /* rows x columns of one table */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* 1 when s[0, n) starts with the lower-case ASCII word w, case-insensitively. */
static int starts_nocase(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);
	if (n < k)
		return 0;
	for (size_t i = 0; i < k; i++)
		if (lower(s[i]) != w[i])
			return 0;
	return 1;
}

static int name_is(of3_cif_name_t name, const char *s)
{
	return (size_t)name.len == strlen(s) && memcmp(name.s, s, (size_t)name.len) == 0;
}

/* ---- the block index ---- */

int of3_cif_index(const char *text, size_t len, const char *label, of3_cif_span_t **spans,
                  int *n_spans)
{
	of3_cif_span_t *out = NULL;
	int n = 0, m = 0, line = 1, text_field_line = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (text_field_line) {
			if (*p == ';')
				text_field_line = 0;
		} else if (*p == ';') {
			text_field_line = line;
		} else {
			const char *q = p;
			while (q < eol && (*q == ' ' || *q == '\t'))
				q++;
			if (starts_nocase(q, (size_t)(eol - q), "data_") && q + 5 < eol &&
			    !is_space(q[5])) {
				if (n == m) {
					int m2 = m ? 2 * m : 1024;
					of3_cif_span_t *o = realloc(out, (size_t)m2 * sizeof *o);
					if (!o) {
						free(out);
						return of3_err(OF3_ERR_NOMEM, "out of memory");
					}
					out = o;
					m = m2;
				}
				const char *s = q + 5, *e = s;
				while (e < eol && !is_space(*e))
					e++;
				if (n > 0)
					out[n - 1].end = (size_t)(p - text);
				out[n++] = (of3_cif_span_t){
				        {s, (int)(e - s)}, (size_t)(p - text), 0, line};
			} else if (n == 0 && q < eol && *q != '#' && *q != '\r') {
				int k = (int)(eol - q) > 40 ? 40 : (int)(eol - q);
				free(out);
				return of3_err(OF3_ERR_INPUT,
				               "%s:%d: '%.*s' before the first data_ block "
				               "(not an mmCIF file?)",
				               label, line, k, q);
			}
		}
		p = eol + 1;
		line++;
	}
	if (text_field_line) {
		free(out);
		return of3_err(OF3_ERR_INPUT,
		               "%s:%d: unterminated semicolon text field (no line starting "
		               "with ';' closes it)",
		               label, text_field_line);
	}
	if (n == 0)
		return of3_err(OF3_ERR_INPUT, "%s:%d: no data_ block (not an mmCIF file?)", label,
		               line > 1 ? line - 1 : 1);
	out[n - 1].end = len;
	*spans = out;
	*n_spans = n;
	return OF3_OK;
}

/* ---- the tokenizer ---- */

enum { TOK_EOF, TOK_VALUE, TOK_TAG, TOK_LOOP, TOK_DATA };

typedef struct {
	const char *begin, *p, *end;
	int line;
	const char *label;
} lexer_t;

typedef struct {
	int kind;
	of3_cif_value_t v; /* the token's text (for a tag: without '_'; for data_: the name) */
} token_t;

static int at_line_start(const lexer_t *lx)
{
	return lx->p == lx->begin || lx->p[-1] == '\n' || lx->p[-1] == '\r';
}

/* Consumes one line break at lx->p ("\n", "\r\n" or "\r"). */
static void newline(lexer_t *lx)
{
	if (*lx->p == '\r' && lx->p + 1 < lx->end && lx->p[1] == '\n')
		lx->p++;
	lx->p++;
	lx->line++;
}

/* A semicolon text field: lx->p is at the opening ';' at a line start. The value is everything
 * up to the line break before the closing ';'. */
static int text_field(lexer_t *lx, token_t *t)
{
	int first = lx->line;
	const char *s = lx->p + 1;
	lx->p = s;
	while (lx->p < lx->end) {
		if (*lx->p == '\n' || *lx->p == '\r') {
			const char *brk = lx->p;
			newline(lx);
			if (lx->p < lx->end && *lx->p == ';') {
				t->v = (of3_cif_value_t){s, (int)(brk - s), first, OF3_CIF_PRESENT};
				lx->p++;
				return OF3_OK;
			}
		} else {
			lx->p++;
		}
	}
	return of3_err(OF3_ERR_INPUT,
	               "%s:%d: unterminated semicolon text field (no line starting with ';' "
	               "closes it)",
	               lx->label, first);
}

/* A quoted value: closed by the same quote followed by whitespace or the end of the text. */
static int quoted(lexer_t *lx, token_t *t)
{
	char quote = *lx->p;
	const char *s = lx->p + 1, *q = s;
	for (; q < lx->end; q++) {
		if (*q == '\n' || *q == '\r')
			break;
		if (*q == quote && (q + 1 == lx->end || is_space(q[1]))) {
			t->v = (of3_cif_value_t){s, (int)(q - s), lx->line, OF3_CIF_PRESENT};
			lx->p = q + 1;
			return OF3_OK;
		}
	}
	return of3_err(OF3_ERR_INPUT, "%s:%d: unterminated quoted value %c%.*s (no closing %c)",
	               lx->label, lx->line, quote, (int)(q - s) > 40 ? 40 : (int)(q - s), s, quote);
}

static int next_token(lexer_t *lx, token_t *t)
{
	for (;;) {
		while (lx->p < lx->end &&
		       (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\v' || *lx->p == '\f'))
			lx->p++;
		if (lx->p == lx->end) {
			t->kind = TOK_EOF;
			t->v = (of3_cif_value_t){lx->p, 0, lx->line, OF3_CIF_UNKNOWN};
			return OF3_OK;
		}
		if (*lx->p == '\n' || *lx->p == '\r') {
			newline(lx);
			continue;
		}
		if (*lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '\r')
				lx->p++;
			continue;
		}
		break;
	}
	t->kind = TOK_VALUE;
	if (*lx->p == ';' && at_line_start(lx))
		return text_field(lx, t);
	if (*lx->p == '\'' || *lx->p == '"')
		return quoted(lx, t);
	const char *s = lx->p;
	while (lx->p < lx->end && !is_space(*lx->p))
		lx->p++;
	size_t n = (size_t)(lx->p - s);
	t->v = (of3_cif_value_t){s, (int)n, lx->line, OF3_CIF_PRESENT};
	if (*s == '_') {
		t->kind = TOK_TAG;
		t->v.s++;
		t->v.len--;
	} else if (n == 5 && starts_nocase(s, n, "loop_")) {
		t->kind = TOK_LOOP;
	} else if (starts_nocase(s, n, "data_")) {
		t->kind = TOK_DATA;
		t->v.s += 5;
		t->v.len -= 5;
	} else if (starts_nocase(s, n, "save_") || (n == 7 && starts_nocase(s, n, "global_")) ||
	           (n == 5 && starts_nocase(s, n, "stop_"))) {
		return of3_err(OF3_ERR_INPUT,
		               "%s:%d: '%.*s' is not supported (save frames, global_, "
		               "stop_)",
		               lx->label, lx->line, (int)(n > 40 ? 40 : n), s);
	} else if (n == 1 && *s == '?') {
		t->v.state = OF3_CIF_UNKNOWN;
	} else if (n == 1 && *s == '.') {
		t->v.state = OF3_CIF_INAPPLICABLE;
	}
	return OF3_OK;
}

/* ---- tables ---- */

static of3_cif_table_t *find_table(of3_cif_block_t *b, of3_cif_name_t category)
{
	for (int i = 0; i < b->n_tables; i++) {
		of3_cif_name_t c = b->tables[i].category;
		if (c.len == category.len && memcmp(c.s, category.s, (size_t)c.len) == 0)
			return &b->tables[i];
	}
	return NULL;
}

static int new_table(of3_cif_block_t *b, of3_cif_name_t category, int line, int looped,
                     of3_cif_table_t **out)
{
	if (b->n_tables == b->m_tables) {
		int m = b->m_tables ? 2 * b->m_tables : 8;
		of3_cif_table_t *t = realloc(b->tables, (size_t)m * sizeof *t);
		if (!t)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		b->tables = t;
		b->m_tables = m;
	}
	*out = &b->tables[b->n_tables++];
	**out = (of3_cif_table_t){.category = category, .line = line, .looped = looped};
	return OF3_OK;
}

static int add_column(of3_cif_table_t *t, of3_cif_name_t item)
{
	if (t->n_cols == t->m_cols) {
		int m = t->m_cols ? 2 * t->m_cols : 16;
		of3_cif_name_t *p = realloc(t->items, (size_t)m * sizeof *p);
		if (!p)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		t->items = p;
		t->m_cols = m;
	}
	t->items[t->n_cols++] = item;
	return OF3_OK;
}

static int add_value(of3_cif_table_t *t, size_t *n_values, of3_cif_value_t v, const char *label)
{
	if (*n_values == t->m_values) {
		if (t->m_values >= CIF_MAX_VALUES)
			return of3_err(OF3_ERR_INPUT, "%s:%d: more than %zu values in one table",
			               label, v.line, CIF_MAX_VALUES);
		size_t m = t->m_values ? 2 * t->m_values : 64;
		of3_cif_value_t *p = realloc(t->values, m * sizeof *p);
		if (!p)
			return of3_err(OF3_ERR_NOMEM, "out of memory");
		t->values = p;
		t->m_values = m;
	}
	t->values[(*n_values)++] = v;
	return OF3_OK;
}

/* Splits a tag "chem_comp_atom.atom_id" (the leading '_' already gone) at its first '.'. */
static int split_tag(const token_t *t, const char *label, of3_cif_name_t *category,
                     of3_cif_name_t *item)
{
	const char *dot = memchr(t->v.s, '.', (size_t)t->v.len);
	if (!dot || dot == t->v.s || dot + 1 == t->v.s + t->v.len)
		return of3_err(OF3_ERR_INPUT, "%s:%d: tag '_%.*s' is not _category.item", label,
		               t->v.line, t->v.len > 60 ? 60 : t->v.len, t->v.s);
	*category = (of3_cif_name_t){t->v.s, (int)(dot - t->v.s)};
	*item = (of3_cif_name_t){dot + 1, (int)(t->v.s + t->v.len - dot - 1)};
	return OF3_OK;
}

/* _category.item value */
static int key_value(lexer_t *lx, of3_cif_block_t *b, const token_t *tag)
{
	of3_cif_name_t category, item;
	int rc = split_tag(tag, lx->label, &category, &item);
	if (rc < 0)
		return rc;
	token_t v;
	if ((rc = next_token(lx, &v)) < 0)
		return rc;
	if (v.kind != TOK_VALUE)
		return of3_err(OF3_ERR_INPUT, "%s:%d: tag '_%.*s' has no value", lx->label,
		               tag->v.line, tag->v.len, tag->v.s);
	of3_cif_table_t *t = find_table(b, category);
	if (t && t->looped)
		return of3_err(OF3_ERR_INPUT,
		               "%s:%d: '_%.*s' repeats category '%.*s' of the loop_ at line %d",
		               lx->label, tag->v.line, tag->v.len, tag->v.s, category.len,
		               category.s, t->line);
	for (int i = 0; t && i < t->n_cols; i++)
		if (t->items[i].len == item.len &&
		    memcmp(t->items[i].s, item.s, (size_t)item.len) == 0)
			return of3_err(OF3_ERR_INPUT, "%s:%d: tag '_%.*s' given twice", lx->label,
			               tag->v.line, tag->v.len, tag->v.s);
	if (!t && (rc = new_table(b, category, tag->v.line, 0, &t)) < 0)
		return rc;
	size_t n_values = (size_t)t->n_cols;
	if ((rc = add_column(t, item)) < 0 || (rc = add_value(t, &n_values, v.v, lx->label)) < 0)
		return rc;
	t->n_rows = 1;
	return OF3_OK;
}

/* loop_ _cat.a _cat.b ... values; *next receives the first token after the values. */
static int loop(lexer_t *lx, of3_cif_block_t *b, int loop_line, token_t *next)
{
	token_t t;
	int rc = next_token(lx, &t);
	if (rc < 0)
		return rc;
	if (t.kind != TOK_TAG)
		return of3_err(OF3_ERR_INPUT, "%s:%d: loop_ without tags", lx->label, loop_line);
	of3_cif_name_t category, item;
	if ((rc = split_tag(&t, lx->label, &category, &item)) < 0)
		return rc;
	of3_cif_table_t *table = find_table(b, category);
	if (table)
		return of3_err(OF3_ERR_INPUT, "%s:%d: loop_ repeats category '%.*s' of line %d",
		               lx->label, loop_line, category.len, category.s, table->line);
	if ((rc = new_table(b, category, loop_line, 1, &table)) < 0)
		return rc;
	while (t.kind == TOK_TAG) {
		of3_cif_name_t c;
		if ((rc = split_tag(&t, lx->label, &c, &item)) < 0)
			return rc;
		if (c.len != category.len || memcmp(c.s, category.s, (size_t)c.len) != 0)
			return of3_err(
			        OF3_ERR_INPUT, "%s:%d: tag '_%.*s' in a loop_ of category '%.*s'",
			        lx->label, t.v.line, t.v.len, t.v.s, category.len, category.s);
		if ((rc = add_column(table, item)) < 0 || (rc = next_token(lx, &t)) < 0)
			return rc;
	}
	size_t n_values = 0;
	int last_line = loop_line;
	while (t.kind == TOK_VALUE) {
		last_line = t.v.line;
		if ((rc = add_value(table, &n_values, t.v, lx->label)) < 0 ||
		    (rc = next_token(lx, &t)) < 0)
			return rc;
	}
	size_t n_cols = (size_t)table->n_cols;
	if (n_values % n_cols != 0)
		return of3_err(OF3_ERR_INPUT,
		               "%s:%d: ragged loop_ of '%.*s' (from line %d): %zu values do not "
		               "fill rows of %zu columns",
		               lx->label, last_line, category.len, category.s, loop_line, n_values,
		               n_cols);
	table->n_rows = (int)(n_values / n_cols);
	*next = t;
	return OF3_OK;
}

int of3_cif_parse_block(const char *text, size_t len, int first_line, const char *label,
                        of3_cif_block_t *block)
{
	lexer_t lx = {text, text, text + len, first_line, label};
	*block = (of3_cif_block_t){0};
	token_t t;
	int rc = next_token(&lx, &t);
	if (rc == OF3_OK && t.kind != TOK_DATA)
		rc = of3_err(OF3_ERR_INPUT, "%s:%d: expected a data_ block header, found '%.*s'",
		             label, t.v.line, t.v.len > 40 ? 40 : t.v.len, t.v.s);
	if (rc < 0)
		return rc;
	block->name = (of3_cif_name_t){t.v.s, t.v.len};
	block->line = t.v.line;
	rc = next_token(&lx, &t);
	while (rc == OF3_OK && t.kind != TOK_EOF) {
		if (t.kind == TOK_TAG) {
			if ((rc = key_value(&lx, block, &t)) == OF3_OK)
				rc = next_token(&lx, &t);
		} else if (t.kind == TOK_LOOP) {
			rc = loop(&lx, block, t.v.line, &t);
		} else if (t.kind == TOK_DATA) {
			rc = of3_err(OF3_ERR_INPUT, "%s:%d: a second data_ block inside data_%.*s",
			             label, t.v.line, block->name.len, block->name.s);
		} else {
			rc = of3_err(OF3_ERR_INPUT, "%s:%d: value '%.*s' without a tag", label,
			             t.v.line, t.v.len > 40 ? 40 : t.v.len, t.v.s);
		}
	}
	if (rc < 0)
		of3_cif_block_free(block);
	return rc;
}

void of3_cif_block_free(of3_cif_block_t *block)
{
	if (!block)
		return;
	for (int i = 0; i < block->n_tables; i++) {
		free(block->tables[i].items);
		free(block->tables[i].values);
	}
	free(block->tables);
	*block = (of3_cif_block_t){0};
}

const of3_cif_table_t *of3_cif_table(const of3_cif_block_t *block, const char *category)
{
	for (int i = 0; i < block->n_tables; i++)
		if (name_is(block->tables[i].category, category))
			return &block->tables[i];
	return NULL;
}

int of3_cif_column(const of3_cif_table_t *table, const char *item)
{
	for (int i = 0; i < table->n_cols; i++)
		if (name_is(table->items[i], item))
			return i;
	return -1;
}

of3_cif_value_t of3_cif_value(const of3_cif_table_t *table, int row, int col)
{
	const of3_cif_value_t *r = &table->values[(size_t)row * (size_t)table->n_cols];
	if (col < 0)
		return (of3_cif_value_t){"", 0, r[0].line, OF3_CIF_UNKNOWN};
	return r[col];
}

int of3_cif_value_is(of3_cif_value_t v, const char *s, int nocase)
{
	if (v.state != OF3_CIF_PRESENT || (size_t)v.len != strlen(s))
		return 0;
	for (int i = 0; i < v.len; i++)
		if (nocase ? lower(v.s[i]) != lower(s[i]) : v.s[i] != s[i])
			return 0;
	return 1;
}
