/* base.h: the base OS image (layer 1 + Python, layer 2), made without Docker Hub: Debian's
   mmdebstrap writes a reproducible root file system tar (SOURCE_DATE_EPOCH), `docker import`
   loads it, and the image is named by the tar's content digest:
     pytorch-cuda/base:debian-bookworm-<first 12 hex of sha256>
   The tar is kept in the cache and reused; an image of that name is reused. */
#ifndef PCGEN_BASE_H
#define PCGEN_BASE_H

#include "kb.h"
#include "strbuf.h"

/* Make sure the base image of `b` exists; its reference into ref. Returns 0, or -1 with err. */
int base_ensure (const struct kb_base *b, struct strbuf *ref, struct strbuf *err);

#endif
