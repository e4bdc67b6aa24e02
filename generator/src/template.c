/* template.c: the strict mustache-like template language of template.h (docs/templates.md).
   A template is scanned for tags, parsed once into a tree (text, variable, section, inverted
   section, partial), then rendered against a stack of JSON contexts. Partials are parsed once
   per render too, however often they are included. Strictness is the point: a typo in a
   template must fail the render with template:line:col, never print an empty string into a
   published Dockerfile. Work is bounded three ways (output cap, step count, nesting depths)
   because templates multiply: a section over a list inside a section over a list, a partial
   that includes itself. */
#include "template.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#define TEMPLATE_MAX_BYTES (1u << 20) /* a template or partial file */
#define PARTIAL_MAX_DEPTH 16
#define SECTION_MAX_DEPTH 64 /* rendering recurses per level: keep the C stack bounded */
#define MAX_STEPS 2000000UL   /* nodes visited plus list turns; real templates need thousands */
#define NAME_SHOWN 40         /* bytes of a bad name quoted in a message */

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
  char *text;      /* T_TEXT: the bytes; else the name */
  size_t len;      /* bytes in text */
  struct mark mark;
  char *indent;    /* T_PARTIAL alone on its line: the white space before the tag */
  unsigned bol : 1;      /* starts a line of its template: a partial's indentation goes here */
  unsigned reported : 1; /* an error was reported here: once per place, not per list turn */
  struct tnode *kids;
  size_t nkids, alloc;
};

/* A tag as the scanner sees it, before the tree is built. */
struct tag
{
  char sigil;        /* 0 for a variable, else one of # ^ / > ! { & = */
  char *name;        /* the trimmed inside, without the sigil */
  size_t name_len;   /* may differ from strlen (name) when the template holds a NUL */
  struct mark mark;
  size_t open, end;  /* the tag's bytes: [open, end) */
  size_t cut0, cut1; /* what the tag removes from the output: itself, or its whole line */
  size_t indent0;    /* where its line starts, for a standalone partial's indentation */
  int standalone;
};

/* A partial, read and parsed the first time it is included. */
struct partial
{
  char *name;
  char *path;
  int err;    /* errno of reading it; 0 when read */
  int usable; /* parsed well enough to render (its errors were counted when parsed) */
  struct tnode root;
};

struct engine
{
  const struct template_opts *opts;
  struct diags *d;
  struct strbuf *out;
  size_t start;      /* out->len before the render: the cap counts what this render adds */
  size_t cap;
  unsigned long steps;
  int depth;         /* partials being rendered */
  int errors;        /* counted even when d is full or the error was reported already */
  int stopped;       /* the output cap or the step bound was hit */
  const char *file;  /* the template being rendered, for diagnostics */
  struct strbuf indent; /* the indentation of the standalone partials being rendered */
  json_t **stack;
  size_t nstack, stack_alloc;
  struct partial **partials; /* pointers: a tree being rendered must not move */
  size_t npartials, partials_alloc;
};

/* ---- errors ----------------------------------------------------------------------------- */

static void __attribute__ ((format (printf, 4, 0)))
vfail (struct engine *en, const char *file, struct mark m, const char *fmt, va_list ap)
{
  struct strbuf sb = STRBUF_INIT;
  strbuf_vaddf (&sb, fmt, ap);
  en->errors++;
  diag_add (en->d, file, m, "%s", sb.buf);
  strbuf_release (&sb);
}

static void __attribute__ ((format (printf, 4, 5)))
fail (struct engine *en, const char *file, struct mark m, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vfail (en, file, m, fmt, ap);
  va_end (ap);
}

/* An error at a node of the tree being rendered: a tag inside a section over a list would
   otherwise repeat its error once per element. */
