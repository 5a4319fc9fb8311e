/* zip.c: the central directory, local headers and ZIP64 records of a zip archive in memory
 * (APPNOTE.TXT 6.3: sections 4.3.7 local header, 4.3.12 central directory header, 4.3.14-16
 * ZIP64 end records, 4.5.3 ZIP64 extra field). Stored entries only; see zip.h. */
#include "zip.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIG_LOCAL      0x04034b50u
#define SIG_CENTRAL    0x02014b50u
#define SIG_EOCD       0x06054b50u
#define SIG_EOCD64     0x06064b50u
#define SIG_EOCD64_LOC 0x07064b50u
#define LOCAL_BYTES    30
#define CENTRAL_BYTES  46
#define EOCD_BYTES     22
#define EOCD64_BYTES   56
#define EOCD64_LOC     20
#define EXTRA_ZIP64    0x0001u
#define FLAG_ENCRYPTED 0x0001u
#define MAX_COMMENT    65535u
#define U32_MAX_MARKER 0xffffffffu
#define U16_MAX_MARKER 0xffffu

struct of3_zip_t {
	char *label;
	const uint8_t *buf;
	uint64_t len;
	int64_t n_entries;
	of3_zip_entry_t *entries;
	of3_zip_entry_t **sorted; /* by name, for of3_zip_find */
	char *names;              /* every name, NUL-terminated, back to back */
	int zip64;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Whether [off, off + n) lies inside a buffer of len bytes, without overflow. */
static int inside(uint64_t off, uint64_t n, uint64_t len)
{
	return off <= len && n <= len - off;
}

static int bad(const of3_zip_t *z, uint64_t at, const char *what)
{
	return of3_err(OF3_ERR_INPUT, "%s: byte %llu: %s", z->label, (unsigned long long)at, what);
}

/* The end-of-central-directory record: the last signature within the 64 KiB comment window
 * whose comment ends inside the buffer. Returns its offset or -1. */
static int64_t find_eocd(const of3_zip_t *z)
{
	if (z->len < EOCD_BYTES)
		return -1;
	uint64_t last = z->len - EOCD_BYTES;
	uint64_t first = last > MAX_COMMENT ? last - MAX_COMMENT : 0;
	for (uint64_t at = last + 1; at-- > first;) {
		const uint8_t *p = z->buf + at;
		if (rd32(p) == SIG_EOCD && at + EOCD_BYTES + rd16(p + 20) <= z->len)
			return (int64_t)at;
	}
	return -1;
}

typedef struct {
	uint64_t n_entries, cd_size, cd_offset;
} cd_info_t;

static int read_end_records(of3_zip_t *z, cd_info_t *cd)
{
	int64_t eocd = find_eocd(z);
	if (eocd < 0)
		return of3_err(
		        OF3_ERR_INPUT,
		        "%s: not a zip archive, or a truncated one (no end-of-central-directory "
		        "record in its last %u bytes)",
		        z->label, (unsigned)(EOCD_BYTES + MAX_COMMENT));
	const uint8_t *p = z->buf + eocd;
	if (rd16(p + 4) != 0 || rd16(p + 6) != 0)
		return bad(z, (uint64_t)eocd,
		           "zip archive split over several disks: not supported");
	cd->n_entries = rd16(p + 10);
	cd->cd_size = rd32(p + 12);
	cd->cd_offset = rd32(p + 16);
	/* A ZIP64 locator sits right before the classic record whenever the writer used ZIP64;
	 * its values then replace the 16- and 32-bit ones (which are 0xffff... markers). */
	if (eocd >= EOCD64_LOC && rd32(z->buf + eocd - EOCD64_LOC) == SIG_EOCD64_LOC) {
		const uint8_t *loc = z->buf + eocd - EOCD64_LOC;
		uint64_t at = rd64(loc + 8);
		if (!inside(at, EOCD64_BYTES, z->len) || rd32(z->buf + at) != SIG_EOCD64)
			return bad(
			        z, (uint64_t)eocd - EOCD64_LOC,
			        "ZIP64 locator points to no ZIP64 end-of-central-directory record");
		const uint8_t *r = z->buf + at;
		if (rd32(r + 16) != 0 || rd32(r + 20) != 0)
			return bad(z, at, "zip archive split over several disks: not supported");
		cd->n_entries = rd64(r + 32);
		cd->cd_size = rd64(r + 40);
		cd->cd_offset = rd64(r + 48);
		z->zip64 = 1;
	} else if (cd->n_entries == U16_MAX_MARKER || cd->cd_size == U32_MAX_MARKER ||
	           cd->cd_offset == U32_MAX_MARKER) {
		return bad(z, (uint64_t)eocd,
		           "ZIP64 markers but no ZIP64 end-of-central-directory "
		           "locator (truncated or damaged archive)");
	}
	if (!inside(cd->cd_offset, cd->cd_size, z->len))
		return bad(z, (uint64_t)eocd,
		           "the central directory lies outside the file (truncated)");
	if (cd->n_entries > cd->cd_size / CENTRAL_BYTES)
		return bad(z, (uint64_t)eocd, "more entries than the central directory can hold");
	return OF3_OK;
}

/* Replaces the 0xffffffff / 0xffff markers of one central entry with the 64-bit values of its
 * ZIP64 extra field, which holds exactly the marked fields, in this order. */
static int apply_zip64_extra(of3_zip_t *z, uint64_t at, const uint8_t *x, uint16_t n_extra,
                             of3_zip_entry_t *e, uint32_t disk)
{
	int want_u = e->size_unpacked == U32_MAX_MARKER, want_c = e->size == U32_MAX_MARKER;
	int want_h = e->header_offset == U32_MAX_MARKER;
	for (uint32_t i = 0; i + 4 <= n_extra;) {
		uint16_t id = rd16(x + i), n = rd16(x + i + 2);
		if (i + 4 + (uint32_t)n > n_extra)
			return bad(z, at, "central directory entry: extra field runs past its end");
		if (id == EXTRA_ZIP64) {
			const uint8_t *f = x + i + 4;
			uint32_t need = 8u * (uint32_t)(want_u + want_c + want_h);
			if (n < need)
				return bad(z, at,
				           "central directory entry: ZIP64 extra field too short");
			if (want_u)
				e->size_unpacked = rd64(f), f += 8;
			if (want_c)
				e->size = rd64(f), f += 8;
			if (want_h)
				e->header_offset = rd64(f);
			z->zip64 = 1;
			return OF3_OK;
		}
		i += 4 + (uint32_t)n;
	}
	if (want_u || want_c || want_h || disk == U16_MAX_MARKER)
		return bad(z, at,
		           "central directory entry: ZIP64 markers without a ZIP64 extra field");
	return OF3_OK;
}

/* Reads central entry i at *at (advanced past it); the name is copied to *names. */
static int read_central(of3_zip_t *z, uint64_t *at, uint64_t cd_end, of3_zip_entry_t *e,
                        char **names)
{
	uint64_t here = *at;
	if (!inside(here, CENTRAL_BYTES, cd_end) || rd32(z->buf + here) != SIG_CENTRAL)
		return bad(z, here, "expected a central directory entry (damaged archive)");
	const uint8_t *p = z->buf + here;
	uint16_t n_name = rd16(p + 28), n_extra = rd16(p + 30), n_comment = rd16(p + 32);
	uint32_t disk = rd16(p + 34);
	uint64_t total = (uint64_t)CENTRAL_BYTES + n_name + n_extra + n_comment;
	if (!inside(here, total, cd_end))
		return bad(z, here, "central directory entry runs past the directory's end");
	e->flags = rd16(p + 8);
	e->method = rd16(p + 10);
	e->crc32 = rd32(p + 16);
	e->size = rd32(p + 20);
	e->size_unpacked = rd32(p + 24);
	e->header_offset = rd32(p + 42);
	const char *name = (const char *)p + CENTRAL_BYTES;
	if (memchr(name, 0, n_name))
		return bad(z, here, "central directory entry: a NUL byte in the entry's name");
	memcpy(*names, name, n_name);
	(*names)[n_name] = 0;
	e->name = *names;
	*names += n_name + 1;
	int rc = apply_zip64_extra(z, here, p + CENTRAL_BYTES + n_name, n_extra, e, disk);
	if (rc < 0)
		return rc;
	if (disk != 0 && disk != U16_MAX_MARKER)
		return bad(z, here, "zip archive split over several disks: not supported");
	*at = here + total;
	return OF3_OK;
}

/* The local header gives where the data starts: its own name and extra lengths may differ
 * from the central directory's (torch pads the local extra field to align the data). */
static int read_local(of3_zip_t *z, of3_zip_entry_t *e)
{
	uint64_t at = e->header_offset;
	if (!inside(at, LOCAL_BYTES, z->len) || rd32(z->buf + at) != SIG_LOCAL)
		return of3_err(
		        OF3_ERR_INPUT,
		        "%s: zip entry '%s': no local header at byte %llu (truncated or damaged "
		        "archive)",
		        z->label, e->name, (unsigned long long)at);
	const uint8_t *p = z->buf + at;
	uint16_t n_name = rd16(p + 26), n_extra = rd16(p + 28);
	uint64_t data = at + LOCAL_BYTES + n_name + n_extra;
	if (!inside(at + LOCAL_BYTES, n_name, z->len) || n_name != strlen(e->name) ||
	    memcmp(p + LOCAL_BYTES, e->name, n_name) != 0)
		return of3_err(
		        OF3_ERR_INPUT,
		        "%s: zip entry '%s': the local header at byte %llu names another entry",
		        z->label, e->name, (unsigned long long)at);
	if (!inside(data, e->size, z->len))
		return of3_err(
		        OF3_ERR_INPUT,
		        "%s: zip entry '%s': its %llu bytes at byte %llu run past the end of the "
		        "file (%llu bytes): truncated",
		        z->label, e->name, (unsigned long long)e->size, (unsigned long long)data,
		        (unsigned long long)z->len);
	e->data_offset = data;
	return OF3_OK;
}

/* Where the archive is a file mapping, asks for every local header's page at once, so a cold
 * open waits for one deep queue of reads instead of one read per entry (a no-op for memory that
 * is not a file mapping; failures only cost the hint). */
static void prefetch_local_headers(const of3_zip_t *z)
{
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		return;
	uintptr_t base = (uintptr_t)z->buf, done = 0;
	for (int64_t i = 0; i < z->n_entries; i++) {
		uint64_t at = z->entries[i].header_offset;
		if (at >= z->len)
			continue;
		uintptr_t first = (base + at) & ~(uintptr_t)(page - 1);
		if (first == done)
			continue;
		posix_madvise((void *)first, (size_t)page, POSIX_MADV_WILLNEED);
		done = first;
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(of3_zip_entry_t *const *)a)->name, (*(of3_zip_entry_t *const *)b)->name);
}

