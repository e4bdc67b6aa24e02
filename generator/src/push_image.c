/* push_image.c: see push_image.h. */
#include "push_image.h"
#include "fsutil.h"
#include "oci.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>

static json_t *
descriptor (const char *media_type, const struct push_blob *b)
{
  return json_pack ("{s:s, s:s+, s:I}", "mediaType", media_type, "digest", "sha256:", b->sha, "size",
                    (json_int_t) b->size);
}

char *
push_manifest_json (const struct push_blob *config, const struct push_blob *layers, size_t n)
{
  json_t *ls = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (ls, descriptor (OCI_MT_LAYER_GZIP, &layers[i]));
  json_t *m = json_pack ("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "config",
                         descriptor (OCI_MT_CONFIG, config), "layers", ls);
  char *s = json_dumps (m, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref (m);
  return s;
}

int
layout_config_sha (const char *layout, char out[SHA256_HEX_LEN + 1], struct strbuf *err)
{
  cleanup_free char *ixp = xasprintf ("%s/index.json", layout);
  json_t *ix = json_load_file (ixp, 0, NULL), *m = NULL;
  const char *md = json_string_value (json_object_get (json_array_get (json_object_get (ix, "manifests"), 0), "digest"));
  int rc = -1;
  if (md && starts_with (md, "sha256:"))
    {
      cleanup_free char *mp = xasprintf ("%s/blobs/sha256/%s", layout, md + 7);
      m = json_load_file (mp, 0, NULL);
    }
  const char *cd = json_string_value (json_object_get (json_object_get (m, "config"), "digest"));
  if (cd && starts_with (cd, "sha256:") && strlen (cd + 7) == SHA256_HEX_LEN)
    {
      snprintf (out, SHA256_HEX_LEN + 1, "%s", cd + 7);
      rc = 0;
    }
  else
    strbuf_addf (err, "%s: no manifest with a config digest", ixp);
  json_decref (ix);
  json_decref (m);
  return rc;
}

int
push_image_prepare (const char *layout, int jobs, struct push_image *p, struct strbuf *err)
{
  memset (p, 0, sizeof *p);
  struct oci_image img;
  if (oci_image_load (&img, layout, err) < 0)
    return -1;
  int rc = -1;
  cleanup_free char *cpath = NULL, *mpath = NULL;
  /* The config's digest: the one the layout's manifest names (the image ID). */
  if (layout_config_sha (layout, p->config_sha, err) < 0)
    goto out;
  cpath = xasprintf ("%s/blobs/sha256/%s", layout, p->config_sha);
  struct stat st;
  if (stat (cpath, &st) < 0)
    {
      strbuf_addf (err, "cannot read '%s': %s", cpath, strerror (errno));
      goto out;
    }
  snprintf (p->config.sha, sizeof p->config.sha, "%s", p->config_sha);
  p->config.size = (unsigned long long) st.st_size;
  p->config.path = xstrdup (cpath);
  {
  const char **shas = xcalloc (img.nlayers + 1, sizeof *shas), **paths = xcalloc (img.nlayers + 1, sizeof *paths);
  struct gz_blob *gz = xcalloc (img.nlayers + 1, sizeof *gz);
  for (size_t i = 0; i < img.nlayers; i++)
    {
      shas[i] = img.layers[i].digest;
      paths[i] = img.layers[i].path;
    }
  int grc = gz_layers (shas, paths, img.nlayers, jobs, gz, err);
  p->layers = xcalloc (img.nlayers + 1, sizeof *p->layers);
  p->nlayers = img.nlayers;
  for (size_t i = 0; i < img.nlayers; i++)
    {
      snprintf (p->layers[i].sha, sizeof p->layers[i].sha, "%s", gz[i].sha);
      p->layers[i].size = gz[i].size;
      p->layers[i].path = gz[i].path; /* taken */
    }
  free (gz);
  free (shas);
  free (paths);
  if (grc < 0)
    goto out;
  }
  p->manifest = push_manifest_json (&p->config, p->layers, p->nlayers);
  sha256_hex (p->manifest, strlen (p->manifest), p->manifest_sha);
  mpath = xasprintf ("%s/push-manifest.json", layout);
  if (file_equals (mpath, p->manifest, strlen (p->manifest)) != 1
      && write_file_atomic (mpath, p->manifest, strlen (p->manifest), 0644) < 0)
    {
      strbuf_addf (err, "cannot write '%s': %s", mpath, strerror (errno));
      goto out;
    }
  rc = 0;
out:
  oci_image_release (&img);
  if (rc < 0)
    push_image_release (p);
  return rc;
}

void
push_image_release (struct push_image *p)
{
  free (p->config.path);
  for (size_t i = 0; i < p->nlayers; i++)
    free (p->layers[i].path);
  free (p->layers);
  free (p->manifest);
  memset (p, 0, sizeof *p);
}
