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

NAME_TABLE_FUNCTIONS (flavor)
NAME_TABLE_FUNCTIONS (source_kind)
NAME_TABLE_FUNCTIONS (role)
NAME_TABLE_FUNCTIONS (layer_role)

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
