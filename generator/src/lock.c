/* lock.c: which sets a tag needs and resolving them (see lock.h; the file itself: lockfile.c;
   downloading a locked set's files: fetch.c). */
#include "lock.h"
#include "fetch.h"
#include "wheel.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

char *
lock_devel_set_id (const struct ptag *t)
{
  if (t->flavor != FLAVOR_DEVEL)
    return NULL;
  return xasprintf ("cuda-devel-%s-py%s", t->cuda->version, t->python);
}

static char *
lock_notebook_set_id (const struct ptag *t)
{
  return xasprintf ("notebook-jupyterlab%s-torch-%s-cu%d%d-py%s", t->base->jupyterlab ? t->base->jupyterlab : "",
                    t->torch->version, t->cuda->major, t->cuda->minor, t->python);
}

char *
lock_set_id (const struct ptag *t, int kind)
{
  return kind == SET_NOTEBOOK ? lock_notebook_set_id (t) : kind == SET_DEVEL ? lock_devel_set_id (t)
                                                                              : plan_torch_id (t);
}

int
lock_source_matches (const struct lockset *s, const struct ptag *t)
{
  const char *where = t->source_where;
  return s->source_kind == t->source_kind
         && (s->source_where == NULL ? where == NULL : where != NULL && strcmp (s->source_where, where) == 0);
}

const struct lockset *
lock_find_current (const struct lockfile *lf, const struct ptag *t, int devel, const char *lock, struct strbuf *err)
{
  cleanup_free char *id = lock_set_id (t, devel);
  const struct lockset *s = lockfile_find (lf, id);
  if (s == NULL)
    strbuf_addf (err, "%s is not in %s: run 'pcgen lock'", id, lock);
  else if (!lock_source_matches (s, t))
    {
      const char *where = t->source_where;
      strbuf_addf (err, "%s was locked from %s%s%s, but matrix.yaml now says %s%s%s: run 'pcgen lock'", id,
                   source_kind_name (s->source_kind), s->source_where ? " " : "", s->source_where ? s->source_where : "",
                   source_kind_name (t->source_kind), where ? " " : "", where ? where : "");
      s = NULL;
    }
  return s;
}

/* ---- resolution ----------------------------------------------------------------------- */

/* pip's resolver decides what a set holds (pip install --dry-run --report, pip.h); pcgen then
   downloads exactly the files of its report, by sha256, and records them. */

static enum role
role_of (const char *name, int kind)
{
  if (kind == SET_NOTEBOOK)
    return ROLE_NOTEBOOK;
  if (kind == SET_DEVEL)
    return ROLE_DEVEL;
  if (starts_with (name, "nvidia-cudnn"))
    return ROLE_CUDNN;
  if (starts_with (name, "nvidia-") || starts_with (name, "cuda-"))
    return ROLE_CUDA;
  return ROLE_TORCH;
}

static const struct pip_wheel *
find_wheel (const struct pip_wheel *w, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (w[i].name, name) == 0)
      return &w[i];
  return NULL;
}

/* Cross-check the torch wheel against the knowledge base: every nvidia-* pin it states for this
   platform (those pip resolved) must be the knowledge base's, and, where the knowledge base
   lists pins for the variant, each of them must be one the wheel states. */
static int
check_pins (const struct ptag *t, const struct pip_wheel *torch, const struct pip_wheel *w, size_t nw,
            struct strbuf *err)
{
  struct strbuf meta = STRBUF_INIT;
  for (const char *p = torch->requires_dist; p && *p;)
    {
      size_t len = strcspn (p, "\n");
      strbuf_addstr (&meta, "Requires-Dist: ");
      strbuf_add (&meta, p, len);
      strbuf_addch (&meta, '\n');
      p += len + (p[len] == '\n');
    }
  struct requirement *r = NULL;
  size_t n = 0;
  metadata_requirements (meta.buf, &r, &n);
  strbuf_release (&meta);
  const struct kb_variant *v = t->variant;
  int bad = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (!starts_with (r[i].name, "nvidia-") || find_wheel (w, nw, r[i].name) == NULL)
        continue;
      const char *kb = kb_pin_find (v->pins, v->npins, r[i].name);
      const char *have = r[i].version ? r[i].version : (r[i].spec ? r[i].spec : "(any)");
      if (kb && strcmp (kb, have) != 0)
        strbuf_addf (err, "%storch %s's wheel pins %s==%s but generator/data/torch.yaml says %s for CUDA %s",
                     bad++ ? "; " : "", torch->version, r[i].name, have, kb, t->cuda->version);
      else if (kb == NULL && v->npins)
        strbuf_addf (err, "%storch %s's wheel pins %s==%s, which generator/data/torch.yaml does not list for CUDA %s",
                     bad++ ? "; " : "", torch->version, r[i].name, have, t->cuda->version);
    }
  for (size_t k = 0; k < v->npins; k++)
    {
      if (!starts_with (v->pins[k].name, "nvidia-"))
        continue;
      int stated = 0;
      for (size_t i = 0; i < n && !stated; i++)
        stated = strcmp (r[i].name, v->pins[k].name) == 0;
      if (!stated)
        strbuf_addf (err, "%sgenerator/data/torch.yaml pins %s==%s for torch %s + CUDA %s, but the wheel (%s) does not require it",
                     bad++ ? "; " : "", v->pins[k].name, v->pins[k].version, t->torch->version, t->cuda->version,
                     torch->version);
    }
  requirements_free (r, n);
  return bad ? -1 : 0;
}

