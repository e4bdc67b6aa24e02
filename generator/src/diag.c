/* diag.c: see diag.h. */
#include "diag.h"
#include "strbuf.h"
#include "util.h"

#include <stdarg.h>
#include <string.h>

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
  d->v[d->n++] = (struct diag) { xstrdup (file ? file : "-"), m, strbuf_detach (&sb, NULL), NULL };
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
  last->hint = strbuf_detach (&sb, NULL);
}

/* Find line `line` (1-based) of src; returns its start and sets *len. */
static const char *
find_line (const char *src, int line, size_t *len)
{
  const char *p = src;
  for (int i = 1; i < line && p; i++)
    {
      p = strchr (p, '\n');
      if (p)
        p++;
    }
  if (p == NULL || *p == '\0')
    return NULL;
  const char *e = strchr (p, '\n');
  *len = e ? (size_t) (e - p) : strlen (p);
  return p;
}

static void
print_source (const struct diag *g, const char *src, FILE *out)
{
  size_t len;
  const char *line = find_line (src, g->mark.line, &len);
  if (line == NULL)
    return;
  fprintf (out, "%5d | ", g->mark.line);
  /* Control characters would garble the terminal: show them as '?'. */
  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) line[i];
      fputc (c == '\t' ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : c, out);
    }
  fputs ("\n      | ", out);
  for (int i = 1; i < g->mark.col && (size_t) i <= len; i++)
    fputc (' ', out);
  fputc ('^', out);
  for (int i = 1; i < g->mark.len && (size_t) (g->mark.col + i) <= len + 1; i++)
    fputc ('~', out);
  fputc ('\n', out);
}

void
diags_print (const struct diags *d, const char *file, const char *src, FILE *out)
{
  for (size_t i = 0; i < d->n; i++)
    {
      const struct diag *g = &d->v[i];
      if (g->mark.line > 0)
        fprintf (out, "%s:%d:%d: error: %s\n", g->file, g->mark.line, g->mark.col, g->msg);
      else
        fprintf (out, "%s: error: %s\n", g->file, g->msg);
      if (src && file && strcmp (g->file, file) == 0 && g->mark.line > 0)
        print_source (g, src, out);
      if (g->hint)
        fprintf (out, "      = %s\n", g->hint);
    }
  if (d->dropped)
    fprintf (out, "(%zu more errors not shown)\n", d->dropped);
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
      diags_print (&one, d->v[i].file, have ? src.buf : NULL, out);
      strbuf_release (&src);
      free (one.v);
    }
  if (d->dropped)
    fprintf (out, "(%zu more errors not shown)\n", d->dropped);
}
