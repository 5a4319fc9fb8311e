/* metrics.c: pLDDT, PDE, PAE, gPDE, frames, pTM/ipTM and their chain variants, has_clash and
 * the ranking score of one sample (spec/diffusion_heads.md §5.2, §6.1-§6.8, §6.10).
 * Disorder (§6.9) is in sasa.c. Softmax expectations are taken in double. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

/* Σ_k softmax(l)_k · w_k over n bins. */
static double softmax_dot(const float *l, int n, const double *w)
{
	double mx = l[0], z = 0, s = 0;
	for (int k = 1; k < n; k++)
		mx = l[k] > mx ? l[k] : mx;
	for (int k = 0; k < n; k++) {
		double e = exp(l[k] - mx);
		z += e;
		s += e * w[k];
	}
	return s / z;
}

/* restype indices (OpenFold3's 32-letter alphabet) */
enum {
	RT_UNK = 20,
	RT_A = 21,
	RT_G = 22,
	RT_C = 23,
	RT_U = 24,
	RT_DA = 26,
	RT_DG = 27,
	RT_DC = 28,
	RT_DT = 29
};

static int atom_ok(const of3_wc_query_t *q, int64_t a)
{
	return a >= 0 && a < q->n_atom && (!q->atom_mask || q->atom_mask[a] > 0.5f);
}

int of3_wc_rep_atom(const of3_wc_query_t *q, int i, int *valid)
{
	int s = q->start_atom_index[i], r = q->restype[i], off = -1;
	if (q->is_atomized[i])
		off = 0;
	else if (q->is_protein[i])
		off = (r == 7) ? 1 : 4; /* Gly: CA; else CB (UNK has CB too) */
	else if (q->is_rna[i])
		off = r == RT_A ? 21 : r == RT_G ? 22 : (r == RT_C || r == RT_U) ? 13 : -1;
	else if (q->is_dna[i])
		off = r == RT_DA ? 20 : r == RT_DG ? 21 : (r == RT_DC || r == RT_DT) ? 12 : -1;
	if (off < 0 || off >= q->num_atoms_per_token[i]) {
		*valid = 0;
		return 0;
	}
	*valid = atom_ok(q, s + off) && q->token_mask[i] > 0.5f;
	return s + off;
}

static double dist2(const float *x, int64_t a, int64_t b)
{
	double d = 0;
	for (int k = 0; k < 3; k++) {
		double t = (double)x[3 * a + k] - x[3 * b + k];
		d += t * t;
	}
	return d;
}

/* §6.5: frames of standard residues from their backbone atoms; an atomized token's frame from
 * its two nearest atoms of the same chain, with the angle test. */
static void frames(const of3_wc_query_t *q, const float *x, uint8_t *has_frame)
{
	const double cos_lo = cos(155.0 * PI / 180), cos_hi = cos(25.0 * PI / 180);
	for (int i = 0; i < q->n_token; i++) {
		int s = q->start_atom_index[i], r = q->restype[i], n = q->num_atoms_per_token[i];
		int ok = q->token_mask[i] > 0.5f;
		has_frame[i] = 0;
		if (!ok)
			continue;
		if (!q->is_atomized[i]) {
			int o[3];
			if (q->is_protein[i] && r <= RT_UNK)
				o[0] = 0, o[1] = 1, o[2] = 2;
			else if (q->is_rna[i] && r >= RT_A && r <= RT_U)
				o[0] = 7, o[1] = 11, o[2] = 5;
			else if (q->is_dna[i] && r >= RT_DA && r <= RT_DT)
				o[0] = 7, o[1] = 10, o[2] = 5;
			else
				continue;
			for (int k = 0; k < 3; k++)
				ok = ok && o[k] < n && atom_ok(q, s + o[k]);
			has_frame[i] = (uint8_t)ok;
			continue;
		}
		/* atomized: the two nearest other atoms; distance with 1e-8 added per coordinate */
		int32_t asym = q->asym_id[i];
		double d1 = 1e300, d2 = 1e300;
		int64_t a = -1, c = -1;
		for (int64_t m = 0; m < q->n_atom; m++) {
			if (m == s || !atom_ok(q, m) ||
			    q->asym_id[q->atom_to_token_index[m]] != asym)
				continue;
			double d = dist2(x, s, m);
			if (d < d1)
				d2 = d1, c = a, d1 = d, a = m;
			else if (d < d2)
				d2 = d, c = m;
		}
		if (a < 0 || c < 0 || !atom_ok(q, s))
			continue;
		double u[3], v[3], uv = 0, uu = 0, vv = 0;
		for (int k = 0; k < 3; k++) {
			u[k] = (double)x[3 * a + k] - x[3 * s + k];
			v[k] = (double)x[3 * c + k] - x[3 * s + k];
			uv += u[k] * v[k], uu += u[k] * u[k], vv += v[k] * v[k];
		}
		double cs = uv / (sqrt(1e-8 + uu) * sqrt(1e-8 + vv));
		has_frame[i] = (uint8_t)(cs > cos_lo && cs < cos_hi);
	}
}

