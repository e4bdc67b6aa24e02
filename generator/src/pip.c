/* pip.c: see pip.h. */
#include "pip.h"
#include "cache.h"
#include "fsutil.h"
#include "run.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* glibc 2.36 (Debian bookworm) runs wheels up to manylinux_2_36; pip matches each tag exactly,
   so every one is named. `linux_x86_64` is the tag of PyTorch's own index through 2.6
   (torch-2.4.1+cu118-cp311-cp311-linux_x86_64.whl, torch-2.6.0+cu118-cp312-cp312-linux_x86_64.whl
   in users' pip logs; its wheels are built on manylinux images but not tagged so); later
   releases there are tagged manylinux_2_28_x86_64. Nothing but x86_64 is named. */
static void
add_platforms (const char **argv, size_t *n, char storage[][32])
{
  static const char *const legacy[]
      = { "linux_x86_64", "manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64" };
  for (size_t i = 0; i < ARRAY_SIZE (legacy); i++)
    {
      argv[(*n)++] = "--platform";
      argv[(*n)++] = legacy[i];
    }
  for (int minor = 5; minor <= 36; minor++)
    {
      snprintf (storage[minor], 32, "manylinux_2_%d_x86_64", minor);
      argv[(*n)++] = "--platform";
      argv[(*n)++] = storage[minor];
    }
}

/* The rest of the line after `key` in text, whitespace collapsed; NULL if key is absent. */
static char *
after (const char *text, const char *key)
{
  const char *p = strstr (text, key);
  if (p == NULL)
    return NULL;
  p += strlen (key);
  while (*p == ' ' || *p == '\t')
    p++;
  return xstrndup (p, strcspn (p, "\n"));
}

/* The last line starting with `prefix`, without it; NULL if none. */
static char *
last_line_with (const char *text, const char *prefix)
{
  const char *found = NULL;
  for (const char *p = text; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (starts_with (p, prefix))
      found = p + strlen (prefix);
  return found ? xstrndup (found, strcspn (found, "\n")) : NULL;
}

static void
add_collapsed (struct strbuf *out, const char *s)
{
  int space = 0;
  for (; *s; s++)
    {
      if (isspace ((unsigned char) *s))
        space = out->len > 0;
      else
        {
          if (space)
            strbuf_addch (out, ' ');
          space = 0;
          strbuf_addch (out, *s);
        }
    }
}

/* Why a connection failed, in a few words, from urllib3's message. */
static const char *
connection_reason (const char *text)
{
  static const char *const known[][2] = {
    { "Connection refused", "connection refused" },
    { "Name or service not known", "unknown host" },
    { "Temporary failure in name resolution", "host name not resolved" },
    { "No route to host", "no route to host" },
    { "Network is unreachable", "network unreachable" },
    { "CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted" },
    { "SSLError", "TLS error" },
    { "ProxyError", "proxy error" },
    { "timed out", "timed out" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (known); i++)
    if (strstr (text, known[i][0]))
      return known[i][1];
  return "connection failed";
}

int
pip_explain (const char *output, struct strbuf *line, char **missing)
{
  if (missing)
    *missing = NULL;
  cleanup_free char *expected = after (output, "Expected sha256");
  cleanup_free char *got = after (output, "Got");
  if (expected && got && strstr (output, "DO NOT MATCH THE HASHES"))
    {
      /* "    torch==2.6.0 from http://.../torch-....whl#sha256=...:" */
      const char *from = strstr (output, " from ");
      cleanup_free char *url = from ? xstrndup (from + 6, strcspn (from + 6, "#\n")) : NULL;
      if (url && url[0] && url[strlen (url) - 1] == ':')
        url[strlen (url) - 1] = '\0';
      strbuf_addf (line, "%s has sha256 %s, but the index lists %s: refused", url ? url : "a wheel", got,
                   expected);
      return PIP_HASH;
    }
  if (strstr (output, "after connection broken by") || strstr (output, "NewConnectionError")
      || strstr (output, "Could not fetch URL") || strstr (output, "SSLError"))
    {
      strbuf_addf (line, "cannot reach the index: %s", connection_reason (output));
      return PIP_UNREACHABLE;
    }
  cleanup_free char *ignored = after (output, "WARNING: Location '");
  if (ignored && strstr (ignored, "non-existing path"))
    {
      ignored[strcspn (ignored, "'")] = '\0';
      strbuf_addf (line, "wheelhouse '%s' does not exist", ignored);
      return PIP_UNREACHABLE;
    }
  cleanup_free char *nomatch = last_line_with (output, "ERROR: No matching distribution found for ");
  if (nomatch)
    {
      cleanup_free char *versions = after (output, "(from versions:");
      if (versions)
        versions[strcspn (versions, ")")] = '\0';
      /* "...satisfies the requirement MarkupSafe>=2.0 (from jinja2) (from versions: none)": pip
         names what required it, a package or nothing (the user, here pcgen). */
      cleanup_free char *asked = after (output, "satisfies the requirement ");
      cleanup_free char *by = NULL;
      const char *from = asked ? strstr (asked, " (from ") : NULL;
      if (from && !starts_with (from, " (from versions:"))
        {
          by = xstrndup (from + 7, strcspn (from + 7, ")"));
          if (*by == '\0')
            free (by), by = NULL;
        }
      strbuf_addf (line, "no wheel of %s%s%s%s for this platform and Python there (versions there: %s)", nomatch,
                   by ? " (required by " : "", by ? by : "", by ? ")" : "", versions && *versions ? versions : "none");
      if (missing)
        *missing = xstrdup (nomatch);
      return PIP_NOT_FOUND;
    }
  /* ResolutionImpossible: "The conflict is caused by:" and one indented line per cause. */
  const char *conflict = strstr (output, "The conflict is caused by:");
  if (conflict)
    {
      strbuf_addstr (line, "conflicting requirements:");
      const char *p = strchr (conflict, '\n');
      int causes = 0;
      while (p && p[1] == ' ')
        {
          p++;
          const char *end = strchr (p, '\n');
          const char *b = p + strspn (p, " ");
          cleanup_free char *cause = xstrndup (b, end ? (size_t) (end - b) : strlen (b));
          strbuf_addstr (line, causes++ ? ";" : "");
          strbuf_addch (line, ' ');
          add_collapsed (line, cause);
          p = end;
        }
      if (causes == 0)
        strbuf_addstr (line, " (pip named none)");
      return PIP_FAILED;
    }
  size_t before = line->len;
  cleanup_free char *last = last_line_with (output, "ERROR: ");
  if (last)
    add_collapsed (line, last);
  else
    {
      /* The last non-empty line. */
      const char *end = output + strlen (output);
      while (end > output && isspace ((unsigned char) end[-1]))
        end--;
      const char *b = end;
      while (b > output && b[-1] != '\n')
        b--;
      cleanup_free char *l = xstrndup (b, (size_t) (end - b));
      add_collapsed (line, l);
    }
  if (line->len == before) /* "ERROR: " and nothing after it, or only blanks */
    strbuf_addstr (line, "no message");
  return PIP_FAILED;
}

/* The options every pip run of pcgen shares: binary wheels for the image's platform and Python,
   from the source (and pip's own index too, with fallback). argv must have room for 100. */
static void
add_common (const char **argv, size_t *n, const struct pip_source *src, const char *python, char storage[][32])
{
  argv[(*n)++] = "--quiet";
  argv[(*n)++] = "--only-binary=:all:";
  argv[(*n)++] = "--implementation";
  argv[(*n)++] = "cp";
  argv[(*n)++] = "--python-version";
  argv[(*n)++] = python;
  add_platforms (argv, n, storage);
  if (src->kind == SOURCE_INDEX)
    {
      /* With fallback, pip's own index stays first and the source is an extra one; torch is
         checked to come from the source all the same (lock.c). */
      argv[(*n)++] = src->fallback ? "--extra-index-url" : "--index-url";
      argv[(*n)++] = src->where;
    }
  else if (src->kind == SOURCE_WHEELHOUSE)
    {
      if (!src->fallback)
        argv[(*n)++] = "--no-index";
      argv[(*n)++] = "--find-links";
      argv[(*n)++] = src->where;
    }
}

/* Run pip (argv), and on failure put "WHAT from WHERE failed (exit N): why" into err. */
static int
run_pip (const char **argv, const char *what, const struct pip_source *src, char **missing, struct strbuf *err)
{
  struct strbuf out = STRBUF_INIT, perr = STRBUF_INIT;
  struct run_opts o = { argv, NULL, NULL, &out, &perr, 1 };
  int rc = run_command (&o), fail = 0;
  if (rc != 0)
    {
      strbuf_addf (err, "%s from %s%s", what, src->where ? src->where : "pip's index",
                   src->fallback && src->where ? " and pip's index" : "");
      if (rc < 0)
        {
          strbuf_addstr (err, " could not start: is python3 with pip installed?");
          fail = PIP_FAILED;
        }
      else
        {
          strbuf_addf (err, " failed (exit %d): ", rc);
          strbuf_addch (&perr, '\n');
          strbuf_add (&perr, out.buf, out.len);
          fail = pip_explain (perr.buf, err, missing);
        }
    }
  strbuf_release (&out);
  strbuf_release (&perr);
  return fail;
}

static void
describe (struct strbuf *what, const char *verb, const char *const *specs, size_t n)
{
  strbuf_addstr (what, verb);
  for (size_t i = 0; i < n && i < 3; i++)
    strbuf_addf (what, " %s", specs[i]);
  if (n > 3)
    strbuf_addf (what, " (and %zu more)", n - 3);
}

void
pip_wheels_free (struct pip_wheel *w, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (w[i].name);
      free (w[i].version);
      free (w[i].url);
      free (w[i].file);
      free (w[i].sha256);
      free (w[i].requires_dist);
    }
  free (w);
}

char *
url_decode (const char *s)
{
  struct strbuf sb = STRBUF_INIT;
  for (const char *p = s; *p; p++)
    {
      if (p[0] == '%' && isxdigit ((unsigned char) p[1]) && isxdigit ((unsigned char) p[2]))
        {
          char hex[3] = { p[1], p[2], 0 };
          strbuf_addch (&sb, (char) strtol (hex, NULL, 16));
          p += 2;
        }
      else
        strbuf_addch (&sb, *p);
    }
  return strbuf_detach (&sb, NULL);
}

static int
is_sha256 (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return 0;
  for (const char *p = s; *p; p++)
    if (!isxdigit ((unsigned char) *p) || isupper ((unsigned char) *p))
      return 0;
  return 1;
}

/* pip's installation report (pip >= 22.2, "version": "1"; docs: "Installation Report"):
   install[] of { metadata: {name, version, requires_dist}, download_info: {url, archive_info:
   {hash: "sha256=...", hashes: {sha256: ...} (pip >= 23.0)}} }. */
int
pip_report_parse (const char *text, struct pip_wheel **out, size_t *n, struct strbuf *err)
{
  *out = NULL;
  *n = 0;
  json_error_t je;
  json_t *root = json_loads (text, 0, &je);
  if (root == NULL)
    return strbuf_addf (err, "pip's report is not JSON: %d:%d: %s", je.line, je.column, je.text), -1;
  int rc = 0;
  json_t *install = json_object_get (root, "install");
  if (strcmp (json_string_value (json_object_get (root, "version")) ? json_string_value (json_object_get (root, "version")) : "", "1") != 0
      || !json_is_array (install))
    {
      strbuf_addstr (err, "pip's report is not version 1 with an 'install' list (pip >= 22.2 writes one)");
      json_decref (root);
      return -1;
    }
  size_t alloc = 0, i;
  json_t *it;
  json_array_foreach (install, i, it)
  {
    json_t *meta = json_object_get (it, "metadata"), *dl = json_object_get (it, "download_info");
    json_t *ai = json_object_get (dl, "archive_info");
    const char *name = json_string_value (json_object_get (meta, "name"));
    const char *version = json_string_value (json_object_get (meta, "version"));
    const char *url = json_string_value (json_object_get (dl, "url"));
    if (name == NULL || version == NULL || url == NULL)
      {
        strbuf_addf (err, "pip's report: entry %zu lacks metadata.name, metadata.version or download_info.url", i + 1);
        rc = -1;
        break;
      }
    ARRAY_GROW (*out, *n + 1, alloc);
    struct pip_wheel *w = &(*out)[(*n)++];
    memset (w, 0, sizeof *w);
    w->name = pep503_name (name);
    w->version = xstrdup (version);
    w->url = xstrdup (url);
    size_t end = strcspn (url, "?#");
    const char *slash = url;
    for (const char *p = url; p < url + end; p++)
      if (*p == '/')
        slash = p + 1;
    cleanup_free char *seg = xstrndup (slash, (size_t) (url + end - slash));
    w->file = url_decode (seg);
    const char *sha = json_string_value (json_object_get (json_object_get (ai, "hashes"), "sha256"));
    const char *hash = json_string_value (json_object_get (ai, "hash"));
    if (sha == NULL && hash && starts_with (hash, "sha256="))
      sha = hash + 7;
    w->sha256 = is_sha256 (sha) ? xstrdup (sha) : NULL;
    json_t *rd = json_object_get (meta, "requires_dist"), *r;
    size_t k;
    if (json_is_array (rd))
      {
        struct strbuf sb = STRBUF_INIT;
        json_array_foreach (rd, k, r)
        if (json_string_value (r))
          strbuf_addf (&sb, "%s\n", json_string_value (r));
        w->requires_dist = strbuf_detach (&sb, NULL);
      }
    char *wn, *wv;
    if (ai == NULL || wheel_file_name (w->file, &wn, &wv) < 0)
      {
        strbuf_addf (err, "pip's report: %s %s is not a wheel (%s)", name, version, url);
        rc = -1;
        break;
      }
    free (wn);
    free (wv);
    /* The name comes from the URL decoded: "%2F" is a '/' there, and the name becomes a path
       in the cache and in matrix.lock, which refuse it; refused here, where it comes from. */
    if (!cache_valid_file (w->file))
      {
        strbuf_addf (err, "pip's report: %s %s: the file name of %s is not a plain file name", name, version, url);
        rc = -1;
        break;
      }
  }
  json_decref (root);
  if (rc < 0)
    {
      pip_wheels_free (*out, *n);
      *out = NULL;
      *n = 0;
    }
  return rc;
}

int
pip_resolve (const char *const *specs, size_t nspecs, const struct pip_source *src, const char *python,
             int no_deps, struct pip_wheel **out, size_t *n, char **missing, struct strbuf *err)
{
  *out = NULL;
  *n = 0;
  if (missing)
    *missing = NULL;
  const char *tmp = getenv ("TMPDIR");
  cleanup_free char *dir = xasprintf ("%s/pcgen-pip.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp (dir) == NULL)
    return strbuf_addf (err, "cannot create a folder in '%s': %s", tmp && *tmp ? tmp : "/tmp", strerror (errno)), PIP_FAILED;
  cleanup_free char *report = xasprintf ("%s/report.json", dir);
  cleanup_free char *target = xasprintf ("%s/target", dir);
  const char **argv = xcalloc (120 + nspecs, sizeof *argv);
  char platforms[37][32];
  size_t k = 0;
  argv[k++] = "python3";
  argv[k++] = "-m";
  argv[k++] = "pip";
  argv[k++] = "install";
  /* Resolve only: nothing is installed, the local environment does not count, and --target
     (never written) is what pip asks for with --platform and --python-version. */
  argv[k++] = "--dry-run";
  argv[k++] = "--ignore-installed";
  argv[k++] = "--report";
  argv[k++] = report;
  argv[k++] = "--target";
  argv[k++] = target;
  if (no_deps)
    argv[k++] = "--no-deps";
  add_common (argv, &k, src, python, platforms);
  for (size_t i = 0; i < nspecs; i++)
    argv[k++] = specs[i];
  argv[k] = NULL;
  struct strbuf what = STRBUF_INIT;
  describe (&what, "pip install --dry-run", specs, nspecs);
  int rc = run_pip (argv, what.buf, src, missing, err);
  strbuf_release (&what);
  free (argv);
  if (rc == 0)
    {
      struct strbuf text = STRBUF_INIT;
      if (strbuf_read_file (&text, report, 256u << 20) < 0)
        rc = PIP_FAILED, strbuf_addf (err, "pip wrote no report '%s': %s", report, strerror (errno));
      else if (pip_report_parse (text.buf, out, n, err) < 0)
        rc = PIP_FAILED;
      strbuf_release (&text);
    }
  unlink (report);
  rmdir (target);
  rmdir (dir);
  return rc;
}

int
pip_download (const struct pip_pin *pins, size_t npins, const struct pip_source *src, const char *python,
              const char *dest, char **missing, struct strbuf *err)
{
  if (missing)
    *missing = NULL;
  int hashed = npins > 0;
  for (size_t i = 0; i < npins; i++)
    hashed = hashed && pins[i].sha256 != NULL;
  /* With every digest known, a requirements file in pip's hash-checking mode: pip then takes the
     file with that sha256 among those the source lists, and verifies what it receives. */
  cleanup_free char *reqs = xasprintf ("%s.requirements.txt", dest);
  char **specs = xcalloc (npins + 1, sizeof *specs);
  struct strbuf body = STRBUF_INIT;
  for (size_t i = 0; i < npins; i++)
    {
      specs[i] = xasprintf ("%s==%s", pins[i].name, pins[i].version);
      if (hashed)
        strbuf_addf (&body, "%s --hash=sha256:%s\n", specs[i], pins[i].sha256);
    }
  int rc = 0;
  if (hashed && write_file_atomic (reqs, body.buf, body.len, 0644) < 0)
    {
      strbuf_addf (err, "cannot write '%s': %s", reqs, strerror (errno));
      rc = PIP_FAILED;
    }
  strbuf_release (&body);
  const char **argv = xcalloc (120 + npins, sizeof *argv);
  char platforms[37][32];
  size_t k = 0;
  argv[k++] = "python3";
  argv[k++] = "-m";
  argv[k++] = "pip";
  argv[k++] = "download";
  argv[k++] = "--no-deps";
  add_common (argv, &k, src, python, platforms);
  argv[k++] = "--dest";
  argv[k++] = dest;
  if (hashed)
    {
      argv[k++] = "-r";
      argv[k++] = reqs;
    }
  else
    for (size_t i = 0; i < npins; i++)
      argv[k++] = specs[i];
  argv[k] = NULL;
  if (rc == 0)
    {
      struct strbuf what = STRBUF_INIT;
      describe (&what, "pip download", (const char *const *) specs, npins);
      rc = run_pip (argv, what.buf, src, missing, err);
      strbuf_release (&what);
    }
  if (hashed)
    unlink (reqs);
  for (size_t i = 0; i < npins; i++)
    free (specs[i]);
  free (specs);
  free (argv);
  return rc;
}

char *
pep503_name (const char *name)
{
  struct strbuf sb = STRBUF_INIT;
  int sep = 0;
  for (const char *p = name; *p; p++)
    {
      if (*p == '-' || *p == '_' || *p == '.')
        sep = 1;
      else
        {
          if (sep && sb.len)
            strbuf_addch (&sb, '-');
          sep = 0;
          strbuf_addch (&sb, tolower ((unsigned char) *p));
        }
    }
  return strbuf_detach (&sb, NULL);
}

char *
pip_requirement_name (const char *spec)
{
  cleanup_free char *raw = xstrndup (spec, strcspn (spec, "<>=!~ ;[("));
  return pep503_name (raw);
}

int
wheel_file_name (const char *file, char **name, char **version)
{
  size_t len = strlen (file);
  if (len < 5 || strcmp (file + len - 4, ".whl") != 0)
    return -1;
  const char *dash = strchr (file, '-');
  if (dash == NULL)
    return -1;
  const char *dash2 = strchr (dash + 1, '-');
  if (dash2 == NULL)
    return -1;
  cleanup_free char *raw = xstrndup (file, (size_t) (dash - file));
  *name = pep503_name (raw);
  *version = xstrndup (dash + 1, (size_t) (dash2 - dash - 1));
  return 0;
}
