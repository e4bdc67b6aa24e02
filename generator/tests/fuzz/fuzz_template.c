/* fuzz_template.c: libFuzzer target for the template engine: the input is a template,
   rendered against a fixed context with every JSON type; partials are off and the output cap
   small, so the engine's own bounds (cap, steps, nesting) are what the fuzzer meets.
   A crash file replays with build/fuzz/fuzz_template CRASHFILE. */
#include <stdint.h>
#include <stdlib.h>

#include "template.h"

static json_t *ctx;

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (ctx == NULL)
    ctx = json_loads ("{\"tag\":\"2.6.0-cuda12.4-cudnn9-runtime\",\"n\":3,\"r\":0.25,\"t\":true,"
                      "\"f\":false,\"z\":null,\"e\":[],\"s\":\"\",\"cuda\":{\"version\":\"12.4\","
                      "\"full\":\"12.4.127\"},\"layers\":[{\"name\":\"a\"},{\"name\":\"b\"},"
                      "{\"name\":\"c\"}],\"l\":[[1,2],[3,[4,5]]]}",
                      0, NULL);
  struct template_opts opts = { NULL, 64 * 1024 };
  struct diags d = DIAGS_INIT;
  struct strbuf out = STRBUF_INIT;
  template_render ("fuzz.tmpl", (const char *) data, size, ctx, &opts, &out, &d);
  strbuf_release (&out);
  diags_release (&d);
  return 0;
}
