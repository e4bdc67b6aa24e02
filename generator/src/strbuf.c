/* strbuf.c: see strbuf.h. */
#include "strbuf.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

char strbuf_slopbuf[1];

void
strbuf_init (struct strbuf *sb, size_t hint)
{
  sb->alloc = sb->len = 0;
  sb->buf = strbuf_slopbuf;
  if (hint)
    strbuf_grow (sb, hint);
}

void
strbuf_release (struct strbuf *sb)
{
  if (sb->alloc)
    free (sb->buf);
  strbuf_init (sb, 0);
}

char *
strbuf_detach (struct strbuf *sb, size_t *len)
{
  char *p = sb->alloc ? sb->buf : xstrdup ("");
  if (len)
    *len = sb->len;
  strbuf_init (sb, 0);
  return p;
}

void
strbuf_reset (struct strbuf *sb)
{
  sb->len = 0;
  if (sb->alloc)
    sb->buf[0] = '\0';
}

void
strbuf_grow (struct strbuf *sb, size_t extra)
{
  if (sb->len + extra + 1 <= sb->alloc)
    return;
  size_t want = sb->len + extra + 1;
  size_t a = sb->alloc ? sb->alloc : 64;
  while (a < want)
    a *= 2;
  char *p = sb->alloc ? sb->buf : NULL;
  sb->buf = xrealloc (p, a);
  if (!sb->alloc)
    sb->buf[0] = '\0';
  sb->alloc = a;
}

void
strbuf_add (struct strbuf *sb, const void *data, size_t len)
{
  strbuf_grow (sb, len);
  memcpy (sb->buf + sb->len, data, len);
  sb->len += len;
  sb->buf[sb->len] = '\0';
}

void
strbuf_addstr (struct strbuf *sb, const char *s)
{
  strbuf_add (sb, s, strlen (s));
}

void
strbuf_addch (struct strbuf *sb, int c)
{
  char ch = (char) c;
  strbuf_add (sb, &ch, 1);
}

void
strbuf_vaddf (struct strbuf *sb, const char *fmt, va_list ap)
{
  va_list cp;
  va_copy (cp, ap);
  char probe[1];
  int n = vsnprintf (probe, sizeof probe, fmt, cp);
  va_end (cp);
  if (n < 0)
    die ("bad format '%s'", fmt);
  strbuf_grow (sb, (size_t) n);
  vsnprintf (sb->buf + sb->len, (size_t) n + 1, fmt, ap);
  sb->len += (size_t) n;
}

void
strbuf_addf (struct strbuf *sb, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  strbuf_vaddf (sb, fmt, ap);
  va_end (ap);
}

int
strbuf_read_file (struct strbuf *sb, const char *path, size_t cap)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return -1;
  char chunk[8192];
  size_t n;
  while ((n = fread (chunk, 1, sizeof chunk, f)) > 0)
    {
      if (sb->len + n > cap)
        {
          fclose (f);
          errno = EFBIG;
          return -1;
        }
      strbuf_add (sb, chunk, n);
    }
  int bad = ferror (f);
  fclose (f);
  if (bad)
    {
      errno = EIO;
      return -1;
    }
  return 0;
}
