/* inspect.h: a human-readable summary of a bundle stream. */
#ifndef OF3_INSPECT_H
#define OF3_INSPECT_H

#include <stdio.h>

#include "../common/error.h"

/* Prints each bundle's header, each tensor's name, dtype, shape, min/max/mean and NaN count, and
 * each value, reading tensors in pieces so memory stays small whatever their size. */
int of3_inspect(const char *path, FILE *out) OF3_WUR;

#endif
