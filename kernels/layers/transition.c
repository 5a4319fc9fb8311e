/* transition.c: the SwiGLU transition (spec/trunk.md §3.0.1, AF3 Alg. 11): LayerNorm, silu of
 * linear_a times linear_b, linear_out, output masked, added to the input. Four ops: linear_a and
 * linear_b are one stacked product (their weights bound back to back), the mask goes on the
 * hidden rows with the SwiGLU, and linear_out adds into x. */
#include "pairformer.h"

int of3_transition_bind(of3_transition_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                        int64_t *c)
{
	int64_t n = -1, c_out;
	int rc = of3_wbind_ln(wb, ck, &w->ln, c, 1, prefix, "layer_norm");
	if (rc)
		return rc;
	/* linear_a and linear_b back to back, [2, n, c]: one stacked product */
	of3_lin_w_t *const lin[2] = {&w->a, &w->b};
	int64_t *const n_out[2] = {&n, &n};
	const char *const names[2] = {"swiglu.linear_a", "swiglu.linear_b"};
	rc = of3_wbind_lin_packed(wb, ck, 2, lin, n_out, c, prefix, names);
	c_out = *c;
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->out, &c_out, &n, 0, prefix, "linear_out");
	w->c = *c;
	w->n_hidden = n;
	return rc;
}

size_t of3_transition_scratch(const of3_transition_w_t *w, int64_t n_r)
{
	return (size_t)n_r * (size_t)(w->c + 2 * w->n_hidden);
}

void of3_transition(float *x, const float *mask, const of3_transition_w_t *w, int64_t n_r,
                    float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t c = w->c, n = w->n_hidden;
	float *xn = scratch;     /* [R, c] */
	float *a = xn + n_r * c; /* [R, n] */
	float *b = a + n_r * n;  /* [R, n] */
	op->layer_norm(xn, x, w->ln.w, w->ln.b, n_r, c, OF3_LN_EPS);
	op->linear_stack(a, xn, 0, w->a.w, NULL, 2, n_r, c, n);
	/* the mask on the hidden rows: a masked row adds linear_out(0) = 0, as masking the
	 * output did (masks are 0/1) */
	op->swiglu_rows(a, a, b, mask, n_r, n);
	op->linear_acc(x, a, w->out.w, n_r, n, c);
}
