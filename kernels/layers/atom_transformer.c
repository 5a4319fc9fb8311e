/* atom_transformer.c: sequence-local atom attention, the atom transformer and the atom-pair
 * conditioning (spec/trunk.md §3.1.2 steps 2-4, spec/diffusion_heads.md §3.6 and §4).
 *
 * Every row-wise step (AdaLN, the q/k/v/gate projections) runs on the A atom rows and only the
 * projected queries, keys and values are cut into blocks: row-wise maps commute with the
 * blocking, and zero padding maps to zero keys and values (no bias on linear_k, linear_v), as
 * the reference's padded AdaLN gives LN(0) = 0. So the numbers equal OpenFold3's padded blocks
 * while the AdaLNs run once per atom instead of once per window position (4x fewer rows). */
#include "atom_transformer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../common/error.h"

/* ---- binding ---- */

int of3_ref_atom_bind(of3_ref_atom_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                      int64_t *c_a)
{
	int64_t three = 3, one = 1, n_el = OF3_REF_N_ELEMENT, n_ch = OF3_REF_N_CHARS;
	int rc = of3_wbind_lin(wb, ck, &w->pos, c_a, &three, 0, prefix, "linear_ref_pos");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->charge, c_a, &one, 0, prefix, "linear_ref_charge");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->mask, c_a, &one, 0, prefix, "linear_ref_mask");
	rc = rc ? rc
	        : of3_wbind_lin(wb, ck, &w->element, c_a, &n_el, 0, prefix, "linear_ref_element");
	rc = rc ? rc
	        : of3_wbind_lin(wb, ck, &w->chars, c_a, &n_ch, 0, prefix, "linear_ref_atom_chars");
	w->c_a = *c_a;
	return rc;
}

void of3_ref_atom_embed(float *c, const float *ref_pos, const float *ref_charge,
                        const int32_t *ref_mask, const int32_t *ref_element,
                        const int32_t *ref_chars, const of3_ref_atom_w_t *w, int64_t n_atom,
                        float *fx, float *tmp, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t A = n_atom, ca = w->c_a;
	op->linear(c, ref_pos, w->pos.w, NULL, A, 3, ca);
	op->asinh(fx, ref_charge, A);
	op->linear(tmp, fx, w->charge.w, NULL, A, 1, ca);
	op->add(c, tmp, A * ca);
	op->i32_to_f32(fx, ref_mask, A);
	op->linear(tmp, fx, w->mask.w, NULL, A, 1, ca);
	op->add(c, tmp, A * ca);
	op->i32_to_f32(fx, ref_element, A * OF3_REF_N_ELEMENT);
	op->linear(tmp, fx, w->element.w, NULL, A, OF3_REF_N_ELEMENT, ca);
	op->add(c, tmp, A * ca);
	op->i32_to_f32(fx, ref_chars, A * OF3_REF_N_CHARS); /* [A,4,64] flattens position-major */
	op->linear(tmp, fx, w->chars.w, NULL, A, OF3_REF_N_CHARS, ca);
	op->add(c, tmp, A * ca);
}

int of3_adaln_bind(of3_adaln_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                   const char *name, int64_t *c_a, int64_t *c_s)
{
	char p[OF3_KEY_MAX];
	int rc = of3_key_cat(p, prefix, name, ".");
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->ln_s, c_s, 0, p, "layer_norm_s");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->g, c_a, c_s, 1, p, "linear_g");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->s, c_a, c_s, 0, p, "linear_s");
	w->c_a = *c_a;
	w->c_s = *c_s;
	return rc;
}

