/* trunk_ops.cu: the CUDA versions of the trunk ops (kernels/ops.h, "trunk ops (issue #10)").
 * One thread per output element. segment_mean sums in double in the CPU's order and relpos_embed
 * rounds every step as the CPU does (__fadd_rn/__fmul_rn: nvcc would otherwise fuse the bond
 * term into an FMA), so both agree with the CPU exactly. */
#include "cuda_ops.h"

static __global__ void fill_kernel(float *y, float v, int64_t n)
{
	OF3_FOR_EACH(i, n)
	y[i] = v;
}

static __global__ void copy_2d_kernel(float *y, int64_t ld_y, const float *x, int64_t ld_x,
                                      int64_t n_r, int64_t n_c)
{
	OF3_FOR_EACH(e, n_r * n_c)
	{
		int64_t r = e / n_c, c = e % n_c;
		y[r * ld_y + c] = x[r * ld_x + c];
	}
}

/* thread (t, c): neighbouring threads read neighbouring channels of the same atom row */
static __global__ void segment_mean_kernel(float *y, int64_t ld_y, const float *x, const float *w,
                                           const int32_t *off, const int32_t *rows, int64_t n_seg,
                                           int64_t n_c)
{
	OF3_FOR_EACH(e, n_seg * n_c)
	{
		int64_t t = e / n_c, c = e % n_c;
		double cnt = 0, acc = 0;
		for (int32_t k = off[t]; k < off[t + 1]; k++) {
			int64_t r = rows[k];
			cnt += w[r];
			acc += x[r * n_c + c];
		}
		y[t * ld_y + c] = (float)(acc / (cnt + 1e-9));
	}
}

static __global__ void relpos_embed_kernel(float *z, const float *zi, const float *zj,
                                           const int32_t *bins, const float *bond,
                                           const float *w_rel, const float *w_bond, int64_t n_tok,
                                           int64_t n_c, int64_t n_rel)
{
	OF3_FOR_EACH(e, n_tok * n_tok * n_c)
	{
		int64_t c = e % n_c, ij = e / n_c;
		int64_t i = ij / n_tok, j = ij % n_tok;
		const int32_t *b = bins + ij * 4;
		const float *wc = w_rel + c * n_rel;
		float rel = __fadd_rn(__fadd_rn(wc[b[0]], wc[b[1]]), wc[b[2]]);
		if (b[3] >= 0)
			rel = __fadd_rn(rel, wc[b[3]]);
		float s = __fadd_rn(__fadd_rn(zi[i * n_c + c], zj[j * n_c + c]), rel);
		z[e] = __fadd_rn(s, __fmul_rn(bond[ij], w_bond[c]));
	}
}

extern "C" void of3_cuda_fill(float *y, float v, int64_t n)
{
	OF3_LAUNCH_1D(fill, n, y, v, n);
}

extern "C" void of3_cuda_copy_2d(float *y, int64_t ld_y, const float *x, int64_t ld_x, int64_t n_r,
                                 int64_t n_c)
{
	OF3_LAUNCH_1D(copy_2d, n_r * n_c, y, ld_y, x, ld_x, n_r, n_c);
}

extern "C" void of3_cuda_segment_mean(float *y, int64_t ld_y, const float *x, const float *w,
                                      const int32_t *off, const int32_t *rows, int64_t n_seg,
                                      int64_t n_c)
{
	OF3_LAUNCH_1D(segment_mean, n_seg * n_c, y, ld_y, x, w, off, rows, n_seg, n_c);
}

extern "C" void of3_cuda_relpos_embed(float *z, const float *zi, const float *zj,
                                      const int32_t *bins, const float *bond, const float *w_rel,
                                      const float *w_bond, int64_t n_tok, int64_t n_c,
                                      int64_t n_rel)
{
	OF3_LAUNCH_1D(relpos_embed, n_tok * n_tok * n_c, z, zi, zj, bins, bond, w_rel, w_bond,
	              n_tok, n_c, n_rel);
}
