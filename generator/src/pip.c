/* pip.c: see pip.h. */
#include "pip.h"
#include "run.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* glibc 2.36 (Debian bookworm) runs wheels up to manylinux_2_36; pip matches each tag exactly,
   so every one is named. */
static void
add_platforms (const char **argv, size_t *n, char storage[][32])
{
  static const char *const legacy[] = { "manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64" };
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
      strbuf_addf (line, "no wheel of %s for this platform and Python there (versions there: %s)", nomatch,
                   versions && *versions ? versions : "none");
      if (missing)
        *missing = xstrdup (nomatch);
      return PIP_NOT_FOUND;
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

int
pip_download (const char *const *specs, size_t nspecs, const struct pip_source *src,
              const char *python, const char *dest, char **missing, struct strbuf *err)
{
  if (missing)
    *missing = NULL;
  const char **argv = xcalloc (120 + nspecs, sizeof *argv);
  char platforms[37][32];
  size_t n = 0;
  argv[n++] = "python3";
  argv[n++] = "-m";
  argv[n++] = "pip";
  argv[n++] = "download";
  argv[n++] = "--quiet";
  argv[n++] = "--no-deps";
  argv[n++] = "--only-binary=:all:";
  argv[n++] = "--implementation";
  argv[n++] = "cp";
  argv[n++] = "--python-version";
  argv[n++] = python;
  add_platforms (argv, &n, platforms);
  argv[n++] = "--dest";
  argv[n++] = dest;
  if (strcmp (src->kind, "index") == 0)
    {
      argv[n++] = "--index-url";
      argv[n++] = src->where;
    }
  else if (strcmp (src->kind, "wheelhouse") == 0)
    {
      argv[n++] = "--no-index";
      argv[n++] = "--find-links";
      argv[n++] = src->where;
    }
  for (size_t i = 0; i < nspecs; i++)
    argv[n++] = specs[i];
  argv[n] = NULL;
  struct strbuf out = STRBUF_INIT, perr = STRBUF_INIT;
  struct run_opts o = { argv, NULL, NULL, &out, &perr, 1 };
  int rc = run_command (&o), fail = 0;
  if (rc != 0)
    {
      strbuf_addstr (err, "pip download ");
      for (size_t i = 0; i < nspecs && i < 3; i++)
        strbuf_addf (err, "%s%s", i ? " " : "", specs[i]);
      if (nspecs > 3)
        strbuf_addf (err, " (and %zu more)", nspecs - 3);
      strbuf_addf (err, " from %s", src->where ? src->where : "pip's index");
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
  free (argv);
  return fail;
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
