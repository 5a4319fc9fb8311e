/* sasa.c: fraction disordered from relative solvent accessibility (spec/diffusion_heads.md
 * §6.9): Shrake-Rupley SASA per protein chain in isolation (1000 golden-spiral points, probe
 * 1.4 Å, ProtOr radii, float32 as biotite computes it), residue SASA over the Sander & Rost
 * maximum, a 25-residue moving average with mirrored ends, and the fraction above 0.581.
 * ProtOr radii come from a table of the 20 standard residues (what biotite derives from their
 * CCD bonds); other residues get 1.8 Å for every atom, as biotite does for unknown groups. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define N_POINT 1000

static const struct {
	const char *res;
	double max_asa;
} MAX_ASA[] = {{"ALA", 106}, {"ARG", 248}, {"ASN", 157}, {"ASP", 163}, {"CYS", 135},
               {"GLN", 198}, {"GLU", 194}, {"GLY", 84},  {"HIS", 184}, {"ILE", 169},
               {"LEU", 164}, {"LYS", 205}, {"MET", 188}, {"PHE", 197}, {"PRO", 136},
               {"SER", 130}, {"THR", 142}, {"TRP", 227}, {"TYR", 222}, {"VAL", 142}};

static double max_asa(const char *res)
{
	for (size_t i = 0; i < sizeof MAX_ASA / sizeof MAX_ASA[0]; i++)
		if (!strcmp(MAX_ASA[i].res, res))
			return MAX_ASA[i].max_asa;
	return 113.0;
}

static int is_std(const char *res)
{
	for (size_t i = 0; i < sizeof MAX_ASA / sizeof MAX_ASA[0]; i++)
		if (!strcmp(MAX_ASA[i].res, res))
			return 1;
	return 0;
}

static int in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

/* ProtOr radius: the (element, bonds, bonded H) group of each atom in the CCD entry of the
 * 20 standard residues. C(3,0) 1.61, C(3,1) 1.76, C(4,*) 1.88, N 1.64, O(1,0) 1.42, O(2,1)
 * 1.46, S 1.77; anything else 1.8. */
static float protor(const char *res, const char *atom, const char *element)
{
	if (!is_std(res) && strcmp(res, "UNK"))
		return 1.8f;
	if (!strcmp(element, "N"))
		return 1.64f;
	if (!strcmp(element, "S"))
		return 1.77f;
	if (!strcmp(element, "O")) {
		static const char *const hydroxyl[] = {"OD2", "OE2", "OG", "OG1",
		                                       "OH",  "OXT", NULL};
		int acid = !strcmp(res, "ASP") || !strcmp(res, "GLU");
		if (!strcmp(atom, "OG") || !strcmp(atom, "OG1") || !strcmp(atom, "OH") ||
		    !strcmp(atom, "OXT") || (acid && in(atom, hydroxyl)))
			return 1.46f;
		return 1.42f;
	}
	if (strcmp(element, "C"))
		return 1.8f;
	/* sp2 carbons without hydrogen (3,0), aromatic CH (3,1); everything else sp3 */
	static const struct {
		const char *res;
		const char *c30[5], *c31[7];
	} SP2[] = {
	        {"ASP", {"CG"}, {NULL}},
	        {"GLU", {"CD"}, {NULL}},
	        {"ASN", {"CG"}, {NULL}},
	        {"GLN", {"CD"}, {NULL}},
	        {"ARG", {"CZ"}, {NULL}},
	        {"HIS", {"CG"}, {"CD2", "CE1"}},
	        {"PHE", {"CG"}, {"CD1", "CD2", "CE1", "CE2", "CZ"}},
	        {"TYR", {"CG", "CZ"}, {"CD1", "CD2", "CE1", "CE2"}},
	        {"TRP", {"CG", "CD2", "CE2"}, {"CD1", "CE3", "CZ2", "CZ3", "CH2"}},
	};
	if (!strcmp(atom, "C"))
		return 1.61f;
	for (size_t i = 0; i < sizeof SP2 / sizeof SP2[0]; i++)
		if (!strcmp(SP2[i].res, res)) {
			if (in(atom, SP2[i].c30))
				return 1.61f;
			if (in(atom, SP2[i].c31))
				return 1.76f;
		}
	return 1.88f;
}

/* NumPy's "reflect" padding index: mirror without repeating the edge, periodic when the chain
 * is shorter than the pad. */
static int reflect(int i, int n)
{
	if (n == 1)
		return 0;
	int p = 2 * (n - 1);
	i %= p;
	if (i < 0)
		i += p;
	return i >= n ? p - i : i;
}

