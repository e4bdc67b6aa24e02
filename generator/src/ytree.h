/* ytree.h: a YAML document as a tree of scalars, sequences and mappings, each node with its
   source mark, built from libyaml's event stream. Every scalar is kept as text: pcgen decides
   what a value means (so `12.10` stays "12.10", never the float 12.1).
   Refused at parse time: aliases and anchors, tags, several documents, duplicate keys,
   non-scalar keys, nesting deeper than YTREE_MAX_DEPTH. */
#ifndef PCGEN_YTREE_H
#define PCGEN_YTREE_H

#include <stddef.h>

#include "diag.h"

#define YTREE_MAX_DEPTH 32
#define YTREE_MAX_NODES 100000

enum ykind
{
  Y_SCALAR,
  Y_SEQ,
  Y_MAP,
};

struct ynode
{
  enum ykind kind;
  struct mark mark;
  char *str;           /* Y_SCALAR: the value (may contain NUL: see len) */
  size_t len;          /* Y_SCALAR: bytes in str */
  int plain;           /* Y_SCALAR: written without quotes */
  struct ynode **kids; /* Y_SEQ: items; Y_MAP: key, value, key, value, ... */
  size_t n;            /* number of entries in kids */
  size_t alloc;
};

/* Parse `text` (named `file` in diagnostics). *root is NULL for an empty document.
   Returns 0, or -1 with the problems in d. */
int ytree_parse (const char *file, const char *text, size_t len, struct ynode **root,
                 struct diags *d);
void ynode_free (struct ynode *n);

/* The value for `key` in a mapping, or NULL. */
struct ynode *ymap_get (const struct ynode *map, const char *key);
/* "a string", "a list", "a mapping": for messages. */
const char *ykind_name (enum ykind k);

#endif
