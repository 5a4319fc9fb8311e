/* conformer.c: the SMILES conformer generator's embedding and refinement (issue #6;
 * conformer.h describes the method, conformer_bounds.c the bounds).
 *
 * An attempt: random distances within the smoothed bounds, the metric (Gram) matrix, its four
 * leading eigenvectors by block power iteration as 4D coordinates, L-BFGS on the bounds error
 * plus chirality and fourth-dimension terms, then L-BFGS in 3D with planarity terms added.
 * The attempt is kept when every stereocentre, stereo double bond and planar centre is right
 * and no bond is off by more than 0.1 Å. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformer_internal.h"

enum { LBFGS_M = 8 };

typedef struct {
	const cw_t *w;
	int dim;         /* 4 or 3 */
	double w_4d;     /* weight of the fourth coordinate */
	double w_planar; /* weight of the planarity terms */
} energy_t;

static void cross(const double *a, const double *b, double *c)
{
	c[0] = a[1] * b[2] - a[2] * b[1];
	c[1] = a[2] * b[0] - a[0] * b[2];
	c[2] = a[0] * b[1] - a[1] * b[0];
}

/* Volume (n0-c).((n1-c)x(n2-c)) of term v at coordinates x (stride dim); with g, adds
 * f * dV/dx to g. */
static double volume(const cw_vol_t *v, const double *x, int dim, double *g, double f)
{
	double a[3], b[3], c[3], bc[3], ca[3], ab[3];
	const double *o = x + (size_t)v->c * dim;
	for (int k = 0; k < 3; k++) {
		a[k] = x[(size_t)v->n[0] * dim + k] - o[k];
		b[k] = x[(size_t)v->n[1] * dim + k] - o[k];
		c[k] = x[(size_t)v->n[2] * dim + k] - o[k];
	}
	cross(b, c, bc);
	double vol = a[0] * bc[0] + a[1] * bc[1] + a[2] * bc[2];
	if (g) {
		cross(c, a, ca);
		cross(a, b, ab);
		for (int k = 0; k < 3; k++) {
			g[(size_t)v->n[0] * dim + k] += f * bc[k];
			g[(size_t)v->n[1] * dim + k] += f * ca[k];
			g[(size_t)v->n[2] * dim + k] += f * ab[k];
			g[(size_t)v->c * dim + k] -= f * (bc[k] + ca[k] + ab[k]);
		}
	}
	return vol;
}

/* The error function and its gradient g (same layout as x). */
static double energy(const energy_t *e, const double *x, double *g)
{
	const cw_t *w = e->w;
	size_t n = (size_t)w->n;
	int dim = e->dim;
	double E = 0;
	memset(g, 0, n * (size_t)dim * sizeof *g);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			double d2 = 0, diff[4];
			for (int k = 0; k < dim; k++) {
				diff[k] = x[i * dim + k] - x[j * dim + k];
				d2 += diff[k] * diff[k];
			}
			double lo = w->lo[i * n + j], hi = w->hi[i * n + j], viol;
			if (d2 > hi * hi)
				viol = sqrt(d2) - hi;
			else if (d2 < lo * lo)
				viol = sqrt(d2) - lo;
			else
				continue;
			int t = w->topo[i * n + j];
			double wt = t == 1   ? 20
			            : t == 2 ? 10
			            : t == 3 ? 2
			                     : 1,
			       d = sqrt(d2) + 1e-12;
			E += wt * viol * viol;
			double f = 2 * wt * viol / d;
			for (int k = 0; k < dim; k++) {
				g[i * dim + k] += f * diff[k];
				g[j * dim + k] -= f * diff[k];
			}
		}
	for (int c = 0; c < w->n_lin; c++) { /* linear centres: a stiff 1-3 distance */
		size_t i = (size_t)w->lin[2 * c], j = (size_t)w->lin[2 * c + 1];
		double d2 = 0, diff[4];
		for (int k = 0; k < dim; k++) {
			diff[k] = x[i * dim + k] - x[j * dim + k];
			d2 += diff[k] * diff[k];
		}
		double d = sqrt(d2) + 1e-12, viol = d - w->lin_d[c];
		E += 50 * viol * viol;
		for (int k = 0; k < dim; k++) {
			g[i * dim + k] += 100 * viol * diff[k] / d;
			g[j * dim + k] -= 100 * viol * diff[k] / d;
		}
	}
	for (int c = 0; c < w->n_chiral; c++) {
		const cw_vol_t *v = &w->chiral[c];
		double s = v->sign * volume(v, x, dim, NULL, 0);
		if (s < v->v_min) {
			E += 2 * (v->v_min - s) * (v->v_min - s);
			volume(v, x, dim, g, -4 * (v->v_min - s) * v->sign);
		}
	}
	if (e->w_planar > 0) {
		for (int c = 0; c < w->n_planar; c++) {
			double vol = volume(&w->planar[c], x, dim, NULL, 0);
			E += e->w_planar * vol * vol;
			volume(&w->planar[c], x, dim, g, 2 * e->w_planar * vol);
		}
		for (int c = 0; c < w->n_dbl; c++) {
			const int *q = w->dbl + 4 * c;
			cw_vol_t v = {q[1], {q[0], q[2], q[3]}, 0, 0};
			double vol = volume(&v, x, dim, NULL, 0);
			E += e->w_planar * vol * vol;
			volume(&v, x, dim, g, 2 * e->w_planar * vol);
		}
	}
	if (dim == 4 && e->w_4d > 0)
		for (size_t i = 0; i < n; i++) {
			E += e->w_4d * x[i * 4 + 3] * x[i * 4 + 3];
			g[i * 4 + 3] += 2 * e->w_4d * x[i * 4 + 3];
		}
	return E;
}

