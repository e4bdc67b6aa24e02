/* plan.c: expand matrix.yaml against the knowledge base (see plan.h). */
#include "plan.h"
#include "strbuf.h"
#include "util.h"

#include <fnmatch.h>
#include <string.h>

struct expander
{
  const struct matrix *m;
  const struct kb *kb;
  struct plan *p;
  struct diags *d;
  const struct kb_base *base;
  const struct kb_torch **torch; /* resolved m->torch, NULL where unknown */
  const struct kb_cuda **cuda;   /* resolved m->cuda, NULL where unknown */
};

static void
list_known_torch (const struct kb *kb, const char *asked, struct strbuf *sb)
{
  /* Prefer the releases of the same major.minor; else all of them. */
  for (int pass = 0; pass < 2 && sb->len == 0; pass++)
    for (size_t i = 0; i < kb->ntorch; i++)
      {
        const char *v = kb->torch[i].version;
        size_t mm = strrchr (v, '.') - v;
        if (pass == 0 && !(strncmp (v, asked, mm) == 0 && (asked[mm] == '.' || asked[mm] == '\0')))
          continue;
        strbuf_addf (sb, "%s%s", sb->len ? ", " : "", v);
      }
}

static void
resolve_versions (struct expander *x)
{
  const struct matrix *m = x->m;
  x->torch = xcalloc (m->ntorch + 1, sizeof *x->torch);
  x->cuda = xcalloc (m->ncuda + 1, sizeof *x->cuda);
  for (size_t i = 0; i < m->ntorch; i++)
    {
      x->torch[i] = kb_torch_find (x->kb, m->torch[i].s);
      if (x->torch[i] == NULL)
        {
          struct strbuf sb = STRBUF_INIT;
          if (!diags_full (x->d)) /* 99,000 unknown versions: only 200 messages are kept */
            list_known_torch (x->kb, m->torch[i].s, &sb);
          diag_add (x->d, m->file, m->torch[i].mark, "unknown torch version '%s' (known: %s)",
                    m->torch[i].s, sb.buf);
          strbuf_release (&sb);
        }
    }
  for (size_t i = 0; i < m->ncuda; i++)
    {
      x->cuda[i] = kb_cuda_find (x->kb, m->cuda[i].s);
      if (x->cuda[i] == NULL)
        {
          struct strbuf sb = STRBUF_INIT;
          for (size_t j = 0; j < x->kb->ncuda && !diags_full (x->d); j++)
            strbuf_addf (&sb, "%s%s", j ? ", " : "", x->kb->cuda[j].version);
          diag_add (x->d, m->file, m->cuda[i].mark, "unknown CUDA version '%s' (known: %s)",
                    m->cuda[i].s, sb.buf);
          strbuf_release (&sb);
        }
    }
}

static void
check_base_and_python (struct expander *x)
{
  const struct matrix *m = x->m;
  x->base = kb_base_find (x->kb, m->base.s);
  if (x->base == NULL)
    {
      struct strbuf sb = STRBUF_INIT;
      for (size_t i = 0; i < x->kb->nbases; i++)
        strbuf_addf (&sb, "%s%s", i ? ", " : "", x->kb->bases[i].name);
      diag_add (x->d, m->file, m->base.mark, "unknown base '%s' (known: %s)", m->base.s, sb.buf);
      strbuf_release (&sb);
      return;
    }
  if (strcmp (x->base->python, m->python.s) != 0)
    diag_add (x->d, m->file, m->python.mark,
              "python %s is not the python3 of base %s, which is %s: images use the base's python3",
              m->python.s, x->base->name, x->base->python);
  for (size_t i = 0; i < m->ntorch; i++)
    {
      const struct kb_torch *t = x->torch[i];
      if (t && (version_cmp (m->python.s, t->python_min) < 0 || version_cmp (m->python.s, t->python_max) > 0))
        diag_add (x->d, m->file, m->torch[i].mark,
                  "torch %s has no wheel for Python %s (it supports %s to %s)", t->version,
                  m->python.s, t->python_min, t->python_max);
    }
}