static int block_bind(of3_atom_block_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                      int64_t *c_a, int64_t *c_s, int64_t c_p)
{
	char ap[OF3_KEY_MAX], ct[OF3_KEY_MAX];
	int64_t n_head = -1, c_p_in = c_p;
	int rc = of3_key_cat(ap, prefix, "attention_pair_bias.", "");
	rc = rc ? rc : of3_key_cat(ct, prefix, "conditioned_transition.", "");
	rc = rc ? rc : of3_adaln_bind(&w->ln_q, ck, wb, ap, "layer_norm_a_q", c_a, c_s);
	rc = rc ? rc : of3_adaln_bind(&w->ln_k, ck, wb, ap, "layer_norm_a_k", c_a, c_s);
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->ln_z, &c_p_in, 0, ap, "layer_norm_z");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->bias, &n_head, &c_p_in, 0, ap, "linear_z");
	rc = rc ? rc : of3_mha_bind(&w->mha, ck, wb, ap, "mha.", c_a, n_head, OF3_F_MHA_Q_BIAS);
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->ada_out, c_a, c_s, 1, ap, "linear_ada_out");
	rc = rc ? rc : of3_cond_transition_bind(&w->tr, ck, wb, ct, c_a, c_s);
	w->c_a = *c_a;
	w->c_s = *c_s;
	w->c_p = c_p;
	return rc;
}

typedef struct {
	of3_atom_transformer_w_t *w;
	of3_ckpt_t *ck;
	of3_wbuf_t *wb;
	int64_t *c_a, *c_s, c_p;
} blocks_ctx_t;

static int bind_one(void *ctx, int b, const char *block_prefix)
{
	const blocks_ctx_t *x = ctx;
	return block_bind(&x->w->blk[b], x->ck, x->wb, block_prefix, x->c_a, x->c_s, x->c_p);
}

int of3_atom_transformer_bind(of3_atom_transformer_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb,
                              const char *prefix, int64_t *c_a, int64_t *c_s, int64_t c_p)
{
	memset(w, 0, sizeof *w);
	blocks_ctx_t x = {w, ck, wb, c_a, c_s, c_p};
	int rc = of3_wbind_blocks(ck, prefix, OF3_ATOM_MAX_BLOCKS, "atom transformer", bind_one, &x,
	                          &w->n_block);
	w->c_a = *c_a;
	w->c_s = *c_s;
	w->c_p = c_p;
	return rc;
}

int of3_atom_pair_bind(of3_atom_pair_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *ref_prefix,
                       const char *prefix, int64_t c_a, int64_t *c_p)
{
	int64_t three = 3, one = 1, ca = c_a;
	int rc = of3_wbind_lin(wb, ck, &w->offset, c_p, &three, 0, ref_prefix, "linear_ref_offset");
	rc = rc ? rc
	        : of3_wbind_lin(wb, ck, &w->inv_sq, c_p, &one, 0, ref_prefix,
	                        "linear_inv_sq_dists");
	rc = rc ? rc
	        : of3_wbind_lin(wb, ck, &w->valid, c_p, &one, 0, ref_prefix, "linear_valid_mask");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->l, c_p, &ca, 0, prefix, "linear_l");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->m, c_p, &ca, 0, prefix, "linear_m");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->mlp1, c_p, c_p, 0, prefix, "pair_mlp.1");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->mlp3, c_p, c_p, 0, prefix, "pair_mlp.3");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->mlp5, c_p, c_p, 0, prefix, "pair_mlp.5");
	w->c_a = c_a;
	w->c_p = *c_p;
	return rc;
}

/* ---- scratch ---- */

size_t of3_atom_pair_scratch(const of3_atom_pair_w_t *w, int64_t n_atom)
{
	const size_t a = (size_t)n_atom, nb = (size_t)of3_atom_n_block(n_atom);
	const size_t r = nb * OF3_ATOM_NQ * OF3_ATOM_NK;
	return r * (6 + 2 * (size_t)w->c_p) /* d (3), inv, v, pair mask, tmp, h */
	       + nb * (OF3_ATOM_NQ + OF3_ATOM_NK) + a * (size_t)(w->c_a + 2 * w->c_p);
}

/* ---- host versions of two block ops (the CPU's, for callers holding host memory) ---- */

void of3_atom_windows(float *y, const float *x, int64_t n_atom, int64_t n_c, int64_t n_win,
                      int64_t first)
{
	of3_ops_cpu()->atom_windows(y, x, n_atom, n_c, n_win, first);
}

void of3_atom_block_masks(float *mask_q, float *mask_k, float *pair_mask, const float *atom_mask,
                          int64_t n_atom)
{
	of3_ops_cpu()->atom_block_masks(mask_q, mask_k, pair_mask, atom_mask, n_atom);
}

