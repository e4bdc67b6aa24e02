/* lib.c: finding the image's libraries. They are opened by soname first, because that is
   what the image's programs get from the dynamic loader (ld.so.conf.d lists
   /usr/local/cuda-X.Y/lib); PC_CUDA_HOME/lib is the fallback for a loader cache that was
   not refreshed. Details name the file that was really loaded. */
#include "verify.h"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

/* Sonames per CUDA major, as the toolkit and the nvidia-*-cuXX wheels ship them. NVRTC keeps
   the soname libnvrtc.so.11.2 for every 11.x from 11.2 on; cudart 11 is libcudart.so.11.0. */
static const struct sonames table[] = {
  { 11, "libcudart.so.11.0", "libnvrtc.so.11.2", "libcublas.so.11", "libcublasLt.so.11" },
  { 12, "libcudart.so.12", "libnvrtc.so.12", "libcublas.so.12", "libcublasLt.so.12" },
  { 13, "libcudart.so.13", "libnvrtc.so.13", "libcublas.so.13", "libcublasLt.so.13" },
};

const struct sonames *
sonames_for (int cuda_major)
{
  for (size_t i = 0; i < ARRAY_SIZE (table); i++)
    if (table[i].major == cuda_major)
      return &table[i];
  return NULL;
}

static void *
try_dir (const char *home, const char *sub, const char *soname, int flags, char *err,
         size_t errsize)
{
  char path[4096];
  if (home == NULL
      || (size_t) snprintf (path, sizeof path, "%s/%s/%s", home, sub, soname) >= sizeof path)
    return NULL;
  if (access (path, F_OK) != 0)
    return NULL;
  void *h = dlopen (path, RTLD_NOW | flags);
  if (h == NULL) /* the file is there but does not load: that reason beats "not found" */
    snprintf (err, errsize, "%s", dlerror ());
  return h;
}

void *
lib_open (const char *soname, const char *home, int flags, char *err, size_t errsize)
{
  void *h = dlopen (soname, RTLD_NOW | flags);
  if (h)
    return h;
  const char *why = dlerror ();
  snprintf (err, errsize, "%s", why ? why : soname);
  char first[PCV_DETAIL_MAX];
  snprintf (first, sizeof first, "%s", err);
  h = try_dir (home, "lib", soname, flags, err, errsize);
  if (h == NULL)
    h = try_dir (home, "lib64", soname, flags, err, errsize);
  if (h)
    return h;
  if (strcmp (first, err) == 0 && home)
    snprintf (err, errsize, "%s (searched the loader path and %s/lib)", first, home);
  return NULL;
}

const char *
lib_path (void *handle)
{
  struct link_map *lm = NULL;
  if (handle == NULL || dlinfo (handle, RTLD_DI_LINKMAP, &lm) != 0 || lm == NULL
      || lm->l_name == NULL || lm->l_name[0] == '\0')
    return "?";
  return lm->l_name;
}

void *
lib_sym (void *handle, const char *name)
{
  return handle ? dlsym (handle, name) : NULL;
}
