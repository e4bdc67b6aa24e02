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

/* A program whose output is streamed as it comes and that another thread may stop: it runs in
   its own process group (pid = group id), so that stopping it stops what it started too (the
   docker CLI starts its buildx plugin). */
struct run_stream_opts
{
  const char *const *argv; /* argv[0] is looked up in PATH */
  const char *const *env;  /* extra "KEY=VALUE" entries, NULL-terminated, or NULL */
  /* stdout and stderr together, in chunks as they arrive; stdin is /dev/null */
  void (*output) (void *ctx, const char *buf, size_t n);
  void *ctx;
};

/* Like run_command (). After run_stop_all () it starts nothing: -1 with errno ECANCELED. */
int run_stream (const struct run_stream_opts *o);

/* Send sig to the process group of every program run_stream () runs now, and make later
   run_stream () calls refuse to start (sig 0: only refuse). Safe from any thread; not from a
   signal handler. Returns how many were signalled. */
int run_stop_all (int sig);

/* Run argv with feed (ctx) writing its standard input to fd (`docker load`); feed's return goes
   to *fed. Its stdout and stderr together into said (trailing newlines dropped). Returns the
   exit status as run_command does, or -1 with errno when it could not be started. */
int run_feed (const char *const *argv, int (*feed) (int fd, void *ctx), void *ctx, int *fed, struct strbuf *said);

/* Run argv with reader (ctx) reading its standard output from fd as it comes (`docker save`);
   reader's return goes to *drained. stdin is /dev/null; stderr goes into said (trailing newlines
   dropped). Returns the exit status as run_command does, or -1 with errno when it could not be
   started. */
int run_drain (const char *const *argv, int (*reader) (int fd, void *ctx), void *ctx, int *drained,
               struct strbuf *said);

/* A short-lived program that may hang and whose output may be a secret (a docker credential
   helper): input written to its stdin (then closed), its stdout read into the caller's buffer out
   (at most cap - 1 bytes, NUL-terminated; never copied elsewhere, so the caller can wipe it), its
   stderr inherited (as the docker CLI leaves a helper's), in pcgen's own process group (a helper
   may ask for a passphrase on the terminal). A program still running after timeout_ms, or
   writing cap bytes or more, is killed (SIGKILL). */
struct run_bounded_opts
{
  const char *const *argv; /* argv[0] is looked up in PATH */
  const char *input;       /* written to stdin; NULL: nothing */
  size_t input_len;
  char *out; /* cap bytes */
  size_t cap;
  size_t *out_len;
  int timeout_ms;
};
#define RUN_TIMED_OUT (-2)
#define RUN_TOO_BIG (-3)

/* The exit status as run_command returns it; RUN_TIMED_OUT or RUN_TOO_BIG when it was killed for
   that; -1 with errno when it could not be started (ENOENT: not on PATH). */
int run_bounded (const struct run_bounded_opts *o);

/* "a b 'c d'": the command for messages (never for a shell). */
void run_describe (const char *const *argv, struct strbuf *out);

#endif
