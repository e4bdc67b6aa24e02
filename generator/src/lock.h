/* lock.h: the pinned inputs of every tag in matrix.lock (the file: lockfile.h): which sets a
   tag needs, whether they are current, resolving them with pip (fetching their files: fetch.h).
   A tag needs its torch set (torch, its Python dependencies, the nvidia-* wheels it pins) and,
   for devel, the devel set of its CUDA (nvcc and headers). */
#ifndef PCGEN_LOCK_H
#define PCGEN_LOCK_H

#include "lockfile.h"
#include "pip.h"
#include "plan.h"
#include "strbuf.h"

/* The sets a tag may need: every tag its torch set; a devel tag the devel set of its CUDA; a
   notebook tag its notebook set (JupyterLab and what it needs beyond the torch set, resolved
   together with that set so that the two agree). */
enum lock_set_kind
{
  SET_TORCH = 0,
  SET_DEVEL = 1,
  SET_NOTEBOOK = 2,
};

char *lock_devel_set_id (const struct ptag *t); /* NULL for runtime tags */
/* The set of kind `kind` (enum lock_set_kind) of t. */
char *lock_set_id (const struct ptag *t, int kind);

/* Whether set s (t's torch or devel set) was locked from the source matrix.yaml now gives t.
   A set locked from another source is locked again. */
int lock_source_matches (const struct lockset *s, const struct ptag *t);
/* The set of t (devel 0: torch, 1: devel) in lf, or NULL with err saying to run pcgen lock:
   absent from `lock` (the file's name), or locked from another source than matrix.yaml's. */
const struct lockset *lock_find_current (const struct lockfile *lf, const struct ptag *t, int devel,
                                         const char *lock, struct strbuf *err);

/* Resolve a set by downloading its wheels (into the cache) and reading their METADATA;
   cross-checks the nvidia-* pins against the knowledge base. Returns 0, or -1 with err:
   ERR_INVALID when the torch wheel's pins disagree with the knowledge base, else ERR_ENV. */
int lock_resolve (const struct ptag *t, int devel, struct lockset *out, struct error *err);
/* The notebook set of t: jupyterlab (bases.yaml's release) resolved by pip together with every
   wheel of torchset pinned, keeping only the wheels torchset lacks (role notebook), so that the
   JupyterLab layer never replaces a package of the torch layer. Returns 0, or -1 with err. */
int lock_resolve_notebook (const struct ptag *t, const struct lockset *torchset, struct lockset *out,
                           struct strbuf *err);

/* Pin, in a devel set, the files of t's nvcc source in the knowledge base (Debian packages or
   NVIDIA's redist archives) and of its host compiler (role "nvcc", with their path under the
   mirror), replacing any other nvcc entries; none when it names none. Returns 1 when the set
   changed, else 0. */
int lock_nvcc_debs (const struct ptag *t, struct lockset *s);

#endif
