/* diffusion_module.h: one call of OpenFold3's diffusion module at a noise level t̂
 * (spec/diffusion_heads.md §3.1, AF3 Alg. 20): diffusion conditioning (§3.2), the atom attention
 * encoder in diffusion use (§3.3), the token-level diffusion transformer (§3.4), the atom
 * attention decoder (§3.5) and the EDM scaling (§3.7).
 *
 * Use: of3_diffusion_module_bind() twice (plan, then into one allocation, weights.h); a cache
 * of of3_diffusion_cache_size() floats and a scratch of of3_diffusion_module_scratch() floats;
 * of3_diffusion_prepare() once per query, then of3_diffusion_module_forward() on D noisy
 * samples at each t̂ (the sampler, sampler.h). Nothing here allocates backend memory. Dimensions
 * come from the checkpoint's shapes, so the tiny test checkpoint and the released one run through
 * the same code.
 *
 * The split follows spec/diffusion_heads.md §8 item 7: the conditioned pair z, the atom
 * conditioning c and pairs p, every pair bias (24 token-level maps, the atom transformers') and
 * the c-dependent AdaLN and gate terms do not depend on the noise, so the cache holds them for
 * the whole rollout (z and p themselves are dropped once the biases are made); per step the
 * conditioned single s and its AdaLN/gate terms are made once and shared by the samples. */
#ifndef OF3_DIFFUSE_DIFFUSION_MODULE_H
#define OF3_DIFFUSE_DIFFUSION_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/checkpoint.h"
#include "../kernels/backend.h"
#include "../kernels/layers/atom_transformer.h"
#include "../kernels/layers/diffusion_transformer.h"
#include "../kernels/layers/pairformer.h"
#include "../kernels/layers/weights.h"

#define OF3_DIFF_SIGMA_DATA  16.0 /* σ_data (§3.7) */
#define OF3_DIFF_N_TRANS     2    /* residual SwiGLU transitions of the conditioning (§3.2) */
#define OF3_DIFF_N_ELEMENT   119  /* ref_element one-hot width */
#define OF3_DIFF_N_CHARS     256  /* ref_atom_name_chars, 4 x 64 flattened */
#define OF3_DIFF_RELPOS      139  /* relative-position encoding channels (§3.2 step 1) */
#define OF3_DIFF_MAX_FOURIER 1024 /* Fourier embedding width accepted (256 released) */

/* Weights under "diffusion_module.", shapes as spec/diffusion_heads.md §3.9. */
typedef struct {
	/* diffusion_conditioning. */
	of3_ln_w_t cond_ln_z; /* layer_norm_z [c_z + 139] */
	of3_lin_w_t cond_z;   /* linear_z [c_z, c_z + 139] */
	of3_transition_w_t tr_z[OF3_DIFF_N_TRANS];
	of3_ln_w_t cond_ln_s;               /* layer_norm_s [c_s + c_si] */
	of3_lin_w_t cond_s;                 /* linear_s [c_s, c_s + c_si] */
	const float *fourier_w, *fourier_b; /* fourier_emb.w [n_f,1], .b [n_f] */
	/* the same two in host memory: the embedding of the scalar t̂ is made on the host */
	float fourier_hw[OF3_DIFF_MAX_FOURIER], fourier_hb[OF3_DIFF_MAX_FOURIER];
	of3_ln_w_t cond_ln_n; /* layer_norm_n [n_f] */
	of3_lin_w_t cond_n;   /* linear_n [c_s, n_f] */
	of3_transition_w_t tr_s[OF3_DIFF_N_TRANS];
	/* atom_attn_enc. */
	of3_ref_atom_w_t ref; /* ref_atom_feature_embedder */
	of3_atom_pair_w_t pair;
	of3_ln_w_t npe_ln_s, npe_ln_z;   /* noisy_position_embedder.layer_norm_{s,z} */
	of3_lin_w_t npe_s, npe_z, npe_r; /* .linear_s [c_atom,c_s], _z [c_p,c_z], _r [c_atom,3] */
	of3_atom_transformer_w_t enc;
	of3_lin_w_t to_token; /* linear_q.0 [c_token, c_atom] */
	/* module */
	of3_ln_w_t ln_s;   /* layer_norm_s [c_s] */
	of3_lin_w_t lin_s; /* linear_s [c_token, c_s] */
	of3_diffusion_transformer_w_t dt;
	of3_ln_w_t ln_a; /* layer_norm_a [c_token] */
	/* atom_attn_dec. */
	of3_lin_w_t q_in; /* linear_q_in [c_atom, c_token] */
	of3_atom_transformer_w_t dec;
	of3_ln_w_t dec_ln; /* layer_norm [c_atom] */
	of3_lin_w_t q_out; /* linear_q_out [3, c_atom] */
	int64_t c_s, c_z, c_si, n_fourier, c_atom, c_p, c_token;
} of3_diffusion_module_w_t;

/* Binds every "diffusion_module." key (OF3_ERR_INPUT naming a missing or misshaped key). */
int of3_diffusion_module_bind(of3_diffusion_module_w_t *w, of3_ckpt_t *ck, of3_wbuf_t *wb) OF3_WUR;

/* The features one call reads (spec/diffusion_heads.md §3.8), on the backend's device; field
 * names and types as of3-trunk/trunk_features.h. */
