/* attention.cu: gated multi-head attention with a key mask and a shared additive bias on the GPU
 * (spec/trunk.md §3.0.4; triangle attention §3.6.2, attention with pair bias §3.7.1), flash-style:
 * keys stream through shared memory in tiles and each query keeps a running maximum, sum and
 * output (online softmax), so no logits buffer exists at any size.
 *
 * One thread per query row of one (b, h): its scaled q and its accumulator stay in registers,
 * sized by the head width rounded up to a power of two (D; the padding is zeros, so it adds
 * nothing to the dot products). Logits are built in the CPU's and reference's order:
 * (q/sqrt(d))·k, + mask bias INF*(mask-1), + bias, all in fp32.
 * The bias [Q,K,H] is first transposed into scratch as [H,Q,K] so that a block's tile of it is
 * read with coalesced loads (the transpose reads Q*K*H once; the kernel reads it B times). The
 * transpose itself goes through shared memory, a run of positions for all heads per block, so
 * that both its reads and its writes are contiguous (bias_heads_first_tiled_kernel).
 *
 * The grouped form runs many small problems in one launch (the atom transformer's 32 x 128
 * blocks, every block and sample at once, instead of a launch of four thread blocks each):
 * problem b reads key-mask row b % mask_grp and bias group b % bias_grp, [grp,H,Q,K] after the
 * transpose. The plain op is mask_grp = B, bias_grp = 1.
 *
 * That kernel is the fp32 (parity) mode's. The bf16 mode runs attention_tc_kernel instead, the
 * same flash structure on the tensor cores, with the loads of the next key tile (cp.async into
 * shared memory) in flight while the current one is computed (see its comment); the bias
 * transpose is shared.
 *
 * attention_atoms is the grouped form on the atom blocks read in place (ATOMS = true in both
 * kernels): only the rows a problem reads and writes move (problem_rows), every computation on
 * them stays as it is, so its results are the grouped op's on the window copies. */
#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>

extern "C" {
#include "../ops.h"
}
#include "../atom_blocks.h"
#include "cuda_ops.h"

#define BQ 64 /* queries per block */

/* Where problem b's rows lie: query i (i < q_end) is row q0 + i of q, gate and o; key j is row
 * k0 + j of k and v for k_lo <= j < k_hi, a zero row (not read) elsewhere. The plain layout
 * [B,Q,H*d], [B,K,H*d] (ATOMS false: q_end Q, every key read), or attention_atoms' blocks in
 * place in [D,A,H*d] (ATOMS: b = d * nb + block with nb = n_grp, query i is atom 32 block + i,
 * key j atom 32 block - 48 + j of sample d; rows past A are the query padding, never written,
 * and keys outside [0, A) the zero padding of atom_windows). The plain kernels test no key
 * range (the !ATOMS terms): their loads and arithmetic are what they were. */
struct rows_t {
	int64_t q0, k0;
	int q_end, k_lo, k_hi;
};

template <bool ATOMS>
static __device__ __forceinline__ rows_t problem_rows(int64_t b, int64_t n_q, int64_t n_k,
                                                      int64_t n_atom, int64_t n_grp)
{
	rows_t r;
	if (!ATOMS) {
		r.q0 = b * n_q, r.k0 = b * n_k;
		r.q_end = (int)n_q, r.k_lo = 0, r.k_hi = (int)n_k;
		return r;
	}
	const int64_t a = b % n_grp * OF3_ATOM_NQ, row = b / n_grp * n_atom + a;
	r.q0 = row, r.k0 = row - OF3_ATOM_KEY_SHIFT;
	r.q_end = (int)(n_atom - a < n_q ? n_atom - a : n_q);
	r.k_lo = a < OF3_ATOM_KEY_SHIFT ? (int)(OF3_ATOM_KEY_SHIFT - a) : 0;
	r.k_hi = (int)(n_atom - a + OF3_ATOM_KEY_SHIFT < n_k ? n_atom - a + OF3_ATOM_KEY_SHIFT
	                                                     : n_k);
	return r;
}

template <int D, int BK, bool ATOMS>
static __global__ void __launch_bounds__(BQ)
        attention_kernel(float *o, const float *q, const float *k, const float *v,
                         const float *gate, const float *mask, const float *bias_t, int64_t n_q,
                         int64_t n_k, int n_head, int d_head, int64_t n_qt, float scale,
                         int64_t mask_grp, int64_t bias_grp, int64_t n_atom)
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
	const rows_t rw = problem_rows<ATOMS>(b, n_q, n_k, n_atom, mask_grp);
	const bool live = i < rw.q_end;
	const int64_t mrow = b % mask_grp;
	if (bias_t)
		bias_t += (b % bias_grp) * n_head * n_q * n_k;

	float qr[D], acc[D];
	const float *qi = q + (rw.q0 + i) * hd + h * d_head;
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
			const int64_t j = j0 + jj;
			float kv = 0.0f, vv = 0.0f;
			if (jj < nj && c < d_head && (!ATOMS || (j >= rw.k_lo && j < rw.k_hi))) {
				int64_t off = (rw.k0 + j) * hd + h * d_head + c;
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
	float *oi = o + (rw.q0 + i) * hd + h * d_head;
	const float *gi = gate ? gate + (rw.q0 + i) * hd + h * d_head : NULL;
#pragma unroll
	for (int c = 0; c < D; c++)
		if (c < d_head) {
			float val = acc[c] / l;
			if (gi)
				val *= 1.0f / (1.0f + expf(-gi[c]));
			oi[c] = val;
		}
}

