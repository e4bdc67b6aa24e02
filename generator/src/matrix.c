/* matrix.c: load matrix.yaml (see matrix.h). */
#include "matrix.h"
#include "kinds.h"
#include "schema.h"
#include "util.h"
#include "ytree.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

const char *const matrix_alias_placeholders[]
    = { [PLACEHOLDER_MAJOR] = "major", [PLACEHOLDER_MINOR] = "minor", [PLACEHOLDER_PATCH] = "patch",
        [PLACEHOLDER_TORCH] = "torch", [PLACEHOLDER_CUDA] = "cuda",   [PLACEHOLDER_CUDNN] = "cudnn",
        [PLACEHOLDER_FLAVOR] = "flavor", NULL };

static const struct field top_fields[]
    = { { "repository", Y_SCALAR, 1 }, { "base", Y_SCALAR, 1 },    { "python", Y_SCALAR, 1 },
        { "torch", Y_SEQ, 1 },         { "cuda", Y_SEQ, 1 },       { "flavors", Y_SEQ, 1 },
        { "exclude", Y_SEQ, 0 },       { "include", Y_SEQ, 0 },    { "aliases", Y_SEQ, 0 },
        { "labels", Y_MAP, 0 },        { "sources", Y_MAP, 0 },    { "user", Y_SCALAR, 0 },
        { NULL, 0, 0 } };
static const struct field rule_fields[]
    = { { "torch", Y_SCALAR, 0 }, { "cuda", Y_SCALAR, 0 }, { "flavor", Y_SCALAR, 0 }, { NULL, 0, 0 } };
static const struct field alias_fields[]
    = { { "name", Y_SCALAR, 1 },  { "cuda", Y_SCALAR, 1 }, { "flavor", Y_SCALAR, 0 },
        { "torch", Y_SCALAR, 0 }, { NULL, 0, 0 } };
static const struct field source_fields[]
    = { { "index", Y_SCALAR, 0 }, { "wheelhouse", Y_SCALAR, 0 }, { NULL, 0, 0 } };

struct loader
{
  const char *file;
  struct matrix *m;
  struct diags *d;
};

/* Copy a scalar after checking it is safe text; returns -1 (recorded) otherwise. */
static int
take (struct loader *l, const struct ynode *n, const char *what, struct mvalue *out)
{
  if (n == NULL)
    return 0;
  /* A value of the wrong kind was reported by schema_check (mapping fields) or take_list. */
  if (n->kind != Y_SCALAR || check_safe_text (l->file, n, what, l->d) < 0)
    return -1;
  out->s = xstrdup (n->str);
  out->mark = n->mark;
  return 0;
}

static int
take_version (struct loader *l, const struct ynode *n, const char *what, struct mvalue *out)
{
  if (take (l, n, what, out) < 0 || out->s == NULL)
    return -1;
  if (!is_version (out->s))
    {
      diag_add (l->d, l->file, out->mark, "%s '%s' is not a version: expected digits and dots, like 12.4",
                what, out->s);
      return -1;
    }
  size_t digits;
  const char *big = version_too_big (out->s, &digits);
  if (big)
    {
      diag_add (l->d, l->file, out->mark, "%s '%s' has the number %.*s, larger than %lu: expected digits and dots, like 12.4",
                what, out->s, (int) digits, big, VERSION_COMPONENT_MAX);
      return -1;
    }
  return 0;
}

static int
take_flavor (struct loader *l, const struct ynode *n, struct mvalue *out)
{
  if (take (l, n, "a flavor", out) < 0 || out->s == NULL)
    return -1;
  if (flavor_parse (out->s) >= 0)
    return 0;
  diag_add (l->d, l->file, out->mark, "unknown flavor '%s': expected runtime, devel or notebook", out->s);
  const char *near = nearest (out->s, flavor_names);
  if (near)
    diag_hint (l->d, "did you mean '%s'?", near);
  return -1;
}

