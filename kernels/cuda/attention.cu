/* attention.cu: gated multi-head attention with a key mask and a shared additive bias on the GPU
 * (spec/trunk.md §3.0.4; triangle attention §3.6.2, attention with pair bias §3.7.1), flash-style:
 * keys stream through shared memory in tiles and each query keeps a running maximum, sum and
 * output (online softmax), so no logits buffer exists at any size.
 *
 * One thread per query row of one (b, h): its scaled q and its accumulator stay in registers,
 * sized by the head width rounded up to a power of two (D; the padding is zeros, so it adds
 * nothing to the dot products). Logits are built in the CPU's and reference's order:
 * (q/sqrt(d))·k, + mask bias INF*(mask-1), + bias. Everything is fp32 in both precision modes.
 * The bias [Q,K,H] is first transposed into scratch as [H,Q,K] so that a block's tile of it is
 * read with coalesced loads (the transpose reads Q*K*H once; the kernel reads it B times).
 *
 * The grouped form runs many small problems in one launch (the atom transformer's 32 x 128
 * blocks, every block and sample at once, instead of a launch of four thread blocks each):
 * problem b reads key-mask row b % mask_grp and bias group b % bias_grp, [grp,H,Q,K] after the
 * transpose. The plain op is mask_grp = B, bias_grp = 1. */
#include <math.h>

extern "C" {
#include "../ops.h"
}
#include "cuda_ops.h"

#define BQ 64 /* queries per block */

template <int D, int BK>
static __global__ void __launch_bounds__(BQ)
        attention_kernel(float *o, const float *q, const float *k, const float *v,
                         const float *gate, const float *mask, const float *bias_t, int64_t n_q,
                         int64_t n_k, int n_head, int d_head, int64_t n_qt, float scale,
                         int64_t mask_grp, int64_t bias_grp)
{
	__shared__ float ks[BK][D], vs[BK][D];
	__shared__ float bs[BQ][BK + 1]; /* padded: thread t reads row t */
	__shared__ float ms[BK];
	int64_t blk = blockIdx.x;
	const int64_t qt = blk % n_qt;
	blk /= n_qt;
	const int h = (int)(blk % n_head);
	const int64_t b = blk / n_head;
	const int64_t hd = (int64_t)n_head * d_head;
	const int tid = threadIdx.x;
	const int64_t i0 = qt * BQ, i = i0 + tid;
	const bool live = i < n_q;
	const int64_t mrow = b % mask_grp;
	if (bias_t)
		bias_t += (b % bias_grp) * n_head * n_q * n_k;

	float qr[D], acc[D];
	const float *qi = q + (b * n_q + i) * hd + h * d_head;
#pragma unroll
	for (int c = 0; c < D; c++) {
		qr[c] = live && c < d_head ? qi[c] * scale : 0.0f;
		acc[c] = 0.0f;
	}
	float m = -INFINITY, l = 0.0f;

	for (int64_t j0 = 0; j0 < n_k; j0 += BK) {
		const int nj = n_k - j0 < BK ? (int)(n_k - j0) : BK;
		__syncthreads(); /* the previous tile is consumed */
		for (int e = tid; e < BK * D; e += BQ) {
			int jj = e / D, c = e % D;
			float kv = 0.0f, vv = 0.0f;
			if (jj < nj && c < d_head) {
				int64_t off = (b * n_k + j0 + jj) * hd + h * d_head + c;
				kv = k[off];
				vv = v[off];
			}
			ks[jj][c] = kv;
			vs[jj][c] = vv;
		}
		for (int jj = tid; jj < BK; jj += BQ)
			ms[jj] = mask && jj < nj
			                 ? OF3_MASK_INF * (mask[mrow * n_k + j0 + jj] - 1.0f)
			                 : 0.0f;
		if (bias_t)
			for (int e = tid; e < BQ * BK; e += BQ) {
				int ii = e / BK, jj = e % BK;
				bs[ii][jj] = i0 + ii < n_q && jj < nj
				                     ? bias_t[((int64_t)h * n_q + i0 + ii) * n_k +
				                              j0 + jj]
				                     : 0.0f;
			}
		__syncthreads();

		float s[BK], tmax = -INFINITY;
#pragma unroll
		for (int jj = 0; jj < BK; jj++) {
			float dot = 0.0f;
#pragma unroll
			for (int c = 0; c < D; c++)
				dot = fmaf(qr[c], ks[jj][c], dot);
			float lg = dot + ms[jj];
			if (bias_t)
				lg += bs[tid][jj];
			s[jj] = jj < nj ? lg : -INFINITY;
			tmax = fmaxf(tmax, s[jj]);
		}
		/* the first tile rescales nothing: expf(-inf) = 0 on zero sums */
		const float m_new = fmaxf(m, tmax), corr = expf(m - m_new);
		l *= corr;
#pragma unroll
		for (int c = 0; c < D; c++)
			acc[c] *= corr;
#pragma unroll
		for (int jj = 0; jj < BK; jj++) {
			float pj = expf(s[jj] - m_new);
			l += pj;
#pragma unroll
			for (int c = 0; c < D; c++)
				acc[c] = fmaf(pj, vs[jj][c], acc[c]);
		}
		m = m_new;
	}
	if (!live)
		return;
	float *oi = o + (b * n_q + i) * hd + h * d_head;
	const float *gi = gate ? gate + (b * n_q + i) * hd + h * d_head : NULL;
#pragma unroll
	for (int c = 0; c < D; c++)
		if (c < d_head) {
			float val = acc[c] / l;
			if (gi)
				val *= 1.0f / (1.0f + expf(-gi[c]));
			oi[c] = val;
		}
}

