/* lazywheel.c: see lazywheel.h. Offsets and layouts: PKWARE APPNOTE.TXT 6.3.x, sections 4.3.7
   (local file header), 4.3.12 (central directory header), 4.3.14-4.3.16 (ZIP64 end of central
   directory record and locator, end of central directory record), 4.5.3 (ZIP64 extra field). */
#include "lazywheel.h"
#include "byteorder.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define EOCD_LEN 22
#define LOCATOR64_LEN 20
#define EOCD64_LEN 56
#define CENTRAL_LEN 46
#define LOCAL_LEN 30

/* What one tail request fetches: the end record (22 bytes + a comment of up to 64 KiB) fits,
   and so does a small wheel's whole directory. */
#define TAIL_LEN 65536
/* Caps against a hostile or broken index: torch's directory is ~1.3 MB, its METADATA ~15 kB. */
#define MAX_DIR (64u << 20)
#define MAX_MEMBER (16u << 20)
#define READ_SLACK 64

int
zip_find_dir (const unsigned char *tail, size_t n, uint64_t tail_off, uint64_t size, struct zip_dir *dir,
              struct strbuf *err)
{
  /* The end record is the last thing in the file but for its comment: search backwards for a
     signature whose comment length reaches exactly the end (a signature inside the comment does
     not). */
  if (n < EOCD_LEN)
    return strbuf_addf (err, "not a zip file: %zu bytes, no end of central directory record", n), -1;
  size_t at = n - EOCD_LEN + 1, found = (size_t) -1;
  while (at-- > 0)
    if (le32 (tail + at) == SIG_EOCD && at + EOCD_LEN + le16 (tail + at + 20) == n)
      {
        found = at;
        break;
      }
  if (found == (size_t) -1)
    return strbuf_addstr (err, "not a zip file: no end of central directory record in its last 64 KiB"), -1;
  const unsigned char *e = tail + found;
  dir->entries = le16 (e + 10);
  dir->size = le32 (e + 12);
  dir->offset = le32 (e + 16);
  if (le16 (e + 4) != 0 || le16 (e + 6) != 0)
    return strbuf_addstr (err, "a zip file on several disks is not a wheel"), -1;
  if (found >= LOCATOR64_LEN && le32 (e - LOCATOR64_LEN) == SIG_LOCATOR64)
    {
      uint64_t off64 = le64 (e - LOCATOR64_LEN + 8);
      if (n < EOCD64_LEN || off64 < tail_off || off64 - tail_off > n - EOCD64_LEN)
        return strbuf_addf (err, "zip64 end of central directory record at %llu is not in the last %zu bytes",
                            (unsigned long long) off64, n), -1;
      const unsigned char *z = tail + (off64 - tail_off);
      if (le32 (z) != SIG_EOCD64)
        return strbuf_addf (err, "no zip64 end of central directory record at %llu", (unsigned long long) off64), -1;
      dir->entries = le64 (z + 32);
      dir->size = le64 (z + 40);
      dir->offset = le64 (z + 48);
    }
  if (dir->offset > size || dir->size > size - dir->offset)
    return strbuf_addf (err, "central directory at %llu+%llu is outside the file's %llu bytes",
                        (unsigned long long) dir->offset, (unsigned long long) dir->size, (unsigned long long) size), -1;
  return 0;
}

/* `x.dist-info/METADATA` with one '/' and a non-empty name before ".dist-info". */
static int
is_metadata (const unsigned char *name, size_t len)
{
  static const char want[] = ".dist-info/METADATA";
  size_t w = sizeof want - 1;
  if (len <= w || memcmp (name + len - w, want, w) != 0)
    return 0;
  return memchr (name, '/', len - w) == NULL && memchr (name, '\0', len) == NULL;
}

void
zip_member_release (struct zip_member *m)
{
  free (m->name);
  memset (m, 0, sizeof *m);
}

