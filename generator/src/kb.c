/* kb.c: load and cross-check the knowledge base (see kb.h and generator/data/). */
#include "kb.h"
#include "cache.h"
#include "kinds.h"
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
        { "devel_source", Y_SCALAR, 0 }, { "nvcc", Y_SEQ, 0 }, { "host_compiler", Y_MAP, 0 },
        { "toolkit_cublas", Y_MAP, 0 }, { "toolkit_source", Y_SCALAR, 0 }, { NULL, 0, 0 } };
static const struct field nvcc_fields[]
    = { { "kind", Y_SCALAR, 1 }, { "version", Y_SCALAR, 1 }, { "release", Y_SCALAR, 0 },
        { "source", Y_SCALAR, 1 }, { "files", Y_SEQ, 1 }, { NULL, 0, 0 } };
static const struct field host_fields[]
    = { { "ccbin", Y_SCALAR, 1 }, { "source", Y_SCALAR, 1 }, { "files", Y_SEQ, 1 }, { NULL, 0, 0 } };
static const struct field deb_fields[]
    = { { "name", Y_SCALAR, 1 }, { "version", Y_SCALAR, 1 }, { "path", Y_SCALAR, 1 },
        { "sha256", Y_SCALAR, 1 }, { "size", Y_SCALAR, 1 }, { "archive", Y_SCALAR, 0 }, { NULL, 0, 0 } };