/* A list of scalars without duplicates, each checked by `one`. */
static size_t
take_list (struct loader *l, const struct ynode *seq, const char *what, struct mvalue **out,
           int (*one) (struct loader *, const struct ynode *, const char *, struct mvalue *))
{
  if (seq == NULL || seq->kind != Y_SEQ)
    return 0;
  if (seq->n == 0)
    {
      diag_add (l->d, l->file, seq->mark, "the list of %ss is empty", what);
      return 0;
    }
  struct mvalue *v = xcalloc (seq->n, sizeof *v);
  size_t n = 0;
  /* Duplicates through a set: a hostile list of 100,000 items stays linear. */
  struct strset seen = STRSET_INIT;
  cleanup_free char *item = xasprintf ("a %s", what);
  for (size_t i = 0; i < seq->n; i++)
    {
      struct mvalue x = { 0 };
      if (expect_kind (l->file, seq->kids[i], Y_SCALAR, item, l->d) < 0 || one (l, seq->kids[i], what, &x) < 0)
        {
          free (x.s);
          continue;
        }
      size_t first = strset_add (&seen, x.s, strlen (x.s), n);
      if (first != (size_t) -1)
        {
          diag_add (l->d, l->file, x.mark, "%s '%s' is listed twice (first at line %d)", what, x.s,
                    v[first].mark.line);
          free (x.s);
        }
      else
        v[n++] = x;
    }
  strset_release (&seen);
  *out = v;
  return n;
}

static int
one_flavor (struct loader *l, const struct ynode *n, const char *what, struct mvalue *out)
{
  (void) what;
  return take_flavor (l, n, out);
}

/* The image repository, by the grammar of github.com/distribution/reference (reference.go's
   grammar comment and regexp.go, the code Docker and registries parse names with):
     name             := [domain '/'] remote-name                     (at most 255 bytes in all)
     domain           := domain-component ['.' domain-component]* [':' port-number]
     domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
     port-number      := /[0-9]+/
     remote-name      := path-component ['/' path-component]*
     path-component   := alpha-numeric [separator alpha-numeric]*
     alpha-numeric    := /[a-z0-9]+/
     separator        := /[_.]|__|[-]+/
   regexp.go also takes an IPv6 host in brackets ("[::1]:5000/x"); pcgen does not, since
   publish parses the host as name[:port]. No production starts with '-', so the repository
   never reaches an argv as an option. Each function returns NULL, or why s is not one. */
#define REPOSITORY_MAX 255

static int
is_lower_alnum (int c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int
is_alnum (int c)
{
  return is_lower_alnum (c) || (c >= 'A' && c <= 'Z');
}

static const char *
path_component_problem (const char *s, size_t n, struct strbuf *why)
{
  if (n == 0)
    return "a path component is empty (two '/' in a row, or one at an end)";
  for (size_t i = 0; i < n; i++)
    if (!is_lower_alnum ((unsigned char) s[i]) && !strchr ("._-", s[i]))
      {
        strbuf_addf (why, "path component '%.*s' has '%c': path components take lowercase letters, digits, '.', '_' and '-'",
                     (int) n, s, s[i]);
        return why->buf;
      }
  if (!is_lower_alnum ((unsigned char) s[0]) || !is_lower_alnum ((unsigned char) s[n - 1]))
    {
      strbuf_addf (why, "path component '%.*s' must start and end with a lowercase letter or digit", (int) n, s);
      return why->buf;
    }
  for (size_t i = 0; i < n;)
    {
      if (is_lower_alnum ((unsigned char) s[i]))
        {
          i++;
          continue;
        }
      size_t j = i;
      while (j < n && !is_lower_alnum ((unsigned char) s[j]))
        j++;
      /* A run between two alpha-numerics: one '.', one '_', "__", or any number of '-'. */
      size_t k = i;
      while (k < j && s[k] == '-')
        k++;
      int ok = k == j || (j - i == 1 && (s[i] == '.' || s[i] == '_')) || (j - i == 2 && s[i] == '_' && s[i + 1] == '_');
      if (!ok)
        {
          strbuf_addf (why, "path component '%.*s' has the separator '%.*s': between letters and digits only '.', '_', '__' or a run of '-'",
                       (int) n, s, (int) (j - i), s + i);
          return why->buf;
        }
      i = j;
    }
  return NULL;
}

static const char *
remote_name_problem (const char *s, struct strbuf *why)
{
  for (;;)
    {
      const char *slash = strchr (s, '/');
      size_t n = slash ? (size_t) (slash - s) : strlen (s);
      const char *p = path_component_problem (s, n, why);
      if (p || slash == NULL)
        return p;
      s = slash + 1;
    }
}

static const char *
domain_problem (const char *s, size_t n, struct strbuf *why)
{
  const char *colon = memchr (s, ':', n);
  size_t host = colon ? (size_t) (colon - s) : n;
  for (size_t i = 0; i <= host;)
    {
      const char *dot = memchr (s + i, '.', host - i);
      size_t len = (dot ? (size_t) (dot - s) : host) - i;
      const char *c = s + i;
      int ok = len > 0 && is_alnum ((unsigned char) c[0]) && is_alnum ((unsigned char) c[len - 1]);
      for (size_t k = 0; k < len && ok; k++)
        ok = is_alnum ((unsigned char) c[k]) || c[k] == '-';
      if (host == 0)
        strbuf_addf (why, "registry '%.*s' has no host name", (int) n, s);
      else if (len == 0)
        strbuf_addf (why, "registry host '%.*s' has an empty component", (int) host, s);
      else if (!ok)
        strbuf_addf (why, "registry host '%.*s' has the component '%.*s': letters, digits and '-', "
                          "not starting or ending with '-'", (int) host, s, (int) len, c);
      if (!ok)
        return why->buf;
      i += len + 1;
    }
  if (colon)
    {
      size_t port = n - host - 1;
      if (port == 0 || strspn (colon + 1, "0123456789") < port)
        {
          strbuf_addf (why, "registry '%.*s' has the port '%.*s': a port is digits", (int) n, s, (int) port, colon + 1);
          return why->buf;
        }
    }
  return NULL;
}

/* What Docker takes for a registry host (splitDockerDomain in distribution/reference's
   normalize.go): a first component with '.', ':' or an uppercase letter, or "localhost".
   Only to choose which explanation to give; validity is the grammar's. */
static int
looks_like_domain (const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] == '.' || s[i] == ':' || (s[i] >= 'A' && s[i] <= 'Z'))
      return 1;
  return n == 9 && memcmp (s, "localhost", 9) == 0;
}

