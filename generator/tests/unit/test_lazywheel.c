/* test_lazywheel.c: METADATA out of a wheel through byte ranges (lazywheel.c), over zips written
   by libarchive in memory: deflated and stored members, a zip comment holding a false end
   record, ZIP64 end records, a nested METADATA that is not the wheel's, broken directories. */
#include "check.h"
#include "lazywheel.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

static const char metadata[] = "Metadata-Version: 2.4\nName: torch\nVersion: 9.9.0\n"
                               "Requires-Dist: nvidia-cudnn-cu13==9.20.0.48; platform_system == \"Linux\"\n\n";

struct member
{
  const char *name;
  const char *data;
  size_t size;
};

/* A zip of `members` in memory, through libarchive's zip writer (compression: "store"/"deflate"). */
static unsigned char *
make_zip (const struct member *m, size_t n, const char *compression, size_t *size)
{
  size_t cap = 4u << 20, used = 0;
  unsigned char *buf = malloc (cap);
  struct archive *a = archive_write_new ();
  archive_write_set_format_zip (a);
  archive_write_set_format_option (a, "zip", "compression", compression);
  archive_write_open_memory (a, buf, cap, &used);
  for (size_t i = 0; i < n; i++)
    {
      struct archive_entry *e = archive_entry_new ();
      archive_entry_set_pathname (e, m[i].name);
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_perm (e, 0644);
      archive_entry_set_size (e, (la_int64_t) m[i].size);
      archive_write_header (a, e);
      archive_write_data (a, m[i].data, m[i].size);
      archive_entry_free (e);
    }
  archive_write_close (a);
  archive_write_free (a);
  *size = used;
  return buf;
}

static size_t
find_eocd (const unsigned char *z, size_t n)
{
  for (size_t i = n - 22 + 1; i-- > 0;)
    if (memcmp (z + i, "PK\5\6", 4) == 0)
      return i;
  return (size_t) -1;
}

static void
put16 (unsigned char *p, unsigned v)
{
  p[0] = (unsigned char) v;
  p[1] = (unsigned char) (v >> 8);
}

static void
put32 (unsigned char *p, uint32_t v)
{
  put16 (p, v & 0xffff);
  put16 (p + 2, v >> 16);
}

static void
put64 (unsigned char *p, uint64_t v)
{
  put32 (p, (uint32_t) v);
  put32 (p + 4, (uint32_t) (v >> 32));
}

static int
read_meta (const unsigned char *z, size_t n, struct strbuf *out, struct strbuf *err)
{
  strbuf_reset (out);
  strbuf_reset (err);
  return lazy_wheel_metadata_memory (z, n, out, err);
}

