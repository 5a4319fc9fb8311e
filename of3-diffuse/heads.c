/* heads.c: the confidence and prediction heads (spec/diffusion_heads.md §5): weight binding,
 * representative atoms and the atom-slot map (host tables), the Pairformer embedding of the
 * predicted coordinates and the five heads, as calls into the op table and the shared
 * Pairformer block (kernels/layers/pairformer.h). */
#include "heads.h"

#include <stdio.h>

#define PFX   "aux_heads."
#define EMBED "pairformer_embedding."

static size_t max2(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* A linear whose outputs are OF3_HEADS_ATOM_SLOTS slots of *n_bin bins each. */
static int bind_slots(of3_ckpt_t *ck, of3_wbuf_t *wb, of3_ln_w_t *ln, of3_lin_w_t *lin,
                      int64_t *c_s, int64_t *n_bin, const char *name)
{
	char p[128];
	int64_t n_out = -1;
	snprintf(p, sizeof p, PFX "%s.", name);
	int rc = of3_wbind_ln(wb, ck, ln, c_s, 1, p, "layer_norm");
	rc = rc ? rc : of3_wbind_lin(wb, ck, lin, &n_out, c_s, 0, p, "linear");
	if (rc == 0 && (n_out <= 0 || n_out % OF3_HEADS_ATOM_SLOTS != 0))
		return of3_err(
		        OF3_ERR_INPUT,
		        "checkpoint key '%slinear.weight': %lld outputs do not split into %d "
		        "atom slots",
		        p, (long long)n_out, OF3_HEADS_ATOM_SLOTS);
	*n_bin = n_out / OF3_HEADS_ATOM_SLOTS;
	return rc;
}

int of3_heads_bind(of3_heads_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	char p[128];
	int64_t c_z = -1, c_si = -1, c_s = -1, n_bin = -1;
	int rc = of3_wbind_lin(wb, ck, &w->lin_i, &c_z, &c_si, 0, PFX EMBED, "linear_i");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->lin_j, &c_z, &c_si, 0, PFX EMBED, "linear_j");
	rc = rc ? rc
	        : of3_wbind_lin(wb, ck, &w->lin_dist, &c_z, &n_bin, 0, PFX EMBED,
	                        "linear_distance");
	if (rc)
		return rc;
	w->c_z = c_z;
	w->c_si = c_si;
	w->n_dist_bin = n_bin;
	int64_t n_block = of3_ckpt_count_blocks(ck, PFX EMBED "pairformer_stack.blocks");
	if (n_block < 1 || n_block > OF3_HEADS_MAX_BLOCKS)
		return of3_err(OF3_ERR_INPUT,
		               "checkpoint: %lld blocks under '" PFX EMBED
		               "pairformer_stack.blocks' (expected 1 to %d)",
		               (long long)n_block, OF3_HEADS_MAX_BLOCKS);
	w->n_block = (int)n_block;
	for (int b = 0; b < w->n_block; b++) {
		snprintf(p, sizeof p, PFX EMBED "pairformer_stack.blocks.%d.", b);
		rc = of3_pairformer_block_bind(&w->blocks[b], ck, wb, p);
		if (rc)
			return rc;
		if (w->blocks[b].c_z != c_z || (b > 0 && w->blocks[b].c_s != c_s))
			return of3_err(OF3_ERR_INPUT,
			               "checkpoint: block '%s' has widths c_s %lld, c_z %lld; the "
			               "embedding has c_z %lld",
			               p, (long long)w->blocks[b].c_s, (long long)w->blocks[b].c_z,
			               (long long)c_z);
		c_s = w->blocks[b].c_s;
	}
	w->c_s = c_s;
	rc = bind_slots(ck, wb, &w->plddt_ln, &w->plddt, &c_s, &w->n_plddt_bin, "plddt");
	rc = rc ? rc
	        : bind_slots(ck, wb, &w->resolved_ln, &w->resolved, &c_s, &w->n_resolved_bin,
	                     "experimentally_resolved");
	w->n_pde_bin = w->n_pae_bin = w->n_distogram_bin = -1;
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->pde_ln, &c_z, 1, PFX "pde.", "layer_norm");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->pde, &w->n_pde_bin, &c_z, 0, PFX "pde.", "linear");
	rc = rc ? rc : of3_wbind_ln(wb, ck, &w->pae_ln, &c_z, 1, PFX "pae.", "layer_norm");
	rc = rc ? rc : of3_wbind_lin(wb, ck, &w->pae, &w->n_pae_bin, &c_z, 0, PFX "pae.", "linear");
	rc = rc ? rc
	        : of3_wbind_lin(wb, ck, &w->distogram, &w->n_distogram_bin, &c_z, 0,
	                        PFX "distogram.", "linear");
	return rc;
}

