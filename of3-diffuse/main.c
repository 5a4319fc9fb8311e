/* of3-diffuse: diffusion sampling and the confidence heads: trunk bundle to atom coordinates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/checkpoint.h"
#include "../common/cli.h"
#include "../common/log.h"
#include "../common/stage.h"
#include "../kernels/backend.h"
#include "diffuse_inputs.h"
#include "diffusion_module.h"
#include "heads.h"
#include "sampler.h"

enum { OPT_SAMPLES = 2000, OPT_STEPS, OPT_REPLAY };

#define DEFAULT_SAMPLES 5   /* no_full_rollout_samples (spec/diffusion_heads.md §1.1) */
#define DEFAULT_STEPS   200 /* no_full_rollout_steps */
#define MAX_SAMPLES     1000

typedef struct {
	const char *weights, *replay;
	long long n_sample, n_step; /* 0: default (or the replay file's) */
} diffuse_opts_t;

/* The weights of both parts, bound into one allocation. */
typedef struct {
	of3_diffusion_module_w_t mod;
	of3_heads_w_t heads;
	of3_wbuf_t wb;
} model_t;

typedef struct {
	of3_backend_t be;
	diffuse_opts_t opt;
	model_t *m;           /* bound at the first query, kept for the rest */
	of3_bundle_t *replay; /* --noise-replay's bundle */
} diffuse_ctx_t;

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: of3-diffuse -w WEIGHTS [options] [FILE|-]\n\n"
	        "Samples atom coordinates with the diffusion module and runs the confidence heads "
	        "on\neach trunk bundle; writes a diffuse bundle (coordinates per sample, the "
	        "heads' logits,\nthe features of3-writecif needs).\n\n"
	        "Options:\n"
	        "  -w, --weights FILE  OpenFold3 checkpoint (of3_ft3_v1.pt, layout p1), required\n"
	        "      --samples N     diffusion samples, one batch (default %d, 1..%d)\n"
	        "      --steps N       sampler steps (default %d, 1..%d)\n"
	        "      --noise-replay FILE\n"
	        "                      take the sampler's random draws from a recorded bundle\n"
	        "                      (sample_noise_init [D,A,3], sample_aug_quat [T,D,4],\n"
	        "                      sample_aug_trans [T,D,3], sample_noise_step [T,D,A,3], as\n"
	        "                      tools/reference records OpenFold3's) instead of Philox;\n"
	        "                      samples and steps default to the file's\n",
	        DEFAULT_SAMPLES, MAX_SAMPLES, DEFAULT_STEPS, OF3_SAMPLER_MAX_STEPS);
	of3_opts_help_compute(f);
	fprintf(f, "                      The seed names the Philox streams: sample k draws from\n"
	           "                      stream k, so it is the same for any --samples > k.\n"
	           "                      --device auto takes the GPU when there is one. The CPU\n"
	           "                      backend computes in fp32 only; on CUDA --precision fp32\n"
	           "                      is the parity mode, bf16 (default) the fast one.\n");
	of3_opts_help_io(f, 1);
	fprintf(f, "\nExample:\n"
	           "  of3-parse q.json | of3-featurize | of3-trunk -w of3.pt | of3-diffuse -w "
	           "of3.pt |\n"
	           "      of3-writecif -o out/\n\n");
	of3_opts_help_exit(f);
}

/* Both parts' weights, of3_wbind_all's binding pass. */
static int bind_model(void *ctx, of3_ckpt_t *ck, of3_wbuf_t *wb)
{
	model_t *m = ctx;
	int rc = of3_diffusion_module_bind(&m->mod, ck, wb);
	return rc ? rc : of3_heads_bind(&m->heads, ck, wb);
}

