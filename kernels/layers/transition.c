/* transition.c: the SwiGLU transition (spec/trunk.md §3.0.1, AF3 Alg. 11): LayerNorm, silu of
 * linear_a times linear_b, linear_out, output masked, added to the input. */
#include "pairformer.h"

int of3_transition_bind(of3_transition_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                        int64_t *c)
{
	int64_t n = -1, c_out;
	int rc = of3_wbind_ln(wb, ck, &w->ln, c, 1, prefix, "layer_norm");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->a, &n, c, 0, prefix, "swiglu.linear_a");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->b, &n, c, 0, prefix, "swiglu.linear_b");
	c_out = *c;
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->out, &c_out, &n, 0, prefix, "linear_out");
	w->c = *c;
	w->n_hidden = n;
	return rc;
}

size_t of3_transition_scratch(const of3_transition_w_t *w, int64_t n_r)
{
	return (size_t)n_r * (size_t)(2 * w->c + 2 * w->n_hidden);
}

void of3_transition(float *x, const float *mask, const of3_transition_w_t *w, int64_t n_r,
                    float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t c = w->c, n = w->n_hidden;
	float *xn = scratch;      /* [R, c] */
	float *a = xn + n_r * c;  /* [R, n] */
	float *b = a + n_r * n;   /* [R, n] */
	float *out = b + n_r * n; /* [R, c] */
	op->layer_norm(xn, x, w->ln.w, w->ln.b, n_r, c, OF3_LN_EPS);
	op->linear(a, xn, w->a.w, NULL, n_r, c, n);
	op->linear(b, xn, w->b.w, NULL, n_r, c, n);
	op->swiglu(a, a, b, n_r * n);
	op->linear(out, a, w->out.w, NULL, n_r, n, c);
	if (mask)
		op->mask_rows(out, mask, n_r, c);
	op->add(x, out, n_r * c);
}
