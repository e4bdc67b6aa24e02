/* layer.c: deterministic layer tars from wheels and .deb packages, with libarchive (see layer.h).
   Sorting needs every path before the first byte is written, and wheels are too large to hold
   in memory (torch: 770 MB zipped, 2.5 GB unpacked): pass one reads each wheel once, maps its
   members through the rules and streams their data into one staging file; pass two writes the
   sorted entries, copying each member's bytes back from the staging file. */
#include "layer.h"
#include "byteorder.h"
#include "lazywheel.h"
#include "pip.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <libdeflate.h>
#include <openssl/evp.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1u << 20)

enum ekind
{
  E_DIR,
  E_FILE,
  E_LINK,
};

struct entry
{
  char *path;
  enum ekind kind;
  int mode;
  int uid, gid;          /* E_DIR from spec->dirs: its owner; 0 for everything else */
  int64_t size;
  off_t offset;          /* E_FILE: where its bytes are in the staging file */
  const char *content;   /* E_FILE from spec->files: inline bytes */
  const char *target;    /* E_LINK */
  int own_target;        /* E_LINK: target is this entry's (a link read from a package), to free */
  const char *origin;    /* the wheel (or "pcgen") it came from, for messages */
  /* E_FILE from a wheel read in place (read_wheel_direct): its bytes in the mapped wheel, stored
     (method 0) or deflated (8), inflated once, straight into the tar; size is what it unpacks to. */
  const unsigned char *zdata;
  uint64_t zsize;
  uint32_t zcrc;
  int zmethod;
};

struct job
{
  const struct layer_spec *spec;
  struct entry *v;
  size_t n, alloc;
  int staging; /* fd */
  off_t staged;
  struct strbuf *err;
  char *buf;
  /* The input being read: where its bytes start in staging, its size, and the most its
     members may unpack to (layer.h: LAYER_MAX_EXPANSION, LAYER_EXPAND_FLOOR). */
  off_t input_start;
  uint64_t archive_size, limit;
  /* A .deb's kept symlinks (indexes into v, with their member paths), checked once the whole
     package has been read. */
  struct pending_link
  {
    size_t entry;
    char *member;
  } * links;
  size_t nlinks, links_alloc;
  /* Wheels mapped for read_wheel_direct, unmapped by job_free. */
  struct mapping
  {
    void *p;
    size_t n;
  } * maps;
  size_t nmaps, maps_alloc;
  uint64_t direct;          /* bytes of the entries read in place */
  unsigned char *zbuf;      /* a member inflated whole */
  size_t zbuf_size;
  struct libdeflate_decompressor *inflater;
};

static int
fail_archive (struct job *j, struct archive *a, const char *what, const char *path)
{
  strbuf_addf (j->err, "%s '%s': %s", what, path, archive_error_string (a) ? archive_error_string (a) : "unknown error");
  return -1;
}

