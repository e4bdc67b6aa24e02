/* fuzz_pip.c: libFuzzer target for pip_explain, which condenses pip's multi-line reports into
   one line and a class. The input is pip's output (stderr, then stdout). */
#include <stdint.h>
#include <string.h>

#include "pip.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = xstrndup ((const char *) data, size); /* pip's output is text: stop at a NUL */
  struct strbuf line = STRBUF_INIT;
  char *missing = NULL;
  int kind = pip_explain (text, &line, &missing);
  /* One line, always something to say, and a requirement only for "not found". */
  if (strchr (line.buf, '\n') || line.len == 0 || (missing != NULL) != (kind == PIP_NOT_FOUND))
    __builtin_trap ();
  free (missing);
  strbuf_release (&line);
  free (text);
  return 0;
}
