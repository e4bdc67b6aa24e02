/* fuzz_wwwauth.c: libFuzzer target for the WWW-Authenticate parser (registry.h), which reads
   what a registry (any server --to names) answers. */
#include <stdint.h>
#include <string.h>

#include "registry.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = xstrndup ((const char *) data, size); /* a header value: stops at a NUL */
  struct www_auth a;
  struct strbuf err = STRBUF_INIT;
  if (www_auth_parse (s, &a, &err) == 0)
    {
      /* Accepted: a non-empty scheme, every parameter a string. */
      if (a.scheme == NULL || !*a.scheme)
        __builtin_trap ();
      www_auth_release (&a);
    }
  else if (err.len == 0)
    __builtin_trap (); /* refused without a reason */
  strbuf_release (&err);
  free (s);
  return 0;
}
