/* dockerfile.c: see dockerfile.h. */
#include "dockerfile.h"
#include "util.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

static const struct
{
  const char *name;
  enum df_kind kind;
} kinds[] = {
  { "FROM", DF_FROM },   { "ARG", DF_ARG },     { "ADD", DF_ADD },     { "COPY", DF_COPY },
  { "RUN", DF_RUN },     { "ENV", DF_ENV },     { "LABEL", DF_LABEL }, { "CMD", DF_CMD },
  { "ENTRYPOINT", DF_ENTRYPOINT }, { "USER", DF_USER }, { "WORKDIR", DF_WORKDIR }, { "EXPOSE", DF_EXPOSE },
};

const char *
df_kind_name (enum df_kind k)
{
  for (size_t i = 0; i < ARRAY_SIZE (kinds); i++)
    if (kinds[i].kind == k)
      return kinds[i].name;
  return "other";
}

static enum df_kind
kind_of (const char *word, size_t n)
{
  for (size_t i = 0; i < ARRAY_SIZE (kinds); i++)
    if (strlen (kinds[i].name) == n && strncasecmp (kinds[i].name, word, n) == 0)
      return kinds[i].kind;
  return DF_OTHER;
}

/* One physical line: [p, e) without its newline. */
struct cursor
{
  const char *p, *end;
  int line;
};

static int
next_line (struct cursor *c, const char **s, size_t *n)
{
  if (c->p >= c->end)
    return 0;
  const char *nl = memchr (c->p, '\n', (size_t) (c->end - c->p));
  const char *e = nl ? nl : c->end;
  *s = c->p;
  *n = (size_t) (e - c->p);
  if (*n && (*s)[*n - 1] == '\r')
    (*n)--;
  c->p = nl ? nl + 1 : c->end;
  c->line++;
  return 1;
}

static int
blank_or_comment (const char *s, size_t n)
{
  size_t i = 0;
  while (i < n && isspace ((unsigned char) s[i]))
    i++;
  return i == n || s[i] == '#';
}

/* Strip a trailing '\' (and the blanks after it): 1 if the line continues. */
static int
continues (const char *s, size_t *n)
{
  size_t k = *n;
  while (k && (s[k - 1] == ' ' || s[k - 1] == '\t'))
    k--;
  if (k && s[k - 1] == '\\')
    {
      *n = k - 1;
      return 1;
    }
  return 0;
}

static int
fail (struct strbuf *err, const char *name, int line, int col, const char *fmt, const char *bad)
{
  strbuf_addf (err, "%s:%d:%d: ", name, line, col);
  strbuf_addf (err, fmt, bad);
  return -1;
}

/* Docker's shell-word lexer for ENV and LABEL: words split on blanks; "..." keeps blanks and
   takes '\' before '"', '\\' or '$'; '...' is literal; a '\' outside quotes escapes the next
   character. The word's text goes to out. Returns the index after the word, or -1 on an
   unclosed quote or a '$' (reported by the caller through *bad). */
static long
lex_word (const char *s, size_t n, size_t i, struct strbuf *out, const char **bad)
{
  while (i < n && !isspace ((unsigned char) s[i]))
    {
      char ch = s[i];
      if (ch == '$')
        return *bad = "a '$' (the writer does not expand variables; write the value itself)", -1;
      if (ch == '\\' && i + 1 < n)
        {
          strbuf_addch (out, s[i + 1]);
          i += 2;
        }
      else if (ch == '\'' || ch == '"')
        {
          size_t j = i + 1;
          for (; j < n && s[j] != ch; j++)
            {
              if (ch == '"' && s[j] == '$')
                return *bad = "a '$' (the writer does not expand variables; write the value itself)", -1;
              if (ch == '"' && s[j] == '\\' && j + 1 < n && strchr ("\"\\$", s[j + 1]))
                j++;
              strbuf_addch (out, s[j]);
            }
          if (j >= n)
            return *bad = "an unclosed quote", -1;
          i = j + 1;
        }
      else
        strbuf_addch (out, s[i++]);
    }
  return (long) i;
}

static int
parse_pairs (const char *name, struct df_instr *in, struct strbuf *err)
{
  const char *s = in->args;
  size_t n = strlen (s), i = 0;
  size_t alloc = 0;
  while (i < n)
    {
      while (i < n && isspace ((unsigned char) s[i]))
        i++;
      if (i >= n)
        break;
      size_t start = i;
      struct strbuf w = STRBUF_INIT;
      const char *bad = NULL;
      long next = lex_word (s, n, i, &w, &bad);
      if (next < 0)
        {
          strbuf_release (&w);
          return fail (err, name, in->line, in->col + (int) start, "%s in this word", bad);
        }
      char *eq = strchr (w.buf, '=');
      /* The key is what comes before the first '=' as written: a key never holds a quote. */
      if (eq == NULL || eq == w.buf)
        {
          strbuf_release (&w);
          cleanup_free char *word = xstrndup (s + start, (size_t) next - start);
          return fail (err, name, in->line, in->col + (int) start,
                       "'%s' is not KEY=VALUE (the only form the image writer reads)", word);
        }
      ARRAY_GROW (in->pairs, in->npairs + 1, alloc);
      in->pairs[in->npairs].key = xstrndup (w.buf, (size_t) (eq - w.buf));
      in->pairs[in->npairs].value = xstrdup (eq + 1);
      in->npairs++;
      strbuf_release (&w);
      i = (size_t) next;
    }
  if (in->npairs == 0)
    return fail (err, name, in->line, in->col, "%s has no KEY=VALUE", df_kind_name (in->kind));
  return 0;
}

