/* bench_ops.c: times the CUDA ops at the trunk's sizes (default 384 tokens), and the diffusion
 * module's two attentions at the same N, both precisions, so the layer port knows what each op
 * costs; not a test (nothing is checked), not part of `make test-gpu`. Each line: op, shape, median
 * ms of 10 runs after 2 warm-ups (host clock around a synchronised run), and the rate that implies
 * (GFLOP/s for products, GB/s for the rest, counting each input read and each output written once).
 * Usage: bench_ops [N]   (run by tools/gpu/run_on_device.sh after the tests) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../kernels/backend.h"

static of3_backend_t be;
static const of3_ops_t *gpu;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *dev_rand(int64_t n)
{
	float *h = malloc((size_t)n * sizeof *h), *d = of3_backend_alloc(&be, (size_t)n * 4);
	if (!h || !d) {
		fprintf(stderr, "bench_ops: out of memory (%lld floats)\n", (long long)n);
		exit(1);
	}
	for (int64_t i = 0; i < n; i++)
		h[i] = (float)((i * 2654435761u % 1000) / 500.0 - 1.0);
	if (of3_backend_upload(&be, d, h, (size_t)n * 4) < 0)
		exit(1);
	free(h);
	return d;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#define TIME(label, shape, flops, bytes, call)                                                     \
	do {                                                                                       \
		double t_[10];                                                                     \
		for (int r_ = 0; r_ < 12; r_++) {                                                  \
			double t0_ = now_s();                                                      \
			call;                                                                      \
			if (of3_backend_sync(&be) < 0) {                                           \
				fprintf(stderr, "bench_ops: %s\n", of3_errmsg());                  \
				exit(1);                                                           \
			}                                                                          \
			if (r_ >= 2)                                                               \
				t_[r_ - 2] = now_s() - t0_;                                        \
		}                                                                                  \
		qsort(t_, 10, sizeof t_[0], cmp);                                                  \
		double ms_ = 1e3 * t_[5];                                                          \
		if ((flops) > 0)                                                                   \
			printf("%s %-18s %-28s %9.3f ms %8.1f GFLOP/s\n", prec, label, shape, ms_, \
			       (double)(flops) / t_[5] * 1e-9);                                    \
		else                                                                               \
			printf("%s %-18s %-28s %9.3f ms %8.1f GB/s\n", prec, label, shape, ms_,    \
			       (double)(bytes) / t_[5] * 1e-9);                                    \
	} while (0)

int main(int argc, char **argv)
{
	long long n_arg = 384;
	if (argc > 1 && of3_parse_int(argv[1], "N", 1, 5120, &n_arg) < 0) {
		fprintf(stderr, "bench_ops: %s\n", of3_errmsg());
		return 2;
	}
	const int64_t n = n_arg, c_z = 128, h = 128, nn = n * n;
	if (of3_backend_open(&be, "cuda", 0) < 0 || !(gpu = of3_ops_cuda())) {
		fprintf(stderr, "bench_ops: %s\n", of3_errmsg());
		return 1;
	}
	printf("# %s, N = %lld\n", be.desc, (long long)n);
	float *z = dev_rand(nn * c_z), *z2 = dev_rand(nn * 4 * c_z), *a = dev_rand(nn * h),
	      *b = dev_rand(nn * h), *p = dev_rand(nn * h), *w = dev_rand(4 * c_z * c_z),
	      *mask = dev_rand(nn), *bias = dev_rand(nn * 16), *s = dev_rand(n * 384),
	      *s2 = dev_rand(n * 384 * 4);
	/* the diffusion transformer's attention: D = 5 samples, Q = K = N, H = 16, d = 48 */
	const int64_t n_smp = 5, hd_dt = 16 * 48;
	float *dt_q = dev_rand(n_smp * n * hd_dt), *dt_k = dev_rand(n_smp * n * hd_dt),
	      *dt_v = dev_rand(n_smp * n * hd_dt), *dt_g = dev_rand(n_smp * n * hd_dt),
	      *dt_o = dev_rand(n_smp * n * hd_dt), *dt_m = dev_rand(n_smp * n);
	/* the atom transformer's: A = 8N atoms in ceil(A/32) blocks of 32 queries x 128 keys, every
	 * block of every sample in one call, H = 4, d = 32 */
	const int64_t n_grp = (8 * n + 31) / 32, n_ab = n_smp * n_grp, hd_at = 4 * 32;
	float *at_q = dev_rand(n_ab * 32 * hd_at), *at_k = dev_rand(n_ab * 128 * hd_at),
	      *at_v = dev_rand(n_ab * 128 * hd_at), *at_g = dev_rand(n_ab * 32 * hd_at),
	      *at_o = dev_rand(n_ab * 32 * hd_at), *at_m = dev_rand(n_grp * 128),
	      *at_b = dev_rand(n_grp * 32 * 128 * 4);
	char shape[64];
	for (int fp32 = 1; fp32 >= 0; fp32--) {
		const char *prec = fp32 ? "fp32" : "bf16";
		of3_backend_set_precision(&be, fp32 ? OF3_PRECISION_FP32 : OF3_PRECISION_BF16);
		snprintf(shape, sizeof shape, "R=N^2 C=%lld", (long long)c_z);
		TIME("layer_norm", shape, 0, 8 * nn * c_z,
		     gpu->layer_norm(p, z, w, w, nn, c_z, 1e-5f));
		snprintf(shape, sizeof shape, "R=N^2 I=%lld O=%lld", (long long)c_z,
		         (long long)(4 * c_z));
		TIME("linear", shape, 2.0 * nn * c_z * 4 * c_z, 0,
		     gpu->linear(z2, z, w, NULL, nn, c_z, 4 * c_z));
		TIME("swiglu", "n=2N^2*c_z", 0, 12 * nn * 2 * c_z,
		     gpu->swiglu(z2, z2, z2 + nn * 2 * c_z, nn * 2 * c_z));
		snprintf(shape, sizeof shape, "h=%lld outgoing", (long long)h);
		TIME("tri_mul", shape, 2.0 * nn * n * h, 0, gpu->tri_mul(p, a, b, n, h, 0));
		snprintf(shape, sizeof shape, "h=%lld incoming", (long long)h);
		TIME("tri_mul", shape, 2.0 * nn * n * h, 0, gpu->tri_mul(p, a, b, n, h, 1));
		/* triangle attention: B = N rows, Q = K = N, H = 4, d = 32, mask and bias */
		TIME("attention", "tri B=N H=4 d=32 m b g", 4.0 * nn * n * 128, 0,
		     gpu->attention(p, a, b, a, b, mask, bias, n, n, n, 4, 32));
		/* attention with pair bias: B = 1, H = 16, d = 24 */
		TIME("attention", "pair B=1 H=16 d=24 b g", 4.0 * nn * 384, 0,
		     gpu->attention(s2, s, s, s, s, NULL, bias, 1, n, n, 16, 24));
		/* diffusion transformer: B = 5 samples, Q = K = N, H = 16, d = 48, m, b, g */
		TIME("attention", "diff B=5 H=16 d=48 m b g", 4.0 * n_smp * nn * hd_dt, 0,
		     gpu->attention(dt_o, dt_q, dt_k, dt_v, dt_g, dt_m, bias, n_smp, n, n, 16, 48));
		/* atom transformer: 5 * ceil(8N/32) problems of 32 x 128, H = 4, d = 32 */
		snprintf(shape, sizeof shape, "atom B=%lld G=%lld H=4 d=32", (long long)n_ab,
		         (long long)n_grp);
		TIME("attention_grouped", shape, 4.0 * n_ab * 32 * 128 * hd_at, 0,
		     gpu->attention_grouped(at_o, at_q, at_k, at_v, at_g, at_m, at_b, n_ab, n_grp,
		                            32, 128, 4, 32));
		/* the same blocks read in place from [5,A,H*d] (the buffers hold A = 8N rows) */
		snprintf(shape, sizeof shape, "atom D=%lld A=%lld H=4 d=32", (long long)n_smp,
		         (long long)(8 * n));
		TIME("attention_atoms", shape, 4.0 * n_ab * 32 * 128 * hd_at, 0,
		     gpu->attention_atoms(at_o, at_q, at_k, at_v, at_g, at_m, at_b, n_smp, 8 * n, 4,
		                          32));
		TIME("softmax", "R=128N K=N", 0, 8 * nn * h, gpu->softmax(p, NULL, 1, n * h, n));
		TIME("transpose_pair", "C=128", 0, 8 * nn * c_z,
		     gpu->transpose_pair(p, z, n, n, c_z));
	}
	of3_backend_close(&be);
	return 0;
}
