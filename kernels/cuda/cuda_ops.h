/* cuda_ops.h: private to kernels/cuda/: the CUDA op functions (kernels/ops.h says what each
 * computes), gathered by ops_table.cu into the table of3_ops_cuda() returns, and the state they
 * share.
 *
 * Ops take no context argument, so the open backend lives in one process-wide struct
 * (of3_cuda_cur, set by of3_cuda_open; one device per process). Every op queues its work on that
 * stream and returns at once. Ops cannot fail by contract; what can still go wrong on a GPU (a
 * launch error, a cuBLAS status, scratch memory that cannot be had) is recorded once as a sticky
 * error that of3_cuda_sync() reports, and the op does nothing further. */
#ifndef OF3_CUDA_OPS_H
#define OF3_CUDA_OPS_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	int device;
	cudaStream_t stream;
	cublasHandle_t cublas;
	int fp32; /* 1: --precision fp32 (plain fp32, no TF32); 0: bf16 tensor-core products */
	void *ws; /* scratch of the ops that need some (tri_mul, attention, outer_product,
	           * linear_stack_lp) */
	size_t ws_bytes;
	void *blas_ws; /* cuBLAS's workspace, ours so that graph capture never allocates (graph.cu)
	                */
	size_t chunk_bytes; /* tri_mul and outer_product work in chunks of at most this scratch */
	char err[512];      /* the first failure since the last sync; "" if none */
} of3_cuda_ctx_t;

extern of3_cuda_ctx_t *of3_cuda_cur;

/* chunk_bytes unless a test lowered it (of3_cuda_set_chunk_bytes) */
#define OF3_CUDA_CHUNK_BYTES ((size_t)256 << 20)
/* cuBLAS's workspace: what it takes on Hopper by default (cuBLAS docs, "cublasSetWorkspace") */
#define OF3_CUDA_BLAS_WS_BYTES ((size_t)32 << 20)

/* Records the first failure ("<op>: <text>"); later ones are dropped until the next sync. */
void of3_cuda_fail(const char *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After a launch: 0, or -1 with the launch error recorded under the op's name. */
int of3_cuda_launched(const char *op);
/* After a cuBLAS call: 0, or -1 with its status recorded. */
int of3_cuda_blas(const char *op, cublasStatus_t st);
/* The shared scratch, grown (after the stream drains) to at least n_bytes; NULL with the failure
 * recorded. Valid until the next call of any op. */
void *of3_cuda_scratch(const char *op, size_t n_bytes);
/* OF3_CUDA_PROFILE=1 (profile.cu): waits for the stream and charges the time since the last mark
 * to `name`; nothing when the variable is unset. The report goes to stderr at close. */
void of3_cuda_profile_mark(const char *name);
void of3_cuda_profile_report(void);

/* Blocks for a grid-stride loop over n items with `threads` per block. */
static inline unsigned of3_cuda_grid(int64_t n, int threads)
{
	int64_t b = (n + threads - 1) / threads;
	return (unsigned)(b < 1 ? 1 : b > (1 << 20) ? (1 << 20) : b);
}

/* A grid-stride loop over n items, and the launch of such a kernel, name##_kernel, on the
 * backend stream (nothing for n <= 0; a launch failure is recorded under the op's name). */
#define OF3_CUDA_THREADS 256
#define OF3_FOR_EACH(i, n)                                                        \
	for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
	     i += (int64_t)gridDim.x * blockDim.x)