/* torch==2.4.1 from PyTorch's index is 2.4.1+cu118 (PEP 440: a local label matches a plain
   ==): the label, where there is one, must be the tag's CUDA. */
static int
check_torch (const struct ptag *t, const struct pip_wheel *torch, struct strbuf *err)
{
  const char *plus = strchr (torch->version, '+');
  cleanup_free char *want = xasprintf ("cu%d%d", t->cuda->major, t->cuda->minor);
  if (plus && strcmp (plus + 1, want) != 0)
    return strbuf_addf (err, "pip resolved torch %s (%s), a build for %s, not CUDA %s (+%s)", torch->version,
                        torch->file, plus + 1, t->cuda->version, want), -1;
  return 0;
}

/* Resolve specs with pip from the set's source. What an index or a wheelhouse lacks comes from
   pip's own index too (said on stderr); torch itself must still be the source's: its URL is
   taken from the source alone first and must be the one the combined resolution picks. */
static int
resolve_specs (const char *id, const char *const *specs, size_t nspecs, struct pip_source *src, const char *python,
               int devel, struct pip_wheel **w, size_t *nw, struct strbuf *err)
{
  cleanup_free char *missing = NULL;
  struct strbuf perr = STRBUF_INIT;
  int rc = pip_resolve (specs, nspecs, src, python, 0, w, nw, &missing, &perr);
  cleanup_free char *lacking = missing ? pip_requirement_name (missing) : NULL;
  if (rc != PIP_NOT_FOUND || src->kind == SOURCE_PYPI || lacking == NULL || strcmp (lacking, "torch") == 0)
    {
      strbuf_addstr (err, perr.buf);
      strbuf_release (&perr);
      return rc < 0 ? -1 : 0;
    }
  strbuf_release (&perr);
  fprintf (stderr, "lock: %s: %s is not at %s: resolving with pip's index too\n", id, missing, src->where);
  cleanup_free char *torch_url = NULL, *torch_sha = NULL;
  if (!devel)
    {
      struct pip_wheel *tw;
      size_t ntw;
      if (pip_resolve (specs, 1, src, python, 1, &tw, &ntw, NULL, err) < 0)
        return -1;
      const struct pip_wheel *torch = find_wheel (tw, ntw, "torch");
      torch_url = torch ? xstrdup (torch->url) : NULL;
      torch_sha = torch && torch->sha256 ? xstrdup (torch->sha256) : NULL;
      pip_wheels_free (tw, ntw);
      if (torch_url == NULL)
        return strbuf_addf (err, "pip's report of %s names no torch wheel", specs[0]), -1;
    }
  src->fallback = 1;
  if (pip_resolve (specs, nspecs, src, python, 0, w, nw, NULL, err) < 0)
    return -1;
  /* The same file: the same digest (the same bytes wherever pip would download them; fetch takes
     torch from the source), or the same URL where the index lists no digest. */
  const struct pip_wheel *torch = devel ? NULL : find_wheel (*w, *nw, "torch");
  int same = torch && (torch_sha && torch->sha256 ? strcmp (torch->sha256, torch_sha) == 0
                                                  : strcmp (torch->url, torch_url) == 0);
  if (!devel && !same)
    return strbuf_addf (err, "with pip's index too, pip would take torch from %s, not %s from %s: refused",
                        torch ? torch->url : "nowhere", torch_url, src->where), -1;
  return 0;
}

