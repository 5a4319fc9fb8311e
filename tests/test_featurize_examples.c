/* test_featurize_examples.c: of3-featurize's features against OpenFold3's on every example
 * query and both tiny fixture queries (tests/fixtures/features_*.bundle.gz, made by the real
 * data pipeline): integer features identical, float features within 1e-6. ref_pos is the one
 * feature that cannot match (OpenFold3 makes conformers with RDKit's ETKDG, we take the CCD's:
 * docs/DEVIATIONS.md), so for it this checks geometry: every conformer is the CCD's, moved
 * rigidly (distances within 1e-4 Å, handedness kept), with N(0, 1) translations, the same for
 * the same seed; and it measures how far the CCD conformers are from OpenFold3's.
 *
 * Runs $BIN/of3-parse (BIN defaults to bin) for the assemblies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/bundle.h"
#include "../of3-featurize/msa.h"
#include "../of3-featurize/structure.h"
#include "check.h"

static const char *const feature_names[] = {"token_index",
                                            "residue_index",
                                            "asym_id",
                                            "entity_id",
                                            "sym_id",
                                            "restype",
                                            "is_protein",
                                            "is_rna",
                                            "is_dna",
                                            "is_ligand",
                                            "is_atomized",
                                            "token_mask",
                                            "num_atoms_per_token",
                                            "start_atom_index",
                                            "atom_mask",
                                            "atom_to_token_index",
                                            "token_bonds",
                                            "ref_mask",
                                            "ref_element",
                                            "ref_charge",
                                            "ref_atom_name_chars",
                                            "ref_space_uid",
                                            "msa",
                                            "has_deletion",
                                            "deletion_value",
                                            "deletion_mean",
                                            "profile",
                                            "msa_mask",
                                            "num_paired_seqs",
                                            "template_restype",
                                            "template_pseudo_beta_mask",
                                            "template_backbone_frame_mask",
                                            "template_distogram",
                                            "template_unit_vector",
                                            NULL};

static int read_stream(const char *cmd, of3_bundle_t **bs, int max)
{
	FILE *p = popen(cmd, "r");
	of3_breader_t *r;
	int n = 0;
	if (!p || of3_breader_open_fd(&r, fileno(p), cmd) < 0) {
		if (p)
			pclose(p);
		return -1;
	}
	while (n < max && of3_breader_next(r, &bs[n]) == OF3_OK)
		n++;
	of3_breader_close(r);
	return pclose(p) == 0 ? n : -1;
}

static void compare(const of3_bundle_t *ours, const of3_bundle_t *ref, const char *name)
{
	const of3_tensor_t *a = of3_bundle_tensor(ours, name), *b = of3_bundle_tensor(ref, name);
	if (!a || !b) {
		CHECK(0, "query '%s': %s missing (%s)", ref->query, name, a ? "reference" : "ours");
		return;
	}
	int same_shape = a->ndim == b->ndim && of3_tensor_numel(a) == of3_tensor_numel(b);
	for (int i = 0; same_shape && i < a->ndim; i++)
		same_shape = a->shape[i] == b->shape[i];
	int is_float = b->dtype == OF3_DTYPE_F32 || b->dtype == OF3_DTYPE_F64;
	double worst = 0;
	int64_t n = same_shape ? of3_tensor_numel(a) : 0;
	if (a->dtype == b->dtype && a->nbytes == b->nbytes && !memcmp(a->data, b->data, a->nbytes))
		n = 0; /* identical bytes: the template slots are hundreds of MB of zeros */
	for (int64_t i = 0; i < n; i++) {
		double d = fabs(of3_dtype_get(a->dtype, a->data, (size_t)i) -
		                of3_dtype_get(b->dtype, b->data, (size_t)i));
		worst = d > worst ? d : worst;
	}
	CHECK(same_shape && a->dtype == b->dtype && worst <= (is_float ? 1e-6 : 0),
	      "query '%s': %s %s, max difference %g", ref->query, name,
	      !same_shape            ? "shape differs"
	      : a->dtype != b->dtype ? "dtype differs"
	                             : "equal",
	      worst);
}

static double dist(const float *p, int i, int j)
{
	double d = 0;
	for (int k = 0; k < 3; k++)
		d += ((double)p[3 * i + k] - p[3 * j + k]) * ((double)p[3 * i + k] - p[3 * j + k]);
	return sqrt(d);
}

