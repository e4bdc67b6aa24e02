/* gpus.c: the GPU part of the knowledge base (generator/data/gpus.yaml): names and compute
   capabilities, and the normalisation that turns what nvidia-smi or torch prints into a
   lookup key. The rules of the normalisation are data (gpus.yaml's `normalize`), so that a new
   vendor word or form factor needs no C. See kb.h. */
#include "kb.h"
#include "schema.h"
#include "strbuf.h"
#include "util.h"
#include "ytree.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define GPUS_FILE_CAP (1u << 20)

struct kb_gpu_norm
{
  regex_t *strip; /* removed from the whole text, in order */
  size_t nstrip;
  regex_t *drop; /* a word one of these matches whole is dropped */
  size_t ndrop;
};

static void
norm_free (struct kb_gpu_norm *n)
{
  if (n == NULL)
    return;
  for (size_t i = 0; i < n->nstrip; i++)
    regfree (&n->strip[i]);
  for (size_t i = 0; i < n->ndrop; i++)
    regfree (&n->drop[i]);
  free (n->strip);
  free (n->drop);
  free (n);
}

/* Compile the expressions of `list` into out; `whole`: anchored, to match a word whole. */
static size_t
compile_list (const char *path, const struct ynode *list, int whole, regex_t *out, struct diags *d)
{
  size_t n = 0;
  for (size_t i = 0; i < list->n; i++)
    {
      const struct ynode *e = list->kids[i];
      if (expect_kind (path, e, Y_SCALAR, "a normalisation expression", d))
        continue;
      cleanup_free char *re = whole ? xasprintf ("^(%s)$", e->str) : xstrdup (e->str);
      int rc = regcomp (&out[n], re, REG_EXTENDED | REG_ICASE);
      if (rc != 0)
        {
          char msg[128];
          regerror (rc, &out[n], msg, sizeof msg);
          diag_add (d, path, e->mark, "'%s' is not a POSIX extended regular expression: %s", e->str, msg);
          continue;
        }
      n++;
    }
  return n;
}

static const struct field norm_fields[] = { { "source", Y_SCALAR, 1 },
                                            { "strip", Y_SEQ, 1 },
                                            { "drop_words", Y_SEQ, 1 },
                                            { NULL, 0, 0 } };

static struct kb_gpu_norm *
load_norm (const char *path, const struct ynode *root, struct diags *d)
{
  const struct ynode *map = ymap_get (root, "normalize");
  if (map == NULL)
    {
      diag_add (d, path, root->mark, "expected 'normalize', the rules that turn a GPU name into a key");
      return NULL;
    }
  if (schema_check (path, map, "'normalize'", norm_fields, d))
    return NULL;
  struct kb_gpu_norm *n = xcalloc (1, sizeof *n);
  const struct ynode *strip = ymap_get (map, "strip"), *drop = ymap_get (map, "drop_words");
  n->strip = xcalloc (strip->n + 1, sizeof *n->strip);
  n->nstrip = compile_list (path, strip, 0, n->strip, d);
  n->drop = xcalloc (drop->n + 1, sizeof *n->drop);
  n->ndrop = compile_list (path, drop, 1, n->drop, d);
  return n;
}

/* Remove every match of re from sb. */
static void
strip_all (struct strbuf *sb, const regex_t *re)
{
  size_t from = 0;
  regmatch_t m;
  while (from <= sb->len && regexec (re, sb->buf + from, 1, &m, from ? REG_NOTBOL : 0) == 0)
    {
      size_t so = from + (size_t) m.rm_so, eo = from + (size_t) m.rm_eo;
      if (eo == so)
        {
          /* An empty match removes nothing: step over one byte. */
          from = so + 1;
          continue;
        }
      memmove (sb->buf + so, sb->buf + eo, sb->len - eo + 1);
      sb->len -= eo - so;
      from = so;
    }
}

static int
dropped (const struct kb_gpu_norm *n, const char *word)
{
  for (size_t i = 0; i < n->ndrop; i++)
    if (regexec (&n->drop[i], word, 0, NULL, 0) == 0)
      return 1;
  return 0;
}

