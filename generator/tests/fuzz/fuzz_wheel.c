/* fuzz_wheel.c: libFuzzer target for the in-place wheel reader (layer.c: the zip central
   directory, local headers, zip64 fields, libdeflate's inflate and the CRC-32 check). */
#include <stdint.h>
#include <stdlib.h>

#include "layer.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
  wheel_members_direct (data, size, &out, &err);
  strbuf_release (&out);
  strbuf_release (&err);
  return 0;
}