/* A flavor of matrix.yaml (matrix.c checked it). */
static enum flavor
flavor_of (const struct mvalue *v)
{
  int f = flavor_parse (v->s);
  return f < 0 ? FLAVOR_RUNTIME : (enum flavor) f;
}

/* A rule's torch value matches the user's spelling or the resolved version. */
static int
torch_matches (const struct mvalue *rule, const struct mvalue *asked, const struct kb_torch *t)
{
  return rule->s == NULL || strcmp (rule->s, asked->s) == 0 || (t && kb_torch_matches (rule->s, t));
}

static int
excluded (const struct expander *x, size_t ti, size_t ci, enum flavor flavor, int *used)
{
  const struct matrix *m = x->m;
  for (size_t r = 0; r < m->nexclude; r++)
    {
      const struct mrule *e = &m->exclude[r];
      if (torch_matches (&e->torch, &m->torch[ti], x->torch[ti])
          && (e->cuda.s == NULL || strcmp (e->cuda.s, m->cuda[ci].s) == 0)
          && (e->flavor.s == NULL || flavor_parse (e->flavor.s) == (int) flavor))
        {
          used[r] = 1;
          return 1;
        }
    }
  return 0;
}

static char *
require_cuda (const struct kb_cuda *c)
{
  /* Admit every driver `pcgen compat` says runs this image: from the minor-version
     compatibility floor of its major up (newer drivers run older CUDA). */
  return xasprintf ("cuda>=%d.0,driver>=%s", c->major, c->compat_floor);
}

static const struct msource *
find_source (const struct matrix *m, const char *cuda)
{
  for (size_t i = 0; i < m->nsources; i++)
    if (strcmp (m->sources[i].cuda.s, cuda) == 0)
      return &m->sources[i];
  return NULL;
}

static void
add_tag (struct expander *x, const struct kb_torch *t, const struct kb_variant *v, enum flavor flavor)
{
  struct plan *p = x->p;
  char cudnn_major[16];
  snprintf (cudnn_major, sizeof cudnn_major, "%d", atoi (v->cudnn));
  cleanup_free char *name = xasprintf ("%s-cuda%s-cudnn%s-%s", t->version, v->cuda, cudnn_major, flavor_name (flavor));
  for (size_t i = 0; i < p->ntags; i++)
    if (strcmp (p->tags[i].name, name) == 0)
      return; /* an include rule repeating the product */
  /* The versions come from the knowledge base; a tag is still checked as a tag. */
  if (!is_docker_tag (name))
    {
      diag_add (x->d, x->m->file, (struct mark) { 0, 0, 0 }, "tag '%s' is not a valid tag: 1 to 128 letters, digits, '_', '.' and '-'",
                name);
      return;
    }
  ARRAY_GROW (p->tags, p->ntags + 1, p->alloc);
  struct ptag *g = &p->tags[p->ntags++];
  memset (g, 0, sizeof *g);
  g->name = name;
  name = NULL;
  g->ref = xasprintf ("%s:%s", x->m->repository.s, g->name);
  g->flavor = flavor;
  g->torch = t;
  g->variant = v;
  g->cuda = kb_cuda_find (x->kb, v->cuda);
  g->base = x->base;
  g->python = x->m->python.s;
  g->require_cuda = require_cuda (g->cuda);
  /* A configured source wins, also for the variant PyPI ships: a mirror or a wheelhouse is
     usually configured because PyPI is not to be used. */
  const struct msource *s = find_source (x->m, v->cuda);
  if (s && s->index.s)
    g->source_kind = SOURCE_INDEX, g->source_where = s->index.s;
  else if (s && s->wheelhouse.s)
    g->source_kind = SOURCE_WHEELHOUSE, g->source_where = s->wheelhouse.s;
  else if (strcmp (v->cuda, t->pypi_cuda) == 0)
    g->source_kind = SOURCE_PYPI;
  else
    g->source_kind = SOURCE_UNAVAILABLE;
  if (g->flavor == FLAVOR_NOTEBOOK && (x->base->jupyterlab == NULL || x->base->nnotebook == 0))
    diag_add (x->d, x->m->file, (struct mark) { 0, 0, 0 },
              "tag %s: base %s has no notebook flavor: generator/data/bases.yaml names no 'notebook' packages "
              "or 'jupyterlab' release for it", g->name, x->base->name);
  /* A devel image without nvcc is not a devel image: no source pcgen can build, no tag. */
  if (g->flavor == FLAVOR_DEVEL && g->cuda->nvcc == NULL && g->source_kind != SOURCE_UNAVAILABLE)
    g->source_kind = SOURCE_UNAVAILABLE, g->no_nvcc = 1;
}