/* ---- forward ---- */

/* Scratch carving shared by the two pair steps. */
typedef struct {
	float *d, *inv, *v, *pm, *tmp, *h, *mq, *mk, *rc, *lq, *lk;
} pair_scratch_t;

static pair_scratch_t pair_carve(float *scratch, const of3_atom_pair_w_t *w, int64_t n_atom)
{
	const int64_t nb = of3_atom_n_block(n_atom), a = n_atom, cp = w->c_p, ca = w->c_a;
	const int64_t r = nb * OF3_ATOM_NQ * OF3_ATOM_NK;
	pair_scratch_t s;
	s.d = scratch;                  /* [nb,32,128,3] masked offsets pos_q - pos_k */
	s.inv = s.d + r * 3;            /* [nb,32,128,1] 1 / (1 + |d|^2) */
	s.v = s.inv + r;                /* [nb,32,128,1] same conformer, masked */
	s.pm = s.v + r;                 /* [nb,32,128] block pair mask M */
	s.tmp = s.pm + r;               /* [nb,32,128,c_p] */
	s.h = s.tmp + r * cp;           /* [nb,32,128,c_p] */
	s.mq = s.h + r * cp;            /* [nb,32] */
	s.mk = s.mq + nb * OF3_ATOM_NQ; /* [nb,128] */
	s.rc = s.mk + nb * OF3_ATOM_NK; /* [A,c_a] relu(c) */
	s.lq = s.rc + a * ca;           /* [A,c_p] linear_l(relu(c)), query side */
	s.lk = s.lq + a * cp;           /* [A,c_p] linear_m(relu(c)), key side */
	return s;
}

void of3_atom_pair_embed(float *p, const float *ref_pos, const int32_t *ref_space_uid,
                         const float *atom_mask, const of3_atom_pair_w_t *w, int64_t n_atom,
                         float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t nb = of3_atom_n_block(n_atom), cp = w->c_p;
	const int64_t r = nb * OF3_ATOM_NQ * OF3_ATOM_NK;
	pair_scratch_t t = pair_carve(scratch, w, n_atom);
	float *d = t.d, *inv = t.inv, *v = t.v, *pm = t.pm, *tmp = t.tmp;
	op->atom_block_masks(NULL, NULL, pm, atom_mask, n_atom);
	op->atom_pair_feats(d, inv, v, ref_pos, ref_space_uid, pm, n_atom);
	/* v is 0 or 1, so one mask of the sum equals the reference's three masked terms */
	op->linear(p, d, w->offset.w, NULL, r, 3, cp);
	op->linear(tmp, inv, w->inv_sq.w, NULL, r, 1, cp);
	op->add(p, tmp, r * cp);
	op->linear(tmp, v, w->valid.w, NULL, r, 1, cp);
	op->add(p, tmp, r * cp);
	op->mask_rows(p, v, r, cp);
}

void of3_atom_pair_update(float *p, const float *c, const float *atom_mask,
                          const of3_atom_pair_w_t *w, int64_t n_atom, float *scratch,
                          const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t nb = of3_atom_n_block(n_atom), a = n_atom, cp = w->c_p, ca = w->c_a;
	const int64_t r = nb * OF3_ATOM_NQ * OF3_ATOM_NK;
	pair_scratch_t t = pair_carve(scratch, w, n_atom);
	float *pm = t.pm, *tmp = t.tmp, *h = t.h, *rc = t.rc, *lq = t.lq, *lk = t.lk;
	op->atom_block_masks(NULL, NULL, pm, atom_mask, n_atom);
	op->relu(rc, c, a * ca);
	op->linear(lq, rc, w->l.w, NULL, a, ca, cp);
	op->linear(lk, rc, w->m.w, NULL, a, ca, cp);
	op->atom_pair_outer_add(p, lq, lk, pm, n_atom, cp);
	op->relu(tmp, p, r * cp);
	op->linear(h, tmp, w->mlp1.w, NULL, r, cp, cp);
	op->relu(h, h, r * cp);
	op->linear(tmp, h, w->mlp3.w, NULL, r, cp, cp);
	op->relu(tmp, tmp, r * cp);
	op->linear(h, tmp, w->mlp5.w, NULL, r, cp, cp);
	op->add(p, h, r * cp);
	op->mask_rows(p, pm, r, cp);
}

