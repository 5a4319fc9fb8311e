/* dtype.h: the element types a bundle tensor can hold (docs/FORMAT.md) and conversions of the
 * 16-bit float types to float, for code that reads them on the CPU. */
#ifndef OF3_DTYPE_H
#define OF3_DTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
	OF3_DTYPE_F64,
	OF3_DTYPE_F32,
	OF3_DTYPE_F16,
	OF3_DTYPE_BF16,
	OF3_DTYPE_I64,
	OF3_DTYPE_I32,
	OF3_DTYPE_U8,
	OF3_DTYPE_COUNT
} of3_dtype_t;

/* The dtype's name in the format ("f32", ...). */
const char *of3_dtype_name(of3_dtype_t dtype);

/* Element size in bytes. */
size_t of3_dtype_size(of3_dtype_t dtype);

/* Looks a dtype up by name; returns 0, or -1 if the name is not a dtype (len: bytes of name). */
int of3_dtype_parse(const char *name, size_t len, of3_dtype_t *out);

/* Element i of a buffer of `dtype`, widened to double (any dtype). */
double of3_dtype_get(of3_dtype_t dtype, const void *data, size_t i);

float of3_f16_to_f32(uint16_t h);
float of3_bf16_to_f32(uint16_t b);
uint16_t of3_f32_to_f16(float f);  /* round to nearest even */
uint16_t of3_f32_to_bf16(float f); /* round to nearest even; NaN stays NaN */

#endif
