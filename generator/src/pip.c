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

static void
last_lines (const char *text, size_t lines, struct strbuf *out)
{
  size_t len = strlen (text);
  const char *p = text + len;
  while (p > text && lines)
    {
      p--;
      if (*p == '\n' && p != text + len - 1)
        lines--;
    }
  if (*p == '\n')
    p++;
  strbuf_addstr (out, p);
}

int
pip_download (const char *const *specs, size_t nspecs, const struct pip_source *src,
              const char *python, const char *dest, struct strbuf *err)
{
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
  int rc = run_command (&o);
  if (rc != 0)
    {
      strbuf_addstr (err, "pip download ");
      for (size_t i = 0; i < nspecs; i++)
        strbuf_addf (err, "%s%s", i ? " " : "", specs[i]);
      if (rc < 0)
        strbuf_addstr (err, " could not start: is python3 with pip installed?");
      else
        {
          strbuf_addf (err, " failed (exit %d)", rc);
          if (src->where)
            strbuf_addf (err, " from %s", src->where);
          strbuf_addstr (err, ":\n");
          last_lines (perr.len ? perr.buf : out.buf, 4, err);
        }
    }
  strbuf_release (&out);
  strbuf_release (&perr);
  free (argv);
  return rc == 0 ? 0 : -1;
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
