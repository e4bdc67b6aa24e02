/* util.h: allocation that never returns NULL, small string helpers. */
#ifndef PCGEN_UTIL_H
#define PCGEN_UTIL_H

#include <stddef.h>
#include <stdlib.h>

/* Out of memory is not a condition pcgen can recover from: die like git's xmalloc. */
void *xmalloc (size_t n);
void *xcalloc (size_t nmemb, size_t size);
void *xrealloc (void *p, size_t n);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Grow *v (of *alloc elements of size elem) so that it holds at least n. */
void *grow_array (void *v, size_t elem, size_t n, size_t *alloc);
#define ARRAY_GROW(v, n, alloc) ((v) = grow_array ((v), sizeof *(v), (n), &(alloc)))
#define ARRAY_SIZE(a) (sizeof (a) / sizeof (a)[0])

static inline void
freep (void *p)
{
  free (*(void **) p);
}
/* crun's cleanup_free: the pointer is freed when it leaves scope. */
#define cleanup_free __attribute__ ((cleanup (freep)))

int streq (const char *a, const char *b);
int starts_with (const char *s, const char *prefix);
int ends_with (const char *s, const char *suffix);

/* Digits and single dots, starting and ending with a digit: "12.4", "525.60.13". */
int is_version (const char *s);

/* Compare dotted numeric versions ("12.4" < "12.10", "525.60.13" < "530.30.02");
   missing components count as 0. */
int version_cmp (const char *a, const char *b);

/* Edit distance (adjacent swaps count one), for "did you mean". */
size_t levenshtein (const char *a, const char *b);

/* git-style messages on stderr: "pcgen: error: ...". error() returns -1. */
int error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void warning (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
_Noreturn void die (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