/* Every wheel of the report into the set, with its role; the cache gets those it lacks
   (fetch_wheels: from the source, what it lacks from pip's index, each only with the digest of
   pip's report, or under its own where the index lists none). */
static int
download_wheels (struct lockset *s, const struct pip_wheel *w, size_t nw, const struct pip_source *src,
                 const char *python, int kind, struct strbuf *err)
{
  size_t first = s->n;
  for (size_t i = 0; i < nw; i++)
    {
      ARRAY_GROW (s->w, s->n + 1, s->alloc);
      s->w[s->n++] = (struct locked_wheel) { xstrdup (w[i].name), xstrdup (w[i].version), xstrdup (w[i].file),
                                             xstrdup (w[i].sha256 ? w[i].sha256 : ""), 0, role_of (w[i].name, kind),
                                             NULL };
    }
  cleanup_free char *who = xasprintf ("lock: %s", s->id);
  return fetch_wheels (s->w + first, nw, src, python, PINS_REPORTED, who, err);
}

int
lock_resolve (const struct ptag *t, int devel, struct lockset *out, struct error *err)
{
  /* Everything here fails for the environment (pip, the network, the disk), except a torch
     wheel whose nvidia-* pins disagree with the knowledge base: invalid input. */
  enum err_kind kind = ERR_ENV;
  struct strbuf msg = STRBUF_INIT;
  memset (out, 0, sizeof *out);
  out->id = lock_set_id (t, devel);
  /* Both sets come from the tag's source first: a CUDA version's source is its whole set of
     wheels (PyTorch's index serves torch's dependencies too, a mirror, an air-gapped host); what
     it lacks comes from pip's own index as well. */
  struct pip_source src = { t->source_kind, t->source_where, 0 };
  out->source_kind = t->source_kind;
  out->source_where = t->source_where ? xstrdup (t->source_where) : NULL;
  char **specs = NULL;
  size_t n = 0, alloc = 0;
  if (devel)
    for (size_t i = 0; i < t->cuda->ndevel; i++)
      {
        ARRAY_GROW (specs, n + 1, alloc);
        specs[n++] = xasprintf ("%s==%s", t->cuda->devel[i].name, t->cuda->devel[i].version);
      }
  else
    {
      /* torch (PEP 440: ==2.4.1 selects 2.4.1+cu118 too) and the NumPy every image ships, in one
         resolution: pip picks the NumPy torch's other requirements allow. */
      ARRAY_GROW (specs, n + 2, alloc);
      specs[n++] = xasprintf ("torch==%s", t->torch->version);
      specs[n++] = t->torch->numpy ? xasprintf ("numpy==%s", t->torch->numpy) : xstrdup ("numpy");
    }
  struct pip_wheel *w = NULL;
  size_t nw = 0;
  fprintf (stderr, "lock: %s: resolving %s%s with pip from %s\n", out->id, n ? specs[0] : "nothing",
           n > 1 ? " ..." : "", src.where ? src.where : "pip's index");
  int rc = n ? resolve_specs (out->id, (const char *const *) specs, n, &src, t->python, devel, &w, &nw, &msg) : 0;
  const struct pip_wheel *torch = devel ? NULL : find_wheel (w, nw, "torch");
  if (rc == 0 && !devel && torch == NULL)
    rc = -1, strbuf_addstr (&msg, "pip's report names no torch wheel");
  if (rc == 0 && torch)
    rc = check_torch (t, torch, &msg);
  if (rc == 0 && torch && (rc = check_pins (t, torch, w, nw, &msg)) < 0)
    kind = ERR_INVALID;
  if (rc == 0)
    rc = download_wheels (out, w, nw, &src, t->python, devel, &msg);
  pip_wheels_free (w, nw);
  for (size_t i = 0; i < n; i++)
    free (specs[i]);
  free (specs);
  if (rc < 0)
    {
      lockset_release (out);
      err_take (err, kind, &msg);
    }
  strbuf_release (&msg);
  return rc;
}

