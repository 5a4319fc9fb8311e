/* checkpoint.h: OpenFold3 weights straight from a torch.save checkpoint (DESIGN.md §5,
 * spec/trunk.md §1, spec/versions.md).
 *
 * of3_ckpt_open() maps the file, reads the zip archive (zip.h) and its data.pkl with the
 * restricted unpickler (pickle.h; nothing is ever executed), and indexes every tensor of the
 * state dict by key. Tensors are viewed in place in the mapped file, so opening a 1.5 GB
 * checkpoint reads only its directory and pickle, and a stage touches only the pages of the
 * tensors it uses. The file stays open as well: of3_ckpt_read_f32() reads float32 weights from
 * it directly, faster than through the map.
 *
 * What is read, as OpenFold3's get_state_dict_from_checkpoint(ckpt, init_from_ema_weights=True)
 * does (spec/trunk.md §1.1):
 *   - a flat {key: tensor} dict (the released files);
 *   - a training checkpoint (a dict with "state_dict" or "module"): its EMA weights,
 *     ckpt["ema"]["params"]; one without them is refused, as OpenFold3 predicts only with EMA
 *     weights. (A real Lightning checkpoint pickles more than tensors, optimizer and
 *     hyper-parameter objects, which the restricted unpickler refuses: convert it to the EMA
 *     dict first, as OpenFold3's scripts/dev/convert_ckpt_to_ema_only.py does.)
 * Keys lose a leading "model." (a LightningModule's prefix). The duplicated
 * "sample_diffusion.diffusion_module.X" entries (the sampler holds the same module,
 * spec/trunk.md §1.2) are folded into "diffusion_module.X": the two must agree in dtype and
 * shape, and the view takes the sample_diffusion copy's bytes, because PyTorch's strict
 * load_state_dict writes that copy last and the reference model computes with it (in released
 * checkpoints the two are byte-identical). A top-level "version_tensor" (a version number, not a
 * weight; OpenBind has one) is read into of3_ckpt_info_t, not indexed.
 *
 * Tensors must be float32, bfloat16 or float16, contiguous, and lie inside their storage entry;
 * anything else fails at open with OF3_ERR_INPUT and a message naming the key. Dimensions and
 * block counts are for the caller to take from the shapes (of3_ckpt_expect() with -1 for a
 * dimension it learns, of3_ckpt_count_blocks()), so a tiny test checkpoint and the released one
 * load through the same code.
 *
 * The layout (p1 of3_ft3_v1.pt, p2 of3-p2-155k.pt, OpenBind of3-ob-2025-06-30-174k.pt) is
 * detected from the keys, never from the file name; this build computes with p1 only, and
 * of3_ckpt_require_layout() refuses the others with "layout X recognised, not supported yet".
 *
 * Every function returning int returns OF3_OK (0) or a negative status from error.h with the
 * message in of3_errmsg(); messages start with the file's name. */
#ifndef OF3_CHECKPOINT_H
#define OF3_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "error.h"
#include "pickle.h"

typedef enum {
	OF3_CKPT_LAYOUT_UNKNOWN,  /* none of the three below */
	OF3_CKPT_LAYOUT_P1,       /* of3_ft3_v1.pt: a layer_norm_z in every attention block */
	OF3_CKPT_LAYOUT_P2,       /* of3-p2-155k.pt: one layer_norm_z per atom transformer */
	OF3_CKPT_LAYOUT_OPENBIND, /* of3-ob-2025-06-30-174k.pt: also one per diffusion transformer
	                           */
} of3_ckpt_layout_t;

typedef struct {
	const char *key;   /* without "model."; sample_diffusion copies folded (see above) */
	of3_dtype_t dtype; /* OF3_DTYPE_F32, OF3_DTYPE_BF16 or OF3_DTYPE_F16 */
	int ndim;          /* 0..OF3_PK_MAX_DIMS; 0-d holds one element */
	int64_t shape[OF3_PK_MAX_DIMS];
	int64_t numel;
	size_t nbytes;        /* numel x element size */
	const void *data;     /* nbytes, aligned to the element size, row-major (C order) */
	uint64_t file_offset; /* where the bytes lie in the file */
	int in_place;         /* 1: data points into the mapped file; 0: an aligned copy, made
	                         only when the archive put the bytes at an odd address */
	int used;             /* set once of3_ckpt_find() or of3_ckpt_expect() returned it */
} of3_ckpt_tensor_t;

typedef struct {
	of3_ckpt_layout_t layout;
	const char *source;   /* "top level" (a flat state dict) or "ema.params" */
	int model_prefix;     /* keys carried "model." (stripped) */
	int64_t n_tensors;    /* tensors indexed */
	int64_t n_duplicates; /* sample_diffusion.diffusion_module.* entries folded */
	int64_t n_params;     /* elements over the indexed tensors */
	uint64_t n_bytes;     /* bytes over the indexed tensors */
	int n_version;        /* elements of version_tensor (0: none), first 4 in version[] */
	int64_t version[4];
	int zip64; /* the archive used ZIP64 records */
	uint64_t file_bytes;
} of3_ckpt_info_t;