static int
check_repository (struct loader *l, const struct mvalue *v)
{
  const char *s = v->s;
  struct strbuf why = STRBUF_INIT, why2 = STRBUF_INIT;
  const char *slash = strchr (s, '/');
  const char *problem = NULL;
  size_t len = strlen (s);
  if (len > REPOSITORY_MAX)
    diag_add (l->d, l->file, v->mark, "repository is %zu bytes long: at most %d (distribution/reference's NameTotalLengthMax)",
              len, REPOSITORY_MAX);
  /* Valid as a remote-name alone, or as domain '/' remote-name: the first '/' is where a
     domain would end, since no domain has one. */
  else if ((problem = remote_name_problem (s, &why)) != NULL && slash)
    {
      const char *in_domain = domain_problem (s, (size_t) (slash - s), &why2);
      const char *in_path = remote_name_problem (slash + 1, (strbuf_reset (&why), &why));
      if (in_domain == NULL && in_path == NULL)
        problem = NULL;
      else if (looks_like_domain (s, (size_t) (slash - s)))
        problem = in_domain ? in_domain : in_path;
      else
        problem = remote_name_problem (s, (strbuf_reset (&why), &why));
    }
  if (problem)
    {
      diag_add (l->d, l->file, v->mark, "'%s' is not a valid image repository: %s", s, problem);
      diag_hint (l->d, "a repository is [HOST[:PORT]/]COMPONENT[/COMPONENT]...: lowercase letters and digits joined "
                       "by '.', '_', '__' or runs of '-', at most 255 bytes (github.com/distribution/reference)");
    }
  strbuf_release (&why);
  strbuf_release (&why2);
  return len > REPOSITORY_MAX || problem ? -1 : 0;
}

/* include: the rules of `include`, each of which needs a torch and a cuda; else `exclude`'s. */
static void
load_rules (struct loader *l, const struct ynode *seq, int include, struct mrule **out, size_t *nout)
{
  const char *what = include ? "an include rule" : "an exclude rule";
  if (seq == NULL || seq->kind != Y_SEQ)
    return;
  struct mrule *r = xcalloc (seq->n + 1, sizeof *r);
  size_t n = 0;
  for (size_t i = 0; i < seq->n; i++)
    {
      const struct ynode *e = seq->kids[i];
      if (schema_check (l->file, e, what, rule_fields, l->d))
        continue;
      struct mrule x = { .mark = e->mark };
      int bad = take_version (l, ymap_get (e, "torch"), "torch version", &x.torch) < 0 && ymap_get (e, "torch");
      bad |= take_version (l, ymap_get (e, "cuda"), "CUDA version", &x.cuda) < 0 && ymap_get (e, "cuda");
      bad |= ymap_get (e, "flavor") && take_flavor (l, ymap_get (e, "flavor"), &x.flavor) < 0;
      if (e->n == 0)
        {
          diag_add (l->d, l->file, e->mark, "%s is empty: name a torch, cuda or flavor", what);
          bad = 1;
        }
      if (!bad && include && (!x.torch.s || !x.cuda.s))
        {
          diag_add (l->d, l->file, e->mark, "an include rule needs both 'torch' and 'cuda'");
          bad = 1;
        }
      r[n++] = x;
    }
  *out = r;
  *nout = n;
}

