/* zip.h: a read-only reader for the zip archives torch.save writes (DESIGN.md §5).
 *
 * The archive is a byte buffer the caller keeps alive (checkpoint.c maps the file); nothing is
 * copied or decompressed: an entry's data is a pointer into that buffer. Handled: the central
 * directory, local headers (whose extra field torch uses to pad data to 64 bytes), ZIP64 (the
 * end-of-central-directory record and locator, and the per-entry extra field: archives over
 * 4 GiB), a trailing archive comment. Not handled, each refused with a message naming the entry:
 * compressed entries (torch.save stores every entry), encryption, archives split over several
 * disks. CRC-32 values are read but not checked (checking means reading every byte of a
 * 1.5 GB checkpoint at open).
 *
 * Every function returning int returns OF3_OK (0) or a negative status from error.h with the
 * message in of3_errmsg(); a malformed archive is OF3_ERR_INPUT and the message names the byte
 * offset and, where there is one, the entry. */
#ifndef OF3_ZIP_H
#define OF3_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct {
	const char *name;       /* NUL-terminated, owned by the archive */
	uint16_t method;        /* 0 stored; anything else is compressed */
	uint16_t flags;         /* general-purpose bit flags of the central directory */
	uint32_t crc32;         /* as recorded, not checked */
	uint64_t size;          /* bytes of data as stored (compressed size) */
	uint64_t size_unpacked; /* uncompressed size; equal to size for a stored entry */
	uint64_t header_offset; /* byte offset of the local header in the archive */
	uint64_t data_offset;   /* byte offset of the data in the archive */
} of3_zip_entry_t;

typedef struct of3_zip_t of3_zip_t;

/* Reads the central directory of the archive in buf[0, len) and every entry's local header;
 * `label` names the archive in messages (copied). buf must outlive the reader. Every entry's
 * data must lie inside the buffer ("truncated" otherwise); names must be unique. Fails on a
 * buffer that is not a zip archive ("no end-of-central-directory record"). Where buf is a file
 * mapping, the pages of all local headers are requested at once (POSIX_MADV_WILLNEED) before
 * they are read, so a cold open does not wait for one disk read per entry. */
int of3_zip_open(of3_zip_t **out, const void *buf, size_t len, const char *label) OF3_WUR;
void of3_zip_close(of3_zip_t *z);

/* Number of entries, and entry i (0 <= i < count) in central-directory order. */
int64_t of3_zip_count(const of3_zip_t *z);
const of3_zip_entry_t *of3_zip_entry(const of3_zip_t *z, int64_t i);

/* The entry of that exact name, or NULL (binary search; no message recorded). */
const of3_zip_entry_t *of3_zip_find(const of3_zip_t *z, const char *name);

/* The entry's bytes, in place: *data points into the archive buffer, *size bytes. Fails for a
 * compressed or encrypted entry. */
int of3_zip_data(const of3_zip_t *z, const of3_zip_entry_t *e, const void **data,
                 uint64_t *size) OF3_WUR;

/* Whether the archive used ZIP64 records (for of3-inspect and tests). */
int of3_zip_is_zip64(const of3_zip_t *z);

#endif