/* bias[G,QK,H] -> bias_t[G,H,QK], element by element: the fallback for more than TR_MAX_HEADS
 * heads (reads strided by H) */
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

/* The same copy through shared memory, coalesced on both sides: a block takes a run of `run`
 * positions of one group for every head, reads its [run,H] floats as one contiguous span and
 * writes H contiguous runs. (Read element by element, [QK,H] is fetched H floats apart: with
 * 32-byte sectors, 8 times the bytes used at H >= 8.) A head's row in shared memory is run + pad
 * floats, run a multiple of 32 and pad = 32/H, so the 32 lanes of a store, 32/H positions x H
 * heads, fall in 32 different banks when H divides 32. Each thread issues all its loads before
 * its first store (x[]), so they are in flight together. */
#define TR_THREADS   256
#define TR_TILE      4096 /* floats of [run,H] per block */
#define TR_MAX_HEADS 128  /* run >= 32 and H*(run + pad) <= TR_TILE + 128 */

static __global__ void __launch_bounds__(TR_THREADS)
        bias_heads_first_tiled_kernel(float *__restrict__ bias_t, const float *__restrict__ bias,
                                      int64_t n_qk, int n_head, int run, int pad, int64_t n_run)
{
	__shared__ float tile[TR_TILE + TR_MAX_HEADS];
	const int64_t g = blockIdx.x / n_run, qk0 = blockIdx.x % n_run * run;
	const int len = n_qk - qk0 < run ? (int)(n_qk - qk0) : run, n = len * n_head;
	const int ld = run + pad;
	const float *src = bias + (g * n_qk + qk0) * n_head;
	float x[TR_TILE / TR_THREADS];
#pragma unroll
	for (int u = 0; u < TR_TILE / TR_THREADS; u++) {
		const int e = threadIdx.x + TR_THREADS * u;
		x[u] = e < n ? src[e] : 0.0f;
	}
	/* element e is position e / H, head e % H; both stepped by TR_THREADS with a carry */
	int i = threadIdx.x / n_head, hh = threadIdx.x % n_head;
	const int di = TR_THREADS / n_head, dh = TR_THREADS % n_head;
#pragma unroll
	for (int u = 0; u < TR_TILE / TR_THREADS; u++) {
		if (threadIdx.x + TR_THREADS * u < n)
			tile[hh * ld + i] = x[u];
		i += di, hh += dh;
		if (hh >= n_head)
			hh -= n_head, i++;
	}
	__syncthreads();
	/* element e of the output is head e / len, position e % len */
	float *dst = bias_t + g * n_head * n_qk + qk0;
	i = threadIdx.x % len, hh = threadIdx.x / len;
	const int dj = TR_THREADS % len, dk = TR_THREADS / len;
#pragma unroll
	for (int u = 0; u < TR_TILE / TR_THREADS; u++) {
		if (threadIdx.x + TR_THREADS * u < n)
			dst[hh * n_qk + i] = tile[hh * ld + i];
		i += dj, hh += dk;
		if (i >= len)
			i -= len, hh++;
	}
}

/* bias[G,QK,H] -> bias_t[G,H,QK] on the stream; 0, or -1 with the failure recorded */
static int bias_heads_first(float *bias_t, const float *bias, int64_t n_grp, int64_t n_qk,
                            int64_t n_head)
{
	if (n_head <= TR_MAX_HEADS) {
		const int run = (int)(TR_TILE / n_head) / 32 * 32;
		const int pad = n_head <= 32 ? 32 / (int)n_head : 1;
		const int64_t n_run = (n_qk + run - 1) / run;
		if (n_grp * n_run <= INT32_MAX) {
			bias_heads_first_tiled_kernel<<<(unsigned)(n_grp * n_run), TR_THREADS, 0,
			                                of3_cuda_cur->stream>>>(
			        bias_t, bias, n_qk, (int)n_head, run, pad, n_run);
			return of3_cuda_launched("attention");
		}
	}
	bias_heads_first_kernel<<<of3_cuda_grid(n_grp * n_qk * n_head, OF3_CUDA_THREADS),
	                          OF3_CUDA_THREADS, 0, of3_cuda_cur->stream>>>(bias_t, bias, n_grp,
	                                                                       n_qk, n_head);
	return of3_cuda_launched("attention");
}

