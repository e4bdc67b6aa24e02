/* build.h: one tag from its staged layers to a tagged image in the Docker engine.
   The build context is build/context/<tag>/: the rendered Dockerfile and image.env, the
   verifier, and layers/<name>.tar hard-linked from the cache. `docker build -t` tags only on
   success, so a failed or interrupted build leaves no tag; aliases are added after it.
   results/builds/<tag>.json records the image ID and the digests of every input, and a tag
   whose inputs and image are unchanged is not built again.
   docker's output (BuildKit's plain progress) goes to results/logs/<tag>.build.log: written as
   it comes to <tag>.build.log.part, renamed into place when docker has ended, so the log at
   that path is always a whole one. Builds of different tags may run at once (jobs.h): a build
   touches only its own context, log and record. */
#ifndef PCGEN_BUILD_H
#define PCGEN_BUILD_H

#include "plan.h"
#include "progress.h"
#include "stage.h"

/* How an image is made: pcgen's image writer (image_writer.h, the default), or `docker build`
   of the rendered Dockerfile (what bake and BuildKit users run). */
enum build_engine
{
  ENGINE_WRITER,
  ENGINE_DOCKER
};
/* --engine's words, "writer" and "docker"; build_engine_parse: -1 for another word. */
const char *build_engine_name (enum build_engine e);
int build_engine_parse (const char *word);

/* What became of a tag in pcgen build: its summary line's STATUS (build_status_name). */
enum build_status
{
  BUILD_PENDING, /* "-": not reached */
  BUILD_BUILT,
  BUILD_UP_TO_DATE,
  BUILD_FAILED,
  BUILD_INTERRUPTED,
  BUILD_CANCELLED,
  BUILD_SKIPPED_RUNTIME_SKIPPED,
  BUILD_SKIPPED_RUNTIME_FAILED,
  BUILD_SKIPPED_NO_SOURCE,
  BUILD_SKIPPED_NVCC_UNREACHABLE,
};
const char *build_status_name (enum build_status s);
/* Whether a tag's status fails pcgen build: not reached, failed, interrupted, cancelled, or
   skipped because its runtime image was not built (a tag without a source is not a failure). */
int build_status_failed (enum build_status s);

struct build_result
{
  char *image_id;
  unsigned long long size;
  double seconds;
  enum build_status status;
  char *why;          /* a failure's one-line reason */
};

/* Fetch t's pinned wheels (lock: the lock file's name, for messages; with offline, only the
   cache) and make or reuse its layers (stage.h), then write its SBOM (sbom.h: SBOM_BUILD_FMT,
   read by build_context and build_inputs_digest). Returns 0, -1 with err, or NVCC_UNREACHABLE
   with err when nvcc's source does not answer (the tag is unavailable here). */
int build_layers (const struct plan *p, const struct ptag *t, const struct lockfile *lf, const char *lock,
                  int offline, struct staged_layer **l, size_t *nl, struct strbuf *err);

/* Assemble build/context/<tag>/ (emptied first): Dockerfile, image.env, the verifier,
   sbom.spdx.json and layers/<name>.tar, hard-linked where the file system allows. *ctx receives the folder
   (the caller frees it, also on failure); *bytes, unless NULL, the size of what it holds.
   Returns 0, or -1 with err. */
int build_context (const struct ptag *t, const struct staged_layer *l, size_t nl, char **ctx,
                   unsigned long long *bytes, struct strbuf *err);

/* build/context/base-<name>/ with the base's root file system tar as rootfs.tar, for a
   BuildKit builder that cannot see the engine's images (pcgen bake). Returns as above. */
#define BASE_CONTEXT_FMT "build/context/base-%s"
#define BASE_CONTEXT_TAR "rootfs.tar"
int build_base_context (const struct kb_base *b, int offline, char **ctx, struct strbuf *err);

/* The digest of everything that goes into the image, for the up-to-date check (the engine
   counts: an image docker built is not the one the writer writes). */
char *build_inputs_digest (enum build_engine engine, const struct ptag *t, const char *base_ref, const struct staged_layer *l,
                           size_t nl, struct strbuf *err);

/* 1 if results/builds/<tag>.json says inputs_digest was built into the image the tag names now. */
int build_up_to_date (const struct ptag *t, const char *inputs_digest, struct build_result *r);

/* What a running build shows (progress.h), from the thread that builds; every member may be NULL. */
struct build_watch
{
  void *ctx;
  /* PHASE_SENDING_CONTEXT, BUILDING, EXPORTING (docker build), WRITING, LOADING (the writer),
     TAGGING; detail may be NULL */
  void (*phase) (void *ctx, enum phase phase, const char *detail);
  /* bytes of the build context sent (docker says so), of total (the context's size; 0: unchanged) */
  void (*bytes) (void *ctx, unsigned long long sent, unsigned long long total);
  /* a detail of the phase: "step 3/7" */
  void (*detail) (void *ctx, const char *detail);
};

/* The log of t's last docker build: results/logs/<tag>.build.log. */
char *build_log_path (const struct ptag *t);

/* docker build (or the image writer and docker load), then the aliases. On failure err is one
   line: what failed, docker's last error line and the log's path. w may be NULL. */
int build_image (enum build_engine engine, const struct ptag *t, const char *base_ref,
                 const struct staged_layer *l, size_t nl, const char *inputs_digest,
                 const struct build_watch *w, struct build_result *r, struct strbuf *err);

/* build_image's two halves with the image writer, for `pcgen build --lean` (evict.h), which
   writes every tag's layout before it loads any: build/context/<tag> and build/oci/<tag>, then
   (after evict_load has put the layers in the engine) the image itself, the aliases and the
   record. Return 0, or -1 with err. */
struct writer_result;
int build_write (const struct ptag *t, const struct staged_layer *l, size_t nl, struct writer_result *wr,
                 struct strbuf *err);
int build_finish (const struct ptag *t, const char *base_ref, const struct staged_layer *l, size_t nl,
                  const struct writer_result *wr, const char *inputs, struct build_result *r, struct strbuf *err);

void build_result_release (struct build_result *r);

#define VERIFIER_BINARY "bin/pytorch-cuda-verify"

#endif