static int load(diffuse_ctx_t *c)
{
	of3_ckpt_t *ck = NULL;
	model_t *m = calloc(1, sizeof *m);
	if (!m)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	int rc = of3_ckpt_open(&ck, c->opt.weights);
	rc = rc ? rc : of3_wbind_all(&m->wb, ck, &c->be, bind_model, m);
	of3_ckpt_close(ck);
	if (rc < 0) {
		of3_wbuf_free(&m->wb, &c->be);
		free(m);
		return rc;
	}
	of3_verbose("diffusion module: c_atom %lld, c_token %lld, %d transformer blocks; heads: "
	            "%d pairformer blocks; %.1f MiB of weights, loaded at %.2f s",
	            (long long)m->mod.c_atom, (long long)m->mod.c_token, m->mod.dt.n_block,
	            m->heads.n_block, (double)m->wb.n_cap * 4 / (1 << 20), of3_elapsed_s());
	c->m = m;
	return OF3_OK;
}

/* A replay tensor as float32 (malloc'ed) when it has the expected shape. */
static float *replay_tensor(const of3_bundle_t *r, const char *path, const char *name, int ndim,
                            const int64_t *shape, int *rc)
{
	if (*rc)
		return NULL;
	const of3_tensor_t *t = of3_bundle_tensor(r, name);
	int ok = t && t->ndim == ndim && (t->dtype == OF3_DTYPE_F32 || t->dtype == OF3_DTYPE_F64);
	for (int i = 0; ok && i < ndim; i++)
		ok = t->shape[i] == shape[i];
	if (!ok) {
		*rc = of3_err(OF3_ERR_INPUT,
		              "%s: tensor '%s' %s; expected f32 or f64 [%lld, %lld%s%s] for this "
		              "query and these --samples/--steps",
		              path, name, t ? "has another dtype or shape" : "is missing",
		              (long long)shape[0], (long long)shape[1], ndim > 2 ? ", ..." : "",
		              "");
		return NULL;
	}
	const int64_t n = of3_tensor_numel(t);
	float *y = malloc((size_t)(n > 0 ? n : 1) * sizeof *y);
	if (!y) {
		*rc = of3_err(OF3_ERR_NOMEM, "out of memory for %s", name);
		return NULL;
	}
	for (int64_t i = 0; i < n; i++)
		y[i] = t->dtype == OF3_DTYPE_F32 ? ((const float *)t->data)[i]
		                                 : (float)((const double *)t->data)[i];
	for (int64_t i = 0; i < n; i++)
		if (!isfinite(y[i])) {
			*rc = of3_err(OF3_ERR_INPUT, "%s: tensor '%s' holds NaN or infinity", path,
			              name);
			free(y);
			return NULL;
		}
	return y;
}

/* Every tenth step, and the first and last. */
static void progress(void *ctx, int64_t step, int64_t n_step)
{
	if (step % 10 && step != 1 && step != n_step)
		return;
	of3_progress("query '%s': diffusion step %lld/%lld, %.1f s", (const char *)ctx,
	             (long long)step, (long long)n_step, of3_elapsed_s());
}

/* What one query's run produces: the host copy (x always; the heads' logits only on the CPU,
 * where the heads write them there) and its twin where the backend computes. */
typedef struct {
	float *x;                                        /* [D,A,3] */
	float *distogram, *plddt, *resolved, *pde, *pae; /* as of3_heads_out_t */
} result_t;

/* Writing tensor data that lies in backend memory: on a device it comes down in chunks
 * through two page-locked buffers, the next chunk downloading while the last one is written,
 * so that the logits (2 x 1.3 GB at 1024 tokens and 5 samples) cost about what writing them
 * costs, with no host copy of them at all. On the CPU the data is written from where it is. */
#define FETCH_BYTES ((size_t)16 << 20)
typedef struct {
	of3_backend_t *be;
	void *buf[2]; /* FETCH_BYTES each, of3_backend_host_alloc'ed; NULL on the CPU */
} fetch_t;

static int write_fetched(of3_bwriter_t *w, fetch_t *f, const void *src, size_t n_bytes)
{
	if (!f->buf[0] || n_bytes == 0)
		return of3_bwriter_tensor_data(w, src, n_bytes);
	const char *s = src;
	size_t at = 0, len = n_bytes < FETCH_BYTES ? n_bytes : FETCH_BYTES;
	int rc = of3_backend_download_async(f->be, f->buf[0], s, len, 0);
	for (int i = 0; rc == 0 && len > 0; i ^= 1) {
		const size_t next = at + len;
		const size_t len_next = n_bytes - next < FETCH_BYTES ? n_bytes - next : FETCH_BYTES;
		rc = of3_backend_copy_wait(f->be, i);
		if (rc == 0 && len_next > 0)
			rc = of3_backend_download_async(f->be, f->buf[i ^ 1], s + next, len_next,
			                                i ^ 1);
		rc = rc ? rc : of3_bwriter_tensor_data(w, f->buf[i], len);
		at = next;
		len = len_next;
	}
	return rc; /* a download still queued on failure is waited for by host_free */
}

