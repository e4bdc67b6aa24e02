/* fetch.h: a locked set's files present and verified in the cache (pcgen fetch, and build before
   it stages; pcgen lock's downloads too): wheels downloaded by pip from the set's source, nvcc's
   files with libcurl (nvcc_source.h). Nothing enters the cache without the sha256 pinned for it
   (matrix.lock's, or pip's report's while locking). */
#ifndef PCGEN_FETCH_H
#define PCGEN_FETCH_H

#include "lockfile.h"
#include "pip.h"
#include "strbuf.h"

/* Whose sha256s fetch_wheels holds the bytes to. */
enum fetch_pins
{
  /* pip's report (pcgen lock): the source's own digests, or "" where it lists none. pip takes
     the file with that digest in its hash-checking mode (every pin has one), and a wheel without
     one enters the cache under the digest its bytes have, written into its sha256. */
  PINS_REPORTED,
  /* matrix.lock's (pcgen fetch, build): no hash-checking mode; cache_put checks the bytes, and
     its refusal names matrix.lock and pcgen lock --refresh (pip's would name the index). */
  PINS_LOCKED,
};

/* Make the pinned wheels w[0..n) present in the cache, for pcgen lock and pcgen fetch alike:
   those it lacks are downloaded from src by ONE pip process (pip_download takes every pin at
   once); what src does not have comes from pip's own index, by one more process for all such
   wheels, but torch, which must be the source's (src's fallback flag is not read). pip stops at
   the first pin a source lacks, naming it (PIP_NOT_FOUND) and saving nothing: each such wheel
   costs one short run before the rest are asked again. A file enters the cache only with its
   pin's sha256 (enum fetch_pins); every w[i].size is set. Lines on stderr start with who
   ("fetch", "lock: torch-2.6.0-cu124-py3.11"). Returns 0, or -1 with err: pip's failure (what
   was asked, from where, why), a file pip did not download, or the cache's refusal. */
int fetch_wheels (struct locked_wheel *w, size_t n, const struct pip_source *src, const char *python,
                  enum fetch_pins mode, const char *who, struct strbuf *err);

/* The cached path of a wheel of a set (verified by lock_fetch before). */
char *lock_wheel_path (const struct locked_wheel *w);

/* Make every file of the set present and verified in the cache; with offline, only check.
   Its wheels come from the set's source with fetch_wheels (one pip process for all of them:
   build calls this per layer, with the set of that layer's inputs, so that a layer is staged
   while the next one's wheels download), CUDA 13's nvcc wheels from pip's index likewise; nvcc's
   files (role nvcc: Debian packages, NVIDIA's redist archives) are downloaded with libcurl into
   a temporary file and enter the cache only when their sha256 is the pinned one (nvcc_source.h).
   Returns 0, -1 with err naming the wheel and what to do, NVCC_UNREACHABLE when nvcc's source
   did not answer (the tag is unavailable here), or NVCC_FAILED when one of nvcc's files failed
   otherwise (err complete either way: its source and setting, or both digests). */
int lock_fetch (const struct lockset *s, const char *python, int offline, struct strbuf *err);

/* A new temporary download folder inside the cache (so that cache_put is a rename), owned by
   the caller; NULL with err. fetch_tmpdir_remove removes it, whatever pip left in it, and frees
   dir. */
char *fetch_tmpdir (struct strbuf *err);
void fetch_tmpdir_remove (char *dir);

#endif