static double dot(const double *a, const double *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* L-BFGS with a backtracking line search; scratch holds (2 LBFGS_M + 4) n doubles. */
static double minimize(const energy_t *e, double *x, size_t n, int max_iter, double *scratch)
{
	double *g = scratch, *d = g + n, *xn = d + n, *gn = xn + n;
	double *s = gn + n, *y = s + LBFGS_M * n, rho[LBFGS_M], alpha[LBFGS_M];
	int m = 0, head = 0;
	double E = energy(e, x, g);
	for (int it = 0; it < max_iter; it++) {
		if (sqrt(dot(g, g, n)) < 1e-5 * n)
			break;
		/* two-loop recursion */
		memcpy(d, g, n * sizeof *d);
		for (int k = 0; k < m; k++) {
			int i = (head - 1 - k + LBFGS_M) % LBFGS_M;
			alpha[i] = rho[i] * dot(s + i * n, d, n);
			for (size_t q = 0; q < n; q++)
				d[q] -= alpha[i] * y[i * n + q];
		}
		if (m) {
			int i = (head - 1 + LBFGS_M) % LBFGS_M;
			double gamma = dot(s + i * n, y + i * n, n) / dot(y + i * n, y + i * n, n);
			for (size_t q = 0; q < n; q++)
				d[q] *= gamma;
		}
		for (int k = m - 1; k >= 0; k--) {
			int i = (head - 1 - k + LBFGS_M) % LBFGS_M;
			double beta = rho[i] * dot(y + i * n, d, n);
			for (size_t q = 0; q < n; q++)
				d[q] += s[i * n + q] * (alpha[i] - beta);
		}
		double slope = -dot(g, d, n);
		if (slope >= 0) { /* not a descent direction: restart from the gradient */
			memcpy(d, g, n * sizeof *d);
			slope = -dot(g, g, n);
			m = 0;
		}
		/* at most 0.3 Å per coordinate in one step */
		double big = 0;
		for (size_t q = 0; q < n; q++)
			big = fmax(big, fabs(d[q]));
		double step = big > 0.3 ? 0.3 / big : 1, En = E;
		int ok = 0;
		for (int ls = 0; ls < 30; ls++, step *= 0.5) {
			for (size_t q = 0; q < n; q++)
				xn[q] = x[q] - step * d[q];
			En = energy(e, xn, gn);
			if (En <= E + 1e-4 * step * slope) {
				ok = 1;
				break;
			}
		}
		if (!ok) {
			if (m == 0)
				break; /* not even the gradient helps: a minimum */
			m = 0;         /* forget the curvature and try the gradient */
			continue;
		}
		double *si = s + head * n, *yi = y + head * n;
		for (size_t q = 0; q < n; q++) {
			si[q] = xn[q] - x[q];
			yi[q] = gn[q] - g[q];
		}
		double sy = dot(si, yi, n);
		memcpy(x, xn, n * sizeof *x);
		memcpy(g, gn, n * sizeof *g);
		double dE = E - En;
		E = En;
		if (sy > 1e-12) {
			rho[head] = 1 / sy;
			head = (head + 1) % LBFGS_M;
			if (m < LBFGS_M)
				m++;
		}
		if (dE < 1e-9 && E < 1e-6)
			break;
	}
	return E;
}

/* 4D coordinates from the metric matrix of distances dist [n, n]: its four leading
 * eigenvectors (block power iteration), scaled by the square roots of their eigenvalues. */
static void metric_embed(size_t n, const double *dist, double *x, double *gram, double *v,
                         double *t, of3_rng_t *rng)
{
	double mean_all = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			mean_all += dist[i * n + j] * dist[i * n + j];
	mean_all /= (double)(n * n);
	for (size_t i = 0; i < n; i++) {
		double s = 0;
		for (size_t j = 0; j < n; j++)
			s += dist[i * n + j] * dist[i * n + j];
		gram[i * n + i] = s / (double)n - mean_all; /* squared distance to the centroid */
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (i != j)
				gram[i * n + j] = 0.5 * (gram[i * n + i] + gram[j * n + j] -
				                         dist[i * n + j] * dist[i * n + j]);
	for (size_t q = 0; q < 4 * n; q++)
		v[q] = of3_rng_uniform_double(rng) - 0.5;
	double lambda[4] = {0};
	/* the iteration finds the eigenvalues largest in magnitude; shifting by the trace
	 * bound on the negative ones makes it find the largest algebraically */
	double shift = 0;
	for (size_t i = 0; i < n; i++)
		shift += fabs(gram[i * n + i]);
	shift *= 0.05;
	for (int it = 0; it < 100; it++) {
		for (int k = 0; k < 4; k++)
			for (size_t i = 0; i < n; i++)
				t[k * n + i] =
				        dot(gram + i * n, v + k * n, n) + shift * v[k * n + i];
		for (int k = 0; k < 4; k++) { /* Gram-Schmidt */
			for (int l = 0; l < k; l++) {
				double p = dot(t + k * n, t + l * n, n);
				for (size_t i = 0; i < n; i++)
					t[k * n + i] -= p * t[l * n + i];
			}
			double norm = sqrt(dot(t + k * n, t + k * n, n));
			for (size_t i = 0; i < n; i++)
				t[k * n + i] = norm > 0 ? t[k * n + i] / norm : 0;
		}
		memcpy(v, t, 4 * n * sizeof *v);
	}
	for (int k = 0; k < 4; k++) {
		for (size_t i = 0; i < n; i++)
			t[i] = dot(gram + i * n, v + k * n, n);
		lambda[k] = dot(t, v + k * n, n);
	}
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 4; k++) /* a little noise keeps atoms from coinciding */
			x[i * 4 + k] = v[k * n + i] * sqrt(fmax(lambda[k], 0)) +
			               0.1 * (of3_rng_uniform_double(rng) - 0.5);
}

/* The chirality, planarity and double-bond terms of w (after cw_build). */
static int make_terms(cw_t *w, const of3_conf_mol_t *m)
{
	w->chiral = calloc((size_t)w->n_heavy + 1, sizeof *w->chiral);
	w->planar = calloc((size_t)w->n_heavy + 1, sizeof *w->planar);
	w->dbl = calloc((size_t)w->n_heavy * 8 * 4 + 4, sizeof *w->dbl);
	if (!w->chiral || !w->planar || !w->dbl)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int c = 0; c < w->n_heavy; c++) {
		const int *nb = w->nbr + c * CW_MAX_DEG;
		if (w->deg[c] >= 3) {
			double r = cw_bond_length(w, c, nb[0]) * cw_bond_length(w, c, nb[1]) *
			           cw_bond_length(w, c, nb[2]);
			if (m->atoms[c].parity)
				w->chiral[w->n_chiral++] =
				        (cw_vol_t){c,
				                   {nb[0], nb[1], nb[2]},
				                   m->atoms[c].parity,
				                   (w->deg[c] == 3 ? 0.25 : 0.45) * r};
			if (w->hyb[c] == 2 && w->deg[c] == 3)
				w->planar[w->n_planar++] =
				        (cw_vol_t){c, {nb[0], nb[1], nb[2]}, 0, 0};
		}
	}
	for (int b = 0; b < w->n_heavy; b++)
		for (int k = 0; k < w->deg[b]; k++) {
			int c = w->nbr[b * CW_MAX_DEG + k];
			/* double bonds and aromatic bonds keep their four-atom torsions flat */
			if (c < b ||
			    (w->border[b * CW_MAX_DEG + k] != 2 && !w->barom[b * CW_MAX_DEG + k]))
				continue;
			for (int p = 0; p < w->deg[b]; p++)
				for (int q = 0; q < w->deg[c]; q++) {
					int i = w->nbr[b * CW_MAX_DEG + p],
					    j = w->nbr[c * CW_MAX_DEG + q];
					if (i == c || j == b || i == j ||
					    w->n_dbl >= 8 * w->n_heavy)
						continue;
					int *d = w->dbl + 4 * w->n_dbl++;
					d[0] = i, d[1] = b, d[2] = c, d[3] = j;
				}
		}
	return OF3_OK;
}