/* "v{major}.{minor}-prod": known placeholders, and what remains a valid Docker tag. */
static int
check_alias_name (struct loader *l, const struct mvalue *v)
{
  const char *p = v->s;
  while ((p = strchr (p, '{')))
    {
      const char *e = strchr (p, '}');
      if (e == NULL)
        {
          diag_add (l->d, l->file, v->mark, "alias '%s' has a '{' without '}'", v->s);
          return -1;
        }
      cleanup_free char *name = xstrndup (p + 1, (size_t) (e - p - 1));
      if (names_lookup (matrix_alias_placeholders, name) < 0)
        {
          diag_add (l->d, l->file, v->mark, "alias '%s' uses unknown placeholder '{%s}'", v->s, name);
          const char *near = nearest (name, matrix_alias_placeholders);
          if (near)
            diag_hint (l->d, "did you mean '{%s}'?", near);
          else
            diag_hint (l->d, "placeholders: {major} {minor} {patch} {torch} {cuda} {cudnn} {flavor}");
          return -1;
        }
      p = e + 1;
    }
  /* Outside the placeholders (checked above), only what a tag takes: a '}' on its own is not
     part of any placeholder ("v}1"). The expanded tag is checked again in plan.c. */
  for (p = v->s; *p; p++)
    if (*p == '{')
      p = strchr (p, '}');
    else if (!(isalnum ((unsigned char) *p) || strchr ("_.-", *p)))
      {
        diag_add (l->d, l->file, v->mark,
                  "alias '%s' has '%c': a tag takes letters, digits, '_', '.' and '-'", v->s, *p);
        return -1;
      }
  if (v->s[0] == '.' || v->s[0] == '-')
    {
      diag_add (l->d, l->file, v->mark, "alias '%s' must not start with '%c'", v->s, v->s[0]);
      return -1;
    }
  return 0;
}

static void
load_aliases (struct loader *l, const struct ynode *seq)
{
  if (seq == NULL || seq->kind != Y_SEQ)
    return;
  struct matrix *m = l->m;
  m->aliases = xcalloc (seq->n + 1, sizeof *m->aliases);
  for (size_t i = 0; i < seq->n; i++)
    {
      const struct ynode *e = seq->kids[i];
      if (schema_check (l->file, e, "an alias rule", alias_fields, l->d))
        continue;
      struct malias a = { .mark = e->mark };
      /* Each field reports its own problem; the rule is kept, the plan never runs on errors. */
      if (take (l, ymap_get (e, "name"), "an alias name", &a.name) == 0)
        check_alias_name (l, &a.name);
      if (take (l, ymap_get (e, "cuda"), "an alias's cuda", &a.cuda) == 0)
        {
          a.cuda_pypi = streq (a.cuda.s, "pypi");
          if (!a.cuda_pypi && !is_version (a.cuda.s))
            diag_add (l->d, l->file, a.cuda.mark, "alias cuda '%s' must be a CUDA version or 'pypi'", a.cuda.s);
        }
      if (ymap_get (e, "flavor"))
        take_flavor (l, ymap_get (e, "flavor"), &a.flavor);
      if (ymap_get (e, "torch"))
        take_version (l, ymap_get (e, "torch"), "torch version", &a.torch);
      m->aliases[m->naliases++] = a;
    }
}

/* Docker's advice for label keys (docs.docker.com, "Docker object labels", key format
   recommendations): lowercase letters, digits, '.' and '-', starting and ending with a letter
   or digit, no ".." or "--"; reverse-DNS like the OCI annotation keys
   (opencontainers/image-spec, annotations.md). */
static int
valid_label_key (const char *k)
{
  if (!islower ((unsigned char) k[0]))
    return 0;
  for (; *k; k++)
    {
      if (!(islower ((unsigned char) *k) || isdigit ((unsigned char) *k) || strchr (".-", *k)))
        return 0;
      if (strchr (".-", *k) && strchr (".-", k[1]))
        return 0;
    }
  return k[-1] != '.' && k[-1] != '-';
}

/* The labels pcgen writes itself (render.c): a matrix label would come after them in the
   LABEL instruction and win, so that an image could claim a torch it does not have. */
