/* sbom.c: see sbom.h. */
#include "sbom.h"
#include "base.h"
#include "cache.h"
#include "debs.h"
#include "digest.h"
#include "fetch.h"
#include "fsutil.h"
#include "http.h"
#include "kinds.h"
#include "layer.h"
#include "lazywheel.h"
#include "wheel.h"
#include "nvcc_source.h"
#include "oci.h"
#include "util.h"
#include "version.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* SPDX license list ids (https://spdx.org/licenses/) that PyPI's wheels name, and those close to
   them. An id outside this list is never written: the license becomes NOASSERTION, so the
   document never names a license wrongly. Exact spelling only. */
static const char *const licenses[] = {
  "0BSD",           "AFL-2.1",           "AFL-3.0",           "AGPL-3.0-only",     "AGPL-3.0-or-later",
  "Apache-1.1",     "Apache-2.0",        "Artistic-2.0",      "BSD-1-Clause",      "BSD-2-Clause",
  "BSD-3-Clause",   "BSD-3-Clause-Clear", "BSD-4-Clause",     "BSL-1.0",           "CC-BY-4.0",
  "CC0-1.0",        "CNRI-Python",       "EPL-1.0",           "EPL-2.0",           "GPL-2.0-only",
  "GPL-2.0-or-later", "GPL-3.0-only",    "GPL-3.0-or-later",  "HPND",              "ISC",
  "LGPL-2.0-only",  "LGPL-2.0-or-later", "LGPL-2.1-only",     "LGPL-2.1-or-later", "LGPL-3.0-only",
  "LGPL-3.0-or-later", "MIT",            "MIT-0",             "MIT-CMU",           "MPL-1.1",
  "MPL-2.0",        "NCSA",              "OpenSSL",           "PSF-2.0",           "Python-2.0",
  "Unicode-3.0",    "Unicode-DFS-2016",  "Unlicense",         "UPL-1.0",           "W3C",
  "X11",            "Zlib",              "ZPL-2.1",
};
static const char *const exceptions[] = { "Classpath-exception-2.0", "GCC-exception-3.1", "LLVM-exception" };

/* Trove classifiers that name exactly one license (most do not: "BSD License", "Apache
   Software License" leave the version open). */
static const struct
{
  const char *classifier, *id;
} classifiers[] = {
  { "License :: OSI Approved :: MIT License", "MIT" },
  { "License :: OSI Approved :: MIT No Attribution License (MIT-0)", "MIT-0" },
  { "License :: OSI Approved :: ISC License (ISCL)", "ISC" },
  { "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0" },
  { "License :: OSI Approved :: Python Software Foundation License", "PSF-2.0" },
  { "License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)", "BSL-1.0" },
  { "License :: OSI Approved :: The Unlicense (Unlicense)", "Unlicense" },
  { "License :: OSI Approved :: zlib/libpng License", "Zlib" },
};

static int
in_list (const char *s, size_t n, const char *const *list, size_t nlist)
{
  for (size_t i = 0; i < nlist; i++)
    if (strlen (list[i]) == n && memcmp (list[i], s, n) == 0)
      return 1;
  return 0;
}

/* A tiny recursive-descent parser over the SPDX 2.3 annex D grammar:
     expr  := term { ("AND" | "OR") term }
     term  := "(" expr ")" | id ["+"] ["WITH" exception] */
struct lexer
{
  const char *p;
  int depth;
};

/* ASCII letters and digits, whatever the locale says of other bytes. */
static int
ascii_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static size_t
word (const char *p)
{
  size_t n = 0;
  while (ascii_alnum (p[n]) || p[n] == '.' || p[n] == '-')
    n++;
  return n;
}

static void
skip_space (struct lexer *l)
{
  while (*l->p == ' ')
    l->p++;
}

