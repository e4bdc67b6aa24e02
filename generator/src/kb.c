/* kb.c: load and cross-check the knowledge base (see kb.h and generator/data/). */
#include "kb.h"
#include "schema.h"
#include "strbuf.h"
#include "util.h"
#include "ytree.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define KB_FILE_CAP (4u << 20)

/* One file being loaded: its name, tree and `sources` mapping. */
struct kfile
{
  char *path;
  struct strbuf text;
  struct ynode *root;
  const struct ynode *sources;
};

int
kb_parse_cc (const char *s)
{
  if (starts_with (s, "sm_"))
    s += 3;
  else if (starts_with (s, "compute_"))
    s += 8;
  int major = 0, minor = 0, n = 0;
  if (strchr (s, '.'))
    {
      if (sscanf (s, "%2d.%1d%n", &major, &minor, &n) != 2 || s[n] != '\0')
        return -1;
    }
  else
    {
      /* "86" -> 8.6, "120" -> 12.0: the last digit is the minor. */
      size_t len = strlen (s);
      if (len < 2 || len > 3 || strspn (s, "0123456789") != len)
        return -1;
      major = atoi (s) / 10;
      minor = atoi (s) % 10;
    }
  if (major < 1 || major > 99)
    return -1;
  return major * 10 + minor;
}

