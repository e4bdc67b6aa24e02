/* util.c: see util.h. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

int
version_cmp (const char *a, const char *b)
{
  while (*a || *b)
    {
      unsigned long x = 0, y = 0;
      while (isdigit ((unsigned char) *a))
        x = x * 10 + (unsigned long) (*a++ - '0');
      while (isdigit ((unsigned char) *b))
        y = y * 10 + (unsigned long) (*b++ - '0');
      if (x != y)
        return x < y ? -1 : 1;
      /* Skip the separator (or anything that is not a digit). */
      if (*a)
        a++;
      if (*b)
        b++;
    }
  return 0;
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
  exit (4);
}
