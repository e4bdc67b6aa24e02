/* fetch.h: a locked set's files present and verified in the cache (pcgen fetch, and build before
   it stages): wheels downloaded by pip from the set's source, nvcc's files with libcurl
   (nvcc_source.h). Nothing enters the cache without the sha256 matrix.lock pins. */
#ifndef PCGEN_FETCH_H
#define PCGEN_FETCH_H

#include "lockfile.h"
#include "strbuf.h"

/* Make every wheel of the set present and verified in the cache; with offline, only check.
   nvcc's files (role nvcc: Debian packages, NVIDIA's redist archives) are downloaded with
   libcurl into a temporary file and enter the cache only when their sha256 is the pinned one
   (nvcc_source.h). Returns 0, -1 with err naming the wheel and what to do, NVCC_UNREACHABLE when
   nvcc's source did not answer (the tag is unavailable here), or NVCC_FAILED when one of nvcc's
   files failed otherwise (err complete either way: its source and setting, or both digests). */
int lock_fetch (const struct lockset *s, const char *python, int offline, struct strbuf *err);

/* A new temporary download folder inside the cache (so that cache_put is a rename), owned by
   the caller; NULL with err. fetch_tmpdir_remove removes it, whatever pip left in it, and frees
   dir. */
char *fetch_tmpdir (struct strbuf *err);
void fetch_tmpdir_remove (char *dir);

#endif
