/* error.c: see error.h. */
#include "error.h"
#include "exitcode.h"
#include "util.h"

#include <stdarg.h>

/* One row per kind: its name and its exit code (README.md, "Exit codes"; `pcgen --help`). */
static const struct
{
  const char *name;
  int exit_code;
} kinds[ERR_KIND_COUNT] = {
  [ERR_NONE] = { "none", EXIT_OK },
  [ERR_INVALID] = { "invalid input", EXIT_INVALID },
  [ERR_USAGE] = { "usage", EXIT_USAGE },
  [ERR_ENV] = { "environment", EXIT_ENV },
  [ERR_INTERNAL] = { "internal", EXIT_INTERNAL },
  [ERR_REFUSED] = { "refused", EXIT_REFUSED },
  [ERR_INTERRUPTED] = { "interrupted", EXIT_INTERRUPTED },
};

const char *
err_kind_name (enum err_kind k)
{
  return (unsigned) k < ERR_KIND_COUNT ? kinds[k].name : "internal";
}

int
err_exit_code (enum err_kind k)
{
  /* A kind outside the table is pcgen's own bug: internal, never success. */
  return (unsigned) k < ERR_KIND_COUNT ? kinds[k].exit_code : EXIT_INTERNAL;
}

static void
err_vset (struct error *e, enum err_kind k, const char *fmt, va_list ap)
{
  /* Formatted aside first: an argument may be the old message. */
  struct strbuf s = STRBUF_INIT;
  strbuf_vaddf (&s, fmt, ap);
  strbuf_release (&e->msg);
  e->msg = s;
  e->kind = k;
}

int
err_set (struct error *e, enum err_kind k, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  err_vset (e, k, fmt, ap);
  va_end (ap);
  free (e->file);
  e->file = NULL;
  return -1;
}

int
err_at (struct error *e, enum err_kind k, const char *file, struct mark m, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  err_vset (e, k, fmt, ap);
  va_end (ap);
  free (e->file);
  e->file = xstrdup (file);
  e->where = m;
  return -1;
}

int
err_take (struct error *e, enum err_kind k, struct strbuf *msg)
{
  return err_set (e, k, "%s", msg->buf), strbuf_reset (msg), -1;
}

void
err_prefix (struct error *e, const char *fmt, ...)
{
  struct strbuf s = STRBUF_INIT;
  va_list ap;
  va_start (ap, fmt);
  strbuf_vaddf (&s, fmt, ap);
  va_end (ap);
  strbuf_addstr (&s, e->msg.buf);
  strbuf_release (&e->msg);
  e->msg = s;
}

void
err_reset (struct error *e)
{
  e->kind = ERR_NONE;
  strbuf_reset (&e->msg);
  free (e->file);
  e->file = NULL;
  diags_release (&e->diags);
}

void
err_release (struct error *e)
{
  err_reset (e);
  strbuf_release (&e->msg);
}
