/* debs.h: Debian packages the knowledge base pins by sha256 (bases.yaml: a base's toolchain and
   buildtools), fetched into the cache with libcurl and verified before they enter it. They are
   not in matrix.lock: bases.yaml already pins each one (pool path, size, sha256), the way
   cuda.yaml pins nvcc's packages, and they depend on the base alone, not on a tag's wheel set. */
#ifndef PCGEN_DEBS_H
#define PCGEN_DEBS_H

#include "kb.h"
#include "strbuf.h"

#define DEFAULT_DEBIAN_SECURITY_MIRROR "http://deb.debian.org/debian-security"

/* The mirror a package comes from: $PCGEN_DEBIAN_SECURITY_MIRROR (default above) for archive
   debian-security (bookworm-security's pool/updates/), else debian_mirror(). Owned by the caller. */
char *debs_mirror (const struct kb_deb *d);

/* The cached path of d, whether or not it is there (cache_path of its sha256 and file name). */
char *debs_path (const struct kb_deb *d);

/* Make each of the n packages present and verified in the cache; with offline, only check.
   Returns 0, or -1 with err naming the package, the URL and what to do. */
int debs_fetch (const struct kb_deb *d, size_t n, int offline, struct strbuf *err);

#endif