static int
keyword (struct lexer *l, const char *kw)
{
  skip_space (l);
  size_t n = word (l->p);
  if (n == strlen (kw) && memcmp (l->p, kw, n) == 0)
    {
      l->p += n;
      return 1;
    }
  return 0;
}

static int parse_expr (struct lexer *l);

static int
parse_term (struct lexer *l)
{
  skip_space (l);
  if (*l->p == '(')
    {
      if (++l->depth > 16)
        return 0;
      l->p++;
      if (!parse_expr (l))
        return 0;
      skip_space (l);
      if (*l->p != ')')
        return 0;
      l->p++;
      l->depth--;
      return 1;
    }
  size_t n = word (l->p);
  if (n == 0 || !in_list (l->p, n, licenses, ARRAY_SIZE (licenses)))
    return 0;
  l->p += n;
  if (*l->p == '+')
    l->p++;
  if (keyword (l, "WITH"))
    {
      skip_space (l);
      n = word (l->p);
      if (n == 0 || !in_list (l->p, n, exceptions, ARRAY_SIZE (exceptions)))
        return 0;
      l->p += n;
    }
  return 1;
}

static int
parse_expr (struct lexer *l)
{
  if (!parse_term (l))
    return 0;
  while (keyword (l, "AND") || keyword (l, "OR"))
    if (!parse_term (l))
      return 0;
  return 1;
}

int
sbom_license_valid (const char *s)
{
  if (s == NULL || *s == '\0')
    return 0;
  struct lexer l = { s, 0 };
  if (!parse_expr (&l))
    return 0;
  skip_space (&l);
  return *l.p == '\0';
}

char *
sbom_metadata_license (const char *metadata)
{
  static const char *const fields[] = { "License-Expression", "License" };
  for (size_t i = 0; i < ARRAY_SIZE (fields); i++)
    {
      char *v = metadata_field (metadata, fields[i]);
      if (v && sbom_license_valid (v))
        return v;
      free (v);
    }
  /* Classifiers: one license in all, and that one unambiguous. */
  const char *found = NULL;
  int licenses_named = 0;
  for (const char *p = metadata; p && *p && *p != '\n' && !(p[0] == '\r' && p[1] == '\n');)
    {
      const char *eol = strchr (p, '\n');
      size_t len = eol ? (size_t) (eol - p) : strlen (p);
      while (len > 0 && isspace ((unsigned char) p[len - 1]))
        len--;
      if (len > 12 && strncmp (p, "Classifier: License ::", 22) == 0)
        {
          licenses_named++;
          for (size_t i = 0; i < ARRAY_SIZE (classifiers); i++)
            if (strlen (classifiers[i].classifier) == len - 12 && memcmp (p + 12, classifiers[i].classifier, len - 12) == 0)
              found = classifiers[i].id;
        }
      p = eol ? eol + 1 : NULL;
    }
  return licenses_named == 1 && found ? xstrdup (found) : NULL;
}

void
sbom_dpkg_free (struct sbom_dpkg *d, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (d[i].name);
      free (d[i].version);
      free (d[i].arch);
    }
  free (d);
}

int
sbom_dpkg_parse (const char *status, struct sbom_dpkg **out, size_t *n)
{
  struct sbom_dpkg *d = NULL;
  size_t nd = 0, alloc = 0;
  const char *p = status;
  while (*p)
    {
      const char *end = strstr (p, "\n\n");
      size_t len = end ? (size_t) (end - p) + 1 : strlen (p);
      cleanup_free char *para = xstrndup (p, len);
      char *name = metadata_field (para, "Package"), *version = metadata_field (para, "Version"),
           *arch = metadata_field (para, "Architecture"), *st = metadata_field (para, "Status");
      if (name && version && st && strcmp (st, "install ok installed") == 0)
        {
          ARRAY_GROW (d, nd + 1, alloc);
          d[nd++] = (struct sbom_dpkg) { name, version, arch ? arch : xstrdup ("amd64") };
          name = version = arch = NULL;
        }
      free (name);
      free (version);
      free (arch);
      free (st);
      p += len;
      while (*p == '\n')
        p++;
    }
  *out = d;
  *n = nd;
  return 0;
}