/* Offset of the representative atom inside a standard (not atomized) residue, -1 where there
 * is none (spec/diffusion_heads.md §5.2; restype indices of spec/data.md §4.1). Nucleotide
 * offsets are the backbone length (11 DNA, 12 RNA: P OP1 OP2 O5' C5' C4' O4' C3' O3' [O2'] C2'
 * C1' order of the featurizer) plus the index of C4 (purines) or C2 (pyrimidines) in the base. */
static int rep_offset(int32_t restype, int is_protein, int is_dna, int is_rna)
{
	if (is_protein)
		return restype == 7                    ? 1 /* GLY: CA */
		       : restype >= 0 && restype <= 20 ? 4 /* CB */
		                                       : -1;
	if (is_dna)
		switch (restype) {
		case 26: return 11 + 9;  /* DA: C4 */
		case 27: return 11 + 10; /* DG: C4 */
		case 28:                 /* DC: C2 */
		case 29: return 11 + 1;  /* DT: C2 */
		default: return -1;      /* DN and anything else */
		}
	if (is_rna)
		switch (restype) {
		case 21: return 12 + 9;  /* A: C4 */
		case 22: return 12 + 10; /* G: C4 */
		case 23:                 /* C: C2 */
		case 24: return 12 + 1;  /* U: C2 */
		default: return -1;      /* N and anything else */
		}
	return -1;
}

int of3_heads_tables(of3_heads_tables_t *t, const of3_heads_tokens_t *tok)
{
	const int64_t n = tok->n_tok, n_atom = tok->n_atom;
	int64_t pos = 0; /* atoms of unmasked tokens so far, in token order */
	for (int64_t i = 0; i < n; i++) {
		const int64_t start = tok->start_atom_index[i], nat = tok->num_atoms_per_token[i];
		if (start < 0 || nat < 0 || start + nat > n_atom)
			return of3_err(
			        OF3_ERR_INPUT,
			        "token %lld: atoms %lld..%lld outside the %lld atoms of the query",
			        (long long)i, (long long)start, (long long)(start + nat - 1),
			        (long long)n_atom);
		int64_t off = tok->is_atomized[i] ? 0
		                                  : rep_offset(tok->restype[i], tok->is_protein[i],
		                                               tok->is_dna[i], tok->is_rna[i]);
		/* No representative (unknown nucleotide, or a residue short of the atom): atom 0
		 * with mask 0, as OpenFold3; its coordinates still enter the distance features. */
		if (off < 0 || off >= nat) {
			t->rep_atom[i] = 0;
			t->rep_mask[i] = 0.0f;
		} else {
			t->rep_atom[i] = (int32_t)(start + off);
			t->rep_mask[i] = tok->atom_mask[start + off] * tok->token_mask[i];
		}
		for (int64_t j = 0; j < n; j++)
			t->pair_mask[i * n + j] = tok->token_mask[i] * tok->token_mask[j];
		if (tok->token_mask[i] == 0.0f)
			continue;
		if (nat > OF3_HEADS_ATOM_SLOTS)
			return of3_err(
			        OF3_ERR_INPUT,
			        "token %lld has %lld atoms; the confidence heads take at most %d "
			        "per token",
			        (long long)i, (long long)nat, OF3_HEADS_ATOM_SLOTS);
		if (start != pos)
			return of3_err(
			        OF3_ERR_INPUT,
			        "token %lld starts at atom %lld, expected %lld: atoms are not "
			        "contiguous in token order",
			        (long long)i, (long long)start, (long long)pos);
		for (int64_t k = 0; k < nat; k++)
			t->atom_slot[pos++] = (int32_t)(i * OF3_HEADS_ATOM_SLOTS + k);
	}
	if (pos != n_atom)
		return of3_err(
		        OF3_ERR_INPUT,
		        "the unmasked tokens hold %lld atoms, the query %lld: the heads need "
		        "every atom in an unmasked token",
		        (long long)pos, (long long)n_atom);
	return OF3_OK;
}

