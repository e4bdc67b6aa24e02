/* fuzz_report.c: libFuzzer target for pip_report_parse, which reads pip's JSON installation
   report (pip install --dry-run --report). The input is the report's text. */
#include <stdint.h>
#include <string.h>

#include "pip.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = xstrndup ((const char *) data, size);
  struct strbuf err = STRBUF_INIT;
  struct pip_wheel *w = NULL;
  size_t n = 0;
  int rc = pip_report_parse (text, &w, &n, &err);
  /* Every wheel read has a name, a version and a wheel file name without '/'; a failure says why. */
  for (size_t i = 0; i < n; i++)
    if (!w[i].name || !w[i].version || !w[i].file || strchr (w[i].file, '/') || (w[i].sha256 && strlen (w[i].sha256) != 64))
      __builtin_trap ();
  if ((rc < 0) != (err.len > 0) || (rc < 0 && n))
    __builtin_trap ();
  pip_wheels_free (w, n);
  strbuf_release (&err);
  free (text);
  return 0;
}
