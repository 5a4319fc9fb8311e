/* msa_parse.c: the A3M and Stockholm readers (spec/data.md §6.3). Both check what OpenFold3
 * leaves to numpy to trip over (rows of different lengths) or lets through silently (characters
 * that are not residue letters); see msa_parse.h for the rules. */
#include "msa_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the growing result ---- */

typedef struct {
	of3_msa_t *m;
	int64_t cap_rows;
	size_t hdr_len, hdr_cap;
} store_t;

static int store_row(store_t *s, const char *res, const int32_t *del, const char *hdr, size_t hdr_n)
{
	of3_msa_t *m = s->m;
	if (m->n_rows == s->cap_rows) {
		int64_t cap = s->cap_rows ? 2 * s->cap_rows : 64;
		char *r = realloc(m->res, (size_t)(cap * m->n_cols));
		if (r)
			m->res = r;
		int32_t *d = realloc(m->del, (size_t)(cap * m->n_cols) * sizeof *d);
		if (d)
			m->del = d;
		int64_t *h = realloc(m->header, (size_t)cap * sizeof *h);
		if (h)
			m->header = h;
		if (!r || !d || !h)
			return of3_err(OF3_ERR_NOMEM, "out of memory reading an MSA");
		s->cap_rows = cap;
	}
	if (s->hdr_len + hdr_n + 1 > s->hdr_cap) {
		size_t cap = s->hdr_cap ? s->hdr_cap : 4096;
		while (cap < s->hdr_len + hdr_n + 1)
			cap *= 2;
		char *t = realloc(m->header_text, cap);
		if (!t)
			return of3_err(OF3_ERR_NOMEM, "out of memory reading an MSA");
		m->header_text = t;
		s->hdr_cap = cap;
	}
	size_t off = (size_t)(m->n_rows * m->n_cols);
	memcpy(m->res + off, res, (size_t)m->n_cols);
	memcpy(m->del + off, del, (size_t)m->n_cols * sizeof *del);
	memcpy(m->header_text + s->hdr_len, hdr, hdr_n);
	m->header_text[s->hdr_len + hdr_n] = 0;
	m->header[m->n_rows] = (int64_t)s->hdr_len;
	s->hdr_len += hdr_n + 1;
	m->n_rows++;
	return OF3_OK;
}

void of3_msa_free(of3_msa_t *m)
{
	if (!m)
		return;
	free(m->res);
	free(m->del);
	free(m->header_text);
	free(m->header);
	memset(m, 0, sizeof *m);
}

/* ---- lines ---- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* The next line of text[*pos..n), stripped of surrounding white space (as Python's strip()). */
static int next_line(const char *text, size_t n, size_t *pos, const char **line, size_t *len)
{
	if (*pos >= n)
		return 0;
	const char *s = text + *pos;
	const char *nl = memchr(s, '\n', n - *pos);
	size_t l = nl ? (size_t)(nl - s) : n - *pos;
	*pos += l + (nl ? 1 : 0);
	while (l && is_space(s[l - 1]))
		l--;
	while (l && is_space(*s))
		s++, l--;
	*line = s;
	*len = l;
	return 1;
}

static int bad_char(const char *label, int64_t line_no, char c)
{
	unsigned char u = (unsigned char)c;
	if (u >= 0x21 && u < 0x7f)
		return of3_err(OF3_ERR_INPUT,
		               "%s line %lld: character '%c' is not a residue letter, '-' or '.'",
		               label, (long long)line_no, c);
	return of3_err(OF3_ERR_INPUT,
	               "%s line %lld: byte 0x%02x is not a residue letter, '-' or '.' "
	               "(A3M and Stockholm files are ASCII)",
	               label, (long long)line_no, u);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return OF3_OK;
	size_t c = *cap ? *cap : 1024;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * elem);
	if (!q)
		return of3_err(OF3_ERR_NOMEM, "out of memory reading an MSA");
	*p = q;
	*cap = c;
	return OF3_OK;
}

/* ---- A3M ---- */

typedef struct {
	char *res;
	int32_t *del;
	size_t n, cap;
	int64_t pending; /* insertions waiting for the next column */
	const char *hdr;
	size_t hdr_n;
	int64_t line_no; /* the record's header line */
} record_t;

