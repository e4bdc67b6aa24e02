/* evict.c: see evict.h. */
#include "evict.h"
#include "cache.h"
#include "docker.h"
#include "fetch.h"
#include "image_writer.h"
#include "oci.h"
#include "run.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A cache entry and its .verified stamp, then its folder (CACHE/sha256/<hex>/) if empty. */
static void
remove_entry (struct evict *ev, const char *path)
{
  struct stat st;
  if (lstat (path, &st) == 0 && unlink (path) == 0 && st.st_nlink == 1)
    ev->freed += (unsigned long long) st.st_size;
  cleanup_free char *stamp = xasprintf ("%s.verified", path);
  unlink (stamp);
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  if (slash)
    {
      *slash = '\0';
      rmdir (dir);
    }
}

int
evict_wheels (struct evict *ev, const struct lockfile *lf, const char *lock, const struct ptag *const *tags, size_t n,
              struct strbuf *err)
{
  for (size_t i = 0; i < n; i++)
    {
      const struct ptag *t = tags[i];
      int devel = t->flavor == FLAVOR_DEVEL, notebook = t->flavor == FLAVOR_NOTEBOOK;
      const struct lockset *sets[2] = { lock_find_current (lf, t, SET_TORCH, lock, err), NULL };
      if (sets[0] && (devel || notebook))
        sets[1] = lock_find_current (lf, t, devel ? SET_DEVEL : SET_NOTEBOOK, lock, err);
      if (sets[0] == NULL || ((devel || notebook) && sets[1] == NULL))
        return -1;
      for (size_t s = 0; s < 2 && sets[s]; s++)
        for (size_t k = 0; k < sets[s]->n; k++)
          {
            cleanup_free char *path = lock_wheel_path (&sets[s]->w[k]);
            remove_entry (ev, path);
          }
    }
  return 0;
}

/* ---- one layer at a time into the engine ---- */

/* The config of the untagged image of diff_ids[0..n): what docker load needs of one (moby
   image/tarexport/load.go: os, rootfs.diff_ids as many as the manifest's Layers). */
