/* cmd_lock.c: `pcgen lock` and `pcgen fetch`: pin every input in matrix.lock, and make every
   pinned wheel present and verified in the cache. */
#include "cache.h"
#include "cmd.h"
#include "debs.h"
#include "exitcode.h"
#include "lock.h"
#include "nvcc_source.h"
#include "project.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char lock_usage[]
    = "usage: pcgen lock [--refresh] [--matrix FILE] [--lock FILE] [TAG|GLOB...]\n"
      "Pin every wheel the tags need (torch, NumPy, their Python dependencies, the nvidia-* wheels\n"
      "torch pins, ptxas/nvvm/headers for devel) in matrix.lock: name, version, file, sha256, size.\n"
      "pip's resolver decides the set (pip install --dry-run --report) from the tag's source\n"
      "(matrix.yaml 'sources', else pip's own index); `pip download` fetches exactly those files\n"
      "(by sha256) into the cache; torch's nvidia-* pins are checked against the knowledge base.\n"
      "Devel sets also pin the files nvcc comes from (Debian packages or NVIDIA's redist archives),\n"
      "as generator/data/cuda.yaml names them (with their path under the mirror); pcgen fetch\n"
      "downloads them.\n"
      "Sets already locked from the same source are kept unless --refresh (or a torch set lacks\n"
      "the NumPy the knowledge base names).\n"
      "exit: 0 locked, 1 invalid matrix or pin mismatch, 2 usage, 3 a download failed\n";

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

struct lock_opts
{
  int refresh, offline, fetch, verify;
  int failed_code; /* the exit code of the first set that failed (its error's kind); 0: none */
  const struct lockset **verified; /* --verify: sets hashed already (a torch set serves two tags) */
  size_t nverified;
  const char *matrix, *lock;
  char **patterns;
  size_t npatterns;
};

static int
parse (int argc, char **argv, struct lock_opts *o)
{
  static const struct option opts[] = { { "refresh", no_argument, NULL, 'r' }, { "offline", no_argument, NULL, 'o' },
                                        { "verify", no_argument, NULL, 'v' },
                                        { "matrix", required_argument, NULL, 'm' }, { "lock", required_argument, NULL, 'l' },
                                        { "help", no_argument, NULL, 'h' }, { 0 } };
  const char *usage = o->fetch ? fetch_usage : lock_usage;
  int c;
  optind = 1;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'r':
        o->refresh = 1;
        break;
      case 'o':
        o->offline = 1;
        break;
      case 'v':
        o->verify = 1;
        break;
      case 'm':
        o->matrix = optarg;
        break;
      case 'l':
        o->lock = optarg;
        break;
      case 'h':
        fputs (usage, stdout);
        return 1;
      default:
        fputs (usage, stderr);
        return -1;
      }
  if ((o->fetch && o->refresh) || (!o->fetch && (o->offline || o->verify)))
    {
      error ("%s is not an option of pcgen %s", o->fetch ? "--refresh" : o->offline ? "--offline" : "--verify",
             o->fetch ? "fetch" : "lock");
      return -1;
    }
  o->patterns = argv + optind;
  o->npatterns = (size_t) (argc - optind);
  return 0;
}

/* The setting that decides where a set comes from, for an error's last words. */
static char *
source_setting (const struct ptag *t)
{
  if (t->source_kind == SOURCE_PYPI)
    return xstrdup ("the source is pip's own index (PIP_INDEX_URL, pip.conf); matrix.yaml 'sources' can name another");
  return xasprintf ("the setting: sources: {\"%s\": {%s: \"%s\"}} in matrix.yaml", t->cuda->version, source_kind_name (t->source_kind),
                    t->source_where);
}

/* Why a torch set locked before must be locked again for the knowledge base, or NULL: every
   image ships NumPy, locked with torch at the release the knowledge base names (torch.yaml
   'numpy'), so a set locked without it, or with another, is out of date. */
