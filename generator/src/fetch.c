/* fetch.c: a locked set's files into the cache, verified (see fetch.h): wheels with pip, a batch
   in one pip process (pcgen lock's downloads too); nvcc's Debian packages and redist archives
   with libcurl (nvcc_source.c). */
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

char *
lock_wheel_path (const struct locked_wheel *w)
{
  return cache_path (w->sha256, w->file);
}

/* pip_download into dir; a pin the source lacks (pip names it) moves to others[] unless it is
   torch or the source is pip's index itself, and the rest are asked again. Returns 0 or an enum
   pip_failure with err. */
static int
download_from_source (struct pip_pin *pins, size_t *npins, struct pip_pin *others, size_t *nothers,
                      const struct pip_source *src, const char *python, const char *dir, const char *who,
                      struct strbuf *err)
{
  struct pip_source alone = *src;
  alone.fallback = 0;
  while (*npins)
    {
      struct strbuf perr = STRBUF_INIT;
      cleanup_free char *missing = NULL;
      int rc = pip_download (pins, *npins, &alone, python, dir, &missing, &perr);
      if (rc == 0)
        return 0;
      size_t k = *npins;
      if (rc == PIP_NOT_FOUND && src->kind != SOURCE_PYPI && missing)
        {
          cleanup_free char *want = pip_requirement_name (missing);
          for (k = 0; k < *npins && strcmp (pins[k].name, want) != 0; k++)
            ;
        }
      if (k == *npins || strcmp (pins[k].name, "torch") == 0)
        {
          strbuf_addstr (err, perr.buf);
          strbuf_release (&perr);
          return rc;
        }
      strbuf_release (&perr);
      fprintf (stderr, "%s: %s==%s is not at %s: from pip's index\n", who, pins[k].name, pins[k].version, src->where);
      others[(*nothers)++] = pins[k];
      pins[k] = pins[--*npins];
    }
  return 0;
}

int
fetch_wheels (struct locked_wheel *w, size_t n, const struct pip_source *src, const char *python,
              enum fetch_pins mode, const char *who, struct strbuf *err)
{
  struct pip_pin *pins = xcalloc (n + 1, sizeof *pins), *others = xcalloc (n + 1, sizeof *others);
  unsigned char *get = xcalloc (n + 1, 1);
  size_t npins = 0, nothers = 0;
  double mb = 0;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    {
      int have = w[i].sha256[0] ? cache_check (w[i].sha256, w[i].file, err) : 0;
      int again = 0; /* the same file twice: asked once */
      for (size_t k = 0; k < i && !again; k++)
        again = get[k] && strcmp (w[k].file, w[i].file) == 0;
      if (have < 0)
        rc = -1;
      else if (!have && !again)
        {
          get[i] = 1;
          /* PINS_LOCKED: no hash-checking mode (see enum fetch_pins). */
          pins[npins++] = (struct pip_pin) { w[i].name, w[i].version,
                                             mode == PINS_REPORTED && w[i].sha256[0] ? w[i].sha256 : NULL };
          mb += (double) w[i].size / 1e6;
        }
    }
  const char *where = src->where ? src->where : "pip's index";
  char *dir = NULL;
  if (rc == 0 && npins)
    {
      if (mb > 0)
        fprintf (stderr, "%s: %zu of %zu wheels to download (%.1f MB) from %s\n", who, npins, n, mb, where);
      else
        fprintf (stderr, "%s: %zu of %zu wheels to download from %s\n", who, npins, n, where);
      for (size_t i = 0; i < n; i++)
        if (get[i] && w[i].size)
          fprintf (stderr, "%s: %s (%.1f MB)\n", who, w[i].file, (double) w[i].size / 1e6);
      dir = fetch_tmpdir (err);
      rc = dir ? download_from_source (pins, &npins, others, &nothers, src, python, dir, who, err) : -1;
      if (rc == 0 && nothers)
        rc = pip_download (others, nothers, &pip_config, python, dir, NULL, err);
    }
  /* Into the cache, each under its pin: pip downloaded into dir what was asked, or failed. */
  for (size_t i = 0; i < n && rc == 0; i++)
    {
      if (!get[i])
        continue;
      cleanup_free char *got = xasprintf ("%s/%s", dir, w[i].file);
      if (access (got, F_OK) != 0)
        {
          strbuf_addf (err, "pip did not download %s from %s (a different build of %s==%s?)", w[i].file, where,
                       w[i].name, w[i].version);
          rc = -1;
          break;
        }
      char sha[SHA256_HEX_LEN + 1];
      rc = cache_put (got, w[i].file, w[i].sha256[0] ? w[i].sha256 : NULL, sha, &w[i].size, err);
      if (rc == CACHE_MISMATCH && mode == PINS_LOCKED)
        strbuf_addf (err, " (%s serves other bytes than matrix.lock pins; if they are right, run pcgen lock --refresh)",
                     where);
      if (rc == 0 && w[i].sha256[0] == '\0')
        {
          free (w[i].sha256);
          w[i].sha256 = xstrdup (sha);
        }
    }
  if (dir)
    fetch_tmpdir_remove (dir);
  /* The sizes of the wheels the cache held already (and of a file asked twice). */
  for (size_t i = 0; i < n && rc == 0; i++)
    if (!get[i])
      {
        cleanup_free char *path = lock_wheel_path (&w[i]);
        struct stat st;
        if (stat (path, &st) == 0)
          w[i].size = (unsigned long long) st.st_size;
      }
  free (pins);
  free (others);
  free (get);
  return rc < 0 ? -1 : 0;
}