/* The diffuse bundle: the input's carried tensors and values, then the sampled coordinates
 * r->x (host memory) and the heads' logits in dr (backend memory, fetched through f). */
static int write_result(of3_bwriter_t *w, const of3_bundle_t *in, const result_t *r,
                        const result_t *dr, fetch_t *f, const model_t *m, int64_t D, int64_t T,
                        int64_t N, int64_t A, const of3_opts_t *o, const char *noise,
                        const char *precision)
{
	const of3_heads_w_t *h = &m->heads;
	of3_bundle_t *hdr = of3_bundle_init("diffuse", in->query);
	if (!hdr)
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	int rc = of3_bundle_meta_copy(hdr, in);
	rc = rc ? rc : of3_bundle_meta_set_int(hdr, "n_sample", D);
	rc = rc ? rc : of3_bundle_meta_set_int(hdr, "n_step", T);
	rc = rc ? rc : of3_bundle_meta_set_int(hdr, "seed", (int64_t)o->seed);
	rc = rc ? rc : of3_bundle_meta_set_str(hdr, "noise", noise);
	rc = rc ? rc : of3_bundle_meta_set_str(hdr, "diffuse_precision", precision);
	rc = rc ? rc : of3_bwriter_begin(w, hdr);
	for (int i = 0; rc == 0 && i < in->n_tensors; i++)
		if (of3_diffuse_carries(in->tensors[i].name))
			rc = of3_bwriter_tensor(w, &in->tensors[i]);
	for (int i = 0; rc == 0 && i < in->n_values; i++)
		rc = of3_bwriter_value(w, in->values[i].name, &in->values[i].value);
	struct {
		const char *name;
		const float *data;
		int on_backend; /* data is in backend memory */
		int ndim;
		int64_t shape[4];
	} outs[] = {
	        {"atom_positions_predicted", r->x, 0, 3, {D, A, 3}},
	        {"plddt_logits", dr->plddt, 1, 3, {D, A, h->n_plddt_bin}},
	        {"pae_logits", dr->pae, 1, 4, {D, N, N, h->n_pae_bin}},
	        {"pde_logits", dr->pde, 1, 4, {D, N, N, h->n_pde_bin}},
	        {"experimentally_resolved_logits", dr->resolved, 1, 3, {D, A, h->n_resolved_bin}},
	        {"distogram_logits", dr->distogram, 1, 3, {N, N, h->n_distogram_bin}},
	};
	for (size_t k = 0; rc == 0 && k < sizeof outs / sizeof *outs; k++) {
		int64_t n = 1;
		for (int i = 0; i < outs[k].ndim; i++)
			n *= outs[k].shape[i];
		rc = of3_bwriter_tensor_begin(w, outs[k].name, OF3_DTYPE_F32, outs[k].ndim,
		                              outs[k].shape);
		const size_t n_bytes = (size_t)n * sizeof(float);
		if (rc == 0)
			rc = outs[k].on_backend ? write_fetched(w, f, outs[k].data, n_bytes)
			                        : of3_bwriter_tensor_data(w, outs[k].data, n_bytes);
	}
	rc = rc ? rc : of3_bwriter_end(w);
	of3_bundle_free(hdr);
	return rc;
}

/* The draws of a --noise-replay bundle for D samples, T steps, A atoms. */
static int replay_source(of3_noise_src_t *src, const of3_bundle_t *r, const char *path, int64_t D,
                         int64_t T, int64_t A)
{
	int rc = OF3_OK;
	src->init = replay_tensor(r, path, "sample_noise_init", 3, (int64_t[]){D, A, 3}, &rc);
	src->quat = replay_tensor(r, path, "sample_aug_quat", 3, (int64_t[]){T, D, 4}, &rc);
	src->trans = replay_tensor(r, path, "sample_aug_trans", 3, (int64_t[]){T, D, 3}, &rc);
	src->noise = replay_tensor(r, path, "sample_noise_step", 4, (int64_t[]){T, D, A, 3}, &rc);
	return rc;
}