static char *
stale_reason (const struct lockset *s, const struct ptag *t, int devel, const struct lockset *torchset)
{
  if (devel == SET_NOTEBOOK)
    {
      /* JupyterLab's release is in the set's id: another release, another set. A torch set locked
         again since may now hold one of its wheels: the two layers would both write it. */
      for (size_t i = 0; torchset && i < s->n; i++)
        for (size_t k = 0; k < torchset->n; k++)
          if (strcmp (s->w[i].name, torchset->w[k].name) == 0)
            return xasprintf ("has %s, which %s holds too", s->w[i].name, torchset->id);
      return NULL;
    }
  if (devel)
    return NULL;
  const struct locked_wheel *np = NULL;
  int torch = 0;
  for (size_t i = 0; i < s->n; i++)
    {
      if (strcmp (s->w[i].name, "numpy") == 0)
        np = &s->w[i];
      torch |= strcmp (s->w[i].name, "torch") == 0;
    }
  /* A set with torch but no NumPy was locked before NumPy was part of it (by an older pcgen). */
  if (np == NULL && torch)
    return xstrdup ("has no numpy");
  if (np == NULL)
    return NULL;
  if (t->torch->numpy && strcmp (np->version, t->torch->numpy) != 0)
    return xasprintf ("has numpy %s, but generator/data/torch.yaml says %s", np->version, t->torch->numpy);
  return NULL;
}

/* The notebook set of t resolves against t's torch set as locked: its wheels stay pinned. */
static int
resolve_notebook (struct lockfile *lf, const struct ptag *t, const struct lock_opts *o, struct lockset *out,
                  struct error *err)
{
  struct strbuf msg = STRBUF_INIT;
  const struct lockset *torchset = lock_find_current (lf, t, SET_TORCH, o->lock, &msg);
  if (torchset == NULL || lock_resolve_notebook (t, torchset, out, &msg) < 0)
    return err_take (err, ERR_ENV, &msg);
  strbuf_release (&msg);
  return 0;
}

/* Lock one set if it is not locked yet; returns 0, or -1 after printing why (the exit code of
   the first failure is kept in o->failed_code). */
static int
ensure_set (struct lockfile *lf, const struct ptag *t, int devel, struct lock_opts *o)
{
  cleanup_free char *id = lock_set_id (t, devel);
  const struct lockset *have = lockfile_find (lf, id);
  cleanup_free char *torch_id = lock_set_id (t, SET_TORCH);
  cleanup_free char *stale = have ? stale_reason (have, t, devel, lockfile_find (lf, torch_id)) : NULL;
  if (have && !o->refresh && lock_source_matches (have, t) && stale == NULL)
    {
      /* The nvcc packages come from the knowledge base, not from pip: kept in step with it. */
      if (devel == SET_DEVEL && lock_nvcc_debs (t, &lf->sets[have - lf->sets]))
        fprintf (stderr, "lock: %s: nvcc packages pinned from generator/data/cuda.yaml\n", id);
      return 0;
    }
  if (have && !o->refresh && !lock_source_matches (have, t))
    fprintf (stderr, "lock: %s: locked from %s%s%s before; matrix.yaml's source changed: locking again\n", id,
             have->source_kind, have->source_where ? " " : "", have->source_where ? have->source_where : "");
  else if (have && !o->refresh)
    fprintf (stderr, "lock: %s: %s: locking again\n", id, stale);
  struct lockset s;
  struct error err = ERROR_INIT;
  if (devel == SET_NOTEBOOK ? resolve_notebook (lf, t, o, &s, &err) < 0 : lock_resolve (t, devel, &s, &err) < 0)
    {
      cleanup_free char *setting = source_setting (t);
      err_prefix (&err, "%s: cannot lock %s: ", t->name, id);
      strbuf_addf (&err.msg, "; %s", setting);
      int code = cmd_error (&err);
      if (o->failed_code == 0)
        o->failed_code = code;
      err_release (&err);
      return -1;
    }
  err_release (&err);
  if (devel == SET_DEVEL)
    lock_nvcc_debs (t, &s);
  if (have)
    {
      /* --refresh: replace the old set in place. */
      size_t i = (size_t) (have - lf->sets);
      lockset_release (&lf->sets[i]);
      lf->sets[i] = s;
    }
  else
    {
      ARRAY_GROW (lf->sets, lf->n + 1, lf->alloc);
      lf->sets[lf->n++] = s;
    }
  fprintf (stderr, "lock: %s: %zu wheels pinned\n", id, s.n);
  return 0;
}

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
fetch_set (const struct lockfile *lf, const struct ptag *t, int devel, struct lock_opts *o)
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