static char *
dup_or_null (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

/* Check that `key` of entry names a known source; returns its text (owned by the tree). */
static const char *
need_source (struct kfile *f, const struct ynode *entry, const char *key, const char *what,
             struct diags *d)
{
  const struct ynode *s = ymap_get (entry, key);
  if (s == NULL || s->kind != Y_SCALAR)
    return NULL;
  if (ymap_get (f->sources, s->str) == NULL)
    {
      diag_add (d, f->path, s->mark, "%s cites source '%s', which 'sources' does not define", what,
                s->str);
      return NULL;
    }
  return s->str;
}

static int
need_version (struct kfile *f, const struct ynode *entry, const char *key, const char *what,
              struct diags *d)
{
  const struct ynode *v = ymap_get (entry, key);
  if (v == NULL || v->kind != Y_SCALAR)
    return -1;
  if (!is_version (v->str))
    {
      diag_add (d, f->path, v->mark, "%s '%s' is not a version (digits and dots)", what, v->str);
      return -1;
    }
  return 0;
}

static int
load_file (const char *dir, const char *name, const char *list_key, struct kfile *f,
           struct diags *d)
{
  f->path = xasprintf ("%s/%s", dir, name);
  strbuf_init (&f->text, 0);
  if (strbuf_read_file (&f->text, f->path, KB_FILE_CAP) < 0)
    {
      diag_add (d, f->path, (struct mark) { 0, 0, 0 }, "cannot read the knowledge base: %s",
                strerror (errno));
      return -1;
    }
  if (ytree_parse (f->path, f->text.buf, f->text.len, &f->root, d) < 0)
    return -1;
  if (f->root == NULL || f->root->kind != Y_MAP)
    {
      diag_add (d, f->path, (struct mark) { 1, 1, 0 }, "expected a mapping with 'sources' and '%s'",
                list_key);
      return -1;
    }
  f->sources = ymap_get (f->root, "sources");
  const struct ynode *list = ymap_get (f->root, list_key);
  if (f->sources == NULL || f->sources->kind != Y_MAP || list == NULL || list->kind != Y_SEQ)
    {
      diag_add (d, f->path, f->root->mark, "expected 'sources' (a mapping) and '%s' (a list)",
                list_key);
      return -1;
    }
  return 0;
}

static void
kfile_release (struct kfile *f)
{
  free (f->path);
  strbuf_release (&f->text);
  ynode_free (f->root);
}

static size_t
read_pins (struct kfile *f, const struct ynode *map, struct kb_pin **out, struct diags *d)
{
  if (map == NULL)
    return 0;
  struct kb_pin *pins = xcalloc (map->n / 2 + 1, sizeof *pins);
  size_t n = 0;
  for (size_t i = 0; i + 1 < map->n; i += 2)
    {
      const struct ynode *k = map->kids[i], *v = map->kids[i + 1];
      if (expect_kind (f->path, v, Y_SCALAR, "a pin", d) < 0 || !is_version (v->str))
        {
          diag_add (d, f->path, v->mark, "pin of '%s' must be an exact version", k->str);
          continue;
        }
      pins[n].name = xstrdup (k->str);
      pins[n].version = xstrdup (v->str);
      n++;
    }
  *out = pins;
  return n;
}

static int
parse_archs (struct kfile *f, const struct ynode *v, struct kb_cuda *c, struct diags *d)
{
  cleanup_free char *copy = xstrdup (v->str);
  char *save = NULL;
  c->archs = xcalloc (strlen (copy) + 1, sizeof *c->archs);
  for (char *tok = strtok_r (copy, " ", &save); tok; tok = strtok_r (NULL, " ", &save))
    {
      int cc = kb_parse_cc (tok);
      if (cc < 0)
        {
          diag_add (d, f->path, v->mark, "'%s' is not a compute capability (like 8.6)", tok);
          return -1;
        }
      c->archs[c->narchs++] = cc;
    }
  return 0;
}

static const struct field cuda_fields[]
    = { { "version", Y_SCALAR, 1 },     { "min_driver", Y_SCALAR, 1 }, { "archs", Y_SCALAR, 1 },
        { "devel", Y_MAP, 0 },          { "source", Y_SCALAR, 1 },     { "archs_source", Y_SCALAR, 1 },
        { "devel_source", Y_SCALAR, 0 }, { "nvcc", Y_MAP, 0 }, { NULL, 0, 0 } };
static const struct field nvcc_fields[]
    = { { "version", Y_SCALAR, 1 }, { "debs", Y_SEQ, 1 }, { "source", Y_SCALAR, 1 }, { NULL, 0, 0 } };
static const struct field deb_fields[]
    = { { "name", Y_SCALAR, 1 }, { "version", Y_SCALAR, 1 }, { "path", Y_SCALAR, 1 },
        { "sha256", Y_SCALAR, 1 }, { "size", Y_SCALAR, 1 }, { NULL, 0, 0 } };
static const struct field major_fields[]
    = { { "major", Y_SCALAR, 1 }, { "compat_floor", Y_SCALAR, 1 }, { "source", Y_SCALAR, 1 }, { NULL, 0, 0 } };

static const char *
floor_for_major (struct kfile *f, int major)
{
  const struct ynode *majors = ymap_get (f->root, "majors");
  for (size_t i = 0; majors && majors->kind == Y_SEQ && i < majors->n; i++)
    {
      const char *m = ystr (majors->kids[i], "major");
      if (m && atoi (m) == major)
        return ystr (majors->kids[i], "compat_floor");
    }
  return NULL;
}

/* nvcc: { version, source, debs: [{name, version, path, sha256, size}] } */
static void
read_nvcc (struct kfile *f, const struct ynode *n, struct kb_cuda *c, struct diags *d)
{
  if (n == NULL || schema_check (f->path, n, "an nvcc source", nvcc_fields, d))
    return;
  if (need_version (f, n, "version", "nvcc version", d) < 0)
    return;
  c->nvcc_source = dup_or_null (need_source (f, n, "source", "an nvcc source", d));
  const struct ynode *debs = ymap_get (n, "debs");
  c->nvcc_debs = xcalloc (debs->n + 1, sizeof *c->nvcc_debs);
  for (size_t i = 0; i < debs->n; i++)
    {
      const struct ynode *e = debs->kids[i];
      if (schema_check (f->path, e, "a Debian package", deb_fields, d))
        continue;
      const struct ynode *sha = ymap_get (e, "sha256"), *size = ymap_get (e, "size"), *path = ymap_get (e, "path");
      const struct ynode *name = ymap_get (e, "name");
      if (strlen (sha->str) != 64 || strspn (sha->str, "0123456789abcdef") != 64)
        {
          diag_add (d, f->path, sha->mark, "sha256 must be 64 lowercase hex digits");
          continue;
        }
      if (*size->str == '\0' || strspn (size->str, "0123456789") != strlen (size->str) || strlen (size->str) > 15)
        {
          diag_add (d, f->path, size->mark, "size must be a number of bytes");
          continue;
        }
      if (!starts_with (path->str, "pool/") || !ends_with (path->str, ".deb") || strstr (path->str, "..")
          || strspn (path->str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+~-")
                 != strlen (path->str))
        {
          diag_add (d, f->path, path->mark, "path must be a Debian pool path (pool/.../NAME_VERSION_ARCH.deb)");
          continue;
        }
      if (strspn (name->str, "abcdefghijklmnopqrstuvwxyz0123456789.+-") != strlen (name->str))
        {
          diag_add (d, f->path, name->mark, "'%s' is not a Debian package name", name->str);
          continue;
        }
      struct kb_deb *b = &c->nvcc_debs[c->nnvcc_debs++];
      b->name = xstrdup (name->str);
      b->version = xstrdup (ystr (e, "version"));
      b->path = xstrdup (path->str);
      b->sha256 = xstrdup (sha->str);
      b->size = strtoull (size->str, NULL, 10);
    }
  c->nvcc_version = xstrdup (ystr (n, "version"));
}

static int
load_cuda (const char *dir, struct kb *kb, struct diags *d)
{
  struct kfile f = { 0 };
  size_t before = d->n;
  if (load_file (dir, "cuda.yaml", "cuda", &f, d) < 0)
    goto out;
  const struct ynode *majors = ymap_get (f.root, "majors");
  for (size_t i = 0; majors && majors->kind == Y_SEQ && i < majors->n; i++)
    if (schema_check (f.path, majors->kids[i], "a CUDA major", major_fields, d) == 0)
      {
        need_source (&f, majors->kids[i], "source", "a CUDA major", d);
        need_version (&f, majors->kids[i], "compat_floor", "compat_floor", d);
      }
  const struct ynode *list = ymap_get (f.root, "cuda");
  kb->cuda = xcalloc (list->n + 1, sizeof *kb->cuda);
  for (size_t i = 0; i < list->n; i++)
    {
      const struct ynode *e = list->kids[i];
      if (schema_check (f.path, e, "a CUDA release", cuda_fields, d))
        continue;
      if (need_version (&f, e, "version", "CUDA version", d) < 0
          || need_version (&f, e, "min_driver", "min_driver", d) < 0)
        continue;
      struct kb_cuda *c = &kb->cuda[kb->ncuda];
      c->version = xstrdup (ystr (e, "version"));
      sscanf (c->version, "%d.%d", &c->major, &c->minor);
      c->min_driver = xstrdup (ystr (e, "min_driver"));
      c->source = dup_or_null (need_source (&f, e, "source", "a CUDA release", d));
      c->archs_source = dup_or_null (need_source (&f, e, "archs_source", "a CUDA release", d));
      const char *floor = floor_for_major (&f, c->major);
      if (floor == NULL)
        diag_add (d, f.path, e->mark, "CUDA %s: 'majors' has no compat_floor for major %d",
                  c->version, c->major);
      c->compat_floor = dup_or_null (floor);
      c->ndevel = read_pins (&f, ymap_get (e, "devel"), &c->devel, d);
      read_nvcc (&f, ymap_get (e, "nvcc"), c, d);
      kb->ncuda++;
      parse_archs (&f, ymap_get (e, "archs"), c, d);
    }
out:
  kfile_release (&f);
  return d->n > before ? -1 : 0;
}

static const struct field torch_fields[]
    = { { "version", Y_SCALAR, 1 }, { "python", Y_SEQ, 1 },     { "pypi", Y_SCALAR, 1 },
        { "source", Y_SCALAR, 1 },  { "variants", Y_SEQ, 1 },   { "numpy", Y_SCALAR, 0 },
        { "numpy_source", Y_SCALAR, 0 }, { NULL, 0, 0 } };
static const struct field variant_fields[]
    = { { "cuda", Y_SCALAR, 1 },        { "cudnn", Y_SCALAR, 0 },       { "arch_list", Y_SCALAR, 0 },
        { "arch_source", Y_SCALAR, 0 }, { "pins", Y_MAP, 0 },           { "pins_source", Y_SCALAR, 0 },
        { NULL, 0, 0 } };

static void
load_variant (struct kfile *f, const struct kb *kb, const struct ynode *e, struct kb_torch *t,
              struct diags *d)
{
  if (schema_check (f->path, e, "a torch variant", variant_fields, d))
    return;
  const struct ynode *cuda = ymap_get (e, "cuda");
  if (kb_cuda_find (kb, cuda->str) == NULL)
    {
      diag_add (d, f->path, cuda->mark, "torch %s variant names CUDA '%s', which cuda.yaml does not know",
                t->version, cuda->str);
      return;
    }
  struct kb_variant *v = &t->variants[t->nvariants++];
  v->cuda = xstrdup (cuda->str);
  v->cudnn = dup_or_null (ystr (e, "cudnn"));
  v->arch_list = dup_or_null (ystr (e, "arch_list"));
  if (v->arch_list)
    v->arch_source = dup_or_null (need_source (f, e, "arch_source", "a torch variant", d));
  v->npins = read_pins (f, ymap_get (e, "pins"), &v->pins, d);
  if (v->npins)
    v->pins_source = dup_or_null (need_source (f, e, "pins_source", "a torch variant", d));
}

static void
load_torch_entry (struct kfile *f, struct kb *kb, const struct ynode *e, struct diags *d)
{
  if (schema_check (f->path, e, "a torch release", torch_fields, d)
      || need_version (f, e, "version", "torch version", d) < 0)
    return;
  const struct ynode *py = ymap_get (e, "python");
  if (py->n != 2 || py->kids[0]->kind != Y_SCALAR || py->kids[1]->kind != Y_SCALAR)
    {
      diag_add (d, f->path, py->mark, "'python' must be [oldest, newest]");
      return;
    }
  struct kb_torch *t = &kb->torch[kb->ntorch++];
  t->version = xstrdup (ystr (e, "version"));
  sscanf (t->version, "%d.%d.%d", &t->major, &t->minor, &t->patch);
  t->python_min = xstrdup (py->kids[0]->str);
  t->python_max = xstrdup (py->kids[1]->str);
  t->pypi_cuda = xstrdup (ystr (e, "pypi"));
  t->source = dup_or_null (need_source (f, e, "source", "a torch release", d));
  t->numpy = dup_or_null (ystr (e, "numpy"));
  if (t->numpy && ymap_get (e, "numpy_source") == NULL)
    diag_add (d, f->path, ymap_get (e, "numpy")->mark, "torch %s: 'numpy' needs 'numpy_source'", t->version);
  else if (t->numpy)
    t->numpy_source = dup_or_null (need_source (f, e, "numpy_source", "a torch release's numpy", d));
  const struct ynode *vars = ymap_get (e, "variants");
  t->variants = xcalloc (vars->n + 1, sizeof *t->variants);
  for (size_t j = 0; j < vars->n; j++)
    load_variant (f, kb, vars->kids[j], t, d);
  if (kb_variant_find (t, t->pypi_cuda) == NULL)
    diag_add (d, f->path, ymap_get (e, "pypi")->mark,
              "torch %s: the PyPI variant CUDA %s is not among its variants", t->version, t->pypi_cuda);
}

static int
load_torch (const char *dir, struct kb *kb, struct diags *d)
{
  struct kfile f = { 0 };
  size_t before = d->n;
  if (load_file (dir, "torch.yaml", "torch", &f, d) == 0)
    {
      const struct ynode *list = ymap_get (f.root, "torch");
      kb->torch = xcalloc (list->n + 1, sizeof *kb->torch);
      for (size_t i = 0; i < list->n; i++)
        load_torch_entry (&f, kb, list->kids[i], d);
    }
  kfile_release (&f);
  return d->n > before ? -1 : 0;
}

static const struct field gpu_fields[]
    = { { "name", Y_SCALAR, 1 }, { "cc", Y_SCALAR, 1 }, { "arch", Y_SCALAR, 1 }, { "source", Y_SCALAR, 1 }, { NULL, 0, 0 } };
static const struct field base_fields[]
    = { { "name", Y_SCALAR, 1 }, { "python", Y_SCALAR, 1 }, { "suite", Y_SCALAR, 1 }, { "source", Y_SCALAR, 1 }, { NULL, 0, 0 } };

static int
load_gpus_and_bases (const char *dir, struct kb *kb, struct diags *d)
{
  struct kfile f = { 0 }, g = { 0 };
  size_t before = d->n;
  if (load_file (dir, "gpus.yaml", "gpus", &f, d) == 0)
    {
      const struct ynode *list = ymap_get (f.root, "gpus");
      kb->gpus = xcalloc (list->n + 1, sizeof *kb->gpus);
      for (size_t i = 0; i < list->n; i++)
        {
          const struct ynode *e = list->kids[i];
          if (schema_check (f.path, e, "a GPU", gpu_fields, d))
            continue;
          int cc = kb_parse_cc (ystr (e, "cc"));
          if (cc < 0)
            {
              diag_add (d, f.path, ymap_get (e, "cc")->mark, "'%s' is not a compute capability", ystr (e, "cc"));
              continue;
            }
          kb->gpus[kb->ngpus++] = (struct kb_gpu) { xstrdup (ystr (e, "name")), cc, xstrdup (ystr (e, "arch")),
                                                    dup_or_null (need_source (&f, e, "source", "a GPU", d)) };
        }
    }
  if (load_file (dir, "bases.yaml", "bases", &g, d) == 0)
    {
      const struct ynode *list = ymap_get (g.root, "bases");
      kb->bases = xcalloc (list->n + 1, sizeof *kb->bases);
      for (size_t i = 0; i < list->n; i++)
        {
          const struct ynode *e = list->kids[i];
          if (schema_check (g.path, e, "a base", base_fields, d))
            continue;
          kb->bases[kb->nbases++] = (struct kb_base) { xstrdup (ystr (e, "name")), xstrdup (ystr (e, "python")),
                                                       xstrdup (ystr (e, "suite")),
                                                       dup_or_null (need_source (&g, e, "source", "a base", d)) };
        }
    }
  kfile_release (&f);
  kfile_release (&g);
  return d->n > before ? -1 : 0;
}

int
kb_load (const char *dir, struct kb *kb, struct diags *d)
{
  memset (kb, 0, sizeof *kb);
  kb->dir = xstrdup (dir);
  int r = 0;
  /* CUDA first: torch variants are checked against it. */
  r |= load_cuda (dir, kb, d);
  r |= load_torch (dir, kb, d);
  r |= load_gpus_and_bases (dir, kb, d);
  return r ? -1 : 0;
}

static void
pins_free (struct kb_pin *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (p[i].name);
      free (p[i].version);
    }
  free (p);
}

void
kb_release (struct kb *kb)
{
  for (size_t i = 0; i < kb->ncuda; i++)
    {
      struct kb_cuda *c = &kb->cuda[i];
      free (c->version);
      free (c->min_driver);
      free (c->compat_floor);
      free (c->archs);
      pins_free (c->devel, c->ndevel);
      for (size_t j = 0; j < c->nnvcc_debs; j++)
        {
          free (c->nvcc_debs[j].name);
          free (c->nvcc_debs[j].version);
          free (c->nvcc_debs[j].path);
          free (c->nvcc_debs[j].sha256);
        }
      free (c->nvcc_debs);
      free (c->nvcc_version);
      free (c->nvcc_source);
      free (c->source);
      free (c->archs_source);
    }
  for (size_t i = 0; i < kb->ntorch; i++)
    {
      struct kb_torch *t = &kb->torch[i];
      for (size_t j = 0; j < t->nvariants; j++)
        {
          struct kb_variant *v = &t->variants[j];
          free (v->cuda);
          free (v->cudnn);
          free (v->arch_list);
          pins_free (v->pins, v->npins);
          free (v->pins_source);
          free (v->arch_source);
        }
      free (t->variants);
      free (t->version);
      free (t->python_min);
      free (t->python_max);
      free (t->pypi_cuda);
      free (t->source);
      free (t->numpy);
      free (t->numpy_source);
    }
  for (size_t i = 0; i < kb->ngpus; i++)
    {
      free (kb->gpus[i].name);
      free (kb->gpus[i].arch);
      free (kb->gpus[i].source);
    }
  for (size_t i = 0; i < kb->nbases; i++)
    {
      free (kb->bases[i].name);
      free (kb->bases[i].python);
      free (kb->bases[i].suite);
      free (kb->bases[i].source);
    }
  free (kb->cuda);
  free (kb->torch);
  free (kb->gpus);
  free (kb->bases);
  free (kb->dir);
  memset (kb, 0, sizeof *kb);
}

const char *
kb_default_dir (const char *argv0)
{
  static char buf[PATH_MAX];
  const char *env = getenv ("PCGEN_DATA");
  if (env && *env)
    return env;
  /* bin/pcgen and build/test/pcgen both sit two levels below the top. */
  char exe[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0)
    {
      exe[n] = '\0';
      for (int up = 0; up < 2; up++)
        {
          char *slash = strrchr (exe, '/');
          if (slash)
            *slash = '\0';
        }
      snprintf (buf, sizeof buf, "%.*s/generator/data", (int) (sizeof buf - 16), exe);
      if (access (buf, R_OK) == 0)
        return buf;
    }
  (void) argv0;
  return "generator/data";
}

const struct kb_cuda *
kb_cuda_find (const struct kb *kb, const char *version)
{
  for (size_t i = 0; i < kb->ncuda; i++)
    if (strcmp (kb->cuda[i].version, version) == 0)
      return &kb->cuda[i];
  return NULL;
}

const struct kb_torch *
kb_torch_find (const struct kb *kb, const char *version)
{
  const struct kb_torch *best = NULL;
  size_t len = strlen (version);
  for (size_t i = 0; i < kb->ntorch; i++)
    {
      const struct kb_torch *t = &kb->torch[i];
      if (strcmp (t->version, version) == 0)
        return t;
      /* "2.6" names the newest 2.6.x. */
      if (strncmp (t->version, version, len) == 0 && t->version[len] == '.'
          && strchr (version, '.') && strchr (version, '.') == strrchr (version, '.')
          && (best == NULL || version_cmp (t->version, best->version) > 0))
        best = t;
    }
  return best;
}

int
kb_torch_matches (const char *asked, const struct kb_torch *t)
{
  size_t len = strlen (asked);
  return strcmp (asked, t->version) == 0
         || (strncmp (asked, t->version, len) == 0 && t->version[len] == '.'
             && strchr (asked, '.') != NULL);
}

const struct kb_variant *
kb_variant_find (const struct kb_torch *t, const char *cuda)
{
  for (size_t i = 0; i < t->nvariants; i++)
    if (strcmp (t->variants[i].cuda, cuda) == 0)
      return &t->variants[i];
  return NULL;
}

/* Names compare without case, spaces, '-' and '_': "rtx-4090" is "RTX 4090". */
static int
gpu_name_eq (const char *a, const char *b)
{
  for (;;)
    {
      while (*a == ' ' || *a == '-' || *a == '_')
        a++;
      while (*b == ' ' || *b == '-' || *b == '_')
        b++;
      if (tolower ((unsigned char) *a) != tolower ((unsigned char) *b))
        return 0;
      if (*a == '\0')
        return 1;
      a++;
      b++;
    }
}

const struct kb_gpu *
kb_gpu_find (const struct kb *kb, const char *name)
{
  for (size_t i = 0; i < kb->ngpus; i++)
    if (gpu_name_eq (kb->gpus[i].name, name))
      return &kb->gpus[i];
  return NULL;
}

const struct kb_base *
kb_base_find (const struct kb *kb, const char *name)
{
  for (size_t i = 0; i < kb->nbases; i++)
    if (strcmp (kb->bases[i].name, name) == 0)
      return &kb->bases[i];
  return NULL;
}

const char *
kb_pin_find (const struct kb_pin *pins, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (pins[i].name, name) == 0)
      return pins[i].version;
  return NULL;
}

void
kb_torch_variant_list (const struct kb_torch *t, char *buf, size_t size)
{
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < t->nvariants && used < size; i++)
    used += (size_t) snprintf (buf + used, size - used, "%s%s", i ? ", " : "", t->variants[i].cuda);
}
