/* command.c: the `python` a user types is the image's Python. Users start with `docker run
   IMAGE python train.py`; Debian's python3 package installs only `python3`, and `python` comes
   from python-is-python3 (/usr/bin/python -> python3). The check looks `python` up on PATH as
   execvp(3) would and compares the file it resolves to with PC_PYTHON's. */
#include "verify.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first executable regular file NAME in PATH's folders (an empty entry is the current
   folder, as execvp takes it), resolved through its symlinks into out. Returns 0, or -1. */
static int
path_lookup (const char *name, char out[PATH_MAX])
{
  const char *path = getenv ("PATH");
  if (path == NULL)
    path = "/bin:/usr/bin"; /* what execvp searches without PATH: confstr (_CS_PATH) */
  for (const char *p = path;; p++)
    {
      const char *end = strchr (p, ':');
      size_t n = end ? (size_t) (end - p) : strlen (p);
      char cand[PATH_MAX];
      int len = snprintf (cand, sizeof cand, "%.*s%s%s", (int) n, p, n ? "/" : "", name);
      struct stat st;
      if (len > 0 && (size_t) len < sizeof cand && stat (cand, &st) == 0 && S_ISREG (st.st_mode)
          && access (cand, X_OK) == 0 && realpath (cand, out) != NULL)
        return 0;
      if (end == NULL)
        return -1;
      p = end;
    }
}

/* PC_PYTHON resolved: a path as it is, a bare name through PATH. */
static int
resolve_python (const char *python, char out[PATH_MAX])
{
  if (strchr (python, '/'))
    return realpath (python, out) ? 0 : -1;
  return path_lookup (python, out);
}

void
check_python_command (struct ctx *c, struct check *out)
{
  const char *python = c->img->python;
  if (python == NULL || python[0] == '\0')
    {
      check_set (out, ST_SKIP, "PC_PYTHON is empty: the image claims no Python");
      return;
    }
  char want[PATH_MAX], got[PATH_MAX];
  if (resolve_python (python, want) < 0)
    {
      check_set (out, ST_FAIL, "PC_PYTHON '%s' is not an executable file", python);
      return;
    }
  const char *path = getenv ("PATH");
  if (path_lookup ("python", got) < 0)
    check_set (out, ST_FAIL,
               "no `python` on PATH (%s): `docker run IMAGE python ...` fails; the image needs "
               "python-is-python3 (/usr/bin/python -> python3)",
               path ? path : "unset");
  else if (strcmp (got, want) != 0)
    check_set (out, ST_FAIL, "`python` on PATH is %s, not the image's Python %s (PC_PYTHON %s)", got, want, python);
  else
    check_set (out, ST_PASS, "`python` on PATH is the image's Python, %s", want);
}