/* pTM (interface 0) or ipTM (interface 1) over the tokens with in[i] set (§6.6). */
static double tm(const of3_wc_query_t *q, const float *pae_logits, const uint8_t *in,
                 const uint8_t *has_frame, int interface)
{
	int N = q->n_token, n = 0;
	for (int i = 0; i < N; i++)
		n += in[i] != 0;
	double nn = n < 19 ? 19 : n, d0 = 1.24 * cbrt(nn - 15) - 1.8, w[64], best = 0;
	for (int k = 0; k < 64; k++) {
		double c = 0.25 + 0.5 * k;
		w[k] = 1 / (1 + (c / d0) * (c / d0));
	}
	for (int i = 0; i < N; i++) {
		if (!in[i])
			continue;
		double s = 0;
		int cnt = 0;
		for (int j = 0; j < N; j++) {
			if (!in[j] || (interface && q->asym_id[j] == q->asym_id[i]))
				continue;
			s += softmax_dot(pae_logits + ((int64_t)i * N + j) * 64, 64, w);
			cnt++;
		}
		double t = interface ? (cnt ? s / cnt : 0) : s / (n ? n : 1);
		if (has_frame[i] && t > best)
			best = t;
	}
	return best;
}

/* AlphaFold3's has_clash over pairs of polymer chains (§6.8, intended algorithm). */
static int has_clash(const of3_wc_query_t *q, const float *x)
{
	int C = q->n_chain, clash = 0;
	int *chain = malloc((size_t)q->n_atom * sizeof *chain),
	    *n_atoms = calloc((size_t)C, sizeof(int));
	uint8_t *polymer = malloc((size_t)C);
	if (!chain || !n_atoms || !polymer)
		goto done;
	memset(polymer, 1, (size_t)C);
	for (int a = 0; a < q->n_atom; a++) {
		chain[a] = of3_wc_query_chain(q, q->asym_id[q->atom_to_token_index[a]]);
		n_atoms[chain[a]]++;
		if (q->atom_molecule_type_id[a] == OF3_MOL_LIGAND)
			polymer[chain[a]] = 0;
	}
	for (int c1 = 0; c1 < C && !clash; c1++)
		for (int c2 = c1 + 1; c2 < C && !clash; c2++) {
			if (!polymer[c1] || !polymer[c2])
				continue;
			long count = 0;
			for (int a = 0; a < q->n_atom; a++) {
				if (chain[a] != c1 || !atom_ok(q, a))
					continue;
				for (int b = 0; b < q->n_atom; b++)
					if (chain[b] == c2 && atom_ok(q, b) &&
					    dist2(x, a, b) < 1.1 * 1.1)
						count++;
			}
			int mn = n_atoms[c1] < n_atoms[c2] ? n_atoms[c1] : n_atoms[c2];
			clash = count > 100 || (mn > 0 && (double)count / mn > 0.5);
		}
done:
	free(chain), free(n_atoms), free(polymer);
	return clash;
}

