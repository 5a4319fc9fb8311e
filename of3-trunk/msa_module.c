/* msa_module.c: the MSA module embedder (spec/trunk.md §3.4) and the MSA module stack (§3.5,
 * AF3 Alg. 8-10): row subsampling, the embedding of the chosen rows, then per block the outer
 * product mean into z, the MSA-track update (pair-weighted averaging and transition; not in the
 * last block) and the pair block. Only z leaves the module.
 *
 * Rows are chosen on the host (Philox, or replayed) and gathered on the device from the query's
 * MSA features, which trunk_features.c prepares once per query. */
#include "msa_module.h"

#include <stdio.h>

#include "../common/rng.h"

#define OPM_EPS      1e-3f             /* OuterProductMean's own eps (not the config's 1e-8) */
#define N_MSA_FEAT   OF3_TF_N_MSA_FEAT /* msa one-hot, has_deletion, deletion_value */
#define OPM_CHUNK_FL ((size_t)1 << 22) /* outer products held at once, in floats */

static size_t max2(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* ---- binding ---- */

static int opm_bind(of3_opm_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                    int64_t *c_m, int64_t *c_z)
{
	int64_t c_o = -1, c_oo;
	int rc = of3_wbind_ln(wb, ck, &w->ln, c_m, 1, prefix, "layer_norm");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->l1, &c_o, c_m, 0, prefix, "linear_1");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->l2, &c_o, c_m, 0, prefix, "linear_2");
	c_oo = c_o * c_o;
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->out, c_z, &c_oo, 1, prefix, "linear_out");
	w->c_m = *c_m;
	w->c_o = c_o;
	w->c_z = *c_z;
	return rc;
}

static int pwa_bind(of3_pwa_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                    int64_t *c_m, int64_t *c_z)
{
	int64_t n_head = -1;
	int rc = of3_wbind_ln(wb, ck, &w->ln_m, c_m, 1, prefix, "layer_norm_m");
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->ln_z, c_z, 1, prefix, "layer_norm_z");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->bias, &n_head, c_z, 0, prefix, "linear_z");
	rc = rc ? rc : of3_mha_bind(&w->mha, ck, wb, prefix, "", c_m, n_head, OF3_F_MHA_NO_QK);
	w->c_m = *c_m;
	w->c_z = *c_z;
	return rc;
}

int of3_msa_module_bind(of3_msa_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	int64_t c_m = -1, c_z = -1, c_s = -1, n_feat = N_MSA_FEAT;
	int64_t n_blk = of3_ckpt_count_blocks(ck, "msa_module.blocks");
	const char *pe = "msa_module_embedder.";
	int rc = of3_wbind_lin(wb, ck, &w->lin_m, &c_m, &n_feat, 0, pe, "linear_m");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->lin_s_input, &c_m, &c_s, 0, pe, "linear_s_input");
	if (rc)
		return rc;
	if (n_blk < 1 || n_blk > OF3_MSA_MAX_BLOCKS)
		return of3_err(OF3_ERR_INPUT,
		               "checkpoint: %lld MSA module blocks under 'msa_module.blocks.', "
		               "expected 1 to %d",
		               (long long)n_blk, OF3_MSA_MAX_BLOCKS);
	w->n_block = (int)n_blk;
	for (int k = 0; k < w->n_block && rc == 0; k++) {
		of3_msa_block_w_t *b = &w->block[k];
		char p[96], q[128];
		snprintf(p, sizeof p, "msa_module.blocks.%d.", k);
		snprintf(q, sizeof q, "%souter_product_mean.", p);
		rc = opm_bind(&b->opm, ck, wb, q, &c_m, &c_z);
		/* the last block updates z only: it has no MSA-track keys (skip_msa_update) */
		b->has_msa_update = k < w->n_block - 1;
		if (b->has_msa_update) {
			snprintf(q, sizeof q, "%smsa_att_row.", p);
			rc = rc ? rc : pwa_bind(&b->pwa, ck, wb, q, &c_m, &c_z);
			snprintf(q, sizeof q, "%smsa_transition.", p);
			rc = rc ? rc : of3_transition_bind(&b->transition, ck, wb, q, &c_m);
		}
		snprintf(q, sizeof q, "%spair_stack.", p);
		rc = rc ? rc : of3_pair_block_bind(&b->pair, ck, wb, q);
		if (rc == 0 && b->pair.c_z != c_z)
			return of3_err(
			        OF3_ERR_INPUT,
			        "checkpoint key '%stri_mul_out.layer_norm_in.weight': width %lld, "
			        "expected c_z = %lld",
			        q, (long long)b->pair.c_z, (long long)c_z);
	}
	w->c_m = c_m;
	w->c_z = c_z;
	w->c_s_input = c_s;
	return rc;
}

