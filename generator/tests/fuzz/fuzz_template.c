/* fuzz_template.c: libFuzzer target for the template engine: the input is a template,
   rendered against a fixed context holding every JSON type (strings, numbers, booleans, null,
   nested objects, lists of objects, lists of lists, empty ones). Partials are off and the
   output cap small, so what the fuzzer meets is the engine's own bounds (output cap, step
   count, section nesting) and its error paths. Diagnostics are released, not printed.
   A crash file replays with build/fuzz/fuzz_template CRASHFILE. */
#include <stdint.h>
#include <stdlib.h>

#include "template.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Built on the first input and kept: it is only read. */
static json_t *
context (void)
{
  static json_t *ctx;
  if (ctx == NULL)
    ctx = json_loads ("{\"tag\":\"2.6.0-cuda12.4-cudnn9-runtime\",\"n\":3,\"neg\":-7,\"r\":0.25,"
                      "\"t\":true,\"f\":false,\"z\":null,\"e\":[],\"o\":{},\"s\":\"\",\"nl\":\"a\\nb\","
                      "\"cuda\":{\"version\":\"12.4\",\"full\":\"12.4.127\",\"major\":12,"
                      "\"arch\":{\"list\":\"8.0;9.0\",\"ptx\":false}},"
                      "\"layers\":[{\"name\":\"a\",\"what\":\"cuda\"},{\"name\":\"b\",\"t\":false},"
                      "{\"name\":\"c\",\"layers\":[{\"name\":\"d\"}]}],"
                      "\"labels\":[{\"key\":\"k1\",\"value\":\"v1\"},{\"key\":\"k2\",\"value\":\"v2\"}],"
                      "\"l\":[[1,2],[3,[4,5]],\"x\",null,true]}",
                      0, NULL);
  if (ctx == NULL)
    abort ();
  return ctx;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct template_opts opts = { NULL, 64 * 1024 };
  struct diags d = DIAGS_INIT;
  struct strbuf out = STRBUF_INIT;
  template_render ("fuzz.tmpl", (const char *) data, size, context (), &opts, &out, &d);
  strbuf_release (&out);
  diags_release (&d);
  return 0;
}
