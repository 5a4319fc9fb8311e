/* diffusion_transformer.c: AdaLN and the token-level diffusion transformer
 * (spec/diffusion_heads.md §3.0, §3.4). */
#include "diffusion_transformer.h"

#include <stdio.h>
#include <string.h>

#include "../../common/error.h"
#include "../ops.h"

static int block_bind(of3_dt_block_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                      int64_t *c_a, int64_t *c_s, int64_t *c_z)
{
	char apb[OF3_KEY_MAX], ct[OF3_KEY_MAX];
	int64_t nh = -1;
	memset(w, 0, sizeof *w);
	int rc = of3_key_cat(apb, prefix, "attention_pair_bias.", "");
	rc = rc ? rc : of3_key_cat(ct, prefix, "conditioned_transition.", "");
	rc = rc ? rc : of3_adaln_bind(&w->ln_a, ck, wb, apb, "layer_norm_a", c_a, c_s);
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->ln_z, c_z, 0, apb, "layer_norm_z");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->bias, &nh, c_z, 0, apb, "linear_z");
	rc = rc ? rc : of3_mha_bind(&w->mha, ck, wb, apb, "mha.", c_a, nh, OF3_F_MHA_Q_BIAS);
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->ada_out, c_a, c_s, 1, apb, "linear_ada_out");
	rc = rc ? rc : of3_cond_transition_bind(&w->tr, ck, wb, ct, c_a, c_s);
	if (rc)
		return rc;
	w->c_a = *c_a, w->c_s = *c_s, w->c_z = *c_z;
	return OF3_OK;
}

typedef struct {
	of3_diffusion_transformer_w_t *w;
	of3_ckpt_t *ck;
	of3_wbuf_t *wb;
	int64_t *c_a, *c_s, *c_z;
} blocks_ctx_t;

static int bind_one(void *ctx, int b, const char *block_prefix)
{
	const blocks_ctx_t *x = ctx;
	return block_bind(&x->w->blk[b], x->ck, x->wb, block_prefix, x->c_a, x->c_s, x->c_z);
}

int of3_diffusion_transformer_bind(of3_diffusion_transformer_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb,
                                   const char *prefix, int64_t *c_a, int64_t *c_s, int64_t *c_z)
{
	memset(w, 0, sizeof *w);
	blocks_ctx_t x = {w, ck, wb, c_a, c_s, c_z};
	int rc = of3_wbind_blocks(ck, prefix, OF3_DT_MAX_BLOCKS, "diffusion transformer", bind_one,
	                          &x, &w->n_block);
	w->c_a = *c_a, w->c_s = *c_s, w->c_z = *c_z;
	/* the step's stack lays every block's projections out at block 0's widths */
	for (int b = 1; rc == 0 && b < w->n_block; b++) {
		const of3_dt_block_w_t *x0 = &w->blk[0], *xb = &w->blk[b];
		const int64_t hd0 = x0->mha.n_head * x0->mha.d_head;
		const int64_t hdb = xb->mha.n_head * xb->mha.d_head;
		if (hdb != hd0 || xb->tr.n_hidden != x0->tr.n_hidden)
			rc = of3_err(OF3_ERR_INPUT,
			             "checkpoint: %sblocks.%d has %lld attention channels and a "
			             "%lld-wide transition, block 0 %lld and %lld",
			             prefix, b, (long long)hdb, (long long)xb->tr.n_hidden,
			             (long long)hd0, (long long)x0->tr.n_hidden);
	}
	return rc;
}

size_t of3_diffusion_transformer_bias_size(const of3_diffusion_transformer_w_t *w, int64_t n_tok)
{
	size_t n = 0;
	for (int b = 0; b < w->n_block; b++)
		n += (size_t)(n_tok * n_tok * w->blk[b].mha.n_head);
	return n;
}

static int64_t pair_chunk_floats = OF3_PAIR_CHUNK_FLOATS;

void of3_pair_set_chunk_floats(int64_t n_floats)
{
	pair_chunk_floats = n_floats > 0 ? n_floats : OF3_PAIR_CHUNK_FLOATS;
}

int64_t of3_pair_rows_per_chunk(int64_t n_tok, int64_t width)
{
	const int64_t per_row = n_tok * width > 0 ? n_tok * width : 1;
	const int64_t m = pair_chunk_floats / per_row;
	return m < 1 ? 1 : m > n_tok ? n_tok : m;
}

size_t of3_diffusion_transformer_bias_scratch(const of3_diffusion_transformer_w_t *w, int64_t n_tok)
{
	return (size_t)(of3_pair_rows_per_chunk(n_tok, w->c_z) * n_tok * w->c_z);
}

/* Every block's bias[N,N,H] = linear_z(LN_w(z)), a chunk of pair rows at a time: z is the same
 * for every sample and every step of a rollout, so the 24 maps are made once, not 200 x D
 * times. */
