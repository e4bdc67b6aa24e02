/* template.c: the strict mustache-like template language of template.h (docs/templates.md).
   A template is parsed once into a tree (text, variable, section, inverted section, partial),
   then rendered against a stack of JSON contexts. Strictness is the point: a typo in a
   template must fail the render with template:line:col, never render an empty string. */
#include "template.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#define TEMPLATE_MAX_BYTES (1u << 20)
#define PARTIAL_MAX_DEPTH 16
#define MAX_STEPS 10000000UL

enum tkind
{
  T_TEXT,
  T_VAR,
  T_SECTION,
  T_INVERTED,
  T_PARTIAL,
};

struct tnode
{
  enum tkind kind;
  char *text;   /* T_TEXT: the bytes; else the name */
  size_t len;   /* T_TEXT: bytes in text */
  struct mark mark;
  char *indent; /* T_PARTIAL standalone on its line: the indentation to apply */
  struct tnode *kids;
  size_t nkids, alloc;
};

/* A tag as the scanner sees it, before the tree is built. */
struct tag
{
  char sigil;        /* 0 for a variable, else one of # ^ / > ! */
  char *name;
  struct mark mark;
  size_t open, end;  /* the tag's bytes: [open, end) */
  size_t cut0, cut1; /* what the tag removes from the output: itself or its whole line */
  size_t indent0;    /* start of the line, for a standalone partial's indentation */
  int standalone;
};

struct engine
{
  const char *name; /* the template's file name, for diagnostics */
  const struct template_opts *opts;
  struct diags *d;
  struct strbuf *out;
  size_t cap;
  unsigned long steps;
  int depth;
  int stopped; /* the output cap or the step bound was hit */
  json_t **stack;
  size_t nstack, stack_alloc;
};

/* ---- scanning --------------------------------------------------------------------------- */

/* Line and column of pos, advancing a cursor that only moves forward (tags come in order),
   so that marking every tag of a large template stays linear. */
struct cursor
{
  size_t pos;
  int line, col;
};

static struct mark
mark_at (struct cursor *c, const char *src, size_t pos, size_t len)
{
  for (; c->pos < pos; c->pos++)
    {
      if (src[c->pos] == '\n')
        {
          c->line++;
          c->col = 1;
        }
      else
        c->col++;
    }
  return (struct mark) { c->line, c->col, (int) len };
}

static int
valid_name (const char *s, int sigil)
{
  if (strcmp (s, ".") == 0 && sigil != '>')
    return 1;
  if (*s == '\0' || *s == '.' || *s == '/')
    return 0;
  for (const char *p = s; *p; p++)
    {
      if (isalnum ((unsigned char) *p) || *p == '_' || *p == '-')
        continue;
      if (*p == '.' && p[1] != '.' && p[1] != '\0' && sigil != '>')
        continue;
      if (*p == '/' && sigil == '>' && p[1] != '/' && p[1] != '\0')
        continue;
      return 0;
    }
  return sigil != '>' || strstr (s, "..") == NULL;
}

/* A section, inverted section, close, comment or partial alone on its line (only blanks around
   it) takes the whole line with it, so templates can be laid out without stray blank lines. */
static void
apply_standalone (const char *src, size_t len, struct tag *t)
{
  t->cut0 = t->open;
  t->cut1 = t->end;
  if (t->sigil == 0)
    return;
  size_t b = t->open;
  while (b > 0 && (src[b - 1] == ' ' || src[b - 1] == '\t'))
    b--;
  if (b > 0 && src[b - 1] != '\n')
    return;
  size_t e = t->end;
  while (e < len && (src[e] == ' ' || src[e] == '\t'))
    e++;
  if (e < len && src[e] == '\r' && e + 1 < len && src[e + 1] == '\n')
    e++;
  if (e < len && src[e] != '\n')
    return;
  t->standalone = 1;
  t->indent0 = b;
  t->cut0 = b;
  t->cut1 = e < len ? e + 1 : e;
}