/* ---- scratch ---- */

/* Row tokens whose outer products are held at once. */
static int64_t opm_chunk(const of3_opm_w_t *w, int64_t n_tok)
{
	int64_t c = (int64_t)(OPM_CHUNK_FL / (size_t)(n_tok * w->c_o * w->c_o));
	return c < 1 ? 1 : (c > n_tok ? n_tok : c);
}

static size_t opm_scratch(const of3_opm_w_t *w, int64_t n_tok, int64_t n_s)
{
	const size_t sn = (size_t)(n_s * n_tok), r = (size_t)(n_tok * n_tok);
	const size_t ch = (size_t)(opm_chunk(w, n_tok) * n_tok);
	return sn * (size_t)(w->c_m + 2 * w->c_o) + r + ch * (size_t)(w->c_o * w->c_o + w->c_z);
}

static size_t pwa_scratch(const of3_pwa_w_t *w, int64_t n_tok, int64_t n_s)
{
	const size_t sn = (size_t)(n_s * n_tok), r = (size_t)(n_tok * n_tok);
	const size_t hd = (size_t)(w->mha.n_head * w->mha.d_head);
	return sn * (size_t)(2 * w->c_m + 3 * hd) + r * (size_t)(w->c_z + 2 * w->mha.n_head);
}

size_t of3_msa_module_scratch(const of3_msa_w_t *w, int64_t n_tok, int64_t n_msa)
{
	const int64_t n_s = n_msa < OF3_MSA_MAX_ROWS ? n_msa : OF3_MSA_MAX_ROWS;
	const size_t sn = (size_t)(n_s * n_tok);
	size_t work = sn * N_MSA_FEAT + (size_t)(n_tok * w->c_m);
	for (int k = 0; k < w->n_block; k++) {
		const of3_msa_block_w_t *b = &w->block[k];
		work = max2(work, opm_scratch(&b->opm, n_tok, n_s));
		if (b->has_msa_update) {
			work = max2(work, pwa_scratch(&b->pwa, n_tok, n_s));
			work = max2(work, of3_transition_scratch(&b->transition, n_s * n_tok));
		}
		work = max2(work, of3_pair_block_scratch(&b->pair, n_tok));
	}
	return sn + sn * (size_t)w->c_m + work;
}

/* ---- subsampling (spec/trunk.md §3.4.1) ---- */

