/* fuzz_certificate.c: libFuzzer target for certificate_load, which reads a certificate back
   (results/certificates/<image id>.json, a file anyone with the checkout can edit) before
   publish trusts it. The input is the certificate's text, for one fixed image ID. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certify.h"
#include "fsutil.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define ID "sha256:a4e762113a03120b138a2df97cf2d3a11867d2a501573561fdf760e5d2898907"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* certificate_path is relative to the project: a folder of this process's own, entered for
     each input and left after it (libFuzzer reads its corpus by relative paths). */
  static char dir[] = "/tmp/fuzz-certificate.XXXXXX";
  static int ready;
  if (!ready && (mkdtemp (dir) == NULL || (ready = 1, 0)))
    abort ();
  int here = open (".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (here < 0 || chdir (dir) < 0 || mkdir_p ("results/certificates", 0755) < 0)
    abort ();
  cleanup_free char *path = certificate_path (ID);
  if (write_file_atomic (path, (const char *) data, size, 0644) < 0)
    abort ();
  struct certificate c;
  struct strbuf why = STRBUF_INIT;
  int ok = certificate_load (ID, &c, &why);
  /* Read: every word is a known one or -1, and failed_checks is a string; not read: a reason. */
  if (ok && (c.verdict < -1 || c.verdict > VERDICT_FAILED || c.level < -1 || c.level > LEVEL_GPU
             || c.failed_checks == NULL || c.path == NULL))
    __builtin_trap ();
  if (!ok && why.len == 0)
    __builtin_trap ();
  /* Passing is "certified" and nothing else: the word (or a \u escape spelling it) is in the input. */
  strbuf_reset (&why);
  if (ok && certificate_passed_as (&c, &why) != (c.verdict == VERDICT_CERTIFIED))
    __builtin_trap ();
  if (ok && c.verdict == VERDICT_CERTIFIED && memmem (data, size, "certified", 9) == NULL
      && memmem (data, size, "\\u", 2) == NULL)
    __builtin_trap ();
  certificate_release (&c);
  strbuf_release (&why);
  if (fchdir (here) < 0)
    abort ();
  close (here);
  return 0;
}
