/* nvcc_source.c: see nvcc_source.h. */
#include "nvcc_source.h"
#include "cache.h"
#include "http.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *
cuda_redist (void)
{
  return url_setting (NULL, "PCGEN_CUDA_REDIST", DEFAULT_CUDA_REDIST);
}

int
nvcc_file_is_redist (const char *path)
{
  /* Debian's files all live under pool/; NVIDIA's under the component's name. */
  return !starts_with (path, "pool/");
}

const char *
nvcc_file_setting (const char *path)
{
  return nvcc_file_is_redist (path) ? "PCGEN_CUDA_REDIST" : "PCGEN_DEBIAN_MIRROR";
}

char *
nvcc_describe (const struct kb_nvcc *s)
{
  struct strbuf sb = STRBUF_INIT;
  if (s->kind == NVCC_DEBIAN)
    strbuf_addstr (&sb, "Debian's");
  else if (s->kind == NVCC_REDIST)
    strbuf_addf (&sb, "NVIDIA's redist %s (", s->release);
  else
    strbuf_addstr (&sb, "PyPI's");
  /* "a, b and c" after Debian's and PyPI's; "(a, b, c)" after the redist release. */
  for (size_t i = 0; i < s->nfiles; i++)
    {
      const char *sep = i == 0                 ? (s->kind == NVCC_REDIST ? "" : " ")
                        : s->kind == NVCC_REDIST ? ", "
                        : i + 1 == s->nfiles   ? " and "
                                               : ", ";
      strbuf_addf (&sb, "%s%s %s", sep, s->files[i].name, s->files[i].version);
    }
  if (s->kind == NVCC_REDIST)
    strbuf_addch (&sb, ')');
  return strbuf_detach (&sb, NULL);
}

int
nvcc_fetch (const struct locked_wheel *w, const char *dir, struct strbuf *err)
{
  int redist = nvcc_file_is_redist (w->path);
  cleanup_free char *base = redist ? cuda_redist () : debian_mirror ();
  cleanup_free char *url = xasprintf ("%s/%s", base, w->path);
  cleanup_free char *got = xasprintf ("%s/%s", dir, w->file);
  fprintf (stderr, "fetch: %s (%.1f MB) from %s\n", w->file, (double) w->size / 1e6, base);
  struct strbuf why = STRBUF_INIT;
  int rc = http_download (url, got, w->size, w->file, &why);
  if (rc < 0)
    {
      /* One line: what is missing, from where, and the setting that points elsewhere. */
      strbuf_addf (err, "nvcc unavailable: %s: %s; set %s to a reachable %s", w->file, why.buf,
                   redist ? "PCGEN_CUDA_REDIST" : "PCGEN_DEBIAN_MIRROR",
                   redist ? "mirror of NVIDIA's CUDA redist (" DEFAULT_CUDA_REDIST ", same layout)"
                          : "Debian mirror (default " DEFAULT_DEBIAN_MIRROR ")");
      strbuf_release (&why);
      unlink (got);
      /* Only a source that does not answer makes the tag unavailable; one that answers with an
         error (404: the pinned file is gone) is a failure to fix. */
      return rc == HTTP_UNREACHABLE ? NVCC_UNREACHABLE : -1;
    }
  strbuf_release (&why);
  return cache_put_pinned (got, w->file, url, w->sha256, w->size, "matrix.lock", err);
}