static double volume(const float *p, int a, int b, int c, int d)
{
	double u[3], v[3], w[3];
	for (int k = 0; k < 3; k++) {
		u[k] = (double)p[3 * b + k] - p[3 * a + k];
		v[k] = (double)p[3 * c + k] - p[3 * a + k];
		w[k] = (double)p[3 * d + k] - p[3 * a + k];
	}
	return u[0] * (v[1] * w[2] - v[2] * w[1]) - u[1] * (v[0] * w[2] - v[2] * w[0]) +
	       u[2] * (v[0] * w[1] - v[1] * w[0]);
}

/* Translations of all conformers seen, and distance differences to OpenFold3's conformers. */
static double t_sum, t_sq;
static long t_n;
static double *rms_to_ref;
static int n_rms, m_rms;

static void check_positions(const of3_tokens_t *t, const of3_bundle_t *ours,
                            const of3_bundle_t *ref)
{
	const of3_tensor_t *pt = of3_bundle_tensor(ours, "ref_pos"),
	                   *rt = of3_bundle_tensor(ref, "ref_pos"),
	                   *ut = of3_bundle_tensor(ours, "ref_space_uid");
	const float *pos = pt->data, *ccd = t->atom_ccd_pos, *rpos = rt->data;
	const int32_t *uid = ut->data;
	double worst = 0;
	int flips = 0, mols = 0, n_smiles = 0, smiles_bad = 0;
	for (int a0 = 0; a0 < t->n_atoms;) {
		int a1 = a0;
		while (a1 < t->n_atoms && uid[a1] == uid[a0])
			a1++;
		double c[3] = {0, 0, 0}, sq = 0;
		int n_pairs = 0;
		/* SMILES ligands have our own conformer (issue #6), not the CCD's: their bonds must
		 * be chemical lengths and their non-bonded atoms apart (tests/
		 * test_featurize_conformer.c compares them with RDKit) */
		int smiles = t->chains[t->chain[t->atom_token[a0]]].smiles != NULL;
		for (int i = a0; smiles && i < a1; i++)
			for (int j = i + 1; j < a1; j++) {
				int bonded = 0;
				for (int k = 0; k < t->n_bonds && !bonded; k++)
					bonded = (t->bonds[3 * k] == i &&
					          t->bonds[3 * k + 1] == j) ||
					         (t->bonds[3 * k] == j && t->bonds[3 * k + 1] == i);
				double d = dist(pos, i, j);
				if (bonded ? d < 1.1 || d > 2.0 : d < 2.0)
					smiles_bad++;
			}
		for (int i = a0; i < a1; i++) {
			for (int k = 0; k < 3; k++)
				c[k] += pos[3 * i + k] / (a1 - a0);
			for (int j = i + 1; j < a1; j++) {
				double d = fabs(dist(pos, i, j) - dist(ccd, i, j));
				if (!smiles)
					worst = d > worst ? d : worst;
				double e = dist(pos, i, j) - dist(rpos, i, j);
				sq += e * e;
				n_pairs++;
			}
		}
		for (int i = a0; !smiles && i + 3 < a1; i++) {
			double v0 = volume(ccd, i, i + 1, i + 2, i + 3),
			       v1 = volume(pos, i, i + 1, i + 2, i + 3);
			if (fabs(v0) > 0.1 && (v0 > 0) != (v1 > 0))
				flips++;
		}
		for (int k = 0; k < 3; k++) {
			t_sum += c[k];
			t_sq += c[k] * c[k];
			t_n++;
		}
		if (n_pairs) {
			if (n_rms == m_rms)
				rms_to_ref = realloc(rms_to_ref,
				                     (size_t)(m_rms = m_rms ? 2 * m_rms : 1024) *
				                             sizeof *rms_to_ref);
			rms_to_ref[n_rms++] = sqrt(sq / n_pairs);
		}
		mols += !smiles;
		n_smiles += smiles;
		a0 = a1;
	}
	if (n_smiles)
		CHECK(smiles_bad == 0,
		      "query '%s': %d SMILES conformers have bonds of 1.1-2.0 Å and no other pair "
		      "under 2.0 Å (%d bad pairs)",
		      ref->query, n_smiles, smiles_bad);
	CHECK(worst <= 1e-4 && flips == 0,
	      "query '%s': %d conformers are the CCD's moved rigidly (distances within %.2g Å, "
	      "%d handedness flips)",
	      ref->query, mols, worst, flips);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void run_query_file(const char *bin, const char *query, const char *fixture)
{
	char cmd[512];
	of3_bundle_t *asm_[8] = {0}, *ref[8] = {0};
	snprintf(cmd, sizeof cmd, "%s/of3-parse %s", bin, query);
	int na = read_stream(cmd, asm_, 8);
	snprintf(cmd, sizeof cmd, "gzip -dc %s", fixture);
	int nr = read_stream(cmd, ref, 8);
	CHECK(na > 0 && na == nr, "%s: %d assemblies, %d reference bundles", query, na, nr);
	for (int q = 0; q < na && q < nr; q++) {
		of3_tokens_t t;
		of3_bundle_t *f = of3_bundle_init("features", asm_[q]->query);
		int rc = of3_tokens_init(&t, asm_[q]);
		rc = rc ? rc : of3_structure_features(&t, f);
		rc = rc ? rc : of3_reference_features(&t, f);
		rc = rc ? rc : of3_msa_features(&t, f);
		rc = rc ? rc : of3_template_features(&t, f);
		CHECK(rc == 0, "%s: query '%s' featurized %s", query, asm_[q]->query,
		      rc ? of3_errmsg() : "");
		for (int i = 0; rc == 0 && feature_names[i]; i++)
			compare(f, ref[q], feature_names[i]);
		if (rc == 0) {
			rc = of3_reference_positions(&t, 42, f);
			CHECK(rc == 0, "query '%s': ref_pos", f->query);
			if (rc == 0)
				check_positions(&t, f, ref[q]);
			of3_bundle_t *g = of3_bundle_init("features", f->query),
			             *h = of3_bundle_init("features", f->query);
			int rg = of3_reference_features(&t, g) ||
			         of3_reference_positions(&t, 42, g) ||
			         of3_reference_features(&t, h) ||
			         of3_reference_positions(&t, 43, h);
			const of3_tensor_t *p42 = of3_bundle_tensor(f, "ref_pos"),
			                   *p42b = of3_bundle_tensor(g, "ref_pos"),
			                   *p43 = of3_bundle_tensor(h, "ref_pos");
			CHECK(!rg && p42 && p42b && p43 &&
			              !memcmp(p42->data, p42b->data, p42->nbytes) &&
			              memcmp(p42->data, p43->data, p42->nbytes),
			      "query '%s': ref_pos is the same for the same seed, different for "
			      "another",
			      f->query);
			of3_bundle_free(g);
			of3_bundle_free(h);
		}
		if (t.n_atoms)
			of3_tokens_free(&t);
		of3_bundle_free(f);
	}
	for (int q = 0; q < 8; q++) {
		of3_bundle_free(asm_[q]);
		of3_bundle_free(ref[q]);
	}
}

int main(void)
{
	const char *bin = getenv("BIN") ? getenv("BIN") : "bin";
	static const char *const examples[] = {
	        "dna_ptm",   "homomer", "multimer", "protein_ligand", "protein_ligand_multiple",
	        "ubiquitin", NULL};
	char query[256], fixture[256];
	for (int i = 0; examples[i]; i++) {
		snprintf(query, sizeof query, "examples/query_%s.json", examples[i]);
		snprintf(fixture, sizeof fixture, "tests/fixtures/features_query_%s.bundle.gz",
		         examples[i]);
		run_query_file(bin, query, fixture);
	}
	run_query_file(bin, "tests/fixtures/queries/protein.json",
	               "tests/fixtures/tiny_protein_features.bundle.gz");
	double mean = t_sum / (double)t_n, var = t_sq / (double)t_n - mean * mean;
	CHECK(t_n > 1000 && fabs(mean) < 0.1 && var > 0.85 && var < 1.15,
	      "conformer translations look N(0, 1): %ld values, mean %.3f, variance %.3f", t_n,
	      mean, var);
	if (n_rms) {
		qsort(rms_to_ref, (size_t)n_rms, sizeof *rms_to_ref, cmp_double);
		printf("# ref_pos: CCD conformers vs OpenFold3's RDKit ETKDG conformers, RMS of "
		       "the "
		       "intra-conformer distance differences over %d conformers: median %.3f Å, "
		       "90th "
		       "percentile %.3f Å, max %.3f Å\n",
		       n_rms, rms_to_ref[n_rms / 2], rms_to_ref[n_rms * 9 / 10],
		       rms_to_ref[n_rms - 1]);
	}
	free(rms_to_ref);
	return check_summary();
}
