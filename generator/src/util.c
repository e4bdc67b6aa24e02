/* util.c: see util.h. */
#include "util.h"
#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (p == NULL)
    die ("out of memory (%zu bytes)", n);
  return p;
}

void *
xcalloc (size_t nmemb, size_t size)
{
  void *p = calloc (nmemb ? nmemb : 1, size ? size : 1);
  if (p == NULL)
    die ("out of memory");
  return p;
}

void *
xrealloc (void *p, size_t n)
{
  void *q = realloc (p, n ? n : 1);
  if (q == NULL)
    die ("out of memory (%zu bytes)", n);
  return q;
}

char *
xstrdup (const char *s)
{
  return xstrndup (s, strlen (s));
}

char *
xstrndup (const char *s, size_t n)
{
  char *p = xmalloc (n + 1);
  memcpy (p, s, n);
  p[n] = '\0';
  return p;
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char probe[1];
  int n = vsnprintf (probe, sizeof probe, fmt, ap);
  va_end (ap);
  if (n < 0)
    die ("bad format '%s'", fmt);
  char *p = xmalloc ((size_t) n + 1);
  va_start (ap, fmt);
  vsnprintf (p, (size_t) n + 1, fmt, ap);
  va_end (ap);
  return p;
}

void *
grow_array (void *v, size_t elem, size_t n, size_t *alloc)
{
  if (n <= *alloc)
    return v;
  size_t a = *alloc ? *alloc : 4;
  while (a < n)
    a *= 2;
  v = xrealloc (v, a * elem);
  *alloc = a;
  return v;
}

int
streq (const char *a, const char *b)
{
  return a && b && strcmp (a, b) == 0;
}

int
starts_with (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

int
ends_with (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);
  return n >= m && strcmp (s + n - m, suffix) == 0;
}

int
is_version (const char *s)
{
  if (!isdigit ((unsigned char) *s))
    return 0;
  for (; *s; s++)
    if (!isdigit ((unsigned char) *s) && !(*s == '.' && isdigit ((unsigned char) s[1])))
      return 0;
  return 1;
}

const char *
version_too_big (const char *s, size_t *len)
{
  while (*s)
    {
      size_t n = strspn (s, "0123456789");
      unsigned long long v = 0;
      int big = 0;
      /* Leading zeros ("05") do not make a number larger. */
      for (size_t i = 0; i < n && !big; i++)
        {
          v = v * 10 + (unsigned) (s[i] - '0');
          big = v > VERSION_COMPONENT_MAX;
        }
      if (big)
        {
          *len = n;
          return s;
        }
      s += n;
      if (*s)
        s++;
    }
  return NULL;
}

/* Compare the digit runs at *a and *b as numbers of any length (no overflow: longer is larger
   once leading zeros are gone), and move both past them. */
static int
number_cmp (const char **a, const char **b)
{
  while (**a == '0' && isdigit ((unsigned char) (*a)[1]))
    (*a)++;
  while (**b == '0' && isdigit ((unsigned char) (*b)[1]))
    (*b)++;
  size_t la = strspn (*a, "0123456789"), lb = strspn (*b, "0123456789");
  /* An empty run counts as 0. */
  int za = la == 0 || (la == 1 && **a == '0'), zb = lb == 0 || (lb == 1 && **b == '0');
  int c = za && zb ? 0 : la != lb ? (la < lb ? -1 : 1) : memcmp (*a, *b, la);
  *a += la;
  *b += lb;
  return c < 0 ? -1 : c > 0;
}

int
version_cmp (const char *a, const char *b)
{
  while (*a || *b)
    {
      int c = number_cmp (&a, &b);
      if (c)
        return c;
      /* Skip the separator (or anything that is not a digit). */
      if (*a)
        a++;
      if (*b)
        b++;
    }
  return 0;
}

static int
is_word_char (int c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int
is_docker_tag (const char *s)
{
  if (!is_word_char ((unsigned char) s[0]))
    return 0;
  size_t n = 1;
  for (; s[n]; n++)
    if (!is_word_char ((unsigned char) s[n]) && s[n] != '.' && s[n] != '-')
      return 0;
  return n <= 128;
}

size_t
utf8_decode (const char *s, size_t n, unsigned *cp)
{
  const unsigned char *u = (const unsigned char *) s;
  if (n == 0)
    return 0;
  if (u[0] < 0x80)
    {
      *cp = u[0];
      return 1;
    }
  size_t len;
  unsigned v, min;
  if (u[0] >= 0xc2 && u[0] <= 0xdf)
    len = 2, v = u[0] & 0x1f, min = 0x80;
  else if (u[0] >= 0xe0 && u[0] <= 0xef)
    len = 3, v = u[0] & 0x0f, min = 0x800;
  else if (u[0] >= 0xf0 && u[0] <= 0xf4)
    len = 4, v = u[0] & 0x07, min = 0x10000;
  else
    return 0;
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++)
    {
      if ((u[i] & 0xc0) != 0x80)
        return 0;
      v = (v << 6) | (u[i] & 0x3f);
    }
  if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
    return 0;
  *cp = v;
  return len;
}