static void __attribute__ ((format (printf, 3, 4)))
fail_at (struct engine *en, struct tnode *n, const char *fmt, ...)
{
  if (n->reported)
    {
      en->errors++;
      return;
    }
  n->reported = 1;
  va_list ap;
  va_start (ap, fmt);
  vfail (en, en->file, n->mark, fmt, ap);
  va_end (ap);
}

/* A name from the template for a message: control bytes would garble the terminal and a
   megabyte-long "name" the message, so show '?' for the former and cut the latter. */
static char *
shown (const char *s, size_t n)
{
  struct strbuf sb = STRBUF_INIT;
  for (size_t i = 0; i < n && i < NAME_SHOWN; i++)
    {
      unsigned char c = (unsigned char) s[i];
      strbuf_addch (&sb, c < 0x20 || c == 0x7f ? '?' : c);
    }
  if (n > NAME_SHOWN)
    strbuf_addstr (&sb, "...");
  return strbuf_detach (&sb, NULL);
}

/* ---- scanning --------------------------------------------------------------------------- */

/* Line and column of pos, advancing a cursor that only moves forward (positions are asked
   in order), so that marking every tag of a large template stays linear. */
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
  return (struct mark) { c->line, c->col, len > INT_MAX ? INT_MAX : (int) len };
}

static int
line_start (const char *src, size_t pos)
{
  return pos == 0 || src[pos - 1] == '\n';
}

/* A section, inverted section, close, comment or partial alone on its line (only blanks
   around it) takes the whole line with it, newline included, so that templates can be laid
   out one tag a line without leaving blank lines in the Dockerfile. A variable never does:
   its line is output. */
static void
apply_standalone (const char *src, size_t len, struct tag *t)
{
  t->cut0 = t->open;
  t->cut1 = t->end;
  if (t->sigil == 0 || strchr ("#^/>!", t->sigil) == NULL)
    return;
  size_t b = t->open;
  while (b > 0 && (src[b - 1] == ' ' || src[b - 1] == '\t'))
    b--;
  if (!line_start (src, b))
    return;
  size_t e = t->end;
  while (e < len && (src[e] == ' ' || src[e] == '\t'))
    e++;
  if (e + 1 < len && src[e] == '\r' && src[e + 1] == '\n')
    e++;
  if (e < len && src[e] != '\n')
    return;
  t->standalone = 1;
  t->indent0 = b;
  t->cut0 = b;
  t->cut1 = e < len ? e + 1 : e;
}

/* Split the inside of a tag, src[from, to), into sigil and trimmed name. */
static void
split_tag (const char *src, size_t from, size_t to, struct tag *t)
{
  const char *c = src + from, *ce = src + to;
  while (c < ce && isspace ((unsigned char) *c))
    c++;
  while (ce > c && isspace ((unsigned char) ce[-1]))
    ce--;
  if (c < ce && *c != '\0' && strchr ("#^/>!{&=", *c))
    t->sigil = *c++;
  while (c < ce && isspace ((unsigned char) *c))
    c++;
  t->name_len = (size_t) (ce - c);
  t->name = xstrndup (c, t->name_len);
}

/* Find every tag, in order. Returns 0, or -1 at an unterminated tag (recorded): nothing
   after it can be read as a tag. */
static int
scan_tags (struct engine *en, const char *src, size_t len, struct tag **tags, size_t *n)
{
  size_t alloc = 0, pos = 0;
  struct cursor cur = { 0, 1, 1 };
  const char *p;
  while (pos + 1 < len && (p = memmem (src + pos, len - pos, "{{", 2)) != NULL)
    {
      size_t open = (size_t) (p - src);
      const char *close = memmem (p + 2, len - open - 2, "}}", 2);
      if (close == NULL)
        {
          const char *eol = memchr (p, '\n', len - open);
          size_t span = eol ? (size_t) (eol - p) : len - open;
          fail (en, en->file, mark_at (&cur, src, open, span), "unterminated tag: '{{' without '}}'");
          return -1;
        }
      size_t end = (size_t) (close - src) + 2;
      /* {{{name}}}: take the third brace too, so that the error spans the whole tag. */
      if (p[2] == '{' && end < len && src[end] == '}')
        end++;
      struct tag t = { 0 };
      t.open = open;
      t.end = end;
      t.mark = mark_at (&cur, src, open, end - open);
      split_tag (src, open + 2, (size_t) (close - src), &t);
      ARRAY_GROW (*tags, *n + 1, alloc);
      (*tags)[(*n)++] = t;
      pos = end;
    }
  return 0;
}

