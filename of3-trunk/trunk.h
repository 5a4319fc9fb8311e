/* trunk.h: the whole OpenFold3 trunk (spec/trunk.md §2.1): the input embedder once, then
 * num_recycles + 1 cycles of recycling, template embedder, MSA module and Pairformer stack.
 *
 * of3_trunk_load() binds every trunk weight of a p1 checkpoint once per process into one
 * float32 buffer (weights.h; dimensions and block counts from the shapes) and reports any
 * trunk key nobody bound. of3_trunk_run() plans the activations of one query, allocates them
 * once (STYLE.md rule 27: it fails before any work when they do not fit), and runs the cycles.
 * The cycle count is a configuration constant, not in the checkpoint: 4 for the released model
 * (num_recycles 3), 3 for the tiny test fixtures (num_recycles 2).
 *
 * Both backends run it (issue #10): on CUDA the weights, the query's features and every
 * activation live in device memory and only the outputs come back; --precision bf16 there
 * rounds the products' operands to bf16 (fp32 is the parity mode). */
#ifndef OF3_TRUNK_H
#define OF3_TRUNK_H

#include <stddef.h>
#include <stdint.h>

#include "../common/bundle.h"
#include "../common/checkpoint.h"
#include "../kernels/backend.h"

#define OF3_TRUNK_CYCLES 4 /* num_recycles 3 + 1 at the default configuration */

typedef struct of3_trunk_t of3_trunk_t;

/* Dimensions learnt from the checkpoint. */
typedef struct {
	int64_t c_s, c_z, c_s_input;
	int n_pairformer_block;
	size_t n_weight_floats; /* the bound weights' buffer */
} of3_trunk_dims_t;

/* The outputs of one query, float32, on the host. The caller owns the buffers (sized from
 * of3_trunk_dims() and the token count); s_cycle / z_cycle may be NULL (not kept). Any host
 * memory does; of3_backend_host_alloc'ed buffers come down from a GPU fastest. */
typedef struct {
	float *s_input; /* [N, c_s_input] */
	float *s_trunk; /* [N, c_s] */
	float *z_trunk; /* [N, N, c_z] */
	float *s_cycle; /* [n_cycles, N, c_s]: s after each cycle's Pairformer, or NULL */
	float *z_cycle; /* [n_cycles, N, N, c_z], or NULL */
} of3_trunk_out_t;

/* Binds the trunk of ck (which must be layout p1; of3_ckpt_require_layout) into be's memory
 * (of3_wbuf_alloc_on: device memory on CUDA) and keeps ck open for no longer than this call
 * needs: the weights are copied. be must outlive the trunk. Fails with OF3_ERR_INPUT naming the
 * key at fault (missing, misshaped, or a trunk key nobody bound), OF3_ERR_NOMEM when the
 * weights do not fit. Keys of the diffusion module and the heads are left alone. */
int of3_trunk_load(of3_trunk_t **out, of3_ckpt_t *ck, of3_backend_t *be) OF3_WUR;
void of3_trunk_free(of3_trunk_t *t);

/* Everything of3_trunk_load checks (layout, every key and shape, no trunk key left unbound)
 * with the planning pass only: nothing is allocated or copied. Fills *dims. For tests. */
int of3_trunk_check(of3_ckpt_t *ck, of3_trunk_dims_t *dims) OF3_WUR;
const of3_trunk_dims_t *of3_trunk_dims(const of3_trunk_t *t);

/* Runs n_cycles cycles on one features bundle (query names the query in messages and progress
 * lines) on be, the backend the trunk was loaded on: the features are prepared on the host and
 * uploaded once, every layer runs where be computes, the outputs are downloaded into out. A
 * missing or misshaped feature is OF3_ERR_INPUT naming it; activations and features that do not
 * fit (on CUDA: an estimate against the device's free memory, naming tokens, estimate and free
 * memory) are OF3_ERR_NOMEM before any work. seed drives MSA subsampling (only when a query has
 * more MSA rows than the module keeps). Progress per cycle on stderr. */
int of3_trunk_run(const of3_trunk_t *t, const of3_bundle_t *features, int n_cycles, uint64_t seed,
                  of3_trunk_out_t *out, of3_backend_t *be) OF3_WUR;

#endif