static void free_source(of3_noise_src_t *src)
{
	free((void *)src->init), free((void *)src->quat), free((void *)src->trans);
	free((void *)src->noise);
}

/* Backend memory of one query: every buffer allocated here, freed together. On the CPU backend
 * inputs and outputs are the host arrays themselves (no copy). */
#define DEV_MAX 48
typedef struct {
	of3_backend_t *be;
	void *p[DEV_MAX];
	int n;
} devmem_t;

static void *dev_alloc(devmem_t *d, size_t n_bytes, int *rc)
{
	if (*rc)
		return NULL;
	if (d->n == DEV_MAX) {
		*rc = of3_err(OF3_ERR_RUNTIME, "of3-diffuse: more than %d device buffers", DEV_MAX);
		return NULL;
	}
	void *p = of3_backend_alloc(d->be, n_bytes);
	if (!p) {
		*rc = OF3_ERR_NOMEM; /* the message is of3_backend_alloc's */
		return NULL;
	}
	return d->p[d->n++] = p;
}

/* src's n_bytes in backend memory: uploaded on a device, src itself on the CPU. */
static void *dev_in(devmem_t *d, const void *src, size_t n_bytes, int *rc)
{
	if (*rc || d->be->kind == OF3_BACKEND_CPU)
		return *rc ? NULL : (void *)src;
	void *p = dev_alloc(d, n_bytes ? n_bytes : 1, rc);
	if (p && n_bytes)
		*rc = of3_backend_upload(d->be, p, src, n_bytes);
	return p;
}

/* Backend memory for n floats of output whose host home is host. */
static float *dev_out(devmem_t *d, float *host, size_t n, int *rc)
{
	if (*rc || d->be->kind == OF3_BACKEND_CPU)
		return *rc ? NULL : host;
	return dev_alloc(d, (n ? n : 1) * sizeof(float), rc);
}

static void dev_free_all(devmem_t *d)
{
	for (int i = 0; i < d->n; i++)
		of3_backend_free(d->be, d->p[i]);
	d->n = 0;
}

/* The diffusion features in backend memory (sizes as diffusion_module.h). */
static int dev_feats(devmem_t *d, of3_diffusion_feats_t *y, const of3_diffusion_feats_t *x,
                     int64_t N, int64_t A)
{
	int rc = OF3_OK;
	const size_t a = (size_t)A * 4, n = (size_t)N * 4;
	y->ref_pos = dev_in(d, x->ref_pos, 3 * a, &rc);
	y->ref_mask = dev_in(d, x->ref_mask, a, &rc);
	y->ref_element = dev_in(d, x->ref_element, OF3_DIFF_N_ELEMENT * a, &rc);
	y->ref_charge = dev_in(d, x->ref_charge, a, &rc);
	y->ref_atom_name_chars = dev_in(d, x->ref_atom_name_chars, OF3_DIFF_N_CHARS * a, &rc);
	y->ref_space_uid = dev_in(d, x->ref_space_uid, a, &rc);
	y->atom_mask = dev_in(d, x->atom_mask, a, &rc);
	y->atom_to_token_index = dev_in(d, x->atom_to_token_index, a, &rc);
	y->residue_index = dev_in(d, x->residue_index, n, &rc);
	y->token_index = dev_in(d, x->token_index, n, &rc);
	y->asym_id = dev_in(d, x->asym_id, n, &rc);
	y->entity_id = dev_in(d, x->entity_id, n, &rc);
	y->sym_id = dev_in(d, x->sym_id, n, &rc);
	y->token_mask = dev_in(d, x->token_mask, n, &rc);
	return rc;
}

