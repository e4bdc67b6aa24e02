/* ytree.c: see ytree.h. */
#include "ytree.h"
#include "util.h"

#include <string.h>
#include <yaml.h>

struct builder
{
  const char *file;
  struct diags *d;
  struct ynode *stack[YTREE_MAX_DEPTH + 1];
  struct strset keys[YTREE_MAX_DEPTH + 1]; /* the keys of each open mapping, for duplicates */
  int depth;
  size_t nodes;
  struct ynode *root;
  int documents;
  int failed;
};

static struct mark
mark_of (const yaml_event_t *ev)
{
  struct mark m = { (int) ev->start_mark.line + 1, (int) ev->start_mark.column + 1, 0 };
  if (ev->end_mark.line == ev->start_mark.line && ev->end_mark.index > ev->start_mark.index)
    m.len = (int) (ev->end_mark.index - ev->start_mark.index);
  return m;
}

const char *
ykind_name (enum ykind k)
{
  switch (k)
    {
    case Y_SCALAR:
      return "a string";
    case Y_SEQ:
      return "a list";
    case Y_MAP:
      return "a mapping";
    }
  return "?";
}

void
ynode_free (struct ynode *n)
{
  if (n == NULL)
    return;
  for (size_t i = 0; i < n->n; i++)
    ynode_free (n->kids[i]);
  free (n->kids);
  free (n->str);
  free (n);
}

struct ynode *
ymap_get (const struct ynode *map, const char *key)
{
  if (map == NULL || map->kind != Y_MAP)
    return NULL;
  for (size_t i = 0; i + 1 < map->n; i += 2)
    if (map->kids[i]->kind == Y_SCALAR && strcmp (map->kids[i]->str, key) == 0)
      return map->kids[i + 1];
  return NULL;
}

/* In a mapping, an even count of kids means the next node is a key. */
static int
is_key_position (const struct ynode *parent)
{
  return parent && parent->kind == Y_MAP && parent->n % 2 == 0;
}

/* A key given twice, in linear time (a mapping may have 50,000 keys); keys are compared as
   the bytes they are. */
static void
check_duplicate_key (struct builder *b, const struct ynode *map, const struct ynode *key)
{
  size_t first = strset_add (&b->keys[b->depth - 1], key->str, key->len, map->n);
  if (first == (size_t) -1)
    return;
  const struct ynode *k = map->kids[first];
  diag_add (b->d, b->file, key->mark, "duplicate key '%s' (first at line %d, column %d)", key->str,
            k->mark.line, k->mark.col);
  b->failed = 1;
}

/* Attach n to the open collection (or make it the root). Takes ownership. */
static void
attach (struct builder *b, struct ynode *n)
{
  if (b->depth == 0)
    {
      b->root = n;
      return;
    }
  struct ynode *parent = b->stack[b->depth - 1];
  if (is_key_position (parent))
    {
      if (n->kind != Y_SCALAR)
        {
          diag_add (b->d, b->file, n->mark, "a key must be a plain string, not %s",
                    ykind_name (n->kind));
          b->failed = 1;
        }
      /* A NUL would end the key early for every strcmp after this: "repository\0" would be a
         second 'repository' that the duplicate check (bytes) lets through. */
      else if (memchr (n->str, '\0', n->len))
        {
          diag_add (b->d, b->file, n->mark, "a key contains a NUL byte (byte %zu): not allowed",
                    (size_t) ((const char *) memchr (n->str, '\0', n->len) - n->str) + 1);
          b->failed = 1;
        }
      else
        check_duplicate_key (b, parent, n);
    }
  ARRAY_GROW (parent->kids, parent->n + 1, parent->alloc);
  parent->kids[parent->n++] = n;
}

static struct ynode *
new_node (struct builder *b, enum ykind kind, struct mark m)
{
  if (++b->nodes > YTREE_MAX_NODES)
    return NULL;
  struct ynode *n = xcalloc (1, sizeof *n);
  n->kind = kind;
  n->mark = m;
  return n;
}