const char *const matrix_reserved_labels[]
    = { "io.pytorch-cuda.*", "org.opencontainers.image.title", "org.opencontainers.image.version",
        "org.opencontainers.image.description", NULL };

int
matrix_label_reserved (const char *key)
{
  for (size_t i = 0; matrix_reserved_labels[i]; i++)
    {
      const char *r = matrix_reserved_labels[i];
      size_t n = strlen (r);
      if (r[n - 1] == '*' ? strncmp (key, r, n - 2) == 0 && (key[n - 2] == '\0' || key[n - 2] == '.')
                          : strcmp (key, r) == 0)
        return 1;
    }
  return 0;
}

static void
load_labels (struct loader *l, const struct ynode *map)
{
  if (map == NULL || map->kind != Y_MAP)
    return;
  struct matrix *m = l->m;
  m->labels = xcalloc (map->n / 2 + 1, sizeof *m->labels);
  for (size_t i = 0; i + 1 < map->n; i += 2)
    {
      struct mlabel lb = { 0 };
      const struct ynode *key = map->kids[i];
      if (key->len > MATRIX_LABEL_KEY_MAX)
        {
          diag_add (l->d, l->file, key->mark, "label key is %zu bytes long: at most %d", key->len,
                    MATRIX_LABEL_KEY_MAX);
          continue;
        }
      if (take (l, key, "a label key", &lb.key) < 0
          || expect_kind (l->file, map->kids[i + 1], Y_SCALAR, "a label value", l->d) < 0
          || take (l, map->kids[i + 1], "a label value", &lb.value) < 0)
        {
          free (lb.key.s);
          free (lb.value.s);
          continue;
        }
      if (!valid_label_key (lb.key.s))
        diag_add (l->d, l->file, lb.key.mark,
                  "label key '%s' is not valid: lowercase letters, digits, '.' and '-', like org.example.team",
                  lb.key.s);
      else if (matrix_label_reserved (lb.key.s))
        {
          diag_add (l->d, l->file, lb.key.mark, "label key '%s' is reserved: pcgen sets it", lb.key.s);
          struct strbuf list = STRBUF_INIT;
          for (size_t r = 0; matrix_reserved_labels[r]; r++)
            strbuf_addf (&list, "%s%s", r ? ", " : "", matrix_reserved_labels[r]);
          diag_hint (l->d, "reserved label keys: %s", list.buf);
          strbuf_release (&list);
        }
      m->labels[m->nlabels++] = lb;
    }
}

static void
load_sources (struct loader *l, const struct ynode *map)
{
  if (map == NULL || map->kind != Y_MAP)
    return;
  struct matrix *m = l->m;
  m->sources = xcalloc (map->n / 2 + 1, sizeof *m->sources);
  for (size_t i = 0; i + 1 < map->n; i += 2)
    {
      const struct ynode *val = map->kids[i + 1];
      struct msource s = { 0 };
      if (take_version (l, map->kids[i], "a source's CUDA version", &s.cuda) < 0)
        {
          free (s.cuda.s);
          continue;
        }
      m->sources[m->nsources++] = s;
      if (schema_check (l->file, val, "a source", source_fields, l->d))
        continue;
      struct msource *t = &m->sources[m->nsources - 1];
      take (l, ymap_get (val, "index"), "an index URL", &t->index);
      take (l, ymap_get (val, "wheelhouse"), "a wheelhouse folder", &t->wheelhouse);
      if ((t->index.s != NULL) == (t->wheelhouse.s != NULL))
        diag_add (l->d, l->file, val->mark, "a source takes exactly one of 'index' and 'wheelhouse'");
      else if (t->index.s && !starts_with (t->index.s, "https://") && !starts_with (t->index.s, "http://"))
        diag_add (l->d, l->file, t->index.mark, "index '%s' is not an http:// or https:// URL", t->index.s);
    }
}

/* A name useradd takes everywhere (POSIX portable names, as Debian's adduser NAME_REGEX): a
   lowercase letter or '_', then lowercase letters, digits, '_' and '-', at most 32; never root. */
