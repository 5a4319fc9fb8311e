/* atom_blocks.h: the geometry of the sequence-local atom blocks, one definition for the layers
 * (kernels/layers/atom_transformer.c), the CPU ops and the CUDA kernels (spec/trunk.md §3.0.5).
 *
 * Atoms are cut into nb = ceil(A/32) query blocks of 32; block b's key window is the 128 atoms
 * [32b - 48, 32b + 80). A block pair e = (b*32 + l)*128 + m pairs query atom 32b + l with key
 * atom 32b - 48 + m; either may lie outside [0, A) (padding). */
#ifndef OF3_ATOM_BLOCKS_H
#define OF3_ATOM_BLOCKS_H

#include <stdint.h>

#ifdef __CUDACC__
#define OF3_HOST_DEVICE __host__ __device__
#else
#define OF3_HOST_DEVICE
#endif

#define OF3_ATOM_NQ        32  /* queries per block */
#define OF3_ATOM_NK        128 /* keys per window */
#define OF3_ATOM_KEY_SHIFT 48  /* window b starts at atom 32b - 48 */

/* nb = ceil(A / 32), the number of query blocks (0 for A = 0). */
static inline OF3_HOST_DEVICE int64_t of3_atom_n_block(int64_t n_atom)
{
	return (n_atom + OF3_ATOM_NQ - 1) / OF3_ATOM_NQ;
}

/* The query atom of block pair e: 32b + l, that is e / 128. */
static inline OF3_HOST_DEVICE int64_t of3_atom_pair_query(int64_t e)
{
	return e / OF3_ATOM_NK;
}

/* The key atom of block pair e: 32b - 48 + m. */
static inline OF3_HOST_DEVICE int64_t of3_atom_pair_key(int64_t e)
{
	return e / (OF3_ATOM_NQ * OF3_ATOM_NK) * OF3_ATOM_NQ - OF3_ATOM_KEY_SHIFT + e % OF3_ATOM_NK;
}

#endif