/* Why an embedding fails its checks, or NULL when it passes. */
static char why_buf[160];
static const char *check(const cw_t *w, const of3_conf_mol_t *m, const double *x)
{
	size_t n = (size_t)w->n;
	for (int c = 0; c < w->n_chiral; c++)
		if (w->chiral[c].sign * volume(&w->chiral[c], x, 3, NULL, 0) <
		    0.3 * w->chiral[c].v_min)
			return "a stereocentre came out inverted or flat";
	for (int c = 0; c < w->n_planar; c++) {
		const cw_vol_t *v = &w->planar[c];
		double r = cw_bond_length(w, v->c, v->n[0]) * cw_bond_length(w, v->c, v->n[1]) *
		           cw_bond_length(w, v->c, v->n[2]);
		if (fabs(volume(v, x, 3, NULL, 0)) > 0.1 * r)
			return "a planar centre came out pyramidal";
	}
	for (int s = 0; s < m->n_stereo; s++) {
		const of3_conf_stereo_t *st = &m->stereo[s];
		const double *a = x + 3 * st->ref_a, *b = x + 3 * st->a, *c = x + 3 * st->b,
		             *d = x + 3 * st->ref_b;
		double b1[3], b2[3], b3[3], n1[3], n2[3];
		for (int k = 0; k < 3; k++)
			b1[k] = b[k] - a[k], b2[k] = c[k] - b[k], b3[k] = d[k] - c[k];
		cross(b1, b2, n1);
		cross(b2, b3, n2);
		if ((dot(n1, n2, 3) > 0) != (st->cis != 0))
			return "a double bond came out with the wrong cis/trans configuration";
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			double d2 = 0;
			for (int k = 0; k < 3; k++)
				d2 += (x[i * 3 + k] - x[j * 3 + k]) * (x[i * 3 + k] - x[j * 3 + k]);
			double d = sqrt(d2), lo = w->lo[i * n + j], hi = w->hi[i * n + j];
			double tol = w->topo[i * n + j] == 1   ? 0.1
			             : w->topo[i * n + j] == 2 ? 0.25
			                                       : 0.6;
			if (d > hi + tol || d < lo - tol) {
				snprintf(
				        why_buf, sizeof why_buf,
				        "distances stayed outside their bounds (atoms %zu and %zu, "
				        "%zu bonds apart: %.2f A, bounds %.2f-%.2f)",
				        i + 1, j + 1, (size_t)w->topo[i * n + j], d, lo, hi);
				return why_buf;
			}
		}
	return NULL;
}

