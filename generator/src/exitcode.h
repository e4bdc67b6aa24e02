/* exitcode.h: pcgen's exit codes, one meaning each (documented in `pcgen --help` and README.md, "Exit codes").
   An error's kind (error.h) gives its code through err_exit_code, the one mapping. */
#ifndef PCGEN_EXITCODE_H
#define PCGEN_EXITCODE_H

enum
{
  EXIT_OK = 0,      /* done; for checks: everything passed */
  EXIT_INVALID = 1, /* the input is wrong (matrix, templates, knowledge base) or a check found drift */
  EXIT_USAGE = 2,   /* bad command line */
  EXIT_ENV = 3,     /* the environment failed: I/O, a missing program, the engine, the network */
  EXIT_INTERNAL = 4, /* pcgen itself failed: out of memory (die) */
  EXIT_REFUSED = 5, /* compat: no tag of the plan runs on the host described */
  EXIT_INTERRUPTED = 130, /* build: stopped by SIGINT or SIGTERM (128 + SIGINT, as shells say) */
};

#endif