/* ---- bf16 mode: tensor cores ------------------------------------------------------------- */

/* A warp owns 16 query rows; a block has NW (2 or 4) of them. */
static __device__ __forceinline__ uint32_t pack_bf16(float lo, float hi)
{
	__nv_bfloat162 v = __floats2bfloat162_rn(lo, hi); /* .x (lo) is the lower half */
	return *(uint32_t *)&v;
}

/* c[16x8] += a[16x16] b[16x8], bf16 operands, fp32 accumulation (sm_80's mma.sync; lane l holds
 * a, b and c elements of rows/columns l/4 and l%4 as the PTX ISA lays them out) */
static __device__ __forceinline__ void mma_bf16(float c[4], const uint32_t a[4], uint32_t b0,
                                                uint32_t b1)
{
	asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, "
	             "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
	             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
	             : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* cp.async (sm_80): global to shared memory without passing through registers, so a thread can
 * have a whole tile in flight while it computes. A thread's groups complete in commit order;
 * wait_group 1 returns when at most the latest one is still in flight, and only then (and after
 * a barrier, for the other threads' copies) may the data be read. */
static __device__ __forceinline__ void cp_async16(void *dst, const void *src)
{
	asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(
	                     (unsigned)__cvta_generic_to_shared(dst)),
	             "l"(src)
	             : "memory");
}

static __device__ __forceinline__ void cp_async4(void *dst, const void *src)
{
	asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(
	                     (unsigned)__cvta_generic_to_shared(dst)),
	             "l"(src)
	             : "memory");
}

static __device__ __forceinline__ void cp_async_commit(void)
{
	asm volatile("cp.async.commit_group;\n" ::: "memory");
}

static __device__ __forceinline__ void cp_async_wait1(void)
{
	asm volatile("cp.async.wait_group 1;\n" ::: "memory");
}

/* two values c, c+1 of a row (zero past d or for a dead row), scaled, as bf16 x2 */
static __device__ __forceinline__ uint32_t load_pair(const float *row, bool live, int c, int d,
                                                     float scale)
{
	float lo = live && c < d ? row[c] * scale : 0.0f;
	float hi = live && c + 1 < d ? row[c + 1] * scale : 0.0f;
	return pack_bf16(lo, hi);
}

/* Where key jj of row i sits in a warp's bias tile: 4-float chunks XOR-swizzled by row, so that
 * the 8-byte reads of a half warp (rows g = 0..3, keys 8n + 2t, t = 0..3) fall in 32 banks
 * without padding the rows. The swizzle stays within aligned runs of 8 chunks (BK % 32 == 0). */
static __device__ __forceinline__ int bias_slot(int i, int jj)
{
	return (((jj >> 2) ^ ((i & 3) << 1)) << 2) | (jj & 3);
}

/* Shared memory of attention_tc_kernel, in bytes from the start (all multiples of 16):
 * fp32 K and V as they come from global memory (kf, vf [BK][DP]), the same rounded to bf16 for
 * the tensor cores (ks, vs [BK][DP + 8]), each warp's bias tile (bs [NW][16][BK], swizzled), the
 * raw mask (mf [BK]) and the mask bias (ms [BK]). */
template <int DP, int BK, int NW> struct tc_smem {
	static constexpr int LD = DP + 8;
	static constexpr size_t kf = 0, vf = kf + 4 * BK * DP, ks = vf + 4 * BK * DP,
	                        vs = ks + 2 * BK * LD, bs = vs + 2 * BK * LD,
	                        mf = bs + 4 * NW * 16 * BK, ms = mf + 4 * BK, bytes = ms + 4 * BK;
};

/* Blocks per SM the register allocation is held to: what the shared memory allows on sm_90
 * (228 KiB; tc_smem), so registers do not lower it further. Left free, ptxas takes 130 to 160
 * registers at DP = 48 depending on the target, which costs the fourth block; at the bounds
 * given nothing spills on sm_80, 90, 100 or 120. */
static constexpr int tc_min_blocks(int dp, int nw)
{
	return (nw == 4 ? 1 : 2) * (dp <= 48 ? 4 : dp <= 64 ? 3 : 2);
}

