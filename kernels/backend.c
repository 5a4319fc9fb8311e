/* backend.c: opening the CPU or CUDA backend. The CUDA half lives in cuda/cuda_backend.cu and
 * is compiled only when the build has nvcc (OF3_WITH_CUDA); this is the one place that asks. */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cli.h"
#include "../common/log.h"
#include "cuda/cuda_backend.h"
#include "cuda/cuda_warmup.h"

static int open_cpu(of3_backend_t *be, int threads)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	be->kind = OF3_BACKEND_CPU;
	be->ops = of3_ops_cpu();
	be->threads = threads > 0 ? threads : (int)(cores > 0 ? cores : 1);
	snprintf(be->desc, sizeof be->desc, "cpu, %d thread%s", be->threads,
	         be->threads == 1 ? "" : "s");
	return OF3_OK;
}

int of3_backend_open(of3_backend_t *be, const char *device, int threads)
{
	memset(be, 0, sizeof *be);
	if (strcmp(device, "cpu") == 0)
		return open_cpu(be, threads);
	int want_cuda = strcmp(device, "auto") != 0;
	long long index = 0;
	if (want_cuda && strcmp(device, "cuda") != 0) {
		if (strncmp(device, "cuda:", 5) != 0 ||
		    of3_parse_int(device + 5, "--device cuda:N", 0, 1023, &index) < 0)
			return of3_err(OF3_ERR_USAGE,
			               "--device: '%s' is not auto, cpu, cuda or cuda:N", device);
	}
#ifdef OF3_WITH_CUDA
	char why[256];
	int rc = of3_cuda_open((int)index, &be->cuda, be->desc, sizeof be->desc, why, sizeof why);
	if (rc == 0) {
		be->kind = OF3_BACKEND_CUDA;
		be->device = (int)index;
		be->threads = threads;
		/* the op table exists (of3_ops_cuda) but the layers still loop on the host:
		 * TODO(#10) hand it out here once they are ported */
		be->ops = NULL;
		if (want_cuda || be->ops)
			return OF3_OK;
		/* auto: a GPU that cannot compute yet is no use; the CPU can */
		of3_cuda_close(be->cuda);
		memset(be, 0, sizeof *be);
		return open_cpu(be, threads);
	}
	if (want_cuda)
		return of3_err(OF3_ERR_RUNTIME,
		               "--device %s: %s (use --device cpu to run on the CPU)", device, why);
#else
	if (want_cuda)
		return of3_err(
		        OF3_ERR_RUNTIME,
		        "--device %s: this build has no CUDA backend (it was "
		        "built with CUDA=0 or without nvcc); rebuild with the CUDA toolkit or use "
		        "--device cpu",
		        device);
#endif
	return open_cpu(be, threads);
}

void of3_backend_close(of3_backend_t *be)
{
#ifdef OF3_WITH_CUDA
	if (be->cuda)
		of3_cuda_close(be->cuda);
#endif
	be->cuda = NULL;
}

void of3_backend_warmup(of3_backend_t *be, int who)
{
#ifdef OF3_WITH_CUDA
	if (be->cuda)
		of3_cuda_warmup_start(be->precision == OF3_PRECISION_FP32, who);
#else
	(void)be, (void)who;
#endif
}

void of3_backend_warmup_wait(of3_backend_t *be)
{
#ifdef OF3_WITH_CUDA
	if (be->cuda)
		of3_cuda_warmup_join(0);
#else
	(void)be;
#endif
}

void of3_backend_quick_exit(of3_backend_t *be, int status)
{
	const char *v = getenv("OF3_QUICK_EXIT");
	if (be->kind != OF3_BACKEND_CUDA || (v && strcmp(v, "0") == 0))
		return;
	of3_verbose("exit at %.2f s", of3_elapsed_s());
	fflush(NULL);
	_exit(status);
}

void of3_backend_set_precision(of3_backend_t *be, of3_precision_t precision)
{
	be->precision = precision;
#ifdef OF3_WITH_CUDA
	if (be->cuda)
		of3_cuda_set_fp32(be->cuda, precision == OF3_PRECISION_FP32);
#endif
}

void *of3_backend_alloc(of3_backend_t *be, size_t n_bytes)
{
	void *p = NULL;
#ifdef OF3_WITH_CUDA
	if (be->cuda) {
		char why[256];
		if (of3_cuda_alloc(be->cuda, &p, n_bytes, why, sizeof why) < 0)
			of3_err(OF3_ERR_NOMEM, "%.1f MiB of GPU memory: %s",
			        (double)n_bytes / (1 << 20), why);
		return p;
	}
#endif
	(void)be;
	p = malloc(n_bytes ? n_bytes : 1);
	if (!p)
		of3_err(OF3_ERR_NOMEM, "out of memory (%.1f MiB)", (double)n_bytes / (1 << 20));
	return p;
}

void of3_backend_free(of3_backend_t *be, void *p)
{
#ifdef OF3_WITH_CUDA
	if (be->cuda) {
		of3_cuda_free(be->cuda, p);
		return;
	}
#endif
	(void)be;
	free(p);
}