int of3_zip_open(of3_zip_t **out, const void *buf, size_t len, const char *label)
{
	*out = NULL;
	of3_zip_t *z = calloc(1, sizeof *z);
	if (!z || !(z->label = strdup(label))) {
		free(z);
		return of3_err(OF3_ERR_NOMEM, "out of memory");
	}
	z->buf = buf;
	z->len = len;
	cd_info_t cd = {0, 0, 0};
	int rc = read_end_records(z, &cd);
	if (rc < 0)
		goto done;
	z->n_entries = (int64_t)cd.n_entries;
	z->entries = calloc(cd.n_entries ? cd.n_entries : 1, sizeof *z->entries);
	z->sorted = calloc(cd.n_entries ? cd.n_entries : 1, sizeof *z->sorted);
	z->names = malloc(cd.cd_size + 1); /* names are shorter than their entries */
	if (!z->entries || !z->sorted || !z->names) {
		rc = of3_err(OF3_ERR_NOMEM, "out of memory");
		goto done;
	}
	char *names = z->names;
	uint64_t at = cd.cd_offset, cd_end = cd.cd_offset + cd.cd_size;
	for (int64_t i = 0; i < z->n_entries; i++) {
		if ((rc = read_central(z, &at, cd_end, &z->entries[i], &names)) < 0)
			goto done;
		z->sorted[i] = &z->entries[i];
	}
	prefetch_local_headers(z);
	for (int64_t i = 0; i < z->n_entries; i++)
		if ((rc = read_local(z, &z->entries[i])) < 0)
			goto done;
	qsort(z->sorted, (size_t)z->n_entries, sizeof *z->sorted, by_name);
	for (int64_t i = 1; i < z->n_entries; i++) {
		if (strcmp(z->sorted[i - 1]->name, z->sorted[i]->name) == 0) {
			rc = of3_err(OF3_ERR_INPUT, "%s: zip entry '%s' appears twice", z->label,
			             z->sorted[i]->name);
			goto done;
		}
	}
done:
	if (rc < 0) {
		of3_zip_close(z);
		return rc;
	}
	*out = z;
	return OF3_OK;
}

