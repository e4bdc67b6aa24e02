/* base.h: the base OS image (layer 1 + Python, layer 2), made without Docker Hub: Debian's
   mmdebstrap writes a reproducible root file system tar (SOURCE_DATE_EPOCH), `docker import`
   loads it, and the image is named by the tar's content digest:
     pytorch-cuda/base:debian-bookworm-<first 12 hex of sha256>
   The tar is kept in the cache and reused; an image of that name is reused. */
#ifndef PCGEN_BASE_H
#define PCGEN_BASE_H

#include "kb.h"
#include "strbuf.h"

/* Make sure the root file system tar of `b` is in the cache (mmdebstrap; with offline, only
   look); its path into *tar (the caller frees it), its sha256 (hex) into sha. Needs no engine:
   `pcgen bake` builds the base from this tar on a BuildKit builder. Returns 0, or -1 with err. */
int base_rootfs (const struct kb_base *b, int offline, char **tar, char *sha, struct strbuf *err);

/* The contents of the regular files `names` (relative: "etc/passwd") in the base tar `tar`,
   into out[i] (initialized strbufs), each at most 1 MiB. Returns 0, or -1 with err naming the
   file that is missing. */
int base_read_files (const char *tar, const char *const *names, size_t n, struct strbuf *out, struct strbuf *err);

/* Make sure the base image of `b` exists; its reference into ref. Returns 0, or -1 with err. */
int base_ensure (const struct kb_base *b, struct strbuf *ref, struct strbuf *err);

#endif
