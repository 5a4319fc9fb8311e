/* mha.c: binding the gated multi-head attention's projections (mha.h). */
#include "mha.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "../../common/error.h"

int of3_mha_bind(of3_mha_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb, const char *prefix,
                 const char *name, int64_t *c, int64_t n_head, unsigned flags)
{
	char q[64], k[64], v[64], g[64], o[64];
	const char *first = flags & OF3_F_MHA_NO_QK ? v : q;
	int64_t hd = -1;
	int n = snprintf(q, sizeof q, "%slinear_q", name);
	if (n < 0 || (size_t)n >= sizeof q)
		return of3_err(OF3_ERR_INPUT, "checkpoint: attention key name too long: %s%s",
		               prefix, name);
	snprintf(k, sizeof k, "%slinear_k", name);
	snprintf(v, sizeof v, "%slinear_v", name);
	snprintf(g, sizeof g, "%slinear_g", name);
	snprintf(o, sizeof o, "%slinear_o", name);
	memset(w, 0, sizeof *w);
	int rc = OF3_OK;
	if (flags & OF3_F_MHA_PACKED) {
		/* one [4,H*d,c] stack: no bias may sit between them */
		assert(!(flags & (OF3_F_MHA_Q_BIAS | OF3_F_MHA_NO_QK)));
		of3_lin_w_t *const lin[4] = {&w->q, &w->k, &w->v, &w->g};
		int64_t *const n_out[4] = {&hd, &hd, &hd, &hd};
		const char *const names[4] = {q, k, v, g};
		rc = of3_wbind_lin_packed(wb, ck, 4, lin, n_out, c, prefix, names);
	} else {
		if (!(flags & OF3_F_MHA_NO_QK)) {
			rc = of3_wbind_lin(wb, ck, &w->q, &hd, c, flags & OF3_F_MHA_Q_BIAS ? 1 : 0,
			                   prefix, q);
			rc = rc ? rc : of3_wbind_lin(wb, ck, &w->k, &hd, c, 0, prefix, k);
		}
		rc = rc ? rc : of3_wbind_lin(wb, ck, &w->v, &hd, c, 0, prefix, v);
		rc = rc ? rc : of3_wbind_lin(wb, ck, &w->g, &hd, c, 0, prefix, g);
	}
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->o, c, &hd, 0, prefix, o);
	if (rc)
		return rc;
	if (n_head <= 0 || hd % n_head != 0)
		return of3_err(OF3_ERR_INPUT,
		               "checkpoint key '%s%s.weight': %lld outputs do not split into the "
		               "%lld heads of linear_z",
		               prefix, first, (long long)hd, (long long)n_head);
	w->n_head = n_head;
	w->d_head = hd / n_head;
	return OF3_OK;
}
