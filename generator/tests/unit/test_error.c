/* test_error.c: errors with kinds (error.h): each kind's exit code is the README's, an error
   keeps its kind and place, context is added in front, and a message may quote the old one. */
#include "check.h"
#include "error.h"
#include "exitcode.h"

/* README.md, "Exit codes": the table, kind by kind. */
static void
test_exit_codes (void)
{
  CHECK_INT (err_exit_code (ERR_NONE), 0);
  CHECK_INT (err_exit_code (ERR_INVALID), 1);
  CHECK_INT (err_exit_code (ERR_USAGE), 2);
  CHECK_INT (err_exit_code (ERR_ENV), 3);
  CHECK_INT (err_exit_code (ERR_INTERNAL), 4);
  CHECK_INT (err_exit_code (ERR_REFUSED), 5);
  CHECK_INT (err_exit_code (ERR_INTERRUPTED), 130);
  /* A kind outside the table is pcgen's own bug: internal, never success. */
  CHECK_INT (err_exit_code ((enum err_kind) 99), 4);
  CHECK_STR (err_kind_name (ERR_INVALID), "invalid input");
  CHECK_STR (err_kind_name (ERR_ENV), "environment");
  /* Every kind has a name of its own. */
  for (int a = 0; a < ERR_KIND_COUNT; a++)
    for (int b = a + 1; b < ERR_KIND_COUNT; b++)
      CHECK (strcmp (err_kind_name ((enum err_kind) a), err_kind_name ((enum err_kind) b)) != 0);
}

static void
test_set_and_prefix (void)
{
  struct error e = ERROR_INIT;
  CHECK_INT (err_at (&e, ERR_INVALID, "matrix.lock", (struct mark) { 3, 7, 0 }, "'%s' expected", "]"), -1);
  CHECK_INT (e.kind, ERR_INVALID);
  CHECK_STR (e.file, "matrix.lock");
  CHECK_INT (e.where.line, 3);
  CHECK_INT (e.where.col, 7);
  /* A new error replaces kind, message and place. */
  CHECK_INT (err_set (&e, ERR_ENV, "cannot write '%s'", "x"), -1);
  CHECK_INT (e.kind, ERR_ENV);
  CHECK (e.file == NULL);
  CHECK_STR (e.msg.buf, "cannot write 'x'");
  err_prefix (&e, "%s: ", "tag");
  CHECK_STR (e.msg.buf, "tag: cannot write 'x'");
  /* The old message as an argument of the new one. */
  err_set (&e, ERR_USAGE, "%s (again)", e.msg.buf);
  CHECK_STR (e.msg.buf, "tag: cannot write 'x' (again)");
  struct strbuf sb = STRBUF_INIT;
  strbuf_addstr (&sb, "pip failed");
  CHECK_INT (err_take (&e, ERR_ENV, &sb), -1);
  CHECK_STR (e.msg.buf, "pip failed");
  CHECK_INT ((int) sb.len, 0);
  err_reset (&e);
  CHECK_INT (e.kind, ERR_NONE);
  CHECK_STR (e.msg.buf, "");
  strbuf_release (&sb);
  err_release (&e);
}

int
main (void)
{
  test_exit_codes ();
  test_set_and_prefix ();
  return check_summary ("error");
}