void of3_diffusion_transformer_pair_bias(float *bias, const float *z,
                                         const of3_diffusion_transformer_w_t *w, int64_t n_tok,
                                         float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t N = n_tok, m = of3_pair_rows_per_chunk(N, w->c_z);
	float *zn = scratch; /* [m,N,c_z] rows of LN_w(z) */
	for (int b = 0; b < w->n_block; b++) {
		const of3_dt_block_w_t *bw = &w->blk[b];
		const int64_t nh = bw->mha.n_head;
		for (int64_t i = 0; i < N; i += m) {
			const int64_t r = (N - i < m ? N - i : m) * N;
			op->layer_norm(zn, z + i * N * bw->c_z, bw->ln_z.w, NULL, r, bw->c_z,
			               OF3_LN_EPS);
			op->linear(bias + i * N * nh, zn, bw->bias.w, NULL, r, bw->c_z, nh);
		}
		bias += N * N * nh;
	}
}

/* the floats n uint16 take, rounded up to an of3_align boundary */
static int64_t lp_floats(int64_t n)
{
	return of3_align((n + 1) / 2);
}

/* A block's scratch: x, out [D,N,c_a], q, g, k, v, o [D,N,H*d], h1, h2 [D,N,h], then at an
 * of3_align boundary (cuBLAS's aligned kernels) the bf16 copy [D,N,max(c_a,h)] (uint16) of
 * the product operand in hand, AdaLN's x or SwiGLU's h1, written by its producer for
 * linear_stack_lpx. */
static int64_t block_lp_offset(const of3_dt_block_w_t *w, int64_t r)
{
	const int64_t hd = w->mha.n_head * w->mha.d_head;
	return of3_align(2 * r * w->c_a + 5 * r * hd + 2 * r * w->tr.n_hidden);
}

static size_t block_scratch(const of3_dt_block_w_t *w, int64_t n_tok, int64_t n_sample)
{
	const int64_t r = n_tok * n_sample, nt = w->tr.n_hidden;
	return (size_t)(block_lp_offset(w, r) + lp_floats(r * (w->c_a > nt ? w->c_a : nt)));
}

/* The s-dependent terms of every block, made at once from the stack (the layout of
 * of3_diffusion_transformer_stack): per block two AdaLNs (attention's, the transition's), each
 * a gate and a shift from LN_w(s), and two output gates from the raw s. T = 2 * blocks problems
 * of each kind, t = 2b (attention) and 2b + 1 (transition). Then bf16 copies (to_bf16, uint16)
 * of each block's four product groups for linear_stack_lp: a block's region of lp_blk floats at
 * lp, in it q/g/k/v [4,H*d,c_a], the attention output [c_a,H*d], the transition's a/b
 * [2,h,c_a] and its output [c_a,h], each at an of3_align boundary (as the step's other
 * operands, for cuBLAS's aligned kernels). */
typedef struct {
	int64_t wg, ws, wo, bg, bo, lnw, wqgkv, wab;
	int64_t lp, lp_blk, lp_qgkv, lp_o, lp_ab, lp_out, size;
} stack_t;

static stack_t stack_layout(const of3_diffusion_transformer_w_t *w, int64_t n_tok)
{
	const int64_t t = 2 * (int64_t)w->n_block, ca = w->c_a, cs = w->c_s;
	stack_t k;
	k.wg = 0;                  /* [T,c_a,c_s] AdaLN gates' weights */
	k.ws = k.wg + t * ca * cs; /* [T,c_a,c_s] AdaLN shifts' weights */
	k.wo = k.ws + t * ca * cs; /* [T,c_a,c_s] output gates' weights */
	k.bg = k.wo + t * ca * cs; /* [T,c_a] */
	k.bo = k.bg + t * ca;      /* [T,c_a] */
	k.lnw = k.bo + t * ca;     /* [T,N,c_s] the LayerNorms' weights, one row per token */
	/* [blocks,4,H*d,c_a]: each block's q, g, k, v projections, one stacked product per block
	 * (q's bias, the only one, is added from the weights) */
	const int64_t hd = w->n_block ? w->blk[0].mha.n_head * w->blk[0].mha.d_head : 0;
	k.wqgkv = k.lnw + t * n_tok * cs;
	/* [blocks,2,h,c_a]: each block's transition linear_a and linear_b */
	k.wab = k.wqgkv + (int64_t)w->n_block * 4 * hd * ca;
	const int64_t nt = w->n_block ? w->blk[0].tr.n_hidden : 0;
	k.lp = of3_align(k.wab + (int64_t)w->n_block * 2 * nt * ca);
	k.lp_qgkv = 0;
	k.lp_o = k.lp_qgkv + lp_floats(4 * hd * ca);
	k.lp_ab = k.lp_o + lp_floats(ca * hd);
	k.lp_out = k.lp_ab + lp_floats(2 * nt * ca);
	k.lp_blk = k.lp_out + lp_floats(ca * nt);
	k.size = k.lp + (int64_t)w->n_block * k.lp_blk;
	return k;
}

