/* cmd_fetch.c: `pcgen fetch`: make every wheel and file matrix.lock pins for the tags present
   and verified in the cache (fetch.h); the base's Debian packages too (debs.h). */
#include "cache.h"
#include "cmd.h"
#include "cmd_sets.h"
#include "debs.h"
#include "exitcode.h"
#include "fetch.h"
#include "nvcc_source.h"
#include "util.h"

#include <stdio.h>

static const char fetch_usage[]
    = "usage: pcgen fetch [--offline] [--verify] [--matrix FILE] [--lock FILE] [TAG|GLOB...]\n"
      "Download every wheel matrix.lock pins for the tags into the cache and verify its sha256.\n"
      "nvcc's files come through libcurl: Debian packages from $PCGEN_DEBIAN_MIRROR (default\n"
      "http://deb.debian.org/debian), NVIDIA's redist archives from $PCGEN_CUDA_REDIST (default\n"
      "https://developer.download.nvidia.com/compute/cuda/redist); they enter the cache only when\n"
      "their sha256 is the pinned one.\n"
      "  --offline   download nothing: fail naming what the cache lacks\n"
      "  --verify    hash every cached file again, even one whose size, mtime and inode are those it\n"
      "              had when last hashed; one that differs is removed from the cache and fails\n"
      "exit: 0 all present and verified, 1 invalid matrix or lock, 2 usage, 3 a download or check failed\n";

/* --verify: hash every cached file of s again, whatever its stamp says; a mismatch is removed
   (inside the cache only: cache_verify) and fails. Absent files are lock_fetch's to download. */
static int
verify_set (const struct lockset *s, struct lock_opts *o, struct strbuf *err)
{
  for (size_t i = 0; i < o->nverified; i++)
    if (o->verified[i] == s)
      return 0;
  o->verified = xrealloc (o->verified, (o->nverified + 1) * sizeof *o->verified);
  o->verified[o->nverified++] = s;
  for (size_t i = 0; i < s->n; i++)
    if (cache_verify (s->w[i].sha256, s->w[i].file, err) < 0)
      return -1;
  return 0;
}

static int
fetch_set (struct lockfile *lf, const struct ptag *t, int devel, struct lock_opts *o)
{
  struct strbuf err = STRBUF_INIT;
  const struct lockset *s = lock_find_current (lf, t, devel, o->lock, &err);
  int rc = s && o->verify ? verify_set (s, o, &err) : 0;
  if (rc < 0)
    {
      error ("%s: %s", t->name, err.buf);
      strbuf_release (&err);
      return rc;
    }
  rc = s ? lock_fetch (s, t->python, o->offline, &err) : -1;
  /* The base's packages (bases.yaml pins them): the toolchain for every tag, buildtools for devel.
     Their errors name their own mirror setting, not the torch source's. */
  int base_debs = 0;
  if (rc == 0)
    {
      base_debs = 1;
      rc = devel == SET_DEVEL      ? debs_fetch (t->base->buildtools, t->base->nbuildtools, o->offline, &err)
           : devel == SET_NOTEBOOK ? debs_fetch (t->base->notebook, t->base->nnotebook, o->offline, &err)
                                   : debs_fetch (t->base->toolchain, t->base->ntoolchain, o->offline, &err);
    }
  if (rc == NVCC_UNREACHABLE) /* nvcc's own source and setting are in err: the tag is unavailable */
    fprintf (stderr, "%s: unavailable: %s\n", t->name, err.buf);
  else if (rc == NVCC_FAILED || (rc < 0 && base_debs)) /* their own mirror setting is in err */
    error ("%s: %s", t->name, err.buf);
  else if (rc < 0 && s && !o->offline)
    {
      cleanup_free char *setting = source_setting (t);
      error ("%s: %s; %s", t->name, err.buf, setting);
    }
  else if (rc < 0)
    error ("%s: %s", t->name, err.buf);
  strbuf_release (&err);
  return rc;
}

int
cmd_fetch (int argc, char **argv)
{
  struct lock_opts o = { .usage = fetch_usage, .each = fetch_set, .fetch = 1, .matrix = DEFAULT_MATRIX, .lock = DEFAULT_LOCK };
  int r = sets_parse (argc, argv, &o);
  return r ? (r > 0 ? EXIT_OK : EXIT_USAGE) : sets_run (&o);
}