static char *
prefix_config (json_t *diff_ids, size_t n)
{
  json_t *ids = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append (ids, json_array_get (diff_ids, i));
  json_t *c = json_pack ("{s:s, s:{}, s:s, s:{s:s, s:o}}", "architecture", "amd64", "config", "os", "linux", "rootfs",
                         "type", "layers", "diff_ids", ids);
  char *text = json_dumps (c, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref (c);
  return text;
}

static int
tar_bytes (struct archive *a, struct archive_entry *ae, const char *name, const char *data, size_t len)
{
  archive_entry_clear (ae);
  archive_entry_set_pathname (ae, name);
  archive_entry_set_filetype (ae, AE_IFREG);
  archive_entry_set_perm (ae, 0644);
  archive_entry_set_size (ae, (la_int64_t) len);
  archive_entry_set_mtime (ae, 1, 0);
  if (archive_write_header (a, ae) != ARCHIVE_OK || archive_write_data (a, data, len) != (la_ssize_t) len)
    return -1;
  return 0;
}

/* docker-archive (docker save's format): manifest.json, the config, and only layer n-1's tar:
   the engine has the chain below it and does not open the files of layers it has. */
static int
stream_prefix (int fd, const struct oci_image *img, size_t n, const char *config, struct strbuf *err)
{
  char csha[SHA256_HEX_LEN + 1];
  sha256_hex (config, strlen (config), csha);
  json_t *layers = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (layers, json_sprintf ("%s/layer.tar", img->layers[i].digest));
  cleanup_free char *cname = xasprintf ("%s.json", csha);
  json_t *m = json_pack ("[{s:s, s:[], s:o}]", "Config", cname, "RepoTags", "Layers", layers);
  char *manifest = json_dumps (m, JSON_COMPACT);
  json_decref (m);
  struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  archive_write_add_filter_none (a);
  archive_write_set_bytes_in_last_block (a, 1);
  struct archive_entry *ae = archive_entry_new ();
  int rc = archive_write_open_fd (a, fd) == ARCHIVE_OK ? 0 : -1;
  if (rc == 0)
    rc = tar_bytes (a, ae, "manifest.json", manifest, strlen (manifest));
  if (rc == 0)
    rc = tar_bytes (a, ae, cname, config, strlen (config));
  const struct oci_layer *l = &img->layers[n - 1];
  cleanup_free char *name = xasprintf ("%s/layer.tar", l->digest);
  if (rc == 0)
    rc = image_tar_file (a, ae, name, l->path, err);
  if (rc == 0 && archive_write_close (a) != ARCHIVE_OK)
    rc = -1;
  if (rc < 0 && err->len == 0)
    strbuf_addf (err, "cannot write the stream to docker load: %s", archive_error_string (a));
  archive_entry_free (ae);
  archive_write_free (a);
  free (manifest);
  return rc;
}

struct prefix_feed
{
  const struct oci_image *img;
  size_t n;
  const char *config;
  struct strbuf *err;
};

static int
feed_prefix (int fd, void *ctx)
{
  struct prefix_feed *f = ctx;
  return stream_prefix (fd, f->img, f->n, f->config, f->err);
}

/* docker load of the untagged image of img's layers [0..n). */
static int
load_prefix (const struct oci_image *img, json_t *diff_ids, size_t n, char **image_id, struct strbuf *err)
{
  cleanup_free char *config = prefix_config (diff_ids, n);
  char csha[SHA256_HEX_LEN + 1];
  sha256_hex (config, strlen (config), csha);
  const char *argv[] = { docker_bin (), "load", NULL };
  struct strbuf serr = STRBUF_INIT, said = STRBUF_INIT;
  struct prefix_feed f = { img, n, config, &serr };
  int fed = 0;
  int status = run_feed (argv, feed_prefix, &f, &fed, &said);
  int rc = 0;
  if (status < 0)
    rc = -1, strbuf_addf (err, "cannot run '%s load': %s", argv[0], strerror (errno));
  else if (status != 0 || fed < 0)
    rc = -1, strbuf_addf (err, "docker load of layer %zu (%.12s) failed: %s%s%s", n, img->layers[n - 1].digest,
                          said.len ? said.buf : "(no output)", serr.len ? "; " : "", serr.buf);
  else
    *image_id = xasprintf ("sha256:%s", csha);
  strbuf_release (&said);
  strbuf_release (&serr);
  return rc;
}

/* ---- links to a layer's tar ---- */

/* Unlink every file under dir (one level, or dir/X/sub/ for each X when sub is set) that is the
   file want names (a hard link, or a symlink to it), and the file's <name><stamp> beside it
   (the cache's .sha256) when stamp is set. Returns how many. */
static size_t
unlink_same (const char *dir, const char *sub, const struct stat *want, const char *stamp)
{
  size_t n = 0;
  DIR *d = opendir (dir);
  if (d == NULL)
    return 0;
  for (struct dirent *e; (e = readdir (d)) != NULL;)
    {
      if (e->d_name[0] == '.')
        continue;
      cleanup_free char *p = xasprintf ("%s/%s", dir, e->d_name);
      if (sub)
        {
          cleanup_free char *inner = xasprintf ("%s/%s", p, sub);
          n += unlink_same (inner, NULL, want, NULL);
          continue;
        }
      struct stat st;
      if (stat (p, &st) == 0 && st.st_dev == want->st_dev && st.st_ino == want->st_ino && unlink (p) == 0)
        {
          n++;
          if (stamp)
            {
              cleanup_free char *side = xasprintf ("%s%s", p, stamp);
              unlink (side);
            }
        }
    }
  closedir (d);
  return n;
}

/* Every link to the layer's tar: the cache's layers/, each layout's blobs, each context's layers. */
static void
drop_layer (struct evict *ev, const struct oci_layer *l)
{
  struct stat want;
  if (stat (l->path, &want) < 0)
    return; /* gone already (another tag's layer, dropped before) */
  cleanup_free char *layers = xasprintf ("%s/layers", cache_dir ());
  size_t links = unlink_same (layers, NULL, &want, ".sha256") + unlink_same (OCI_DIR, "blobs/sha256", &want, NULL)
                 + unlink_same ("build/context", "layers", &want, NULL);
  if (links >= (size_t) want.st_nlink)
    ev->freed += (unsigned long long) want.st_size;
}

/* 1 if one of later[] has digest d above its first `k+1` layers differing from img's: that
   layout still needs the tar (on another chain, the engine will not have it). */
static int
needed_later (const struct oci_image *img, size_t k, const char *const *later, size_t nlater)
{
  for (size_t i = 0; i < nlater; i++)
    {
      struct oci_image o;
      struct strbuf ignore = STRBUF_INIT;
      if (oci_image_load (&o, later[i], &ignore) < 0)
        {
          strbuf_release (&ignore);
          continue;
        }
      strbuf_release (&ignore);
      int need = 0;
      for (size_t j = 0; j < o.nlayers && !need; j++)
        if (streq (o.layers[j].digest, img->layers[k].digest))
          {
            int same = j == k;
            for (size_t q = 0; same && q <= k; q++)
              same = streq (o.layers[q].digest, img->layers[q].digest);
            need = !same;
          }
      oci_image_release (&o);
      if (need)
        return 1;
    }
  return 0;
}

int
evict_load (struct evict *ev, const char *layout, const char *const *later, size_t nlater, const char *context,
            struct strbuf *err)
{
  struct oci_image img;
  if (oci_image_load (&img, layout, err) < 0)
    return -1;
  json_t *diff_ids = json_object_get (json_object_get (img.config, "rootfs"), "diff_ids");
  size_t have = image_present_prefix (&img);
  int rc = 0;
  for (size_t k = have; k < img.nlayers && rc == 0; k++)
    {
      char *id = NULL;
      rc = load_prefix (&img, diff_ids, k + 1, &id, err);
      if (rc < 0)
        break;
      ev->loaded++;
      /* the previous untagged image is not needed: this one holds its layers too */
      if (ev->nimages && k > have)
        {
          const char *rmi[] = { "docker", "image", "rm", ev->images[ev->nimages - 1], NULL };
          struct strbuf ignore = STRBUF_INIT;
          if (docker_run (rmi, NULL, &ignore) == 0)
            free (ev->images[--ev->nimages]);
          strbuf_release (&ignore);
        }
      ARRAY_GROW (ev->images, ev->nimages + 1, ev->alloc);
      ev->images[ev->nimages++] = id;
      if (!needed_later (&img, k, later, nlater))
        drop_layer (ev, &img.layers[k]);
    }
  /* layers the engine had: their tars go as well */
  for (size_t k = 0; k < have && rc == 0; k++)
    if (!needed_later (&img, k, later, nlater))
      drop_layer (ev, &img.layers[k]);
  oci_image_release (&img);
  if (context)
    {
      ARRAY_GROW (ev->contexts, ev->ncontexts + 1, ev->calloc);
      ev->contexts[ev->ncontexts++] = xstrdup (context);
    }
  return rc;
}

void
evict_finish (struct evict *ev)
{
  for (size_t i = 0; i < ev->nimages; i++)
    {
      const char *rmi[] = { "docker", "image", "rm", ev->images[i], NULL };
      struct strbuf ignore = STRBUF_INIT;
      docker_run (rmi, NULL, &ignore);
      strbuf_release (&ignore);
      free (ev->images[i]);
    }
  for (size_t i = 0; i < ev->ncontexts; i++)
    {
      const char *rm[] = { "rm", "-rf", ev->contexts[i], NULL };
      struct run_opts o = { rm, NULL, NULL, NULL, NULL, 1 };
      run_command (&o);
      free (ev->contexts[i]);
    }
  free (ev->images);
  free (ev->contexts);
  ev->images = ev->contexts = NULL;
  ev->nimages = ev->ncontexts = 0;
}
