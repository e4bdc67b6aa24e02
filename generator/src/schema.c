/* schema.c: see schema.h. */
#include "schema.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

const char *
nearest (const char *word, const char *const *choices)
{
  const char *best = NULL;
  size_t best_d = (size_t) -1;
  size_t lw = strlen (word);
  for (size_t i = 0; choices[i]; i++)
    {
      /* The distance is at least the difference in length, and more than 3 is never taken:
         a 1 MB key costs no edit-distance table. */
      size_t lc = strlen (choices[i]);
      if ((lw > lc ? lw - lc : lc - lw) > 3)
        continue;
      size_t dist = levenshtein (word, choices[i]);
      if (dist < best_d)
        {
          best_d = dist;
          best = choices[i];
        }
    }
  /* Close enough to be a typo: a third of the word, at least one edit, at most three. */
  size_t limit = strlen (word) / 3;
  if (limit < 1)
    limit = 1;
  if (limit > 3)
    limit = 3;
  return best_d <= limit ? best : NULL;
}

int
expect_kind (const char *file, const struct ynode *n, enum ykind k, const char *what,
             struct diags *d)
{
  if (n->kind == k)
    return 0;
  diag_add (d, file, n->mark, "%s must be %s, not %s", what, ykind_name (k), ykind_name (n->kind));
  return -1;
}

static void
unknown_key (const char *file, const struct ynode *key, const char *what,
             const struct field *fields, struct diags *d)
{
  const char *names[64];
  size_t n = 0;
  for (; fields[n].key && n + 1 < ARRAY_SIZE (names); n++)
    names[n] = fields[n].key;
  names[n] = NULL;
  diag_add (d, file, key->mark, "unknown key '%s' in %s", key->str, what);
  const char *near = nearest (key->str, names);
  if (near)
    diag_hint (d, "did you mean '%s'?", near);
  else
    {
      char list[512] = "";
      size_t used = 0;
      for (size_t i = 0; i < n && used < sizeof list; i++)
        used += (size_t) snprintf (list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
      diag_hint (d, "valid keys: %s", list);
    }
}

int
schema_check (const char *file, const struct ynode *map, const char *what,
              const struct field *fields, struct diags *d)
{
  if (expect_kind (file, map, Y_MAP, what, d) < 0)
    return 1;
  int errors = 0;
  for (size_t i = 0; i + 1 < map->n; i += 2)
    {
      const struct ynode *key = map->kids[i], *val = map->kids[i + 1];
      const struct field *f = fields;
      while (f->key && strcmp (f->key, key->str) != 0)
        f++;
      if (f->key == NULL)
        {
          unknown_key (file, key, what, fields, d);
          errors++;
          continue;
        }
      cleanup_free char *label = xasprintf ("'%s' in %s", f->key, what);
      if (expect_kind (file, val, f->kind, label, d) < 0)
        errors++;
    }
  /* All missing keys in one message: they share one place to point at. */
  char missing[512] = "";
  size_t used = 0, nmissing = 0;
  for (const struct field *f = fields; f->key; f++)
    if (f->required && ymap_get (map, f->key) == NULL && used < sizeof missing)
      used += (size_t) snprintf (missing + used, sizeof missing - used, "%s'%s'", nmissing++ ? ", " : "", f->key);
  if (nmissing)
    {
      diag_add (d, file, map->mark, "%s has no %s", what, missing);
      errors++;
    }
  return errors;
}

int
check_safe_text (const char *file, const struct ynode *n, const char *what, struct diags *d)
{
  if (n->len > SAFE_TEXT_MAX)
    {
      diag_add (d, file, n->mark, "%s is %zu bytes long: at most %d", what, n->len, SAFE_TEXT_MAX);
      diag_hint (d, "Dockerfile lines over 65535 bytes fail at build time (moby/moby#35429)");
      return -1;
    }
  for (size_t i = 0; i < n->len;)
    {
      unsigned cp;
      size_t len = utf8_decode (n->str + i, n->len - i, &cp);
      const char *why = NULL;
      char what_cp[32];
      if (len == 0)
        why = "a byte that is not UTF-8";
      else if (cp == '\n' || cp == '\r')
        why = "a newline";
      else if (cp < 0x20 || cp == 0x7f)
        why = "a control character";
      /* NEL, the C1 controls (U+0085 is YAML's "\N"; U+009B is CSI, an escape sequence on
         its own), the line and paragraph separators ("\L", "\P") and bidi controls: each
         as its code point, since the terminal shows none of them. */
      else if (is_unsafe_codepoint (cp))
        {
          snprintf (what_cp, sizeof what_cp, "%s U+%04X",
                    cp == 0x85 || cp == 0x2028 || cp == 0x2029 ? "a newline"
                    : cp <= 0x9f                               ? "a control character"
                                                               : "a bidirectional control",
                    cp);
          why = what_cp;
        }
      else if (cp == '"' || cp == '\'')
        why = "a quote";
      else if (cp == '$')
        why = "'$'";
      else if (cp == '`')
        why = "'`'";
      else if (cp == '\\')
        why = "a backslash";
      if (why)
        {
          diag_add (d, file, n->mark, "%s contains %s (byte %zu): not allowed, it would reach Dockerfiles and shells",
                    what, why, i + 1);
          return -1;
        }
      i += len;
    }
  if (n->len == 0)
    {
      diag_add (d, file, n->mark, "%s is empty", what);
      return -1;
    }
  return 0;
}

const char *
ystr (const struct ynode *map, const char *key)
{
  const struct ynode *n = ymap_get (map, key);
  return n && n->kind == Y_SCALAR ? n->str : NULL;
}