/* Find every tag; returns the count, or -1 after recording an unrecoverable scanning error. */
static int
scan_tags (struct engine *en, const char *src, size_t len, struct tag **out, size_t *n)
{
  size_t alloc = 0, pos = 0;
  struct cursor cur = { 0, 1, 1 };
  const char *p;
  while (pos < len && (p = memmem (src + pos, len - pos, "{{", 2)) != NULL)
    {
      size_t open = (size_t) (p - src);
      const char *close = memmem (p + 2, len - open - 2, "}}", 2);
      if (close == NULL)
        {
          diag_add (en->d, en->name, mark_at (&cur, src, open, 2), "unterminated tag: '{{' without '}}'");
          return -1;
        }
      size_t end = (size_t) (close - src) + 2;
      struct tag t = { 0 };
      t.open = open;
      t.end = end;
      t.mark = mark_at (&cur, src, open, end - open);
      const char *c = p + 2, *ce = close;
      while (c < ce && isspace ((unsigned char) *c))
        c++;
      while (ce > c && isspace ((unsigned char) ce[-1]))
        ce--;
      if (c < ce && strchr ("#^/>!{=&", *c))
        t.sigil = *c++;
      while (c < ce && isspace ((unsigned char) *c))
        c++;
      t.name = xstrndup (c, (size_t) (ce - c));
      ARRAY_GROW (*out, *n + 1, alloc);
      (*out)[(*n)++] = t;
      pos = end;
    }
  return 0;
}

/* Refuse what the language does not have; record an error per bad tag. */
static int
check_tag (struct engine *en, const struct tag *t)
{
  if (t->sigil == '!')
    return 0;
  if (t->sigil == '{' || t->sigil == '&')
    diag_add (en->d, en->name, t->mark, "'{{%c' is not supported: values are never escaped, use '{{name}}'", t->sigil);
  else if (t->sigil == '=')
    diag_add (en->d, en->name, t->mark, "set-delimiter tags '{{=' are not supported");
  else if (t->name[0] == '\0')
    diag_add (en->d, en->name, t->mark, "empty tag");
  else if (!valid_name (t->name, t->sigil))
    diag_add (en->d, en->name, t->mark, "bad name '%s': letters, digits, '_', '-' and '.'%s", t->name,
              t->sigil == '>' ? " and '/'" : "");
  else
    return 0;
  return -1;
}

/* ---- the tree --------------------------------------------------------------------------- */

static struct tnode *
add_node (struct tnode *parent, enum tkind kind)
{
  ARRAY_GROW (parent->kids, parent->nkids + 1, parent->alloc);
  struct tnode *n = &parent->kids[parent->nkids++];
  memset (n, 0, sizeof *n);
  n->kind = kind;
  return n;
}

static void
tnode_release (struct tnode *n)
{
  for (size_t i = 0; i < n->nkids; i++)
    tnode_release (&n->kids[i]);
  free (n->kids);
  free (n->text);
  free (n->indent);
}

static void
add_text (struct tnode *parent, const char *src, size_t from, size_t to)
{
  if (to <= from)
    return;
  struct tnode *n = add_node (parent, T_TEXT);
  n->text = xstrndup (src + from, to - from);
  n->len = to - from;
}

/* Build the tree from the tags; children are appended to the innermost open section. The
   pointers in open[] stay valid: while a section is open only its own kids array grows. */
static int
build_tree (struct engine *en, const char *src, size_t len, struct tag *tags, size_t ntags,
            struct tnode *root)
{
  struct tnode *open[64];
  const struct tag *open_tag[64];
  size_t depth = 0;
  size_t pos = 0;
  int bad = 0;
  open[0] = root;
  for (size_t i = 0; i < ntags; i++)
    {
      struct tag *t = &tags[i];
      struct tnode *parent = open[depth];
      add_text (parent, src, pos, t->cut0);
      pos = t->cut1;
      if (check_tag (en, t) < 0)
        {
          bad = 1;
          continue;
        }
      if (t->sigil == '!')
        continue;
      if (t->sigil == '/')
        {
          if (depth == 0)
            {
              diag_add (en->d, en->name, t->mark, "'{{/%s}}' closes nothing", t->name);
              bad = 1;
            }
          else if (strcmp (open[depth]->text, t->name) != 0)
            {
              diag_add (en->d, en->name, t->mark, "'{{/%s}}' closes '{{%c%s}}' opened at line %d, column %d",
                        t->name, open[depth]->kind == T_SECTION ? '#' : '^', open[depth]->text,
                        open_tag[depth]->mark.line, open_tag[depth]->mark.col);
              bad = 1;
              depth--;
            }
          else
            depth--;
          continue;
        }
      enum tkind k = t->sigil == '#' ? T_SECTION : t->sigil == '^' ? T_INVERTED : t->sigil == '>' ? T_PARTIAL : T_VAR;
      struct tnode *n = add_node (parent, k);
      n->text = xstrdup (t->name);
      n->mark = t->mark;
      if (k == T_PARTIAL && t->standalone && t->open > t->indent0)
        n->indent = xstrndup (src + t->indent0, t->open - t->indent0);
      if (k == T_SECTION || k == T_INVERTED)
        {
          if (depth + 1 >= ARRAY_SIZE (open))
            {
              diag_add (en->d, en->name, t->mark, "sections nested deeper than %zu", ARRAY_SIZE (open) - 1);
              return -1;
            }
          open[++depth] = n;
          open_tag[depth] = t;
        }
    }
  add_text (open[depth], src, pos, len);
  for (; depth > 0; depth--)
    {
      diag_add (en->d, en->name, open_tag[depth]->mark, "unclosed section '%s'", open[depth]->text);
      bad = 1;
    }
  return bad ? -1 : 0;
}

