/* fetch.c: a locked set's files into the cache, verified (see fetch.h): wheels with pip,
   nvcc's Debian packages and redist archives with libcurl (nvcc_source.c). */
#include "fetch.h"
#include "cache.h"
#include "fsutil.h"
#include "nvcc_source.h"
#include "pip.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A temporary download folder inside the cache, so that cache_put is a rename. */
char *
fetch_tmpdir (struct strbuf *err)
{
  cleanup_free char *base = xasprintf ("%s/tmp", cache_dir ());
  if (mkdir_p (base, 0755) < 0)
    {
      strbuf_addf (err, "cannot create '%s': %s", base, strerror (errno));
      return NULL;
    }
  char *dir = xasprintf ("%s/dl.XXXXXX", base);
  if (mkdtemp (dir) == NULL)
    {
      strbuf_addf (err, "cannot create a folder in '%s': %s", base, strerror (errno));
      free (dir);
      return NULL;
    }
  return dir;
}

/* Remove a download folder and whatever pip left in it (a failed run). */
void
fetch_tmpdir_remove (char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  while (d && (e = readdir (d)))
    if (e->d_name[0] != '.')
      {
        cleanup_free char *f = xasprintf ("%s/%s", dir, e->d_name);
        unlink (f);
      }
  if (d)
    closedir (d);
  rmdir (dir);
  free (dir);
}

static const struct pip_source pip_config = { SOURCE_PYPI, NULL, 0 };

/* One wheel from src into the cache, hashed before it enters: wrong bytes never do. Returns 0,
   -1, or a negative enum pip_failure (PIP_NOT_FOUND: the caller tries pip's index). */
static int
fetch_one (const struct locked_wheel *w, const struct pip_source *src, const char *python, struct strbuf *err)
{
  cleanup_free char *spec = xasprintf ("%s==%s", w->name, w->version);
  /* No hash-checking mode here: the bytes are checked against matrix.lock by cache_put, whose
     refusal names the lock (pip's would name the index). */
  const struct pip_pin pin = { w->name, w->version, NULL };
  const char *where = src->where ? src->where : "pip's index";
  char *dir = fetch_tmpdir (err);
  if (dir == NULL)
    return -1;
  cleanup_free char *got = xasprintf ("%s/%s", dir, w->file);
  int rc = pip_download (&pin, 1, src, python, dir, NULL, err);
  if (rc == 0 && access (got, F_OK) != 0)
    {
      strbuf_addf (err, "pip did not download %s from %s (a different build of %s?)", w->file, where, spec);
      rc = -1;
    }
  char sha[SHA256_HEX_LEN + 1];
  unsigned long long size;
  if (rc == 0)
    {
      rc = cache_put (got, w->file, w->sha256, sha, &size, err);
      /* Said here, and returned as a plain failure: the caller reads pip's codes only. */
      if (rc == CACHE_MISMATCH)
        strbuf_addf (err, " (%s serves other bytes than matrix.lock pins; if they are right, run pcgen lock --refresh)",
                     where), rc = -1;
    }
  fetch_tmpdir_remove (dir);
  return rc;
}

/* The source a set was locked from; pip's own index for a kind matrix.lock should not hold. */
static enum source_kind
set_source_kind (const struct lockset *s)
{
  int k = source_kind_parse (s->source_kind);
  return k < 0 ? SOURCE_PYPI : (enum source_kind) k;
}

int
lock_fetch (const struct lockset *s, const char *python, int offline, struct strbuf *err)
{
  for (size_t i = 0; i < s->n; i++)
    {
      const struct locked_wheel *w = &s->w[i];
      int have = cache_check (w->sha256, w->file, err);
      if (have < 0)
        return -1;
      if (have)
        continue;
      if (offline)
        return strbuf_addf (err, "%s is not in the cache (%s) and --offline was given: run pcgen fetch online",
                            w->file, cache_dir ()), -1;
      if (w->role == ROLE_NVCC && ends_with (w->file, ".whl"))
        {
          /* CUDA 13's nvcc wheels (cuda.yaml kind pypi): from pip's index like any wheel,
             whatever the tag's torch source; cache_put checks them against the lock. */
          fprintf (stderr, "fetch: %s (%.1f MB) from pip's index\n", w->file, (double) w->size / 1e6);
          if (fetch_one (w, &pip_config, python, err) < 0)
            return NVCC_FAILED;
          continue;
        }
      if (w->role == ROLE_NVCC)
        {
          /* Debian packages and NVIDIA's redist archives: nvcc_source.c. */
          char *ddir = fetch_tmpdir (err);
          int r = ddir ? nvcc_fetch (w, ddir, err) : -1;
          if (ddir)
            rmdir (ddir);
          free (ddir);
          if (r < 0)
            return r == NVCC_UNREACHABLE ? NVCC_UNREACHABLE : NVCC_FAILED;
          continue;
        }
      /* From the set's source, as lock took it; a dependency that source lacks from pip's index. */
      struct pip_source src = { set_source_kind (s), s->source_where, 0 };
      fprintf (stderr, "fetch: %s (%.1f MB)\n", w->file, (double) w->size / 1e6);
      struct strbuf why = STRBUF_INIT;
      int rc = fetch_one (w, &src, python, &why);
      if (rc == PIP_NOT_FOUND && src.kind != SOURCE_PYPI && strcmp (w->name, "torch") != 0)
        {
          fprintf (stderr, "fetch: %s is not at %s: from pip's index\n", w->file, src.where);
          strbuf_reset (&why);
          rc = fetch_one (w, &pip_config, python, &why);
        }
      strbuf_addstr (err, why.buf);
      strbuf_release (&why);
      if (rc < 0)
        return -1;
    }
  return 0;
}