void *of3_backend_host_alloc(of3_backend_t *be, size_t n_bytes)
{
	void *p = NULL;
#ifdef OF3_WITH_CUDA
	if (be->cuda) {
		char why[256];
		if (of3_cuda_host_alloc(be->cuda, &p, n_bytes, why, sizeof why) == 0)
			return p;
		/* pinned memory is a speed-up, not a need: pageable memory does the same job */
		of3_verbose("%.1f MiB of page-locked host memory: %s; using pageable memory",
		            (double)n_bytes / (1 << 20), why);
	}
#endif
	(void)be;
	p = malloc(n_bytes ? n_bytes : 1);
	if (!p)
		of3_err(OF3_ERR_NOMEM, "out of memory (%.1f MiB of host memory)",
		        (double)n_bytes / (1 << 20));
	return p;
}

void of3_backend_host_free(of3_backend_t *be, void *p)
{
	if (!p)
		return;
#ifdef OF3_WITH_CUDA
	if (be->cuda && of3_cuda_host_free(be->cuda, p))
		return;
#endif
	(void)be;
	free(p);
}

static int copy(of3_backend_t *be, void *dst, const void *src, size_t n_bytes, int to_device)
{
#ifdef OF3_WITH_CUDA
	if (be->cuda) {
		char why[512];
		if (of3_cuda_memcpy(be->cuda, dst, src, n_bytes, to_device, why, sizeof why) < 0)
			return of3_err(OF3_ERR_RUNTIME, "%s", why);
		return OF3_OK;
	}
#endif
	(void)be;
	(void)to_device;
	if (n_bytes)
		memcpy(dst, src, n_bytes);
	return OF3_OK;
}

int of3_backend_upload(of3_backend_t *be, void *dst, const void *src, size_t n_bytes)
{
	return copy(be, dst, src, n_bytes, 1);
}

int of3_backend_download(of3_backend_t *be, void *dst, const void *src, size_t n_bytes)
{
	return copy(be, dst, src, n_bytes, 0);
}

#ifdef OF3_WITH_CUDA
_Static_assert(OF3_BACKEND_COPY_SLOTS == OF3_CUDA_COPY_SLOTS, "one set of copy slots");
#endif

static int check_slot(int slot)
{
	if (slot < 0 || slot >= OF3_BACKEND_COPY_SLOTS)
		return of3_err(OF3_ERR_RUNTIME, "copy slot %d (0..%d)", slot,
		               OF3_BACKEND_COPY_SLOTS - 1);
	return OF3_OK;
}

static int copy_async(of3_backend_t *be, void *dst, const void *src, size_t n_bytes, int to_device,
                      int slot)
{
	int rc = check_slot(slot);
	if (rc < 0)
		return rc;
#ifdef OF3_WITH_CUDA
	if (be->cuda) {
		char why[512];
		if (of3_cuda_copy_async(be->cuda, dst, src, n_bytes, to_device, slot, why,
		                        sizeof why) < 0)
			return of3_err(OF3_ERR_RUNTIME, "%s", why);
		return OF3_OK;
	}
#endif
	return copy(be, dst, src, n_bytes, to_device);
}

int of3_backend_upload_async(of3_backend_t *be, void *dst, const void *src, size_t n_bytes,
                             int slot)
{
	return copy_async(be, dst, src, n_bytes, 1, slot);
}

int of3_backend_download_async(of3_backend_t *be, void *dst, const void *src, size_t n_bytes,
                               int slot)
{
	return copy_async(be, dst, src, n_bytes, 0, slot);
}

int of3_backend_copy_wait(of3_backend_t *be, int slot)
{
	int rc = check_slot(slot);
	if (rc < 0)
		return rc;
#ifdef OF3_WITH_CUDA
	if (be->cuda) {
		char why[512];
		if (of3_cuda_copy_wait(be->cuda, slot, why, sizeof why) < 0)
			return of3_err(OF3_ERR_RUNTIME, "%s", why);
	}
#endif
	(void)be;
	return OF3_OK;
}

int of3_backend_sync(of3_backend_t *be)
{
#ifdef OF3_WITH_CUDA
	if (be->cuda) {
		char why[512];
		if (of3_cuda_sync(be->cuda, why, sizeof why) < 0)
			return of3_err(OF3_ERR_RUNTIME, "%s", why);
	}
#endif
	(void)be;
	return OF3_OK;
}

int of3_backend_mem_info(of3_backend_t *be, size_t *free_bytes, size_t *total_bytes)
{
#ifdef OF3_WITH_CUDA
	if (be->cuda) {
		char why[256];
		if (of3_cuda_mem_info(be->cuda, free_bytes, total_bytes, why, sizeof why) < 0)
			return of3_err(OF3_ERR_RUNTIME, "GPU memory: %s", why);
		return OF3_OK;
	}
#endif
	(void)be;
	long avail = sysconf(_SC_AVPHYS_PAGES), pages = sysconf(_SC_PHYS_PAGES),
	     page = sysconf(_SC_PAGESIZE);
	if (avail <= 0 || pages <= 0 || page <= 0)
		return of3_err(OF3_ERR_RUNTIME, "cannot read this machine's memory size");
	*free_bytes = (size_t)avail * (size_t)page;
	*total_bytes = (size_t)pages * (size_t)page;
	return OF3_OK;
}

const char *of3_backends_built(void)
{
#ifdef OF3_WITH_CUDA
	static char s[256];
	snprintf(s, sizeof s, "backends: cpu, cuda (%s)", of3_cuda_built());
	return s;
#else
	return "backends: cpu (built without CUDA)";
#endif
}