#define OF3_LAUNCH_1D(name, n, ...)                                                        \
	do {                                                                               \
		if ((n) <= 0)                                                              \
			return;                                                            \
		name##_kernel<<<of3_cuda_grid((n), OF3_CUDA_THREADS), OF3_CUDA_THREADS, 0, \
		                of3_cuda_cur->stream>>>(__VA_ARGS__);                      \
		of3_cuda_launched(#name);                                                  \
	} while (0)

/* Device helpers shared by the kernels. The sigmoid is 1/(1+expf(-x)) with the accurate expf
 * (no fast-math), as elementwise.cu documents. */
static __device__ __forceinline__ float of3_sigmoid(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

/* The sum over a warp's 32 lanes by a fixed shuffle tree: the same on every run. */
static __device__ __forceinline__ float of3_warp_sum(float v)
{
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

/* LayerNorm's statistics of one row xr[n_c] for a warp (lane = threadIdx.x): the mean, then the
 * variance around it (two passes, as the CPU and torch do, so rows with a large offset keep
 * their precision); *inv = 1 / sqrt(var + eps). */
static __device__ __forceinline__ void of3_row_moments(const float *xr, int64_t n_c, float eps,
                                                       float *mean, float *inv)
{
	float s = 0;
	for (int64_t c = threadIdx.x; c < n_c; c += 32)
		s += xr[c];
	const float m = of3_warp_sum(s) / (float)n_c;
	float v = 0;
	for (int64_t c = threadIdx.x; c < n_c; c += 32) {
		float d = xr[c] - m;
		v += d * d;
	}
	*mean = m;
	*inv = 1.0f / sqrtf(of3_warp_sum(v) / (float)n_c + eps);
}

/* Rows at least this wide get a block of OF3_WIDE_ROW_THREADS threads each instead of a warp:
 * the token transformer's 380 rows of 768 gave a warp-per-row kernel 48 blocks, a third of an
 * H100's SMs, each warp walking its row three times (21 us a call against 4 us). */
#define OF3_WIDE_ROW_MIN     512
#define OF3_WIDE_ROW_THREADS 128

/* the sum of v over the block, the same on every thread: warp sums, then the four partial sums in
 * a fixed order (deterministic); part[] is the caller's shared scratch of one float per warp */
static __device__ __forceinline__ float of3_block_sum(float v, float *part)
{
	v = of3_warp_sum(v);
	if ((threadIdx.x & 31) == 0)
		part[threadIdx.x >> 5] = v;
	__syncthreads();
	float t = 0;
	for (int i = 0; i < OF3_WIDE_ROW_THREADS / 32; i++)
		t += part[i];
	__syncthreads(); /* part[] may be written again right after */
	return t;
}

/* of3_row_moments for a block of OF3_WIDE_ROW_THREADS threads on one row (two passes, fp32) */
static __device__ __forceinline__ void of3_row_moments_wide(const float *xr, int64_t n_c, float eps,
                                                            float *mean, float *inv)
{
	__shared__ float part[OF3_WIDE_ROW_THREADS / 32];
	float s = 0;
	for (int64_t c = threadIdx.x; c < n_c; c += OF3_WIDE_ROW_THREADS)
		s += xr[c];
	const float m = of3_block_sum(s, part) / (float)n_c;
	float v = 0;
	for (int64_t c = threadIdx.x; c < n_c; c += OF3_WIDE_ROW_THREADS) {
		float d = xr[c] - m;
		v += d * d;
	}
	*mean = m;
	*inv = 1.0f / sqrtf(of3_block_sum(v, part) / (float)n_c + eps);
}

/* GEMM data and compute types of the current precision for float32 operands: fp32 mode is
 * pedantic fp32 (no TF32 whatever the math mode or NVIDIA_TF32_OVERRIDE), bf16 mode lets
 * cuBLAS round the operands to bf16 for the tensor cores and accumulate in fp32. */
static inline cublasComputeType_t of3_cuda_compute_f32(void)
{
	return of3_cuda_cur->fp32 ? CUBLAS_COMPUTE_32F_PEDANTIC : CUBLAS_COMPUTE_32F_FAST_16BF;
}

#ifdef __cplusplus
extern "C" {
#endif

void of3_cuda_layer_norm(float *y, const float *x, const float *w, const float *b, int64_t n_r,
                         int64_t n_c, float eps);
void of3_cuda_linear(float *y, const float *x, const float *w, const float *b, int64_t n_r,
                     int64_t n_in, int64_t n_out);
void of3_cuda_sigmoid(float *y, const float *x, int64_t n);
void of3_cuda_mul(float *y, const float *a, const float *b, int64_t n);
void of3_cuda_add(float *y, const float *x, int64_t n);
void of3_cuda_swiglu(float *y, const float *a, const float *b, int64_t n);
void of3_cuda_sigmoid_mul(float *y, const float *g, const float *x, int64_t n);
void of3_cuda_mask_rows(float *x, const float *mask, int64_t n_r, int64_t n_c);
void of3_cuda_transpose_pair(float *y, const float *x, int64_t n_i, int64_t n_j, int64_t n_c);
void of3_cuda_softmax(float *x, const float *mask, int64_t n_mask_rows, int64_t n_r, int64_t n_k);
void of3_cuda_attention(float *o, const float *q, const float *k, const float *v, const float *gate,
                        const float *mask, const float *bias, int64_t n_b, int64_t n_q, int64_t n_k,
                        int64_t n_head, int64_t d_head);
void of3_cuda_tri_mul(float *p, const float *a, const float *b, int64_t n_tok, int64_t n_h,
                      int incoming);
void of3_cuda_gather_rows(float *y, const float *x, const int32_t *idx, int64_t n_r, int64_t n_c);
void of3_cuda_outer_add(float *z, const float *a, const float *b, int64_t n_i, int64_t n_j,
                        int64_t n_c);
void of3_cuda_distance_onehot(float *y, const float *x, int64_t n_tok, float first, float step,
                              int64_t n_bin);
void of3_cuda_copy(float *y, const float *x, int64_t n);
void of3_cuda_relu(float *y, const float *x, int64_t n);
void of3_cuda_div_scalar(float *y, const float *x, float d, int64_t n);
void of3_cuda_div_rows(float *x, const float *den, float eps, int64_t n_r, int64_t n_c);
void of3_cuda_outer_product(float *o, const float *a, const float *b, int64_t n_s, int64_t n_tok,
                            int64_t i0, int64_t n_i, int64_t c_a, int64_t c_b);
void of3_cuda_pair_weighted_avg(float *o, const float *w, const float *v, int64_t n_s,
                                int64_t n_tok, int64_t n_head, int64_t d_head);

/* trunk ops (issue #10), trunk_ops.cu */
void of3_cuda_fill(float *y, float v, int64_t n);
void of3_cuda_copy_2d(float *y, int64_t ld_y, const float *x, int64_t ld_x, int64_t n_r,
                      int64_t n_c);
void of3_cuda_segment_mean(float *y, int64_t ld_y, const float *x, const float *w,
                           const int32_t *off, const int32_t *rows, int64_t n_seg, int64_t n_c);
void of3_cuda_relpos_embed(float *z, const float *zi, const float *zj, const int32_t *bins,
                           const float *bond, const float *w_rel, const float *w_bond,
                           int64_t n_tok, int64_t n_c, int64_t n_rel);

/* diffusion and atom-level ops (issue #10), atom_ops.cu */
void of3_cuda_asinh(float *y, const float *x, int64_t n);
void of3_cuda_i32_to_f32(float *y, const int32_t *x, int64_t n);
void of3_cuda_atom_windows(float *y, const float *x, int64_t n_atom, int64_t n_c, int64_t n_win,
                           int64_t first);
void of3_cuda_atom_block_masks(float *mask_q, float *mask_k, float *pair_mask,
                               const float *atom_mask, int64_t n_atom);
void of3_cuda_atom_pair_feats(float *d, float *inv, float *v, const float *pos, const int32_t *uid,
                              const float *pair_mask, int64_t n_atom);
void of3_cuda_atom_pair_outer_add(float *p, const float *lq, const float *lk,
                                  const float *pair_mask, int64_t n_atom, int64_t n_c);
void of3_cuda_atom_pair_gather_add(float *p, const float *z, const int32_t *tok,
                                   const float *pair_mask, int64_t n_atom, int64_t n_tok,
                                   int64_t n_c);
void of3_cuda_concat_rows(float *y, const float *a, const float *b, int64_t n_r, int64_t c_a,
                          int64_t c_b);
void of3_cuda_edm_combine(float *y, const float *x, const float *z, const float *mask, double a,
                          double b, int64_t n_r, int64_t n_mask, int64_t n_c);
void of3_cuda_augment_noise(float *xh, const float *x, const float *quat, const float *trans,
                            const float *eps, const float *mask, float sigma, int64_t n_sample,
                            int64_t n_atom);
void of3_cuda_sampler_update(float *x, const float *xh, const float *den, float a, float t,
                             int64_t n);
void of3_cuda_attention_grouped(float *o, const float *q, const float *k, const float *v,
                                const float *gate, const float *mask, const float *bias,
                                int64_t n_b, int64_t n_grp, int64_t n_q, int64_t n_k,
                                int64_t n_head, int64_t d_head);

/* broadcast ops (issue #10): bcast_ops.{c,cu} */
void of3_cuda_add_bcast(float *y, const float *x, int64_t n_rep, int64_t n);
void of3_cuda_repeat(float *y, const float *x, int64_t n_rep, int64_t n);
void of3_cuda_mask_rows_rep(float *x, const float *mask, int64_t n_mask, int64_t n_r, int64_t n_c);
void of3_cuda_adaln_apply(float *y, const float *x, const float *gate, const float *shift,
                          int64_t n_rep, int64_t n_r, int64_t n_c, float eps);
void of3_cuda_gated_residual(float *a, const float *g, const float *x, const float *mask,
                             int64_t n_rep, int64_t n_r, int64_t n_c);
void of3_cuda_gather_rows_rep(float *y, const float *x, const int32_t *idx, int64_t n_rep,
                              int64_t n_r, int64_t n_x, int64_t n_c);
void of3_cuda_atom_windows_rep(float *y, const float *x, int64_t n_rep, int64_t n_atom, int64_t n_c,
                               int64_t n_win, int64_t first);
void of3_cuda_linear_stack(float *y, const float *x, int64_t x_stride, const float *w,
                           const float *b, int64_t n_stack, int64_t n_r, int64_t n_in,
                           int64_t n_out);

/* fused pair-block ops (issue #10): linear.cu, elementwise.cu, norm.cu */
void of3_cuda_linear_acc(float *y, const float *x, const float *w, int64_t n_r, int64_t n_in,
                         int64_t n_out);
void of3_cuda_tri_mul_gate(float *a, float *b, const float *p, const float *mask, int64_t n_r,
                           int64_t n_c);
void of3_cuda_swiglu_rows(float *y, const float *a, const float *b, const float *mask, int64_t n_r,
                          int64_t n_c);
void of3_cuda_layer_norm_t(float *y, const float *x, const float *w, const float *b, int64_t n_i,
                           int64_t n_j, int64_t n_c, float eps);
void of3_cuda_linear_acc_t(float *y, const float *x, const float *w, int64_t n_i, int64_t n_j,
                           int64_t n_in, int64_t n_out);

/* low-precision product operands: linear.cu */
void of3_cuda_to_bf16(void *y, const float *x, int64_t n);
void of3_cuda_linear_stack_lp(float *y, const float *x, int64_t x_stride, const float *w,
                              const void *w_lp, const float *b, int64_t n_stack, int64_t n_r,
                              int64_t n_in, int64_t n_out);

/* producers of ready bf16 product operands: bcast_ops.cu, elementwise.cu, linear.cu */
void of3_cuda_adaln_apply_lp(float *y, void *y_lp, const float *x, const float *gate,
                             const float *shift, int64_t n_rep, int64_t n_r, int64_t n_c,
                             float eps);
void of3_cuda_swiglu_lp(float *y, void *y_lp, const float *a, const float *b, int64_t n);
void of3_cuda_linear_stack_lpx(float *y, const float *x, const void *x_lp, int64_t x_stride,
                               const float *w, const void *w_lp, const float *b, int64_t n_stack,
                               int64_t n_r, int64_t n_in, int64_t n_out);
/* the atom transformer's attention in place: attention.cu */
void of3_cuda_attention_atoms(float *o, const float *q, const float *k, const float *v,
                              const float *gate, const float *mask, const float *bias,
                              int64_t n_rep, int64_t n_atom, int64_t n_head, int64_t d_head);

#ifdef __cplusplus
}
#endif

#endif
