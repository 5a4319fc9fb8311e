/* msa_pair.c: online pairing by species (spec/data.md §6.5), as OpenFold3's create_paired:
 * species per row, rows ranked by identity to the query, a species-by-chain count table, the
 * "shared by two" and "at most 600" masks, rounds from all chains down to two, and each paired
 * slot filled with the next unused row of that species. Where OpenFold3 crashes or is
 * undefined (headers it cannot split, ties in numpy's unstable argsort) see msa_pair.h and
 * docs/DEVIATIONS.md. */
#include "msa_pair.h"

#include <stdlib.h>
#include <string.h>

static int is_sep(char c)
{
	return c == '|' || c == '_' || c == '/' || c == ':' || c == '-';
}

const char *of3_msa_species(const char *header, size_t *len)
{
	int field = 0;
	const char *start = header;
	for (const char *p = header;; p++) {
		if (*p == 0 || is_sep(*p)) {
			if (field == 3) {
				*len = (size_t)(p - start);
				return start;
			}
			if (*p == 0)
				return NULL;
			field++;
			start = p + 1;
		}
	}
}

typedef struct {
	const char *s;
	size_t n;
	int32_t k;   /* which taking part representative */
	int64_t row; /* row of its MSA */
} spec_t;

static int cmp_str(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

static int cmp_spec(const void *pa, const void *pb)
{
	const spec_t *a = pa, *b = pb;
	int c = cmp_str(a->s, a->n, b->s, b->n);
	if (c)
		return c;
	if (a->k != b->k)
		return a->k < b->k ? -1 : 1;
	return a->row < b->row ? -1 : a->row > b->row;
}

typedef struct {
	int64_t ident, row;
} rank_t;

static int cmp_rank(const void *pa, const void *pb)
{
	const rank_t *a = pa, *b = pb;
	if (a->ident != b->ident)
		return a->ident > b->ident ? -1 : 1;
	return a->row < b->row ? -1 : a->row > b->row;
}

/* Fills every out[i] with n rows of gaps. */
static int gap_blocks(int n_reps, const int64_t *n_cols, int64_t n, of3_msa_t *out)
{
	for (int i = 0; i < n_reps; i++) {
		memset(&out[i], 0, sizeof out[i]);
		size_t cells = (size_t)(n * n_cols[i]);
		out[i].n_rows = n;
		out[i].n_cols = n_cols[i];
		out[i].res = malloc(cells ? cells : 1);
		out[i].del = calloc(cells ? cells : 1, sizeof *out[i].del);
		if (!out[i].res || !out[i].del)
			return of3_err(OF3_ERR_NOMEM, "out of memory pairing MSAs");
		memset(out[i].res, '-', cells);
	}
	return OF3_OK;
}

int of3_msa_pair(int n_reps, const of3_msa_t *const *to_pair, const int64_t *n_cols,
                 int64_t max_rows, of3_msa_t *out, int64_t *n_paired)
{
	*n_paired = 0;
	memset(out, 0, (size_t)n_reps * sizeof *out);
	int n_k = 0;
	int *rep_of = malloc((size_t)(n_reps ? n_reps : 1) * sizeof *rep_of);
	if (!rep_of)
		return of3_err(OF3_ERR_NOMEM, "out of memory pairing MSAs");
	for (int i = 0; i < n_reps; i++)
		if (to_pair[i] && to_pair[i]->n_rows > 1)
			rep_of[n_k++] = i;
	if (n_k < 2) {
		free(rep_of);
		return OF3_OK;
	}

	int rc = OF3_OK;
	int64_t n_entries = 0;
	for (int k = 0; k < n_k; k++)
		n_entries += to_pair[rep_of[k]]->n_rows - 1;
	spec_t *sp = malloc((size_t)(n_entries ? n_entries : 1) * sizeof *sp);
	int64_t *rank_pos = malloc((size_t)(n_entries ? n_entries : 1) * sizeof *rank_pos);
	int32_t *species = malloc((size_t)(n_entries ? n_entries : 1) * sizeof *species);
	int64_t *row_base = calloc((size_t)n_k + 1, sizeof *row_base);
	int64_t *count = NULL, *bucket_start = NULL, *bucket = NULL, *next = NULL;
	int32_t *slots = NULL;
	uint8_t *mask = NULL;
	if (!sp || !rank_pos || !species || !row_base) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory pairing MSAs");
		goto done;
	}

	/* Species of every row, and each row's rank by identity to the query (row 0). */
	int64_t n_sp = 0;
	for (int k = 0; k < n_k; k++) {
		const of3_msa_t *m = to_pair[rep_of[k]];
		row_base[k + 1] = row_base[k] + m->n_rows - 1;
		rank_t *rk = malloc((size_t)m->n_rows * sizeof *rk);
		if (!rk) {
			rc = of3_err(OF3_ERR_NOMEM, "out of memory pairing MSAs");
			goto done;
		}
		for (int64_t r = 1; r < m->n_rows; r++) {
			const char *row = m->res + r * m->n_cols;
			int64_t same = 0;
			for (int64_t c = 0; c < m->n_cols; c++)
				same += row[c] == m->res[c];
			rk[r - 1] = (rank_t){same, r};
			size_t len;
			const char *s = of3_msa_species(of3_msa_header(m, r), &len);
			species[row_base[k] + r - 1] = -1;
			if (s)
				sp[n_sp++] = (spec_t){s, len, k, r};
		}
		qsort(rk, (size_t)(m->n_rows - 1), sizeof *rk, cmp_rank);
		for (int64_t i = 0; i < m->n_rows - 1; i++)
			rank_pos[row_base[k] + rk[i].row - 1] = i;
		free(rk);
	}

	/* Species ids in sorted order of their names. */
	qsort(sp, (size_t)n_sp, sizeof *sp, cmp_spec);
	int32_t n_species = 0;
	for (int64_t i = 0; i < n_sp; i++) {
		if (i > 0 && cmp_str(sp[i].s, sp[i].n, sp[i - 1].s, sp[i - 1].n) != 0)
			n_species++;
		species[row_base[sp[i].k] + sp[i].row - 1] = n_species;
	}
	if (n_sp > 0)
		n_species++;

	/* Counts per chain and species; masks. */
	count = calloc((size_t)n_k * (size_t)(n_species ? n_species : 1), sizeof *count);
	mask = calloc((size_t)(n_species ? n_species : 1), 1);
	if (!count || !mask) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory pairing MSAs");
		goto done;
	}
	for (int k = 0; k < n_k; k++)
		for (int64_t i = row_base[k]; i < row_base[k + 1]; i++)
			if (species[i] >= 0)
				count[(size_t)k * n_species + species[i]]++;
	int any = 0;
	for (int32_t s = 0; s < n_species; s++) {
		int present = 0, ok = 1;
		for (int k = 0; k < n_k; k++) {
			int64_t c = count[(size_t)k * n_species + s];
			present += c > 0;
			ok &= c <= 600;
		}
		mask[s] = present >= 2 && ok;
		any |= mask[s];
	}
	if (!any)
		goto done;

	/* Rounds: species in exactly n chains, n from all chains down to two. */
	int64_t n_rows = 0, cap = 0;
	for (int n = n_k; n >= 2 && n_rows < max_rows; n--) {
		for (int32_t s = 0; s < n_species && n_rows < max_rows; s++) {
			if (!mask[s])
				continue;
			int present = 0;
			int64_t lo = INT64_MAX;
			for (int k = 0; k < n_k; k++) {
				int64_t c = count[(size_t)k * n_species + s];
				if (c > 0) {
					present++;
					lo = c < lo ? c : lo;
				}
			}
			if (present != n)
				continue;
			int64_t take = lo < max_rows - n_rows ? lo : max_rows - n_rows;
			if (n_rows + take > cap) {
				int64_t nc = cap ? cap : 256;
				while (nc < n_rows + take)
					nc *= 2;
				int32_t *ns = realloc(slots, (size_t)(nc * n_k) * sizeof *ns);
				if (!ns) {
					rc = of3_err(OF3_ERR_NOMEM, "out of memory pairing MSAs");
					goto done;
				}
				slots = ns;
				cap = nc;
			}
			for (int64_t r = n_rows; r < n_rows + take; r++)
				for (int k = 0; k < n_k; k++)
					slots[r * n_k + k] =
					        count[(size_t)k * n_species + s] > 0 ? s : -1;
			n_rows += take;
			for (int k = 0; k < n_k; k++)
				if (count[(size_t)k * n_species + s] > 0)
					count[(size_t)k * n_species + s] -= lo;
		}
	}

	/* Each chain's rows of a species, best ranked first; then fill the slots. */
	bucket_start = calloc((size_t)n_species + 1, sizeof *bucket_start);
	bucket = malloc((size_t)(n_entries ? n_entries : 1) * sizeof *bucket);
	next = malloc((size_t)(n_species ? n_species : 1) * sizeof *next);
	int64_t *by_rank = malloc((size_t)(n_entries ? n_entries : 1) * sizeof *by_rank);
	if (!bucket_start || !bucket || !next || !by_rank) {
		free(by_rank);
		rc = of3_err(OF3_ERR_NOMEM, "out of memory pairing MSAs");
		goto done;
	}
	if ((rc = gap_blocks(n_reps, n_cols, n_rows, out)) < 0) {
		free(by_rank);
		goto done;
	}
	for (int k = 0; k < n_k; k++) {
		const of3_msa_t *m = to_pair[rep_of[k]];
		of3_msa_t *o = &out[rep_of[k]];
		int64_t base = row_base[k], n_k_rows = row_base[k + 1] - base;
		for (int64_t i = 0; i < n_k_rows; i++)
			by_rank[base + rank_pos[base + i]] = i + 1; /* MSA row */
		memset(bucket_start, 0, ((size_t)n_species + 1) * sizeof *bucket_start);
		for (int64_t i = 0; i < n_k_rows; i++)
			if (species[base + i] >= 0)
				bucket_start[species[base + i] + 1]++;
		for (int32_t s = 0; s < n_species; s++) {
			bucket_start[s + 1] += bucket_start[s];
			next[s] = bucket_start[s];
		}
		for (int64_t i = 0; i < n_k_rows; i++) {
			int64_t row = by_rank[base + i];
			int32_t s = species[base + row - 1];
			if (s >= 0)
				bucket[next[s]++] = row;
		}
		for (int32_t s = 0; s < n_species; s++)
			next[s] = bucket_start[s];
		for (int64_t r = 0; r < n_rows; r++) {
			int32_t s = slots[r * n_k + k];
			if (s < 0 || next[s] >= bucket_start[s + 1])
				continue;
			int64_t row = bucket[next[s]++];
			memcpy(o->res + r * o->n_cols, m->res + row * m->n_cols, (size_t)m->n_cols);
			memcpy(o->del + r * o->n_cols, m->del + row * m->n_cols,
			       (size_t)m->n_cols * sizeof *o->del);
		}
	}
	free(by_rank);
	*n_paired = n_rows;

done:
	if (rc < 0)
		for (int i = 0; i < n_reps; i++)
			of3_msa_free(&out[i]);
	free(rep_of);
	free(sp);
	free(rank_pos);
	free(species);
	free(row_base);
	free(count);
	free(mask);
	free(bucket_start);
	free(bucket);
	free(next);
	free(slots);
	return rc;
}
