/* error.h: an error with a kind, as it travels from a module up to the command (crun's
   libcrun_error_t). A module fills one and returns -1; it never prints and never exits. The
   command prints it (cmd_error, main.c) and ends with the exit code of its kind: the one
   mapping from kinds to exit codes is err_exit_code, from the table in error.c. */
#ifndef PCGEN_ERROR_H
#define PCGEN_ERROR_H

#include "diag.h"
#include "strbuf.h"

/* What went wrong, seen from the user: each kind has one exit code (exitcode.h, README). */
enum err_kind
{
  ERR_NONE = 0,    /* no error (yet) */
  ERR_INVALID,     /* the input is wrong: matrix.yaml, a template, the knowledge base, matrix.lock */
  ERR_USAGE,       /* the command line is wrong */
  ERR_ENV,         /* the environment failed: I/O, a program, the engine, the network, a build */
  ERR_INTERNAL,    /* pcgen itself: out of memory, a library that cannot start */
  ERR_REFUSED,     /* compat: no tag runs on the host described */
  ERR_INTERRUPTED, /* stopped by SIGINT or SIGTERM */
  ERR_KIND_COUNT
};

struct error
{
  enum err_kind kind;
  struct strbuf msg;  /* one line, without "pcgen: error: " */
  char *file;         /* where, when the error is in a file: file:line:col (NULL: nowhere) */
  struct mark where;
  struct diags diags; /* every problem of a file, when there are several (then msg sums up) */
};
#define ERROR_INIT { ERR_NONE, STRBUF_INIT, NULL, { 0, 0, 0 }, DIAGS_INIT }

/* "invalid input", "usage", "environment", ... */
const char *err_kind_name (enum err_kind k);
/* The documented exit code of a kind; 0 for ERR_NONE. The only place that maps kinds to codes. */
int err_exit_code (enum err_kind k);

/* Set kind and message (replacing what e held). Return -1, for `return err_set (...)`. */
int err_set (struct error *e, enum err_kind k, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
/* The same, at file:line:col. */
int err_at (struct error *e, enum err_kind k, const char *file, struct mark m, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));
/* Take a module's message built in a strbuf, with its kind; msg is emptied. Returns -1. */
int err_take (struct error *e, enum err_kind k, struct strbuf *msg);
/* Context on the way up: "cannot lock X: " before the message. */
void err_prefix (struct error *e, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Forget the error (kind ERR_NONE, empty message) but keep e usable. */
void err_reset (struct error *e);
void err_release (struct error *e);

#endif