static void
check_user (struct loader *l, const struct mvalue *u)
{
  size_t n = strlen (u->s);
  int ok = n >= 1 && n <= 32 && ((u->s[0] >= 'a' && u->s[0] <= 'z') || u->s[0] == '_')
           && strspn (u->s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
  if (!ok)
    diag_add (l->d, l->file, u->mark, "user '%s' is not a user name: a lowercase letter or '_', then lowercase "
                                      "letters, digits, '_' or '-' (at most 32), like pytorch", u->s);
  else if (strcmp (u->s, "root") == 0)
    diag_add (l->d, l->file, u->mark, "user 'root' is what images run as without 'user': leave 'user' out");
}

static void
load_top (struct loader *l, const struct ynode *root)
{
  struct matrix *m = l->m;
  if (take (l, ymap_get (root, "repository"), "repository", &m->repository) == 0 && m->repository.s)
    check_repository (l, &m->repository);
  take (l, ymap_get (root, "base"), "base", &m->base);
  take_version (l, ymap_get (root, "python"), "python version", &m->python);
  m->ntorch = take_list (l, ymap_get (root, "torch"), "torch version", &m->torch, take_version);
  m->ncuda = take_list (l, ymap_get (root, "cuda"), "CUDA version", &m->cuda, take_version);
  m->nflavors = take_list (l, ymap_get (root, "flavors"), "flavor", &m->flavors, one_flavor);
  load_rules (l, ymap_get (root, "exclude"), 0, &m->exclude, &m->nexclude);
  load_rules (l, ymap_get (root, "include"), 1, &m->include, &m->ninclude);
  load_aliases (l, ymap_get (root, "aliases"));
  load_labels (l, ymap_get (root, "labels"));
  load_sources (l, ymap_get (root, "sources"));
  if (take (l, ymap_get (root, "user"), "user", &m->user) == 0 && m->user.s)
    check_user (l, &m->user);
}

int
matrix_load_text (const char *name, const char *text, size_t len, struct matrix *m, struct diags *d)
{
  memset (m, 0, sizeof *m);
  m->file = xstrdup (name);
  strbuf_init (&m->text, 0);
  strbuf_add (&m->text, text, len);
  size_t before = d->n;
  struct ynode *root = NULL;
  if (ytree_parse (name, text, len, &root, d) < 0)
    return -1;
  struct loader l = { m->file, m, d };
  if (root == NULL)
    diag_add (d, name, (struct mark) { 1, 1, 0 }, "the matrix is empty: see docs/matrix.md, 'matrix.yaml reference'");
  else if (schema_check (name, root, "the matrix", top_fields, d) == 0 || root->kind == Y_MAP)
    load_top (&l, root);
  ynode_free (root);
  return d->n > before || d->dropped ? -1 : 0;
}

int
matrix_load (const char *path, struct matrix *m, struct diags *d)
{
  struct strbuf sb = STRBUF_INIT;
  if (strbuf_read_file (&sb, path, MATRIX_MAX_BYTES) < 0)
    {
      memset (m, 0, sizeof *m);
      m->file = xstrdup (path);
      strbuf_init (&m->text, 0);
      diag_add (d, path, (struct mark) { 0, 0, 0 }, "cannot read '%s': %s", path,
                errno == EFBIG ? "larger than 1 MiB" : strerror (errno));
      strbuf_release (&sb);
      return -1;
    }
  int r = matrix_load_text (path, sb.buf, sb.len, m, d);
  strbuf_release (&sb);
  return r;
}

static void
mvalues_free (struct mvalue *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (v[i].s);
  free (v);
}

static void
rules_free (struct mrule *r, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (r[i].torch.s);
      free (r[i].cuda.s);
      free (r[i].flavor.s);
    }
  free (r);
}

void
matrix_release (struct matrix *m)
{
  free (m->file);
  strbuf_release (&m->text);
  free (m->repository.s);
  free (m->base.s);
  free (m->python.s);
  free (m->user.s);
  mvalues_free (m->torch, m->ntorch);
  mvalues_free (m->cuda, m->ncuda);
  mvalues_free (m->flavors, m->nflavors);
  rules_free (m->exclude, m->nexclude);
  rules_free (m->include, m->ninclude);
  for (size_t i = 0; i < m->naliases; i++)
    {
      free (m->aliases[i].name.s);
      free (m->aliases[i].cuda.s);
      free (m->aliases[i].flavor.s);
      free (m->aliases[i].torch.s);
    }
  free (m->aliases);
  for (size_t i = 0; i < m->nlabels; i++)
    {
      free (m->labels[i].key.s);
      free (m->labels[i].value.s);
    }
  free (m->labels);
  for (size_t i = 0; i < m->nsources; i++)
    {
      free (m->sources[i].cuda.s);
      free (m->sources[i].index.s);
      free (m->sources[i].wheelhouse.s);
    }
  free (m->sources);
  memset (m, 0, sizeof *m);
}