/* The bf16 mode's attention: FlashAttention-2's structure on mma.sync m16n8k16.
 *
 * Each warp keeps its 16 query rows' scaled q (rounded to bf16, d padded with zeros to DP, a
 * multiple of 16) as A fragments in registers for the whole problem. Keys and values stream
 * through shared memory in tiles of BK, rounded to bf16 as they are staged. Per tile,
 * S = q k^T accumulates in fp32 on the tensor cores; the mask bias, the bias (fp32, from the
 * [H,Q,K] transpose as in the fp32 kernel) and -inf for keys past K are added in fp32 in the
 * reference's order, and the online softmax runs in fp32 in registers: a lane holds 2 columns
 * of rows l/4 and l/4 + 8 of each 8-key slice, so row maxima and sums need two shuffles within
 * the quad. The probabilities are rounded to bf16 straight into the A fragments of P V (the
 * accumulator's layout of two adjacent 16x8 slices is the A layout of one 16x16), and V's B
 * fragments come transposed from row-major shared memory by ldmatrix.trans. The row sums are
 * kept per lane and reduced once at the end; the gate is applied at the write.
 *
 * The loads are pipelined one tile ahead with cp.async, so the latency of global memory hides
 * behind the tensor-core work instead of adding to it tile after tile (a block walks its key
 * tiles in order, and at the diffusion transformer's few blocks per SM nothing else covers it).
 * Per tile: wait for K, V and the mask of tile j (fp32, issued a tile earlier into kf, vf, mf),
 * barrier, round them to bf16 into ks, vs and build the mask bias, barrier, issue tile j + 1 into
 * the now free kf, vf, mf, compute S. The bias tile of a warp's own 16 rows goes to its own
 * buffer: the warp waits for tile j's just before the logits and issues tile j + 1's as soon as
 * its lanes have read it (a warp barrier), so it flies during the softmax and P V. Every thread
 * commits two groups per tile (K/V and bias, either possibly empty) in that order, hence every
 * wait is wait_group 1. Rows are 16-byte copies where d and the addresses allow (the model's
 * d = 8..48 and K % 4 == 0 for the bias), else 4-byte ones.
 *
 * Blocks run the problems innermost when they share the bias and the keys and values of one
 * head for all problems stay in L2 (the diffusion transformer's 5 samples): the bias, the largest
 * input, is then read from memory once instead of once per problem.
 *
 * Exponentials are base 2 (logits times log2 e), one multiply less per element. No atomics and
 * a fixed order everywhere: the same inputs give the same bytes. Rows past Q compute on zero
 * queries (and row 0's bias) and are not written. */