int of3_conformer_embed(const of3_conf_mol_t *mol, of3_rng_t *rng, int max_attempts, double *pos,
                        int *n_attempts)
{
	if (n_attempts)
		*n_attempts = 0;
	memset(pos, 0, (size_t)mol->n_atoms * 3 * sizeof *pos);
	if (mol->n_atoms <= 1)
		return OF3_OK;
	cw_t w = {0};
	double *buf = NULL;
	int rc = cw_build(&w, mol);
	if (rc == OF3_OK)
		rc = make_terms(&w, mol);
	if (rc < 0)
		goto out;
	cw_smooth(&w);
	size_t n = (size_t)w.n;
	size_t scratch = (2 * LBFGS_M + 4) * 4 * n;
	buf = malloc((2 * n * n + 4 * n + 4 * n + 4 * n + 3 * n + scratch) * sizeof *buf);
	if (!buf) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto out;
	}
	double *dist = buf, *gram = dist + n * n, *x4 = gram + n * n, *v = x4 + 4 * n;
	double *t = v + 4 * n, *x3 = t + 4 * n, *s = x3 + 3 * n;
	const char *why = "no attempt made";
	for (int attempt = 1; attempt <= max_attempts; attempt++) {
		if (n_attempts)
			*n_attempts = attempt;
		for (size_t i = 0; i < n; i++) {
			dist[i * n + i] = 0;
			for (size_t j = i + 1; j < n; j++) {
				double lo = w.lo[i * n + j], hi = w.hi[i * n + j];
				dist[i * n + j] = dist[j * n + i] =
				        lo + (hi - lo) * of3_rng_uniform_double(rng);
			}
		}
		metric_embed(n, dist, x4, gram, v, t, rng);
		energy_t e = {&w, 4, 0.1, 0};
		minimize(&e, x4, 4 * n, 300, s);
		e.w_4d = 1;
		minimize(&e, x4, 4 * n, 100, s);
		e.w_4d = 10;
		minimize(&e, x4, 4 * n, 150, s);
		for (size_t i = 0; i < n; i++)
			for (int k = 0; k < 3; k++)
				x3[i * 3 + k] = x4[i * 4 + k];
		energy_t e3 = {&w, 3, 0, 3};
		minimize(&e3, x3, 3 * n, 1000, s);
		if ((why = check(&w, mol, x3)) == NULL) {
			double mean[3] = {0, 0, 0};
			for (int i = 0; i < w.n_heavy; i++)
				for (int k = 0; k < 3; k++)
					mean[k] += x3[i * 3 + k] / w.n_heavy;
			for (int i = 0; i < w.n_heavy; i++)
				for (int k = 0; k < 3; k++)
					pos[i * 3 + k] = x3[i * 3 + k] - mean[k];
			goto out;
		}
	}
	rc = of3_err(OF3_ERR_INPUT, "no conformer found for the SMILES ligand in %d attempts: %s",
	             max_attempts, why);
