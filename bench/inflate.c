/* bench/inflate.c: how fast each inflater unpacks a wheel's members (BENCHMARKS.md, "Cold build").
   Reads the zip's central directory, then inflates every deflated member into memory, with
   - zlib-chunked: zlib's inflate into a 1 MiB buffer, again and again (what libarchive's zip
     reader does for layer.c), plus zlib's crc32;
   - zlib-whole:   zlib's inflate of the whole member into a buffer of its size (known from the
     central directory), plus zlib's crc32;
   - libdeflate:   libdeflate_deflate_decompress of the whole member, plus libdeflate_crc32.
   Prints CPU seconds (this thread's: the machine is shared) and MB/s of unpacked bytes, best of
   ROUNDS. Usage: bench/inflate WHEEL [ROUNDS]  (make build/bench/inflate) */
#include <fcntl.h>
#include <libdeflate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

struct member
{
  uint64_t off, csize, usize;
  uint32_t crc;
};

static uint32_t
le32 (const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint16_t
le16 (const unsigned char *p)
{
  return (uint16_t) (p[0] | p[1] << 8);
}

static uint64_t
le64 (const unsigned char *p)
{
  return (uint64_t) le32 (p) | (uint64_t) le32 (p + 4) << 32;
}

static double
cpu_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* The deflated members of the zip at z (n bytes); NULL when it is not one this reads. */
static struct member *
members (const unsigned char *z, size_t n, size_t *count)
{
  size_t e = n >= 22 ? n - 22 : 0;
  while (e > 0 && le32 (z + e) != 0x06054b50)
    e--;
  if (le32 (z + e) != 0x06054b50)
    return NULL;
  uint64_t entries = le16 (z + e + 10), cd = le32 (z + e + 16);
  if (e >= 20 && le32 (z + e - 20) == 0x07064b50)
    {
      const unsigned char *z64 = z + le64 (z + e - 20 + 8);
      entries = le64 (z64 + 32);
      cd = le64 (z64 + 48);
    }
  struct member *m = calloc (entries + 1, sizeof *m);
  size_t k = 0;
  const unsigned char *p = z + cd;
  for (uint64_t i = 0; i < entries; i++)
    {
      uint16_t method = le16 (p + 10), nlen = le16 (p + 28), xlen = le16 (p + 30), clen = le16 (p + 32);
      uint64_t csize = le32 (p + 20), usize = le32 (p + 24), lho = le32 (p + 42);
      for (const unsigned char *x = p + 46 + nlen; x < p + 46 + nlen + xlen; x += 4 + le16 (x + 2))
        if (le16 (x) == 1)
          {
            const unsigned char *v = x + 4;
            if (usize == 0xffffffff)
              usize = le64 (v), v += 8;
            if (csize == 0xffffffff)
              csize = le64 (v), v += 8;
            if (lho == 0xffffffff)
              lho = le64 (v);
          }
      if (method == 8)
        {
          const unsigned char *l = z + lho;
          m[k++] = (struct member) { lho + 30 + le16 (l + 26) + le16 (l + 28), csize, usize, le32 (p + 16) };
        }
      p += 46 + nlen + xlen + clen;
    }
  *count = k;
  return m;
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    return fprintf (stderr, "usage: %s WHEEL [ROUNDS]\n", argv[0]), 2;
  int rounds = argc > 2 ? atoi (argv[2]) : 3;
  int fd = open (argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) < 0)
    return perror (argv[1]), 1;
  const unsigned char *z = mmap (NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  size_t n = 0;
  struct member *m = members (z, (size_t) st.st_size, &n);
  if (m == NULL)
    return fprintf (stderr, "%s: not a zip this reads\n", argv[1]), 1;
  uint64_t total = 0, biggest = 0;
  for (size_t i = 0; i < n; i++)
    {
      total += m[i].usize;
      biggest = m[i].usize > biggest ? m[i].usize : biggest;
    }
  /* Touch every page once, so that no method pays for the first read from disk. */
  volatile unsigned char sink = 0;
  for (off_t o = 0; o < st.st_size; o += 4096)
    sink ^= z[o];
  unsigned char *out = malloc (biggest + 1);
  const size_t chunk = 1u << 20;
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor ();
  static const char *const names[] = { "zlib-chunked", "zlib-whole", "libdeflate" };
  printf ("%s: %zu deflated members, %.1f MB zipped, %.1f MB unpacked\n", argv[1], n, (double) st.st_size / 1e6,
          (double) total / 1e6);
  for (int method = 0; method < 3; method++)
    {
      double best = 1e30;
      for (int r = 0; r < rounds; r++)
        {
          double t0 = cpu_now ();
          for (size_t i = 0; i < n; i++)
            {
              uint32_t crc;
              if (method == 2)
                {
                  size_t got = 0;
                  if (libdeflate_deflate_decompress (d, z + m[i].off, m[i].csize, out, m[i].usize, &got)
                          != LIBDEFLATE_SUCCESS
                      || got != m[i].usize)
                    return fprintf (stderr, "libdeflate failed on member %zu\n", i), 1;
                  crc = libdeflate_crc32 (0, out, got);
                }
              else
                {
                  z_stream s;
                  memset (&s, 0, sizeof s);
                  inflateInit2 (&s, -15);
                  s.next_in = (unsigned char *) (uintptr_t) (z + m[i].off);
                  s.avail_in = (uInt) m[i].csize;
                  crc = (uint32_t) crc32 (0, NULL, 0);
                  int zr;
                  do
                    {
                      s.next_out = out;
                      s.avail_out = (uInt) (method == 0 ? chunk : m[i].usize + 1);
                      zr = inflate (&s, Z_NO_FLUSH);
                      crc = (uint32_t) crc32 (crc, out, (uInt) (s.next_out - out));
                    }
                  while (zr == Z_OK);
                  inflateEnd (&s);
                  if (zr != Z_STREAM_END)
                    return fprintf (stderr, "zlib failed on member %zu\n", i), 1;
                }
              if (crc != m[i].crc)
                return fprintf (stderr, "crc mismatch on member %zu\n", i), 1;
            }
          double t = cpu_now () - t0;
          best = t < best ? t : best;
        }
      printf ("%-13s %6.2f s CPU  %7.1f MB/s\n", names[method], best, (double) total / 1e6 / best);
    }
  libdeflate_free_decompressor (d);
  free (out);
  free (m);
  return sink == 255 ? 0 : 0;
}