/* Ends the current record: checks its width and keeps it if within max_rows. */
static int a3m_finish(record_t *r, int64_t i_rec, store_t *s, const char *label, int64_t max_rows)
{
	of3_msa_t *m = s->m;
	if (i_rec == 0) {
		if (r->n == 0)
			return of3_err(OF3_ERR_INPUT, "%s line %lld: the first sequence is empty",
			               label, (long long)r->line_no);
		m->n_cols = (int64_t)r->n;
	} else if ((int64_t)r->n != m->n_cols) {
		return of3_err(OF3_ERR_INPUT,
		               "%s line %lld: sequence '%.*s' has %zu aligned columns, the first "
		               "(query) sequence has %lld",
		               label, (long long)r->line_no, (int)(r->hdr_n > 60 ? 60 : r->hdr_n),
		               r->hdr, r->n, (long long)m->n_cols);
	}
	if (i_rec < max_rows)
		return store_row(s, r->res, r->del, r->hdr, r->hdr_n);
	return OF3_OK;
}

int of3_msa_parse_a3m(const char *text, size_t n, const char *label, int64_t max_rows,
                      of3_msa_t *out)
{
	memset(out, 0, sizeof *out);
	store_t s = {out, 0, 0, 0};
	record_t r = {0};
	size_t pos = 0, cap_del = 0;
	int64_t line_no = 0, i_rec = -1;
	const char *line;
	size_t len;
	int rc = OF3_OK;
	while (rc == OF3_OK && next_line(text, n, &pos, &line, &len)) {
		line_no++;
		if (len && line[0] == '>') {
			if (i_rec >= 0)
				rc = a3m_finish(&r, i_rec, &s, label, max_rows);
			i_rec++;
			r.n = 0;
			r.pending = 0;
			r.hdr = line + 1;
			r.hdr_n = len - 1;
			r.line_no = line_no;
			continue;
		}
		if (len == 0 || line[0] == '#')
			continue;
		if (i_rec < 0) {
			rc = of3_err(OF3_ERR_INPUT,
			             "%s line %lld: sequence before the first '>' header (not an "
			             "A3M file?)",
			             label, (long long)line_no);
			break;
		}
		if ((rc = grow((void **)&r.res, &r.cap, r.n + len, 1)) < 0 ||
		    (rc = grow((void **)&r.del, &cap_del, r.n + len, sizeof *r.del)) < 0)
			break;
		for (size_t i = 0; i < len; i++) {
			char c = line[i];
			if (c >= 'a' && c <= 'z') {
				if (++r.pending > INT32_MAX) {
					rc = of3_err(OF3_ERR_INPUT,
					             "%s line %lld: insertion too long", label,
					             (long long)line_no);
					break;
				}
			} else if ((c >= 'A' && c <= 'Z') || c == '-') {
				r.res[r.n] = c;
				r.del[r.n] = (int32_t)r.pending;
				r.n++;
				r.pending = 0;
			} else if (c != '.') {
				rc = bad_char(label, line_no, c);
				break;
			}
		}
	}
	if (rc == OF3_OK) {
		if (i_rec < 0)
			rc = of3_err(OF3_ERR_INPUT,
			             "%s: no sequences (an A3M file starts with a '>' line)",
			             label);
		else
			rc = a3m_finish(&r, i_rec, &s, label, max_rows);
	}
	free(r.res);
	free(r.del);
	if (rc < 0)
		of3_msa_free(out);
	return rc;
}

/* ---- Stockholm ---- */

typedef struct {
	const char *name;
	size_t name_n;
	int64_t line_no; /* first appearance */
	size_t len;      /* total sequence length */
	size_t off;      /* into the joined sequences */
} sto_row_t;

typedef struct {
	int32_t row; /* index into rows */
	const char *seq;
	size_t n;
} sto_seg_t;