/* SPDX idstring: letters, digits, '.', '-'; anything else becomes '-'. */
static void
add_idstring (struct strbuf *sb, const char *s)
{
  for (; *s; s++)
    strbuf_addch (sb, ascii_alnum (*s) || *s == '.' || *s == '-' ? *s : '-');
}

/* purl's percent-encoding: unreserved characters as they are, the rest %XX. */
static void
add_purl_part (struct strbuf *sb, const char *s)
{
  for (; *s; s++)
    if (ascii_alnum (*s) || (*s && strchr ("-._~", *s)))
      strbuf_addch (sb, *s);
    else
      strbuf_addf (sb, "%%%02X", (unsigned char) *s);
}

static const char *
kind_prefix (enum sbom_kind k)
{
  switch (k)
    {
    case SBOM_WHEEL:
      return "pypi";
    case SBOM_DEB:
      return "deb";
    case SBOM_DPKG:
      return "dpkg";
    case SBOM_NVIDIA:
      return "nvidia";
    case SBOM_BASE:
      return "base";
    }
  return "other";
}

static json_t *
string_or_none (const char *s)
{
  json_t *j = s ? json_string (s) : json_string ("NOASSERTION");
  return j ? j : json_string ("NOASSERTION");
}

static json_t *
package_json (const struct sbom_package *p, const char *id)
{
  const char *lic = p->license && sbom_license_valid (p->license) ? p->license : NULL;
  /* Concluded: pcgen analyses no file, so NOASSERTION; declared: what the package says. */
  json_t *j = json_pack ("{s:s, s:o, s:o, s:o, s:b, s:s, s:o}", "SPDXID", id, "name", string_or_none (p->name),
                         "versionInfo", string_or_none (p->version), "downloadLocation", string_or_none (p->download),
                         "filesAnalyzed", 0, "licenseConcluded", "NOASSERTION", "licenseDeclared",
                         string_or_none (lic));
  if (p->file)
    json_object_set_new (j, "packageFileName", string_or_none (p->file));
  json_object_set_new (j, "copyrightText", json_string ("NOASSERTION"));
  if (p->sha256)
    json_object_set_new (j, "checksums", json_pack ("[{s:s, s:s}]", "algorithm", "SHA256", "checksumValue", p->sha256));
  struct strbuf purl = STRBUF_INIT;
  if (p->kind == SBOM_WHEEL)
    {
      strbuf_addstr (&purl, "pkg:pypi/");
      add_purl_part (&purl, p->name);
    }
  else if (p->kind == SBOM_DEB || p->kind == SBOM_DPKG)
    {
      strbuf_addstr (&purl, "pkg:deb/debian/");
      add_purl_part (&purl, p->name);
    }
  if (purl.len && p->version)
    {
      strbuf_addch (&purl, '@');
      add_purl_part (&purl, p->version);
    }
  if (purl.len && (p->kind == SBOM_DEB || p->kind == SBOM_DPKG))
    {
      strbuf_addstr (&purl, "?arch=");
      add_purl_part (&purl, p->arch ? p->arch : "amd64");
    }
  if (purl.len)
    json_object_set_new (j, "externalRefs",
                         json_pack ("[{s:s, s:s, s:s}]", "referenceCategory", "PACKAGE-MANAGER", "referenceType", "purl",
                                    "referenceLocator", purl.buf));
  strbuf_release (&purl);
  return j;
}