/* Refuse what could escape the image's root or confuse the layer. */
static int
safe_path (const char *p)
{
  if (*p == '/' || *p == '\0')
    return 0;
  for (const char *s = p; *s; s++)
    if (s[0] == '.' && s[1] == '.' && (s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
      return 0;
  return 1;
}

/* p without empty and "." components ("pkg//a.py", "pkg/./a.py" and "./pkg/a.py" are all
   "pkg/a.py"), so that two spellings of one path meet in the duplicate check. ".." is kept for
   safe_path to refuse; a leading '/' too. */
static char *
normalize_path (const char *p)
{
  struct strbuf sb = STRBUF_INIT;
  if (*p == '/')
    strbuf_addch (&sb, '/');
  while (*p)
    {
      while (*p == '/')
        p++;
      size_t n = strcspn (p, "/");
      if (n == 0 || (n == 1 && p[0] == '.'))
        {
          p += n;
          continue;
        }
      if (sb.len && sb.buf[sb.len - 1] != '/')
        strbuf_addch (&sb, '/');
      strbuf_add (&sb, p, n);
      p += n;
    }
  return strbuf_detach (&sb, NULL);
}

/* A .deb symlink's target, from where the link is (link, a normalized path relative to the
   root): the normalized path it names from the image's root (an absolute target from the root
   itself: Debian's -dev packages link libfoo.so -> /lib/x86_64-linux-gnu/libfoo.so.1), or NULL
   when it is empty or climbs above the root. */
static char *
resolve_link (const char *link, const char *target)
{
  if (target[0] == '\0')
    return NULL;
  const char *slash = strrchr (link, '/');
  cleanup_free char *joined = target[0] == '/' ? xstrdup (target + 1)
                              : slash          ? xasprintf ("%.*s/%s", (int) (slash - link), link, target)
                                               : xstrdup (target);
  cleanup_free char *norm = normalize_path (joined);
  /* Fold "a/.." pairs; one ".." more than folders above it leaves the root. */
  struct strbuf out = STRBUF_INIT;
  for (const char *c = norm; *c;)
    {
      size_t n = strcspn (c, "/");
      if (n == 2 && c[0] == '.' && c[1] == '.')
        {
          if (out.len == 0)
            {
              strbuf_release (&out);
              return NULL;
            }
          char *last = strrchr (out.buf, '/');
          out.len = last ? (size_t) (last - out.buf) : 0;
          out.buf[out.len] = '\0';
        }
      else
        {
          if (out.len)
            strbuf_addch (&out, '/');
          strbuf_add (&out, c, n);
        }
      c += n + (c[n] == '/');
    }
  return strbuf_detach (&out, NULL);
}

static struct entry *
add (struct job *j, char *path, enum ekind kind, const char *origin)
{
  ARRAY_GROW (j->v, j->n + 1, j->alloc);
  struct entry *e = &j->v[j->n++];
  memset (e, 0, sizeof *e);
  e->path = path;
  e->kind = kind;
  e->origin = origin;
  return e;
}

/* The target of a member, or NULL when no rule keeps it. */
static char *
map_path (const struct layer_input *in, const char *member)
{
  for (size_t i = 0; i < in->nrules; i++)
    {
      size_t n = strlen (in->rules[i].from);
      if (strncmp (member, in->rules[i].from, n) != 0)
        continue;
      if (in->rules[i].to == NULL)
        return NULL;
      return xasprintf ("%s%s", in->rules[i].to, member + n);
    }
  return NULL;
}

static uint64_t expand_floor = LAYER_EXPAND_FLOOR;

void
layer_set_expand_floor (uint64_t bytes)
{
  expand_floor = bytes ? bytes : LAYER_EXPAND_FLOOR;
}

/* Refuse an archive that expands past its limit (see layer.h), naming the member that
   crossed it; expanded is what the input's members have written so far. */
static int
over_limit (struct job *j, uint64_t expanded, const char *what, const char *wheel, const char *member)
{
  if (expanded <= j->limit)
    return 0;
  strbuf_addf (j->err,
               "%s '%s': member '%s' takes it past %llu bytes unpacked, over %d times its %llu bytes and over "
               "%llu bytes: refused (a decompression bomb, or a corrupt archive)",
               what, wheel, member, (unsigned long long) j->limit, LAYER_MAX_EXPANSION,
               (unsigned long long) j->archive_size,
               (unsigned long long) expand_floor);
  return -1;
}

static int
stage_data (struct job *j, struct archive *a, struct entry *e, const char *what, const char *wheel,
            const char *member)
{
  e->offset = j->staged;
  for (;;)
    {
      la_ssize_t n = archive_read_data (a, j->buf, CHUNK);
      if (n < 0)
        return fail_archive (j, a, "cannot read a member of", wheel);
      if (n == 0)
        break;
      if (over_limit (j, (uint64_t) (j->staged + n - j->input_start), what, wheel, member) < 0)
        return -1;
      for (la_ssize_t done = 0; done < n;)
        {
          ssize_t w = pwrite (j->staging, j->buf + done, (size_t) (n - done), j->staged + done);
          if (w < 0)
            return strbuf_addf (j->err, "cannot write the staging file: %s", strerror (errno)), -1;
          done += w;
        }
      j->staged += n;
    }
  e->size = j->staged - e->offset;
  return 0;
}

/* What an archive says of one member, for take_member. */
struct member_info
{
  const char *raw;      /* its path as the archive spells it */
  int filetype;         /* AE_IFREG, AE_IFDIR, AE_IFLNK, ... */
  int perm;
  int size_is_set;
  int64_t size;
  const char *symlink;  /* AE_IFLNK: its target */
  const char *hardlink; /* a hard link's target, else NULL */
};

/* What an input is, and its word in messages ("package 'x.deb' has an unsafe member path"). */
enum input_kind
{
  INPUT_WHEEL,
  INPUT_PACKAGE, /* a .deb */
  INPUT_ARCHIVE, /* an NVIDIA redist tar */
};
static const char *const input_kind_names[] = { [INPUT_WHEEL] = "wheel", [INPUT_PACKAGE] = "package",
                                                [INPUT_ARCHIVE] = "archive" };

/* Map one member through the rules and check it. Returns 1 with *file the entry of a kept
   regular file, whose bytes the caller supplies; 0 for a member dropped or kept without bytes (a
   symlink); -1 with j->err. Member paths are normalized first: "pkg//a.py" and "pkg/./a.py" are
   "pkg/a.py". expanded: what the input's kept members unpack to before this one. */
static int
take_member (struct job *j, const struct layer_input *in, enum input_kind kind, const struct member_info *m,
             uint64_t expanded, struct entry **file)
{
  const char *what = input_kind_names[kind];
  /* A .deb and a redist tar may hold symlinks (libcudart.so -> libcudart.so.12), checked once
     the package has been read (check_deb_links); a wheel may not. */
  int deb = kind != INPUT_WHEEL;
  if (m->raw == NULL)
    return 0;
  /* A .deb's data.tar names its members ./usr/...: normalized, without the "./". */
  cleanup_free char *member = normalize_path (m->raw);
  if (*member == '\0' || m->filetype == AE_IFDIR)
    return 0; /* folders are made explicitly, for every file's parents */
  if (!safe_path (member))
    return strbuf_addf (j->err, "%s '%s' has an unsafe member path '%s'", what, in->wheel, m->raw), -1;
  /* pip never makes a symlink from a wheel (it writes every member as a file): one there is
     a crafted wheel, whatever it points at. */
  if (!deb && m->filetype == AE_IFLNK)
    return strbuf_addf (j->err, "wheel '%s': '%s' is a symbolic link (to '%s'); wheels have none (pip writes "
                                "every member as a file): refused",
                        in->wheel, member, m->symlink ? m->symlink : ""), -1;
  cleanup_free char *mapped = map_path (in, member);
  if (mapped == NULL)
    return 0;
  char *path = normalize_path (mapped);
  if (!safe_path (path))
    {
      strbuf_addf (j->err, "a rule maps '%s' of '%s' to the unsafe path '%s'", member, in->wheel, path);
      free (path);
      return -1;
    }
  if (m->hardlink)
    {
      strbuf_addf (j->err, "%s '%s': '%s' is a hard link, which layers do not keep: map its target instead",
                   what, in->wheel, member);
      free (path);
      return -1;
    }
  if (m->filetype == AE_IFLNK)
    {
      struct entry *e = add (j, path, E_LINK, in->wheel);
      e->target = xstrdup (m->symlink ? m->symlink : "");
      e->own_target = 1;
      /* Checked when the package has been read: its target may come later. */
      ARRAY_GROW (j->links, j->nlinks + 1, j->links_alloc);
      j->links[j->nlinks++] = (struct pending_link) { j->n - 1, xstrdup (member) };
      return 0;
    }
  if (m->filetype != AE_IFREG)
    {
      strbuf_addf (j->err, "%s '%s': '%s' is neither a file, a folder nor a symbolic link", what, in->wheel,
                   member);
      free (path);
      return -1;
    }
  /* The size the archive declares, before a byte is written; stage_data checks as it goes. */
  if (m->size_is_set && m->size > 0 && over_limit (j, expanded + (uint64_t) m->size, what, in->wheel, member) < 0)
    {
      free (path);
      return -1;
    }
  struct entry *e = add (j, path, E_FILE, in->wheel);
  e->mode = (m->perm & 0111) ? 0755 : 0644;
  *file = e;
  return 1;
}

/* Map and stage every member of an open archive (a wheel, or a .deb's data.tar). */
static int
read_members (struct job *j, const struct layer_input *in, struct archive *a, enum input_kind kind)
{
  const char *what = input_kind_names[kind];
  int rc = 0;
  struct archive_entry *ae;
  while (rc == 0)
    {
      int r = archive_read_next_header (a, &ae);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return fail_archive (j, a, "cannot read", in->wheel);
      struct member_info m = { archive_entry_pathname (ae), (int) archive_entry_filetype (ae),
                               (int) archive_entry_perm (ae), archive_entry_size_is_set (ae),
                               archive_entry_size (ae), archive_entry_symlink (ae), archive_entry_hardlink (ae) };
      struct entry *e = NULL;
      rc = take_member (j, in, kind, &m, (uint64_t) (j->staged - j->input_start), &e);
      if (rc == 1)
        {
          cleanup_free char *member = normalize_path (m.raw);
          rc = stage_data (j, a, e, what, in->wheel, member);
        }
    }
  return rc;
}

/* Where Debian puts what packages ship (merged /usr; the FHS): a kept symlink may name another
   package's file there (usr/share/doc/libbinutils -> binutils-common, libanl.so ->
   /lib/x86_64-linux-gnu/libanl.so.1), but nothing else of the image (etc/shadow, tmp/). */
static int
in_system_folders (const char *p)
{
  static const char *const roots[] = { "usr/", "lib/", "lib64/", "bin/", "sbin/" };
  for (size_t i = 0; i < ARRAY_SIZE (roots); i++)
    if (starts_with (p, roots[i]))
      return 1;
  return 0;
}

static void
forget_package (struct job *j)
{
  for (size_t i = 0; i < j->nlinks; i++)
    free (j->links[i].member);
  j->nlinks = 0;
}

/* A .deb's (or redist archive's) kept symlinks must stay in the image's system folders, seen
   both from where the package puts them and from where the layer puts them: not above the root
   (../../../../etc/passwd), not elsewhere in the image (/etc/shadow, ../../../tmp/evil.so). The
   packages themselves are pinned by sha256 in the knowledge base; this keeps a bad pin or a
   mapping rule from planting a link to the image's secrets or scratch space. */
static int
check_deb_links (struct job *j, const char *deb)
{
  int rc = 0;
  for (size_t i = 0; i < j->nlinks && rc == 0; i++)
    {
      const struct entry *e = &j->v[j->links[i].entry];
      cleanup_free char *in_pkg = resolve_link (j->links[i].member, e->target);
      cleanup_free char *in_layer = resolve_link (e->path, e->target);
      if (in_pkg == NULL || in_layer == NULL || !in_system_folders (in_pkg) || !in_system_folders (in_layer))
        rc = -1, strbuf_addf (j->err, "package '%s': symbolic link '%s' points at '%s', outside the image's system "
                                      "folders (usr/, lib/, lib64/, bin/, sbin/): refused",
                              deb, j->links[i].member, e->target);
    }
  forget_package (j);
  return rc;
}

/* ---- Wheels read in place ------------------------------------------------------------------
   A wheel's central directory names every member with its size, mode and where its bytes are:
   pass one takes the members from it without unpacking a byte, and pass two inflates each kept
   member once, whole, with libdeflate (twice zlib's speed on the torch wheel: BENCHMARKS.md,
   "Cold build"), straight into the tar; nothing goes through the staging file. The members and
   modes are those libarchive's seekable zip reader gives (read_wheel), which reads the same
   central directory: a wheel this reader does not take as plain (another host system than Unix,
   a member neither a file nor a folder, encryption, a method other than stored and deflate,
   Info-ZIP's Unicode path field, anything out of bounds) goes to libarchive instead, which
   refuses what is wrong with its own words. */

/* Whether [off, off + len) lies within n bytes. */
static int
within (uint64_t off, uint64_t len, uint64_t n)
{
  return off <= n && len <= n - off;
}

/* The end of central directory record (22 bytes), its comment (up to 64 KiB) and ZIP64's
   locator and record before it. */
#define TAIL_BYTES (22 + 65535 + 20 + 56)

struct zmember
{
  char *name;
  int filetype, perm;
  const unsigned char *data;
  uint64_t csize, usize;
  uint32_t crc;
  int method;
};

static void
zmembers_free (struct zmember *m, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (m[i].name);
  free (m);
}

/* The members of the zip z (n bytes) from its central directory; -1 when it is not a plain
   wheel (see above). */
static int
zip_directory (const unsigned char *z, uint64_t n, struct zmember **out, size_t *count)
{
  *out = NULL, *count = 0;
  /* The end records, as lazywheel.c finds them in a wheel's last 64 KiB. */
  struct zip_dir zd;
  struct strbuf why = STRBUF_INIT;
  uint64_t tail = n < TAIL_BYTES ? n : TAIL_BYTES;
  int found = zip_find_dir (z + n - tail, (size_t) tail, n - tail, n, &zd, &why);
  strbuf_release (&why);
  if (found < 0)
    return -1;
  uint64_t entries = zd.entries, cd_size = zd.size, cd = zd.offset;
  if (!within (cd, cd_size, n) || entries > cd_size / 46)
    return -1;
  struct zmember *m = xcalloc (entries + 1, sizeof *m);
  size_t k = 0;
  uint64_t at = cd, end = cd + cd_size;
  for (uint64_t i = 0; i < entries; i++)
    {
      if (!within (at, 46, end) || le32 (z + at) != 0x02014b50)
        goto odd;
      const unsigned char *c = z + at;
      uint16_t host = c[5], flags = le16 (c + 8), method = le16 (c + 10), nlen = le16 (c + 28), xlen = le16 (c + 30),
               clen = le16 (c + 32);
      uint64_t csize = le32 (c + 20), usize = le32 (c + 24), lho = le32 (c + 42);
      uint32_t mode = le32 (c + 38) >> 16;
      if (!within (at + 46, (uint64_t) nlen + xlen + clen, end) || host != 3 || (flags & 0x41) != 0
          || (method != 0 && method != 8) || nlen == 0 || memchr (c + 46, '\0', nlen) != NULL)
        goto odd;
      for (uint64_t x = at + 46 + nlen; x + 4 <= at + 46 + nlen + xlen; x += 4 + (uint64_t) le16 (z + x + 2))
        {
          uint16_t id = le16 (z + x), len = le16 (z + x + 2);
          if (!within (x + 4, len, at + 46 + nlen + xlen) || id == 0x7075)
            goto odd;
          if (id != 1)
            continue;
          /* Zip64: the 64-bit values of the fields that read 0xffffffff, in this order. */
          uint64_t v = x + 4;
          uint64_t *fields[] = { &usize, &csize, &lho };
          for (size_t f = 0; f < 3; f++)
            if (*fields[f] == 0xffffffff)
              {
                if (v + 8 > x + 4 + len)
                  goto odd;
                *fields[f] = le64 (z + v), v += 8;
              }
        }
      int dir = c[46 + nlen - 1] == '/';
      if ((mode & 0170000) == 0040000)
        dir = 1;
      else if ((mode & 0170000) != 0100000 || dir)
        goto odd;
      /* The member's bytes follow its local header, whose name and extra field may differ in
         length from the central directory's. */
      if (!within (lho, 30, n) || le32 (z + lho) != 0x04034b50)
        goto odd;
      uint64_t data = lho + 30 + le16 (z + lho + 26) + le16 (z + lho + 28);
      if (!within (data, csize, n) || (method == 0 && csize != usize))
        goto odd;
      m[k++] = (struct zmember) { xstrndup ((const char *) c + 46, nlen), dir ? AE_IFDIR : AE_IFREG,
                                  (int) (mode & 07777), z + data, csize, usize, le32 (c + 16), method };
      at += 46 + (uint64_t) nlen + xlen + clen;
    }
  *out = m, *count = k;
  return 0;
odd:
  zmembers_free (m, k);
  return -1;
}

/* Pass one of a wheel read in place: 1 when it was (or failed, with j->err: -1), 0 when the
   caller reads it with libarchive instead. */
static int
read_wheel_direct (struct job *j, const struct layer_input *in)
{
  int fd = open (in->wheel, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || j->archive_size == 0)
    {
      if (fd >= 0)
        close (fd);
      return 0;
    }
  void *p = mmap (NULL, (size_t) j->archive_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close (fd);
  if (p == MAP_FAILED)
    return 0;
  struct zmember *m;
  size_t n;
  if (zip_directory (p, j->archive_size, &m, &n) < 0)
    {
      munmap (p, (size_t) j->archive_size);
      return 0;
    }
  ARRAY_GROW (j->maps, j->nmaps + 1, j->maps_alloc);
  j->maps[j->nmaps++] = (struct mapping) { p, (size_t) j->archive_size };
  uint64_t expanded = 0;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    {
      struct member_info mi = { m[i].name, m[i].filetype, m[i].perm, 1, (int64_t) m[i].usize, NULL, NULL };
      struct entry *e = NULL;
      rc = take_member (j, in, INPUT_WHEEL, &mi, expanded, &e);
      if (rc == 1)
        {
          e->offset = -1;
          e->size = (int64_t) m[i].usize;
          e->zdata = m[i].data;
          e->zsize = m[i].csize;
          e->zcrc = m[i].crc;
          e->zmethod = m[i].method;
          expanded += m[i].usize;
          j->direct += m[i].usize;
          rc = 0;
        }
    }
  zmembers_free (m, n);
  return rc < 0 ? -1 : 1;
}

int
wheel_members_direct (const void *data, size_t size, struct strbuf *out, struct strbuf *err)
{
  struct zmember *m;
  size_t n;
  if (zip_directory (data, size, &m, &n) < 0)
    return strbuf_addstr (err, "not a plain zip: libarchive reads it"), 1;
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor ();
  unsigned char *buf = NULL;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0 && d; i++)
    {
      strbuf_addf (out, "%s %o %llu\n", m[i].name, (unsigned) m[i].perm, (unsigned long long) m[i].usize);
      if (m[i].filetype != AE_IFREG || m[i].usize > (64u << 20))
        continue;
      const unsigned char *bytes = m[i].data;
      size_t got = (size_t) m[i].usize;
      if (m[i].method == 8)
        {
          buf = xrealloc (buf, (size_t) m[i].usize + 1);
          if (libdeflate_deflate_decompress (d, m[i].data, (size_t) m[i].csize, buf, (size_t) m[i].usize, &got)
                  != LIBDEFLATE_SUCCESS
              || got != m[i].usize)
            rc = -1, strbuf_addf (err, "'%s' does not inflate to %llu bytes", m[i].name, (unsigned long long) m[i].usize);
          bytes = buf;
        }
      if (rc == 0 && (uint32_t) libdeflate_crc32 (0, bytes, got) != m[i].crc)
        rc = -1, strbuf_addf (err, "'%s' fails its CRC-32", m[i].name);
    }
  free (buf);
  if (d)
    libdeflate_free_decompressor (d);
  zmembers_free (m, n);
  return rc;
}

/* Pass two: the member's bytes, inflated once and checked against its CRC. */
static int
write_direct (struct job *j, struct archive *w, const struct entry *e)
{
  const unsigned char *bytes = e->zdata;
  size_t size = (size_t) e->size;
  if (e->zmethod == 8)
    {
      if (j->inflater == NULL)
        j->inflater = libdeflate_alloc_decompressor ();
      if (j->inflater == NULL)
        return strbuf_addf (j->err, "cannot inflate '%s': out of memory", e->path), -1;
      if (j->zbuf_size < size + 1)
        {
          free (j->zbuf);
          j->zbuf_size = size + 1;
          j->zbuf = xmalloc (j->zbuf_size);
        }
      size_t got = 0;
      if (libdeflate_deflate_decompress (j->inflater, e->zdata, (size_t) e->zsize, j->zbuf, size, &got)
              != LIBDEFLATE_SUCCESS
          || got != size)
        return strbuf_addf (j->err, "cannot read a member of '%s': '%s' does not inflate to the %zu bytes its "
                                    "zip directory declares (a corrupt wheel)",
                            e->origin, e->path, size), -1;
      bytes = j->zbuf;
    }
  if ((uint32_t) libdeflate_crc32 (0, bytes, size) != e->zcrc)
    return strbuf_addf (j->err, "cannot read a member of '%s': '%s' fails its CRC-32 (a corrupt wheel)", e->origin,
                        e->path), -1;
  for (size_t done = 0; done < size;)
    {
      size_t want = size - done < CHUNK ? size - done : CHUNK;
      if (archive_write_data (w, bytes + done, want) < 0)
        return fail_archive (j, w, "cannot write the entry", e->path);
      done += want;
    }
  return 0;
}

static int
read_wheel (struct job *j, const struct layer_input *in)
{
  if (getenv ("PCGEN_WHEEL_READER") == NULL || strcmp (getenv ("PCGEN_WHEEL_READER"), "libarchive") != 0)
    {
      int done = read_wheel_direct (j, in);
      if (done != 0)
        return done < 0 ? -1 : 0;
    }
  struct archive *a = archive_read_new ();
  archive_read_support_format_zip (a);
  int rc = 0;
  if (archive_read_open_filename (a, in->wheel, CHUNK) != ARCHIVE_OK)
    rc = fail_archive (j, a, "cannot open wheel", in->wheel);
  if (rc == 0)
    rc = read_members (j, in, a, INPUT_WHEEL);
  archive_read_free (a);
  return rc;
}

/* ---- .deb packages: an ar archive of debian-binary, control.tar.* and data.tar.* --------- */

/* The inner archive reads its bytes from the outer one's current member. */
struct outer
{
  struct archive *ar;
  char *buf;
};

static la_ssize_t
outer_read (struct archive *inner, void *data, const void **out)
{
  (void) inner;
  struct outer *o = data;
  la_ssize_t n = archive_read_data (o->ar, o->buf, CHUNK);
  *out = o->buf;
  return n < 0 ? ARCHIVE_FATAL : n;
}

/* The data.tar (xz, zstd, gzip or bzip2) read through the outer archive's current member;
   NULL, with err, when libarchive cannot open it. */
static struct archive *
data_tar_open (struct outer *o, const char *deb, struct strbuf *err)
{
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  archive_read_support_filter_xz (a);
  archive_read_support_filter_zstd (a);
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_bzip2 (a);
  if (archive_read_open (a, o, NULL, outer_read, NULL) != ARCHIVE_OK)
    {
      strbuf_addf (err, "cannot read the data.tar of '%s': %s", deb,
                   archive_error_string (a) ? archive_error_string (a) : "unknown error");
      archive_read_free (a);
      return NULL;
    }
  return a;
}

static int
deb_open_data (struct archive *ar, const char *deb, struct strbuf *err)
{
  struct archive_entry *ae;
  int r;
  while ((r = archive_read_next_header (ar, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      const char *name = archive_entry_pathname (ae);
      if (name && starts_with (name, "data.tar"))
        return 0;
    }
  if (r == ARCHIVE_EOF)
    strbuf_addf (err, "'%s' is not a Debian package: it has no data.tar member", deb);
  else
    strbuf_addf (err, "cannot read the package '%s': %s", deb,
                 archive_error_string (ar) ? archive_error_string (ar) : "unknown error");
  return -1;
}

static int
read_deb (struct job *j, const struct layer_input *in)
{
  struct archive *ar = archive_read_new ();
  archive_read_support_format_ar (ar);
  int rc = 0;
  if (archive_read_open_filename (ar, in->wheel, CHUNK) != ARCHIVE_OK)
    rc = fail_archive (j, ar, "cannot open package", in->wheel);
  if (rc == 0)
    rc = deb_open_data (ar, in->wheel, j->err);
  if (rc == 0)
    {
      struct outer o = { ar, xmalloc (CHUNK) };
      struct archive *a = data_tar_open (&o, in->wheel, j->err);
      if (a == NULL)
        rc = -1;
      if (rc == 0)
        rc = read_members (j, in, a, INPUT_PACKAGE);
      if (rc == 0)
        rc = check_deb_links (j, in->wheel);
      forget_package (j);
      archive_read_free (a);
      free (o.buf);
    }
  archive_read_free (ar);
  return rc;
}

int
deb_members_memory (const void *data, size_t size, struct strbuf *out, struct strbuf *err)
{
  struct archive *ar = archive_read_new ();
  archive_read_support_format_ar (ar);
  int rc = 0;
  if (archive_read_open_memory (ar, data, size) != ARCHIVE_OK)
    {
      strbuf_addf (err, "not a Debian package: %s", archive_error_string (ar) ? archive_error_string (ar) : "unknown error");
      rc = -1;
    }
  if (rc == 0)
    rc = deb_open_data (ar, "(memory)", err);
  if (rc == 0)
    {
      struct outer o = { ar, xmalloc (CHUNK) };
      struct archive *a = data_tar_open (&o, "(memory)", err);
      if (a == NULL)
        rc = -1;
      struct archive_entry *ae;
      int r = ARCHIVE_OK;
      /* Not o.buf: the inner archive's bytes live there (found by fuzz_deb). */
      cleanup_free char *sink = xmalloc (CHUNK);
      while (rc == 0 && ((r = archive_read_next_header (a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN))
        {
          const char *p = archive_entry_pathname (ae);
          while (p && p[0] == '.' && p[1] == '/')
            p += 2;
          strbuf_addf (out, "%s\n", p ? p : "");
          while ((r = (int) archive_read_data (a, sink, CHUNK)) > 0)
            ;
          if (r < 0)
            break;
        }
      if (rc == 0 && r != ARCHIVE_EOF)
        rc = -1, strbuf_addf (err, "cannot read data.tar: %s", archive_error_string (a) ? archive_error_string (a) : "unknown error");
      archive_read_free (a);
      free (o.buf);
    }
  archive_read_free (ar);
  return rc;
}

/* NVIDIA's redist archives: a tar compressed with xz. */
static int
read_tarball (struct job *j, const struct layer_input *in)
{
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  archive_read_support_filter_xz (a);
  int rc = 0;
  if (archive_read_open_filename (a, in->wheel, CHUNK) != ARCHIVE_OK)
    rc = fail_archive (j, a, "cannot open archive", in->wheel);
  if (rc == 0)
    rc = read_members (j, in, a, INPUT_ARCHIVE);
  if (rc == 0)
    rc = check_deb_links (j, in->wheel);
  forget_package (j);
  archive_read_free (a);
  return rc;
}

static int
read_input (struct job *j, const struct layer_input *in)
{
  struct stat st;
  if (stat (in->wheel, &st) < 0)
    return strbuf_addf (j->err, "cannot read '%s': %s", in->wheel, strerror (errno)), -1;
  uint64_t floor = expand_floor;
  j->input_start = j->staged;
  j->archive_size = (uint64_t) st.st_size;
  j->limit = j->archive_size * LAYER_MAX_EXPANSION > floor ? j->archive_size * LAYER_MAX_EXPANSION : floor;
  if (ends_with (in->wheel, ".deb"))
    return read_deb (j, in);
  return ends_with (in->wheel, ".tar.xz") ? read_tarball (j, in) : read_wheel (j, in);
}

static int
cmp_entry (const void *a, const void *b)
{
  return strcmp (((const struct entry *) a)->path, ((const struct entry *) b)->path);
}

/* Every parent folder of every entry, once: sort, then add what is missing, then sort again. */
static void
add_parents (struct job *j)
{
  size_t n = j->n;
  for (size_t i = 0; i < n; i++)
    {
      const char *p = j->v[i].path;
      for (const char *s = strchr (p, '/'); s; s = strchr (s + 1, '/'))
        {
          cleanup_free char *dir = xstrndup (p, (size_t) (s - p));
          int have = 0;
          for (size_t k = n; k < j->n && !have; k++)
            have = strcmp (j->v[k].path, dir) == 0;
          if (!have)
            add (j, xstrdup (dir), E_DIR, "pcgen")->mode = 0755;
        }
    }
}

static int
check_duplicates (struct job *j)
{
  for (size_t i = 1; i < j->n; i++)
    if (strcmp (j->v[i - 1].path, j->v[i].path) == 0)
      {
        /* A folder with its own owner is a leaf (layer.h): the copy add_parents made would be
           root's, and which of the two a tar reader keeps is its own business. */
        int owned = j->v[i - 1].uid || j->v[i].uid || j->v[i - 1].gid || j->v[i].gid;
        if (j->v[i - 1].kind == E_DIR && j->v[i].kind == E_DIR && !owned)
          continue;
        strbuf_addf (j->err, "two inputs write '%s': %s and %s", j->v[i].path, j->v[i - 1].origin, j->v[i].origin);
        return -1;
      }
  return 0;
}

static int
write_entry (struct job *j, struct archive *w, struct archive_entry *ae, const struct entry *e)
{
  archive_entry_clear (ae);
  archive_entry_set_pathname (ae, e->path);
  archive_entry_set_uid (ae, e->uid);
  archive_entry_set_gid (ae, e->gid);
  archive_entry_set_uname (ae, "");
  archive_entry_set_gname (ae, "");
  archive_entry_set_mtime (ae, (time_t) j->spec->mtime, 0);
  if (e->kind == E_DIR)
    {
      archive_entry_set_filetype (ae, AE_IFDIR);
      archive_entry_set_perm (ae, e->mode ? e->mode : 0755);
    }
  else if (e->kind == E_LINK)
    {
      archive_entry_set_filetype (ae, AE_IFLNK);
      archive_entry_set_perm (ae, 0777);
      archive_entry_set_symlink (ae, e->target);
    }
  else
    {
      archive_entry_set_filetype (ae, AE_IFREG);
      archive_entry_set_perm (ae, e->mode);
      archive_entry_set_size (ae, e->size);
    }
  if (archive_write_header (w, ae) < ARCHIVE_WARN)
    return fail_archive (j, w, "cannot write the entry", e->path);
  if (e->kind != E_FILE)
    return 0;
  if (e->zdata)
    return write_direct (j, w, e);
  if (e->content && e->offset < 0)
    {
      if (archive_write_data (w, e->content, (size_t) e->size) < 0)
        return fail_archive (j, w, "cannot write the entry", e->path);
      return 0;
    }
  for (int64_t done = 0; done < e->size;)
    {
      size_t want = (size_t) (e->size - done < CHUNK ? e->size - done : CHUNK);
      ssize_t got = pread (j->staging, j->buf, want, e->offset + done);
      if (got <= 0)
        return strbuf_addf (j->err, "cannot read back '%s' from staging: %s", e->path, strerror (errno)), -1;
      if (archive_write_data (w, j->buf, (size_t) got) < 0)
        return fail_archive (j, w, "cannot write the entry", e->path);
      done += got;
    }
  return 0;
}

/* The tar goes to its file through these, which hash it on the way: the layer's digest without
   reading the tar back. */
struct tar_sink
{
  int fd;
  EVP_MD_CTX *md;
};

static la_ssize_t
sink_write (struct archive *w, void *data, const void *buf, size_t n)
{
  struct tar_sink *k = data;
  for (size_t done = 0; done < n;)
    {
      ssize_t got = write (k->fd, (const char *) buf + done, n - done);
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        {
          archive_set_error (w, errno, "%s", strerror (errno));
          return -1;
        }
      done += (size_t) got;
    }
  EVP_DigestUpdate (k->md, buf, n);
  return (la_ssize_t) n;
}

static int
write_tar (struct job *j, const char *tmp, char sha256[SHA256_HEX_LEN + 1])
{
  struct tar_sink k = { open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666), EVP_MD_CTX_new () };
  if (k.fd < 0 || k.md == NULL || EVP_DigestInit_ex (k.md, EVP_sha256 (), NULL) != 1)
    {
      strbuf_addf (j->err, "cannot create '%s': %s", tmp, k.fd < 0 ? strerror (errno) : "no sha256");
      if (k.fd >= 0)
        close (k.fd);
      EVP_MD_CTX_free (k.md);
      return -1;
    }
  struct archive *w = archive_write_new ();
  archive_write_set_format_pax_restricted (w);
  archive_write_add_filter_none (w);
  /* No padding beyond the tar format's own: the same entries give the same bytes. */
  archive_write_set_bytes_in_last_block (w, 1);
  int rc = 0;
  if (archive_write_open (w, &k, NULL, sink_write, NULL) != ARCHIVE_OK)
    rc = fail_archive (j, w, "cannot create", tmp);
  struct archive_entry *ae = archive_entry_new ();
  for (size_t i = 0; i < j->n && rc == 0; i++)
    rc = write_entry (j, w, ae, &j->v[i]);
  archive_entry_free (ae);
  if (rc == 0 && archive_write_close (w) != ARCHIVE_OK)
    rc = fail_archive (j, w, "cannot finish", tmp);
  archive_write_free (w);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (rc == 0 && (EVP_DigestFinal_ex (k.md, md, &mdlen) != 1 || mdlen != 32))
    rc = -1, strbuf_addf (j->err, "cannot hash '%s'", tmp);
  if (rc == 0)
    digest_to_hex (md, mdlen, sha256);
  EVP_MD_CTX_free (k.md);
  if (close (k.fd) < 0 && rc == 0)
    rc = -1, strbuf_addf (j->err, "cannot write '%s': %s", tmp, strerror (errno));
  return rc;
}

static void
job_free (struct job *j)
{
  for (size_t i = 0; i < j->n; i++)
    {
      free (j->v[i].path);
      if (j->v[i].own_target)
        free ((char *) j->v[i].target);
    }
  forget_package (j);
  free (j->links);
  free (j->v);
  free (j->buf);
  for (size_t i = 0; i < j->nmaps; i++)
    munmap (j->maps[i].p, j->maps[i].n);
  free (j->maps);
  free (j->zbuf);
  if (j->inflater)
    libdeflate_free_decompressor (j->inflater);
  if (j->staging >= 0)
    close (j->staging);
}

int
layer_write (const struct layer_spec *spec, const char *out_tar, char sha256[SHA256_HEX_LEN + 1],
             struct layer_stats *stats, struct strbuf *err)
{
  return layer_write_sized (spec, NULL, out_tar, sha256, stats, err);
}

int
layer_write_sized (const struct layer_spec *spec, const size_t *file_sizes, const char *out_tar,
                   char sha256[SHA256_HEX_LEN + 1], struct layer_stats *stats, struct strbuf *err)
{
  struct job j = { .spec = spec, .staging = -1, .err = err, .buf = xmalloc (CHUNK) };
  /* An unlinked staging file: gone however the process ends. */
  j.staging = open (spec->tmp_dir ? spec->tmp_dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (j.staging < 0)
    {
      strbuf_addf (err, "cannot create a staging file in '%s': %s", spec->tmp_dir ? spec->tmp_dir : "/tmp",
                   strerror (errno));
      job_free (&j);
      return -1;
    }
  int rc = 0;
  for (size_t i = 0; i < spec->ninputs && rc == 0; i++)
    rc = read_input (&j, &spec->inputs[i]);
  for (size_t i = 0; i < spec->nlinks && rc == 0; i++)
    {
      if (!safe_path (spec->links[i].path))
        rc = -1, strbuf_addf (err, "unsafe link path '%s'", spec->links[i].path);
      else
        add (&j, normalize_path (spec->links[i].path), E_LINK, "pcgen")->target = spec->links[i].target;
    }
  for (size_t i = 0; i < spec->nfiles && rc == 0; i++)
    {
      struct entry *e = add (&j, normalize_path (spec->files[i].path), E_FILE, "pcgen");
      e->content = spec->files[i].content;
      e->size = (int64_t) (file_sizes ? file_sizes[i] : strlen (e->content));
      e->offset = -1;
      e->mode = spec->files[i].mode;
    }
  for (size_t i = 0; i < spec->ndirs && rc == 0; i++)
    {
      if (!safe_path (spec->dirs[i].path))
        {
          rc = -1, strbuf_addf (err, "unsafe folder path '%s'", spec->dirs[i].path);
          break;
        }
      struct entry *e = add (&j, normalize_path (spec->dirs[i].path), E_DIR, "pcgen");
      e->mode = spec->dirs[i].mode;
      e->uid = spec->dirs[i].uid;
      e->gid = spec->dirs[i].gid;
    }
  cleanup_free char *tmp = xasprintf ("%s.tmp.%ld", out_tar, (long) getpid ());
  if (rc == 0)
    {
      add_parents (&j);
      if (j.n) /* an empty layer has no entries at all: qsort's array may not be NULL */
        qsort (j.v, j.n, sizeof *j.v, cmp_entry);
      rc = check_duplicates (&j);
    }
  if (rc == 0)
    rc = write_tar (&j, tmp, sha256);
  if (rc == 0 && rename (tmp, out_tar) < 0)
    rc = -1, strbuf_addf (err, "cannot rename '%s': %s", tmp, strerror (errno));
  if (rc < 0)
    unlink (tmp);
  else if (stats)
    {
      stats->entries = j.n;
      stats->bytes = (uint64_t) j.staged + j.direct;
      for (size_t i = 0; i < spec->nfiles; i++)
        stats->bytes += file_sizes ? file_sizes[i] : strlen (spec->files[i].content);
    }
  job_free (&j);
  return rc;
}