static const struct field wheel_fields[]
    = { { "name", Y_SCALAR, 1 }, { "version", Y_SCALAR, 1 }, { "file", Y_SCALAR, 1 },
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

static const char *const deb_archive_names[] = { [DEB_ARCHIVE_DEBIAN] = "debian",
                                                 [DEB_ARCHIVE_SECURITY] = "debian-security", NULL };

static const char *const nvcc_kind_names[] = { [NVCC_DEBIAN] = "debian", [NVCC_PYPI] = "pypi",
                                               [NVCC_REDIST] = "redist", NULL };

const char *
kb_nvcc_kind_name (enum kb_nvcc_kind k)
{
  return nvcc_kind_names[k];
}

static void
files_free (struct kb_deb *f, size_t n)
{
  for (size_t j = 0; j < n; j++)
    {
      free (f[j].name);
      free (f[j].version);
      free (f[j].path);
      free (f[j].sha256);
    }
  free (f);
}

int
kb_wheel_file_ok (const char *name, const char *version, const char *file, char **want)
{
  /* Binary distribution format (packaging.python.org, "File name convention"): the name's
     runs of -_. become '_'; a build tag (digits first) may follow the version. */
  cleanup_free char *dist = xstrdup (name);
  for (char *q = dist; *q; q++)
    if (*q == '-' || *q == '.')
      *q = '_';
  *want = xasprintf ("%s-%s-PYTHON-ABI-PLATFORM.whl with a manylinux*_x86_64 or linux_x86_64 platform tag", dist,
                     version);
  cleanup_free char *prefix = xasprintf ("%s-%s-", dist, version);
  if (!starts_with (file, prefix) || !ends_with (file, ".whl") || !cache_valid_file (file))
    return 0;
  /* python-abi-platform, or build-python-abi-platform. */
  cleanup_free char *rest = xstrndup (file + strlen (prefix), strlen (file) - strlen (prefix) - strlen (".whl"));
  char *fields[5];
  size_t n = 0;
  for (char *save = NULL, *tok = strtok_r (rest, "-", &save); tok && n < ARRAY_SIZE (fields);
       tok = strtok_r (NULL, "-", &save))
    fields[n++] = tok;
  if ((n != 3 && n != 4) || (n == 4 && !isdigit ((unsigned char) fields[0][0])))
    return 0;
  int x86_64 = 0;
  for (char *save = NULL, *tag = strtok_r (fields[n - 1], ".", &save); tag; tag = strtok_r (NULL, ".", &save))
    x86_64 |= (starts_with (tag, "manylinux") || starts_with (tag, "linux_")) && ends_with (tag, "_x86_64");
  return x86_64;
}

/* One file of an nvcc source or a host compiler; 0 when it was added to out. */
static int
read_file_entry (struct kfile *f, const struct ynode *e, enum kb_nvcc_kind kind, struct kb_deb *out, struct diags *d)
{
  if (schema_check (f->path, e, kind == NVCC_PYPI ? "a wheel" : kind == NVCC_DEBIAN ? "a Debian package" : "a redist archive",
                    kind == NVCC_PYPI ? wheel_fields : deb_fields, d))
    return -1;
  const struct ynode *name = ymap_get (e, "name"), *version = ymap_get (e, "version");
  const struct ynode *sha = ymap_get (e, "sha256"), *size = ymap_get (e, "size");
  if (strlen (sha->str) != 64 || strspn (sha->str, "0123456789abcdef") != 64)
    return diag_add (d, f->path, sha->mark, "sha256 must be 64 lowercase hex digits"), -1;
  if (*size->str == '\0' || strspn (size->str, "0123456789") != strlen (size->str) || strlen (size->str) > 15)
    return diag_add (d, f->path, size->mark, "size must be a number of bytes"), -1;
  if (kind == NVCC_PYPI)
    {
      const struct ynode *file = ymap_get (e, "file");
      if (strspn (name->str, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen (name->str) || !is_version (version->str))
        return diag_add (d, f->path, name->mark, "'%s' '%s' is not a PEP 503 wheel name and an exact version",
                         name->str, version->str), -1;
      cleanup_free char *want = NULL;
      if (!kb_wheel_file_ok (name->str, version->str, file->str, &want))
        return diag_add (d, f->path, file->mark, "'%s' is not a Linux x86_64 wheel of %s %s (%s)", file->str,
                         name->str, version->str, want), -1;
      /* A wheel has no path under a mirror: pip fetches it by name and version from its index;
         path is the file name, which the lock checks against. */
      *out = (struct kb_deb) { xstrdup (name->str), xstrdup (version->str), xstrdup (file->str), xstrdup (sha->str),
                               strtoull (size->str, NULL, 10), DEB_ARCHIVE_DEBIAN };
      return 0;
    }
  const struct ynode *path = ymap_get (e, "path");
  int safe = !strstr (path->str, "..")
             && strspn (path->str, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+~-") == strlen (path->str);
  if (kind == NVCC_DEBIAN)
    {
      if (!starts_with (path->str, "pool/") || !ends_with (path->str, ".deb") || !safe)
        return diag_add (d, f->path, path->mark, "path must be a Debian pool path (pool/.../NAME_VERSION_ARCH.deb)"), -1;
      if (strspn (name->str, "abcdefghijklmnopqrstuvwxyz0123456789.+-") != strlen (name->str))
        return diag_add (d, f->path, name->mark, "'%s' is not a Debian package name", name->str), -1;
      const struct ynode *archive = ymap_get (e, "archive");
      int a = archive ? names_lookup (deb_archive_names, archive->str) : DEB_ARCHIVE_DEBIAN;
      if (a < 0)
        return diag_add (d, f->path, archive->mark,
                         "'%s' is not an archive pcgen fetches from; archives: debian, debian-security", archive->str), -1;
      *out = (struct kb_deb) { xstrdup (name->str), xstrdup (version->str), xstrdup (path->str), xstrdup (sha->str),
                               strtoull (size->str, NULL, 10),
                               (enum kb_deb_archive) a };
      return 0;
    }
  else
    {
      /* NVIDIA's layout (redistrib_<release>.json, relative_path):
         <component>/linux-x86_64/<component>-linux-x86_64-<version>-archive.tar.xz */
      cleanup_free char *want = xasprintf ("%s/linux-x86_64/%s-linux-x86_64-%s-archive.tar.xz", name->str, name->str,
                                           version->str);
      if (!is_version (version->str))
        return diag_add (d, f->path, version->mark, "redist version '%s' is not a version (digits and dots)",
                         version->str), -1;
      if (strcmp (path->str, want) != 0 || !safe)
        return diag_add (d, f->path, path->mark, "path of %s %s must be NVIDIA's relative_path '%s'", name->str,
                         version->str, want), -1;
    }
  *out = (struct kb_deb) { xstrdup (name->str), xstrdup (version->str), xstrdup (path->str), xstrdup (sha->str),
                           strtoull (size->str, NULL, 10), DEB_ARCHIVE_DEBIAN };
  return 0;
}

static size_t
read_files (struct kfile *f, const struct ynode *list, enum kb_nvcc_kind kind, struct kb_deb **out, struct diags *d)
{
  *out = xcalloc (list->n + 1, sizeof **out);
  size_t n = 0;
  for (size_t i = 0; i < list->n; i++)
    n += read_file_entry (f, list->kids[i], kind, &(*out)[n], d) == 0;
  return n;
}

/* nvcc: [{kind, version, release?, source, files: [...]}], in order of preference. */
static void
read_nvcc (struct kfile *f, const struct ynode *list, struct kb_cuda *c, struct diags *d)
{
  if (list == NULL)
    return;
  c->nvcc_sources = xcalloc (list->n + 1, sizeof *c->nvcc_sources);
  for (size_t i = 0; i < list->n; i++)
    {
      const struct ynode *n = list->kids[i];
      if (schema_check (f->path, n, "an nvcc source", nvcc_fields, d) || need_version (f, n, "version", "nvcc version", d) < 0)
        continue;
      const struct ynode *kind = ymap_get (n, "kind");
      struct kb_nvcc *s = &c->nvcc_sources[c->nnvcc_sources];
      int k = names_lookup (nvcc_kind_names, kind->str);
      if (k >= 0)
        s->kind = (enum kb_nvcc_kind) k;
      else
        {
          diag_add (d, f->path, kind->mark, "unknown nvcc source kind '%s' (debian, pypi or redist)", kind->str);
          continue;
        }
      if (s->kind == NVCC_REDIST && need_version (f, n, "release", "redist release", d) < 0)
        {
          if (ymap_get (n, "release") == NULL)
            diag_add (d, f->path, n->mark, "a redist source needs 'release' (the X.Y.Z of redistrib_X.Y.Z.json)");
          continue;
        }
      c->nnvcc_sources++;
      s->version = xstrdup (ystr (n, "version"));
      s->release = dup_or_null (ystr (n, "release"));
      s->source = dup_or_null (need_source (f, n, "source", "an nvcc source", d));
      s->nfiles = read_files (f, ymap_get (n, "files"), s->kind, &s->files, d);
      /* The first listed: pcgen makes layers from every kind. */
      if (c->nvcc == NULL)
        c->nvcc = s;
    }
}

static void
read_host_compiler (struct kfile *f, const struct ynode *n, struct kb_cuda *c, struct diags *d)
{
  if (n == NULL || schema_check (f->path, n, "a host compiler", host_fields, d))
    return;
  const char *ccbin = ystr (n, "ccbin");
  if (ccbin[0] != '/' || strspn (ccbin, "abcdefghijklmnopqrstuvwxyz0123456789/._+-") != strlen (ccbin))
    {
      diag_add (d, f->path, ymap_get (n, "ccbin")->mark, "ccbin '%s' must be an absolute path like /usr/bin/g++-11", ccbin);
      return;
    }
  struct kb_host_compiler *h = c->host_compiler = xcalloc (1, sizeof *h);
  h->ccbin = xstrdup (ccbin);
  h->source = dup_or_null (need_source (f, n, "source", "a host compiler", d));
  h->nfiles = read_files (f, ymap_get (n, "files"), NVCC_DEBIAN, &h->files, d);
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
      read_host_compiler (&f, ymap_get (e, "host_compiler"), c, d);
      c->ntoolkit_cublas = read_pins (&f, ymap_get (e, "toolkit_cublas"), &c->toolkit_cublas, d);
      if (c->ntoolkit_cublas && ymap_get (e, "toolkit_source") == NULL)
        diag_add (d, f.path, e->mark, "CUDA %s: 'toolkit_cublas' needs a 'toolkit_source'", c->version);
      else if (c->ntoolkit_cublas)
        c->toolkit_source = dup_or_null (need_source (&f, e, "toolkit_source", "a CUDA release", d));
      kb->ncuda++;
      parse_archs (&f, ymap_get (e, "archs"), c, d);
    }
out:
  kfile_release (&f);
  return d->n > before ? -1 : 0;
}

static const struct field torch_fields[]
    = { { "version", Y_SCALAR, 1 }, { "python", Y_SEQ, 1 },     { "pypi", Y_SCALAR, 1 },
        { "source", Y_SCALAR, 1 },  { "variants", Y_SEQ, 1 },   { "unknown", Y_SEQ, 0 },
        { "numpy", Y_SCALAR, 0 },   { "numpy_source", Y_SCALAR, 0 }, { NULL, 0, 0 } };
static const struct field variant_fields[]
    = { { "cuda", Y_SCALAR, 1 },        { "cudnn", Y_SCALAR, 0 },       { "arch_list", Y_SCALAR, 0 },
        { "arch_source", Y_SCALAR, 0 }, { "pins", Y_MAP, 0 },           { "pins_source", Y_SCALAR, 0 },
        { "unknown", Y_SEQ, 0 },        { NULL, 0, 0 } };

/* `unknown: [fact, ...]`: facts `pcgen kb update` could not read from PyPI, so that validate
   refuses a matrix needing them instead of treating a gap as "none". Returns a bit per name of
   `names` (NULL-terminated), or records an error. */
static unsigned
read_unknown (struct kfile *f, const struct ynode *list, const char *what, const char *const *names,
              const struct ynode *e, struct diags *d)
{
  unsigned bits = 0;
  for (size_t i = 0; list && i < list->n; i++)
    {
      const struct ynode *k = list->kids[i];
      size_t j = 0;
      while (names[j] && (k->kind != Y_SCALAR || strcmp (k->str, names[j]) != 0))
        j++;
      if (names[j] == NULL)
        {
          diag_add (d, f->path, k->mark, "%s: 'unknown' lists '%s'; valid: %s%s%s", what,
                    k->kind == Y_SCALAR ? k->str : "?", names[0], names[1] ? ", " : "", names[1] ? names[1] : "");
          continue;
        }
      if (strcmp (names[j], "variants") != 0 && ymap_get (e, names[j]))
        diag_add (d, f->path, k->mark, "%s: '%s' is both given and listed as unknown", what, names[j]);
      bits |= 1u << j;
    }
  return bits;
}

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
  static const char *const variant_unknown[] = { "arch_list", "cudnn", NULL };
  unsigned u = read_unknown (f, ymap_get (e, "unknown"), "a torch variant", variant_unknown, e, d);
  v->arch_list_unknown = u & 1;
  v->cudnn_unknown = (u >> 1) & 1;
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
  static const char *const torch_unknown[] = { "variants", NULL };
  t->variants_unknown = read_unknown (f, ymap_get (e, "unknown"), "a torch release", torch_unknown, e, d) & 1;
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

static const struct field base_fields[]
    = { { "name", Y_SCALAR, 1 },      { "python", Y_SCALAR, 1 }, { "suite", Y_SCALAR, 1 },
        { "source", Y_SCALAR, 1 },    { "toolchain", Y_MAP, 0 }, { "buildtools", Y_MAP, 0 },
        { "notebook", Y_MAP, 0 },     { "jupyterlab", Y_SCALAR, 0 }, { NULL, 0, 0 } };
static const struct field debset_fields[] = { { "source", Y_SCALAR, 1 }, { "debs", Y_SEQ, 1 }, { NULL, 0, 0 } };

/* toolchain: / buildtools: { source, debs } of a base. */
static void
read_debset (struct kfile *f, const struct ynode *n, struct kb_deb **out, size_t *count, struct diags *d)
{
  if (n == NULL || schema_check (f->path, n, "a set of Debian packages", debset_fields, d))
    return;
  if (need_source (f, n, "source", "a set of Debian packages", d) == NULL)
    return;
  *count = read_files (f, ymap_get (n, "debs"), NVCC_DEBIAN, out, d);
}

static int
load_gpus_and_bases (const char *dir, struct kb *kb, struct diags *d)
{
  struct kfile g = { 0 };
  size_t before = d->n;
  /* GPUs: gpus.c. */
  kb_gpus_load (dir, kb, d);
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
                                                       dup_or_null (need_source (&g, e, "source", "a base", d)), NULL, NULL, 0, 0, NULL, 0, NULL };
          struct kb_base *b = &kb->bases[kb->nbases - 1];
          read_debset (&g, ymap_get (e, "toolchain"), &b->toolchain, &b->ntoolchain, d);
          read_debset (&g, ymap_get (e, "buildtools"), &b->buildtools, &b->nbuildtools, d);
          read_debset (&g, ymap_get (e, "notebook"), &b->notebook, &b->nnotebook, d);
          b->jupyterlab = dup_or_null (ystr (e, "jupyterlab"));
        }
    }
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
      for (size_t j = 0; j < c->nnvcc_sources; j++)
        {
          files_free (c->nvcc_sources[j].files, c->nvcc_sources[j].nfiles);
          free (c->nvcc_sources[j].version);
          free (c->nvcc_sources[j].release);
          free (c->nvcc_sources[j].source);
        }
      free (c->nvcc_sources);
      if (c->host_compiler)
        {
          files_free (c->host_compiler->files, c->host_compiler->nfiles);
          free (c->host_compiler->ccbin);
          free (c->host_compiler->source);
          free (c->host_compiler);
        }
      pins_free (c->toolkit_cublas, c->ntoolkit_cublas);
      free (c->source);
      free (c->archs_source);
      free (c->toolkit_source);
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
  kb_gpus_release (kb);
  for (size_t i = 0; i < kb->nbases; i++)
    {
      free (kb->bases[i].name);
      free (kb->bases[i].python);
      free (kb->bases[i].suite);
      free (kb->bases[i].source);
      files_free (kb->bases[i].toolchain, kb->bases[i].ntoolchain);
      files_free (kb->bases[i].buildtools, kb->bases[i].nbuildtools);
      files_free (kb->bases[i].notebook, kb->bases[i].nnotebook);
      free (kb->bases[i].jupyterlab);
    }
  free (kb->cuda);
  free (kb->torch);
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