int
sbom_document (const struct sbom_input *in, struct strbuf *out, struct strbuf *err)
{
  json_t *packages = json_array (), *rels = json_array ();
  json_t *image = json_pack ("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s}", "SPDXID", "SPDXRef-image", "name",
                             in->image, "versionInfo", in->tag, "downloadLocation", "NOASSERTION", "filesAnalyzed", 0,
                             "licenseConcluded", "NOASSERTION", "licenseDeclared", "NOASSERTION", "copyrightText",
                             "NOASSERTION", "primaryPackagePurpose", "CONTAINER");
  if (image == NULL)
    {
      json_decref (packages);
      json_decref (rels);
      return strbuf_addf (err, "sbom: '%s' is not UTF-8", in->image), -1;
    }
  json_array_append_new (packages, image);
  json_array_append_new (rels, json_pack ("{s:s, s:s, s:s}", "spdxElementId", "SPDXRef-DOCUMENT", "relationshipType",
                                          "DESCRIBES", "relatedSpdxElement", "SPDXRef-image"));
  json_t *ids = json_object (); /* the SPDXIDs given: json_object copies its keys */
  json_object_set_new (ids, "SPDXRef-image", json_true ());
  for (size_t i = 0; i < in->n; i++)
    {
      const struct sbom_package *p = &in->p[i];
      struct strbuf id = STRBUF_INIT;
      strbuf_addf (&id, "SPDXRef-%s-", kind_prefix (p->kind));
      add_idstring (&id, p->name ? p->name : "unnamed");
      if (p->version)
        {
          strbuf_addch (&id, '-');
          add_idstring (&id, p->version);
        }
      if (p->kind == SBOM_DPKG && p->arch)
        {
          strbuf_addch (&id, '-');
          add_idstring (&id, p->arch);
        }
      size_t base_len = id.len;
      for (unsigned k = 2; json_object_get (ids, id.buf) != NULL; k++)
        {
          id.len = base_len;
          id.buf[id.len] = '\0';
          strbuf_addf (&id, "-%u", k);
        }
      json_object_set_new (ids, id.buf, json_true ());
      json_array_append_new (packages, package_json (p, id.buf));
      json_array_append_new (rels, json_pack ("{s:s, s:s, s:s}", "spdxElementId", "SPDXRef-image", "relationshipType",
                                              "CONTAINS", "relatedSpdxElement", id.buf));
      strbuf_release (&id);
    }
  json_decref (ids);
  cleanup_free char *tool = xasprintf ("Tool: %s", in->tool);
  json_t *doc = json_pack ("{s:s, s:s, s:s, s:s, s:{s:s, s:[s]}, s:o, s:o}", "spdxVersion", "SPDX-2.3", "dataLicense",
                           "CC0-1.0", "SPDXID", "SPDXRef-DOCUMENT", "name", in->image, "creationInfo", "created",
                           in->created, "creators", tool, "packages", packages, "relationships", rels);
  if (doc == NULL)
    return strbuf_addf (err, "sbom: cannot make the document of %s", in->tag), -1;
  /* The namespace: unique per content, the same for the same content. */
  char *flat = json_dumps (doc, JSON_COMPACT | JSON_SORT_KEYS);
  char d[SHA256_HEX_LEN + 1];
  sha256_hex (flat, strlen (flat), d);
  free (flat);
  struct strbuf ns = STRBUF_INIT;
  strbuf_addstr (&ns, SBOM_NAMESPACE_PREFIX);
  add_idstring (&ns, in->tag);
  strbuf_addf (&ns, "-%.32s", d);
  json_object_set_new (doc, "documentNamespace", json_string (ns.buf));
  strbuf_release (&ns);
  char *text = json_dumps (doc, JSON_INDENT (2) | JSON_SORT_KEYS);
  json_decref (doc);
  strbuf_addstr (out, text);
  strbuf_addch (out, '\n');
  free (text);
  return 0;
}

/* --- a tag's packages ------------------------------------------------------------------- */

struct pkgs
{
  struct sbom_package *p;
  size_t n, alloc;
  char **owned; /* strings to free */
  size_t nowned, owned_alloc;
};

static const char *
own (struct pkgs *ps, char *s)
{
  ARRAY_GROW (ps->owned, ps->nowned + 1, ps->owned_alloc);
  ps->owned[ps->nowned++] = s;
  return s;
}