/* A published variant with a known cuDNN, or an error at `at`. */
static const struct kb_variant *
need_variant (struct expander *x, const struct kb_torch *t, const char *asked, const char *cuda,
              struct mark at)
{
  const struct kb_variant *v = kb_variant_find (t, cuda);
  if (v == NULL)
    {
      char list[256];
      kb_torch_variant_list (t, list, sizeof list);
      if (t->variants_unknown)
        {
          /* `pcgen kb update` read PyPI's wheel only: not knowing is not "not published". */
          diag_add (x->d, x->m->file, at,
                    "torch %s with CUDA %s: unknown; the knowledge base marks the variants of torch %s other "
                    "than %s unknown",
                    asked, cuda, t->version, list);
          diag_hint (x->d, "add the CUDA %s variant to torch %s in generator/data/torch.yaml, with its source, or "
                     "exclude it", cuda, t->version);
          return NULL;
        }
      diag_add (x->d, x->m->file, at, "torch %s has no CUDA %s build (published: %s)", asked, cuda, list);
      diag_hint (x->d, "drop one of them, or add {torch: \"%s\", cuda: \"%s\"} to 'exclude'", asked, cuda);
      return NULL;
    }
  if (v->arch_list_unknown || v->cudnn_unknown)
    {
      diag_add (x->d, x->m->file, at, "torch %s with CUDA %s: the knowledge base marks its %s unknown", t->version,
                cuda, v->arch_list_unknown ? "arch_list" : "cudnn");
      diag_hint (x->d, "fill it in generator/data/torch.yaml from a cited source (see docs/knowledge-base.md, 'Keeping up with PyPI: pcgen kb update')");
      return NULL;
    }
  if (v->cudnn == NULL)
    {
      diag_add (x->d, x->m->file, at,
                "torch %s with CUDA %s: the knowledge base does not know its cuDNN version", t->version, cuda);
      diag_hint (x->d, "add 'cudnn' to that variant in generator/data/torch.yaml, with its source");
      return NULL;
    }
  return v;
}

static void
expand_product (struct expander *x)
{
  const struct matrix *m = x->m;
  int *used = xcalloc (m->nexclude + 1, sizeof *used);
  for (size_t ti = 0; ti < m->ntorch; ti++)
    for (size_t ci = 0; ci < m->ncuda; ci++)
      {
        if (!x->torch[ti] || !x->cuda[ci])
          continue;
        const struct kb_variant *v = NULL;
        int checked = 0;
        for (size_t fi = 0; fi < m->nflavors; fi++)
          {
            if (excluded (x, ti, ci, flavor_of (&m->flavors[fi]), used))
              continue;
            if (!checked++)
              v = need_variant (x, x->torch[ti], m->torch[ti].s, m->cuda[ci].s, m->torch[ti].mark);
            if (v)
              add_tag (x, x->torch[ti], v, flavor_of (&m->flavors[fi]));
          }
      }
  for (size_t r = 0; r < m->nexclude; r++)
    if (!used[r])
      diag_add (x->d, m->file, m->exclude[r].mark, "this exclude rule matches nothing in the matrix");
  free (used);
}