static int
parse (struct engine *en, const char *src, size_t len, struct tnode *root)
{
  struct tag *tags = NULL;
  size_t ntags = 0;
  memset (root, 0, sizeof *root);
  int r = scan_tags (en, src, len, &tags, &ntags);
  if (r == 0)
    {
      for (size_t i = 0; i < ntags; i++)
        apply_standalone (src, len, &tags[i]);
      r = build_tree (en, src, len, tags, ntags, root);
    }
  for (size_t i = 0; i < ntags; i++)
    free (tags[i].name);
  free (tags);
  return r;
}

/* ---- rendering -------------------------------------------------------------------------- */

/* Report once per place: a variable inside a loop would repeat its error per element. */
static void
report (struct engine *en, struct mark m, const char *fmt, const char *arg)
{
  for (size_t i = 0; i < en->d->n; i++)
    if (strcmp (en->d->v[i].file, en->name) == 0 && en->d->v[i].mark.line == m.line
        && en->d->v[i].mark.col == m.col)
      return;
  diag_add (en->d, en->name, m, fmt, arg);
}

static json_t *
lookup (struct engine *en, const char *name)
{
  if (en->nstack == 0)
    return NULL;
  if (strcmp (name, ".") == 0)
    return en->stack[en->nstack - 1];
  const char *dot = strchr (name, '.');
  size_t first = dot ? (size_t) (dot - name) : strlen (name);
  json_t *v = NULL;
  for (size_t i = en->nstack; i-- > 0 && v == NULL;)
    if (json_is_object (en->stack[i]))
      v = json_object_getn (en->stack[i], name, first);
  while (v && dot)
    {
      const char *seg = dot + 1;
      dot = strchr (seg, '.');
      size_t n = dot ? (size_t) (dot - seg) : strlen (seg);
      v = json_is_object (v) ? json_object_getn (v, seg, n) : NULL;
    }
  return v;
}

static int
truthy (const json_t *v)
{
  switch (json_typeof (v))
    {
    case JSON_NULL:
    case JSON_FALSE:
      return 0;
    case JSON_ARRAY:
      return json_array_size (v) > 0;
    case JSON_STRING:
      return json_string_length (v) > 0;
    case JSON_INTEGER:
      return json_integer_value (v) != 0;
    case JSON_REAL:
      return json_real_value (v) != 0.0;
    default:
      return 1;
    }
}

static void
emit (struct engine *en, const char *s, size_t n)
{
  if (en->stopped)
    return;
  if (en->out->len + n > en->cap)
    {
      char what[64];
      snprintf (what, sizeof what, "%zu", en->cap);
      diag_add (en->d, en->name, (struct mark) { 0, 0, 0 }, "output exceeds %s bytes", what);
      en->stopped = 1;
      return;
    }
  strbuf_add (en->out, s, n);
}

