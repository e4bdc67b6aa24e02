/* kinds.c: the name tables of kinds.h, and E_name / E_parse over each. */
#include "kinds.h"

#include <string.h>

const char *const flavor_names[] = { [FLAVOR_RUNTIME] = "runtime", [FLAVOR_DEVEL] = "devel",
                                     [FLAVOR_NOTEBOOK] = "notebook", NULL };

static const char *const source_kind_names[] = { [SOURCE_PYPI] = "pypi", [SOURCE_INDEX] = "index",
                                                 [SOURCE_WHEELHOUSE] = "wheelhouse",
                                                 [SOURCE_UNAVAILABLE] = "unavailable", NULL };

static const char *const role_names[] = { [ROLE_TORCH] = "torch", [ROLE_CUDA] = "cuda", [ROLE_CUDNN] = "cudnn",
                                          [ROLE_DEVEL] = "devel", [ROLE_NVCC] = "nvcc",
                                          [ROLE_NOTEBOOK] = "notebook", NULL };

static const char *const layer_role_names[]
    = { [LAYER_TOOLCHAIN] = "toolchain", [LAYER_CUDA] = "cuda",     [LAYER_CUDNN] = "cudnn",
        [LAYER_TORCH] = "torch",         [LAYER_BUILDTOOLS] = "buildtools", [LAYER_DEVEL] = "devel",
        [LAYER_NVCC] = "nvcc",           [LAYER_NOTEBOOK_DEBS] = "notebook-debs", [LAYER_JUPYTER] = "jupyter",
        [LAYER_NOTEBOOK] = "notebook",   NULL };

int
names_lookup (const char *const *names, const char *word)
{
  for (int i = 0; word && names[i]; i++)
    if (strcmp (names[i], word) == 0)
      return i;
  return -1;
}

#define KIND_NAMES(E) \
  const char *E##_name (enum E value) { return E##_names[value]; } \
  int E##_parse (const char *word) { return names_lookup (E##_names, word); }

KIND_NAMES (flavor)
KIND_NAMES (source_kind)
KIND_NAMES (role)
KIND_NAMES (layer_role)

int
layer_role_wheels (enum layer_role r)
{
  return r == LAYER_CUDA ? ROLE_CUDA : r == LAYER_CUDNN ? ROLE_CUDNN : r == LAYER_TORCH ? ROLE_TORCH : -1;
}

int
layer_role_debs (enum layer_role r)
{
  return r == LAYER_TOOLCHAIN || r == LAYER_BUILDTOOLS || r == LAYER_NOTEBOOK_DEBS;
}
