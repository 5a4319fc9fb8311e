/* json_file.h: reading a whole JSON document from a path or stdin with cJSON, with syntax
 * errors reported by line and column. */
#ifndef OF3_JSON_FILE_H
#define OF3_JSON_FILE_H

#include <cjson/cJSON.h>

#include "../common/error.h"

/* Parses path ("-" for stdin) into *out (free with cJSON_Delete). Malformed JSON is
 * OF3_ERR_INPUT: "<path>: line L, column C: malformed JSON near '...'". */
int of3_json_load(const char *path, cJSON **out) OF3_WUR;

#endif