static void
print_value (struct engine *en, const struct tnode *n, json_t *v)
{
  char num[64];
  switch (json_typeof (v))
    {
    case JSON_STRING:
      emit (en, json_string_value (v), json_string_length (v));
      return;
    case JSON_INTEGER:
      snprintf (num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
      break;
    case JSON_REAL:
      snprintf (num, sizeof num, "%g", json_real_value (v));
      break;
    case JSON_TRUE:
      snprintf (num, sizeof num, "true");
      break;
    case JSON_FALSE:
      snprintf (num, sizeof num, "false");
      break;
    default:
      report (en, n->mark,
              json_is_null (v) ? "cannot print '%s': it is null (guard it with a section)"
              : json_is_array (v) ? "cannot print array '%s': iterate it with a section"
                                  : "cannot print object '%s': name one of its fields",
              n->text);
      return;
    }
  emit (en, num, strlen (num));
}

static void render_nodes (struct engine *en, const struct tnode *parent);

static void
push (struct engine *en, json_t *v)
{
  ARRAY_GROW (en->stack, en->nstack + 1, en->stack_alloc);
  en->stack[en->nstack++] = v;
}

static void
render_section (struct engine *en, const struct tnode *n, json_t *v)
{
  if (n->kind == T_INVERTED)
    {
      if (!truthy (v))
        render_nodes (en, n);
      return;
    }
  if (!truthy (v))
    return;
  if (json_is_array (v))
    {
      size_t i;
      json_t *item;
      json_array_foreach (v, i, item)
      {
        push (en, item);
        render_nodes (en, n);
        en->nstack--;
      }
    }
  else if (json_is_object (v))
    {
      push (en, v);
      render_nodes (en, n);
      en->nstack--;
    }
  else
    render_nodes (en, n);
}

static int render_text (struct engine *en, const char *name, const char *text, size_t len);

/* Append text, putting indent at the start of every line (a standalone partial's indentation). */
static void
emit_indented (struct engine *en, const char *indent, const char *s, size_t n)
{
  size_t start = 0;
  for (size_t i = 0; i <= n; i++)
    if (i == n || s[i] == '\n')
      {
        size_t end = i < n ? i + 1 : i;
        if (end > start)
          {
            emit (en, indent, strlen (indent));
            emit (en, s + start, end - start);
          }
        start = end;
      }
}

static void
render_partial (struct engine *en, const struct tnode *n)
{
  if (en->opts == NULL || en->opts->partial_dir == NULL)
    {
      report (en, n->mark, "partial '%s': this template cannot include partials", n->text);
      return;
    }
  if (en->depth >= PARTIAL_MAX_DEPTH)
    {
      report (en, n->mark, "partial '%s' nests too deeply (a partial that includes itself?)", n->text);
      return;
    }
  cleanup_free char *path = xasprintf ("%s/%s.tmpl", en->opts->partial_dir, n->text);
  struct strbuf src = STRBUF_INIT;
  if (strbuf_read_file (&src, path, TEMPLATE_MAX_BYTES) < 0)
    {
      cleanup_free char *what = xasprintf ("cannot read partial '%s': %s", path, strerror (errno));
      report (en, n->mark, "%s", what);
      strbuf_release (&src);
      return;
    }
  struct strbuf *saved = en->out, tmp = STRBUF_INIT;
  if (n->indent)
    en->out = &tmp;
  const char *saved_name = en->name;
  en->depth++;
  render_text (en, path, src.buf, src.len);
  en->depth--;
  en->name = saved_name;
  if (n->indent)
    {
      en->out = saved;
      emit_indented (en, n->indent, tmp.buf, tmp.len);
      strbuf_release (&tmp);
    }
  strbuf_release (&src);
}

static void
render_nodes (struct engine *en, const struct tnode *parent)
{
  for (size_t i = 0; i < parent->nkids && !en->stopped; i++)
    {
      const struct tnode *n = &parent->kids[i];
      if (++en->steps > MAX_STEPS)
        {
          diag_add (en->d, en->name, n->mark, "rendering takes more than %lu steps", MAX_STEPS);
          en->stopped = 1;
          return;
        }
      if (n->kind == T_TEXT)
        {
          emit (en, n->text, n->len);
          continue;
        }
      if (n->kind == T_PARTIAL)
        {
          render_partial (en, n);
          continue;
        }
      json_t *v = lookup (en, n->text);
      if (v == NULL)
        report (en, n->mark, "unknown variable '%s'", n->text);
      else if (n->kind == T_VAR)
        print_value (en, n, v);
      else
        render_section (en, n, v);
    }
}

static int
render_text (struct engine *en, const char *name, const char *text, size_t len)
{
  size_t before = en->d->n;
  struct tnode root;
  en->name = name;
  if (parse (en, text, len, &root) == 0)
    render_nodes (en, &root);
  tnode_release (&root);
  return en->d->n > before || en->stopped ? -1 : 0;
}

int
template_render (const char *name, const char *text, size_t len, json_t *ctx,
                 const struct template_opts *opts, struct strbuf *out, struct diags *d)
{
  struct engine en = { 0 };
  en.opts = opts;
  en.d = d;
  en.out = out;
  en.cap = opts && opts->max_output ? opts->max_output : TEMPLATE_MAX_OUTPUT;
  push (&en, ctx);
  int r = render_text (&en, name, text, len);
  free (en.stack);
  return r;
}

int
template_render_file (const char *path, json_t *ctx, const struct template_opts *opts,
                      struct strbuf *out, struct diags *d)
{
  struct strbuf src = STRBUF_INIT;
  if (strbuf_read_file (&src, path, TEMPLATE_MAX_BYTES) < 0)
    {
      diag_add (d, path, (struct mark) { 0, 0, 0 }, "cannot read template '%s': %s", path,
                errno == EFBIG ? "larger than 1 MiB" : strerror (errno));
      strbuf_release (&src);
      return -1;
    }
  int r = template_render (path, src.buf, src.len, ctx, opts, out, d);
  strbuf_release (&src);
  return r;
}