int
lock_fetch (const struct lockset *s, const char *python, int offline, struct strbuf *err)
{
  /* What the cache lacks, in two batches of wheels (each one pip process) and nvcc's files:
     shallow copies, whose sizes fetch_wheels may set (the sha256s are matrix.lock's: kept). */
  struct locked_wheel *wheels = xcalloc (s->n + 1, sizeof *wheels), *nvcc_wheels = xcalloc (s->n + 1, sizeof *nvcc_wheels);
  const struct locked_wheel **files = xcalloc (s->n + 1, sizeof *files);
  size_t nwheels = 0, nnvcc = 0, nfiles = 0;
  int rc = 0;
  for (size_t i = 0; i < s->n && rc == 0; i++)
    {
      const struct locked_wheel *w = &s->w[i];
      int have = cache_check (w->sha256, w->file, err);
      if (have < 0)
        rc = -1;
      else if (have)
        continue;
      else if (offline)
        strbuf_addf (err, "%s is not in the cache (%s) and --offline was given: run pcgen fetch online", w->file,
                     cache_dir ()), rc = -1;
      /* CUDA 13's nvcc wheels (cuda.yaml kind pypi): from pip's index like any wheel, whatever
         the tag's torch source; Debian packages and NVIDIA's redist archives: nvcc_source.c. */
      else if (w->role == ROLE_NVCC && ends_with (w->file, ".whl"))
        nvcc_wheels[nnvcc++] = *w;
      else if (w->role == ROLE_NVCC)
        files[nfiles++] = w;
      else
        wheels[nwheels++] = *w;
    }
  /* From the set's source, as lock took it; a dependency that source lacks from pip's index. */
  struct pip_source src = { s->source_kind, s->source_where, 0 };
  if (rc == 0 && nwheels)
    rc = fetch_wheels (wheels, nwheels, &src, python, PINS_LOCKED, "fetch", err);
  if (rc == 0 && nnvcc && fetch_wheels (nvcc_wheels, nnvcc, &pip_config, python, PINS_LOCKED, "fetch", err) < 0)
    rc = NVCC_FAILED;
  for (size_t i = 0; i < nfiles && rc == 0; i++)
    {
      char *ddir = fetch_tmpdir (err);
      int r = ddir ? nvcc_fetch (files[i], ddir, err) : -1;
      if (ddir)
        rmdir (ddir);
      free (ddir);
      if (r < 0)
        rc = r == NVCC_UNREACHABLE ? NVCC_UNREACHABLE : NVCC_FAILED;
    }
  free (wheels);
  free (nvcc_wheels);
  free (files);
  return rc;
}
