/* lockfile.c: matrix.lock read and written (see lockfile.h). */
#include "lockfile.h"
#include "cache.h"
#include "fsutil.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void
locked_wheel_release (struct locked_wheel *w)
{
  free (w->name);
  free (w->version);
  free (w->file);
  free (w->sha256);
  free (w->path);
}

void
lockset_release (struct lockset *s)
{
  for (size_t i = 0; i < s->n; i++)
    locked_wheel_release (&s->w[i]);
  free (s->w);
  free (s->id);
  free (s->source_where);
  memset (s, 0, sizeof *s);
}

void
lockfile_release (struct lockfile *lf)
{
  for (size_t i = 0; i < lf->n; i++)
    lockset_release (&lf->sets[i]);
  free (lf->sets);
  memset (lf, 0, sizeof *lf);
}

const struct lockset *
lockfile_find (const struct lockfile *lf, const char *id)
{
  for (size_t i = 0; i < lf->n; i++)
    if (strcmp (lf->sets[i].id, id) == 0)
      return &lf->sets[i];
  return NULL;
}

static char *
get_str (json_t *o, const char *key)
{
  const char *s = json_string_value (json_object_get (o, key));
  return s ? xstrdup (s) : NULL;
}

static int
read_set (const char *path, json_t *js, struct lockset *s, struct strbuf *err)
{
  s->id = get_str (js, "id");
  const char *kind = json_string_value (json_object_get (json_object_get (js, "source"), "kind"));
  s->source_where = get_str (json_object_get (js, "source"), "where");
  json_t *ws = json_object_get (js, "wheels");
  size_t i;
  json_t *jw;
  if (!s->id || !kind || !json_is_array (ws))
    return strbuf_addf (err, "%s: a set lacks 'id', 'source' or 'wheels'", path), -1;
  /* Where fetch downloads the set from: a word this pcgen does not know must not fall back to
     anywhere (it once read as PyPI), and a lock never holds a set of an unavailable source. */
  int k = source_kind_parse (kind);
  if (k < 0 || k == SOURCE_UNAVAILABLE)
    return strbuf_addf (err, "%s: set '%s': source kind '%s' is not pypi, index or wheelhouse", path, s->id, kind), -1;
  s->source_kind = (enum source_kind) k;
  json_array_foreach (ws, i, jw)
  {
    ARRAY_GROW (s->w, s->n + 1, s->alloc);
    struct locked_wheel *w = &s->w[s->n++];
    memset (w, 0, sizeof *w);
    w->name = get_str (jw, "name");
    w->version = get_str (jw, "version");
    w->file = get_str (jw, "file");
    w->sha256 = get_str (jw, "sha256");
    cleanup_free char *role = get_str (jw, "role");
    w->size = (unsigned long long) json_integer_value (json_object_get (jw, "size"));
    w->path = get_str (jw, "path");
    if (!w->name || !w->version || !w->file || !w->sha256 || !role)
      return strbuf_addf (err, "%s: set '%s': wheel %zu lacks name, version, file, sha256 or role", path, s->id,
                          i + 1), -1;
    int r = role_parse (role);
    if (r < 0)
      return strbuf_addf (err, "%s: set '%s': wheel %zu (%s): role '%s' is not torch, cuda, cudnn, devel, nvcc or notebook",
                          path, s->id, i + 1, w->name, role), -1;
    w->role = (enum role) r;
    /* The digest and the file name become a path in the cache (cache_path), which removes
       what does not hash right: `../..` padded to 64 characters must never get that far. */
    if (!cache_valid_sha256 (w->sha256))
      return strbuf_addf (err, "%s: set '%s': wheel %zu (%s): sha256 '%s' is not 64 lowercase hex digits", path,
                          s->id, i + 1, w->name, w->sha256), -1;
    if (!cache_valid_file (w->file))
      return strbuf_addf (err,
                          "%s: set '%s': wheel %zu (%s): file '%s' is not a plain file name (no '/', no '..', "
                          "not starting with '.' or '-')",
                          path, s->id, i + 1, w->name, w->file), -1;
    if (w->role == ROLE_NVCC
        && (w->path == NULL || strstr (w->path, "..") || w->path[0] == '/' || !ends_with (w->path, w->file)))
      return strbuf_addf (err, "%s: set '%s': package %zu (%s) lacks a pool path ending in its file name", path,
                          s->id, i + 1, w->name), -1;
  }
  return 0;
}

