/* fuzz_marker.c: libFuzzer target for the PEP 508 marker evaluator. */
#include <stdint.h>
#include <string.h>

#include "marker.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = xstrndup ((const char *) data, size); /* markers are text: stop at a NUL */
  struct marker_env env = { "3.11", "3.11.2" };
  struct strbuf err = STRBUF_INIT;
  marker_eval (s, &env, &err);
  strbuf_release (&err);
  free (s);
  return 0;
}
