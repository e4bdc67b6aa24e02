/* fuzz_dockerfile.c: libFuzzer target for the Dockerfile reader of the image writer
   (dockerfile.h): any bytes, parsed, every instruction walked, everything freed; errors are
   released, not printed. A crash file replays with build/fuzz/fuzz_dockerfile CRASHFILE. */
#include <stdint.h>
#include <string.h>

#include "dockerfile.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct dockerfile df;
  struct strbuf err = STRBUF_INIT;
  if (dockerfile_parse ("Dockerfile", (const char *) data, size, &df, &err) == 0)
    {
      size_t total = 0;
      for (size_t i = 0; i < df.n; i++)
        for (size_t k = 0; k < df.v[i].npairs; k++)
          total += strlen (df.v[i].pairs[k].value) + (df.v[i].pairs[k].key ? strlen (df.v[i].pairs[k].key) : 0);
      (void) total;
      dockerfile_release (&df);
    }
  strbuf_release (&err);
  return 0;
}
