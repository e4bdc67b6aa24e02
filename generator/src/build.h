/* build.h: one tag from its staged layers to a tagged image in the Docker engine.
   The build context is build/context/<tag>/: the rendered Dockerfile and image.env, the
   verifier, and layers/<name>.tar hard-linked from the cache. `docker build -t` tags only on
   success, so a failed or interrupted build leaves no tag; aliases are added after it.
   results/builds/<tag>.json records the image ID and the digests of every input, and a tag
   whose inputs and image are unchanged is not built again. */
#ifndef PCGEN_BUILD_H
#define PCGEN_BUILD_H

#include "plan.h"
#include "stage.h"

struct build_result
{
  char *image_id;
  unsigned long long size;
  double seconds;
  const char *status; /* "built", "up to date", "failed", "skipped" */
  char *why;          /* a failure's one-line reason */
};

/* The digest of everything that goes into the image, for the up-to-date check. */
char *build_inputs_digest (const struct ptag *t, const char *base_ref, const struct staged_layer *l,
                           size_t nl, struct strbuf *err);

/* 1 if results/builds/<tag>.json says inputs_digest was built into the image the tag names now. */
int build_up_to_date (const struct ptag *t, const char *inputs_digest, struct build_result *r);

int build_image (const struct ptag *t, const char *base_ref,
                 const struct staged_layer *l, size_t nl, const char *inputs_digest,
                 struct build_result *r, struct strbuf *err);

void build_result_release (struct build_result *r);

#define VERIFIER_BINARY "bin/pytorch-cuda-verify"

#endif