static int
run (struct lock_opts *o)
{
  struct project p;
  int rc = project_open (&p, o->matrix);
  struct lockfile lf = { 0 };
  struct error lerr = ERROR_INIT;
  int *sel = NULL;
  if (rc != EXIT_OK)
    goto out;
  sel = xcalloc (p.plan.ntags + 1, sizeof *sel);
  if (select_tags (&p.plan, o->patterns, o->npatterns, sel) < 0)
    {
      rc = EXIT_USAGE;
      goto out;
    }
  if (lockfile_read (o->lock, &lf, &lerr) < 0)
    {
      rc = cmd_error (&lerr);
      goto out;
    }
  size_t done = 0, failed = 0, unavailable = 0, no_nvcc = 0;
  for (size_t i = 0; i < p.plan.ntags; i++)
    {
      const struct ptag *t = &p.plan.tags[i];
      if (!sel[i])
        continue;
      if (t->source_kind == SOURCE_UNAVAILABLE)
        {
          cleanup_free char *hint = plan_source_hint (t);
          fprintf (stderr, "%s: skipped: %s\n", t->name, hint);
          unavailable++;
          continue;
        }
      /* The torch set first: a notebook set is resolved with it. */
      int second = t->flavor == FLAVOR_DEVEL ? SET_DEVEL : t->flavor == FLAVOR_NOTEBOOK ? SET_NOTEBOOK : 0;
      int r = o->fetch ? fetch_set (&lf, t, SET_TORCH, o) : ensure_set (&lf, t, SET_TORCH, o);
      if (r == 0 && second)
        r = o->fetch ? fetch_set (&lf, t, second, o) : ensure_set (&lf, t, second, o);
      if (r == NVCC_UNREACHABLE)
        no_nvcc++;
      else
        r < 0 ? failed++ : done++;
      /* Write after every tag: a long lock interrupted keeps what it resolved. */
      if (!o->fetch && lockfile_write (o->lock, &lf, &lerr) < 0)
        {
          rc = cmd_error (&lerr);
          goto out;
        }
    }
  printf ("%s: %zu tag%s %s, %zu failed, %zu skipped (no source)", o->fetch ? "fetch" : "lock", done,
          done == 1 ? "" : "s", o->fetch ? "present and verified" : "locked", failed, unavailable);
  if (no_nvcc)
    printf (", %zu unavailable (nvcc's source unreachable)", no_nvcc);
  printf ("\n");
  /* The first failure's kind decides: a pin that disagrees with the knowledge base is invalid
     input (1), a download that failed the environment (3). */
  rc = failed ? (o->failed_code ? o->failed_code : EXIT_ENV) : EXIT_OK;
out:
  free (sel);
  free (o->verified);
  err_release (&lerr);
  lockfile_release (&lf);
  project_close (&p);
  return rc;
}

int
cmd_lock (int argc, char **argv)
{
  struct lock_opts o = { .matrix = DEFAULT_MATRIX, .lock = DEFAULT_LOCK };
  int r = parse (argc, argv, &o);
  return r ? (r > 0 ? EXIT_OK : EXIT_USAGE) : run (&o);
}

int
cmd_fetch (int argc, char **argv)
{
  struct lock_opts o = { .fetch = 1, .matrix = DEFAULT_MATRIX, .lock = DEFAULT_LOCK };
  int r = parse (argc, argv, &o);
  return r ? (r > 0 ? EXIT_OK : EXIT_USAGE) : run (&o);
}