template <int DP, int BK, int NW, bool ATOMS>
static __global__ void __launch_bounds__(32 * NW, tc_min_blocks(DP, NW))
        attention_tc_kernel(float *o, const float *q, const float *k, const float *v,
                            const float *gate, const float *mask, const float *bias_t, int64_t n_b,
                            int64_t n_q, int64_t n_k, int n_head, int d_head, int64_t n_qt,
                            float scale, int64_t mask_grp, int64_t bias_grp, int b_inner,
                            int64_t n_atom)
{
	/* ks, vs rows of DP + 8 bf16: 16-byte aligned for ldmatrix, and a row stride of 4 words
	 * mod 8 spreads the 8 rows of a fragment load over all 32 banks */
	using L = tc_smem<DP, BK, NW>;
	constexpr int LD = L::LD, QROWS = 16 * NW, NT = 32 * NW;
	static_assert(BK <= NT && BK % 32 == 0, "a thread per key of a tile; bias_slot's runs");
	extern __shared__ __align__(16) unsigned char smem[];
	float *kf = (float *)(smem + L::kf), *vf = (float *)(smem + L::vf);
	__nv_bfloat16(*ks)[LD] = (__nv_bfloat16(*)[LD])(smem + L::ks);
	__nv_bfloat16(*vs)[LD] = (__nv_bfloat16(*)[LD])(smem + L::vs);
	float *mf = (float *)(smem + L::mf), *ms = (float *)(smem + L::ms);
	int64_t blk = blockIdx.x, b, qt;
	int h;
	if (b_inner) {
		b = blk % n_b, blk /= n_b;
		qt = blk % n_qt, h = (int)(blk / n_qt);
	} else {
		qt = blk % n_qt, blk /= n_qt;
		h = (int)(blk % n_head), b = blk / n_head;
	}
	const int64_t hd = (int64_t)n_head * d_head;
	const int tid = threadIdx.x, lane = tid & 31, g = lane >> 2, t = lane & 3;
	const int64_t w0 = qt * QROWS + (tid >> 5) * 16; /* the warp's first row */
	const int64_t r0 = w0 + g, r1 = r0 + 8;          /* this lane's rows */
	const rows_t rw = problem_rows<ATOMS>(b, n_q, n_k, n_atom, mask_grp);
	const bool live0 = r0 < rw.q_end, live1 = r1 < rw.q_end;
	const int64_t mrow = b % mask_grp;
	float *bw = (float *)(smem + L::bs) + (tid >> 5) * 16 * BK; /* the warp's bias tile */
	if (bias_t)
		bias_t += (b % bias_grp) * n_head * n_q * n_k + (int64_t)h * n_q * n_k;
	const int64_t kv0 = rw.k0 * hd + h * d_head; /* key 0's offset (negative: atom padding) */
	/* 16-byte copies need every chunk aligned: d % 4 == 0 makes the row stride H*d and the
	 * column offsets multiples of 4 floats, so the bases decide */
	const bool kv16 = d_head % 4 == 0 && (((uintptr_t)k | (uintptr_t)v) & 15) == 0;
	const bool bias16 = n_k % 4 == 0 && ((uintptr_t)bias_t & 15) == 0;

	/* K, V and the mask of the tile at key j0 into kf, vf, mf; what lies past K or d, and an
	 * absent key row, is not copied (the rounding step reads zeros there instead) */
	auto issue_kv = [&](int64_t j0) {
		const int nj = n_k - j0 < BK ? (int)(n_k - j0) : BK;
		const int lo = (int)(rw.k_lo - j0),
		          hi = (int)(rw.k_hi - j0); /* present: [lo, hi) */
		if (kv16) {
#pragma unroll 1
			for (int e = tid; e < BK * (DP / 4); e += NT) {
				const int jj = e / (DP / 4), c = 4 * (e % (DP / 4));
				if (jj < nj && c < d_head && (!ATOMS || (jj >= lo && jj < hi))) {
					const int64_t off = kv0 + (j0 + jj) * hd + c;
					cp_async16(kf + jj * DP + c, k + off);
					cp_async16(vf + jj * DP + c, v + off);
				}
			}
		} else {
#pragma unroll 1
			for (int e = tid; e < BK * DP; e += NT) {
				const int jj = e / DP, c = e % DP;
				if (jj < nj && c < d_head && (!ATOMS || (jj >= lo && jj < hi))) {
					const int64_t off = kv0 + (j0 + jj) * hd + c;
					cp_async4(kf + jj * DP + c, k + off);
					cp_async4(vf + jj * DP + c, v + off);
				}
			}
		}
		if (mask && tid < nj)
			cp_async4(mf + tid, mask + mrow * n_k + j0 + tid);
	};
	/* the warp's 16 bias rows of the tile at key j0 into bw (a dead row copies row 0) */
	auto issue_bias = [&](int64_t j0) {
		if (!bias_t)
			return;
		const int nj = n_k - j0 < BK ? (int)(n_k - j0) : BK;
		if (bias16) { /* K % 4 == 0: nj too, so a chunk is all in or all out */
#pragma unroll 1
			for (int e = lane; e < 16 * (BK / 4); e += 32) {
				const int i = e / (BK / 4), jj = 4 * (e % (BK / 4));
				const int64_t r = w0 + i < n_q ? w0 + i : 0;
				if (jj < nj)
					cp_async16(bw + i * BK + bias_slot(i, jj),
					           bias_t + r * n_k + j0 + jj);
			}
		} else {
#pragma unroll 1
			for (int e = lane; e < 16 * BK; e += 32) {
				const int i = e / BK, jj = e % BK;
				const int64_t r = w0 + i < n_q ? w0 + i : 0;
				if (jj < nj)
					cp_async4(bw + i * BK + bias_slot(i, jj),
					          bias_t + r * n_k + j0 + jj);
			}
		}
	};

	/* the first tile's copies fly while q is loaded */
	issue_kv(0);
	cp_async_commit();
	issue_bias(0);
	cp_async_commit();
	uint32_t qa[DP / 16][4];
	{
		const float *q0 = q + (rw.q0 + (live0 ? r0 : 0)) * hd + h * d_head;
		const float *q1 = q + (rw.q0 + (live1 ? r1 : 0)) * hd + h * d_head;
#pragma unroll
		for (int kk = 0; kk < DP / 16; kk++) {
			const int c = 16 * kk + 2 * t;
			qa[kk][0] = load_pair(q0, live0, c, d_head, scale);
			qa[kk][1] = load_pair(q1, live1, c, d_head, scale);
			qa[kk][2] = load_pair(q0, live0, c + 8, d_head, scale);
			qa[kk][3] = load_pair(q1, live1, c + 8, d_head, scale);
		}
	}
	float acc[DP / 8][4];
#pragma unroll
	for (int n = 0; n < DP / 8; n++)
		acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f;
	float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f; /* base-2 maxima */
	const float LOG2E = 1.4426950408889634f;

	for (int64_t j0 = 0; j0 < n_k; j0 += BK) {
		const int nj = n_k - j0 < BK ? (int)(n_k - j0) : BK;
		const bool more = j0 + BK < n_k;
		cp_async_wait1(); /* this thread's copies of K, V, mask of this tile have landed */
		__syncthreads();  /* everyone's have, and the previous tile is consumed */
		const int lo = (int)(rw.k_lo - j0), hi = (int)(rw.k_hi - j0); /* keys present */
		for (int e = tid; e < BK * (DP / 2); e += NT) {
			const int jj = e / (DP / 2), c = 2 * (e % (DP / 2));
			float k0 = 0.0f, k1 = 0.0f, v0 = 0.0f, v1 = 0.0f;
			if (jj < nj && c < d_head && (!ATOMS || (jj >= lo && jj < hi))) {
				const float2 kx = *(const float2 *)&kf[jj * DP + c];
				const float2 vx = *(const float2 *)&vf[jj * DP + c];
				k0 = kx.x, v0 = vx.x;
				if (c + 1 < d_head)
					k1 = kx.y, v1 = vx.y;
			}
			*(__nv_bfloat162 *)&ks[jj][c] = __floats2bfloat162_rn(k0, k1);
			*(__nv_bfloat162 *)&vs[jj][c] = __floats2bfloat162_rn(v0, v1);
		}
		if (tid < BK)
			ms[tid] = tid >= nj ? -INFINITY
			          : mask    ? OF3_MASK_INF * (mf[tid] - 1.0f)
			                    : 0.0f;
		__syncthreads(); /* ks, vs, ms are ready; kf, vf, mf are free */
		if (more)
			issue_kv(j0 + BK);
		cp_async_commit();

		float s[BK / 8][4];
#pragma unroll
		for (int n = 0; n < BK / 8; n++) {
			s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
			for (int kk = 0; kk < DP / 16; kk++) {
				const uint32_t *kr =
				        (const uint32_t *)&ks[8 * n + g][16 * kk + 2 * t];
				mma_bf16(s[n], qa[kk], kr[0], kr[4]);
			}
		}
		cp_async_wait1(); /* this lane's bias copies of this tile have landed */
		__syncwarp();     /* and the other lanes' */
		float tmax0 = -INFINITY, tmax1 = -INFINITY;
#pragma unroll
		for (int n = 0; n < BK / 8; n++) {
			float2 bv0 = make_float2(0.0f, 0.0f), bv1 = bv0;
			if (bias_t) {
				const int slot =
				        bias_slot(g, 8 * n + 2 * t); /* row g + 8: the same */
				bv0 = *(const float2 *)&bw[g * BK + slot];
				bv1 = *(const float2 *)&bw[(g + 8) * BK + slot];
			}
#pragma unroll
			for (int e = 0; e < 2; e++) {
				const int jj = 8 * n + 2 * t + e;
				float x0 = s[n][e] + ms[jj], x1 = s[n][2 + e] + ms[jj];
				if (bias_t && jj < nj) {
					x0 += e ? bv0.y : bv0.x;
					x1 += e ? bv1.y : bv1.x;
				}
				s[n][e] = x0 * LOG2E;
				s[n][2 + e] = x1 * LOG2E;
				tmax0 = fmaxf(tmax0, s[n][e]);
				tmax1 = fmaxf(tmax1, s[n][2 + e]);
			}
		}
		__syncwarp(); /* the warp's bias tile is read: refill it while the softmax runs */
		if (more)
			issue_bias(j0 + BK);
		cp_async_commit();
		tmax0 = fmaxf(tmax0, __shfl_xor_sync(0xffffffffu, tmax0, 1));
		tmax0 = fmaxf(tmax0, __shfl_xor_sync(0xffffffffu, tmax0, 2));
		tmax1 = fmaxf(tmax1, __shfl_xor_sync(0xffffffffu, tmax1, 1));
		tmax1 = fmaxf(tmax1, __shfl_xor_sync(0xffffffffu, tmax1, 2));
		/* key j0 is live, so the new maxima are finite; the first tile rescales zeros by
		 * exp2(-inf) = 0 */
		const float mn0 = fmaxf(m0, tmax0), mn1 = fmaxf(m1, tmax1);
		const float corr0 = exp2f(m0 - mn0), corr1 = exp2f(m1 - mn1);
		m0 = mn0, m1 = mn1;
		l0 *= corr0, l1 *= corr1;
#pragma unroll
		for (int n = 0; n < DP / 8; n++) {
			acc[n][0] *= corr0, acc[n][1] *= corr0;
			acc[n][2] *= corr1, acc[n][3] *= corr1;
		}
#pragma unroll
		for (int n = 0; n < BK / 8; n++) {
			s[n][0] = exp2f(s[n][0] - mn0), s[n][1] = exp2f(s[n][1] - mn0);
			s[n][2] = exp2f(s[n][2] - mn1), s[n][3] = exp2f(s[n][3] - mn1);
			l0 += s[n][0] + s[n][1];
			l1 += s[n][2] + s[n][3];
		}
#pragma unroll
		for (int kk = 0; kk < BK / 16; kk++) {
			const uint32_t pa[4] = {pack_bf16(s[2 * kk][0], s[2 * kk][1]),
			                        pack_bf16(s[2 * kk][2], s[2 * kk][3]),
			                        pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]),
			                        pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
			/* lanes 0-15 address keys 16kk..+15 at columns 16np, lanes 16-31 at 16np +
			 * 8: the four 8x8 matrices, transposed, are the B fragments of two 8-wide
			 * slices */
			const __nv_bfloat16 *vrow = &vs[16 * kk + (lane & 15)][(lane >> 4) * 8];
#pragma unroll
			for (int np = 0; np < DP / 16; np++) {
				uint32_t b0, b1, b2, b3;
				const unsigned addr =
				        (unsigned)__cvta_generic_to_shared(vrow + 16 * np);
				asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 "
				             "{%0,%1,%2,%3}, [%4];\n"
				             : "=r"(b0), "=r"(b1), "=r"(b2), "=r"(b3)
				             : "r"(addr)
				             : "memory"); /* reads vs: stays between the barriers */
				mma_bf16(acc[2 * np], pa, b0, b1);
				mma_bf16(acc[2 * np + 1], pa, b2, b3);
			}
		}
	}
	l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
	l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
	l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
	l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
	const float inv[2] = {1.0f / l0, 1.0f / l1};
