/* engine_layers.c: see engine_layers.h. */
#include "engine_layers.h"
#include "blob_gzip.h"
#include "docker.h"
#include "fsutil.h"
#include "oci.h"
#include "run.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A layer's tar while it is taken: its blob's name and this, then mkstemp's six letters. */
#define TAKE_SUFFIX ".engine-"

struct wanted
{
  const struct oci_layer *layer;
  int done;
};

struct save_read
{
  struct wanted *w;
  size_t n, left;
  struct strbuf *err;
  int ours; /* the failure is ours (a file not written, not compressed), not the stream's */
};

/* The entry's data into a new file next to l's blob, hashed as written; compressed when its
   sha256 is the layer's. Returns 1 when it was the layer, 0 when not (another of that size), -1
   with err (*ours set when a file could not be made, written or compressed). */
static int
take_entry (struct archive *a, const struct oci_layer *l, struct strbuf *err, int *ours)
{
  cleanup_free char *tmp = xasprintf ("%s" TAKE_SUFFIX "XXXXXX", l->path);
  int fd = mkstemp (tmp);
  if (fd < 0)
    return *ours = 1, strbuf_addf (err, "cannot make '%s': %s", tmp, strerror (errno)), -1;
  EVP_MD_CTX *md = EVP_MD_CTX_new ();
  EVP_DigestInit_ex (md, EVP_sha256 (), NULL);
  const void *buf;
  size_t size;
  la_int64_t off;
  int r, rc = 0;
  while ((r = archive_read_data_block (a, &buf, &size, &off)) == ARCHIVE_OK)
    {
      if (write_all (fd, buf, size) < 0)
        {
          rc = -1, *ours = 1, strbuf_addf (err, "cannot write '%s': %s", tmp, strerror (errno));
          break;
        }
      EVP_DigestUpdate (md, buf, size);
    }
  if (rc == 0 && r != ARCHIVE_EOF)
    rc = -1, strbuf_addf (err, "docker save's stream: %s", archive_error_string (a));
  if (close (fd) < 0 && rc == 0)
    rc = -1, *ours = 1, strbuf_addf (err, "cannot write '%s': %s", tmp, strerror (errno));
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  EVP_DigestFinal_ex (md, d, &dlen);
  EVP_MD_CTX_free (md);
  char hex[SHA256_HEX_LEN + 1];
  digest_to_hex (d, dlen == 32 ? dlen : 0, hex);
  if (rc == 0 && streq (hex, l->digest))
    {
      struct gz_blob gz;
      rc = gz_layer (l->digest, tmp, &gz, err) < 0 ? (*ours = 1, -1) : 1;
      gz_blob_release (&gz);
    }
  unlink (tmp);
  return rc;
}

/* run_drain's reader: docker save's tar, each regular entry of a wanted layer's size tried. */
static int
read_save (int fd, void *ctx)
{
  struct save_read *s = ctx;
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  struct archive_entry *ae;
  int rc = 0;
  if (archive_read_open_fd (a, fd, 1 << 20) != ARCHIVE_OK)
    rc = -1, strbuf_addf (s->err, "docker save's stream: %s", archive_error_string (a));
  while (rc == 0 && s->left && archive_read_next_header (a, &ae) == ARCHIVE_OK)
    {
      size_t i = s->n;
      if (archive_entry_filetype (ae) == AE_IFREG)
        for (i = 0; i < s->n; i++)
          if (!s->w[i].done && (unsigned long long) archive_entry_size (ae) == s->w[i].layer->size)
            break;
      if (i == s->n)
        continue; /* libarchive skips the data at the next header */
      int t = take_entry (a, s->w[i].layer, s->err, &s->ours);
      if (t < 0)
        rc = -1;
      else if (t > 0)
        s->w[i].done = 1, s->left--;
    }
  archive_read_free (a);
  return rc;
}

/* The temporaries of a take that was interrupted (a signal, a full disk): up to a layer's size
   each, in the layout's own blobs folder, removed before anything else is taken. */
static void
remove_stale (const char *dir)
{
  cleanup_free char *blobs = xasprintf ("%s/blobs/sha256", dir);
  DIR *d = opendir (blobs);
  if (d == NULL)
    return;
  for (struct dirent *e; (e = readdir (d)) != NULL;)
    if (strstr (e->d_name, TAKE_SUFFIX) != NULL)
      unlinkat (dirfd (d), e->d_name, 0);
  closedir (d);
}

int
engine_gz_layers (const char *dir, const char *image_id, struct strbuf *err)
{
  remove_stale (dir);
  struct oci_image img;
  if (oci_image_load (&img, dir, err) < 0)
    return -1;
  struct wanted *w = xcalloc (img.nlayers + 1, sizeof *w);
  size_t n = 0;
  for (size_t i = 0; i < img.nlayers; i++)
    {
      int dup = 0;
      for (size_t j = 0; j < n; j++)
        dup |= streq (w[j].layer->digest, img.layers[i].digest);
      if (!dup && access (img.layers[i].path, R_OK) != 0 && !gz_layer_cached (img.layers[i].digest))
        w[n++].layer = &img.layers[i];
    }
  int rc = 0;
  if (n)
    {
      struct strbuf why = STRBUF_INIT, said = STRBUF_INIT;
      struct save_read s = { w, n, n, &why, 0 };
      const char *argv[] = { docker_bin (), "save", image_id, NULL };
      int drained = 0;
      int st = run_drain (argv, read_save, &s, &drained, &said);
      /* What failed first: a file of ours; else docker (whose stream then ends early or empty,
         which libarchive reports as a bad archive); else the stream itself; else a layer the
         whole stream lacked. */
      rc = -1;
      if (drained < 0 && s.ours)
        strbuf_add (err, why.buf, why.len);
      else if (st < 0)
        strbuf_addf (err, "cannot run docker save: %s", strerror (errno));
      else if (st != 0 && s.left)
        strbuf_addf (err, "docker save %.19s failed (exit %d): %s", image_id, st, said.buf);
      else if (drained < 0)
        strbuf_add (err, why.buf, why.len);
      else if (s.left)
        for (size_t i = 0; i < n; i++)
          {
            if (!w[i].done)
              {
                strbuf_addf (err,
                             "the engine's image %.19s has no layer %.19s of %llu bytes (docker save): build the tag "
                             "again without --lean",
                             image_id, w[i].layer->digest, w[i].layer->size);
                break;
              }
          }
      else
        rc = 0;
      strbuf_release (&why);
      strbuf_release (&said);
    }
  free (w);
  oci_image_release (&img);
  return rc < 0 ? -1 : (int) n;
}