static uint64_t hash_name(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static int is_gap(char c)
{
	return c == '-' || c == '.';
}

typedef struct {
	sto_row_t *rows;
	size_t n_rows, cap_rows;
	sto_seg_t *segs;
	size_t n_segs, cap_segs;
	int32_t *table; /* open addressing: row index + 1, 0 empty */
	size_t table_n;
} sto_t;

static int sto_find(sto_t *st, const char *name, size_t n, int64_t line_no, int32_t *row)
{
	if ((st->n_rows + 1) * 2 > st->table_n) {
		size_t tn = st->table_n ? 2 * st->table_n : 1024;
		int32_t *t = calloc(tn, sizeof *t);
		if (!t)
			return of3_err(OF3_ERR_NOMEM, "out of memory reading an MSA");
		for (size_t i = 0; i < st->n_rows; i++) {
			size_t h = hash_name(st->rows[i].name, st->rows[i].name_n) & (tn - 1);
			while (t[h])
				h = (h + 1) & (tn - 1);
			t[h] = (int32_t)i + 1;
		}
		free(st->table);
		st->table = t;
		st->table_n = tn;
	}
	size_t h = hash_name(name, n) & (st->table_n - 1);
	while (st->table[h]) {
		const sto_row_t *r = &st->rows[st->table[h] - 1];
		if (r->name_n == n && memcmp(r->name, name, n) == 0) {
			*row = st->table[h] - 1;
			return OF3_OK;
		}
		h = (h + 1) & (st->table_n - 1);
	}
	if (st->n_rows >= INT32_MAX - 1)
		return of3_err(OF3_ERR_INPUT, "too many sequences");
	int rc = grow((void **)&st->rows, &st->cap_rows, st->n_rows + 1, sizeof *st->rows);
	if (rc < 0)
		return rc;
	st->rows[st->n_rows] = (sto_row_t){name, n, line_no, 0, 0};
	st->table[h] = (int32_t)st->n_rows + 1;
	*row = (int32_t)st->n_rows++;
	return OF3_OK;
}

/* Splits the lines into (name, segment) pairs, checking each. */
static int sto_scan(sto_t *st, const char *text, size_t n, const char *label)
{
	size_t pos = 0;
	int64_t line_no = 0;
	const char *line;
	size_t len;
	while (next_line(text, n, &pos, &line, &len)) {
		line_no++;
		if (len == 0 || line[0] == '#' || (len >= 2 && line[0] == '/' && line[1] == '/'))
			continue;
		size_t a = 0;
		while (a < len && !is_space(line[a]))
			a++;
		size_t b = a;
		while (b < len && is_space(line[b]))
			b++;
		size_t c = b;
		while (c < len && !is_space(line[c]))
			c++;
		if (b == len || c != len)
			return of3_err(
			        OF3_ERR_INPUT,
			        "%s line %lld: expected 'name sequence' (two fields), got %s",
			        label, (long long)line_no,
			        b == len ? "one field" : "more than two fields");
		for (size_t i = b; i < len; i++) {
			char ch = line[i];
			if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || is_gap(ch)))
				return bad_char(label, line_no, ch);
		}
		int32_t row = 0;
		int rc = sto_find(st, line, a, line_no, &row);
		if (rc < 0)
			return rc;
		rc = grow((void **)&st->segs, &st->cap_segs, st->n_segs + 1, sizeof *st->segs);
		if (rc < 0)
			return rc;
		st->segs[st->n_segs++] = (sto_seg_t){row, line + b, len - b};
		st->rows[row].len += len - b;
	}
	if (st->n_rows == 0)
		return of3_err(OF3_ERR_INPUT, "%s: no sequences (not a Stockholm file?)", label);
	return OF3_OK;
}