/* CMD and ENTRYPOINT: a JSON array of strings (exec form), or the shell form, which Docker
   runs as ["/bin/sh", "-c", TEXT]. */
static int
parse_argv (const char *name, struct df_instr *in, struct strbuf *err)
{
  size_t alloc = 0;
  const char *s = in->args;
  if (s[0] != '[')
    {
      const char *sh[] = { "/bin/sh", "-c", s };
      for (size_t i = 0; i < 3; i++)
        {
          ARRAY_GROW (in->pairs, in->npairs + 1, alloc);
          in->pairs[in->npairs].key = NULL;
          in->pairs[in->npairs++].value = xstrdup (sh[i]);
        }
      return 0;
    }
  json_error_t je;
  json_t *a = json_loads (s, JSON_REJECT_DUPLICATES, &je);
  int ok = json_is_array (a);
  for (size_t i = 0; ok && i < json_array_size (a); i++)
    ok = json_is_string (json_array_get (a, i)) && strlen (json_string_value (json_array_get (a, i)))
                                                       == json_string_length (json_array_get (a, i));
  if (!ok)
    {
      json_decref (a);
      return fail (err, name, in->line, in->col,
                   "'%s' is not a JSON array of strings (exec form: [\"python3\"])", s);
    }
  for (size_t i = 0; i < json_array_size (a); i++)
    {
      ARRAY_GROW (in->pairs, in->npairs + 1, alloc);
      in->pairs[in->npairs].key = NULL;
      in->pairs[in->npairs++].value = xstrdup (json_string_value (json_array_get (a, i)));
    }
  json_decref (a);
  return 0;
}

/* The next instruction: its first line at (s, n), continuation lines read from c. */
static int
read_instr (const char *name, struct cursor *c, const char *s, size_t n, struct dockerfile *df, struct strbuf *err)
{
  int line = c->line;
  size_t i = 0;
  while (i < n && isspace ((unsigned char) s[i]))
    i++;
  size_t w0 = i;
  while (i < n && !isspace ((unsigned char) s[i]))
    i++;
  size_t wlen = i - w0;
  while (i < n && isspace ((unsigned char) s[i]))
    i++;
  int col = (int) i + 1;
  struct strbuf args = STRBUF_INIT;
  size_t rest = n - i;
  int more = continues (s + i, &rest);
  strbuf_add (&args, s + i, rest);
  const char *ls;
  size_t ln;
  while (more && next_line (c, &ls, &ln))
    {
      if (blank_or_comment (ls, ln))
        continue;
      /* Docker drops the '\' and the newline and keeps both sides' blanks (BuildKit's
         parser.go: trimContinuationCharacter, then the next line as it is) */
      more = continues (ls, &ln);
      strbuf_add (&args, ls, ln);
    }
  while (args.len && isspace ((unsigned char) args.buf[args.len - 1]))
    args.buf[--args.len] = '\0';
  ARRAY_GROW (df->v, df->n + 1, df->alloc);
  struct df_instr *in = &df->v[df->n++];
  memset (in, 0, sizeof *in);
  in->kind = kind_of (s + w0, wlen);
  in->name = xstrndup (s + w0, wlen);
  in->args = strbuf_detach (&args, NULL);
  in->line = line;
  in->col = col;
  if (in->kind == DF_ENV || in->kind == DF_LABEL)
    return parse_pairs (name, in, err);
  if (in->kind == DF_CMD || in->kind == DF_ENTRYPOINT)
    return parse_argv (name, in, err);
  return 0;
}

int
dockerfile_parse (const char *name, const char *text, size_t len, struct dockerfile *df, struct strbuf *err)
{
  memset (df, 0, sizeof *df);
  if (memchr (text, '\0', len))
    {
      strbuf_addf (err, "%s: holds a NUL byte: not a Dockerfile", name);
      return -1;
    }
  struct cursor c = { text, text + len, 0 };
  const char *s;
  size_t n;
  while (next_line (&c, &s, &n))
    {
      if (blank_or_comment (s, n))
        continue;
      if (read_instr (name, &c, s, n, df, err) < 0)
        {
          dockerfile_release (df);
          return -1;
        }
    }
  return 0;
}

void
dockerfile_release (struct dockerfile *df)
{
  for (size_t i = 0; i < df->n; i++)
    {
      for (size_t k = 0; k < df->v[i].npairs; k++)
        {
          free (df->v[i].pairs[k].key);
          free (df->v[i].pairs[k].value);
        }
      free (df->v[i].pairs);
      free (df->v[i].name);
      free (df->v[i].args);
    }
  free (df->v);
  memset (df, 0, sizeof *df);
}
