/* test_backend.h: the backend the parity tests run on (header-only, like check.h):
 * OF3_TEST_DEVICE (default cpu; cuda or cuda:N on a GPU machine, `make test-gpu`) and
 * OF3_TEST_PRECISION (fp32, the default, or bf16; the CPU computes in fp32 either way), and
 * copies between host memory and the backend's. The trunk tests use it directly, the diffuse
 * tests through test_device.h. The bar of a parity check against the float64
 * reference is the CPU's in fp32 and 1e-2 in bf16 (issue #10: the default mode's trunk outputs
 * within 1e-2 relative of fp32, which is itself within 1e-4 of the reference). */
#ifndef OF3_TEST_BACKEND_H
#define OF3_TEST_BACKEND_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "../common/checkpoint.h"
#include "../kernels/backend.h"
#include "check.h"

static int test_bf16; /* OF3_TEST_PRECISION=bf16 on a GPU */

/* Opens the test backend with its op table; 0 or the backend's error. */
static inline int test_backend_open(of3_backend_t *be)
{
	const char *dev = getenv("OF3_TEST_DEVICE"), *prec = getenv("OF3_TEST_PRECISION");
	int rc = of3_backend_open(be, dev && *dev ? dev : "cpu", 1);
	if (rc < 0)
		return rc;
#ifdef OF3_WITH_CUDA
	if (be->kind == OF3_BACKEND_CUDA)
		be->ops = of3_ops_cuda(); /* as of3-trunk and of3-diffuse opt in */
#endif
	test_bf16 = be->kind == OF3_BACKEND_CUDA && prec && strcmp(prec, "bf16") == 0;
	of3_backend_set_precision(be, test_bf16 ? OF3_PRECISION_BF16 : OF3_PRECISION_FP32);
	printf("# backend %s, %s\n", be->desc, test_bf16 ? "bf16" : "fp32");
	return be->ops ? 0 : of3_err(OF3_ERR_RUNTIME, "%s: no op table", be->desc);
}

/* The parity bar: cpu_bar in fp32, 1e-2 in bf16. */
static inline double test_bar(double cpu_bar)
{
	return test_bf16 ? 1e-2 : cpu_bar;
}

/* A backend copy of n floats of host memory (NULL for a NULL host pointer or a failure). */
static inline float *test_up(of3_backend_t *be, const float *h, int64_t n)
{
	if (!h)
		return NULL;
	float *d = of3_backend_alloc(be, (size_t)n * sizeof *d);
	if (d && of3_backend_upload(be, d, h, (size_t)n * sizeof *d) < 0) {
		of3_backend_free(be, d);
		return NULL;
	}
	return d;
}

/* Backend memory for n floats. */
static inline float *test_alloc(of3_backend_t *be, int64_t n)
{
	return of3_backend_alloc(be, (size_t)(n > 0 ? n : 1) * sizeof(float));
}

/* h[n] = the backend buffer d, after every queued op; 0 or the failure. */
static inline int test_down(of3_backend_t *be, float *h, const float *d, int64_t n)
{
	int rc = of3_backend_sync(be);
	return rc ? rc : of3_backend_download(be, h, d, (size_t)n * sizeof *h);
}

/* The start of a parity test: chdir to argv[1] when given (tests/run.sh passes the checkout),
 * the test backend and the checkpoint, each a CHECK. 0, or -1 when the test cannot go on (it
 * then returns check_summary()). */
static inline int test_start(int argc, char **argv, of3_backend_t *be, of3_ckpt_t **ck,
                             const char *ckpt)
{
	int rc = argc > 1 ? chdir(argv[1]) : 0;
	CHECK(rc == 0, "run in %s", argc > 1 ? argv[1] : ".");
	if (rc)
		return -1;
	rc = test_backend_open(be);
	CHECK(rc == 0 && be->ops, "%s backend with its op table %s", be->desc,
	      rc ? of3_errmsg() : "");
	if (rc)
		return -1;
	rc = of3_ckpt_open(ck, ckpt);
	CHECK(rc == 0, "open %s %s", ckpt, rc ? of3_errmsg() : "");
	return rc ? -1 : 0;
}

#endif