static void
pkgs_release (struct pkgs *ps)
{
  for (size_t i = 0; i < ps->nowned; i++)
    free (ps->owned[i]);
  free (ps->owned);
  free (ps->p);
}

static void
push (struct pkgs *ps, struct sbom_package p)
{
  /* The same file twice (a wheel in both sets) is listed once. */
  for (size_t i = 0; p.sha256 && i < ps->n; i++)
    if (ps->p[i].sha256 && strcmp (ps->p[i].sha256, p.sha256) == 0)
      return;
  ARRAY_GROW (ps->p, ps->n + 1, ps->alloc);
  ps->p[ps->n++] = p;
}

/* "name_1.2-3_amd64.deb" -> "amd64" (NULL when the name has no architecture). */
static char *
deb_arch (const char *file)
{
  const char *slash = strrchr (file, '/');
  const char *base = slash ? slash + 1 : file;
  const char *us = strrchr (base, '_'), *dot = strrchr (base, '.');
  return us && dot && dot > us + 1 ? xstrndup (us + 1, (size_t) (dot - us - 1)) : NULL;
}

static void
add_kb_debs (struct pkgs *ps, const struct kb_deb *d, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      const char *mirror = d[i].archive == DEB_ARCHIVE_SECURITY ? DEFAULT_DEBIAN_SECURITY_MIRROR : DEFAULT_DEBIAN_MIRROR;
      push (ps, (struct sbom_package) { SBOM_DEB, d[i].name, d[i].version, own (ps, deb_arch (d[i].path)), d[i].sha256,
                                        own (ps, xasprintf ("%s/%s", mirror, d[i].path)), NULL,
                                        own (ps, xstrdup (strrchr (d[i].path, '/') ? strrchr (d[i].path, '/') + 1 : d[i].path)) });
    }
}

/* The wheel's python tag: {name}-{ver}(-{build})?-{python}-{abi}-{platform}.whl */
static char *
wheel_python_tag (const char *file)
{
  size_t n = strlen (file);
  if (n < 4 || strcmp (file + n - 4, ".whl") != 0)
    return NULL;
  const char *dash[3] = { NULL, NULL, NULL };
  int k = 0;
  for (const char *p = file + n - 4; p > file && k < 3; p--)
    if (p[-1] == '-')
      dash[k++] = p - 1;
  if (k < 3)
    return NULL;
  return xstrndup (dash[2] + 1, (size_t) (dash[1] - dash[2] - 1));
}

/* PyPI's files have a stable address by project and file name (files.pythonhosted.org's
   /packages/<python tag>/<first letter>/<project>/<file>, which redirects to the file). */
static char *
wheel_url (const struct lockset *s, const struct locked_wheel *w)
{
  if (s->source_kind != SOURCE_PYPI)
    return NULL; /* an index or a wheelhouse: where pip took it is not recorded */
  cleanup_free char *py = wheel_python_tag (w->file);
  if (py == NULL || w->name[0] == '\0')
    return NULL;
  struct strbuf u = STRBUF_INIT;
  strbuf_addf (&u, "https://files.pythonhosted.org/packages/%s/%c/%s/", py, w->name[0], w->name);
  for (const char *c = w->file; *c; c++)
    if (*c == '+')
      strbuf_addstr (&u, "%2B");
    else
      strbuf_addch (&u, *c);
  return strbuf_detach (&u, NULL);
}

/* METADATA of a cached wheel through its central directory (lazywheel.h): the pages of a 800 MB
   wheel that hold it, not the whole file. */
