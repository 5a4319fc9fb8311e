/* sha256.h: SHA-256 (FIPS 180-4, §6.2), incremental and one-shot, with a hex rendering of the
 * digest. Used to identify inputs and outputs (checkpoint, cache entries, bundles) by content.
 * Pure computation on memory: nothing here allocates, fails, reads files or prints. */
#ifndef OF3_SHA256_H
#define OF3_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define OF3_SHA256_BYTES 32 /* digest size */
#define OF3_SHA256_HEX   65 /* hex digest size, with the terminating NUL */

/* A hash in progress: plain data, may be copied (a copy hashes on independently, e.g. to get
 * the digest of a prefix and continue). */
typedef struct {
	uint32_t h[8];    /* chaining state */
	uint64_t n_bytes; /* message bytes hashed so far */
	uint8_t buf[64];  /* the incomplete block */
	size_t n_buf;     /* bytes in buf, 0..63 */
} of3_sha256_t;

/* Starts a hash of the empty message. */
void of3_sha256_init(of3_sha256_t *ctx);

/* Appends n_bytes bytes at data (data may be NULL when n_bytes is 0). Messages may be of any
 * length below 2^61 bytes. */
void of3_sha256_update(of3_sha256_t *ctx, const void *data, size_t n_bytes);

/* Pads, writes the 32-byte digest and leaves ctx finished (init it again to reuse it). */
void of3_sha256_final(of3_sha256_t *ctx, uint8_t digest[OF3_SHA256_BYTES]);

/* One-shot: the digest of data[0..n_bytes). */
void of3_sha256(const void *data, size_t n_bytes, uint8_t digest[OF3_SHA256_BYTES]);

/* Writes the digest as 64 lower-case hex digits and a NUL into hex (as sha256sum prints it). */
void of3_sha256_hex(const uint8_t digest[OF3_SHA256_BYTES], char hex[OF3_SHA256_HEX]);

#endif