#pragma unroll
	for (int half = 0; half < 2; half++) {
		const int64_t r = half ? r1 : r0;
		if (r >= rw.q_end)
			continue;
		float *oi = o + (rw.q0 + r) * hd + h * d_head;
		const float *gi = gate ? gate + (rw.q0 + r) * hd + h * d_head : NULL;
#pragma unroll
		for (int n = 0; n < DP / 8; n++)
#pragma unroll
			for (int e = 0; e < 2; e++) {
				const int c = 8 * n + 2 * t + e;
				if (c >= d_head)
					continue;
				float val = acc[n][2 * half + e] * inv[half];
				if (gi)
					val *= 1.0f / (1.0f + expf(-gi[c]));
				oi[c] = val;
			}
	}
}

template <int DP, int BK, int NW, bool ATOMS>
static void launch_tc_nw(unsigned n_blocks, float *o, const float *q, const float *k,
                         const float *v, const float *gate, const float *mask, const float *bias_t,
                         int64_t n_b, int64_t n_q, int64_t n_k, int64_t n_head, int64_t d_head,
                         int64_t n_qt, float scale, int64_t mask_grp, int64_t bias_grp, int b_inner,
                         int64_t n_atom)
{
	/* past 48 KiB of shared memory a kernel must ask for it; the carveout preference keeps the
	 * driver from sizing shared memory below what the occupancy needs. Both are host-side
	 * attribute writes, cheap enough to repeat at every launch (FlashAttention sets the first
	 * one so), and so right on whichever device is current. */
	const int smem = (int)tc_smem<DP, BK, NW>::bytes;
	cudaError_t err = cudaFuncSetAttribute(attention_tc_kernel<DP, BK, NW, ATOMS>,
	                                       cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
	if (err == cudaSuccess)
		err = cudaFuncSetAttribute(attention_tc_kernel<DP, BK, NW, ATOMS>,
		                           cudaFuncAttributePreferredSharedMemoryCarveout,
		                           cudaSharedmemCarveoutMaxShared);
	if (err != cudaSuccess) {
		(void)cudaGetLastError(); /* recorded here, not by the next launch's check */
		of3_cuda_fail("attention", "%d bytes of shared memory: %s", smem,
		              cudaGetErrorString(err));
		return;
	}
	attention_tc_kernel<DP, BK, NW, ATOMS><<<n_blocks, 32 * NW, smem, of3_cuda_cur->stream>>>(
	        o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k, (int)n_head, (int)d_head, n_qt,
	        scale, mask_grp, bias_grp, b_inner, n_atom);
	of3_cuda_launched("attention");
}

template <int DP, int BK, bool ATOMS>
static void launch_tc(float *o, const float *q, const float *k, const float *v, const float *gate,
                      const float *mask, const float *bias_t, int64_t n_b, int64_t n_q, int64_t n_k,
                      int64_t n_head, int64_t d_head, int64_t mask_grp, int64_t bias_grp,
                      int64_t n_atom)
{
	/* two warps (32 rows) for the atom transformer's 32-query blocks, else four */
	const int nw = n_q <= 32 ? 2 : 4;
	const int64_t n_qt = (n_q + 16 * nw - 1) / (16 * nw), n_blocks = n_b * n_head * n_qt;
	if (n_blocks > INT32_MAX) {
		of3_cuda_fail("attention", "%lld blocks are too many for one launch",
		              (long long)n_blocks);
		return;
	}
	const float scale = (float)(1.0 / sqrt((double)d_head));
	/* problems innermost when they share the bias and one head's keys and values of all of
	 * them (8 bytes a key and channel) fit in L2 with room to spare */
	const int b_inner =
	        bias_t && bias_grp == 1 && n_b > 1 && n_b * n_k * d_head * 8 <= (8 << 20);
	if (nw == 2)
		launch_tc_nw<DP, BK, 2, ATOMS>((unsigned)n_blocks, o, q, k, v, gate, mask, bias_t,
		                               n_b, n_q, n_k, n_head, d_head, n_qt, scale, mask_grp,
		                               bias_grp, b_inner, n_atom);
	else if (!ATOMS) /* the atom blocks' 32 queries take two warps: no four-warp copy */
		launch_tc_nw<DP, BK, 4, false>((unsigned)n_blocks, o, q, k, v, gate, mask, bias_t,
		                               n_b, n_q, n_k, n_head, d_head, n_qt, scale, mask_grp,
		                               bias_grp, b_inner, n_atom);
}

template <int D, int BK, bool ATOMS>
static void launch(float *o, const float *q, const float *k, const float *v, const float *gate,
                   const float *mask, const float *bias_t, int64_t n_b, int64_t n_q, int64_t n_k,
                   int64_t n_head, int64_t d_head, int64_t mask_grp, int64_t bias_grp,
                   int64_t n_atom)
{
	const int64_t n_qt = (n_q + BQ - 1) / BQ, n_blocks = n_b * n_head * n_qt;
	if (n_blocks > INT32_MAX) {
		of3_cuda_fail("attention", "%lld blocks are too many for one launch",
		              (long long)n_blocks);
		return;
	}
	attention_kernel<D, BK, ATOMS><<<(unsigned)n_blocks, BQ, 0, of3_cuda_cur->stream>>>(
	        o, q, k, v, gate, mask, bias_t, n_q, n_k, (int)n_head, (int)d_head, n_qt,
	        (float)(1.0 / sqrt((double)d_head)), mask_grp, bias_grp, n_atom);
	of3_cuda_launched("attention");
}

/* n_atom > 0 (ATOMS): attention_atoms, the problems' rows found by problem_rows */
template <bool ATOMS>
static void attention(float *o, const float *q, const float *k, const float *v, const float *gate,
                      const float *mask, const float *bias, int64_t n_b, int64_t n_q, int64_t n_k,
                      int64_t n_head, int64_t d_head, int64_t mask_grp, int64_t bias_grp,
                      int64_t n_atom)
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
		if (bias_heads_first(bias_t, bias, bias_grp, n_q * n_k, n_head))
			return;
	}
	/* bf16 mode: d padded to a multiple of 16 (the model's 8, 16, 24, 32, 48 and test sizes);
	 * the widest heads take shorter key tiles to bound the registers */
	if (!of3_cuda_cur->fp32) {
		if (d_head <= 16)
			launch_tc<16, 64, ATOMS>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k,
			                         n_head, d_head, mask_grp, bias_grp, n_atom);
		else if (d_head <= 32)
			launch_tc<32, 64, ATOMS>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k,
			                         n_head, d_head, mask_grp, bias_grp, n_atom);
		else if (d_head <= 48)
			launch_tc<48, 64, ATOMS>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k,
			                         n_head, d_head, mask_grp, bias_grp, n_atom);
		else if (d_head <= 64)
			launch_tc<64, 64, ATOMS>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k,
			                         n_head, d_head, mask_grp, bias_grp, n_atom);
		else
			launch_tc<128, 32, ATOMS>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k,
			                          n_head, d_head, mask_grp, bias_grp, n_atom);
		return;
	}
	/* fp32 mode: the head widths of the model (8, 16, 24, 32) and test sizes; wider heads use
	 * shorter key tiles to keep the registers and shared memory in bounds */
	if (d_head <= 8)
		launch<8, 32, ATOMS>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k, n_head, d_head,
		                     mask_grp, bias_grp, n_atom);
	else if (d_head <= 16)
		launch<16, 32, ATOMS>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k, n_head, d_head,
		                      mask_grp, bias_grp, n_atom);
	else if (d_head <= 32)
		launch<32, 32, ATOMS>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k, n_head, d_head,
		                      mask_grp, bias_grp, n_atom);
	else if (d_head <= 64)
		launch<64, 16, ATOMS>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k, n_head, d_head,
		                      mask_grp, bias_grp, n_atom);
	else
		launch<128, 8, ATOMS>(o, q, k, v, gate, mask, bias_t, n_b, n_q, n_k, n_head, d_head,
		                      mask_grp, bias_grp, n_atom);
}

