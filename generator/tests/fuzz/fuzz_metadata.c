/* fuzz_metadata.c: libFuzzer target for the wheel METADATA parser (Requires-Dist lines). */
#include <stdint.h>
#include <stdlib.h>

#include "wheel.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = xstrndup ((const char *) data, size); /* METADATA is text: stop at a NUL */
  struct requirement *r;
  size_t n;
  if (metadata_requirements (text, &r, &n) == 0)
    requirements_free (r, n);
  free (text);
  return 0;
}