/* bias[G,Q,K,H] -> bias_t[G,H,Q,K] */
static __global__ void bias_heads_first_kernel(float *bias_t, const float *bias, int64_t n_grp,
                                               int64_t n_qk, int64_t n_head)
{
	OF3_FOR_EACH(e, n_grp * n_qk * n_head)
	{
		const int64_t g = e / (n_qk * n_head), r = e % (n_qk * n_head);
		const int64_t h = r / n_qk, qk = r % n_qk;
		bias_t[e] = bias[(g * n_qk + qk) * n_head + h];
	}
}

template <int D, int BK>
static void launch(float *o, const float *q, const float *k, const float *v, const float *gate,
                   const float *mask, const float *bias_t, int64_t n_b, int64_t n_q, int64_t n_k,
                   int64_t n_head, int64_t d_head, int64_t mask_grp, int64_t bias_grp)
{
	const int64_t n_qt = (n_q + BQ - 1) / BQ, n_blocks = n_b * n_head * n_qt;
	if (n_blocks > INT32_MAX) {
		of3_cuda_fail("attention", "%lld blocks are too many for one launch",
		              (long long)n_blocks);
		return;
	}
	attention_kernel<D, BK><<<(unsigned)n_blocks, BQ, 0, of3_cuda_cur->stream>>>(
	        o, q, k, v, gate, mask, bias_t, n_q, n_k, (int)n_head, (int)d_head, n_qt,
	        (float)(1.0 / sqrt((double)d_head)), mask_grp, bias_grp);
	of3_cuda_launched("attention");
}

static void attention(float *o, const float *q, const float *k, const float *v, const float *gate,
                      const float *mask, const float *bias, int64_t n_b, int64_t n_q, int64_t n_k,
                      int64_t n_head, int64_t d_head, int64_t mask_grp, int64_t bias_grp)
{
	if (n_b <= 0 || n_q <= 0 || n_head <= 0 || d_head <= 0)
		return;
	if (n_k <= 0 || d_head > 128) {
		of3_cuda_fail("attention", "K = %lld, d = %lld: needs K >= 1 and d <= 128",
		              (long long)n_k, (long long)d_head);
		return;
	}
	float *bias_t = NULL;
	if (bias) {
		bias_t = (float *)of3_cuda_scratch(
		        "attention", (size_t)(bias_grp * n_q * n_k * n_head) * sizeof(float));
		if (!bias_t)
			return;
		bias_heads_first_kernel<<<of3_cuda_grid(bias_grp * n_q * n_k * n_head,
		                                        OF3_CUDA_THREADS),
		                          OF3_CUDA_THREADS, 0, of3_cuda_cur->stream>>>(
		        bias_t, bias, bias_grp, n_q * n_k, n_head);
		if (of3_cuda_launched("attention"))
			return;
	}
	/* the head widths of the model (8, 16, 24, 32) and test sizes; wider heads use shorter key
	 * tiles to keep the registers and shared memory in bounds */
	if (d_head <= 8)
		launch<8, 32>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k, n_head, d_head,
		              mask_grp, bias_grp);
	else if (d_head <= 16)
		launch<16, 32>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k, n_head, d_head,
		               mask_grp, bias_grp);
	else if (d_head <= 32)
		launch<32, 32>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k, n_head, d_head,
		               mask_grp, bias_grp);
	else if (d_head <= 64)
		launch<64, 16>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k, n_head, d_head,
		               mask_grp, bias_grp);
	else
		launch<128, 8>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k, n_head, d_head,
		               mask_grp, bias_grp);
}

extern "C" void of3_cuda_attention(float *o, const float *q, const float *k, const float *v,
                                   const float *gate, const float *mask, const float *bias,
                                   int64_t n_b, int64_t n_q, int64_t n_k, int64_t n_head,
                                   int64_t d_head)
{
	attention(o, q, k, v, gate, mask, bias, n_b, n_q, n_k, n_head, d_head, n_b > 0 ? n_b : 1,
	          1);
}

extern "C" void of3_cuda_attention_grouped(float *o, const float *q, const float *k, const float *v,
                                           const float *gate, const float *mask, const float *bias,
                                           int64_t n_b, int64_t n_grp, int64_t n_q, int64_t n_k,
                                           int64_t n_head, int64_t d_head)
{
	if (n_grp <= 0 || !mask || !bias) {
		of3_cuda_fail("attention_grouped", "needs groups >= 1, a mask and a bias");
		return;
	}
	attention(o, q, k, v, gate, mask, bias, n_b, n_q, n_k, n_head, d_head, n_grp, n_grp);
}
