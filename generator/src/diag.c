/* diag.c: see diag.h. */
#include "diag.h"
#include "strbuf.h"
#include "util.h"

#include <stdarg.h>
#include <string.h>

/* A message or hint longer than this keeps its head and tail around a "…": a value of a
   hostile file quoted in it cannot make the output as large as the file (diags keep 200). */
#define DIAG_MSG_MAX 1024
#define DIAG_MSG_HEAD 600
/* A source line wider than LINE_MAX columns is shown as a window of about WINDOW columns, with
   BEFORE of them ahead of the caret, and "…" where it was cut. */
#define DIAG_LINE_MAX 120
#define DIAG_WINDOW 100
#define DIAG_BEFORE 40

static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026 */

/* Keep the head and the tail of a long message, cut between characters. */
static char *
elide (struct strbuf *sb)
{
  if (sb->len <= DIAG_MSG_MAX)
    return strbuf_detach (sb, NULL);
  size_t head = DIAG_MSG_HEAD, tail = sb->len - (DIAG_MSG_MAX - DIAG_MSG_HEAD);
  while (head > 0 && ((unsigned char) sb->buf[head] & 0xc0) == 0x80)
    head--;
  while (tail < sb->len && ((unsigned char) sb->buf[tail] & 0xc0) == 0x80)
    tail++;
  char *s = xasprintf ("%.*s%s%s", (int) head, sb->buf, ellipsis, sb->buf + tail);
  strbuf_release (sb);
  return s;
}

void
diag_add (struct diags *d, const char *file, struct mark m, const char *fmt, ...)
{
  size_t cap = d->cap ? d->cap : 200;
  if (d->n >= cap)
    {
      d->dropped++;
      return;
    }
  struct strbuf sb = STRBUF_INIT;
  va_list ap;
  va_start (ap, fmt);
  strbuf_vaddf (&sb, fmt, ap);
  va_end (ap);
  ARRAY_GROW (d->v, d->n + 1, d->alloc);
  d->v[d->n++] = (struct diag) { xstrdup (file ? file : "-"), m, elide (&sb), NULL };
}

int
diags_full (const struct diags *d)
{
  return d->n >= (d->cap ? d->cap : 200);
}

void
diag_hint (struct diags *d, const char *fmt, ...)
{
  if (d->n == 0 || d->dropped)
    return;
  struct strbuf sb = STRBUF_INIT;
  va_list ap;
  va_start (ap, fmt);
  strbuf_vaddf (&sb, fmt, ap);
  va_end (ap);
  struct diag *last = &d->v[d->n - 1];
  free (last->hint);
  last->hint = elide (&sb);
}

/* How one character of text is shown: itself, or an escape where it could garble or fool the
   terminal (\x1b, \u{202e}: util.h, is_unsafe_codepoint) or is not UTF-8 (\xff). In source
   lines a tab is one space, so that carets stay under libyaml's columns (one per character).
   Returns the bytes it takes in p (at least 1); *shown and *width are what to print. */
static size_t
show_char (const char *p, size_t n, int source, char shown[16], size_t *width)
{
  unsigned cp;
  size_t len = utf8_decode (p, n, &cp);
  if (len == 0)
    snprintf (shown, 16, "\\x%02x", (unsigned char) *p);
  else if (source && cp == '\t')
    strcpy (shown, " ");
  else if (is_unsafe_codepoint (cp))
    snprintf (shown, 16, cp < 0x80 ? "\\x%02x" : "\\u{%x}", cp);
  else
    {
      memcpy (shown, p, len);
      shown[len] = '\0';
      *width = 1;
      return len;
    }
  *width = strlen (shown);
  return len ? len : 1;
}

static void
put_escaped (const char *s, FILE *out)
{
  size_t n = strlen (s);
  while (n)
    {
      char shown[16];
      size_t width, len = show_char (s, n, 0, shown, &width);
      fputs (shown, out);
      s += len;
      n -= len;
    }
}

/* The length of the line break at p, or 0: libyaml's breaks (CR LF, CR, LF, NEL, LS, PS), so
   that our line numbers are its line numbers. */