size_t of3_diffusion_transformer_stack_size(const of3_diffusion_transformer_w_t *w, int64_t n_tok)
{
	return (size_t)stack_layout(w, n_tok).size;
}

void of3_diffusion_transformer_stack(float *stack, const of3_diffusion_transformer_w_t *w,
                                     int64_t n_tok, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const stack_t k = stack_layout(w, n_tok);
	const int64_t ca = w->c_a, cs = w->c_s, mat = ca * cs;
	for (int b = 0; b < w->n_block; b++) {
		const of3_dt_block_w_t *bw = &w->blk[b];
		const of3_adaln_w_t *ln[2] = {&bw->ln_a, &bw->tr.ln};
		const of3_lin_w_t *gate[2] = {&bw->ada_out, &bw->tr.g};
		for (int j = 0; j < 2; j++) {
			const int64_t t = 2 * b + j;
			op->copy(stack + k.wg + t * mat, ln[j]->g.w, mat);
			op->copy(stack + k.bg + t * ca, ln[j]->g.b, ca);
			op->copy(stack + k.ws + t * mat, ln[j]->s.w, mat);
			op->repeat(stack + k.lnw + t * n_tok * cs, ln[j]->ln_s.w, n_tok, cs);
			op->copy(stack + k.wo + t * mat, gate[j]->w, mat);
			op->copy(stack + k.bo + t * ca, gate[j]->b, ca);
		}
		const int64_t hd = bw->mha.n_head * bw->mha.d_head, pm = hd * ca;
		const of3_lin_w_t *proj[4] = {&bw->mha.q, &bw->mha.g, &bw->mha.k, &bw->mha.v};
		float *wq = stack + k.wqgkv + (int64_t)b * 4 * pm;
		const int64_t tm = bw->tr.n_hidden * ca;
		op->copy(stack + k.wab + (int64_t)b * 2 * tm, bw->tr.a.w, tm);
		op->copy(stack + k.wab + (int64_t)b * 2 * tm + tm, bw->tr.b.w, tm);
		for (int j = 0; j < 4; j++)
			op->copy(wq + j * pm, proj[j]->w, pm);
		float *lp = stack + k.lp + (int64_t)b * k.lp_blk;
		op->to_bf16(lp + k.lp_qgkv, wq, 4 * pm);
		op->to_bf16(lp + k.lp_o, bw->mha.o.w, ca * hd);
		op->to_bf16(lp + k.lp_ab, stack + k.wab + (int64_t)b * 2 * tm, 2 * tm);
		op->to_bf16(lp + k.lp_out, bw->tr.out.w, tm);
	}
}

/* scratch of the s-dependent terms: LN(s), the T LN_w(s), the T gates, shifts, output gates */
static size_t cond_scratch(const of3_diffusion_transformer_w_t *w, int64_t n_tok)
{
	const int64_t T = 2 * (int64_t)w->n_block;
	return (size_t)(of3_align(n_tok * w->c_s) + of3_align(T * n_tok * w->c_s) +
	                3 * of3_align(T * n_tok * w->c_a));
}

size_t of3_diffusion_transformer_scratch(const of3_diffusion_transformer_w_t *w, int64_t n_tok,
                                         int64_t n_sample)
{
	size_t m = 0;
	for (int b = 0; b < w->n_block; b++) {
		size_t k = block_scratch(&w->blk[b], n_tok, n_sample);
		m = k > m ? k : m;
	}
	/* the token mask per sample, the terms of every block, then a block's */
	return (size_t)of3_align(n_tok * n_sample) + cond_scratch(w, n_tok) + m;
}

/* A block's bf16 weight copies in the stack (stack_t's lp region), for linear_stack_lp. */
typedef struct {
	const void *qgkv, *o, *ab, *out;
} block_lp_t;

/* One block on D samples as one batch of D attention problems, with its s-dependent terms
 * (gate logits and shifts [N,c_a]) made beforehand for every block. Its four product groups
 * (q/g/k/v, the attention output, the transition's a/b and output) go through linear_stack_lp
 * with their bf16 copies lp; three of them (all but the attention output) with x's bf16 copy
 * from the op that made x (adaln_apply_lp, swiglu_lp: linear_stack_lpx), no conversion launch
 * of their own. */
