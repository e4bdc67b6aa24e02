/* plan.h: the matrix expanded against the knowledge base into tags, each with its aliases and
   every pinned component. Refuses combinations that were never published, naming the ones
   that were. */
#ifndef PCGEN_PLAN_H
#define PCGEN_PLAN_H

#include "diag.h"
#include "error.h"
#include "kb.h"
#include "kinds.h"
#include "matrix.h"

/* A layer of a tag above the base (stage.h says what each role holds): its name, as the
   Dockerfile names it (layers/<name>.tar; stable: versions and pin digests, so that rendered
   Dockerfiles change only when pins change), and what it holds, in words. */
struct player
{
  enum layer_role role;
  char *name;
  char *what;
};

struct player_list
{
  struct player *v;
  size_t n;
};

struct ptag
{
  char *name; /* 2.6.0-cuda12.4-cudnn9-runtime */
  char *ref;  /* myrepo/pytorch-cuda:2.6.0-cuda12.4-cudnn9-runtime */
  char **aliases; /* alias tags (not refs): v2.6-prod */
  size_t naliases, aliases_alloc;
  enum flavor flavor;
  const struct kb_torch *torch;
  const struct kb_variant *variant;
  const struct kb_cuda *cuda;
  const struct kb_base *base;
  const char *python;
  char *require_cuda;       /* NVIDIA_REQUIRE_CUDA */
  enum source_kind source_kind;
  const char *source_where; /* URL or folder; NULL for pypi and unavailable */
  const struct ptag *runtime; /* devel, notebook: the runtime image it builds on */
  int no_nvcc; /* devel, "unavailable": its CUDA has no nvcc source pcgen can build */
  /* Bottom to top, the most widely shared lowest (plan_layers.c, made by plan_build): the
     runtime image's layers (toolchain, cuda, cudnn, torch); what a devel image adds on its
     runtime image (buildtools, devel, nvcc); what a notebook image adds (notebook-debs, jupyter,
     notebook). Empty where the flavor adds none. */
  struct player_list layers, devel_layers, notebook_layers;
};

struct plan
{
  const struct matrix *m;
  const struct kb *kb;
  struct ptag *tags;
  size_t ntags, alloc;
};

/* Expand m against kb. Returns 0, or -1 with every problem in d (pointing into m's file). */
int plan_build (const struct matrix *m, const struct kb *kb, struct plan *p, struct diags *d);
void plan_release (struct plan *p);

const struct ptag *plan_find (const struct plan *p, const char *name);

/* The layers t's own image adds (what pcgen stages for it): devel_layers for a devel tag,
   notebook_layers for a notebook tag, else layers. */
const struct player_list *plan_own_layers (const struct ptag *t);
/* plan_layers.c, for plan_build and plan_release: fill and free t's three layer lists. */
void plan_layers_fill (struct ptag *t);
void plan_layers_release (struct ptag *t);

/* Mark in sel[] (one per tag) the tags whose name or an alias matches one of the glob
   patterns; every tag when there is none. A pattern that matches nothing is a usage error:
   returns -1 with err. */
int plan_select (const struct plan *p, char *const *patterns, size_t npatterns, int *sel, struct error *err);

/* torch-2.6.0-cu124-py3.11: the name of t's torch layer and the ID of its torch set in matrix.lock
   (lock.h), which hold the same wheels. Owned by the caller. */
char *plan_torch_id (const struct ptag *t);

/* The CUDA runtime's exact version (the wheel pin), and cuBLAS's; NULL when not pinned. */
const char *plan_cuda_full (const struct ptag *t);
const char *plan_cublas (const struct ptag *t);

/* The setting that would make an unavailable tag's torch wheel reachable. */
char *plan_source_hint (const struct ptag *t);
/* For a devel tag whose CUDA has no nvcc source pcgen can build (such a tag is "unavailable"):
   one line saying so (owned by the caller); NULL otherwise. */
char *plan_nvcc_note (const struct ptag *t);

/* The user a notebook image runs as (docs/notebook.md): its layer adds it, image.env names it. */
#define NOTEBOOK_USER "pytorch"

#define PLAN_SCHEMA_VERSION 1

#endif
