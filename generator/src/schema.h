/* schema.h: checks shared by every YAML file pcgen reads (matrix.yaml and the knowledge base):
   allowed keys with "did you mean", required keys, the kind of each value, and safe text. */
#ifndef PCGEN_SCHEMA_H
#define PCGEN_SCHEMA_H

#include "diag.h"
#include "ytree.h"

struct field
{
  const char *key;
  enum ykind kind;
  int required;
};

/* Check `map` (which must be a mapping; `what` names it in messages, e.g. "an alias rule")
   against `fields` (terminated by a NULL key). Every problem is recorded; returns the count. */
int schema_check (const char *file, const struct ynode *map, const char *what,
                  const struct field *fields, struct diags *d);

/* The nearest of `choices` (NULL-terminated) to `word`, or NULL if none is close. */
const char *nearest (const char *word, const char *const *choices);

/* A scalar value that will end up in Dockerfiles, tags and labels: refuse NUL, control
   characters (C0, DEL and C1), newlines (also NEL, U+2028 and U+2029), bidirectional controls,
   bytes that are not UTF-8, quotes, backslashes, '$' and '`', and values longer than
   SAFE_TEXT_MAX bytes. Returns 0 or records an error. */
#define SAFE_TEXT_MAX 4096
int check_safe_text (const char *file, const struct ynode *n, const char *what, struct diags *d);

/* Record "expected <kind> for <what>, found <kind>" unless n has kind k; returns 0 if it has. */
int expect_kind (const char *file, const struct ynode *n, enum ykind k, const char *what,
                 struct diags *d);

/* The text of a scalar child, or NULL when absent or not a scalar. */
const char *ystr (const struct ynode *map, const char *key);

#endif