out:
	free(buf);
	cw_free(&w);
	return rc;
}

/* ---- the molecule from an assembly ---- */

void of3_conf_mol_free(of3_conf_mol_t *mol)
{
	if (!mol)
		return;
	free(mol->atoms), free(mol->bonds), free(mol->stereo);
	memset(mol, 0, sizeof *mol);
}

static const char *const symbols[] = {
        "",   "H",  "HE", "LI", "BE", "B",  "C",  "N",  "O",  "F",  "NE", "NA", "MG", "AL", "SI",
        "P",  "S",  "CL", "AR", "K",  "CA", "SC", "TI", "V",  "CR", "MN", "FE", "CO", "NI", "CU",
        "ZN", "GA", "GE", "AS", "SE", "BR", "KR", "RB", "SR", "Y",  "ZR", "NB", "MO", "TC", "RU",
        "RH", "PD", "AG", "CD", "IN", "SN", "SB", "TE", "I",  "XE", "CS", "BA", "LA", "CE", "PR",
        "ND", "PM", "SM", "EU", "GD", "TB", "DY", "HO", "ER", "TM", "YB", "LU", "HF", "TA", "W",
        "RE", "OS", "IR", "PT", "AU", "HG", "TL", "PB", "BI", "PO", "AT", "RN", "FR", "RA", "AC",
        "TH", "PA", "U",  "NP", "PU", "AM", "CM", "BK", "CF", "ES", "FM", "MD", "NO", "LR"};

static int z_of(const char *el)
{
	char up[4] = {0};
	for (int k = 0; k < 3 && el[k]; k++)
		up[k] = (char)(el[k] >= 'a' && el[k] <= 'z' ? el[k] - 32 : el[k]);
	for (int z = 1; z < (int)(sizeof symbols / sizeof *symbols); z++)
		if (strcmp(symbols[z], up) == 0)
			return z;
	return 0;
}