int of3_msa_parse_sto(const char *text, size_t n, const char *label, int64_t max_rows,
                      of3_msa_t *out)
{
	memset(out, 0, sizeof *out);
	sto_t st = {0};
	char *joined = NULL, *res = NULL;
	int32_t *del = NULL;
	int64_t *keep = NULL;
	int rc = sto_scan(&st, text, n, label);
	if (rc < 0)
		goto done;
	size_t total = 0;
	for (size_t i = 0; i < st.n_rows; i++) {
		st.rows[i].off = total;
		total += st.rows[i].len;
	}
	size_t q_len = st.rows[0].len;
	for (size_t i = 1; i < st.n_rows; i++)
		if (st.rows[i].len != q_len) {
			rc = of3_err(OF3_ERR_INPUT,
			             "%s line %lld: sequence '%.*s' is %zu columns long, the first "
			             "(query) sequence %zu",
			             label, (long long)st.rows[i].line_no,
			             (int)(st.rows[i].name_n > 60 ? 60 : st.rows[i].name_n),
			             st.rows[i].name, st.rows[i].len, q_len);
			goto done;
		}
	joined = malloc(total ? total : 1);
	size_t *fill = calloc(st.n_rows, sizeof *fill);
	if (!joined || !fill) {
		free(fill);
		rc = of3_err(OF3_ERR_NOMEM, "out of memory reading an MSA");
		goto done;
	}
	for (size_t i = 0; i < st.n_segs; i++) {
		const sto_seg_t *sg = &st.segs[i];
		memcpy(joined + st.rows[sg->row].off + fill[sg->row], sg->seq, sg->n);
		fill[sg->row] += sg->n;
	}
	free(fill);
	const char *q = joined;
	int64_t n_cols = 0;
	keep = malloc((q_len ? q_len : 1) * sizeof *keep);
	if (!keep) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory reading an MSA");
		goto done;
	}
	for (size_t j = 0; j < q_len; j++)
		if (!is_gap(q[j]))
			keep[n_cols++] = (int64_t)j;
	if (n_cols == 0) {
		rc = of3_err(OF3_ERR_INPUT, "%s line %lld: the first sequence has no residues",
		             label, (long long)st.rows[0].line_no);
		goto done;
	}
	out->n_cols = n_cols;
	res = malloc((size_t)n_cols);
	del = malloc((size_t)n_cols * sizeof *del);
	if (!res || !del) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory reading an MSA");
		goto done;
	}
	store_t s = {out, 0, 0, 0};
	for (size_t i = 0; i < st.n_rows && (int64_t)i < max_rows; i++) {
		const char *seq = joined + st.rows[i].off;
		int64_t pending = 0, k = 0;
		for (size_t j = 0; j < q_len; j++) {
			if (k < n_cols && keep[k] == (int64_t)j) {
				res[k] = seq[j];
				del[k] = (int32_t)(pending > INT32_MAX ? INT32_MAX : pending);
				pending = 0;
				k++;
			} else if (!is_gap(seq[j])) {
				pending++;
			}
		}
		if ((rc = store_row(&s, res, del, st.rows[i].name, st.rows[i].name_n)) < 0)
			goto done;
	}
done:
	free(st.rows);
	free(st.segs);
	free(st.table);
	free(joined);
	free(keep);
	free(res);
	free(del);
	if (rc < 0)
		of3_msa_free(out);
	return rc;
}

/* ---- files ---- */

static int read_all(const char *path, char **buf, size_t *n)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return of3_err(OF3_ERR_INPUT, "MSA file '%s' cannot be read: %s", path,
		               strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return of3_err(OF3_ERR_INPUT, "MSA file '%s' is not a regular file", path);
	}
	size_t size = (size_t)st.st_size, got = 0;
	char *b = malloc(size ? size : 1);
	if (!b) {
		close(fd);
		return of3_err(OF3_ERR_NOMEM, "out of memory reading MSA file '%s' (%zu bytes)",
		               path, size);
	}
	while (got < size) {
		ssize_t r = read(fd, b + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;
			free(b);
			close(fd);
			return of3_err(OF3_ERR_INPUT, "MSA file '%s' cannot be read: %s", path,
			               strerror(e));
		}
		got += (size_t)r;
	}
	close(fd);
	*buf = b;
	*n = size;
	return OF3_OK;
}

int of3_msa_read(const char *path, int64_t max_rows, of3_msa_t *out)
{
	memset(out, 0, sizeof *out);
	const char *base = strrchr(path, '/');
	const char *dot = strrchr(base ? base + 1 : path, '.');
	int a3m = dot && strcmp(dot, ".a3m") == 0, sto = dot && strcmp(dot, ".sto") == 0;
	if (!a3m && !sto)
		return of3_err(OF3_ERR_INPUT, "MSA file '%s': only .a3m and .sto files are read",
		               path);
	char *text = NULL;
	size_t n = 0;
	int rc = read_all(path, &text, &n);
	if (rc < 0)
		return rc;
	char label[1100];
	snprintf(label, sizeof label, "MSA file '%s'", path);
	rc = a3m ? of3_msa_parse_a3m(text, n, label, max_rows, out)
	         : of3_msa_parse_sto(text, n, label, max_rows, out);
	free(text);
	return rc;
}
