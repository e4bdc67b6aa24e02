/* test_gzip.c: the compressed layer blobs (blob_gzip.h) and the push manifest (push_image.h).
   The gzip bytes must be a function of the input alone: the same input compressed twice, at
   different times and to different file names, gives the same sha256; the header carries no
   name and no time (RFC 1952: FLG 0, MTIME bytes 4-7 zero, XFL 0, OS 255); the bytes inflate
   back to the input; a fixed input hashes to a pinned sha256 (a zlib whose deflate output
   differs would change every published digest: this test is where it shows). The cache
   (CACHE/layers/gz) serves a second call without compressing; gz_layers fills every slot on
   two threads. */
#include "blob_gzip.h"
#include "check.h"
#include "fsutil.h"
#include "push_image.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char dir[] = "/tmp/pcgen-test-gzip.XXXXXX";

/* 3 MB of text that compresses, the same on every run. */
static char *
sample (size_t *n)
{
  struct strbuf sb = STRBUF_INIT;
  for (unsigned i = 0; sb.len < 3u << 20; i++)
    strbuf_addf (&sb, "line %u of a layer: usr/lib/python3/dist-packages/torch/lib/libtorch_%u.so\n", i, i % 97);
  return strbuf_detach (&sb, n);
}

static char *
slurp (const char *path, size_t *n)
{
  struct strbuf sb = STRBUF_INIT;
  if (strbuf_read_file (&sb, path, 1u << 30) < 0)
    return NULL;
  return strbuf_detach (&sb, n);
}

static void
test_deterministic (void)
{
  size_t n;
  char *data = sample (&n);
  char *src = xasprintf ("%s/layer.tar", dir), *a = xasprintf ("%s/a.gz", dir), *b = xasprintf ("%s/other-name.gz", dir);
  CHECK_INT (write_file_atomic (src, data, n, 0644), 0);
  char sa[SHA256_HEX_LEN + 1], sb_[SHA256_HEX_LEN + 1];
  unsigned long long za, zb;
  struct strbuf err = STRBUF_INIT;
  CHECK_INT (gz_compress_file (src, a, sa, &za, &err), 0);
  sleep (1); /* a different second: gzip(1) would put it in MTIME */
  CHECK_INT (gz_compress_file (src, b, sb_, &zb, &err), 0);
  CHECK_STR (sa, sb_);
  CHECK_INT (za, zb);
  CHECK (za < n / 4);
  /* Pinned: zlib 1.2.13 (Debian bookworm), level 6. */
  CHECK_STR (sa, "532567358ad5ef098702fd238bd1b5c7ad455986de543d3a2f45ffb8078101ca");
  size_t gn;
  unsigned char *gz = (unsigned char *) slurp (a, &gn);
  CHECK_INT (gn, za);
  static const unsigned char head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff };
  CHECK (gz && memcmp (gz, head, 10) == 0);
  CHECK_INT (gz[3], 0);                           /* FLG: no FNAME, FCOMMENT, FEXTRA */
  CHECK (gz[4] == 0 && gz[5] == 0 && gz[6] == 0 && gz[7] == 0); /* MTIME */
  CHECK_INT (gz[8], 0);                           /* XFL */
  CHECK_INT (gz[9], 255);                         /* OS: unknown */
  /* It inflates back (windowBits 31: a gzip stream, its CRC and ISIZE checked by zlib). */
  z_stream z;
  memset (&z, 0, sizeof z);
  char *back = xmalloc (n + 16);
  CHECK_INT (inflateInit2 (&z, 31), Z_OK);
  z.next_in = gz;
  z.avail_in = (uInt) gn;
  z.next_out = (unsigned char *) back;
  z.avail_out = (uInt) n + 16;
  CHECK_INT (inflate (&z, Z_FINISH), Z_STREAM_END);
  CHECK_INT (z.total_out, n);
  CHECK (memcmp (back, data, n) == 0);
  inflateEnd (&z);
  /* An empty input is a valid gzip stream too. */
  char *empty = xasprintf ("%s/empty.tar", dir), *eg = xasprintf ("%s/empty.gz", dir);
  CHECK_INT (write_file_atomic (empty, "", 0, 0644), 0);
  CHECK_INT (gz_compress_file (empty, eg, sa, &za, &err), 0);
  CHECK_INT (za, 20);
  /* A missing input: an error naming it. */
  CHECK_INT (gz_compress_file ("/nonexistent/x.tar", eg, sa, &za, &err), -1);
  CHECK (strstr (err.buf, "/nonexistent/x.tar") != NULL);
  strbuf_release (&err);
  free (back);
  free (gz);
  free (data);
  free (src);
  free (a);
  free (b);
  free (empty);
  free (eg);
}