typedef struct {
	const float *ref_pos;               /* [A,3] */
	const int32_t *ref_mask;            /* [A] */
	const int32_t *ref_element;         /* [A,119] one-hot */
	const float *ref_charge;            /* [A] */
	const int32_t *ref_atom_name_chars; /* [A,4,64] one-hot */
	const int32_t *ref_space_uid;       /* [A] */
	const float *atom_mask;             /* [A] */
	const int32_t *atom_to_token_index; /* [A] contiguous, in token order */
	const int32_t *residue_index;       /* [N] */
	const int32_t *token_index;         /* [N] */
	const int32_t *asym_id;             /* [N] */
	const int32_t *entity_id;           /* [N] */
	const int32_t *sym_id;              /* [N] */
	const float *token_mask;            /* [N] */
} of3_diffusion_feats_t;

/* The inputs, on the backend's device; prepare reads all but t_hat, x_noisy and fourier, a step
 * all but z_trunk. hf: the same features in host memory, read by prepare (the relative-position
 * rows, the token mask); it may be left zero on the CPU backend, where f is host memory. */
typedef struct {
	int64_t n_tok, n_atom, n_sample;
	double t_hat;         /* noise level t̂ (> 0) */
	const float *x_noisy; /* [D,A,3] */
	const float *fourier; /* [n_f] of3_diffusion_fourier(t̂) already on the backend; NULL: a
	                       * step makes and uploads it (a copy that waits for the backend) */
	const float *s_input; /* [N,c_si] */
	const float *s_trunk; /* [N,c_s] */
	const float *z_trunk; /* [N,N,c_z] */
	of3_diffusion_feats_t f;
	of3_diffusion_feats_t hf;
} of3_diffusion_in_t;

/* Outputs, on the backend's device; all but x_denoised may be NULL (intermediates for parity
 * checks). cond_z and enc_c come from of3_diffusion_prepare(), the rest from each step. */
typedef struct {
	float *x_denoised; /* [D,A,3] */
	float *cond_s;     /* [N,c_s] conditioned single */
	float *cond_z;     /* [N,N,c_z] conditioned pair */
	float *enc_c;      /* [A,c_atom] atom conditioning c (with the trunk single) */
	float *enc_q;      /* [D,A,c_atom] encoder atom activations (decoder skip) */
	float *enc_a;      /* [D,N,c_token] encoder token activations */
	float *trans_a;    /* [D,N,c_token] diffusion transformer output */
	float *r_update;   /* [D,A,3] decoder output Δr */
} of3_diffusion_out_t;

/* The features in host memory: in->hf where given, else f itself on the CPU backend; NULL when
 * neither (a CUDA caller that left hf out). */
const of3_diffusion_feats_t *of3_diffusion_host_feats(const of3_diffusion_in_t *in,
                                                      const of3_backend_t *be);

size_t of3_diffusion_cache_size(const of3_diffusion_module_w_t *w, int64_t n_tok, int64_t n_atom);
/* Scratch for prepare and for a step on n_sample samples. */
size_t of3_diffusion_module_scratch(const of3_diffusion_module_w_t *w, int64_t n_tok,
                                    int64_t n_atom, int64_t n_sample);

/* Fills cache from in's trunk outputs and features; out (may be NULL) may take cond_z, enc_c.
 * Uploads the relative-position rows it makes on the host (one small host buffer, freed
 * before it returns): OF3_ERR_NOMEM, or OF3_ERR_RUNTIME from the backend (a failed op or copy;
 * hf missing on a device backend). */
int of3_diffusion_prepare(float *cache, const of3_diffusion_out_t *out,
                          const of3_diffusion_in_t *in, const of3_diffusion_module_w_t *w,
                          float *scratch, of3_backend_t *be) OF3_WUR;

/* A rollout's recordings of the step (kernels/graph.h): its two runs of ops that do not depend
 * on t̂ on the host. Zero before the first step; of3_diffusion_graphs_free after the last. */
typedef struct of3_graph_t of3_graph_t;
typedef struct {
	of3_graph_t *cond, *body;
} of3_diffusion_graphs_t;

/* fe[n_f] = the Fourier features of the noise level t̂ (§3.2), made on the host: what a step
 * uploads when in->fourier is NULL. */
void of3_diffusion_fourier(float *fe, double t_hat, const of3_diffusion_module_w_t *w);

/* One evaluation at in->t_hat for every sample, from the prepared cache; uploads the Fourier
 * embedding of t̂ (OF3_ERR_RUNTIME from the backend). Ops are queued: the caller syncs (or
 * downloads) before it reads out. graphs (may be NULL): the rollout's recordings, which the
 * CUDA backend replays from the third call on; every call with the same graphs must then pass
 * the same out, in (but t_hat and the contents of x_noisy and fourier), w, cache and scratch. */
int of3_diffusion_module_forward(const of3_diffusion_out_t *out, const of3_diffusion_in_t *in,
                                 const of3_diffusion_module_w_t *w, const float *cache,
                                 float *scratch, of3_diffusion_graphs_t *graphs,
                                 of3_backend_t *be) OF3_WUR;
void of3_diffusion_graphs_free(of3_diffusion_graphs_t *graphs, of3_backend_t *be);

#endif