int of3_conf_mol_from_tokens(const of3_tokens_t *t, int c, of3_conf_mol_t *mol)
{
	memset(mol, 0, sizeof *mol);
	const of3_fchain_t *ch = &t->chains[c];
	const of3_tensor_t *th = of3_bundle_tensor(t->assembly, "atom_n_hydrogens");
	const of3_tensor_t *tc = of3_bundle_tensor(t->assembly, "atom_chirality");
	const of3_tensor_t *ts = of3_bundle_tensor(t->assembly, "bond_stereo");
	if (!th || !tc || !ts || th->dtype != OF3_DTYPE_I32 || tc->dtype != OF3_DTYPE_I32 ||
	    ts->dtype != OF3_DTYPE_I32 || of3_tensor_numel(th) != t->n_atoms ||
	    of3_tensor_numel(tc) != t->n_atoms || ts->ndim != 2 || ts->shape[1] != 5)
		return of3_err(OF3_ERR_INPUT,
		               "query '%s', chain %s: the assembly lacks atom_n_hydrogens, "
		               "atom_chirality or bond_stereo (i32), which a SMILES ligand's "
		               "conformer needs: make it with a newer of3-parse",
		               t->assembly->query, ch->id);
	const int32_t *nh = th->data, *chir = tc->data, *st = ts->data;
	int a0 = ch->first_atom, na = ch->n_atoms;
	mol->n_atoms = na;
	mol->atoms = calloc((size_t)na + 1, sizeof *mol->atoms);
	mol->bonds = calloc((size_t)t->n_bonds + 1, sizeof *mol->bonds);
	mol->stereo = calloc((size_t)ts->shape[0] + 1, sizeof *mol->stereo);
	if (!mol->atoms || !mol->bonds || !mol->stereo) {
		of3_conf_mol_free(mol);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	for (int i = 0; i < na; i++) {
		of3_conf_atom_t *a = &mol->atoms[i];
		a->z = z_of(t->atom_element[a0 + i]);
		a->charge = t->atom_charge[a0 + i];
		a->n_hydrogens = nh[a0 + i];
		a->parity = chir[a0 + i];
		if (a->z == 0 || a->n_hydrogens < 0 || a->n_hydrogens > 4) {
			of3_conf_mol_free(mol);
			return of3_err(OF3_ERR_INPUT,
			               "query '%s', chain %s, atom %s: element '%s' or %d "
			               "hydrogens is not something the conformer generator knows",
			               t->assembly->query, ch->id, t->atom_name[a0 + i],
			               t->atom_element[a0 + i], nh[a0 + i]);
		}
	}
	for (int k = 0; k < t->n_bonds; k++) {
		const int32_t *b = t->bonds + 3 * k;
		if (b[0] < a0 || b[0] >= a0 + na || b[1] < a0 || b[1] >= a0 + na)
			continue;
		static const int order[10] = {0, 1, 2, 3, 4, 1, 2, 3, 0, 1};
		if (b[2] < 1 || b[2] > 9 || b[2] == 8 || b[2] == 4) {
			of3_conf_mol_free(mol);
			return of3_err(OF3_ERR_INPUT,
			               "query '%s', chain %s: bond %s-%s has a type (%d) the "
			               "conformer generator does not handle (coordination or "
			               "quadruple)",
			               t->assembly->query, ch->id, t->atom_name[b[0]],
			               t->atom_name[b[1]], b[2]);
		}
		of3_conf_bond_t *o = &mol->bonds[mol->n_bonds++];
		o->a = b[0] - a0, o->b = b[1] - a0;
		o->order = order[b[2]];
		o->aromatic = b[2] >= 5;
	}
	for (int64_t k = 0; k < ts->shape[0]; k++) {
		const int32_t *s = st + 5 * k;
		if (s[0] < a0 || s[0] >= a0 + na)
			continue;
		of3_conf_stereo_t *o = &mol->stereo[mol->n_stereo++];
		o->a = s[0] - a0, o->b = s[1] - a0, o->ref_a = s[2] - a0, o->ref_b = s[3] - a0;
		o->cis = s[4] == 1;
		if (o->b < 0 || o->b >= na || o->ref_a < 0 || o->ref_a >= na || o->ref_b < 0 ||
		    o->ref_b >= na) {
			of3_conf_mol_free(mol);
			return of3_err(OF3_ERR_INPUT,
			               "query '%s', chain %s: bond_stereo row %lld "
			               "names atoms outside the chain",
			               t->assembly->query, ch->id, (long long)k);
		}
	}
	return OF3_OK;
}