int
is_unsafe_codepoint (unsigned cp)
{
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0x200e
         || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

struct strset_slot
{
  const char *s; /* NULL: empty */
  size_t len;
  size_t value;
};

static uint64_t
strset_seed (void)
{
  static uint64_t seed;
  if (seed == 0)
    {
      if (getrandom (&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t) sizeof seed)
        seed = (uint64_t) time (NULL) ^ ((uint64_t) getpid () << 32) ^ (uint64_t) (uintptr_t) &seed;
      seed |= 1;
    }
  return seed;
}

/* FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/) from a random basis, then a final mix
   (splitmix64's) so that the low bits used for the slot depend on every byte. */
static uint64_t
strset_hash (const char *s, size_t len)
{
  uint64_t h = strset_seed () ^ 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char) s[i]) * 0x100000001b3ULL;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

static void
strset_put (struct strset_slot *slots, size_t cap, struct strset_slot e)
{
  size_t i = (size_t) strset_hash (e.s, e.len) & (cap - 1);
  while (slots[i].s)
    i = (i + 1) & (cap - 1);
  slots[i] = e;
}

size_t
strset_add (struct strset *set, const char *s, size_t len, size_t value)
{
  if (set->cap)
    for (size_t i = (size_t) strset_hash (s, len) & (set->cap - 1); set->slots[i].s; i = (i + 1) & (set->cap - 1))
      if (set->slots[i].len == len && memcmp (set->slots[i].s, s, len) == 0)
        return set->slots[i].value;
  /* Keep the table at most half full: probes stay short. */
  if (2 * (set->n + 1) > set->cap)
    {
      size_t cap = set->cap ? 2 * set->cap : 16;
      struct strset_slot *slots = xcalloc (cap, sizeof *slots);
      for (size_t i = 0; i < set->cap; i++)
        if (set->slots[i].s)
          strset_put (slots, cap, set->slots[i]);
      free (set->slots);
      set->slots = slots;
      set->cap = cap;
    }
  strset_put (set->slots, set->cap, (struct strset_slot) { s, len, value });
  set->n++;
  return (size_t) -1;
}

void
strset_release (struct strset *set)
{
  free (set->slots);
  *set = (struct strset) STRSET_INIT;
}

size_t
levenshtein (const char *a, const char *b)
{
  /* Optimal string alignment: like Levenshtein, and a swap of two neighbours ("cdua") costs 1,
     the commonest typo. Three rows are enough. */
  size_t la = strlen (a), lb = strlen (b);
  size_t *prev2 = xcalloc (lb + 1, sizeof (size_t)), *prev = xcalloc (lb + 1, sizeof (size_t));
  size_t *cur = xcalloc (lb + 1, sizeof (size_t));
  for (size_t j = 0; j <= lb; j++)
    prev[j] = j;
  for (size_t i = 1; i <= la; i++)
    {
      cur[0] = i;
      for (size_t j = 1; j <= lb; j++)
        {
          size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
          size_t best = prev[j - 1] + cost;
          if (prev[j] + 1 < best)
            best = prev[j] + 1;
          if (cur[j - 1] + 1 < best)
            best = cur[j - 1] + 1;
          if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
            best = prev2[j - 2] + 1;
          cur[j] = best;
        }
      size_t *t = prev2;
      prev2 = prev;
      prev = cur;
      cur = t;
    }
  size_t d = prev[lb];
  free (prev2);
  free (prev);
  free (cur);
  return d;
}

static void
vreport (const char *prefix, const char *fmt, va_list ap)
{
  fprintf (stderr, "pcgen: %s", prefix);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
}

int
error (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vreport ("error: ", fmt, ap);
  va_end (ap);
  return -1;
}

void
warning (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vreport ("warning: ", fmt, ap);
  va_end (ap);
}

void
die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vreport ("fatal: ", fmt, ap);
  va_end (ap);
  exit (err_exit_code (ERR_INTERNAL));
}

void
secret_free (char *s)
{
  if (s)
    {
      OPENSSL_cleanse (s, strlen (s));
      free (s);
    }
}
