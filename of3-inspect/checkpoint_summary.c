/* checkpoint_summary.c: of3-inspect on a torch.save checkpoint: its layout, what was unwrapped,
 * counts, and every tensor's dtype, shape and key (common/checkpoint.h does the reading). */
#include <inttypes.h>
#include <string.h>

#include "../common/checkpoint.h"
#include "inspect.h"

static void print_shape(FILE *out, const of3_ckpt_tensor_t *t)
{
	char s[200];
	int n = snprintf(s, sizeof s, "[");
	for (int i = 0; i < t->ndim; i++)
		n += snprintf(s + n, sizeof s - (size_t)n, "%s%" PRId64, i ? ", " : "",
		              t->shape[i]);
	snprintf(s + n, sizeof s - (size_t)n, "]");
	fprintf(out, "%-20s", s);
}

static void print_layout(FILE *out, const of3_ckpt_info_t *info)
{
	if (info->layout == OF3_CKPT_LAYOUT_UNKNOWN) {
		fprintf(out,
		        "  layout unknown: not one of the OpenFold3 layouts p1, p2, OpenBind\n");
		return;
	}
	fprintf(out, "  layout %s (%s)", of3_ckpt_layout_name(info->layout),
	        of3_ckpt_layout_file(info->layout));
	if (info->layout != OF3_CKPT_LAYOUT_P1)
		fprintf(out, ": recognised, not supported yet by of3-trunk and of3-diffuse");
	fputc('\n', out);
}

int of3_inspect_checkpoint(const char *path, FILE *out)
{
	of3_ckpt_t *ck;
	int rc = of3_ckpt_open(&ck, path);
	if (rc < 0)
		return rc;
	const of3_ckpt_info_t *info = of3_ckpt_info(ck);
	fprintf(out, "checkpoint %s: %" PRIu64 " bytes\n", path, info->file_bytes);
	print_layout(out, info);
	fprintf(out, "  weights: %s%s",
	        strcmp(info->source, "ema.params") == 0
	                ? "the EMA weights (['ema']['params']) of a training checkpoint"
	                : "the file's state dict",
	        info->model_prefix ? ", 'model.' prefix stripped" : "");
	if (info->n_duplicates)
		fprintf(out, ", %" PRId64 " sample_diffusion.diffusion_module.* copies folded",
		        info->n_duplicates);
	fputc('\n', out);
	if (info->n_version) {
		fprintf(out, "  version_tensor [");
		for (int i = 0; i < info->n_version; i++)
			fprintf(out, "%s%" PRId64, i ? ", " : "", info->version[i]);
		fprintf(out, "]\n");
	}
	int64_t per_dtype[OF3_DTYPE_COUNT] = {0};
	for (int64_t i = 0; i < info->n_tensors; i++)
		per_dtype[of3_ckpt_tensor(ck, i)->dtype]++;
	fprintf(out, "  %" PRId64 " tensor%s, %" PRId64 " parameter%s (%.3f MB;", info->n_tensors,
	        info->n_tensors == 1 ? "" : "s", info->n_params, info->n_params == 1 ? "" : "s",
	        (double)info->n_bytes / 1e6);
	for (int d = 0; d < OF3_DTYPE_COUNT; d++)
		if (per_dtype[d])
			fprintf(out, " %s %" PRId64, of3_dtype_name((of3_dtype_t)d), per_dtype[d]);
	fprintf(out, ")\n");
	for (int64_t i = 0; i < info->n_tensors; i++) {
		const of3_ckpt_tensor_t *t = of3_ckpt_tensor(ck, i);
		fprintf(out, "  tensor %-5s", of3_dtype_name(t->dtype));
		print_shape(out, t);
		fprintf(out, " %s\n", t->key);
	}
	of3_ckpt_close(ck);
	return OF3_OK;
}
