/* cmd_sets.h: what `pcgen lock` (cmd_lock.c) and `pcgen fetch` (cmd_fetch.c) share: their
   options, the walk over the selected tags' sets, and the words naming a tag's source setting. */
#ifndef PCGEN_CMD_SETS_H
#define PCGEN_CMD_SETS_H

#include "lock.h"

struct lock_opts
{
  const char *usage; /* the command's --help */
  /* Lock (or fetch) set `set` (enum lock_set_kind) of t; returns 0, NVCC_UNREACHABLE (the tag is
     unavailable here), or -1 after printing why. */
  int (*each) (struct lockfile *lf, const struct ptag *t, int set, struct lock_opts *o);
  int refresh, offline, fetch, verify;
  int failed_code; /* the exit code of the first set that failed (its error's kind); 0: none */
  const struct lockset **verified; /* --verify: sets hashed already (a torch set serves two tags) */
  size_t nverified;
  const char *matrix, *lock;
  char **patterns;
  size_t npatterns;
};

/* Parse the options of pcgen lock (o->fetch 0) or pcgen fetch (1): 0, 1 after --help (printed),
   or -1 after printing a usage error. */
int sets_parse (int argc, char **argv, struct lock_opts *o);

/* The setting that decides where a set comes from, for an error's last words (owned by the
   caller). */
char *source_setting (const struct ptag *t);

/* Call o->each on the torch set, then the devel or notebook set, of every selected tag with a
   source; pcgen lock writes matrix.lock after each tag. Prints the summary line and returns the
   exit code. */
int sets_run (struct lock_opts *o);

#endif
