/* cmd_lock.c: `pcgen lock`: pin every input in matrix.lock (lock.h; `pcgen fetch`, which
   downloads what it pins: cmd_fetch.c). */
#include "cmd.h"
#include "cmd_sets.h"
#include "exitcode.h"
#include "lock.h"
#include "project.h"
#include "util.h"

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
             source_kind_name (have->source_kind), have->source_where ? " " : "", have->source_where ? have->source_where : "");
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

int
cmd_lock (int argc, char **argv)
{
  struct lock_opts o = { .usage = lock_usage, .each = ensure_set, .matrix = DEFAULT_MATRIX, .lock = DEFAULT_LOCK };
  int r = sets_parse (argc, argv, &o);
  return r ? (r > 0 ? EXIT_OK : EXIT_USAGE) : sets_run (&o);
}