int
lockfile_read (const char *path, struct lockfile *lf, struct error *err)
{
  memset (lf, 0, sizeof *lf);
  struct stat st;
  if (stat (path, &st) != 0)
    return errno == ENOENT ? 0 : err_set (err, ERR_ENV, "cannot read '%s': %s", path, strerror (errno));
  /* jansson reads a folder as an empty text ("'[' or '{' expected"): say what it is. */
  if (S_ISDIR (st.st_mode))
    return err_set (err, ERR_ENV, "cannot read '%s': %s", path, strerror (EISDIR));
  json_error_t je;
  json_t *root = json_load_file (path, 0, &je);
  /* A lock that cannot be opened is the environment's fault; one that cannot be parsed, the
     input's. */
  if (root == NULL && json_error_code (&je) == json_error_cannot_open_file)
    return err_set (err, ERR_ENV, "%s:%d:%d: %s", path, je.line, je.column, je.text);
  if (root == NULL)
    return err_at (err, ERR_INVALID, path, (struct mark) { je.line, je.column, 0 }, "%s", je.text);
  int rc = 0;
  struct strbuf msg = STRBUF_INIT;
  json_t *sets = json_object_get (root, "sets");
  if (json_integer_value (json_object_get (root, "schema")) != LOCK_SCHEMA_VERSION || !json_is_array (sets))
    {
      strbuf_addf (&msg, "%s: not a schema %d lock file (run pcgen lock again)", path, LOCK_SCHEMA_VERSION);
      rc = -1;
    }
  size_t i;
  json_t *js;
  json_array_foreach (sets, i, js)
  {
    if (rc < 0)
      break;
    ARRAY_GROW (lf->sets, lf->n + 1, lf->alloc);
    memset (&lf->sets[lf->n], 0, sizeof lf->sets[0]);
    rc = read_set (path, js, &lf->sets[lf->n++], &msg);
  }
  json_decref (root);
  if (rc < 0)
    err_take (err, ERR_INVALID, &msg);
  strbuf_release (&msg);
  return rc;
}

static int
cmp_set (const void *a, const void *b)
{
  return strcmp (((const struct lockset *) a)->id, ((const struct lockset *) b)->id);
}

static int
cmp_wheel (const void *a, const void *b)
{
  return strcmp (((const struct locked_wheel *) a)->name, ((const struct locked_wheel *) b)->name);
}

int
lockfile_write (const char *path, const struct lockfile *lf, struct error *err)
{
  /* qsort's pointer must not be NULL, even for no elements (C11 7.22.5): an empty lock is one. */
  if (lf->n > 1)
    qsort (lf->sets, lf->n, sizeof *lf->sets, cmp_set);
  json_t *sets = json_array ();
  for (size_t i = 0; i < lf->n; i++)
    {
      struct lockset *s = &lf->sets[i];
      if (s->n > 1)
        qsort (s->w, s->n, sizeof *s->w, cmp_wheel);
      json_t *ws = json_array ();
      for (size_t j = 0; j < s->n; j++)
        {
          json_t *jw = json_pack ("{s:s, s:s, s:s, s:s, s:I, s:s}", "name", s->w[j].name, "version",
                                  s->w[j].version, "role", role_name (s->w[j].role), "file", s->w[j].file, "size",
                                  (json_int_t) s->w[j].size, "sha256", s->w[j].sha256);
          if (s->w[j].path)
            json_object_set_new (jw, "path", json_string (s->w[j].path));
          json_array_append_new (ws, jw);
        }
      json_array_append_new (sets, json_pack ("{s:s, s:{s:s, s:s?}, s:o}", "id", s->id, "source", "kind",
                                              source_kind_name (s->source_kind), "where", s->source_where, "wheels", ws));
    }
  json_t *root = json_pack ("{s:i, s:s, s:o}", "schema", LOCK_SCHEMA_VERSION, "generated_by",
                            "pcgen lock; do not edit", "sets", sets);
  char *text = json_dumps (root, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  json_decref (root);
  int rc = 0;
  cleanup_free char *withnl = xasprintf ("%s\n", text);
  free (text);
  if (write_file_atomic (path, withnl, strlen (withnl), 0644) < 0)
    rc = err_set (err, ERR_ENV, "cannot write '%s': %s", path, strerror (errno));
  return rc;
}