static void
test_cache (void)
{
  char *cache = xasprintf ("%s/cache", dir);
  setenv ("PCGEN_CACHE", cache, 1);
  size_t n;
  char *data = sample (&n);
  char *t1 = xasprintf ("%s/t1.tar", dir), *t2 = xasprintf ("%s/t2.tar", dir), *t3 = xasprintf ("%s/t3.tar", dir);
  CHECK_INT (write_file_atomic (t1, data, n, 0644), 0);
  CHECK_INT (write_file_atomic (t2, data, n / 2, 0644), 0);
  CHECK_INT (write_file_atomic (t3, "x", 1, 0644), 0);
  char s1[SHA256_HEX_LEN + 1], s2[SHA256_HEX_LEN + 1], s3[SHA256_HEX_LEN + 1];
  unsigned long long z;
  CHECK_INT (sha256_file (t1, s1, &z), 0);
  CHECK_INT (sha256_file (t2, s2, &z), 0);
  CHECK_INT (sha256_file (t3, s3, &z), 0);
  const char *shas[] = { s1, s2, s3 }, *paths[] = { t1, t2, t3 };
  struct gz_blob out[3];
  struct strbuf err = STRBUF_INIT;
  CHECK_INT (gz_layers (shas, paths, 3, 2, out, &err), 0);
  for (int i = 0; i < 3; i++)
    {
      char sha[SHA256_HEX_LEN + 1];
      unsigned long long size = 0;
      CHECK (out[i].path != NULL && sha256_file (out[i].path, sha, &size) == 0);
      CHECK_STR (sha, out[i].sha);
      CHECK_INT (size, out[i].size);
      char *want = xasprintf ("%s/layers/gz/%s.tar.gz", cache, out[i].sha);
      CHECK_STR (out[i].path, want);
      free (want);
    }
  /* Cached: served from the sidecar even when the tar is gone. */
  unlink (t1);
  struct gz_blob again;
  CHECK_INT (gz_layer (s1, t1, &again, &err), 0);
  CHECK_STR (again.sha, out[0].sha);
  gz_blob_release (&again);
  /* A blob of the wrong size is not trusted: made again (and here, with the tar gone, fails). */
  truncate (out[0].path, 10);
  CHECK_INT (gz_layer (s1, t1, &again, &err), -1);
  CHECK (strstr (err.buf, "t1.tar") != NULL);
  strbuf_reset (&err);
  CHECK_INT (gz_layer ("../x", t1, &again, &err), -1);
  for (int i = 0; i < 3; i++)
    gz_blob_release (&out[i]);
  strbuf_release (&err);
  free (data);
  free (t1);
  free (t2);
  free (t3);
  free (cache);
}

static void
test_manifest (void)
{
  struct push_blob cfg = { "", 1234, NULL }, layers[2] = { { "", 10, NULL }, { "", 20, NULL } };
  memset (cfg.sha, 'c', SHA256_HEX_LEN);
  memset (layers[0].sha, '1', SHA256_HEX_LEN);
  memset (layers[1].sha, '2', SHA256_HEX_LEN);
  char *m = push_manifest_json (&cfg, layers, 2);
  char *c64 = xasprintf ("%.64s", "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
  char *want = xasprintf ("{\"config\":{\"digest\":\"sha256:%s\",\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                          "\"size\":1234},\"layers\":[{\"digest\":\"sha256:%.64s\",\"mediaType\":\"application/vnd.oci.image.layer."
                          "v1.tar+gzip\",\"size\":10},{\"digest\":\"sha256:%.64s\",\"mediaType\":\"application/vnd.oci.image."
                          "layer.v1.tar+gzip\",\"size\":20}],\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                          "\"schemaVersion\":2}",
                          c64, layers[0].sha, layers[1].sha);
  CHECK_STR (m, want);
  free (m);
  free (want);
  free (c64);
}

int
main (void)
{
  if (mkdtemp (dir) == NULL)
    return 1;
  test_deterministic ();
  test_cache ();
  test_manifest ();
  return check_summary_in ("gzip", dir);
}
