/* fuzz_deb.c: libFuzzer target for the .deb reader (an ar archive whose data.tar.{xz,zst,gz,bz2}
   libarchive reads through the outer archive): the member list and every member's data. */
#include <stdint.h>
#include <stdlib.h>

#include "layer.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
  deb_members_memory (data, size, &out, &err);
  strbuf_release (&out);
  strbuf_release (&err);
  return 0;
}
