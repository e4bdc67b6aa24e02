/* run.h: run another program, after git's run-command: arguments as a vector, no shell,
   output captured into strbufs, the exit status checked by the caller. */
#ifndef PCGEN_RUN_H
#define PCGEN_RUN_H

#include "strbuf.h"

struct run_opts
{
  const char *const *argv; /* argv[0] is looked up in PATH */
  const char *dir;         /* working folder, or NULL */
  const char *const *env;  /* extra "KEY=VALUE" entries, NULL-terminated, or NULL */
  struct strbuf *out;      /* captures stdout; NULL: inherit */
  struct strbuf *err;      /* captures stderr; NULL: inherit */
  int null_stdin;          /* stdin from /dev/null */
};

/* Returns the program's exit status (0-255; 128+N when killed by signal N), or -1 with errno
   set when it could not be started. */
int run_command (const struct run_opts *o);

/* "a b 'c d'": the command for messages (never for a shell). */
void run_describe (const char *const *argv, struct strbuf *out);

#endif