static void block_forward(float *a, int64_t n_sample, const float *g_a, const float *sh_a,
                          const float *g_out, const float *g_t, const float *sh_t,
                          const float *g_tr, const float *w_qgkv, const float *w_ab,
                          const block_lp_t *lp, const float *bias, const float *token_mask,
                          const float *mask, const of3_dt_block_w_t *w, int64_t n_tok,
                          float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t N = n_tok, D = n_sample, R = D * N, ca = w->c_a;
	const int64_t hd = w->mha.n_head * w->mha.d_head, nt = w->tr.n_hidden;
	float *x = scratch;      /* [D,N,c_a] */
	float *out = x + R * ca; /* [D,N,c_a] */
	float *q = out + R * ca; /* [D,N,H*d] */
	float *g = q + R * hd;
	float *k = g + R * hd;
	float *v = k + R * hd;
	float *o = v + R * hd;
	float *h1 = o + R * hd; /* [D,N,h] */
	float *h2 = h1 + R * nt;
	void *x_lp = scratch + block_lp_offset(w, R); /* [D,N,max(c_a,h)] bf16 (block_scratch) */

	op->adaln_apply_lp(x, x_lp, a, g_a, sh_a, D, N, ca, OF3_LN_EPS);
	/* q, g, k, v [D,N,H*d] side by side: one stacked product (the stack's copies of the
	 * four projections), then q's bias, the only one there is (OF3_F_MHA_Q_BIAS), on q alone
	 * (a bias through the stack would first write all four outputs) */
	op->linear_stack_lpx(q, x, x_lp, 0, w_qgkv, lp->qgkv, NULL, 4, R, ca, hd);
	if (w->mha.q.b)
		op->add_bcast(q, w->mha.q.b, R, hd);
	op->attention(o, q, k, v, g, mask, bias, D, N, N, w->mha.n_head, w->mha.d_head);
	op->linear_stack_lp(out, o, 0, w->mha.o.w, lp->o, NULL, 1, R, hd, ca);
	op->gated_residual(a, g_out, out, NULL, D, N, ca);

	/* conditioned transition on the updated a; its gate takes the raw s */
	of3_cond_transition(a, D, N, g_t, sh_t, g_tr, token_mask, &w->tr, w_ab, lp->ab, lp->out, x,
	                    out, h1, h2, x_lp, be);
}

void of3_diffusion_transformer(float *a, int64_t n_sample, const float *s, const float *bias,
                               const float *stack, const float *token_mask,
                               const of3_diffusion_transformer_w_t *w, int64_t n_tok,
                               float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const stack_t k = stack_layout(w, n_tok);
	const int64_t N = n_tok, T = 2 * (int64_t)w->n_block, ca = w->c_a, cs = w->c_s;
	/* each part at an of3_align boundary (cond_scratch) */
	float *mask = scratch;                      /* [D,N] attention's key mask, every block's */
	float *ln = mask + of3_align(N * n_sample); /* [N,c_s] LN(s) */
	float *sn = ln + of3_align(N * cs);         /* [T,N,c_s] LN_w(s) of every AdaLN */
	float *cg = sn + of3_align(T * N * cs);     /* [T,N,c_a] AdaLN gate logits */
	float *csh = cg + of3_align(T * N * ca);    /* [T,N,c_a] AdaLN shifts */
	float *co = csh + of3_align(T * N * ca);    /* [T,N,c_a] output gate logits */
	float *blk = co + of3_align(T * N * ca);
	op->repeat(mask, token_mask, n_sample, N);
	/* what every block takes from s, in five launches instead of twelve per block: LN_w(s) as
	 * LN(s) times each weight, then three stacked products */
	op->layer_norm(ln, s, NULL, NULL, N, cs, OF3_LN_EPS);
	op->repeat(sn, ln, T, N * cs);
	op->mul(sn, sn, stack + k.lnw, T * N * cs);
	op->linear_stack(cg, sn, N * cs, stack + k.wg, stack + k.bg, T, N, cs, ca);
	op->linear_stack(csh, sn, N * cs, stack + k.ws, NULL, T, N, cs, ca);
	op->linear_stack(co, s, 0, stack + k.wo, stack + k.bo, T, N, cs, ca);
	for (int b = 0; b < w->n_block; b++) {
		const int64_t ta = 2 * b * N * ca, tt = ta + N * ca;
		const int64_t hd = w->blk[b].mha.n_head * w->blk[b].mha.d_head;
		const float *lp = stack + k.lp + (int64_t)b * k.lp_blk;
		const block_lp_t blp = {lp + k.lp_qgkv, lp + k.lp_o, lp + k.lp_ab, lp + k.lp_out};
		block_forward(a, n_sample, cg + ta, csh + ta, co + ta, cg + tt, csh + tt, co + tt,
		              stack + k.wqgkv + (int64_t)b * 4 * hd * ca,
		              stack + k.wab + (int64_t)b * 2 * w->blk[b].tr.n_hidden * ca, &blp,
		              bias, token_mask, mask, &w->blk[b], N, blk, be);
		bias += N * N * w->blk[b].mha.n_head;
	}
}
