/* marker.c: a recursive-descent evaluator for PEP 508 markers (see marker.h).
     marker  := and ('or' and)*
     and     := atom ('and' atom)*
     atom    := '(' marker ')' | value op value
     value   := VARIABLE | 'string' | "string"
     op      := == != <= >= < > ~= === in | not in */
#include "marker.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct parser
{
  const char *p;
  const struct marker_env *env;
  struct strbuf *err;
  int failed;
  int depth;
};

static void
skip_space (struct parser *ps)
{
  while (isspace ((unsigned char) *ps->p))
    ps->p++;
}

static int
fail (struct parser *ps, const char *what)
{
  if (!ps->failed)
    strbuf_addf (ps->err, "%s at '%.20s'", what, ps->p);
  ps->failed = 1;
  return 0;
}

/* Consume keyword kw when it stands alone (not a prefix of a longer word). */
static int
accept_word (struct parser *ps, const char *kw)
{
  skip_space (ps);
  size_t n = strlen (kw);
  if (strncmp (ps->p, kw, n) == 0 && !isalnum ((unsigned char) ps->p[n]) && ps->p[n] != '_')
    {
      ps->p += n;
      return 1;
    }
  return 0;
}

static const char *
variable (const struct parser *ps, const char *name, int *is_version)
{
  *is_version = 0;
  if (strcmp (name, "python_version") == 0)
    return *is_version = 1, ps->env->python_version;
  if (strcmp (name, "python_full_version") == 0 || strcmp (name, "implementation_version") == 0)
    return *is_version = 1, ps->env->python_full_version;
  if (strcmp (name, "platform_system") == 0)
    return "Linux";
  if (strcmp (name, "sys_platform") == 0)
    return "linux";
  if (strcmp (name, "os_name") == 0)
    return "posix";
  if (strcmp (name, "platform_machine") == 0)
    return "x86_64";
  if (strcmp (name, "platform_python_implementation") == 0)
    return "CPython";
  if (strcmp (name, "implementation_name") == 0)
    return "cpython";
  if (strcmp (name, "extra") == 0)
    return ""; /* no extras are installed */
  return NULL;
}

/* A quoted string or a variable, copied into buf. */
static int
value (struct parser *ps, char *buf, size_t size, int *is_version)
{
  skip_space (ps);
  *is_version = 0;
  if (*ps->p == '"' || *ps->p == '\'')
    {
      char q = *ps->p++;
      const char *end = strchr (ps->p, q);
      if (end == NULL || (size_t) (end - ps->p) >= size)
        return fail (ps, "unterminated or too long string");
      memcpy (buf, ps->p, (size_t) (end - ps->p));
      buf[end - ps->p] = '\0';
      ps->p = end + 1;
      return 1;
    }
  size_t n = 0;
  while ((isalnum ((unsigned char) ps->p[n]) || ps->p[n] == '_' || ps->p[n] == '.') && n + 1 < size)
    n++;
  if (n == 0)
    return fail (ps, "expected a variable or a quoted string");
  char name[64];
  snprintf (name, sizeof name, "%.*s", (int) n, ps->p);
  const char *v = variable (ps, name, is_version);
  if (v == NULL)
    return fail (ps, "unknown marker variable");
  ps->p += n;
  snprintf (buf, size, "%s", v);
  return 1;
}

static int
compare (const char *op, const char *a, const char *b, int as_version)
{
  if (strcmp (op, "in") == 0)
    return strstr (b, a) != NULL;
  if (strcmp (op, "not in") == 0)
    return strstr (b, a) == NULL;
  int c = as_version ? version_cmp (a, b) : strcmp (a, b);
  if (strcmp (op, "==") == 0 || strcmp (op, "===") == 0)
    return c == 0;
  if (strcmp (op, "!=") == 0)
    return c != 0;
  if (strcmp (op, "<") == 0)
    return c < 0;
  if (strcmp (op, "<=") == 0)
    return c <= 0;
  if (strcmp (op, ">") == 0)
    return c > 0;
  if (strcmp (op, ">=") == 0)
    return c >= 0;
  /* "~=" X.Y: >= X.Y and the same release prefix, without its last part. */
  if (strcmp (op, "~=") == 0)
    {
      const char *dot = strrchr (b, '.');
      size_t prefix = dot ? (size_t) (dot - b) : strlen (b);
      return version_cmp (a, b) >= 0 && strncmp (a, b, prefix) == 0;
    }
  return 0;
}

static int parse_or (struct parser *ps);

static int
parse_atom (struct parser *ps)
{
  skip_space (ps);
  if (++ps->depth > 32)
    return fail (ps, "markers nested too deeply");
  if (*ps->p == '(')
    {
      ps->p++;
      int r = parse_or (ps);
      skip_space (ps);
      if (*ps->p != ')')
        return fail (ps, "expected ')'");
      ps->p++;
      ps->depth--;
      return r;
    }
  char a[128], b[128];
  int va, vb;
  if (!value (ps, a, sizeof a, &va))
    return 0;
  skip_space (ps);
  static const char *const ops[] = { "===", "==", "!=", "<=", ">=", "~=", "<", ">", NULL };
  const char *op = NULL;
  for (size_t i = 0; ops[i] && !op; i++)
    if (strncmp (ps->p, ops[i], strlen (ops[i])) == 0)
      op = ops[i], ps->p += strlen (ops[i]);
  if (!op && accept_word (ps, "in"))
    op = "in";
  else if (!op && accept_word (ps, "not"))
    {
      if (!accept_word (ps, "in"))
        return fail (ps, "expected 'in' after 'not'");
      op = "not in";
    }
  if (!op)
    return fail (ps, "expected a comparison operator");
  if (!value (ps, b, sizeof b, &vb))
    return 0;
  ps->depth--;
  return compare (op, a, b, va || vb);
}

static int
parse_and (struct parser *ps)
{
  int r = parse_atom (ps);
  while (!ps->failed && accept_word (ps, "and"))
    r = parse_atom (ps) && r;
  return r;
}

static int
parse_or (struct parser *ps)
{
  int r = parse_and (ps);
  while (!ps->failed && accept_word (ps, "or"))
    r = parse_and (ps) || r;
  return r;
}

int
marker_eval (const char *marker, const struct marker_env *env, struct strbuf *err)
{
  struct parser ps = { marker, env, err, 0, 0 };
  int r = parse_or (&ps);
  skip_space (&ps);
  if (!ps.failed && *ps.p != '\0')
    fail (&ps, "unexpected text");
  return ps.failed ? -1 : r;
}
