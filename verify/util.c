/* util.c: version strings, random inputs, error bounds and messages (see verify.h). */
#include "verify.h"

#include <ctype.h>
#include <float.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

int
version_valid (const char *v)
{
  if (v == NULL || !isdigit ((unsigned char) *v))
    return 0;
  for (; *v; v++)
    if (*v == '.')
      {
        if (!isdigit ((unsigned char) v[1]))
          return 0;
      }
    else if (!isdigit ((unsigned char) *v))
      return 0;
  return 1;
}

/* The next numeric field of *p, which then points past it and its dot. */
static unsigned long
next_field (const char **p)
{
  unsigned long n = 0;
  while (isdigit ((unsigned char) **p))
    {
      if (n < 100000000UL)
        n = n * 10 + (unsigned long) (**p - '0');
      (*p)++;
    }
  if (**p == '.')
    (*p)++;
  return n;
}

int
version_cmp (const char *a, const char *b)
{
  while (*a || *b)
    {
      unsigned long x = next_field (&a), y = next_field (&b);
      if (x != y)
        return x < y ? -1 : 1;
      /* Something that is not a digit or a dot ends the comparison ("2.6.0+cu124"). */
      if ((*a && !isdigit ((unsigned char) *a)) || (*b && !isdigit ((unsigned char) *b)))
        break;
    }
  return 0;
}

const char *
version_prefix (const char *v, int n, char *buf, size_t size)
{
  size_t len = 0;
  int fields = 0;
  while (v[len] && v[len] != '+')
    {
      if (v[len] == '.' && ++fields == n)
        break;
      len++;
    }
  snprintf (buf, size, "%.*s", (int) len, v);
  return buf;
}

/* xorshift64* (Vigna): plenty for test inputs, and it needs nothing beyond libc. */
static uint64_t rng_state, rng_initial;

void
rng_seed (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  rng_state = ((uint64_t) ts.tv_sec * 1000000007ULL) ^ (uint64_t) ts.tv_nsec
              ^ ((uint64_t) getpid () << 32);
  if (rng_state == 0)
    rng_state = 0x9e3779b97f4a7c15ULL;
  rng_initial = rng_state;
}

uint64_t
rng_seed_value (void)
{
  return rng_initial;
}

static uint64_t
rng_next (void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dULL;
}

void
rng_fill (float *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      float x;
      do
        x = (float) ((double) (rng_next () >> 40) / 16777216.0 * 2.0 - 1.0);
      while (x > -1.0f / 1024 && x < 1.0f / 1024);
      v[i] = x;
    }
}

double
matmul_error_ratio (const float *c, const float *a, const float *b, int m, int n, int k,
                    int col_major)
{
  double worst = 0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      {
        double ref = 0, mag = 0;
        for (int p = 0; p < k; p++)
          {
            double x = col_major ? a[i + (size_t) p * m] : a[(size_t) i * k + p];
            double y = col_major ? b[p + (size_t) j * k] : b[(size_t) p * n + j];
            ref += x * y;
            mag += x * y < 0 ? -(x * y) : x * y;
          }
        double got = col_major ? c[i + (size_t) j * m] : c[(size_t) i * n + j];
        double bound = 2.0 * k * FLT_EPSILON * mag + FLT_MIN;
        double err = got - ref < 0 ? ref - got : got - ref;
        if (!(err <= bound)) /* NaN too */
          return err != err ? 1e30 : err / bound;
        if (err / bound > worst)
          worst = err / bound;
      }
  return worst;
}

void
check_set (struct check *c, enum status st, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (c->detail, sizeof c->detail, fmt, ap);
  va_end (ap);
  for (char *p = c->detail; *p; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
  c->status = st;
}

void
pcv_error (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("pytorch-cuda-verify: error: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
}
