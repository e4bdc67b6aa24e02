/* fuzz_pypi.c: libFuzzer target for the PEP 691 JSON project page parser (pypi.c) and the wheel
   file name parser. Seeds: pages shaped like PyPI's (generator/tests/fuzz/seeds/pypi). */
#include <stdint.h>
#include <string.h>

#include "pypi.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct pypi_project p;
  struct strbuf err = STRBUF_INIT;
  if (pypi_project_parse ((const char *) data, size, "https://pypi.example/simple/torch/", &p, &err) == 0)
    {
      for (size_t i = 0; i < p.nfiles; i++)
        {
          struct wheel_name w;
          if (p.files[i].url == NULL || p.files[i].filename == NULL)
            __builtin_trap ();
          if (wheel_name_parse (p.files[i].filename, &w) == 0)
            wheel_name_release (&w);
        }
      pypi_project_release (&p);
    }
  else if (err.len == 0)
    __builtin_trap ();
  strbuf_release (&err);
  return 0;
}
