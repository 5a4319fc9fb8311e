/* cache.h: feature bundles kept on disk under a content hash (of3-featurize --cache DIR).
 *
 * The key covers everything the features depend on: the featurizer's version and conventions,
 * the seed, the whole assembly bundle (header, tensors, values) and the contents of every MSA
 * file the query's chains name. A hit gives the bundle stored by an earlier run, byte for byte;
 * entries are written under a temporary name and renamed, so a crash leaves none half-made. */
#ifndef OF3_CACHE_H
#define OF3_CACHE_H

#include <stdint.h>

#include "../common/bundle.h"

#define OF3_CACHE_KEY_HEX 65 /* 64 hex digits and a NUL */

/* The key of an assembly's features. MSA files that cannot be read are OF3_ERR_INPUT. */
int of3_cache_key(const of3_bundle_t *assembly, uint64_t seed, char hex[OF3_CACHE_KEY_HEX]) OF3_WUR;

/* Reads entry <dir>/<hex>.features: OF3_OK with *out, or OF3_END when there is none. An entry
 * that is unreadable or not this query's features counts as none (a note says so). */
int of3_cache_load(const char *dir, const char *hex, const char *query, of3_bundle_t **out) OF3_WUR;

/* Writes b as entry <dir>/<hex>.features (creating dir if needed). */
int of3_cache_store(const char *dir, const char *hex, const of3_bundle_t *b) OF3_WUR;

#endif
