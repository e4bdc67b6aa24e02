/* fuzz_sbom.c: libFuzzer target for the SBOM's parsers (sbom.h): the license expression reader,
   the license taken from a wheel's METADATA, the dpkg status reader, and a document with the
   input as a package's name, version and license (not UTF-8, not an expression: NOASSERTION). */
#include <stdint.h>
#include <stdlib.h>

#include "sbom.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = xstrndup ((const char *) data, size);
  sbom_license_valid (s);
  free (sbom_metadata_license (s));
  struct sbom_dpkg *d = NULL;
  size_t n = 0;
  sbom_dpkg_parse (s, &d, &n);
  sbom_dpkg_free (d, n);
  struct sbom_package p = { SBOM_WHEEL, s, s, NULL, NULL, NULL, s, s };
  struct sbom_input in = { "fuzz/image:tag", "tag", "1970-01-01T00:00:01Z", "pcgen-fuzz", &p, 1 };
  struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
  sbom_document (&in, &out, &err);
  strbuf_release (&out);
  strbuf_release (&err);
  free (s);
  return 0;
}
