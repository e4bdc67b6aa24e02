/* check.h: assertion macros for the unit tests, after libarchive's assertEqualInt:
   a failure prints file, line, the expression and both values, and the test goes on.
   Each test program ends with `return check_summary ("name");`, which prints
   "unit NAME: N passed, N failed" and returns non-zero on any failure. */
#ifndef PCGEN_CHECK_H
#define PCGEN_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(expr)                                                                         \
  do                                                                                        \
    {                                                                                       \
      if (expr)                                                                             \
        check_passed++;                                                                     \
      else                                                                                  \
        {                                                                                   \
          check_failed++;                                                                   \
          fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);         \
        }                                                                                   \
    }                                                                                       \
  while (0)

#define CHECK_INT(a, b)                                                                     \
  do                                                                                        \
    {                                                                                       \
      long long check_a_ = (long long) (a), check_b_ = (long long) (b);                     \
      if (check_a_ == check_b_)                                                             \
        check_passed++;                                                                     \
      else                                                                                  \
        {                                                                                   \
          check_failed++;                                                                   \
          fprintf (stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", __FILE__,      \
                   __LINE__, #a, #b, check_a_, check_b_);                                   \
        }                                                                                   \
    }                                                                                       \
  while (0)

#define CHECK_STR(a, b)                                                                     \
  do                                                                                        \
    {                                                                                       \
      const char *check_a_ = (a), *check_b_ = (b);                                          \
      if (check_a_ && check_b_ && strcmp (check_a_, check_b_) == 0)                         \
        check_passed++;                                                                     \
      else                                                                                  \
        {                                                                                   \
          check_failed++;                                                                   \
          fprintf (stderr, "%s:%d: check failed: %s == %s\n  got:      \"%s\"\n  expected: \"%s\"\n", \
                   __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",            \
                   check_b_ ? check_b_ : "(null)");                                         \
        }                                                                                   \
    }                                                                                       \
  while (0)

/* The text `needle` occurs in `hay`. */
#define CHECK_CONTAINS(hay, needle)                                                         \
  do                                                                                        \
    {                                                                                       \
      const char *check_h_ = (hay), *check_n_ = (needle);                                   \
      if (check_h_ && strstr (check_h_, check_n_))                                          \
        check_passed++;                                                                     \
      else                                                                                  \
        {                                                                                   \
          check_failed++;                                                                   \
          fprintf (stderr, "%s:%d: check failed: \"%s\" not found in:\n%s\n", __FILE__,     \
                   __LINE__, check_n_, check_h_ ? check_h_ : "(null)");                     \
        }                                                                                   \
    }                                                                                       \
  while (0)

static inline int
check_summary (const char *name)
{
  printf ("unit %s: %d passed, %d failed\n", name, check_passed, check_failed);
  return check_failed ? 1 : 0;
}

/* check_summary, then the test's scratch folder dir (made by mkdtemp: no quote in it) removed
   when everything passed, kept and named when something failed, to look at. */
static inline int
check_summary_in (const char *name, const char *dir)
{
  int rc = check_summary (name);
  if (rc != 0)
    {
      fprintf (stderr, "kept %s\n", dir);
      return rc;
    }
  char cmd[4096];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system (cmd) != 0)
    fprintf (stderr, "cannot remove %s\n", dir);
  return 0;
}

#endif
