/* warmup.cu: the first cuBLAS calls of each kind, made early on a thread of their own.
 *
 * cuBLAS loads its kernels lazily, a family at a time: in a fresh process the first product of
 * a kind waits 30-70 ms (the first bf16 product, the first TF32 one, the first pedantic fp32
 * one), each new kernel after it a few more (H100, bench/out/exp/firstuse.cu). of3-trunk and
 * of3-diffuse are short processes, so those waits were a fifth of a 76-token run. Right after
 * the program asks for it (of3_backend_warmup), a thread makes products of the shapes its model
 * uses on a handle, stream and memory of its own while the program reads its checkpoint; by the
 * time the real products come the kernels are in. It changes no result (nothing reads what it
 * writes) and ignores its own failures. The program waits for it before its long loop (module
 * loading on one thread holds up launches on the other), and the backend's close joins it.
 * OF3_CUDA_WARMUP=0 turns it off (A/B timings). */
#include "cuda_ops.h"
#include "cuda_warmup.h"

extern "C" {
#include "../../common/log.h"
}

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* y[m,n] (column-major: n rows of m outputs) = op(w) op(x), as the ops call cuBLAS: opa/opb 'T'
 * or 'N', k the inner dimension, batch problems; lp: bf16 operands (bf16 mode only; 2: the
 * triangle products'); who: the programs that make it (OF3_WARMUP_TRUNK, _DIFFUSE) */
typedef struct {
	char opa, opb;
	int m, n, k, batch, lp, who;
} product_t;

#define TD (OF3_WARMUP_TRUNK | OF3_WARMUP_DIFFUSE)
#define T_ OF3_WARMUP_TRUNK
#define D_ OF3_WARMUP_DIFFUSE

/* the model's shapes at 76 to 256 tokens (c_z 128, c_s 384, c_token 768, c_atom 128): pair
 * rows, token rows, atom rows, the stacked token-transformer products, triangle products */
static const product_t products[] = {
        {'T', 'N', 128, 5776, 128, 1, 0, TD},  {'T', 'N', 512, 5776, 128, 1, 0, TD},
        {'T', 'N', 128, 8192, 128, 1, 0, TD},  {'T', 'N', 16, 5776, 128, 1, 0, TD},
        {'T', 'N', 384, 76, 384, 1, 0, TD},    {'T', 'N', 1536, 256, 384, 1, 0, TD},
        {'T', 'N', 384, 256, 449, 1, 0, TD},   {'T', 'N', 384, 1, 384, 1, 0, TD},
        {'T', 'N', 128, 3005, 128, 1, 0, TD},  {'T', 'N', 3, 3005, 128, 1, 0, TD},
        {'T', 'N', 768, 76, 384, 48, 0, D_},   {'N', 'T', 1024, 2048, 256, 1, 0, T_},
        {'N', 'N', 32, 256, 256, 8, 0, T_},    {'T', 'N', 3072, 1280, 768, 1, 1, D_},
        {'T', 'N', 768, 1280, 768, 4, 1, D_},  {'T', 'N', 1536, 1280, 768, 2, 1, D_},
        {'T', 'N', 768, 1280, 1536, 1, 1, D_}, {'T', 'N', 768, 380, 768, 4, 1, D_},
        {'T', 'N', 1536, 380, 768, 2, 1, D_},  {'T', 'N', 768, 380, 1536, 1, 1, D_},
        {'N', 'T', 76, 76, 76, 128, 2, TD},    {'T', 'N', 76, 76, 76, 128, 2, TD},
        {'N', 'T', 256, 256, 256, 32, 2, TD},  {'T', 'N', 256, 256, 256, 32, 2, TD},
};

/* w, x and y of a product all in one region (they overlap: nothing reads the results), which
 * the largest product above fits; the GPU memory the thread holds is this and cuBLAS's
 * workspace, 20 MiB, beside the 2.4 GiB a 76-token diffusion run peaks at */
#define OPERAND_BYTES ((size_t)16 << 20)
#define WS_BYTES      ((size_t)4 << 20)

static struct {
	pthread_t thread;
	int running, fp32, who;
	int stop;       /* read by the thread, set by the joiner: __atomic loads and stores */
	double t_start; /* of3_elapsed_s at the start, for -v */
} warm;

static void *warm_run(void *arg)
{
	(void)arg;
	cudaStream_t st = NULL;
	cublasHandle_t h = NULL;
	char *mem = NULL;
	if (cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking) != cudaSuccess ||
	    cudaMallocAsync((void **)&mem, OPERAND_BYTES + WS_BYTES, st) != cudaSuccess ||
	    cublasCreate(&h) != CUBLAS_STATUS_SUCCESS)
		goto done;
	cublasSetStream(h, st);
	cublasSetWorkspace(h, mem + OPERAND_BYTES, WS_BYTES);
	cudaMemsetAsync(mem, 0, OPERAND_BYTES, st);
	for (size_t i = 0; i < sizeof products / sizeof products[0] &&
	                   !__atomic_load_n(&warm.stop, __ATOMIC_RELAXED);
	     i++) {
		const product_t *p = &products[i];
		if ((p->lp == 1 && warm.fp32) || !(p->who & warm.who))
			continue; /* fp32 mode makes no bf16 token products */
		const float one = 1.0f, zero = 0.0f;
		const cudaDataType_t t = p->lp && !warm.fp32 ? CUDA_R_16BF : CUDA_R_32F;
		const cublasComputeType_t c = t == CUDA_R_16BF ? CUBLAS_COMPUTE_32F
		                              : warm.fp32      ? CUBLAS_COMPUTE_32F_PEDANTIC
		                                               : CUBLAS_COMPUTE_32F_FAST_16BF;
		const cublasOperation_t oa = p->opa == 'T' ? CUBLAS_OP_T : CUBLAS_OP_N;
		const cublasOperation_t ob = p->opb == 'T' ? CUBLAS_OP_T : CUBLAS_OP_N;
		const int lda = oa == CUBLAS_OP_T ? p->k : p->m,
		          ldb = ob == CUBLAS_OP_T ? p->n : p->k;
		cublasGemmStridedBatchedEx(h, oa, ob, p->m, p->n, p->k, &one, mem, t, lda, 0, mem,
		                           t, ldb, 0, &zero, mem, CUDA_R_32F, p->m, 0, p->batch, c,
		                           CUBLAS_GEMM_DEFAULT);
	}
	cudaStreamSynchronize(st);
done:
	if (h)
		cublasDestroy(h);
	if (mem)
		cudaFreeAsync(mem, st);
	if (st) {
		cudaStreamSynchronize(st);
		cudaStreamDestroy(st);
	}
	cudaGetLastError(); /* a failure here is nobody's business */
	of3_verbose("cuBLAS warm-up: %.2f s (until %.2f s)", of3_elapsed_s() - warm.t_start,
	            of3_elapsed_s());
	return NULL;
}

extern "C" void of3_cuda_warmup_start(int fp32, int who)
{
	const char *v = getenv("OF3_CUDA_WARMUP");
	if (warm.running || (v && strcmp(v, "0") == 0))
		return;
	warm.fp32 = fp32, warm.who = who, warm.stop = 0, warm.t_start = of3_elapsed_s();
	warm.running = pthread_create(&warm.thread, NULL, warm_run, NULL) == 0;
}

extern "C" void of3_cuda_warmup_join(int stop)
{
	if (!warm.running)
		return;
	__atomic_store_n(&warm.stop, stop, __ATOMIC_RELAXED);
	pthread_join(warm.thread, NULL);
	warm.running = 0;
}