static int process(void *ctx, const of3_bundle_t *in, of3_bwriter_t *w, const of3_opts_t *o)
{
	diffuse_ctx_t *c = ctx;
	int rc = c->m ? OF3_OK : load(c);
	if (rc < 0)
		return rc;
	const model_t *m = c->m;
	of3_diffuse_inputs_t v;
	if ((rc = of3_diffuse_inputs_view(&v, in, m->mod.c_si, m->mod.c_s, m->mod.c_z)) < 0) {
		of3_diffuse_inputs_free(&v);
		return rc;
	}
	const int64_t N = v.n_tok, A = v.n_atom;
	int64_t D = c->opt.n_sample ? c->opt.n_sample : DEFAULT_SAMPLES;
	int64_t T = c->opt.n_step ? c->opt.n_step : DEFAULT_STEPS;
	of3_noise_src_t src = {.seed = o->seed};
	if (c->replay) { /* unless given, samples and steps are the recording's */
		const of3_tensor_t *q = of3_bundle_tensor(c->replay, "sample_aug_quat");
		if (q && q->ndim == 3) {
			T = c->opt.n_step ? T : q->shape[0];
			D = c->opt.n_sample ? D : q->shape[1];
		}
		rc = replay_source(&src, c->replay, c->opt.replay, D, T, A);
	}
	const int64_t r_nn = N * N;
	const of3_heads_w_t *h = &m->heads;
	const size_t n_cache = of3_diffusion_cache_size(&m->mod, N, A);
	size_t n_scratch = of3_sampler_scratch(&m->mod, N, A, D);
	if (of3_heads_scratch(h, N) > n_scratch)
		n_scratch = of3_heads_scratch(h, N);
	/* host results and tables, and their backend twins (the same memory on the CPU) */
	result_t r = {0}, dr = {0};
	fetch_t fetch = {.be = &c->be};
	const int on_host = c->be.kind == OF3_BACKEND_CPU;
	of3_heads_tables_t tab = {0}, dtab = {0};
	const size_t n_x = (size_t)(D * A * 3), n_dist = (size_t)(r_nn * h->n_distogram_bin);
	const size_t n_plddt = (size_t)(D * A * h->n_plddt_bin);
	const size_t n_res = (size_t)(D * A * h->n_resolved_bin);
	const size_t n_pde = (size_t)(D * r_nn * h->n_pde_bin);
	const size_t n_pae = (size_t)(D * r_nn * h->n_pae_bin);
	if (rc == 0) {
		r.x = of3_backend_host_alloc(&c->be, n_x * sizeof(float));
		if (on_host) { /* the heads write their logits here */
			r.distogram = of3_backend_host_alloc(&c->be, n_dist * sizeof(float));
			r.plddt = of3_backend_host_alloc(&c->be, n_plddt * sizeof(float));
			r.resolved = of3_backend_host_alloc(&c->be, n_res * sizeof(float));
			r.pde = of3_backend_host_alloc(&c->be, n_pde * sizeof(float));
			r.pae = of3_backend_host_alloc(&c->be, n_pae * sizeof(float));
		} else { /* they stay on the device until written (write_fetched) */
			fetch.buf[0] = of3_backend_host_alloc(&c->be, FETCH_BYTES);
			fetch.buf[1] = of3_backend_host_alloc(&c->be, FETCH_BYTES);
		}
		tab.rep_atom = malloc((size_t)(N + 1) * sizeof *tab.rep_atom);
		tab.rep_mask = malloc((size_t)(N + 1) * sizeof *tab.rep_mask);
		tab.pair_mask = malloc((size_t)(r_nn + 1) * sizeof *tab.pair_mask);
		tab.atom_slot = malloc((size_t)(A + 1) * sizeof *tab.atom_slot);
		const int have_logits =
		        on_host ? r.distogram && r.plddt && r.resolved && r.pde && r.pae
		                : fetch.buf[0] && fetch.buf[1];
		if (!r.x || !have_logits || !tab.rep_atom || !tab.rep_mask || !tab.pair_mask ||
		    !tab.atom_slot)
			rc = of3_err(OF3_ERR_NOMEM, "query '%s': out of memory for the outputs",
			             in->query);
	}
	rc = rc ? rc : of3_heads_tables(&tab, &v.tok);
	/* what the query needs in backend memory, against what is free there (weights already
	 * loaded): a clear refusal instead of a failure midway */
	const size_t n_feat =
	        (size_t)(A * (3 + 1 + OF3_DIFF_N_ELEMENT + 1 + OF3_DIFF_N_CHARS + 1 + 1 + 1 + 1) +
	                 N * 6 + N * (m->mod.c_si + m->mod.c_s) + r_nn * m->mod.c_z + 2 * N + r_nn +
	                 A);
	const size_t n_out = n_x + n_dist + n_plddt + n_res + n_pde + n_pae;
	const size_t op_scratch = ((size_t)256 << 20) + (size_t)r_nn * 32 * sizeof(float);
	const size_t need = (n_cache + n_scratch + n_feat + n_out) * sizeof(float) + op_scratch;
	size_t mem_free = 0, mem_total = 0;
	if (rc == 0 && c->be.kind == OF3_BACKEND_CUDA &&
	    (rc = of3_backend_mem_info(&c->be, &mem_free, &mem_total)) == 0 && need > mem_free)
		rc = of3_err(
		        OF3_ERR_NOMEM,
		        "query '%s': %lld tokens, %lld atoms, %lld samples need an estimated "
		        "%.2f GiB of GPU memory (cache %.2f, scratch %.2f, inputs and outputs "
		        "%.2f, op scratch %.2f GiB; the weights, %.2f GiB, are loaded), but %.2f "
		        "GiB of %.2f are free on %s; use fewer --samples or --device cpu",
		        in->query, (long long)N, (long long)A, (long long)D,
		        (double)need / (1 << 30), (double)n_cache * 4 / (1 << 30),
		        (double)n_scratch * 4 / (1 << 30), (double)(n_feat + n_out) * 4 / (1 << 30),
		        (double)op_scratch / (1 << 30), (double)m->wb.n_cap * 4 / (1 << 30),
		        (double)mem_free / (1 << 30), (double)mem_total / (1 << 30), c->be.desc);
	of3_verbose("query '%s': %.2f GiB of %s memory estimated", in->query,
	            (double)need / (1 << 30), c->be.kind == OF3_BACKEND_CUDA ? "GPU" : "host");
	devmem_t dv = {.be = &c->be};
	float *cache = NULL, *scratch = NULL;
	of3_diffusion_in_t din = {.n_tok = N, .n_atom = A, .n_sample = D, .hf = v.f};
	if (rc == 0) {
		cache = dev_alloc(&dv, n_cache * sizeof(float), &rc);
		scratch = dev_alloc(&dv, n_scratch * sizeof(float), &rc);
		dr.x = dev_out(&dv, r.x, n_x, &rc);
		dr.distogram = dev_out(&dv, r.distogram, n_dist, &rc);
		dr.plddt = dev_out(&dv, r.plddt, n_plddt, &rc);
		dr.resolved = dev_out(&dv, r.resolved, n_res, &rc);
		dr.pde = dev_out(&dv, r.pde, n_pde, &rc);
		dr.pae = dev_out(&dv, r.pae, n_pae, &rc);
		din.s_input = dev_in(&dv, v.s_input, (size_t)(N * m->mod.c_si) * 4, &rc);
		din.s_trunk = dev_in(&dv, v.s_trunk, (size_t)(N * m->mod.c_s) * 4, &rc);
		din.z_trunk = dev_in(&dv, v.z_trunk, (size_t)(r_nn * m->mod.c_z) * 4, &rc);
		rc = rc ? rc : dev_feats(&dv, &din.f, &v.f, N, A);
		dtab.rep_atom = dev_in(&dv, tab.rep_atom, (size_t)N * 4, &rc);
		dtab.rep_mask = dev_in(&dv, tab.rep_mask, (size_t)N * 4, &rc);
		dtab.pair_mask = dev_in(&dv, tab.pair_mask, (size_t)r_nn * 4, &rc);
		dtab.atom_slot = dev_in(&dv, tab.atom_slot, (size_t)A * 4, &rc);
	}
	of3_verbose("query '%s': %lld tokens, %lld atoms, %lld samples x %lld steps, noise %s",
	            in->query, (long long)N, (long long)A, (long long)D, (long long)T,
	            c->replay ? c->opt.replay : "Philox");
	double t0 = of3_elapsed_s();
	rc = rc ? rc : of3_diffusion_prepare(cache, NULL, &din, &m->mod, scratch, &c->be);
	rc = rc ? rc : of3_backend_sync(&c->be);
	if (rc == 0)
		of3_verbose("query '%s': rollout cache at %.2f s (%.3f s)", in->query,
		            of3_elapsed_s(), of3_elapsed_s() - t0);
	t0 = of3_elapsed_s();
	rc = rc ? rc
	        : of3_sample_diffusion(r.x, T, &din, &m->mod, cache, &src, NULL, progress,
	                               (void *)in->query, scratch, &c->be);
	if (rc == 0)
		of3_verbose("query '%s': %lld steps at %.2f s (%.2f ms a step)", in->query,
		            (long long)T, of3_elapsed_s(),
		            1e3 * (of3_elapsed_s() - t0) / (double)T);
	for (size_t i = 0; rc == 0 && i < n_x; i++)
		if (!isfinite(r.x[i]))
			rc = of3_err(
			        OF3_ERR_RUNTIME,
			        "query '%s': sampling gave a non-finite coordinate (sample %lld, "
			        "atom %lld); nothing written",
			        in->query, (long long)(i / (size_t)(A * 3)),
			        (long long)(i / 3 % (size_t)A));
	if (rc == 0 && dr.x != r.x)
		rc = of3_backend_upload(&c->be, dr.x, r.x, n_x * sizeof(float));
	if (rc == 0) {
		const of3_heads_in_t hin = {.n_tok = N,
		                            .n_atom = A,
		                            .n_sample = D,
		                            .s_input = din.s_input,
		                            .s_trunk = din.s_trunk,
		                            .z_trunk = din.z_trunk,
		                            .x = dr.x,
		                            .tab = dtab};
		const of3_heads_out_t hout = {.distogram = dr.distogram,
		                              .plddt = dr.plddt,
		                              .resolved = dr.resolved,
		                              .pde = dr.pde,
		                              .pae = dr.pae};
		of3_heads_forward(&hout, &hin, h, scratch, &c->be);
		rc = of3_backend_sync(&c->be);
	}
	if (rc == 0) {
		of3_progress("query '%s': heads done, %.1f s", in->query, of3_elapsed_s());
		of3_verbose("query '%s': heads at %.2f s", in->query, of3_elapsed_s());
		const char *prec =
		        c->be.kind == OF3_BACKEND_CPU || c->be.precision == OF3_PRECISION_FP32
		                ? "fp32"
		                : "bf16";
		rc = write_result(w, in, &r, &dr, &fetch, m, D, T, N, A, o,
		                  c->replay ? "replay" : "philox", prec);
		if (rc == 0)
			of3_verbose("query '%s': written at %.2f s", in->query, of3_elapsed_s());
	}
	dev_free_all(&dv);
	of3_backend_host_free(&c->be, fetch.buf[0]), of3_backend_host_free(&c->be, fetch.buf[1]);
	of3_backend_host_free(&c->be, r.x), of3_backend_host_free(&c->be, r.distogram);
	of3_backend_host_free(&c->be, r.plddt), of3_backend_host_free(&c->be, r.resolved);
	of3_backend_host_free(&c->be, r.pde), of3_backend_host_free(&c->be, r.pae);
	free(tab.rep_atom), free(tab.rep_mask), free(tab.pair_mask), free(tab.atom_slot);
	free_source(&src);
	of3_diffuse_inputs_free(&v);
	return rc;
}