/* A name of the context: "." or segments of [A-Za-z0-9_-] joined by single dots. */
static int
valid_name (const char *s, size_t n)
{
  if (n == 1 && s[0] == '.')
    return 1;
  int seg = 0;
  for (size_t i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char) s[i];
      if (isalnum (c) || c == '_' || c == '-')
        seg++;
      else if (c == '.' && seg > 0)
        seg = 0;
      else
        return 0;
    }
  return seg > 0;
}

/* A partial's name is a path below the partial folder, and must stay there. */
static int
check_partial_name (struct engine *en, const struct tag *t)
{
  const char *why = NULL;
  if (t->name[0] == '/')
    why = "must not start with '/'";
  else if (strstr (t->name, "..") != NULL)
    why = "must not contain '..'";
  for (size_t i = 0; i < t->name_len && why == NULL; i++)
    {
      unsigned char c = (unsigned char) t->name[i];
      int empty_folder = c == '/' && (i + 1 == t->name_len || t->name[i + 1] == '/');
      if (c == '\0' || !(isalnum (c) || strchr ("_-./", c)) || empty_folder)
        why = "letters, digits, '_', '-' and '.', in folders joined by '/'";
    }
  if (why == NULL)
    return 0;
  cleanup_free char *s = shown (t->name, t->name_len);
  fail (en, en->file, t->mark, "bad partial name '%s': %s", s, why);
  return -1;
}

