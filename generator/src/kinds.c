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

static int
lookup (const char *const *names, const char *word)
{
  for (int i = 0; word && names[i]; i++)
    if (strcmp (names[i], word) == 0)
      return i;
  return -1;
}

#define KIND_NAMES(E) \
  const char *E##_name (enum E value) { return E##_names[value]; } \
  int E##_parse (const char *word) { return lookup (E##_names, word); }

KIND_NAMES (flavor)
KIND_NAMES (source_kind)
KIND_NAMES (role)