void of3_atom_pair_cond(float *p, const float *ref_pos, const int32_t *ref_space_uid,
                        const float *atom_mask, const float *c, const of3_atom_pair_w_t *w,
                        int64_t n_atom, float *scratch, const of3_backend_t *be)
{
	of3_atom_pair_embed(p, ref_pos, ref_space_uid, atom_mask, w, n_atom, scratch, be);
	of3_atom_pair_update(p, c, atom_mask, w, n_atom, scratch, be);
}

/* AdaLN (spec/trunk.md §3.0.2) in two halves: its conditioning terms depend on s only, and a
 * caller whose s stays fixed over many calls (the diffusion module: c over 200 steps, the
 * conditioned single over the samples of a step) computes them once. */
void of3_adaln_cond(float *gate, float *shift, const float *s, const of3_adaln_w_t *w, int64_t n_r,
                    float *sn, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	op->layer_norm(sn, s, w->ln_s.w, NULL, n_r, w->c_s, OF3_LN_EPS);
	op->linear(gate, sn, w->g.w, w->g.b, n_r, w->c_s, w->c_a);
	op->linear(shift, sn, w->s.w, NULL, n_r, w->c_s, w->c_a);
}

void of3_adaln_apply(float *y, const float *x, const float *gate, const float *shift, int64_t n_rep,
                     int64_t n_r, int64_t c_a, const of3_backend_t *be)
{
	be->ops->adaln_apply(y, x, gate, shift, n_rep, n_r, c_a, OF3_LN_EPS);
}

int of3_cond_transition_bind(of3_cond_transition_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb,
                             const char *prefix, int64_t *c_a, int64_t *c_s)
{
	int64_t h = -1;
	int rc = of3_adaln_bind(&w->ln, ck, wb, prefix, "layer_norm", c_a, c_s);
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->a, &h, c_a, 0, prefix, "swiglu.linear_a");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->b, &h, c_a, 0, prefix, "swiglu.linear_b");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->g, c_a, c_s, 1, prefix, "linear_g");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->out, c_a, &h, 0, prefix, "linear_out");
	w->n_hidden = h;
	return rc;
}

void of3_cond_transition(float *a, int64_t n_rep, int64_t n_r, const float *gate,
                         const float *shift, const float *out_gate, const float *mask,
                         const of3_cond_transition_w_t *w, const float *w_ab, const void *w_ab_lp,
                         const void *w_out_lp, float *x, float *out, float *h1, float *h2,
                         void *x_lp, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t R = n_rep * n_r, ca = w->out.n_out, nh = w->n_hidden;
	const int stacked = w_ab && h2 == h1 + R * nh;
	/* the bf16 copies of the products' x, made by the ops that make x, only for a product
	 * on bf16 weights that takes them */
	void *ab_lp = stacked && w_ab_lp ? x_lp : NULL, *out_lp = w_out_lp ? x_lp : NULL;
	if (ab_lp)
		op->adaln_apply_lp(x, ab_lp, a, gate, shift, n_rep, n_r, ca, OF3_LN_EPS);
	else
		of3_adaln_apply(x, a, gate, shift, n_rep, n_r, ca, be);
	if (stacked) {
		op->linear_stack_lpx(h1, x, ab_lp, 0, w_ab, w_ab_lp, NULL, 2, R, ca, nh);
	} else {
		op->linear(h1, x, w->a.w, NULL, R, ca, nh);
		op->linear(h2, x, w->b.w, NULL, R, ca, nh);
	}
	if (out_lp)
		op->swiglu_lp(h1, out_lp, h1, h2, R * nh);
	else
		op->swiglu(h1, h1, h2, R * nh);
	/* w_out_lp NULL (the atom blocks): linear */
	op->linear_stack_lpx(out, h1, out_lp, 0, w->out.w, w_out_lp, NULL, 1, R, nh, ca);
	op->gated_residual(a, out_gate, out, mask, n_rep, n_r, ca);
}