/* Refuse what the language does not have. Returns 0, or -1 after recording an error. */
static int
check_tag (struct engine *en, const struct tag *t)
{
  if (t->sigil == '!')
    return 0;
  if (t->sigil == '{' || t->sigil == '&')
    fail (en, en->file, t->mark,
          "'{{%c' is not supported: values are never escaped, write '{{name}}'", t->sigil);
  else if (t->sigil == '=')
    fail (en, en->file, t->mark, "set-delimiter tags '{{=' are not supported");
  else if (t->name_len == 0 && t->sigil == 0)
    fail (en, en->file, t->mark, "empty tag");
  else if (t->name_len == 0)
    fail (en, en->file, t->mark, "'{{%c' without a name", t->sigil);
  else if (t->sigil == '>')
    return check_partial_name (en, t);
  else if (!valid_name (t->name, t->name_len))
    {
      cleanup_free char *s = shown (t->name, t->name_len);
      fail (en, en->file, t->mark, "bad name '%s': letters, digits, '_' and '-', joined by '.'", s);
    }
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

/* What build_tree carries from tag to tag. */
struct builder
{
  const char *src;
  size_t len;
  struct cursor cur; /* for the marks of text nodes */
  size_t pos;        /* the output of the template resumes here */
  int pending_bol;   /* a tag that printed nothing began this line: the next node starts it */
  struct tnode *open[SECTION_MAX_DEPTH + 1];
  const struct tag *open_tag[SECTION_MAX_DEPTH + 1];
  size_t depth;
  const struct tag *tags; /* all of them, and the one at hand */
  size_t ntags, i;
  int structural; /* sections do not nest properly: the tree means nothing */
};

static void
add_text (struct builder *b, size_t to)
{
  if (to <= b->pos)
    return;
  struct tnode *n = add_node (b->open[b->depth], T_TEXT);
  n->text = xstrndup (b->src + b->pos, to - b->pos);
  n->len = to - b->pos;
  n->mark = mark_at (&b->cur, b->src, b->pos, n->len);
  n->bol = b->pending_bol || line_start (b->src, b->pos);
  b->pending_bol = 0;
}

/* Does a later close tag at the current level name `name`? Then a close that names no open
   section is a stray one, else it is most likely a misspelling of the innermost's name. Only
   a window of tags is looked at, so that a template of many bad closes stays linear. */
static int
closed_later (const struct builder *b, const char *name)
{
  size_t level = 0;
  for (size_t j = b->i + 1; j < b->ntags && j <= b->i + 256; j++)
    {
      const struct tag *t = &b->tags[j];
      if (t->sigil == '#' || t->sigil == '^')
        level++;
      else if (t->sigil == '/' && level > 0)
        level--;
      else if (t->sigil == '/')
        return strcmp (t->name, name) == 0;
    }
  return 0;
}

/* A close tag must name the innermost open section. When it names one further out, the
   sections in between end with it; when it names none, it closes the innermost one (a
   misspelling) unless that one is closed later (a stray close, dropped). Either way one
   error, not a cascade of them. */
static void
close_section (struct engine *en, struct builder *b, const struct tag *t)
{
  if (b->depth == 0)
    {
      fail (en, en->file, t->mark, "'{{/%s}}' closes nothing", t->name);
      b->structural = 1;
      return;
    }
  const struct tnode *in = b->open[b->depth];
  if (strcmp (in->text, t->name) == 0)
    {
      b->depth--;
      return;
    }
  fail (en, en->file, t->mark, "'{{/%s}}' closes '{{%c%s}}' opened at line %d, column %d", t->name,
        in->kind == T_SECTION ? '#' : '^', in->text, b->open_tag[b->depth]->mark.line,
        b->open_tag[b->depth]->mark.col);
  b->structural = 1;
  for (size_t k = b->depth - 1; k > 0; k--)
    if (strcmp (b->open[k]->text, t->name) == 0)
      {
        b->depth = k - 1;
        return;
      }
  if (!closed_later (b, in->text))
    b->depth--;
}

/* Add the node of a variable, section, inverted section or partial tag. Returns -1 when
   sections nest too deeply to go on. */
static int
open_node (struct engine *en, struct builder *b, const struct tag *t, int bol)
{
  enum tkind k = t->sigil == '#'   ? T_SECTION
                 : t->sigil == '^' ? T_INVERTED
                 : t->sigil == '>' ? T_PARTIAL
                                   : T_VAR;
  if ((k == T_SECTION || k == T_INVERTED) && b->depth == SECTION_MAX_DEPTH)
    {
      fail (en, en->file, t->mark, "sections nested more than %d deep", SECTION_MAX_DEPTH);
      return -1;
    }
  struct tnode *n = add_node (b->open[b->depth], k);
  n->text = xstrdup (t->name);
  n->len = t->name_len;
  n->mark = t->mark;
  n->bol = bol;
  if (k == T_PARTIAL && t->standalone)
    n->indent = xstrndup (b->src + t->indent0, t->open - t->indent0);
  if (k == T_SECTION || k == T_INVERTED)
    {
      b->open[++b->depth] = n;
      b->open_tag[b->depth] = t;
    }
  return 0;
}

/* Returns -1 when the tree cannot be built further. */
static int
build_tag (struct engine *en, struct builder *b, const struct tag *t)
{
  /* Does the tag begin its line (in the output, once tags that print nothing are gone)?
     A standalone tag took its line away: the next node begins the next line by itself. */
  int bol = !t->standalone && (b->pending_bol || line_start (b->src, t->open));
  b->pending_bol = 0;
  if (check_tag (en, t) < 0 || t->sigil == '!')
    b->pending_bol = bol;
  else if (t->sigil == '/')
    {
      close_section (en, b, t);
      b->pending_bol = bol;
    }
  else
    return open_node (en, b, t, bol);
  return 0;
}

/* Build the tree from the tags: children go to the innermost open section. The pointers in
   b->open stay valid: while a section is open only its own kids array grows. */
static void
build_tree (struct engine *en, struct builder *b, const struct tag *tags, size_t ntags, int complete)
{
  b->tags = tags;
  b->ntags = ntags;
  for (b->i = 0; b->i < ntags; b->i++)
    {
      add_text (b, tags[b->i].cut0);
      b->pos = tags[b->i].cut1;
      if (build_tag (en, b, &tags[b->i]) < 0)
        {
          b->structural = 1;
          return;
        }
    }
  if (!complete)
    {
      /* An unterminated tag hid the rest of the template: its sections may close there. */
      b->structural = 1;
      return;
    }
  add_text (b, b->len);
  for (size_t k = 1; k <= b->depth; k++)
    fail (en, en->file, b->open_tag[k]->mark, "unclosed section '%s'", b->open[k]->text);
  b->structural |= b->depth > 0;
}

/* Parse src into root. Returns 0 when the tree can be rendered: it may still hold bad tags
   (already counted as errors), and rendering it reports the unknown variables as well; -1
   when sections do not nest, so that rendering would only add confusion. */
static int
parse (struct engine *en, const char *src, size_t len, struct tnode *root)
{
  struct tag *tags = NULL;
  size_t ntags = 0;
  memset (root, 0, sizeof *root);
  int complete = scan_tags (en, src, len, &tags, &ntags) == 0;
  for (size_t i = 0; i < ntags; i++)
    apply_standalone (src, len, &tags[i]);
  struct builder b = { 0 };
  b.src = src;
  b.len = len;
  b.cur = (struct cursor) { 0, 1, 1 };
  b.open[0] = root;
  build_tree (en, &b, tags, ntags, complete);
  for (size_t i = 0; i < ntags; i++)
    free (tags[i].name);
  free (tags);
  return b.structural ? -1 : 0;
}

/* ---- rendering -------------------------------------------------------------------------- */

static int
step (struct engine *en, struct tnode *n)
{
  if (en->stopped)
    return -1;
  if (++en->steps <= MAX_STEPS)
    return 0;
  fail (en, en->file, n->mark, "rendering takes more than %lu steps", MAX_STEPS);
  en->stopped = 1;
  return -1;
}

/* Append to the output, within the cap; n is the node that prints, for the error. */
static void
emit (struct engine *en, struct tnode *n, const char *s, size_t len)
{
  if (en->stopped || len == 0)
    return;
  if (en->out->len - en->start + len > en->cap)
    {
      fail (en, en->file, n->mark, "output exceeds %zu bytes", en->cap);
      en->stopped = 1;
      return;
    }
  strbuf_add (en->out, s, len);
}

static void
emit_indent (struct engine *en, struct tnode *n)
{
  if (n->bol)
    emit (en, n, en->indent.buf, en->indent.len);
}

/* Text goes out as it is, except inside a standalone partial, where each of its lines starts
   with the partial's indentation (a line break at the very end starts no line here: the next
   node, if any, starts it). */
static void
render_text (struct engine *en, struct tnode *n)
{
  if (en->indent.len == 0)
    {
      emit (en, n, n->text, n->len);
      return;
    }
  emit_indent (en, n);
  size_t from = 0;
  for (size_t i = 0; i + 1 < n->len; i++)
    if (n->text[i] == '\n')
      {
        emit (en, n, n->text + from, i + 1 - from);
        emit (en, n, en->indent.buf, en->indent.len);
        from = i + 1;
      }
  emit (en, n, n->text + from, n->len - from);
}

static void
push (struct engine *en, json_t *v)
{
  ARRAY_GROW (en->stack, en->nstack + 1, en->stack_alloc);
  en->stack[en->nstack++] = v;
}

/* Mustache lookup: the first segment in the innermost context that is an object and has it,
   then outwards; the other segments inside what that one found. NULL: found nowhere. */
static json_t *
lookup (struct engine *en, const char *name)
{
  if (strcmp (name, ".") == 0)
    return en->nstack ? en->stack[en->nstack - 1] : NULL;
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
print_value (struct engine *en, struct tnode *n, json_t *v)
{
  char num[64];
  switch (json_typeof (v))
    {
    case JSON_STRING:
      emit (en, n, json_string_value (v), json_string_length (v));
      return;
    case JSON_INTEGER:
      snprintf (num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
      break;
    case JSON_REAL:
      snprintf (num, sizeof num, "%g", json_real_value (v));
      break;
    case JSON_TRUE:
    case JSON_FALSE:
      snprintf (num, sizeof num, "%s", json_is_true (v) ? "true" : "false");
      break;
    case JSON_NULL:
      fail_at (en, n, "cannot print null '%s': guard it with a section", n->text);
      return;
    case JSON_ARRAY:
      fail_at (en, n, "cannot print array '%s': iterate it with a section", n->text);
      return;
    default:
      fail_at (en, n, "cannot print object '%s': name one of its fields", n->text);
      return;
    }
  emit (en, n, num, strlen (num));
}

static void render_nodes (struct engine *en, struct tnode *parent);

static void
render_section (struct engine *en, struct tnode *n, json_t *v)
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
        if (step (en, n) < 0)
          return;
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
    render_nodes (en, n); /* true, a non-empty string, a non-zero number: nothing pushed */
}

/* ---- partials --------------------------------------------------------------------------- */

static void
partial_free (struct partial *p)
{
  tnode_release (&p->root);
  free (p->name);
  free (p->path);
  free (p);
}

/* Read and parse the partial `name` the first time it is asked for; later, the same one. */
static struct partial *
partial_get (struct engine *en, const char *name)
{
  for (size_t i = 0; i < en->npartials; i++)
    if (strcmp (en->partials[i]->name, name) == 0)
      return en->partials[i];
  struct partial *p = xcalloc (1, sizeof *p);
  p->name = xstrdup (name);
  p->path = xasprintf ("%s/%s.tmpl", en->opts->partial_dir, name);
  ARRAY_GROW (en->partials, en->npartials + 1, en->partials_alloc);
  en->partials[en->npartials++] = p;
  struct strbuf src = STRBUF_INIT;
  if (strbuf_read_file (&src, p->path, TEMPLATE_MAX_BYTES) < 0)
    p->err = errno ? errno : EIO;
  else
    {
      const char *saved = en->file;
      en->file = p->path;
      p->usable = parse (en, src.buf, src.len, &p->root) == 0;
      en->file = saved;
    }
  strbuf_release (&src);
  return p;
}

/* Render a partial's tree with the current context stack. A standalone partial indents each
   of its lines by the white space before its tag (on top of the indentation in force); one
   inside a line continues that line and its own lines are not indented, as in mustache. */
static void
render_partial_tree (struct engine *en, struct tnode *n, struct partial *p)
{
  struct strbuf saved_indent = en->indent;
  strbuf_init (&en->indent, 0);
  if (n->indent)
    {
      strbuf_add (&en->indent, saved_indent.buf, saved_indent.len);
      strbuf_addstr (&en->indent, n->indent);
    }
  const char *saved_file = en->file;
  en->file = p->path;
  en->depth++;
  render_nodes (en, &p->root);
  en->depth--;
  en->file = saved_file;
  strbuf_release (&en->indent);
  en->indent = saved_indent;
}

static void
render_partial (struct engine *en, struct tnode *n)
{
  if (en->opts == NULL || en->opts->partial_dir == NULL)
    {
      fail_at (en, n, "partial '%s': no partial folder is set", n->text);
      return;
    }
  if (en->depth >= PARTIAL_MAX_DEPTH)
    {
      fail_at (en, n, "partial '%s' nests more than %d deep (does it include itself?)", n->text,
               PARTIAL_MAX_DEPTH);
      return;
    }
  struct partial *p = partial_get (en, n->text);
  if (p->err)
    fail_at (en, n, "cannot read partial '%s': %s", p->path,
             p->err == EFBIG ? "larger than 1 MiB" : strerror (p->err));
  else if (p->usable)
    render_partial_tree (en, n, p);
}

/* ---- the renderer ----------------------------------------------------------------------- */

static void
render_node (struct engine *en, struct tnode *n)
{
  if (n->kind == T_TEXT)
    {
      render_text (en, n);
      return;
    }
  if (en->indent.len)
    emit_indent (en, n);
  if (n->kind == T_PARTIAL)
    {
      render_partial (en, n);
      return;
    }
  /* Looked up even when the section turns out to be skipped: {{^nosuch}} is a typo, not a
     false value. */
  json_t *v = lookup (en, n->text);
  if (v == NULL)
    fail_at (en, n, "unknown variable '%s'", n->text);
  else if (n->kind == T_VAR)
    print_value (en, n, v);
  else
    render_section (en, n, v);
}

static void
render_nodes (struct engine *en, struct tnode *parent)
{
  for (size_t i = 0; i < parent->nkids; i++)
    {
      if (step (en, &parent->kids[i]) < 0)
        return;
      render_node (en, &parent->kids[i]);
    }
}

/* Parsing reports bad tags before rendering reports unknown variables: put this render's
   diagnostics back in the order of the files (each file where it first appears, then line
   and column), the order a reader fixes them in. Insertion sort: stable, and d holds few. */
static int
diag_before (const struct diag *a, size_t rank_a, const struct diag *b, size_t rank_b)
{
  if (rank_a != rank_b)
    return rank_a < rank_b;
  if (a->mark.line != b->mark.line)
    return a->mark.line < b->mark.line;
  return a->mark.col < b->mark.col;
}

static void
sort_diags (struct diags *d, size_t from)
{
  size_t n = d->n - from;
  if (n < 2)
    return; /* and d->v may be NULL */
  struct diag *v = d->v + from;
  size_t *rank = xcalloc (n, sizeof *rank);
  for (size_t i = 0; i < n; i++)
    while (strcmp (v[rank[i]].file, v[i].file) != 0)
      rank[i]++;
  for (size_t i = 1; i < n; i++)
    {
      struct diag x = v[i];
      size_t rx = rank[i], j = i;
      for (; j > 0 && diag_before (&x, rx, &v[j - 1], rank[j - 1]); j--)
        {
          v[j] = v[j - 1];
          rank[j] = rank[j - 1];
        }
      v[j] = x;
      rank[j] = rx;
    }
  free (rank);
}

static void
engine_release (struct engine *en)
{
  for (size_t i = 0; i < en->npartials; i++)
    partial_free (en->partials[i]);
  free (en->partials);
  free (en->stack);
  strbuf_release (&en->indent);
}

int
template_render (const char *name, const char *text, size_t len, json_t *ctx,
                 const struct template_opts *opts, struct strbuf *out, struct diags *d)
{
  struct engine en = { 0 };
  size_t first_diag = d->n;
  en.opts = opts;
  en.d = d;
  en.out = out;
  en.start = out->len;
  en.cap = opts && opts->max_output ? opts->max_output : TEMPLATE_MAX_OUTPUT;
  en.file = name;
  strbuf_init (&en.indent, 0);
  push (&en, ctx);
  struct tnode root;
  if (parse (&en, text, len, &root) == 0)
    render_nodes (&en, &root);
  tnode_release (&root);
  engine_release (&en);
  sort_diags (d, first_diag);
  if (en.errors == 0)
    return 0;
  /* Half a Dockerfile is worse than none: drop what this render added. */
  out->len = en.start;
  if (out->alloc)
    out->buf[out->len] = '\0';
  return -1;
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
