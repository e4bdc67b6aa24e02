/* evict.h: `pcgen build --lean`, a build that keeps on disk only what the next step needs, for
   CI runners with little disk (docs/building.md, "Lean builds (CI)"). cmd_build.c calls it:
     1. every tag's wheels and layers are made as usual (stage.h)
     2. evict_wheels: the files of the built tags' lock sets (wheels, nvcc archives) leave the
        cache (each was verified by its sha256 when fetched, every layer made from it is made);
        then every tag's layout is written (build/oci/<tag>: its layer blobs are hard links to
        the cache's tars)
     3. evict_load, per tag, runtime before devel: the layers the engine lacks are loaded one at a
        time, each as an untagged image of the layers up to it (the engine then needs a
        temporary copy of one layer, not of the whole image: engine 20.10's docker load unpacks
        its whole input first), and once the engine holds a layer, every link to its tar (the
        cache's layers/, build/oci/TAG, build/context/TAG) is removed, unless a tag still to load
        needs that tar on another chain. The tag's own image is then loaded by image_load with
        nothing left to send but its config
     4. evict_finish: the untagged images and build/context/<tag> go.
   A lean build of a tag again fetches and stages everything: lean is for a job that builds once.
   No build cache is kept: the writer makes none (docker build, --engine docker, is refused). */
#ifndef PCGEN_EVICT_H
#define PCGEN_EVICT_H

#include "lock.h"
#include "plan.h"
#include "strbuf.h"

struct evict
{
  char **images; /* untagged images of the layers so far, removed by evict_finish */
  size_t nimages, alloc;
  char **contexts; /* build/context/<tag> */
  size_t ncontexts, calloc;
  unsigned long long freed; /* bytes whose last link went */
  unsigned loaded;          /* layers loaded one at a time */
};

#define EVICT_INIT { NULL, 0, 0, NULL, 0, 0, 0, 0 }

/* Remove from the cache the files (wheels, nvcc archives) of the lock sets of tags[0..n) (lock: the lock
   file's name, for messages). Returns 0, or -1 with err. */
int evict_wheels (struct evict *ev, const struct lockfile *lf, const char *lock, const struct ptag *const *tags,
                  size_t n, struct strbuf *err);

/* Put every layer of the layout in the engine, one at a time (above those it has), then remove
   the links to each layer's tar unless one of later[0..nlater) (layouts still to load) needs it
   on another chain. context: the tag's build/context folder, removed by evict_finish. Returns
   0, or -1 with err. */
int evict_load (struct evict *ev, const char *layout, const char *const *later, size_t nlater, const char *context,
                struct strbuf *err);

/* Remove the untagged images and the build contexts; the engine keeps the layers (the tags'
   images hold them). */
void evict_finish (struct evict *ev);

#endif