/* Sift-down in a max-heap of n keys. */
static void sift(uint64_t *h, int64_t n, int64_t i)
{
	for (;;) {
		int64_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && h[l] > h[m])
			m = l;
		if (r < n && h[r] > h[m])
			m = r;
		if (m == i)
			return;
		uint64_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Whether MSA row r has at least one unmasked token. */
static int row_valid(const of3_trunk_features_t *f, int64_t r)
{
	for (int64_t i = 0; i < f->n_token; i++)
		if (f->msa_mask[r * f->n_token + i] > 0)
			return 1;
	return 0;
}

/* Appends to rows the at most k rows r with valid[r] == want that have the smallest random keys,
 * in key order: the first k of a random permutation of those rows. A key is the row's 32-bit
 * draw (position cycle * 2^32 + r of the stream) above the row index, which breaks ties. */
static int64_t pick(const of3_trunk_features_t *f, int want, int64_t k, uint64_t seed, int cycle,
                    int64_t *rows)
{
	uint64_t heap[OF3_MSA_MAX_ROWS];
	int64_t n = 0;
	for (int64_t r = 0; r < f->n_msa && k > 0; r++) {
		if (row_valid(f, r) != want)
			continue;
		uint64_t pos = ((uint64_t)(unsigned)cycle << 32) | (uint64_t)r;
		uint64_t key =
		        ((uint64_t)of3_rng_u32_at(seed, OF3_RNG_STREAM_MSA_SUBSAMPLE, pos) << 32) |
		        (uint64_t)r;
		if (n < k) {
			heap[n++] = key;
			for (int64_t i = n / 2 - 1; n == k && i >= 0; i--)
				sift(heap, n, i);
		} else if (key < heap[0]) {
			heap[0] = key;
			sift(heap, n, 0);
		}
	}
	if (n < k)
		for (int64_t i = n / 2 - 1; i >= 0; i--)
			sift(heap, n, i);
	for (int64_t m = n - 1; m > 0; m--) { /* heapsort: ascending keys */
		uint64_t t = heap[0];
		heap[0] = heap[m];
		heap[m] = t;
		sift(heap, m, 0);
	}
	for (int64_t i = 0; i < n; i++)
		rows[i] = (int64_t)(heap[i] & 0xffffffffu);
	return n;
}

int64_t of3_msa_subsample(const of3_trunk_features_t *f, uint64_t seed, int cycle, int64_t *rows)
{
	int64_t n_valid = 0, n_out = 0;
	for (int64_t r = 0; r < f->n_msa; r++)
		n_valid += row_valid(f, r);
	if (n_valid > OF3_MSA_MAX_ROWS)
		return pick(f, 1, OF3_MSA_MAX_ROWS, seed, cycle, rows);
	for (int64_t r = 0; r < f->n_msa; r++)
		if (row_valid(f, r))
			rows[n_out++] = r;
	return n_out + pick(f, 0, OF3_MSA_MAX_ROWS - n_valid, seed, cycle, rows + n_out);
}

/* ---- forward ---- */

/* z[N,N,c_z] += OPM(m[S,N,c_m], mask[S,N]) (spec/trunk.md §3.5.1): the bias of linear_out is
 * added before the division by the row overlap + 1e-3, as OpenFold3 does, so token pairs that
 * share no unmasked row get 1000 * bias. */
static void opm(float *z, const float *m, const float *mask, const of3_opm_w_t *w, int64_t n_s,
                int64_t n_tok, float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = n_tok, sn = n_s * n_tok, c_o = w->c_o, c_z = w->c_z;
	const int64_t n_ch = opm_chunk(w, n_tok);
	float *mn = scratch;         /* [S,N,c_m] LN(m) */
	float *a = mn + sn * w->c_m; /* [S,N,c_o] row-token side */
	float *b = a + sn * c_o;     /* [S,N,c_o] column-token side */
	float *norm = b + sn * c_o;  /* [N,N] rows unmasked at both tokens */
	float *ob = norm + n * n;    /* [n_ch,N,c_o*c_o] outer products of a chunk of rows i */
	float *out = ob + n_ch * n * c_o * c_o; /* [n_ch,N,c_z] */
	op->layer_norm(mn, m, w->ln.w, w->ln.b, sn, w->c_m, OF3_LN_EPS);
	op->linear(a, mn, w->l1.w, NULL, sn, w->c_m, c_o);
	op->mask_rows(a, mask, sn, c_o);
	op->linear(b, mn, w->l2.w, NULL, sn, w->c_m, c_o);
	op->mask_rows(b, mask, sn, c_o);
	op->outer_product(norm, mask, mask, n_s, n, 0, n, 1, 1);
	for (int64_t i0 = 0; i0 < n; i0 += n_ch) {
		const int64_t n_i = n - i0 < n_ch ? n - i0 : n_ch;
		op->outer_product(ob, a, b, n_s, n, i0, n_i, c_o, c_o);
		op->linear(out, ob, w->out.w, w->out.b, n_i * n, c_o * c_o, c_z);
		op->div_rows(out, norm + i0 * n, OPM_EPS, n_i * n, c_z);
		op->add(z + i0 * n * c_z, out, n_i * n * c_z);
	}
}

/* m[S,N,c_m] += PairWeightedAveraging(m, z[N,N,c_z], pair_mask[N,N]) (spec/trunk.md §3.5.2):
 * per-head weights softmax_j of a projection of LN(z), no query or key, shared by every row. */
static void pwa(float *m, const float *z, const float *pair_mask, const of3_pwa_w_t *w, int64_t n_s,
                int64_t n_tok, float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = n_tok, r = n * n, sn = n_s * n, nh = w->mha.n_head,
	              hd = nh * w->mha.d_head;
	float *mn = scratch;          /* [S,N,c_m] LN(m) */
	float *zn = mn + sn * w->c_m; /* [N,N,c_z] LN(z) */
	float *bz = zn + r * w->c_z;  /* [N,N,H] */
	float *wt = bz + r * nh;      /* [H,N,N] weights */
	float *v = wt + r * nh;       /* [S,N,H*d] */
	float *g = v + sn * hd;       /* [S,N,H*d] gate logits */
	float *o = g + sn * hd;       /* [S,N,H*d] */
	float *out = o + sn * hd;     /* [S,N,c_m] */
	op->layer_norm(mn, m, w->ln_m.w, w->ln_m.b, sn, w->c_m, OF3_LN_EPS);
	op->layer_norm(zn, z, w->ln_z.w, w->ln_z.b, r, w->c_z, OF3_LN_EPS);
	op->linear(bz, zn, w->bias.w, NULL, r, w->c_z, nh);
	op->transpose_pair(wt, bz, r, nh, 1);
	/* row h*N + i of wt is masked with pair_mask row i */
	op->softmax(wt, pair_mask, n, nh * n, n);
	op->linear(v, mn, w->mha.v.w, NULL, sn, w->c_m, hd);
	op->pair_weighted_avg(o, wt, v, n_s, n, nh, w->mha.d_head);
	op->linear(g, mn, w->mha.g.w, NULL, sn, w->c_m, hd);
	op->sigmoid_mul(o, g, o, sn * hd);
	op->linear(out, o, w->mha.o.w, NULL, sn, hd, w->c_m);
	op->add(m, out, sn * w->c_m);
}

int of3_msa_module_forward_rows(of3_backend_t *be, const of3_msa_w_t *w, const of3_trunk_dev_t *f,
                                const int64_t *rows, int64_t n_rows, const float *s_input, float *z,
                                float *m_out, float *scratch)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = f->n_token, n_s = n_rows, sn = n_s * n, c_m = w->c_m;
	const float *pm = f->pair_mask; /* [N,N] */
	float *mask = scratch;          /* [S,N] msa_mask of the rows */
	float *m = mask + sn;           /* [S,N,c_m] */
	float *work = m + sn * c_m;
	int32_t idx[OF3_MSA_MAX_ROWS];
	if (n_rows < 1 || n_rows > OF3_MSA_MAX_ROWS || n_rows > f->n_msa)
		return of3_err(OF3_ERR_INPUT, "MSA module: %lld rows asked of %lld (at most %d)",
		               (long long)n_rows, (long long)f->n_msa, OF3_MSA_MAX_ROWS);
	for (int64_t s = 0; s < n_s; s++) {
		if (rows[s] < 0 || rows[s] >= f->n_msa)
			return of3_err(OF3_ERR_INPUT, "MSA module: row %lld is not in [0, %lld)",
			               (long long)rows[s], (long long)f->n_msa);
		idx[s] = (int32_t)rows[s];
	}
	int rc = of3_backend_upload(be, f->msa_rows, idx, (size_t)n_s * sizeof *idx);
	if (rc < 0)
		return rc;
	/* embedding (spec/trunk.md §3.4.2): [msa one-hot | has_deletion | deletion_value] */
	float *feat = work;                 /* [S,N,34] */
	float *sp = feat + sn * N_MSA_FEAT; /* [N,c_m] linear_s_input(s_input) */
	op->gather_rows(feat, f->msa_feat, f->msa_rows, n_s, n * N_MSA_FEAT);
	op->gather_rows(mask, f->msa_mask, f->msa_rows, n_s, n);
	op->linear(m, feat, w->lin_m.w, NULL, sn, N_MSA_FEAT, c_m);
	op->linear(sp, s_input, w->lin_s_input.w, NULL, n, w->c_s_input, c_m);
	for (int64_t s = 0; s < n_s; s++)
		op->add(m + s * n * c_m, sp, n * c_m);
	if (m_out)
		op->copy(m_out, m, sn * c_m);
	for (int k = 0; k < w->n_block; k++) {
		const of3_msa_block_w_t *b = &w->block[k];
		opm(z, m, mask, &b->opm, n_s, n, work, be);
		if (b->has_msa_update) {
			pwa(m, z, pm, &b->pwa, n_s, n, work, be);
			of3_transition(m, mask, &b->transition, sn, work, be);
		}
		of3_pair_block(z, pm, &b->pair, n, work, be);
	}
	return 0;
}

int of3_msa_module_forward(of3_backend_t *be, const of3_msa_w_t *w, const of3_trunk_features_t *f,
                           const of3_trunk_dev_t *fd, const float *s_input, float *z, uint64_t seed,
                           int cycle, float *scratch)
{
	int64_t rows[OF3_MSA_MAX_ROWS];
	int64_t n_rows = of3_msa_subsample(f, seed, cycle, rows);
	return of3_msa_module_forward_rows(be, w, fd, rows, n_rows, s_input, z, NULL, scratch);
}
