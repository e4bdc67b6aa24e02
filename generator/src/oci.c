/* oci.c: see oci.h. */
#include "oci.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DUMP_FLAGS (JSON_SORT_KEYS | JSON_COMPACT)

char *
oci_created (void)
{
  const char *e = getenv ("SOURCE_DATE_EPOCH");
  char *end = NULL;
  long long v = e && *e ? strtoll (e, &end, 10) : 1;
  if (!e || !*e || *end || v < 0)
    v = 1;
  time_t t = (time_t) v;
  struct tm tm;
  gmtime_r (&t, &tm);
  char buf[64];
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return xstrdup (buf);
}

void
oci_image_init (struct oci_image *img, const char *created)
{
  memset (img, 0, sizeof *img);
  img->config = json_pack ("{s:s, s:s, s:s, s:{}, s:{s:s, s:[]}, s:[]}", "architecture", "amd64", "os", "linux",
                           "created", created, "config", "rootfs", "type", "layers", "diff_ids", "history");
}

void
oci_image_release (struct oci_image *img)
{
  for (size_t i = 0; i < img->nlayers; i++)
    free (img->layers[i].path);
  free (img->layers);
  json_decref (img->config);
  memset (img, 0, sizeof *img);
}

static json_t *
cfg (struct oci_image *img)
{
  return json_object_get (img->config, "config");
}

static void
history (struct oci_image *img, const char *created_by, int empty)
{
  json_t *h = json_pack ("{s:s, s:s}", "created", json_string_value (json_object_get (img->config, "created")),
                         "created_by", created_by);
  if (empty)
    json_object_set_new (h, "empty_layer", json_true ());
  json_array_append_new (json_object_get (img->config, "history"), h);
}

void
oci_add_layer (struct oci_image *img, const char *sha256, unsigned long long size, const char *path,
               const char *created_by)
{
  ARRAY_GROW (img->layers, img->nlayers + 1, img->alloc);
  struct oci_layer *l = &img->layers[img->nlayers++];
  snprintf (l->digest, sizeof l->digest, "%s", sha256);
  l->size = size;
  l->path = xstrdup (path);
  json_t *ids = json_object_get (json_object_get (img->config, "rootfs"), "diff_ids");
  json_array_append_new (ids, json_sprintf ("sha256:%s", sha256));
  history (img, created_by, 0);
}

void
oci_add_history (struct oci_image *img, const char *created_by)
{
  history (img, created_by, 1);
}

void
oci_set_env (struct oci_image *img, const char *key, const char *value)
{
  json_t *env = json_object_get (cfg (img), "Env");
  if (env == NULL)
    json_object_set_new (cfg (img), "Env", env = json_array ());
  size_t klen = strlen (key), i;
  json_t *v;
  json_t *entry = json_sprintf ("%s=%s", key, value);
  json_array_foreach (env, i, v)
  {
    const char *s = json_string_value (v);
    if (s && strncmp (s, key, klen) == 0 && s[klen] == '=')
      {
        json_array_set_new (env, i, entry);
        return;
      }
  }
  json_array_append_new (env, entry);
}

void
oci_set_label (struct oci_image *img, const char *key, const char *value)
{
  json_t *labels = json_object_get (cfg (img), "Labels");
  if (labels == NULL)
    json_object_set_new (cfg (img), "Labels", labels = json_object ());
  json_object_set_new (labels, key, json_string (value));
}

void
oci_set_argv (struct oci_image *img, const char *field, const char *const *argv, size_t n)
{
  json_t *a = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (a, json_string (argv[i]));
  json_object_set_new (cfg (img), field, a);
}

void
oci_set_string (struct oci_image *img, const char *field, const char *value)
{
  json_object_set_new (cfg (img), field, json_string (value));
}

void
oci_add_exposed (struct oci_image *img, const char *port)
{
  json_t *p = json_object_get (cfg (img), "ExposedPorts");
  if (p == NULL)
    json_object_set_new (cfg (img), "ExposedPorts", p = json_object ());
  /* "8888" means "8888/tcp" to Docker */
  json_t *key = strchr (port, '/') ? json_string (port) : json_sprintf ("%s/tcp", port);
  json_object_set_new (p, json_string_value (key), json_object ());
  json_decref (key);
}

char *
oci_config_json (const struct oci_image *img)
{
  return json_dumps (img->config, DUMP_FLAGS);
}

static json_t *
descriptor (const char *media_type, const char *sha, unsigned long long size)
{
  return json_pack ("{s:s, s:s+, s:I}", "mediaType", media_type, "digest", "sha256:", sha, "size", (json_int_t) size);
}

