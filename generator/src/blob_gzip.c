/* blob_gzip.c: see blob_gzip.h. */
#include "blob_gzip.h"
#include "cache.h"
#include "fsutil.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (1 << 20)

/* RFC 1952 section 2.3: ID1 ID2 CM=8 (deflate) FLG=0 (no name, comment, extra) MTIME=0 XFL=0
   OS=255. */
static const unsigned char gzip_head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff };

struct sink
{
  int fd;
  EVP_MD_CTX *md;
  unsigned long long size;
};

static int
sink_write (struct sink *s, const void *p, size_t n)
{
  if (write_all (s->fd, p, n) < 0)
    return -1;
  EVP_DigestUpdate (s->md, p, n);
  s->size += n;
  return 0;
}

int
gz_compress_file (const char *src, const char *dst, char sha[SHA256_HEX_LEN + 1], unsigned long long *size,
                  struct strbuf *err)
{
  int in = open (src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return strbuf_addf (err, "cannot open '%s': %s", src, strerror (errno)), -1;
  struct sink s = { open (dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), EVP_MD_CTX_new (), 0 };
  unsigned char *ibuf = xmalloc (CHUNK), *obuf = xmalloc (CHUNK);
  z_stream z;
  memset (&z, 0, sizeof z);
  int rc = -1, zok = 0;
  uLong crc = crc32 (0L, Z_NULL, 0), isize = 0;
  if (s.fd < 0)
    {
      strbuf_addf (err, "cannot create '%s': %s", dst, strerror (errno));
      goto out;
    }
  /* Raw deflate (windowBits -15): the header and trailer are ours. memLevel 8 and the default
     strategy are zlib's defaults; all three fix the output. */
  if (deflateInit2 (&z, GZ_LEVEL, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    {
      strbuf_addstr (err, "zlib: deflateInit2 failed");
      goto out;
    }
  zok = 1;
  EVP_DigestInit_ex (s.md, EVP_sha256 (), NULL);
  if (sink_write (&s, gzip_head, sizeof gzip_head) < 0)
    goto write_failed;
  int flush = Z_NO_FLUSH;
  while (flush != Z_FINISH)
    {
      ssize_t n = read (in, ibuf, CHUNK);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          strbuf_addf (err, "cannot read '%s': %s", src, strerror (errno));
          goto out;
        }
      crc = crc32 (crc, ibuf, (uInt) n);
      isize += (uLong) n;
      flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
      z.next_in = ibuf;
      z.avail_in = (uInt) n;
      do
        {
          z.next_out = obuf;
          z.avail_out = CHUNK;
          deflate (&z, flush); /* no error possible with a valid stream and progress to make */
          if (sink_write (&s, obuf, CHUNK - z.avail_out) < 0)
            goto write_failed;
        }
      while (z.avail_out == 0);
    }
  /* CRC32 and ISIZE (the input's length modulo 2^32), little-endian. */
  unsigned char trailer[8];
  for (int i = 0; i < 4; i++)
    {
      trailer[i] = (unsigned char) (crc >> (8 * i));
      trailer[4 + i] = (unsigned char) ((isize & 0xffffffffUL) >> (8 * i));
    }
  if (sink_write (&s, trailer, sizeof trailer) < 0)
    goto write_failed;
  if (close (s.fd) < 0)
    {
      s.fd = -1;
      goto write_failed;
    }
  s.fd = -1;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_DigestFinal_ex (s.md, md, &mdlen);
  digest_to_hex (md, mdlen, sha);
  *size = s.size;
  rc = 0;
  goto out;
write_failed:
  strbuf_addf (err, "cannot write '%s': %s", dst, strerror (errno));
out:
  if (zok)
    deflateEnd (&z);
  if (s.fd >= 0)
    close (s.fd);
  if (rc < 0)
    unlink (dst);
  EVP_MD_CTX_free (s.md);
  close (in);
  free (ibuf);
  free (obuf);
  return rc;
}

static char *
gz_dir (void)
{
  return xasprintf ("%s/layers/gz", cache_dir ());
}

/* The sidecar's entry, when it and its blob are there and agree. */
static int
gz_cached (const char *dir, const char *tar_sha, struct gz_blob *out)
{
  cleanup_free char *side = xasprintf ("%s/%s.json", dir, tar_sha);
  json_t *j = json_load_file (side, 0, NULL);
  const char *d = json_string_value (json_object_get (j, "digest"));
  json_int_t size = json_integer_value (json_object_get (j, "size"));
  int ok = 0;
  if (d && starts_with (d, "sha256:") && cache_valid_sha256 (d + 7)
      && streq (json_string_value (json_object_get (j, "tar")), tar_sha))
    {
      char *path = xasprintf ("%s/%s.tar.gz", dir, d + 7);
      struct stat st;
      if (stat (path, &st) == 0 && S_ISREG (st.st_mode) && (json_int_t) st.st_size == size)
        {
          snprintf (out->sha, sizeof out->sha, "%s", d + 7);
          out->size = (unsigned long long) size;
          out->path = path;
          ok = 1;
        }
      else
        free (path);
    }
  json_decref (j);
  return ok;
}

int
gz_layer_cached (const char *tar_sha)
{
  if (!cache_valid_sha256 (tar_sha))
    return 0;
  cleanup_free char *dir = gz_dir ();
  struct gz_blob b = { 0 };
  int ok = gz_cached (dir, tar_sha, &b);
  gz_blob_release (&b);
  return ok;
}

int
gz_layer (const char *tar_sha, const char *tar_path, struct gz_blob *out, struct strbuf *err)
{
  memset (out, 0, sizeof *out);
  if (!cache_valid_sha256 (tar_sha))
    return strbuf_addf (err, "'%s' is not a layer's sha256", tar_sha), -1;
  cleanup_free char *dir = gz_dir ();
  if (gz_cached (dir, tar_sha, out))
    return 0;
  if (mkdir_p (dir, 0755) < 0)
    return strbuf_addf (err, "cannot make '%s': %s", dir, strerror (errno)), -1;
  cleanup_free char *tmp = xasprintf ("%s/.tmp-%s.XXXXXX", dir, tar_sha);
  int fd = mkstemp (tmp);
  if (fd < 0)
    return strbuf_addf (err, "cannot make a file in '%s': %s", dir, strerror (errno)), -1;
  close (fd);
  if (gz_compress_file (tar_path, tmp, out->sha, &out->size, err) < 0)
    return -1;
  fchmodat (AT_FDCWD, tmp, 0644, 0);
  out->path = xasprintf ("%s/%s.tar.gz", dir, out->sha);
  /* Two processes compressing the same tar write the same bytes: either rename wins. */
  if (rename (tmp, out->path) < 0)
    {
      strbuf_addf (err, "cannot rename '%s' to '%s': %s", tmp, out->path, strerror (errno));
      unlink (tmp);
      gz_blob_release (out);
      return -1;
    }
  cleanup_free char *side = xasprintf ("%s/%s.json", dir, tar_sha);
  cleanup_free char *text = xasprintf ("{\"digest\":\"sha256:%s\",\"size\":%llu,\"tar\":\"%s\"}\n", out->sha, out->size,
                                       tar_sha);
  if (write_file_atomic (side, text, strlen (text), 0644) < 0)
    {
      strbuf_addf (err, "cannot write '%s': %s", side, strerror (errno));
      gz_blob_release (out);
      return -1;
    }
  return 0;
}

struct gz_work
{
  const char *const *sha, *const *path;
  size_t n, next;
  struct gz_blob *out;
  struct strbuf *errs;
  int *rc;
  pthread_mutex_t lock;
};

static void *
gz_worker (void *arg)
{
  struct gz_work *w = arg;
  while (1)
    {
      pthread_mutex_lock (&w->lock);
      size_t i = w->next++;
      pthread_mutex_unlock (&w->lock);
      if (i >= w->n)
        return NULL;
      w->rc[i] = gz_layer (w->sha[i], w->path[i], &w->out[i], &w->errs[i]);
    }
}

int
gz_layers (const char *const *tar_sha, const char *const *tar_path, size_t n, int jobs, struct gz_blob *out,
           struct strbuf *err)
{
  if (jobs <= 0)
    {
      long c = sysconf (_SC_NPROCESSORS_ONLN);
      jobs = c > 0 ? (int) c : 1;
    }
  if (jobs > 16)
    jobs = 16;
  if ((size_t) jobs > n)
    jobs = (int) n;
  struct gz_work w = { tar_sha, tar_path, n, 0, out, xcalloc (n + 1, sizeof (struct strbuf)), xcalloc (n + 1, sizeof (int)),
                       PTHREAD_MUTEX_INITIALIZER };
  for (size_t i = 0; i < n; i++)
    strbuf_init (&w.errs[i], 0);
  pthread_t th[16];
  int started = 0;
  for (int t = 1; t < jobs; t++)
    if (pthread_create (&th[started], NULL, gz_worker, &w) == 0)
      started++;
  gz_worker (&w); /* this thread is one of the workers */
  for (int t = 0; t < started; t++)
    pthread_join (th[t], NULL);
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (w.rc[i] < 0 && rc == 0)
        {
          strbuf_addf (err, "compressing layer %s: %s", tar_sha[i], w.errs[i].buf);
          rc = -1;
        }
      strbuf_release (&w.errs[i]);
    }
  free (w.errs);
  free (w.rc);
  pthread_mutex_destroy (&w.lock);
  return rc;
}

void
gz_blob_release (struct gz_blob *b)
{
  free (b->path);
  memset (b, 0, sizeof *b);
}