int
main (void)
{
  /* A member bigger than the 64 KiB tail before METADATA, and one after it: the directory is in
     the tail, METADATA is not, so three reads and the member's extent ends at the next member. */
  size_t big = 200000;
  char *noise = malloc (big);
  uint32_t seed = 2463534242u; /* xorshift32: bytes deflate cannot shrink */
  for (size_t i = 0; i < big; i++)
    {
      seed ^= seed << 13;
      seed ^= seed >> 17;
      seed ^= seed << 5;
      noise[i] = (char) seed;
    }
  struct member ms[] = {
    { "torch/__init__.py", "import os\n", 10 },
    { "torch-9.9.0.dist-info/METADATA", metadata, sizeof metadata - 1 },
    { "torch/lib/libtorch.so", noise, big },
    { "torch-9.9.0.dist-info/RECORD", "x,,\n", 4 },
  };
  struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
  const char *modes[] = { "deflate", "store" };
  for (size_t k = 0; k < 2; k++)
    {
      size_t n;
      unsigned char *z = make_zip (ms, 4, modes[k], &n);
      CHECK (n > 65536);
      CHECK_INT (read_meta (z, n, &out, &err), 0);
      CHECK_STR (out.buf, metadata);
      CHECK_STR (err.buf, "");

      /* A zip comment that holds an end record signature of its own: the real record is the
         one whose comment reaches the end of the file. */
      size_t e = find_eocd (z, n);
      unsigned char *c = malloc (n + 40);
      memcpy (c, z, n);
      memcpy (c + n, "comment PK\5\6 with a false end record!!!", 40);
      put16 (c + e + 20, 40);
      CHECK_INT (read_meta (c, n + 40, &out, &err), 0);
      CHECK_STR (out.buf, metadata);

      /* ZIP64: the 32-bit fields say "see the ZIP64 record" (APPNOTE 4.4.1.4). */
      uint64_t cd_size = (uint64_t) z[e + 12] | (uint64_t) z[e + 13] << 8 | (uint64_t) z[e + 14] << 16
                         | (uint64_t) z[e + 15] << 24;
      uint64_t cd_off = (uint64_t) z[e + 16] | (uint64_t) z[e + 17] << 8 | (uint64_t) z[e + 18] << 16
                        | (uint64_t) z[e + 19] << 24;
      unsigned char *x = malloc (n + 56 + 20);
      memcpy (x, z, e);
      unsigned char *r = x + e;
      put32 (r, 0x06064b50u);
      put64 (r + 4, 44);
      put16 (r + 12, 45);
      put16 (r + 14, 45);
      put32 (r + 16, 0);
      put32 (r + 20, 0);
      put64 (r + 24, 4);
      put64 (r + 32, 4);
      put64 (r + 40, cd_size);
      put64 (r + 48, cd_off);
      unsigned char *l = r + 56;
      put32 (l, 0x07064b50u);
      put32 (l + 4, 0);
      put64 (l + 8, e);
      put32 (l + 16, 1);
      unsigned char *end = l + 20;
      memcpy (end, z + e, 22);
      put16 (end + 8, 0xffff);
      put16 (end + 10, 0xffff);
      put32 (end + 12, 0xffffffffu);
      put32 (end + 16, 0xffffffffu);
      CHECK_INT (read_meta (x, e + 56 + 20 + 22, &out, &err), 0);
      CHECK_STR (out.buf, metadata);

      /* A locator pointing at garbage. */
      put64 (l + 8, 7);
      CHECK_INT (read_meta (x, e + 56 + 20 + 22, &out, &err), -1);
      CHECK_CONTAINS (err.buf, "zip64 end of central directory record at 7");

      /* The directory cut short: its entry count says 5. */
      memcpy (c, z, n);
      put16 (c + e + 10, 5);
      put16 (c + e + 8, 5);
      CHECK_INT (read_meta (c, n, &out, &err), -1);
      CHECK_CONTAINS (err.buf, "central directory entry 4");

      /* The directory's offset outside the file. */
      memcpy (c, z, n);
      put32 (c + e + 16, (uint32_t) n);
      CHECK_INT (read_meta (c, n, &out, &err), -1);
      CHECK_CONTAINS (err.buf, "outside the file");

      /* A local header that is not one (METADATA's data overwritten at its header). */
      memcpy (c, z, n);
      const char *mh = memmem (c, n, "PK\3\4", 4);
      mh = memmem (mh + 4, n - (size_t) (mh + 4 - (char *) c), "PK\3\4", 4); /* the 2nd member: METADATA */
      memset ((char *) mh, 'x', 4);
      CHECK_INT (read_meta (c, n, &out, &err), -1);
      CHECK_CONTAINS (err.buf, "no local file header");
      free (x);
      free (c);
      free (z);
    }

  /* Not a zip at all; too short for an end record. */
  CHECK_INT (read_meta ((const unsigned char *) "hello", 5, &out, &err), -1);
  CHECK_CONTAINS (err.buf, "not a zip file");
  char zeros[1000] = { 0 };
  CHECK_INT (read_meta ((const unsigned char *) zeros, sizeof zeros, &out, &err), -1);
  CHECK_CONTAINS (err.buf, "no end of central directory record");

  /* Only a nested METADATA (a vendored package's): not the wheel's. */
  struct member nested[] = { { "torch/_vendor/x-1.0.dist-info/METADATA", metadata, sizeof metadata - 1 },
                             { "torch/__init__.py", "", 0 } };
  size_t n;
  unsigned char *z = make_zip (nested, 2, "deflate", &n);
  CHECK_INT (read_meta (z, n, &out, &err), -1);
  CHECK_CONTAINS (err.buf, "no .dist-info/METADATA among the wheel's 2 members");
  free (z);

  /* Small wheel: all of it in the tail, one request. */
  z = make_zip (ms, 2, "deflate", &n);
  CHECK_INT (read_meta (z, n, &out, &err), 0);
  CHECK_STR (out.buf, metadata);
  free (z);

  free (noise);
  strbuf_release (&out);
  strbuf_release (&err);
  return check_summary ("lazywheel");
}