static size_t
break_len (const char *p, const char *end)
{
  const unsigned char *u = (const unsigned char *) p;
  size_t n = (size_t) (end - p);
  if (u[0] == '\r')
    return n > 1 && u[1] == '\n' ? 2 : 1;
  if (u[0] == '\n')
    return 1;
  if (u[0] == 0xc2 && n > 1 && u[1] == 0x85)
    return 2;
  if (u[0] == 0xe2 && n > 2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9))
    return 3;
  return 0;
}

/* Where printing stands in the source: diagnostics mostly come in file order, so each one
   goes on from the last instead of from the top (a hostile file with 200 errors on one long
   line stays linear). */
struct cursor
{
  const char *src, *end;
  int line;       /* 0: not started */
  const char *ls; /* start of line `line` */
  const char *le; /* its end (the break or the end of the text) */
  size_t ci;      /* a character index on the line ... */
  const char *cp; /* ... and where it starts */
};

static const char *
line_end (const char *p, const char *end)
{
  while (p < end && !break_len (p, end))
    p++;
  return p;
}

static int
seek_line (struct cursor *c, int line)
{
  if (c->line == 0 || line < c->line)
    {
      c->ls = c->src;
      /* libyaml skips a UTF-8 byte order mark: columns start after it. */
      if (c->end - c->ls >= 3 && memcmp (c->ls, "\xef\xbb\xbf", 3) == 0)
        c->ls += 3;
      c->line = 1;
      c->le = line_end (c->ls, c->end);
      c->ci = 0;
      c->cp = c->ls;
    }
  while (c->line < line)
    {
      if (c->le >= c->end)
        return -1;
      c->ls = c->le + break_len (c->le, c->end);
      c->le = line_end (c->ls, c->end);
      c->line++;
      c->ci = 0;
      c->cp = c->ls;
    }
  return 0;
}

static size_t
char_len (const char *p, const char *end)
{
  unsigned cp;
  size_t n = utf8_decode (p, (size_t) (end - p), &cp);
  return n ? n : 1;
}

/* Move the cursor to character `ci` of its line (or to the line's end). */
static void
seek_char (struct cursor *c, size_t ci)
{
  if (ci < c->ci)
    {
      c->ci = 0;
      c->cp = c->ls;
    }
  while (c->ci < ci && c->cp < c->le)
    {
      c->cp += char_len (c->cp, c->le);
      c->ci++;
    }
}

/* Width of the line from p, up to `limit` + 1 columns. */
static size_t
width_upto (const char *p, const char *end, size_t limit)
{
  size_t w = 0;
  while (p < end && w <= limit)
    {
      char shown[16];
      size_t width;
      p += show_char (p, (size_t) (end - p), 1, shown, &width);
      w += width;
    }
  return w;
}

static void
print_source (const struct diag *g, struct cursor *cur, FILE *out)
{
  /* Nothing to show past the last line (as for "unexpected end of stream"). */
  if (seek_line (cur, g->mark.line) < 0 || cur->ls >= cur->end)
    return;
  size_t caret = g->mark.col > 1 ? (size_t) g->mark.col - 1 : 0;
  size_t span = g->mark.len > 1 ? (size_t) g->mark.len : 1;
  const char *end = cur->le;

  /* The first character shown: the line's first, or for a wide line the one that leaves at
     most DIAG_BEFORE columns before the caret. */
  size_t first = 0;
  int wide = width_upto (cur->ls, end, DIAG_LINE_MAX) > DIAG_LINE_MAX;
  if (wide && caret > 0)
    {
      size_t from = caret > DIAG_BEFORE ? caret - DIAG_BEFORE : 0;
      size_t widths[DIAG_BEFORE], k = 0, total = 0;
      seek_char (cur, from);
      const char *p = cur->cp;
      for (size_t i = from; i < caret && p < end; i++)
        {
          char shown[16];
          p += show_char (p, (size_t) (end - p), 1, shown, &widths[k]);
          total += widths[k++];
        }
      first = from;
      for (size_t i = 0; i < k && total > DIAG_BEFORE; i++)
        {
          total -= widths[i];
          first++;
        }
    }
  seek_char (cur, first);

  fprintf (out, "%5d | ", g->mark.line);
  size_t col = 0, pad = 0, marks = 0; /* col: columns printed; pad, marks: the caret line */
  if (first > 0)
    {
      fputs (ellipsis, out);
      col = pad = 1;
    }
  const char *p = cur->cp;
  size_t i = first;
  for (; p < end; i++)
    {
      if (wide && col >= DIAG_WINDOW && i > caret)
        break;
      char shown[16];
      size_t width;
      p += show_char (p, (size_t) (end - p), 1, shown, &width);
      fputs (shown, out);
      col += width;
      if (i < caret)
        pad += width;
      else if (i < caret + span)
        marks += width;
    }
  if (p < end)
    fputs (ellipsis, out);
  /* The line is shown to its end: the caret may stand one column past it (a missing value),
     and a span reaching past it covers that column, as jq's do. */
  else if (caret + span > i)
    marks++;
  fputs ("\n      | ", out);
  for (size_t k = 0; k < pad; k++)
    fputc (' ', out);
  fputc ('^', out);
  for (size_t k = 1; k < marks; k++)
    fputc ('~', out);
  fputc ('\n', out);
}