void of3_zip_close(of3_zip_t *z)
{
	if (!z)
		return;
	free(z->label);
	free(z->entries);
	free(z->sorted);
	free(z->names);
	free(z);
}

int64_t of3_zip_count(const of3_zip_t *z)
{
	return z->n_entries;
}

const of3_zip_entry_t *of3_zip_entry(const of3_zip_t *z, int64_t i)
{
	return i >= 0 && i < z->n_entries ? &z->entries[i] : NULL;
}

const of3_zip_entry_t *of3_zip_find(const of3_zip_t *z, const char *name)
{
	int64_t lo = 0, hi = z->n_entries;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		int c = strcmp(z->sorted[mid]->name, name);
		if (c == 0)
			return z->sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int of3_zip_data(const of3_zip_t *z, const of3_zip_entry_t *e, const void **data, uint64_t *size)
{
	if (e->flags & FLAG_ENCRYPTED)
		return of3_err(OF3_ERR_INPUT, "%s: zip entry '%s' is encrypted: not supported",
		               z->label, e->name);
	if (e->method != 0)
		return of3_err(OF3_ERR_INPUT,
		               "%s: zip entry '%s' is compressed (method %u); torch.save stores "
		               "entries uncompressed, re-save the checkpoint with torch.save",
		               z->label, e->name, (unsigned)e->method);
	if (e->size != e->size_unpacked)
		return of3_err(
		        OF3_ERR_INPUT,
		        "%s: zip entry '%s' is stored but its sizes differ (%llu vs %llu bytes)",
		        z->label, e->name, (unsigned long long)e->size,
		        (unsigned long long)e->size_unpacked);
	*data = z->buf + e->data_offset;
	*size = e->size;
	return OF3_OK;
}

int of3_zip_is_zip64(const of3_zip_t *z)
{
	return z->zip64;
}