/* Handle one event; returns -1 to stop parsing. */
static int
on_event (struct builder *b, const yaml_event_t *ev)
{
  struct mark m = mark_of (ev);
  struct ynode *n;
  switch (ev->type)
    {
    case YAML_DOCUMENT_START_EVENT:
      if (++b->documents > 1)
        {
          diag_add (b->d, b->file, m, "only one YAML document is allowed here");
          return -1;
        }
      return 0;
    case YAML_ALIAS_EVENT:
      diag_add (b->d, b->file, m, "YAML aliases ('*%s') are not supported: write the value out",
                (const char *) ev->data.alias.anchor);
      return -1;
    case YAML_SCALAR_EVENT:
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
      {
        const yaml_char_t *anchor = ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.anchor
                                    : ev->type == YAML_SEQUENCE_START_EVENT
                                        ? ev->data.sequence_start.anchor
                                        : ev->data.mapping_start.anchor;
        if (anchor)
          {
            diag_add (b->d, b->file, m, "YAML anchors ('&%s') are not supported", (const char *) anchor);
            return -1;
          }
        break;
      }
    default:
      return 0;
    }

  if (ev->type == YAML_SCALAR_EVENT)
    {
      if (ev->data.scalar.tag && !ev->data.scalar.plain_implicit && !ev->data.scalar.quoted_implicit)
        {
          diag_add (b->d, b->file, m, "YAML tags ('%s') are not supported", (const char *) ev->data.scalar.tag);
          return -1;
        }
      if ((n = new_node (b, Y_SCALAR, m)) == NULL)
        goto too_big;
      n->str = xstrndup ((const char *) ev->data.scalar.value, ev->data.scalar.length);
      n->len = ev->data.scalar.length;
      n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
      attach (b, n);
      return 0;
    }

  if (b->depth >= YTREE_MAX_DEPTH)
    {
      diag_add (b->d, b->file, m, "nesting deeper than %d levels", YTREE_MAX_DEPTH);
      return -1;
    }
  if ((n = new_node (b, ev->type == YAML_SEQUENCE_START_EVENT ? Y_SEQ : Y_MAP, m)) == NULL)
    goto too_big;
  attach (b, n);
  b->keys[b->depth] = (struct strset) STRSET_INIT;
  b->stack[b->depth++] = n;
  return 0;

too_big:
  diag_add (b->d, b->file, m, "more than %d YAML nodes", YTREE_MAX_NODES);
  return -1;
}

int
ytree_parse (const char *file, const char *text, size_t len, struct ynode **root, struct diags *d)
{
  struct builder b = { .file = file, .d = d };
  yaml_parser_t parser;
  *root = NULL;
  if (!yaml_parser_initialize (&parser))
    die ("cannot initialize the YAML parser");
  yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);

  for (;;)
    {
      yaml_event_t ev;
      if (!yaml_parser_parse (&parser, &ev))
        {
          struct mark m = { (int) parser.problem_mark.line + 1, (int) parser.problem_mark.column + 1, 0 };
          /* The reader (NUL, control characters, bad UTF-8) gives a byte offset, not a mark:
             libyaml's yaml_parser_set_reader_error sets problem_offset and problem_value. */
          if (parser.error == YAML_READER_ERROR)
            m = diag_mark_at (text, len, parser.problem_offset);
          if (parser.error == YAML_READER_ERROR && parser.problem_value != -1)
            diag_add (d, file, m, "invalid YAML: %s (0x%02X)", parser.problem ? parser.problem : "unreadable input",
                      (unsigned) parser.problem_value);
          else
            diag_add (d, file, m, "invalid YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
                      parser.context ? " " : "", parser.context ? parser.context : "");
          b.failed = 1;
          break;
        }
      int stop = 0;
      if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
        strset_release (&b.keys[--b.depth]);
      else if (on_event (&b, &ev) < 0)
        stop = b.failed = 1;
      int end = ev.type == YAML_STREAM_END_EVENT;
      yaml_event_delete (&ev);
      if (stop || end)
        break;
    }
  yaml_parser_delete (&parser);
  while (b.depth > 0)
    strset_release (&b.keys[--b.depth]);
  if (b.failed)
    {
      ynode_free (b.root);
      return -1;
    }
  *root = b.root;
  return 0;
}
