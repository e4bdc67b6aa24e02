/* test_lock.c: matrix.lock reading and writing, the cache's refusal of wrong bytes, and
   pip's errors turned into one line. */
#include "check.h"
#include "cache.h"
#include "fsutil.h"
#include "lock.h"
#include "util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/pcgen-test-lock.XXXXXX";

/* A lock with no set (a first `pcgen lock` whose every tag failed) is written and read back:
   no qsort on a NULL array (UBSan's nonnull-attribute check). */
static void
test_empty_lock (void)
{
  struct lockfile lf = { 0 };
  struct strbuf err = STRBUF_INIT;
  cleanup_free char *path = xasprintf ("%s/empty.lock", tmp);
  CHECK_INT (lockfile_write (path, &lf, &err), 0);
  struct lockfile back;
  CHECK_INT (lockfile_read (path, &back, &err), 0);
  CHECK_INT (back.n, 0);
  lockfile_release (&back);
  /* A set with no wheel, the same. */
  ARRAY_GROW (lf.sets, 1, lf.alloc);
  lf.sets[0] = (struct lockset) { xstrdup ("torch-2.6.0-cu124-py3.11"), xstrdup ("pypi"), NULL, NULL, 0, 0 };
  lf.n = 1;
  CHECK_INT (lockfile_write (path, &lf, &err), 0);
  CHECK_INT (lockfile_read (path, &back, &err), 0);
  CHECK_INT (back.n, 1);
  CHECK_INT (back.sets[0].n, 0);
  lockfile_release (&back);
  lockfile_release (&lf);
  strbuf_release (&err);
}

int
main (void)
{
  if (mkdtemp (tmp) == NULL)
    return perror ("mkdtemp"), 1;
  cleanup_free char *cache = xasprintf ("%s/cache", tmp);
  setenv ("PCGEN_CACHE", cache, 1);
  test_empty_lock ();
  int rc = check_summary ("lock");
  if (rc == 0)
    {
      cleanup_free char *cmd = xasprintf ("rm -rf '%s'", tmp);
      if (system (cmd) != 0)
        fprintf (stderr, "cannot remove %s\n", tmp);
    }
  else
    fprintf (stderr, "kept %s\n", tmp);
  return rc;
}
