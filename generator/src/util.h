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

/* The largest value one component of a version may have: driver versions are 32-bit numbers
   to NVIDIA (cuDriverGetVersion returns an int; 535.104.05 is three small ones), and a component
   past that is a typo or an attack, never a release. */
#define VERSION_COMPONENT_MAX 4294967295UL
/* The first component of the dotted version s that is larger than VERSION_COMPONENT_MAX, or
   NULL when each fits; *len is its length in bytes. */
const char *version_too_big (const char *s, size_t *len);

/* Compare dotted numeric versions ("12.4" < "12.10", "525.60.13" < "530.30.02");
   missing components count as 0. */
int version_cmp (const char *a, const char *b);

/* A Docker tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} (TagRegexp, `[\w][\w.-]{0,127}`, in
   github.com/distribution/reference's regexp.go). */
int is_docker_tag (const char *s);

/* One character of UTF-8 text at s (n bytes there): its code point in *cp and its length in
   bytes, or 0 where the bytes are not valid UTF-8 (overlong, a surrogate, past U+10FFFF, cut
   short): RFC 3629, section 4. */
size_t utf8_decode (const char *s, size_t n, unsigned *cp);
/* Code points that must not reach a terminal or a Dockerfile as they are: C0 and C1 controls
   and DEL (Unicode category Cc), the line and paragraph separators U+2028 and U+2029 (YAML 1.1
   and JavaScript read them as newlines), and the bidirectional formatting controls (U+200E,
   U+200F, U+202A-U+202E, U+2066-U+2069: "Trojan Source", CVE-2021-42574). */
int is_unsafe_codepoint (unsigned cp);

/* A set of byte strings for finding duplicates in linear time. The strings are not copied: they
   must outlive the set. The hash is seeded at random once per process, so input crafted to
   collide cannot make the set quadratic. */
struct strset
{
  struct strset_slot *slots;
  size_t n, cap;
};
#define STRSET_INIT { NULL, 0, 0 }
/* Add s (len bytes) with `value`. When an equal string is there already, add nothing and return
   its value; else return (size_t) -1. */
size_t strset_add (struct strset *set, const char *s, size_t len, size_t value);
void strset_release (struct strset *set);

/* Edit distance (adjacent swaps count one), for "did you mean". */
size_t levenshtein (const char *a, const char *b);

/* git-style messages on stderr: "pcgen: error: ...". error() returns -1. For commands (cmd_*.c,
   main.c) only: a module returns a struct error (error.h) instead. die() is for what pcgen
   cannot recover from (out of memory, a library that cannot start): it exits with the code of
   ERR_INTERNAL (4). */
int error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void warning (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
_Noreturn void die (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Overwrite and free a string holding a secret, a password or a token (NULL: nothing): no
   secret outlives its use in freed memory. */
void secret_free (char *s);

#endif
