/* dtype.c: dtype names and sizes, and the IEEE half / bfloat16 conversions. */
#include "dtype.h"

#include <string.h>

static const struct {
	const char *name;
	size_t size;
} dtypes[OF3_DTYPE_COUNT] = {
        [OF3_DTYPE_F64] = {"f64", 8},   [OF3_DTYPE_F32] = {"f32", 4}, [OF3_DTYPE_F16] = {"f16", 2},
        [OF3_DTYPE_BF16] = {"bf16", 2}, [OF3_DTYPE_I64] = {"i64", 8}, [OF3_DTYPE_I32] = {"i32", 4},
        [OF3_DTYPE_U8] = {"u8", 1},
};

const char *of3_dtype_name(of3_dtype_t dtype)
{
	return (unsigned)dtype < OF3_DTYPE_COUNT ? dtypes[dtype].name : "?";
}

size_t of3_dtype_size(of3_dtype_t dtype)
{
	return (unsigned)dtype < OF3_DTYPE_COUNT ? dtypes[dtype].size : 0;
}

int of3_dtype_parse(const char *name, size_t len, of3_dtype_t *out)
{
	for (int i = 0; i < OF3_DTYPE_COUNT; i++) {
		if (strlen(dtypes[i].name) == len && memcmp(dtypes[i].name, name, len) == 0) {
			*out = (of3_dtype_t)i;
			return 0;
		}
	}
	return -1;
}

static float bits_to_f32(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static uint32_t f32_to_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

float of3_bf16_to_f32(uint16_t b)
{
	return bits_to_f32((uint32_t)b << 16);
}

uint16_t of3_f32_to_bf16(float f)
{
	uint32_t u = f32_to_bits(f);
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 0x40); /* quiet NaN, keep the sign */
	u += 0x7fffu + ((u >> 16) & 1u);
	return (uint16_t)(u >> 16);
}

float of3_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
	uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
	if (exp == 0x1f) /* inf or NaN */
		return bits_to_f32(sign | 0x7f800000u | (man << 13));
	if (exp == 0) { /* zero or subnormal: man * 2^-24 */
		float v = (float)man * (1.0f / 16777216.0f);
		return sign ? -v : v;
	}
	return bits_to_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

uint16_t of3_f32_to_f16(float f)
{
	uint32_t u = f32_to_bits(f);
	uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
	uint32_t a = u & 0x7fffffffu;
	if (a > 0x7f800000u)
		return sign | 0x7e00u;
	if (a >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
		return sign | 0x7c00u;
	if (a < 0x38800000u) { /* below the smallest normal half: subnormal or zero */
		if (a < 0x33000000u)
			return sign;
		uint32_t man = (a & 0x7fffffu) | 0x800000u;
		int shift = 126 - (int)(a >> 23); /* 14..24 */
		uint32_t half = man >> shift, rem = man & ((1u << shift) - 1u),
		         mid = 1u << (shift - 1);
		if (rem > mid || (rem == mid && (half & 1u)))
			half++;
		return sign | (uint16_t)half;
	}
	a += 0xfffu + ((a >> 13) & 1u) - (112u << 23);
	return sign | (uint16_t)(a >> 13);
}

double of3_dtype_get(of3_dtype_t dtype, const void *data, size_t i)
{
	switch (dtype) {
	case OF3_DTYPE_F64: return ((const double *)data)[i];
	case OF3_DTYPE_F32: return ((const float *)data)[i];
	case OF3_DTYPE_F16: return of3_f16_to_f32(((const uint16_t *)data)[i]);
	case OF3_DTYPE_BF16: return of3_bf16_to_f32(((const uint16_t *)data)[i]);
	case OF3_DTYPE_I64: return (double)((const int64_t *)data)[i];
	case OF3_DTYPE_I32: return ((const int32_t *)data)[i];
	case OF3_DTYPE_U8: return ((const uint8_t *)data)[i];
	default: return 0.0;
	}
}
