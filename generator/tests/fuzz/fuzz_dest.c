/* fuzz_dest.c: libFuzzer target for publish's --to REGISTRY[/REPO] parser. The input's first
   line is --to, the rest the matrix repository it falls back on. */
#include <stdint.h>
#include <string.h>

#include "publish.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = xstrndup ((const char *) data, size); /* command-line text: stop at a NUL */
  char *nl = strchr (s, '\n');
  const char *def = "myrepo/pytorch-cuda";
  if (nl)
    {
      *nl = '\0';
      def = nl + 1;
    }
  struct publish_dest d;
  struct strbuf err = STRBUF_INIT;
  if (publish_parse_dest (s, def, &d, &err) == 0)
    {
      /* What was accepted is a host and a non-empty repository. */
      if (!*d.host || !*d.repo)
        __builtin_trap ();
      publish_dest_release (&d);
    }
  strbuf_release (&err);
  free (s);
  return 0;
}