/* Floats of the work area after z [N,N,c_z] and s [N,c_s]. */
static size_t work_floats(const of3_heads_w_t *w, int64_t n_tok)
{
	const size_t n = (size_t)n_tok, r = n * n;
	size_t k = 0;
	for (int b = 0; b < w->n_block; b++)
		k = max2(k, of3_pairformer_block_scratch(&w->blocks[b], n_tok));
	/* embedding: x_rep, linear_i, linear_j, distance one-hot */
	k = max2(k,
	         (size_t)of3_align(3 * n_tok) + 2 * n * (size_t)w->c_z + r * (size_t)w->n_dist_bin);
	/* pLDDT / resolved: LN(s), per-token slots */
	size_t nb =
	        (size_t)(w->n_plddt_bin > w->n_resolved_bin ? w->n_plddt_bin : w->n_resolved_bin);
	k = max2(k, n * (size_t)w->c_s + n * OF3_HEADS_ATOM_SLOTS * nb);
	/* PDE / PAE / distogram: LN(z), a transposed copy of the logits */
	nb = max2((size_t)w->n_pde_bin, max2((size_t)w->n_pae_bin, (size_t)w->n_distogram_bin));
	return max2(k, r * (size_t)w->c_z + r * nb);
}

size_t of3_heads_scratch(const of3_heads_w_t *w, int64_t n_tok)
{
	const size_t n = (size_t)n_tok;
	return n * n * (size_t)w->c_z + n * (size_t)w->c_s + work_floats(w, n_tok);
}

/* y[N,N,C] = L + Lᵀ with L = linear(x[N,N,c_z]): the symmetrised PDE and distogram logits. */
static void pair_logits(float *y, const float *x, const of3_lin_w_t *lin, int symmetric,
                        int64_t n_tok, float *tmp, const of3_backend_t *be)
{
	const int64_t r = n_tok * n_tok;
	be->ops->linear(y, x, lin->w, NULL, r, lin->n_in, lin->n_out);
	if (!symmetric)
		return;
	be->ops->transpose_pair(tmp, y, n_tok, n_tok, lin->n_out);
	be->ops->add(y, tmp, r * lin->n_out);
}

/* y[A,nb] = the atom slots of linear(LN(s)) [N, 23*nb] (pLDDT, resolved; §5.5). */
static void slot_logits(float *y, const float *s, const of3_ln_w_t *ln, const of3_lin_w_t *lin,
                        const int32_t *atom_slot, int64_t n_tok, int64_t n_atom, float *tmp,
                        const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	float *sn = tmp;                    /* [N, c_s] */
	float *lo = sn + n_tok * lin->n_in; /* [N, 23*nb] = [N*23, nb] */
	op->layer_norm(sn, s, ln->w, ln->b, n_tok, lin->n_in, OF3_LN_EPS);
	op->linear(lo, sn, lin->w, NULL, n_tok, lin->n_in, lin->n_out);
	op->gather_rows(y, lo, atom_slot, n_atom, lin->n_out / OF3_HEADS_ATOM_SLOTS);
}