/* SASA of atoms idx[0..n) of one chain, the others of the chain occluding. */
static void sasa(const float *x, const int *idx, int n, const float *radius, const float (*pts)[3],
                 float *out, int *nb)
{
	for (int i = 0; i < n; i++) {
		const float *xi = x + 3 * (int64_t)idx[i];
		float ri = radius[i];
		int n_nb = 0;
		for (int j = 0; j < n; j++) {
			const float *xj = x + 3 * (int64_t)idx[j];
			float dx = xi[0] - xj[0], dy = xi[1] - xj[1], dz = xi[2] - xj[2];
			float d2 = dx * dx + dy * dy + dz * dz, rr = ri + radius[j];
			if (d2 > 0 && d2 < rr * rr)
				nb[n_nb++] = j;
		}
		int n_acc = 0;
		for (int k = 0; k < N_POINT; k++) {
			float p[3] = {xi[0] + ri * pts[k][0], xi[1] + ri * pts[k][1],
			              xi[2] + ri * pts[k][2]};
			int buried = 0;
			for (int m = 0; m < n_nb && !buried; m++) {
				const float *xj = x + 3 * (int64_t)idx[nb[m]];
				float dx = p[0] - xj[0], dy = p[1] - xj[1], dz = p[2] - xj[2];
				buried =
				        dx * dx + dy * dy + dz * dz < radius[nb[m]] * radius[nb[m]];
			}
			n_acc += !buried;
		}
		out[i] = (float)(4.0 * 3.14159265358979323846 / N_POINT) * (float)n_acc * ri * ri;
	}
}

int of3_wc_disorder(const of3_wc_query_t *q, const float *x, double *out)
{
	int A = q->n_atom, rc = OF3_OK, any = 0;
	for (int i = 0; i < q->n_token; i++)
		any |= q->is_protein[i] != 0;
	*out = 0;
	if (!any)
		return OF3_OK;
	float pts[N_POINT][3];
	for (int k = 0; k < N_POINT; k++) {
		double phi = (3 - sqrt(5.0)) * 3.14159265358979323846 * k;
		double z = (1 - 1.0 / N_POINT) +
		           k * ((1.0 / N_POINT - 1) - (1 - 1.0 / N_POINT)) / (N_POINT - 1);
		double r = sqrt(1 - z * z);
		pts[k][0] = (float)(r * cos(phi)), pts[k][1] = (float)(r * sin(phi));
		pts[k][2] = (float)z;
	}
	int *idx = malloc((size_t)A * sizeof *idx), *nb = malloc((size_t)A * sizeof *nb);
	float *radius = malloc((size_t)A * sizeof *radius), *s = malloc((size_t)A * sizeof *s);
	double *rasa = malloc((size_t)A * sizeof *rasa);
	uint8_t *done = calloc((size_t)A, 1);
	long n_res = 0, n_dis = 0;
	if (!idx || !nb || !radius || !s || !rasa || !done) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory for the SASA of %d atoms", A);
		goto end;
	}
	/* chains by chain id, in order of first appearance; protein atoms only */
	for (int a0 = 0; a0 < A; a0++) {
		if (done[a0] || q->atom_molecule_type_id[a0] != OF3_MOL_PROTEIN)
			continue;
		const char *ch = q->atom_chain_id[a0];
		int n = 0;
		for (int a = a0; a < A; a++)
			if (!done[a] && q->atom_molecule_type_id[a] == OF3_MOL_PROTEIN &&
			    !strcmp(q->atom_chain_id[a], ch) && strcmp(q->atom_element[a], "H")) {
				done[a] = 1;
				radius[n] = protor(q->atom_res_name[a], q->atom_name[a],
				                   q->atom_element[a]) +
				            1.4f;
				idx[n++] = a;
			}
		sasa(x, idx, n, radius, (const float(*)[3])pts, s, nb);
		/* residues: runs of equal res_id and res_name */
		int n_r = 0;
		for (int i = 0; i < n;) {
			int j = i;
			double sum = 0;
			while (j < n && q->atom_res_id[idx[j]] == q->atom_res_id[idx[i]] &&
			       !strcmp(q->atom_res_name[idx[j]], q->atom_res_name[idx[i]]))
				sum += s[j++];
			double r = sum / max_asa(q->atom_res_name[idx[i]]);
			rasa[n_r++] = r < 0 ? 0 : r > 1 ? 1 : r;
			i = j;
		}
		for (int i = 0; i < n_r; i++) {
			double m = 0;
			for (int k = -12; k <= 12; k++)
				m += rasa[reflect(i + k, n_r)];
			n_dis += m / 25 > 0.581;
		}
		n_res += n_r;
	}
	*out = n_res ? (double)n_dis / (double)n_res : NAN;
end:
	free(idx), free(nb), free(radius), free(s), free(rasa), free(done);
	return rc;
}