static void
expand_includes (struct expander *x)
{
  const struct matrix *m = x->m;
  for (size_t r = 0; r < m->ninclude; r++)
    {
      const struct mrule *in = &m->include[r];
      if (!in->torch.s || !in->cuda.s)
        continue;
      const struct kb_torch *t = kb_torch_find (x->kb, in->torch.s);
      if (t == NULL)
        {
          diag_add (x->d, m->file, in->torch.mark, "unknown torch version '%s'", in->torch.s);
          continue;
        }
      if (kb_cuda_find (x->kb, in->cuda.s) == NULL)
        {
          diag_add (x->d, m->file, in->cuda.mark, "unknown CUDA version '%s'", in->cuda.s);
          continue;
        }
      const struct kb_variant *v = need_variant (x, t, in->torch.s, in->cuda.s, in->cuda.mark);
      if (v == NULL)
        continue;
      if (in->flavor.s)
        add_tag (x, t, v, flavor_of (&in->flavor));
      else
        for (size_t fi = 0; fi < m->nflavors; fi++)
          add_tag (x, t, v, flavor_of (&m->flavors[fi]));
    }
}

/* Sort: torch version, CUDA version, runtime before devel before notebook. */
static int
tag_cmp (const void *a, const void *b)
{
  const struct ptag *x = a, *y = b;
  int c = version_cmp (x->torch->version, y->torch->version);
  if (c == 0)
    c = version_cmp (x->variant->cuda, y->variant->cuda);
  if (c == 0)
    c = (int) x->flavor - (int) y->flavor; /* enum flavor is in that order */
  return c;
}

/* devel and notebook images are built FROM their runtime image (NVIDIA's chain). */
static void
link_devel_to_runtime (struct expander *x)
{
  struct plan *p = x->p;
  for (size_t i = 0; i < p->ntags; i++)
    {
      struct ptag *g = &p->tags[i];
      if (g->flavor == FLAVOR_RUNTIME)
        continue;
      size_t len = strlen (g->name) - strlen (flavor_name (g->flavor));
      cleanup_free char *rt = xasprintf ("%.*sruntime", (int) len, g->name);
      g->runtime = plan_find (p, rt);
      if (g->runtime == NULL)
        diag_add (x->d, x->m->file, (struct mark) { 0, 0, 0 },
                  "tag %s builds on %s, which the matrix leaves out: keep the runtime flavor of every %s tag",
                  g->name, rt, flavor_name (g->flavor));
    }
}

static void
expand_alias (const struct malias *a, const struct ptag *g, struct strbuf *out)
{
  const char *p = a->name.s;
  while (*p)
    {
      if (*p != '{')
        {
          strbuf_addch (out, *p++);
          continue;
        }
      const char *e = strchr (p, '}');
      cleanup_free char *key = xstrndup (p + 1, (size_t) (e - p - 1));
      const struct kb_torch *t = g->torch;
      switch ((enum alias_placeholder) names_lookup (matrix_alias_placeholders, key))
        {
        case PLACEHOLDER_MAJOR:
          strbuf_addf (out, "%d", t->major);
          break;
        case PLACEHOLDER_MINOR:
          strbuf_addf (out, "%d", t->minor);
          break;
        case PLACEHOLDER_PATCH:
          strbuf_addf (out, "%d", t->patch);
          break;
        case PLACEHOLDER_TORCH:
          strbuf_addstr (out, t->version);
          break;
        case PLACEHOLDER_CUDA:
          strbuf_addstr (out, g->variant->cuda);
          break;
        case PLACEHOLDER_CUDNN:
          strbuf_addf (out, "%d", atoi (g->variant->cudnn));
          break;
        default: /* PLACEHOLDER_FLAVOR (matrix.c refused every other word) */
          strbuf_addstr (out, flavor_name (g->flavor));
          break;
        }
      p = e + 1;
    }
}