char *
kb_gpu_key (const struct kb *kb, const char *name)
{
  struct strbuf text = STRBUF_INIT, key = STRBUF_INIT;
  strbuf_addstr (&text, name);
  const struct kb_gpu_norm *n = kb->gpu_norm;
  for (size_t i = 0; n && i < n->nstrip; i++)
    strip_all (&text, &n->strip[i]);
  char *p = text.buf;
  while (*p)
    {
      size_t len = strcspn (p, " \t-_");
      if (len > 0)
        {
          cleanup_free char *word = xstrndup (p, len);
          if (n == NULL || !dropped (n, word))
            for (size_t i = 0; i < len; i++)
              if (isalnum ((unsigned char) word[i]))
                strbuf_addch (&key, (char) tolower ((unsigned char) word[i]));
        }
      p += len;
      if (*p)
        p++;
    }
  strbuf_release (&text);
  return strbuf_detach (&key, NULL);
}

static const struct field gpu_fields[] = { { "names", Y_SEQ, 1 },      { "cc", Y_SCALAR, 1 },
                                           { "arch", Y_SCALAR, 1 },    { "platform", Y_SCALAR, 0 },
                                           { "source", Y_SCALAR, 1 },  { NULL, 0, 0 } };

static const char *
cited (const char *path, const struct ynode *sources, const struct ynode *entry, const char *what,
       struct diags *d)
{
  const struct ynode *s = ymap_get (entry, "source");
  if (s == NULL || s->kind != Y_SCALAR)
    return NULL;
  if (ymap_get (sources, s->str) == NULL)
    {
      diag_add (d, path, s->mark, "%s cites source '%s', which 'sources' does not define", what, s->str);
      return NULL;
    }
  return s->str;
}

/* One name of an entry; refuses a key that an earlier name already has. */
static void
add_name (const char *path, struct kb *kb, const struct ynode *name, int cc, const struct ynode *e,
          const char *source, struct diags *d)
{
  if (expect_kind (path, name, Y_SCALAR, "a GPU name", d))
    return;
  char *key = kb_gpu_key (kb, name->str);
  if (*key == '\0')
    {
      diag_add (d, path, name->mark, "GPU name '%s' is empty once normalised", name->str);
      free (key);
      return;
    }
  for (size_t i = 0; i < kb->ngpus; i++)
    if (strcmp (kb->gpus[i].key, key) == 0)
      {
        diag_add (d, path, name->mark, "GPU name '%s' is '%s' once normalised, like '%s' (sm_%d) before it",
                  name->str, key, kb->gpus[i].name, kb->gpus[i].cc);
        free (key);
        return;
      }
  const char *platform = ystr (e, "platform");
  kb->gpus[kb->ngpus++] = (struct kb_gpu) { .name = xstrdup (name->str),
                                            .cc = cc,
                                            .arch = xstrdup (ystr (e, "arch")),
                                            .platform = platform ? xstrdup (platform) : NULL,
                                            .source = source ? xstrdup (source) : NULL,
                                            .key = key };
}

static void
load_entries (const char *path, struct kb *kb, const struct ynode *sources, const struct ynode *list,
              struct diags *d)
{
  size_t total = 0;
  for (size_t i = 0; i < list->n; i++)
    {
      const struct ynode *names = ymap_get (list->kids[i], "names");
      total += names && names->kind == Y_SEQ ? names->n : 0;
    }
  kb->gpus = xcalloc (total + 1, sizeof *kb->gpus);
  for (size_t i = 0; i < list->n; i++)
    {
      const struct ynode *e = list->kids[i];
      if (schema_check (path, e, "a GPU", gpu_fields, d))
        continue;
      int cc = kb_parse_cc (ystr (e, "cc"));
      if (cc < 0)
        {
          diag_add (d, path, ymap_get (e, "cc")->mark, "'%s' is not a compute capability (like 8.9)", ystr (e, "cc"));
          continue;
        }
      const char *platform = ystr (e, "platform");
      if (platform && strcmp (platform, "aarch64") != 0 && strcmp (platform, "x86_64") != 0)
        {
          diag_add (d, path, ymap_get (e, "platform")->mark, "platform '%s' is not aarch64 or x86_64", platform);
          continue;
        }
      const char *source = cited (path, sources, e, "a GPU", d);
      const struct ynode *names = ymap_get (e, "names");
      for (size_t j = 0; j < names->n; j++)
        add_name (path, kb, names->kids[j], cc, e, source, d);
    }
}