static double chain_mean(const double *cp, const uint8_t *hasf, int C, int c)
{
	double s = 0;
	int n = 0;
	for (int j = 0; j < C; j++) {
		if (j == c)
			continue;
		if (hasf[c])
			s += cp[c * C + j], n++;
		if (hasf[j])
			s += cp[j * C + c], n++;
	}
	return n ? s / n : 0;
}

/* Chain pTM, chain-pair ipTM and bespoke ipTM (§6.7). */
static int chain_metrics(of3_wc_metrics_t *m, const of3_wc_query_t *q, const float *pae)
{
	int N = q->n_token, C = q->n_chain, rc = OF3_OK;
	uint8_t *in = malloc((size_t)N + 1), *hasf = calloc((size_t)C + 1, 1);
	double *cp = calloc((size_t)C * C + 1, sizeof *cp);
	int *n_tok = calloc((size_t)C + 1, sizeof *n_tok),
	    *n_lig = calloc((size_t)C + 1, sizeof *n_lig);
	if (!in || !hasf || !cp || !n_tok || !n_lig) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto done;
	}
	for (int i = 0; i < N; i++) {
		int c = of3_wc_query_chain(q, q->asym_id[i]);
		n_tok[c]++;
		n_lig[c] += q->is_ligand[i] != 0;
		if (m->has_frame[i])
			hasf[c] = 1;
	}
	for (int c = 0; c < C; c++) {
		for (int i = 0; i < N; i++)
			in[i] = q->asym_id[i] == q->chain_asym[c] && q->token_mask[i] > 0.5f;
		m->chain_ptm[c] = tm(q, pae, in, m->has_frame, 0);
	}
	for (int p = 0; p < m->n_pair; p++) {
		int c1 = m->pair_c1[p], c2 = m->pair_c2[p];
		for (int i = 0; i < N; i++)
			in[i] = (q->asym_id[i] == q->chain_asym[c1] ||
			         q->asym_id[i] == q->chain_asym[c2]) &&
			        q->token_mask[i] > 0.5f;
		m->chain_pair_iptm[p] = tm(q, pae, in, m->has_frame, 1);
		cp[c1 * C + c2] = cp[c2 * C + c1] = m->chain_pair_iptm[p];
	}
	for (int p = 0; p < m->n_pair; p++) {
		int c1 = m->pair_c1[p], c2 = m->pair_c2[p];
		double m1 = chain_mean(cp, hasf, C, c1), m2 = chain_mean(cp, hasf, C, c2);
		if (2 * n_lig[c1] >= n_tok[c1])
			m->bespoke_iptm[p] = m1;
		else if (2 * n_lig[c2] >= n_tok[c2])
			m->bespoke_iptm[p] = m2;
		else
			m->bespoke_iptm[p] = 0.5 * (m1 + m2);
	}
done:
	free(in), free(hasf), free(cp), free(n_tok), free(n_lig);
	return rc;
}

