/* philox_cuda_check.cu: checks that common/philox.h gives the same bits on the GPU as on the
 * CPU: every value of tests/fixtures/rng/expected.tsv (from tools/rng/philox_ref.py) computed
 * by a kernel, and 2^22 positions of u32/uniform/normal/normal_double for two streams, device
 * against host (the host side compiled from the same header). Built with nvcc's defaults
 * (fused multiply-add contraction on), the case the header guards against. Not part of the
 * build: a manual check on a GPU machine,
 *   nvcc -O3 -gencode arch=compute_90,code=sm_90 -o philox_cuda_check \
 *        tools/rng/philox_cuda_check.cu && ./philox_cuda_check tests/fixtures/rng/expected.tsv
 * prints "ok - ..." / "not ok - ..." lines and exits non-zero on a difference. */
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../../common/philox.h"

#define CUDA_CHECK(x)                                                              \
	do {                                                                       \
		cudaError_t e_ = (x);                                              \
		if (e_ != cudaSuccess) {                                           \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, \
			        cudaGetErrorString(e_));                           \
			exit(1);                                                   \
		}                                                                  \
	} while (0)

enum { U32, UNIFORM, NORMAL, UNIFORM_DOUBLE, NORMAL_DOUBLE };

struct query {
	uint64_t seed, stream, pos;
	int kind;
};

/* The value of a query as bits: positions are word positions (even for the double kinds). */
__host__ __device__ static uint64_t value_bits(const query &q)
{
	uint64_t bits = 0;
	switch (q.kind) {
	case U32: bits = of3_philox_u32_at(q.seed, q.stream, q.pos); break;
	case UNIFORM: {
		float f = of3_philox_uniform(of3_philox_u32_at(q.seed, q.stream, q.pos));
		uint32_t u;
		memcpy(&u, &f, 4);
		bits = u;
		break;
	}
	case NORMAL: {
		float f = of3_philox_normal_at(q.seed, q.stream, q.pos);
		uint32_t u;
		memcpy(&u, &f, 4);
		bits = u;
		break;
	}
	case UNIFORM_DOUBLE: {
		double d =
		        of3_philox_uniform_double(of3_philox_u32_at(q.seed, q.stream, q.pos),
		                                  of3_philox_u32_at(q.seed, q.stream, q.pos + 1));
		memcpy(&bits, &d, 8);
		break;
	}
	default: {
		double d = of3_philox_normal_double_at(q.seed, q.stream, q.pos / 2);
		memcpy(&bits, &d, 8);
		break;
	}
	}
	return bits;
}

__global__ void eval(const query *qs, uint64_t *out, size_t n)
{
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n)
		out[i] = value_bits(qs[i]);
}

static std::vector<uint64_t> on_device(const std::vector<query> &qs)
{
	query *dq;
	uint64_t *dout;
	size_t n = qs.size();
	CUDA_CHECK(cudaMalloc(&dq, n * sizeof(query)));
	CUDA_CHECK(cudaMalloc(&dout, n * sizeof(uint64_t)));
	CUDA_CHECK(cudaMemcpy(dq, qs.data(), n * sizeof(query), cudaMemcpyHostToDevice));
	eval<<<(unsigned)((n + 255) / 256), 256>>>(dq, dout, n);
	CUDA_CHECK(cudaGetLastError());
	std::vector<uint64_t> out(n);
	CUDA_CHECK(cudaMemcpy(out.data(), dout, n * sizeof(uint64_t), cudaMemcpyDeviceToHost));
	CUDA_CHECK(cudaFree(dq));
	CUDA_CHECK(cudaFree(dout));
	return out;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "tests/fixtures/rng/expected.tsv";
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 1;
	}
	static const char *kinds[] = {"u32", "uniform", "normal", "uniform_double",
	                              "normal_double"};
	std::vector<query> qs;
	std::vector<uint64_t> want;
	char line[256], kind[32], value[32];
	query q;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#' || sscanf(line, "%31s %" SCNu64 " %" SCNu64 " %" SCNu64 " %31s",
		                             kind, &q.seed, &q.stream, &q.pos, value) != 5)
			continue;
		for (q.kind = 0; q.kind < 5 && strcmp(kinds[q.kind], kind); q.kind++)
			;
		if (q.kind == 5)
			continue; /* seek */
		qs.push_back(q);
		want.push_back(strtoull(value, NULL, 16));
	}
	fclose(f);
	std::vector<uint64_t> got = on_device(qs);
	size_t bad = 0;
	for (size_t i = 0; i < qs.size(); i++)
		bad += got[i] != want[i];
	int failed = bad != 0 || qs.empty();
	printf("%s - GPU: %zu values of %s equal the Python reference (%zu differ)\n",
	       failed ? "not ok" : "ok", qs.size(), path, bad);

	for (int kind = 0; kind < 5; kind++) {
		const size_t n = (size_t)1 << 22;
		std::vector<query> many(n);
		for (size_t i = 0; i < n; i++)
			many[i] = {i & 1 ? 0x0123456789abcdefu : 2024u, i & 1 ? 7u : 0u,
			           kind >= UNIFORM_DOUBLE ? (i / 2) * 2 : i / 2, kind};
		std::vector<uint64_t> dev = on_device(many);
		size_t diff = 0;
		for (size_t i = 0; i < n; i++)
			diff += dev[i] != value_bits(many[i]);
		printf("%s - GPU equals CPU for %zu %s values (%zu differ)\n",
		       diff ? "not ok" : "ok", n, kinds[kind], diff);
		failed |= diff != 0;
	}
	return failed;
}