int
zip_find_metadata (const unsigned char *cd, size_t n, const struct zip_dir *dir, struct zip_member *m,
                   struct strbuf *err)
{
  memset (m, 0, sizeof *m);
  int found = 0;
  uint64_t next = dir->offset; /* the first member after METADATA's, else the directory */
  uint64_t *offsets = NULL;
  size_t noff = 0, alloc = 0;
  size_t p = 0;
  for (uint64_t i = 0; i < dir->entries; i++)
    {
      if (n - p < CENTRAL_LEN || le32 (cd + p) != SIG_CENTRAL)
        {
          free (offsets);
          zip_member_release (m);
          return strbuf_addf (err, "central directory entry %llu at %llu: no central file header signature",
                              (unsigned long long) i, (unsigned long long) (dir->offset + p)), -1;
        }
      const unsigned char *h = cd + p;
      size_t name_len = le16 (h + 28), extra_len = le16 (h + 30), comment_len = le16 (h + 32);
      if (n - p - CENTRAL_LEN < name_len + extra_len + comment_len)
        {
          free (offsets);
          zip_member_release (m);
          return strbuf_addf (err, "central directory entry %llu runs past the directory's end",
                              (unsigned long long) i), -1;
        }
      uint64_t csize = le32 (h + 20), usize = le32 (h + 24), off = le32 (h + 42);
      /* ZIP64 extended information (0x0001): the 8-byte values present are those whose
         32-bit field is 0xFFFFFFFF, in the order uncompressed, compressed, offset (4.5.3). */
      const unsigned char *x = h + CENTRAL_LEN + name_len, *xend = x + extra_len;
      while (xend - x >= 4)
        {
          unsigned id = le16 (x), len = le16 (x + 2);
          if ((size_t) (xend - x - 4) < len)
            break;
          if (id == 0x0001)
            {
              const unsigned char *v = x + 4, *vend = v + len;
              if (usize == 0xFFFFFFFFu && vend - v >= 8)
                v += 8;
              if (csize == 0xFFFFFFFFu && vend - v >= 8)
                csize = le64 (v), v += 8;
              if (off == 0xFFFFFFFFu && vend - v >= 8)
                off = le64 (v);
            }
          x += 4 + len;
        }
      ARRAY_GROW (offsets, noff + 1, alloc);
      offsets[noff++] = off;
      if (!found && is_metadata (h + CENTRAL_LEN, name_len))
        {
          found = 1;
          m->name = xstrndup ((const char *) h + CENTRAL_LEN, name_len);
          m->local_offset = off;
          m->compressed_size = csize;
          m->method = le16 (h + 10);
        }
      p += CENTRAL_LEN + name_len + extra_len + comment_len;
    }
  if (!found)
    {
      free (offsets);
      return strbuf_addf (err, "no .dist-info/METADATA among the wheel's %llu members", (unsigned long long) dir->entries),
             -1;
    }
  for (size_t i = 0; i < noff; i++)
    if (offsets[i] > m->local_offset && offsets[i] < next)
      next = offsets[i];
  free (offsets);
  if (m->local_offset >= next || (m->method != 0 && m->method != 8))
    {
      strbuf_addf (err, "%s: member at %llu (method %u) is not a readable member before the directory", m->name,
                   (unsigned long long) m->local_offset, m->method);
      zip_member_release (m);
      return -1;
    }
  m->extent = next - m->local_offset;
  if (m->extent > MAX_MEMBER || m->compressed_size > m->extent)
    {
      strbuf_addf (err, "%s: %llu bytes at %llu, more than a METADATA file can be", m->name,
                   (unsigned long long) m->extent, (unsigned long long) m->local_offset);
      zip_member_release (m);
      return -1;
    }
  return 0;
}

int
zip_extract (const unsigned char *buf, size_t n, const struct zip_member *m, struct strbuf *out, struct strbuf *err)
{
  if (n < LOCAL_LEN || le32 (buf) != SIG_LOCAL)
    return strbuf_addf (err, "%s: no local file header at %llu", m->name, (unsigned long long) m->local_offset), -1;
  /* libarchive's streaming zip reader over just this member: it inflates, checks the CRC-32 and
     reads a data descriptor when the header defers the sizes (flag bit 3). */
  struct archive *a = archive_read_new ();
  archive_read_support_format_zip_streamable (a);
  int rc = -1;
  struct archive_entry *ae;
  if (archive_read_open_memory (a, buf, n) != ARCHIVE_OK || archive_read_next_header (a, &ae) < ARCHIVE_WARN)
    strbuf_addf (err, "%s: %s", m->name, archive_error_string (a));
  else if (!streq (archive_entry_pathname (ae), m->name))
    strbuf_addf (err, "%s: the local header at %llu names '%s'", m->name, (unsigned long long) m->local_offset,
                 archive_entry_pathname (ae) ? archive_entry_pathname (ae) : "");
  else
    {
      char chunk[16384];
      la_ssize_t r;
      size_t total = 0;
      while ((r = archive_read_data (a, chunk, sizeof chunk)) > 0 && total <= MAX_MEMBER)
        {
          strbuf_add (out, chunk, (size_t) r);
          total += (size_t) r;
        }
      if (r < 0)
        strbuf_addf (err, "%s: %s", m->name, archive_error_string (a));
      else if (total > MAX_MEMBER)
        strbuf_addf (err, "%s: more than %u bytes uncompressed", m->name, MAX_MEMBER);
      else
        rc = 0;
    }
  archive_read_free (a);
  return rc;
}