extern "C" void of3_cuda_attention(float *o, const float *q, const float *k, const float *v,
                                   const float *gate, const float *mask, const float *bias,
                                   int64_t n_b, int64_t n_q, int64_t n_k, int64_t n_head,
                                   int64_t d_head)
{
	attention<false>(o, q, k, v, gate, mask, bias, n_b, n_q, n_k, n_head, d_head,
	                 n_b > 0 ? n_b : 1, 1, 0);
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
	attention<false>(o, q, k, v, gate, mask, bias, n_b, n_q, n_k, n_head, d_head, n_grp, n_grp,
	                 0);
}

extern "C" void of3_cuda_attention_atoms(float *o, const float *q, const float *k, const float *v,
                                         const float *gate, const float *mask, const float *bias,
                                         int64_t n_rep, int64_t n_atom, int64_t n_head,
                                         int64_t d_head)
{
	if (n_rep <= 0 || n_atom <= 0)
		return;
	if (!mask || !bias) {
		of3_cuda_fail("attention_atoms", "needs a mask and a bias");
		return;
	}
	const int64_t nb = of3_atom_n_block(n_atom);
	attention<true>(o, q, k, v, gate, mask, bias, n_rep * nb, OF3_ATOM_NQ, OF3_ATOM_NK, n_head,
	                d_head, nb, nb, n_atom);
}