int
kb_gpus_load (const char *dir, struct kb *kb, struct diags *d)
{
  size_t before = d->n;
  cleanup_free char *path = xasprintf ("%s/gpus.yaml", dir);
  struct strbuf text = STRBUF_INIT;
  struct ynode *root = NULL;
  if (strbuf_read_file (&text, path, GPUS_FILE_CAP) < 0)
    diag_add (d, path, (struct mark) { 0, 0, 0 }, "cannot read the knowledge base: %s", strerror (errno));
  else if (ytree_parse (path, text.buf, text.len, &root, d) == 0)
    {
      const struct ynode *sources = root ? ymap_get (root, "sources") : NULL;
      const struct ynode *list = root ? ymap_get (root, "gpus") : NULL;
      if (root == NULL || root->kind != Y_MAP || sources == NULL || sources->kind != Y_MAP || list == NULL
          || list->kind != Y_SEQ)
        diag_add (d, path, root ? root->mark : (struct mark) { 1, 1, 0 },
                  "expected 'sources' (a mapping), 'normalize' (a mapping) and 'gpus' (a list)");
      else
        {
          kb->gpu_norm = load_norm (path, root, d);
          const struct ynode *ns = ymap_get (root, "normalize");
          if (ns && ns->kind == Y_MAP)
            cited (path, sources, ns, "'normalize'", d);
          load_entries (path, kb, sources, list, d);
        }
    }
  ynode_free (root);
  strbuf_release (&text);
  return d->n > before ? -1 : 0;
}

void
kb_gpus_release (struct kb *kb)
{
  for (size_t i = 0; i < kb->ngpus; i++)
    {
      free (kb->gpus[i].name);
      free (kb->gpus[i].arch);
      free (kb->gpus[i].platform);
      free (kb->gpus[i].source);
      free (kb->gpus[i].key);
    }
  free (kb->gpus);
  norm_free (kb->gpu_norm);
  kb->gpus = NULL;
  kb->ngpus = 0;
  kb->gpu_norm = NULL;
}

const struct kb_gpu *
kb_gpu_find (const struct kb *kb, const char *name)
{
  cleanup_free char *key = kb_gpu_key (kb, name);
  if (*key == '\0')
    return NULL;
  for (size_t i = 0; i < kb->ngpus; i++)
    if (strcmp (kb->gpus[i].key, key) == 0)
      return &kb->gpus[i];
  return NULL;
}

size_t
kb_gpu_nearest (const struct kb *kb, const char *name, const struct kb_gpu **out, size_t max)
{
  cleanup_free char *key = kb_gpu_key (kb, name);
  size_t klen = strlen (key), n = 0;
  if (klen == 0 || max == 0)
    return 0;
  /* Close enough to be a typo or a variant: a third of the key, at least 2 edits. */
  size_t limit = klen / 3 > 2 ? klen / 3 : 2;
  size_t *dist = xcalloc (max, sizeof *dist);
  for (size_t i = 0; i < kb->ngpus; i++)
    {
      size_t dd = levenshtein (key, kb->gpus[i].key);
      if (dd > limit)
        continue;
      /* Insert sorted by distance, then table order (older families first). */
      size_t at = n;
      while (at > 0 && dist[at - 1] > dd)
        at--;
      if (at >= max)
        continue;
      size_t last = n < max ? n : max - 1;
      for (size_t j = last; j > at; j--)
        {
          out[j] = out[j - 1];
          dist[j] = dist[j - 1];
        }
      out[at] = &kb->gpus[i];
      dist[at] = dd;
      if (n < max)
        n++;
    }
  free (dist);
  return n;
}
