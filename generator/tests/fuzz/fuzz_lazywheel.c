/* fuzz_lazywheel.c: libFuzzer target for the zip reading of lazywheel.c (end records, ZIP64,
   central directory, the METADATA member), run over memory as `pcgen kb update` runs it over
   HTTP ranges. Seeds: small wheels (generator/tests/fuzz/seeds/lazywheel). */
#include <stdint.h>

#include "lazywheel.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
  int rc = lazy_wheel_metadata_memory (data, size, &out, &err);
  /* Failure always says why; success says nothing in err. */
  if ((rc < 0) != (err.len > 0))
    __builtin_trap ();
  strbuf_release (&out);
  strbuf_release (&err);
  return 0;
}
