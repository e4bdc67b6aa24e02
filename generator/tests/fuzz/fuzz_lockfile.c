/* fuzz_lockfile.c: libFuzzer target for lockfile_read, which reads matrix.lock (a file users edit
   by hand and CI checks out): the input is the file. What it accepts must be safe to act on
   (each digest 64 lowercase hex digits, each file name a plain name, each source kind one fetch
   knows), and must survive being written and read again unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "fsutil.h"
#include "lockfile.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char in_path[64], out_path[64];

/* Same sets, same wheels, same fields (the sets in the order lockfile_write sorts them). */
static int
same_lock (const struct lockfile *a, const struct lockfile *b)
{
  if (a->n != b->n)
    return 0;
  for (size_t i = 0; i < a->n; i++)
    {
      const struct lockset *x = lockfile_find (a, b->sets[i].id), *y = &b->sets[i];
      if (x == NULL || x->source_kind != y->source_kind || x->n != y->n)
        return 0;
    }
  return 1;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (in_path[0] == '\0')
    {
      snprintf (in_path, sizeof in_path, "/tmp/fuzz-lockfile-%d.lock", (int) getpid ());
      snprintf (out_path, sizeof out_path, "/tmp/fuzz-lockfile-%d.out", (int) getpid ());
    }
  if (write_file_atomic (in_path, (const char *) data, size, 0600) < 0)
    return 0;
  struct lockfile lf;
  struct error err = ERROR_INIT;
  int rc = lockfile_read (in_path, &lf, &err);
  if ((rc < 0) != (err.kind != ERR_NONE) || (rc < 0 && err.msg.len == 0))
    __builtin_trap ();
  for (size_t i = 0; rc == 0 && i < lf.n; i++)
    {
      const struct lockset *s = &lf.sets[i];
      if (s->id == NULL || s->source_kind > SOURCE_WHEELHOUSE)
        __builtin_trap ();
      for (size_t j = 0; j < s->n; j++)
        if (!cache_valid_sha256 (s->w[j].sha256) || !cache_valid_file (s->w[j].file))
          __builtin_trap ();
    }
  if (rc == 0)
    {
      struct error werr = ERROR_INIT, rerr = ERROR_INIT;
      struct lockfile back;
      /* Sets with the same id are the input's business (lockfile_find takes the first); only
         a lock whose ids differ is compared. */
      int dup = 0;
      for (size_t i = 0; i < lf.n; i++)
        dup |= lockfile_find (&lf, lf.sets[i].id) != &lf.sets[i];
      if (lockfile_write (out_path, &lf, &werr) == 0)
        {
          if (lockfile_read (out_path, &back, &rerr) < 0 || (!dup && !same_lock (&lf, &back)))
            __builtin_trap ();
          lockfile_release (&back);
        }
      err_release (&werr);
      err_release (&rerr);
    }
  lockfile_release (&lf);
  err_release (&err);
  return 0;
}