static void
print_one (const struct diag *g, struct cursor *cur, FILE *out)
{
  if (g->mark.line > 0)
    fprintf (out, "%s:%d:%d: error: ", g->file, g->mark.line, g->mark.col);
  else
    fprintf (out, "%s: error: ", g->file);
  put_escaped (g->msg, out);
  fputc ('\n', out);
  if (cur && g->mark.line > 0)
    print_source (g, cur, out);
  if (g->hint)
    {
      fputs ("      = ", out);
      put_escaped (g->hint, out);
      fputc ('\n', out);
    }
}

void
diags_print (const struct diags *d, const char *file, const char *src, FILE *out)
{
  diags_print_len (d, file, src, src ? strlen (src) : 0, out);
}

void
diags_print_len (const struct diags *d, const char *file, const char *src, size_t len, FILE *out)
{
  struct cursor cur = { src, src ? src + len : NULL, 0, NULL, NULL, 0, NULL };
  for (size_t i = 0; i < d->n; i++)
    {
      const struct diag *g = &d->v[i];
      print_one (g, src && file && strcmp (g->file, file) == 0 ? &cur : NULL, out);
    }
  if (d->dropped)
    fprintf (out, "(%zu more errors not shown)\n", d->dropped);
}

struct mark
diag_mark_at (const char *src, size_t len, size_t offset)
{
  struct mark m = { 1, 1, 0 };
  const char *p = src, *end = src + (offset < len ? offset : len);
  if (end - p >= 3 && memcmp (p, "\xef\xbb\xbf", 3) == 0)
    p += 3;
  while (p < end)
    {
      size_t b = break_len (p, src + len);
      if (b)
        {
          m.line++;
          m.col = 1;
          p += b;
        }
      else
        {
          m.col++;
          p += char_len (p, src + len);
        }
    }
  return m;
}

void
diags_release (struct diags *d)
{
  for (size_t i = 0; i < d->n; i++)
    {
      free (d->v[i].file);
      free (d->v[i].msg);
      free (d->v[i].hint);
    }
  free (d->v);
  *d = (struct diags) DIAGS_INIT;
}

void
diags_print_files (const struct diags *d, FILE *out)
{
  /* Group by file, keeping the order in which files first appear. */
  for (size_t i = 0; i < d->n; i++)
    {
      int seen = 0;
      for (size_t j = 0; j < i && !seen; j++)
        seen = strcmp (d->v[j].file, d->v[i].file) == 0;
      if (seen)
        continue;
      struct diags one = { 0 };
      one.v = xcalloc (d->n, sizeof *one.v);
      for (size_t j = i; j < d->n; j++)
        if (strcmp (d->v[j].file, d->v[i].file) == 0)
          one.v[one.n++] = d->v[j];
      struct strbuf src = STRBUF_INIT;
      int have = strbuf_read_file (&src, d->v[i].file, 1u << 22) == 0;
      diags_print_len (&one, d->v[i].file, have ? src.buf : NULL, src.len, out);
      strbuf_release (&src);
      free (one.v);
    }
  if (d->dropped)
    fprintf (out, "(%zu more errors not shown)\n", d->dropped);
}