static int
alias_matches (const struct malias *a, const struct ptag *g)
{
  if (a->flavor.s && flavor_parse (a->flavor.s) != (int) g->flavor)
    return 0;
  if (a->torch.s && !kb_torch_matches (a->torch.s, g->torch))
    return 0;
  const char *cuda = a->cuda_pypi ? g->torch->pypi_cuda : a->cuda.s;
  return strcmp (cuda, g->variant->cuda) == 0;
}

static void
assign_aliases (struct expander *x)
{
  const struct matrix *m = x->m;
  struct plan *p = x->p;
  /* Every name given so far (tag names and aliases) to the index of its tag: a set, so that
     50,000 alias rules stay linear. Names are owned by the tags, which outlive the set. */
  struct strset names = STRSET_INIT;
  for (size_t i = 0; i < p->ntags; i++)
    strset_add (&names, p->tags[i].name, strlen (p->tags[i].name), i);
  for (size_t r = 0; r < m->naliases; r++)
    {
      const struct malias *a = &m->aliases[r];
      if (!a->name.s || !a->cuda.s)
        continue;
      int matched = 0;
      for (size_t i = 0; i < p->ntags; i++)
        {
          struct ptag *g = &p->tags[i];
          if (!alias_matches (a, g))
            continue;
          matched = 1;
          struct strbuf sb = STRBUF_INIT;
          expand_alias (a, g, &sb);
          /* The tag grammar once more, on what the placeholders made of the name. */
          if (!is_docker_tag (sb.buf))
            {
              diag_add (x->d, m->file, a->name.mark,
                        "alias '%s' makes the tag '%s' for %s, which is not a valid tag: 1 to 128 letters, "
                        "digits, '_', '.' and '-', not starting with '.' or '-'",
                        a->name.s, sb.buf, g->name);
              strbuf_release (&sb);
              continue;
            }
          size_t other = strset_add (&names, sb.buf, sb.len, i);
          if (other != (size_t) -1)
            {
              diag_add (x->d, m->file, a->name.mark, "alias '%s' would name both %s and %s", sb.buf,
                        p->tags[other].name, g->name);
              diag_hint (x->d, "narrow the rule with 'flavor' or 'torch', or add a placeholder such as {patch}");
              strbuf_release (&sb);
              continue;
            }
          ARRAY_GROW (g->aliases, g->naliases + 1, g->aliases_alloc);
          g->aliases[g->naliases++] = strbuf_detach (&sb, NULL);
        }
      if (!matched)
        diag_add (x->d, m->file, a->mark, "this alias rule matches no tag of the plan");
    }
  strset_release (&names);
}

int
plan_build (const struct matrix *m, const struct kb *kb, struct plan *p, struct diags *d)
{
  memset (p, 0, sizeof *p);
  p->m = m;
  p->kb = kb;
  struct expander x = { m, kb, p, d, NULL, NULL, NULL };
  size_t before = d->n;
  resolve_versions (&x);
  check_base_and_python (&x);
  if (d->n == before)
    {
      expand_product (&x);
      expand_includes (&x);
    }
  if (p->ntags)
    qsort (p->tags, p->ntags, sizeof *p->tags, tag_cmp);
  link_devel_to_runtime (&x);
  assign_aliases (&x);
  if (d->n == before && p->ntags == 0)
    diag_add (d, m->file, (struct mark) { 1, 1, 0 }, "the matrix leaves no tag to build");
  free (x.torch);
  free (x.cuda);
  if (d->n > before || d->dropped)
    return -1;
  for (size_t i = 0; i < p->ntags; i++)
    plan_layers_fill (&p->tags[i]);
  return 0;
}