int
lazy_wheel_metadata (struct range_source *src, struct strbuf *out, struct strbuf *err)
{
  struct strbuf tail = STRBUF_INIT, cd = STRBUF_INIT, member = STRBUF_INIT;
  struct zip_dir dir;
  struct zip_member m = { 0 };
  uint64_t size = 0;
  src->requests++;
  int rc = src->tail (src->ctx, TAIL_LEN, &tail, &size, err);
  if (rc != 0)
    goto done;
  uint64_t tail_off = size - tail.len;
  rc = -1;
  if (tail.len > size || zip_find_dir ((const unsigned char *) tail.buf, tail.len, tail_off, size, &dir, err) < 0)
    goto done;
  if (dir.size > MAX_DIR)
    {
      strbuf_addf (err, "central directory of %llu bytes: more than %u", (unsigned long long) dir.size, MAX_DIR);
      goto done;
    }
  const unsigned char *cdp;
  if (dir.offset >= tail_off)
    cdp = (const unsigned char *) tail.buf + (dir.offset - tail_off);
  else
    {
      src->requests++;
      if ((rc = src->read (src->ctx, dir.offset, (size_t) dir.size, &cd, err)) != 0)
        goto done;
      rc = -1;
      cdp = (const unsigned char *) cd.buf;
    }
  if (zip_find_metadata (cdp, (size_t) dir.size, &dir, &m, err) < 0)
    goto done;
  /* libarchive's streaming reader looks past a member's data for its data descriptor (up to
     24 bytes, APPNOTE 4.3.9): read a little of what follows (the next header or the directory). */
  uint64_t want = m.extent + READ_SLACK;
  if (want > size - m.local_offset)
    want = size - m.local_offset;
  const unsigned char *mp;
  if (m.local_offset >= tail_off)
    mp = (const unsigned char *) tail.buf + (m.local_offset - tail_off);
  else
    {
      src->requests++;
      if ((rc = src->read (src->ctx, m.local_offset, (size_t) want, &member, err)) != 0)
        goto done;
      rc = -1;
      mp = (const unsigned char *) member.buf;
    }
  rc = zip_extract (mp, (size_t) want, &m, out, err);
done:
  if (rc < 0 && src->name)
    {
      struct strbuf msg = STRBUF_INIT;
      strbuf_addf (&msg, "%s: %s", src->name, err->buf);
      strbuf_reset (err);
      strbuf_addstr (err, msg.buf);
      strbuf_release (&msg);
    }
  zip_member_release (&m);
  strbuf_release (&tail);
  strbuf_release (&cd);
  strbuf_release (&member);
  return rc;
}

struct memory_source
{
  const unsigned char *p;
  size_t n;
};

static int
memory_tail (void *ctx, size_t len, struct strbuf *out, uint64_t *size, struct strbuf *err)
{
  (void) err;
  struct memory_source *s = ctx;
  size_t k = len < s->n ? len : s->n;
  strbuf_add (out, s->p + s->n - k, k);
  *size = s->n;
  return 0;
}

static int
memory_read (void *ctx, uint64_t off, size_t len, struct strbuf *out, struct strbuf *err)
{
  struct memory_source *s = ctx;
  if (off > s->n || len > s->n - off)
    return strbuf_addf (err, "bytes %llu-%llu are past the end (%zu bytes)", (unsigned long long) off,
                        (unsigned long long) (off + len), s->n), -1;
  strbuf_add (out, s->p + off, len);
  return 0;
}

int
lazy_wheel_metadata_memory (const void *data, size_t size, struct strbuf *out, struct strbuf *err)
{
  struct memory_source s = { data, size };
  struct range_source src = { memory_tail, memory_read, &s, NULL, 0 };
  return lazy_wheel_metadata (&src, out, err);
}