char *
oci_manifest_json (const struct oci_image *img, const char *config_sha, size_t config_size)
{
  json_t *layers = json_array ();
  for (size_t i = 0; i < img->nlayers; i++)
    json_array_append_new (layers, descriptor (OCI_MT_LAYER, img->layers[i].digest, img->layers[i].size));
  json_t *m = json_pack ("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "config",
                         descriptor (OCI_MT_CONFIG, config_sha, config_size), "layers", layers);
  char *s = json_dumps (m, DUMP_FLAGS);
  json_decref (m);
  return s;
}

char *
oci_index_json (const char *manifest_sha, size_t manifest_size, const char *ref)
{
  json_t *d = descriptor (OCI_MT_MANIFEST, manifest_sha, manifest_size);
  const char *colon = strrchr (ref, ':'), *slash = strrchr (ref, '/');
  const char *tag = colon && (!slash || colon > slash) ? colon + 1 : "latest";
  json_object_set_new (d, "annotations", json_pack ("{s:s, s:s}", "io.containerd.image.name", ref,
                                                    "org.opencontainers.image.ref.name", tag));
  json_t *ix = json_pack ("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests", d);
  char *s = json_dumps (ix, DUMP_FLAGS);
  json_decref (ix);
  return s;
}

char *
oci_docker_manifest_json (const struct oci_image *img, const char *config_sha, const char *ref)
{
  json_t *layers = json_array ();
  for (size_t i = 0; i < img->nlayers; i++)
    json_array_append_new (layers, json_sprintf ("blobs/sha256/%s", img->layers[i].digest));
  json_t *m = json_pack ("[{s:s+, s:[s], s:o}]", "Config", "blobs/sha256/", config_sha, "RepoTags", ref, "Layers", layers);
  char *s = json_dumps (m, DUMP_FLAGS);
  json_decref (m);
  return s;
}

/* "sha256:<64 hex>" of a descriptor, or NULL. */
static const char *
digest_hex (json_t *desc)
{
  const char *d = json_string_value (json_object_get (desc, "digest"));
  if (d == NULL || !starts_with (d, "sha256:") || strlen (d) != 7 + SHA256_HEX_LEN
      || strspn (d + 7, "0123456789abcdef") != SHA256_HEX_LEN)
    return NULL;
  return d + 7;
}

static json_t *
load_json (const char *path, struct strbuf *err)
{
  json_error_t je;
  json_t *j = json_load_file (path, JSON_REJECT_DUPLICATES, &je);
  if (j == NULL)
    strbuf_addf (err, "%s:%d:%d: %s", path, je.line, je.column, je.text);
  return j;
}

int
oci_image_load (struct oci_image *img, const char *dir, struct strbuf *err)
{
  memset (img, 0, sizeof *img);
  cleanup_free char *ixp = xasprintf ("%s/index.json", dir);
  json_t *ix = load_json (ixp, err), *m = NULL;
  cleanup_free char *mp = NULL, *cp = NULL;
  int rc = -1;
  if (ix == NULL)
    return -1;
  const char *msha = digest_hex (json_array_get (json_object_get (ix, "manifests"), 0));
  if (msha == NULL)
    {
      strbuf_addf (err, "%s: no manifest descriptor with a sha256 digest", ixp);
      goto out;
    }
  mp = xasprintf ("%s/blobs/sha256/%s", dir, msha);
  if ((m = load_json (mp, err)) == NULL)
    goto out;
  const char *csha = digest_hex (json_object_get (m, "config"));
  json_t *layers = json_object_get (m, "layers");
  if (csha == NULL || !json_is_array (layers))
    {
      strbuf_addf (err, "%s: no config digest or no layers", mp);
      goto out;
    }
  cp = xasprintf ("%s/blobs/sha256/%s", dir, csha);
  if ((img->config = load_json (cp, err)) == NULL)
    goto out;
  json_t *ids = json_object_get (json_object_get (img->config, "rootfs"), "diff_ids");
  if (!json_is_object (json_object_get (img->config, "config")) || !json_is_array (json_object_get (img->config, "history"))
      || !json_is_array (ids) || json_array_size (ids) != json_array_size (layers))
    {
      strbuf_addf (err, "%s: not a config this writer made (config, history, rootfs.diff_ids)", cp);
      goto out;
    }
  size_t i;
  json_t *d;
  json_array_foreach (layers, i, d)
  {
    const char *l = digest_hex (d);
    json_int_t size = json_integer_value (json_object_get (d, "size"));
    if (l == NULL || size < 0)
      {
        strbuf_addf (err, "%s: layer %zu has no sha256 digest or size", mp, i);
        goto out;
      }
    ARRAY_GROW (img->layers, img->nlayers + 1, img->alloc);
    struct oci_layer *ol = &img->layers[img->nlayers++];
    snprintf (ol->digest, sizeof ol->digest, "%s", l);
    ol->size = (unsigned long long) size;
    ol->path = xasprintf ("%s/blobs/sha256/%s", dir, l);
  }
  rc = 0;
out:
  json_decref (ix);
  json_decref (m);
  if (rc < 0)
    oci_image_release (img);
  return rc;
}
