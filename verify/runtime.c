/* runtime.c: the CUDA runtime the image ships. cudaRuntimeGetVersion needs no driver, so
   this check proves the library loads and is the CUDA the tag names, GPU or not. */
#include "verify.h"

#include <dlfcn.h>

typedef int (*fn_version) (int *);

void
check_runtime (struct ctx *c, struct check *out)
{
  const struct image *img = c->img;
  const char *soname = sonames_for (img->cuda_major)->cudart;
  char err[PCV_DETAIL_MAX];
  void *h = lib_open (soname, img->cuda_home, RTLD_LOCAL, err, sizeof err);
  if (h == NULL)
    {
      check_set (out, ST_FAIL, "%s", err);
      return;
    }
  fn_version version = (fn_version) lib_sym (h, "cudaRuntimeGetVersion");
  int v = 0, r;
  if (version == NULL)
    {
      check_set (out, ST_FAIL, "%s lacks cudaRuntimeGetVersion", lib_path (h));
      return;
    }
  if ((r = version (&v)) != 0)
    {
      check_set (out, ST_FAIL, "cudaRuntimeGetVersion: cudaError %d", r);
      return;
    }
  snprintf (c->found.cudart, sizeof c->found.cudart, "%d.%d", v / 1000, v % 1000 / 10);
  if (v / 1000 != img->cuda_major || v % 1000 / 10 != img->cuda_minor)
    check_set (out, ST_FAIL, "cudart %s at %s, but the image claims CUDA %s: the wrong %s",
               c->found.cudart, lib_path (h), img->cuda, soname);
  else
    check_set (out, ST_PASS, "cudart %s (%s)", c->found.cudart, lib_path (h));
}