/* One block's conditioning inside the caller's buffer, as offsets in floats: the three
 * AdaLNs' gate and shift, the two output gates (logits, each [A,c_a]) and the pair bias
 * [nb,32,128,H]. */
typedef struct {
	int64_t g_q, sh_q, g_k, sh_k, g_out, g_t, sh_t, g_tr, bias, size;
} block_cond_t;

static block_cond_t block_cond(const of3_atom_block_w_t *w, int64_t n_atom)
{
	const int64_t n = n_atom * w->c_a;
	const int64_t r = of3_atom_n_block(n_atom) * OF3_ATOM_NQ * OF3_ATOM_NK;
	block_cond_t c;
	c.g_q = 0, c.sh_q = n, c.g_k = 2 * n, c.sh_k = 3 * n, c.g_out = 4 * n, c.g_t = 5 * n;
	c.sh_t = 6 * n, c.g_tr = 7 * n, c.bias = 8 * n, c.size = 8 * n + r * w->mha.n_head;
	return c;
}

size_t of3_atom_transformer_cond_size(const of3_atom_transformer_w_t *w, int64_t n_atom)
{
	size_t n = 0;
	for (int b = 0; b < w->n_block; b++)
		n += (size_t)block_cond(&w->blk[b], n_atom).size;
	return n;
}

size_t of3_atom_transformer_prepare_scratch(const of3_atom_transformer_w_t *w, int64_t n_atom)
{
	const size_t r = (size_t)of3_atom_n_block(n_atom) * OF3_ATOM_NQ * OF3_ATOM_NK;
	return r * (size_t)w->c_p + (size_t)n_atom * (size_t)w->c_s; /* LN_w(p), LN_w(s) */
}

void of3_atom_transformer_prepare(float *cond, const float *s, const float *p,
                                  const of3_atom_transformer_w_t *w, int64_t n_atom, float *scratch,
                                  const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t A = n_atom, r = of3_atom_n_block(n_atom) * OF3_ATOM_NQ * OF3_ATOM_NK;
	float *zn = scratch;         /* [nb,32,128,c_p] LN_w(p) */
	float *sn = zn + r * w->c_p; /* [A,c_s] */
	for (int b = 0; b < w->n_block; b++) {
		const of3_atom_block_w_t *bw = &w->blk[b];
		const int64_t ca = bw->c_a, cs = bw->c_s;
		const block_cond_t c = block_cond(bw, n_atom);
		op->layer_norm(zn, p, bw->ln_z.w, NULL, r, bw->c_p, OF3_LN_EPS);
		op->linear(cond + c.bias, zn, bw->bias.w, NULL, r, bw->c_p, bw->mha.n_head);
		of3_adaln_cond(cond + c.g_q, cond + c.sh_q, s, &bw->ln_q, A, sn, be);
		of3_adaln_cond(cond + c.g_k, cond + c.sh_k, s, &bw->ln_k, A, sn, be);
		op->linear(cond + c.g_out, s, bw->ada_out.w, bw->ada_out.b, A, cs, ca);
		of3_adaln_cond(cond + c.g_t, cond + c.sh_t, s, &bw->tr.ln, A, sn, be);
		op->linear(cond + c.g_tr, s, bw->tr.g.w, bw->tr.g.b, A, cs, ca);
		cond += c.size;
	}
}

static size_t block_run_scratch(const of3_atom_block_w_t *w, int64_t n_atom, int64_t n_sample)
{
	const size_t a = (size_t)n_atom * (size_t)n_sample, nb = (size_t)of3_atom_n_block(n_atom);
	const size_t hd = (size_t)(w->mha.n_head * w->mha.d_head);
	return nb * OF3_ATOM_NK                  /* mask_k */
	       + a * 2 * (size_t)w->c_a          /* x, out */
	       + a * 5 * hd                      /* q, g, k, v, o */
	       + a * 2 * (size_t)w->tr.n_hidden; /* h1, h2 */
}

size_t of3_atom_transformer_run_scratch(const of3_atom_transformer_w_t *w, int64_t n_atom,
                                        int64_t n_sample)
{
	size_t n = 0;
	for (int b = 0; b < w->n_block; b++) {
		size_t k = block_run_scratch(&w->blk[b], n_atom, n_sample);
		n = k > n ? k : n;
	}
	return n;
}

