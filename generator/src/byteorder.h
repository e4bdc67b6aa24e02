/* byteorder.h: little-endian integers as zip's records store them (APPNOTE.TXT 4.4: "all
   values are stored in little-endian byte order"), read from bytes at any alignment. Both zip
   readers use them: lazywheel.c (a wheel's METADATA over HTTP ranges) and layer.c (a wheel read
   in place). */
#ifndef PCGEN_BYTEORDER_H
#define PCGEN_BYTEORDER_H

#include <stdint.h>

static inline uint16_t
le16 (const unsigned char *p)
{
  return (uint16_t) (p[0] | p[1] << 8);
}

static inline uint32_t
le32 (const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static inline uint64_t
le64 (const unsigned char *p)
{
  return (uint64_t) le32 (p) | (uint64_t) le32 (p + 4) << 32;
}

#endif