static int
wheel_license (const char *path, char **license, struct strbuf *err)
{
  *license = NULL;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      return strbuf_addf (err, "cannot read '%s': %s", path, strerror (e)), -1;
    }
  if (st.st_size == 0)
    {
      close (fd);
      return strbuf_addf (err, "'%s' is empty, not a wheel", path), -1;
    }
  void *m = mmap (NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  int map_errno = errno;
  close (fd);
  if (m == MAP_FAILED)
    return strbuf_addf (err, "cannot map '%s': %s", path, strerror (map_errno)), -1;
  struct strbuf meta = STRBUF_INIT, e = STRBUF_INIT;
  int rc = lazy_wheel_metadata_memory (m, (size_t) st.st_size, &meta, &e);
  munmap (m, (size_t) st.st_size);
  if (rc == 0)
    *license = sbom_metadata_license (meta.buf);
  else
    strbuf_addf (err, "%s: %s", path, e.buf);
  strbuf_release (&meta);
  strbuf_release (&e);
  return rc == 0 ? 0 : -1;
}

/* A wheel's license as this file's rules read it, noted in the cache by the wheel's sha256
   (CACHE/licenses/<rules>/<sha256>: the license and a newline, or only a newline for none), so
   that the document needs no wheel whose layers are cached already (build.c). Bump the rules'
   number when the reading above changes: older notes are then not used. */
#define LICENSE_RULES 1

static char *
license_note_path (const char *sha256)
{
  return xasprintf ("%s/licenses/%d/%s", cache_dir (), LICENSE_RULES, sha256);
}

/* 1 and *license (NULL: none) when the note is there, else 0. */
static int
license_note_read (const char *sha256, char **license)
{
  *license = NULL;
  if (!cache_valid_sha256 (sha256))
    return 0;
  cleanup_free char *path = license_note_path (sha256);
  struct strbuf sb = STRBUF_INIT;
  int found = strbuf_read_file (&sb, path, 4096) == 0 && sb.len > 0 && sb.buf[sb.len - 1] == '\n';
  if (found)
    sb.buf[--sb.len] = '\0';
  if (found && sb.len > 0 && sbom_license_valid (sb.buf))
    *license = xstrdup (sb.buf);
  strbuf_release (&sb);
  return found;
}

static void
license_note_write (const char *sha256, const char *license)
{
  if (!cache_valid_sha256 (sha256))
    return;
  cleanup_free char *path = license_note_path (sha256);
  cleanup_free char *dir = xstrndup (path, (size_t) (strrchr (path, '/') - path));
  cleanup_free char *text = xasprintf ("%s\n", license ? license : "");
  if (mkdir_p (dir, 0755) == 0)
    write_file_atomic (path, text, strlen (text), 0644); /* a note not written is read from the wheel next time */
}

/* The license of wheel w: from the cached wheel (noting it), else from the cache's note, else
   none, counted in *unknown (with the first such wheel in *first): a wheel gone from the cache
   (pcgen build --lean, a cache of layers only) is not fetched again for its METADATA. */
static int
locked_wheel_license (const struct locked_wheel *w, char **license, size_t *unknown, const char **first,
                      struct strbuf *err)
{
  cleanup_free char *path = lock_wheel_path (w);
  if (access (path, F_OK) != 0 && errno == ENOENT)
    {
      if (!license_note_read (w->sha256, license) && (*unknown)++ == 0)
        *first = w->file;
      return 0;
    }
  if (wheel_license (path, license, err) < 0)
    return -1;
  char *noted = NULL;
  int same = license_note_read (w->sha256, &noted) && (noted && *license ? strcmp (noted, *license) == 0 : noted == *license);
  free (noted);
  if (!same)
    license_note_write (w->sha256, *license);
  return 0;
}

