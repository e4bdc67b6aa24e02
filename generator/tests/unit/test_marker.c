/* test_marker.c: PEP 508 markers as the real torch wheels write them. */
#include "check.h"
#include "marker.h"

static const struct marker_env py311 = { "3.11", "3.11.2" };

static int
eval (const char *m)
{
  struct strbuf err = STRBUF_INIT;
  int r = marker_eval (m, &py311, &err);
  if (r < 0)
    fprintf (stderr, "marker '%s': %s\n", m, err.buf);
  strbuf_release (&err);
  return r;
}

int
main (void)
{
  CHECK_INT (eval ("platform_system == \"Linux\" and platform_machine == \"x86_64\""), 1);
  CHECK_INT (eval ("python_version >= \"3.12\""), 0);
  CHECK_INT (eval ("python_version >= \"3.9\""), 1);
  CHECK_INT (eval ("platform_system == \"Linux\" and platform_machine == \"x86_64\" and python_version < \"3.13\""), 1);
  CHECK_INT (eval ("python_version < \"3.10\""), 0);
  CHECK_INT (eval ("python_version > \"3.9\""), 1); /* 3.11 > 3.9 as versions, not as text */
  CHECK_INT (eval ("extra == \"opt-einsum\""), 0);
  CHECK_INT (eval ("sys_platform == 'win32' or sys_platform == 'linux'"), 1);
  CHECK_INT (eval ("(os_name == 'nt') and python_version >= '3.8'"), 0);
  CHECK_INT (eval ("platform_python_implementation != 'PyPy'"), 1);
  CHECK_INT (eval ("'linux' in sys_platform"), 1);
  CHECK_INT (eval ("python_full_version ~= '3.11.0'"), 1);
  CHECK_INT (eval ("platform_machine not in 'aarch64 arm64'"), 1);
  struct strbuf err = STRBUF_INIT;
  CHECK_INT (marker_eval ("python_version >=", &py311, &err), -1);
  CHECK_CONTAINS (err.buf, "expected a variable or a quoted string");
  strbuf_reset (&err);
  CHECK_INT (marker_eval ("colour == 'red'", &py311, &err), -1);
  CHECK_CONTAINS (err.buf, "unknown marker variable");
  strbuf_reset (&err);
  CHECK_INT (marker_eval ("(python_version > '3'", &py311, &err), -1);
  CHECK_CONTAINS (err.buf, "expected ')'");
  strbuf_reset (&err);
  CHECK_INT (marker_eval ("python_version > '3' junk", &py311, &err), -1);
  CHECK_CONTAINS (err.buf, "unexpected text");
  strbuf_release (&err);
  return check_summary ("marker");
}