void
plan_release (struct plan *p)
{
  for (size_t i = 0; i < p->ntags; i++)
    {
      struct ptag *g = &p->tags[i];
      free (g->name);
      free (g->ref);
      free (g->require_cuda);
      for (size_t j = 0; j < g->naliases; j++)
        free (g->aliases[j]);
      free (g->aliases);
      plan_layers_release (g);
    }
  free (p->tags);
  memset (p, 0, sizeof *p);
}

const struct ptag *
plan_find (const struct plan *p, const char *name)
{
  for (size_t i = 0; i < p->ntags; i++)
    if (strcmp (p->tags[i].name, name) == 0)
      return &p->tags[i];
  return NULL;
}

char *
plan_torch_id (const struct ptag *t)
{
  return xasprintf ("torch-%s-cu%d%d-py%s", t->torch->version, t->cuda->major, t->cuda->minor, t->python);
}

char *
plan_source_hint (const struct ptag *t)
{
  if (t->no_nvcc)
    {
      /* Every kind of source makes a layer (kb.c takes the first listed): none is listed. */
      return xasprintf ("no nvcc for CUDA %s: generator/data/cuda.yaml names no nvcc source for it (a Debian "
                        "package, a PyPI wheel or NVIDIA's redist; docs/nvcc.md)", t->cuda->version);
    }
  return xasprintf ("torch %s for CUDA %s is not on PyPI (PyPI ships CUDA %s): add to matrix.yaml "
                    "sources: {\"%s\": {index: \"https://download.pytorch.org/whl/cu%d%d\"}} or a "
                    "mirror of it, or {wheelhouse: DIR}",
                    t->torch->version, t->variant->cuda, t->torch->pypi_cuda, t->variant->cuda,
                    t->cuda->major, t->cuda->minor);
}

const char *
plan_cuda_full (const struct ptag *t)
{
  /* CUDA 13 wheels come through the cuda-toolkit meta-package; 11 and 12 name the runtime. */
  const char *name = t->cuda->major >= 13   ? "cuda-toolkit"
                     : t->cuda->major == 12 ? "nvidia-cuda-runtime-cu12"
                                            : "nvidia-cuda-runtime-cu11";
  return kb_pin_find (t->variant->pins, t->variant->npins, name);
}

const char *
plan_cublas (const struct ptag *t)
{
  for (size_t i = 0; i < t->variant->npins; i++)
    if (starts_with (t->variant->pins[i].name, "nvidia-cublas"))
      return t->variant->pins[i].version;
  /* CUDA 13's torch pins cuda-toolkit[cublas,...]==X: its cublas extra names the wheel. */
  const char *toolkit = kb_pin_find (t->variant->pins, t->variant->npins, "cuda-toolkit");
  if (toolkit == NULL)
    return NULL;
  return kb_pin_find (t->cuda->toolkit_cublas, t->cuda->ntoolkit_cublas, toolkit);
}

char *
plan_nvcc_note (const struct ptag *t)
{
  /* Such a devel tag is unavailable (plan_build): the note is the reason, for whoever asks. */
  if (t->flavor != FLAVOR_DEVEL || t->cuda->nvcc)
    return NULL;
  return plan_source_hint (t);
}

static int
tag_matches (const struct ptag *t, const char *pattern)
{
  if (fnmatch (pattern, t->name, 0) == 0)
    return 1;
  for (size_t i = 0; i < t->naliases; i++)
    if (fnmatch (pattern, t->aliases[i], 0) == 0)
      return 1;
  return 0;
}

int
plan_select (const struct plan *p, char *const *patterns, size_t npatterns, int *sel, struct error *err)
{
  for (size_t i = 0; i < p->ntags; i++)
    sel[i] = npatterns == 0;
  for (size_t k = 0; k < npatterns; k++)
    {
      int any = 0;
      for (size_t i = 0; i < p->ntags; i++)
        if (tag_matches (&p->tags[i], patterns[k]))
          sel[i] = any = 1;
      if (!any)
        return err_set (err, ERR_USAGE, "no tag of the plan matches '%s' (see 'pcgen plan')", patterns[k]);
    }
  return 0;
}