int of3_wc_metrics_compute(of3_wc_metrics_t *m, const of3_wc_query_t *q, int i_sample)
{
	int64_t A = q->n_atom, N = q->n_token, C = q->n_chain;
	memset(m, 0, sizeof *m);
	m->n_atom = (int)A, m->n_token = (int)N, m->n_chain = (int)C;
	m->n_pair = (int)(C * (C - 1) / 2);
	m->plddt = malloc((size_t)A * sizeof *m->plddt);
	m->pde = malloc((size_t)(N * N) * sizeof *m->pde);
	m->pae = malloc((size_t)(N * N) * sizeof *m->pae);
	m->contact_prob = malloc((size_t)(N * N) * sizeof *m->contact_prob);
	m->has_frame = malloc((size_t)N);
	m->chain_ptm = calloc((size_t)C + 1, sizeof *m->chain_ptm);
	m->pair_c1 = calloc((size_t)m->n_pair + 1, sizeof *m->pair_c1);
	m->pair_c2 = calloc((size_t)m->n_pair + 1, sizeof *m->pair_c2);
	m->chain_pair_iptm = calloc((size_t)m->n_pair + 1, sizeof *m->chain_pair_iptm);
	m->bespoke_iptm = calloc((size_t)m->n_pair + 1, sizeof *m->bespoke_iptm);
	if (!m->plddt || !m->pde || !m->pae || !m->contact_prob || !m->has_frame || !m->chain_ptm ||
	    !m->pair_c1 || !m->pair_c2 || !m->chain_pair_iptm || !m->bespoke_iptm)
		return of3_err(OF3_ERR_NOMEM, "out of memory for the metrics of %lld tokens",
		               (long long)N);
	for (int c1 = 0, p = 0; c1 < C; c1++)
		for (int c2 = c1 + 1; c2 < C; c2++, p++)
			m->pair_c1[p] = c1, m->pair_c2[p] = c2;
	const float *x = q->x + (int64_t)i_sample * A * 3;
	const float *pl = q->plddt_logits + (int64_t)i_sample * A * 50;
	const float *pae = q->pae_logits + (int64_t)i_sample * N * N * 64;
	const float *pde = q->pde_logits + (int64_t)i_sample * N * N * 64;
	double w50[50], w64[64], w19[64], s = 0;
	for (int k = 0; k < 50; k++)
		w50[k] = 100.0 * (k + 0.5) / 50;
	for (int k = 0; k < 64; k++)
		w64[k] = 0.25 + 0.5 * k,
		w19[k] = k < 19; /* distogram bins with upper edge <= 8 Å */
	for (int64_t a = 0; a < A; a++)
		s += m->plddt[a] = (float)softmax_dot(pl + a * 50, 50, w50);
	m->avg_plddt = s / (double)A;
	double num = 0, den = 0;
	for (int64_t ij = 0; ij < N * N; ij++) {
		m->pde[ij] = (float)softmax_dot(pde + ij * 64, 64, w64);
		m->pae[ij] = (float)softmax_dot(pae + ij * 64, 64, w64);
		m->contact_prob[ij] = (float)softmax_dot(q->distogram_logits + ij * 64, 64, w19);
		num += (double)m->contact_prob[ij] * m->pde[ij];
		den += m->contact_prob[ij];
	}
	m->gpde = num / (den + 1e-8);
	frames(q, x, m->has_frame);
	uint8_t *all = malloc((size_t)N + 1);
	if (!all)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	for (int64_t i = 0; i < N; i++)
		all[i] = q->token_mask[i] > 0.5f;
	m->ptm = tm(q, pae, all, m->has_frame, 0);
	m->iptm = tm(q, pae, all, m->has_frame, 1);
	free(all);
	int rc = chain_metrics(m, q, pae);
	if (rc < 0)
		return rc;
	if ((rc = of3_wc_disorder(q, x, &m->disorder)) < 0)
		return rc;
	m->has_clash = has_clash(q, x);
	m->has_clash_of3 = 0;
	double dis = isnan(m->disorder) ? 0 : m->disorder;
	m->ranking_score =
	        (C > 1 ? 0.8 * m->iptm + 0.2 * m->ptm : m->ptm) + 0.5 * dis - 100.0 * m->has_clash;
	m->ranking_score_of3 =
	        0.8 * m->iptm + 0.2 * m->ptm + 0.5 * m->disorder + 100.0 * m->has_clash_of3;
	return OF3_OK;
}

void of3_wc_metrics_free(of3_wc_metrics_t *m)
{
	if (!m)
		return;
	free(m->plddt), free(m->pde), free(m->pae), free(m->contact_prob), free(m->has_frame);
	free(m->chain_ptm), free(m->pair_c1), free(m->pair_c2), free(m->chain_pair_iptm);
	free(m->bespoke_iptm);
	memset(m, 0, sizeof *m);
}