void of3_heads_forward(const of3_heads_out_t *out, const of3_heads_in_t *in, const of3_heads_w_t *w,
                       float *scratch, const of3_backend_t *be)
{
	const of3_ops_t *op = be->ops;
	const int64_t n = in->n_tok, r = n * n, cz = w->c_z, cs = w->c_s, n_atom = in->n_atom;
	float *zbuf = scratch;              /* [N,N,c_z] the embedding's z when out->z is NULL */
	float *sbuf = zbuf + r * cz;        /* [N,c_s] its s when out->s is NULL */
	float *work = sbuf + n * cs;        /* work_floats() */
	float *xr = work;                   /* [N,3] representative-atom positions */
	float *a = work + of3_align(3 * n); /* [N,c_z] linear_i(s_input), aligned for cuBLAS */
	float *b = a + n * cz;              /* [N,c_z] linear_j(s_input) */
	float *oh = b + n * cz;             /* [N,N,n_dist_bin] distance one-hot */
	/* s_input [N,c_si], s_trunk [N,c_s], z_trunk [N,N,c_z], x [D,A,3] */

	if (out->distogram) /* from the trunk pair only: once, not per sample (§5.1) */
		pair_logits(out->distogram, in->z_trunk, &w->distogram, 1, n, work, be);
	for (int64_t d = 0; d < in->n_sample; d++) {
		float *z = out->z ? out->z + d * r * cz : zbuf;
		float *s = out->s ? out->s + d * n * cs : sbuf;
		/* Pairformer embedding (§5.3): z = z_trunk + lin_i(s_input)_i + lin_j(s_input)_j +
		 * lin_distance(onehot(|x_rep_i - x_rep_j|)); the sum is taken in a different order
		 * from the reference's (rounding only). */
		op->gather_rows(xr, in->x + d * n_atom * 3, in->tab.rep_atom, n, 3);
		op->distance_onehot(oh, xr, n, OF3_HEADS_DIST_FIRST, OF3_HEADS_DIST_STEP,
		                    w->n_dist_bin);
		op->linear(z, oh, w->lin_dist.w, NULL, r, w->n_dist_bin, cz);
		op->add(z, in->z_trunk, r * cz);
		op->linear(a, in->s_input, w->lin_i.w, NULL, n, w->c_si, cz);
		op->linear(b, in->s_input, w->lin_j.w, NULL, n, w->c_si, cz);
		op->outer_add(z, a, b, n, n, cz);
		op->copy(s, in->s_trunk, n * cs); /* s starts from s_trunk, not s_input */
		for (int k = 0; k < w->n_block; k++)
			of3_pairformer_block(s, z, in->tab.rep_mask, in->tab.pair_mask,
			                     &w->blocks[k], n, work, be);
		/* heads on the embedding's outputs (§5.5) */
		if (out->plddt)
			slot_logits(out->plddt + d * n_atom * w->n_plddt_bin, s, &w->plddt_ln,
			            &w->plddt, in->tab.atom_slot, n, n_atom, work, be);
		if (out->resolved)
			slot_logits(out->resolved + d * n_atom * w->n_resolved_bin, s,
			            &w->resolved_ln, &w->resolved, in->tab.atom_slot, n, n_atom,
			            work, be);
		float *zn = work, *tmp = work + r * cz; /* LN(z) [N,N,c_z]; transposed logits */
		if (out->pde) {
			op->layer_norm(zn, z, w->pde_ln.w, w->pde_ln.b, r, cz, OF3_LN_EPS);
			pair_logits(out->pde + d * r * w->n_pde_bin, zn, &w->pde, 1, n, tmp, be);
		}
		if (out->pae) { /* not symmetrised */
			op->layer_norm(zn, z, w->pae_ln.w, w->pae_ln.b, r, cz, OF3_LN_EPS);
			pair_logits(out->pae + d * r * w->n_pae_bin, zn, &w->pae, 0, n, tmp, be);
		}
	}
}