static int
add_set (struct pkgs *ps, const struct lockset *s, size_t *unknown, const char **first, struct strbuf *err)
{
  for (size_t i = 0; s && i < s->n; i++)
    {
      const struct locked_wheel *w = &s->w[i];
      if (ends_with (w->file, ".whl"))
        {
          char *lic = NULL;
          if (locked_wheel_license (w, &lic, unknown, first, err) < 0)
            return -1;
          push (ps, (struct sbom_package) { SBOM_WHEEL, w->name, w->version, NULL, w->sha256,
                                            own (ps, wheel_url (s, w)), lic ? own (ps, lic) : NULL, w->file });
        }
      else if (ends_with (w->file, ".deb"))
        push (ps, (struct sbom_package) { SBOM_DEB, w->name, w->version, own (ps, deb_arch (w->file)), w->sha256,
                                          w->path ? own (ps, xasprintf ("%s/%s", DEFAULT_DEBIAN_MIRROR, w->path)) : NULL,
                                          NULL, w->file });
      else
        push (ps, (struct sbom_package) { SBOM_NVIDIA, w->name, w->version, NULL, w->sha256,
                                          w->path ? own (ps, xasprintf ("%s/%s", DEFAULT_CUDA_REDIST, w->path)) : NULL,
                                          NULL, w->file });
    }
  return 0;
}

int
sbom_write_for_tag (const struct ptag *t, const struct lockset *ts, const struct lockset *ds, int offline,
                    struct strbuf *err)
{
  cleanup_free char *tar = NULL;
  char sha[SHA256_HEX_LEN + 1];
  if (base_rootfs (t->base, offline, &tar, sha, err) < 0)
    return -1;
  const char *names[] = { "var/lib/dpkg/status" };
  struct strbuf status = STRBUF_INIT;
  if (base_read_files (tar, names, 1, &status, err) < 0)
    {
      strbuf_release (&status);
      return -1;
    }
  struct sbom_dpkg *dp = NULL;
  size_t ndp = 0;
  sbom_dpkg_parse (status.buf, &dp, &ndp);
  strbuf_release (&status);

  struct pkgs ps = { 0 };
  push (&ps, (struct sbom_package) { SBOM_BASE, t->base->name, own (&ps, xasprintf ("%.12s", sha)), NULL, sha, NULL,
                                     NULL, NULL });
  for (size_t i = 0; i < ndp; i++)
    push (&ps, (struct sbom_package) { SBOM_DPKG, dp[i].name, dp[i].version, dp[i].arch, NULL, NULL, NULL, NULL });
  add_kb_debs (&ps, t->base->toolchain, t->base->ntoolchain);
  if (t->flavor == FLAVOR_DEVEL)
    add_kb_debs (&ps, t->base->buildtools, t->base->nbuildtools);
  if (t->flavor == FLAVOR_NOTEBOOK)
    add_kb_debs (&ps, t->base->notebook, t->base->nnotebook);
  size_t unknown = 0;
  const char *first = NULL;
  int rc = add_set (&ps, ts, &unknown, &first, err) < 0 || add_set (&ps, ds, &unknown, &first, err) < 0 ? -1 : 0;
  if (unknown)
    fprintf (stderr, "pcgen: warning: %s: sbom: %zu wheel%s (%s%s) not in the cache (%s) and never read: license "
                     "NOASSERTION (pcgen fetch gets them)\n", t->name, unknown, unknown == 1 ? " is" : "s are", first,
             unknown == 1 ? "" : ", …", cache_dir ());
  struct strbuf doc = STRBUF_INIT;
  cleanup_free char *created = oci_created ();
  struct sbom_input in = { t->ref, t->name, created, "pcgen-" PCGEN_VERSION, ps.p, ps.n };
  cleanup_free char *path = xasprintf (SBOM_BUILD_FMT, t->name);
  if (rc == 0)
    rc = sbom_document (&in, &doc, err);
  if (rc == 0 && (mkdir_p ("build/sbom", 0755) < 0 || write_file_atomic (path, doc.buf, doc.len, 0644) < 0))
    {
      strbuf_addf (err, "cannot write '%s': %s", path, strerror (errno));
      rc = -1;
    }
  strbuf_release (&doc);
  pkgs_release (&ps);
  sbom_dpkg_free (dp, ndp);
  return rc;
}
