/* cache.c: content-hash keys and the on-disk entries of of3-featurize --cache. */
#include "cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/log.h"
#include "../common/sha256.h"
#include "../common/version.h"
#include "featurize.h"
#include "msa_files.h"
#include "tokens.h"

static void hash_str(of3_sha256_t *h, const char *s)
{
	uint64_t n = strlen(s);
	of3_sha256_update(h, &n, sizeof n); /* length first: "ab"+"c" differs from "a"+"bc" */
	of3_sha256_update(h, s, n);
}

static void hash_object(of3_sha256_t *h, const msgpack_object *o)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_object(&pk, *o);
	uint64_t n = sb.size;
	of3_sha256_update(h, &n, sizeof n);
	of3_sha256_update(h, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

static int hash_file(of3_sha256_t *h, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return of3_err(OF3_ERR_INPUT, "MSA file '%s' cannot be read: %s", path,
		               strerror(errno));
	char buf[1 << 16];
	size_t k;
	hash_str(h, path);
	while ((k = fread(buf, 1, sizeof buf, f)) > 0)
		of3_sha256_update(h, buf, k);
	int bad = ferror(f);
	fclose(f);
	return bad ? of3_err(OF3_ERR_SYS, "reading %s", path) : OF3_OK;
}

static int hash_msa_files(of3_sha256_t *h, const char *const *paths, int n)
{
	of3_msa_file_t *files;
	int n_files, rc = of3_msa_files_expand(paths, n, &files, &n_files);
	for (int i = 0; rc == OF3_OK && i < n_files; i++)
		rc = hash_file(h, files[i].real);
	if (rc == OF3_OK)
		of3_msa_files_free(files, n_files);
	return rc;
}

int of3_cache_key(const of3_bundle_t *a, uint64_t seed, char hex[OF3_CACHE_KEY_HEX])
{
	of3_sha256_t h;
	of3_sha256_init(&h);
	hash_str(&h, "of3-featurize " OF3_VERSION " " OF3_FEATURIZER_CONVENTIONS);
	of3_sha256_update(&h, &seed, sizeof seed);
	hash_str(&h, a->kind);
	hash_str(&h, a->query);
	hash_object(&h, &a->meta);
	for (int i = 0; i < a->n_tensors; i++) {
		const of3_tensor_t *t = &a->tensors[i];
		int32_t d = (int32_t)t->dtype, nd = t->ndim;
		hash_str(&h, t->name);
		of3_sha256_update(&h, &d, sizeof d);
		of3_sha256_update(&h, &nd, sizeof nd);
		of3_sha256_update(&h, t->shape, (size_t)t->ndim * sizeof *t->shape);
		of3_sha256_update(&h, t->data, t->nbytes);
	}
	for (int i = 0; i < a->n_values; i++) {
		hash_str(&h, a->values[i].name);
		hash_object(&h, &a->values[i].value);
	}
	/* the MSA files' contents, as the featurizer will find them */
	of3_tokens_t t;
	int rc = of3_tokens_init(&t, a);
	for (int c = 0; rc == OF3_OK && c < t.n_chains; c++) {
		rc = hash_msa_files(&h, t.chains[c].main_msa_paths, t.chains[c].n_main_msa);
		if (rc == OF3_OK)
			rc = hash_msa_files(&h, t.chains[c].paired_msa_paths,
			                    t.chains[c].n_paired_msa);
	}
	if (rc < 0)
		return rc;
	of3_tokens_free(&t);
	uint8_t digest[OF3_SHA256_BYTES];
	of3_sha256_final(&h, digest);
	of3_sha256_hex(digest, hex);
	return OF3_OK;
}

static void entry_path(char *buf, size_t n, const char *dir, const char *hex)
{
	snprintf(buf, n, "%s/%s.features", dir, hex);
}

int of3_cache_load(const char *dir, const char *hex, const char *query, of3_bundle_t **out)
{
	char path[4096];
	entry_path(path, sizeof path, dir, hex);
	struct stat st;
	if (stat(path, &st) != 0)
		return OF3_END;
	of3_breader_t *r;
	of3_bundle_t *b = NULL;
	int rc = of3_breader_open(&r, path);
	if (rc == OF3_OK) {
		rc = of3_breader_next(r, &b);
		of3_breader_close(r);
	}
	if (rc == OF3_OK && (strcmp(b->kind, "features") || strcmp(b->query, query)))
		rc = of3_err(OF3_ERR_INPUT, "%s holds another query's bundle", path);
	if (rc < 0) {
		of3_note("ignoring cache entry %s: %s", path, of3_errmsg());
		of3_bundle_free(b);
		return OF3_END;
	}
	*out = b;
	return OF3_OK;
}

int of3_cache_store(const char *dir, const char *hex, const of3_bundle_t *b)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return of3_err(OF3_ERR_SYS, "cannot create cache directory %s", dir);
	char path[4096];
	entry_path(path, sizeof path, dir, hex);
	of3_bwriter_t *w;
	int rc = of3_bwriter_open(&w, path);
	if (rc < 0)
		return rc;
	rc = of3_bwriter_bundle(w, b);
	if (rc < 0) {
		of3_bwriter_abort(w);
		return rc;
	}
	return of3_bwriter_close(w);
}