int
lock_resolve_notebook (const struct ptag *t, const struct lockset *torchset, struct lockset *out, struct strbuf *err)
{
  memset (out, 0, sizeof *out);
  if (t->base->jupyterlab == NULL)
    return strbuf_addf (err, "generator/data/bases.yaml names no jupyterlab release for %s", t->base->name), -1;
  out->id = lock_set_id (t, SET_NOTEBOOK);
  struct pip_source src = { t->source_kind, t->source_where, 0 };
  out->source_kind = t->source_kind;
  out->source_where = t->source_where ? xstrdup (t->source_where) : NULL;
  /* torch first (resolve_specs takes specs[0] as the torch requirement), then the rest of the
     torch set exactly as locked, then JupyterLab: pip must fit JupyterLab around them. */
  char **specs = xcalloc (torchset->n + 2, sizeof *specs);
  size_t n = 0;
  for (size_t i = 0; i < torchset->n; i++)
    if (strcmp (torchset->w[i].name, "torch") == 0)
      specs[n++] = xasprintf ("torch==%s", torchset->w[i].version);
  if (n == 0)
    strbuf_addf (err, "%s holds no torch wheel", torchset->id);
  for (size_t i = 0; i < torchset->n && n; i++)
    if (strcmp (torchset->w[i].name, "torch") != 0)
      specs[n++] = xasprintf ("%s==%s", torchset->w[i].name, torchset->w[i].version);
  if (n)
    specs[n++] = xasprintf ("jupyterlab==%s", t->base->jupyterlab);
  struct pip_wheel *w = NULL, *mine = NULL;
  size_t nw = 0, nmine = 0;
  fprintf (stderr, "lock: %s: resolving jupyterlab==%s with the %zu wheels of %s\n", out->id, t->base->jupyterlab,
           torchset->n, torchset->id);
  int rc = n ? resolve_specs (out->id, (const char *const *) specs, n, &src, t->python, 0, &w, &nw, err) : -1;
  if (rc == 0)
    {
      /* What the torch layer does not hold already (shallow copies: w owns the strings). */
      mine = xcalloc (nw + 1, sizeof *mine);
      for (size_t i = 0; i < nw; i++)
        {
          int in_torch = 0;
          for (size_t k = 0; k < torchset->n && !in_torch; k++)
            in_torch = strcmp (torchset->w[k].name, w[i].name) == 0;
          if (!in_torch)
            mine[nmine++] = w[i];
        }
      rc = download_wheels (out, mine, nmine, &src, t->python, SET_NOTEBOOK, err);
    }
  free (mine);
  pip_wheels_free (w, nw);
  for (size_t i = 0; i < n; i++)
    free (specs[i]);
  free (specs);
  if (rc < 0)
    lockset_release (out);
  return rc;
}

/* Whether the set pins f exactly (same name, version, digest and path) with role nvcc. */
static int
pinned (const struct locked_wheel *w, const struct kb_deb *f)
{
  return w->role == ROLE_NVCC && strcmp (w->name, f->name) == 0 && strcmp (w->version, f->version) == 0
         && strcmp (w->sha256, f->sha256) == 0 && w->path && strcmp (w->path, f->path) == 0;
}

/* The files t's nvcc layer is made of: its source's, then its host compiler's. */
static const struct kb_deb *
nvcc_file (const struct kb_cuda *c, size_t k)
{
  size_t n = c->nvcc ? c->nvcc->nfiles : 0;
  if (k < n)
    return &c->nvcc->files[k];
  k -= n;
  return c->host_compiler && c->nvcc && k < c->host_compiler->nfiles ? &c->host_compiler->files[k] : NULL;
}

int
lock_nvcc_debs (const struct ptag *t, struct lockset *s)
{
  const struct kb_cuda *c = t->cuda;
  int changed = 0;
  /* Drop nvcc entries the knowledge base no longer names (exactly: same name, version, digest). */
  for (size_t i = 0; i < s->n;)
    {
      int keep = s->w[i].role != ROLE_NVCC;
      for (size_t k = 0; !keep && nvcc_file (c, k); k++)
        keep = pinned (&s->w[i], nvcc_file (c, k));
      if (keep)
        {
          i++;
          continue;
        }
      locked_wheel_release (&s->w[i]);
      memmove (&s->w[i], &s->w[i + 1], (s->n - i - 1) * sizeof *s->w);
      s->n--;
      changed = 1;
    }
  for (size_t k = 0; nvcc_file (c, k); k++)
    {
      const struct kb_deb *d = nvcc_file (c, k);
      int have = 0;
      for (size_t i = 0; i < s->n && !have; i++)
        have = pinned (&s->w[i], d);
      if (have)
        continue;
      const char *slash = strrchr (d->path, '/');
      ARRAY_GROW (s->w, s->n + 1, s->alloc);
      s->w[s->n++] = (struct locked_wheel) { xstrdup (d->name), xstrdup (d->version), xstrdup (slash ? slash + 1 : d->path),
                                             xstrdup (d->sha256), d->size, ROLE_NVCC, xstrdup (d->path) };
      changed = 1;
    }
  return changed;
}
