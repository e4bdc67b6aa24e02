/* blob_gzip.h: the compressed layer blobs a registry gets (docs/publishing.md). Each layer tar
   (uncompressed, as the image layout and `docker load` use it) is gzip-compressed once per
   machine, reproducibly: zlib's raw deflate at a fixed level (GZ_LEVEL) inside a gzip header
   pcgen writes itself (RFC 1952: no file name, MTIME 0, XFL 0, OS 255 "unknown", as Go's
   compress/gzip writes it), so the bytes depend on the tar and zlib's deflate alone, not on the
   time, a file name or the platform byte zlib's own header would carry.
   Cache: CACHE/layers/gz/<gz sha256>.tar.gz, found through a sidecar keyed by the tar's sha256,
   CACHE/layers/gz/<tar sha256>.json {"tar":…, "digest":"sha256:…", "size":N}, both entering by
   rename(2): an interrupted compression leaves no entry. */
#ifndef PCGEN_BLOB_GZIP_H
#define PCGEN_BLOB_GZIP_H

#include "digest.h"
#include "strbuf.h"

#define GZ_LEVEL 6 /* zlib's default and what `docker push` uses; fixed: a change changes every digest */
#define OCI_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"

struct gz_blob
{
  char sha[SHA256_HEX_LEN + 1]; /* of the compressed bytes: the blob's digest in the registry */
  unsigned long long size;
  char *path; /* the cache entry */
};

/* Compress src into dst (created, 0644) with the header above; sha and size of what was
   written. Returns 0, or -1 with err. */
int gz_compress_file (const char *src, const char *dst, char sha[SHA256_HEX_LEN + 1], unsigned long long *size,
                      struct strbuf *err);

/* The compressed blob of the tar at tar_path whose sha256 is tar_sha: from the cache when its
   sidecar and blob are there (the blob's size checked), else made now and cached. */
int gz_layer (const char *tar_sha, const char *tar_path, struct gz_blob *out, struct strbuf *err);

/* gz_layer for n tars on up to jobs threads (jobs <= 0: the number of online CPUs), each thread
   taking the next tar not yet taken. out[i] for tars[i]; on failure err holds the first failure
   (in tar order) and the other entries are still filled or released. Returns 0 or -1. */
int gz_layers (const char *const *tar_sha, const char *const *tar_path, size_t n, int jobs, struct gz_blob *out,
               struct strbuf *err);

/* Whether the compressed blob of the tar whose sha256 is tar_sha is in the cache (1) or not (0):
   nothing is compressed. */
int gz_layer_cached (const char *tar_sha);

void gz_blob_release (struct gz_blob *b);

#endif
