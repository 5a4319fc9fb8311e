/* inspect.h: a human-readable summary of a bundle stream or of a torch.save checkpoint. */
#ifndef OF3_INSPECT_H
#define OF3_INSPECT_H

#include <stdio.h>

#include "../common/error.h"

/* Prints each bundle's header, each tensor's name, dtype, shape, min/max/mean and NaN count, and
 * each value, reading tensors in pieces so memory stays small whatever their size. A path (not
 * stdin) that starts like a torch.save checkpoint (a zip archive, or the legacy pickle format)
 * goes to of3_inspect_checkpoint() instead. */
int of3_inspect(const char *path, FILE *out) OF3_WUR;

/* Prints a checkpoint's layout (p1, p2, OpenBind or unknown), where its weights were found,
 * its tensor and parameter counts, and each tensor's dtype, shape and key in file order
 * (common/checkpoint.h). A malformed checkpoint fails with the key or byte offset at fault. */
int of3_inspect_checkpoint(const char *path, FILE *out) OF3_WUR;

#endif
