/* lazywheel.h: a wheel's .dist-info/METADATA read through byte ranges, without the whole wheel,
   the way pip's lazy wheel does (pip/_internal/network/lazy_wheel.py): the zip's end of central
   directory record from the tail, then the central directory, then the one member (APPNOTE.TXT
   4.3.6: [local header][data] ... [central directory][end of central directory]).
   The zip logic reads through a `struct range_source`, so tests and the fuzz target run it over
   memory and `pcgen kb update` over HTTP range requests (pypi.c). */
#ifndef PCGEN_LAZYWHEEL_H
#define PCGEN_LAZYWHEEL_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Where the bytes come from. tail(): the last `len` bytes (fewer when the file is smaller) and
   the file's size; read(): exactly [off, off+len). Both return 0, -1 with err, or
   LAZY_NO_RANGES when the source cannot serve ranges (the caller then downloads it whole). */
#define LAZY_NO_RANGES 1
struct range_source
{
  int (*tail) (void *ctx, size_t len, struct strbuf *out, uint64_t *size, struct strbuf *err);
  int (*read) (void *ctx, uint64_t off, size_t len, struct strbuf *out, struct strbuf *err);
  void *ctx;
  const char *name; /* for messages: the URL or "memory" */
  unsigned requests; /* counted by lazy_wheel_metadata: what a test measures */
};

/* Where the central directory is (after the ZIP64 records when the wheel has them). */
struct zip_dir
{
  uint64_t offset, size, entries;
};

/* The METADATA member found in the central directory. */
struct zip_member
{
  char *name;
  uint64_t local_offset;    /* its local file header */
  uint64_t compressed_size;
  uint64_t extent;          /* bytes from local_offset to the next member or the directory */
  unsigned method;          /* 0 stored, 8 deflate */
};

/* Find the end of central directory record in `tail` (the file's last bytes; tail_off is the
   offset of tail[0] in the file of `size` bytes). Returns 0, or -1 with err. */
int zip_find_dir (const unsigned char *tail, size_t n, uint64_t tail_off, uint64_t size, struct zip_dir *dir,
                  struct strbuf *err);

/* Find `<name>.dist-info/METADATA` (at the top level: one '/') in the central directory `cd`
   of `dir`. Returns 0, or -1 with err. */
int zip_find_metadata (const unsigned char *cd, size_t n, const struct zip_dir *dir, struct zip_member *m,
                       struct strbuf *err);
void zip_member_release (struct zip_member *m);

/* The member's uncompressed bytes from `buf`, which starts at its local file header and holds
   m->extent bytes (libarchive's zip reader inflates it and checks its CRC-32). Returns 0, or -1. */
int zip_extract (const unsigned char *buf, size_t n, const struct zip_member *m, struct strbuf *out,
                 struct strbuf *err);

/* Everything above through `src`: METADATA into out. Returns 0, -1 with err, or LAZY_NO_RANGES. */
int lazy_wheel_metadata (struct range_source *src, struct strbuf *out, struct strbuf *err);

/* lazy_wheel_metadata over a wheel in memory (unit tests, fuzz target). */
int lazy_wheel_metadata_memory (const void *data, size_t size, struct strbuf *out, struct strbuf *err);

#endif
