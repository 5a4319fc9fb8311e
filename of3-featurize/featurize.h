/* featurize.h: one assembly bundle to the features bundle the model reads (spec/data.md §4). */
#ifndef OF3_FEATURIZE_H
#define OF3_FEATURIZE_H

#include <stdint.h>

#include "../common/bundle.h"

/* The featurizer's conventions, recorded in every features bundle's meta so a mismatch with the
 * weights (spec/versions.md) is caught downstream. */
#define OF3_FEATURIZER_CONVENTIONS "openfold3-b7940cb0"

/* Builds *out (kind "features"): every tensor of spec/data.md §4, the assembly's atom tables
 * forwarded for of3-writecif, and meta n_token, n_atom, n_msa, n_templ, seed, featurizer.
 * seed drives the random rotation and translation of the reference conformers. */
int of3_featurize(const of3_bundle_t *assembly, uint64_t seed, of3_bundle_t **out) OF3_WUR;

#endif
