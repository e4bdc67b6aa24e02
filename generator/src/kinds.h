/* kinds.h: the plan's words as enums, each with one name table: a tag's flavor, where its torch
   wheels come from, the role of a pinned file (the layer it goes into) and a layer's role. For each enum E,
   E_name (flavor_name, source_kind_name, role_name, layer_role_name) gives the word as
   matrix.yaml, matrix.lock, the plan's JSON and messages spell it, and E_parse (flavor_parse,
   source_kind_parse, role_parse, layer_role_parse) reads it back: the enum's value, -1 for a word it does not know. Nothing else
   compares these words. */
#ifndef PCGEN_KINDS_H
#define PCGEN_KINDS_H

#define KIND_NAMES(E) \
  const char *E##_name (enum E value); \
  int E##_parse (const char *word);

/* Ordered as a torch + CUDA pair's tags are listed and built: runtime first, the flavors built
   FROM it after. */
enum flavor
{
  FLAVOR_RUNTIME,
  FLAVOR_DEVEL,
  FLAVOR_NOTEBOOK,
};
KIND_NAMES (flavor)
/* "runtime", "devel", "notebook", then NULL (for suggestions: util.h's nearest). */
extern const char *const flavor_names[];

/* Where a tag's torch wheels come from (matrix.yaml's sources); unavailable: nowhere pcgen can
   reach (plan_source_hint says which setting would help). */
enum source_kind
{
  SOURCE_PYPI,
  SOURCE_INDEX,
  SOURCE_WHEELHOUSE,
  SOURCE_UNAVAILABLE,
};
KIND_NAMES (source_kind)

/* A pinned file's role: which layer it goes into (matrix.lock's "role"; the plan's components
   and layers). */
enum role
{
  ROLE_TORCH,
  ROLE_CUDA,
  ROLE_CUDNN,
  ROLE_DEVEL,
  ROLE_NVCC,
  ROLE_NOTEBOOK,
};
KIND_NAMES (role)

/* A layer's role: what it is made of (the plan's layers, devel_layers and notebook_layers; stage.h
   says what each holds). */
enum layer_role
{
  LAYER_TOOLCHAIN,
  LAYER_CUDA,
  LAYER_CUDNN,
  LAYER_TORCH,
  LAYER_BUILDTOOLS,
  LAYER_DEVEL,
  LAYER_NVCC,
  LAYER_NOTEBOOK_DEBS,
  LAYER_JUPYTER,
  LAYER_NOTEBOOK,
};
KIND_NAMES (layer_role)
/* The role of the torch set's wheels a layer is made of (cuda, cudnn, torch), else -1. */
int layer_role_wheels (enum layer_role r);
/* Whether a layer is made of a base's Debian packages (toolchain, buildtools, notebook-debs). */
int layer_role_debs (enum layer_role r);

#undef KIND_NAMES

/* The index of word in a NULL-terminated name table, or -1 (every E_parse; other modules' own
   tables, such as kb.c's nvcc source kinds). */
int names_lookup (const char *const *names, const char *word);

/* Defines E_name and E_parse over a NULL-terminated table E_names indexed by enum E: kinds.c's
   enums, and other modules' own (certify.c's certificate words). */
#define NAME_TABLE_FUNCTIONS(E) \
  const char *E##_name (enum E value) { return E##_names[value]; } \
  int E##_parse (const char *word) { return names_lookup (E##_names, word); }

#endif