static int own_option(int c, const char *arg, void *ctx)
{
	diffuse_opts_t *d = ctx;
	switch (c) {
	case 'w': d->weights = arg; return 1;
	case OPT_SAMPLES:
		return of3_parse_int(arg, "--samples", 1, MAX_SAMPLES, &d->n_sample) < 0
		               ? OF3_ERR_USAGE
		               : 1;
	case OPT_STEPS:
		return of3_parse_int(arg, "--steps", 1, OF3_SAMPLER_MAX_STEPS, &d->n_step) < 0
		               ? OF3_ERR_USAGE
		               : 1;
	case OPT_REPLAY: d->replay = arg; return 1;
	}
	return 0;
}

/* Opens the backend and reads a replay file. --device auto prefers a GPU: every step of this
 * stage is an op of the CUDA table (issue #10), which the program takes itself, as
 * of3_backend_open hands out no CUDA table until every program can use it. */
static int setup(diffuse_ctx_t *c, const of3_opts_t *o)
{
	int rc;
#ifdef OF3_WITH_CUDA
	if (strcmp(o->device, "auto") == 0) {
		rc = of3_backend_open(&c->be, "cuda", o->threads);
		if (rc < 0) /* no usable GPU: the CPU, as auto promises */
			rc = of3_backend_open(&c->be, "cpu", o->threads);
	} else
#endif
		rc = of3_backend_open(&c->be, o->device, o->threads);
	if (rc < 0)
		return rc;
#ifdef OF3_WITH_CUDA
	if (c->be.kind == OF3_BACKEND_CUDA && !c->be.ops)
		c->be.ops = of3_ops_cuda();
#endif
	if (!c->be.ops)
		return of3_err(OF3_ERR_RUNTIME, "%s has no op table; use --device cpu", c->be.desc);
	of3_backend_set_precision(&c->be, o->precision);
	of3_backend_warmup(&c->be, OF3_WARMUP_DIFFUSE);
	of3_verbose("running on %s, %s (open at %.2f s)", c->be.desc,
	            c->be.kind == OF3_BACKEND_CPU        ? "fp32"
	            : o->precision == OF3_PRECISION_FP32 ? "fp32 (parity mode)"
	                                                 : "bf16 products",
	            of3_elapsed_s());
	if (c->be.kind == OF3_BACKEND_CPU && o->precision == OF3_PRECISION_BF16)
		of3_verbose("the CPU backend computes in fp32 (--precision bf16 is for the CUDA "
		            "backend)");
	if (!c->opt.replay)
		return OF3_OK;
	of3_breader_t *rd = NULL;
	rc = of3_breader_open(&rd, c->opt.replay);
	rc = rc ? rc : of3_breader_next(rd, &c->replay);
	of3_breader_close(rd);
	if (rc == 0 && !c->replay)
		rc = of3_err(OF3_ERR_INPUT, "%s: no bundle in the file", c->opt.replay);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"weights", required_argument, NULL, 'w'},
	        {"samples", required_argument, NULL, OPT_SAMPLES},
	        {"steps", required_argument, NULL, OPT_STEPS},
	        {"noise-replay", required_argument, NULL, OPT_REPLAY},
	        OF3_COMPUTE_LONGOPTS,
	        OF3_IO_LONGOPTS,
	        {0}};
	diffuse_ctx_t ctx = {0};
	const char *input;
	of3_opts_t opts;
	of3_cli_t cli = {"w:" OF3_COMPUTE_SHORTOPTS OF3_IO_SHORTOPTS,
	                 longopts,
	                 usage,
	                 of3_backends_built(),
	                 own_option,
	                 &ctx.opt};
	int rc = of3_cli_parse(&cli, argc, argv, &opts, &input);
	if (rc >= 0)
		return rc;
	if (!ctx.opt.weights)
		return of3_report(of3_err(OF3_ERR_USAGE, "no weights: give -w FILE (see --help)"));
	rc = setup(&ctx, &opts);
	if (rc == 0) {
		of3_stage_t stage = {.input_kind = "trunk",
		                     .writes_bundles = 1,
		                     .process = process,
		                     .ctx = &ctx};
		rc = of3_stage_run(&stage, input, &opts);
	}
	if (rc == 0)
		of3_backend_quick_exit(&ctx.be, 0);
	if (ctx.m)
		of3_wbuf_free(&ctx.m->wb, &ctx.be);
	free(ctx.m);
	of3_bundle_free(ctx.replay);
	of3_backend_close(&ctx.be);
	of3_verbose("backend closed at %.2f s", of3_elapsed_s());
	return rc < 0 ? of3_report(rc) : 0;
}