size_t of3_atom_transformer_scratch(const of3_atom_transformer_w_t *w, int64_t n_atom)
{
	size_t run = of3_atom_transformer_run_scratch(w, n_atom, 1);
	size_t prep = of3_atom_transformer_prepare_scratch(w, n_atom);
	return of3_atom_transformer_cond_size(w, n_atom) + (run > prep ? run : prep);
}

static void block_run(float *a, int64_t n_sample, const float *cond, const float *atom_mask,
                      const of3_atom_block_w_t *w, int64_t n_atom, float *scratch,
                      const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t A = n_atom, D = n_sample, R = D * A, nb = of3_atom_n_block(n_atom);
	const int64_t ca = w->c_a, nh = w->mha.n_head, hd = nh * w->mha.d_head,
	              nh_t = w->tr.n_hidden;
	const block_cond_t c = block_cond(w, n_atom);
	float *mask_k = scratch;              /* [nb,128] */
	float *x = mask_k + nb * OF3_ATOM_NK; /* [D,A,c_a] AdaLN output */
	float *out = x + R * ca;              /* [D,A,c_a] */
	float *q = out + R * ca;              /* [D,A,H*d] */
	float *g = q + R * hd;                /* [D,A,H*d] gate logits */
	float *k = g + R * hd;                /* [D,A,H*d] */
	float *v = k + R * hd;                /* [D,A,H*d] */
	float *o = v + R * hd;                /* [D,A,H*d] attention output */
	float *h1 = o + R * hd;               /* [D,A,h] */
	float *h2 = h1 + R * nh_t;            /* [D,A,h] */

	op->atom_block_masks(NULL, mask_k, NULL, atom_mask, n_atom);
	of3_adaln_apply(x, a, cond + c.g_q, cond + c.sh_q, D, A, ca, be);
	op->linear(q, x, w->mha.q.w, w->mha.q.b, R, ca, hd);
	op->linear(g, x, w->mha.g.w, NULL, R, ca, hd);
	of3_adaln_apply(x, a, cond + c.g_k, cond + c.sh_k, D, A, ca, be);
	op->linear(k, x, w->mha.k.w, NULL, R, ca, hd);
	op->linear(v, x, w->mha.v.w, NULL, R, ca, hd);
	/* every block of every sample in one call, the blocks read in place (keys past either end
	 * are the zero padding, masked by mask_k) and only the real query atoms written: the
	 * fully padded query rows of the last block, which see the key mask only, are never
	 * computed */
	op->attention_atoms(o, q, k, v, g, mask_k, cond + c.bias, D, A, nh, w->mha.d_head);
	op->linear(out, o, w->mha.o.w, NULL, R, hd, ca);
	op->gated_residual(a, cond + c.g_out, out, NULL, D, A, ca);

	/* conditioned transition on the updated a; its gate takes the raw s */
	of3_cond_transition(a, D, A, cond + c.g_t, cond + c.sh_t, cond + c.g_tr, atom_mask, &w->tr,
	                    NULL, NULL, NULL, x, out, h1, h2, NULL, be);
}

void of3_atom_transformer_run(float *a, int64_t n_sample, const float *cond, const float *atom_mask,
                              const of3_atom_transformer_w_t *w, int64_t n_atom, float *scratch,
                              const of3_backend_t *be)
{
	for (int b = 0; b < w->n_block; b++) {
		const of3_atom_block_w_t *bw = &w->blk[b];
		block_run(a, n_sample, cond, atom_mask, bw, n_atom, scratch, be);
		cond += block_cond(bw, n_atom).size;
	}
}

void of3_atom_transformer(float *a, const float *s, const float *p, const float *atom_mask,
                          const of3_atom_transformer_w_t *w, int64_t n_atom, float *scratch,
                          const of3_backend_t *be)
{
	float *cond = scratch, *inner = cond + of3_atom_transformer_cond_size(w, n_atom);
	of3_atom_transformer_prepare(cond, s, p, w, n_atom, inner, be);
	of3_atom_transformer_run(a, 1, cond, atom_mask, w, n_atom, inner, be);
}