typedef struct of3_ckpt_t of3_ckpt_t;

/* Opens and indexes a checkpoint file (mapped read-only until of3_ckpt_close). A file that is
 * no zip archive, lacks data.pkl, holds a refused opcode or global, a storage too short for its
 * tensors, a tensor of another dtype, a non-contiguous tensor or a repeated key fails with
 * OF3_ERR_INPUT naming the byte offset or key; an unreadable file with OF3_ERR_SYS. */
int of3_ckpt_open(of3_ckpt_t **out, const char *path) OF3_WUR;

/* The same over a buffer the caller keeps alive until of3_ckpt_close (tests, fuzzing); `label`
 * stands for the file name in messages. */
int of3_ckpt_open_buffer(of3_ckpt_t **out, const void *buf, size_t len, const char *label) OF3_WUR;

/* Unmaps, closes the file and frees; every tensor view dies with it. NULL is fine. */
void of3_ckpt_close(of3_ckpt_t *ck);

const of3_ckpt_info_t *of3_ckpt_info(const of3_ckpt_t *ck);

/* Tensor i (0 <= i < info->n_tensors) in the order of the file's state dict, or NULL. */
const of3_ckpt_tensor_t *of3_ckpt_tensor(const of3_ckpt_t *ck, int64_t i);

/* The tensor of that exact key, or NULL (no message). Marks it used. */
const of3_ckpt_tensor_t *of3_ckpt_find(of3_ckpt_t *ck, const char *key);

/* The tensor whose key is printf(key_fmt, ...), with ndim dimensions equal to shape[] where
 * shape[i] >= 0 (-1: any; read it from (*out)->shape). Marks it used. Fails with OF3_ERR_INPUT:
 *   "FILE: checkpoint key 'K' is missing (layout p1, 709 tensors)"
 *   "FILE: checkpoint key 'K': shape [128, 64], expected [128, 128]" */
int of3_ckpt_expect(of3_ckpt_t *ck, const of3_ckpt_tensor_t **out, int ndim, const int64_t *shape,
                    const char *key_fmt, ...) OF3_PRINTF(5, 6) OF3_WUR;

/* Number of blocks under `prefix`: the n such that keys "<prefix>.0.", ..., "<prefix>.<n-1>."
 * exist ("pairformer_stack.blocks" gives 48 in p1). 0 when there is none. */
int64_t of3_ckpt_count_blocks(const of3_ckpt_t *ck, const char *prefix);

/* Fails with OF3_ERR_INPUT when a tensor whose key starts with `prefix` ("" or NULL: any) was
 * never returned by a lookup: "FILE: unexpected checkpoint key 'K' (N tensors under 'P' were
 * not used)". A stage calls it after loading its modules, with each top-level prefix it owns. */
int of3_ckpt_check_unused(const of3_ckpt_t *ck, const char *prefix) OF3_WUR;

/* Fails unless the checkpoint has `want` layout: "FILE: checkpoint layout p2 (of3-p2-155k.pt)
 * recognised, not supported yet (this build reads p1, of3_ft3_v1.pt)". */
int of3_ckpt_require_layout(const of3_ckpt_t *ck, of3_ckpt_layout_t want) OF3_WUR;

/* The layout a set of state-dict keys has (keys as in the file: "model." and
 * "sample_diffusion." prefixes are looked through). */
of3_ckpt_layout_t of3_ckpt_detect_layout(const char *const *keys, int64_t n_keys);

/* "p1", "p2", "OpenBind", "unknown"; and the released file of that layout ("of3_ft3_v1.pt", ...
 * or "" for unknown). */
const char *of3_ckpt_layout_name(of3_ckpt_layout_t layout);
const char *of3_ckpt_layout_file(of3_ckpt_layout_t layout);

/* Copies the tensor's numel values to dst as float32 (bf16 and f16 are widened exactly). */
void of3_ckpt_to_f32(const of3_ckpt_tensor_t *t, float *dst);
/* The same for the n values from element i0 on (0 <= i0, i0 + n <= numel): a tensor staged in
 * pieces (kernels/layers/weights.c). */
void of3_ckpt_to_f32_part(const of3_ckpt_tensor_t *t, int64_t i0, int64_t n, float *dst);
/* of3_ckpt_to_f32_part for a tensor of ck, the fastest way there is: float32 values of a file
 * checkpoint are read from the file (pread: one copy, no page faults on the map), the rest are
 * converted from the map. The values are the same either way. */
void of3_ckpt_read_f32(const of3_ckpt_t *ck, const of3_ckpt_tensor_t *t, int64_t i0, int64_t n,
                       float *dst);

#endif
