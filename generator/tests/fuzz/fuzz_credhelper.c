/* fuzz_credhelper.c: libFuzzer target for helper_answer_parse (credentials.h), which reads what a
   docker credential helper (any program config.json names) prints. The first byte is its exit
   status, the rest its stdout. */
#include <stdint.h>
#include <string.h>

#include "credentials.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  int status = data[0];
  char *out = xmalloc (size); /* exactly the bytes, not NUL-terminated at size - 1 + 1 */
  memcpy (out, data + 1, size - 1);
  char *user = NULL, *secret = NULL;
  struct strbuf why = STRBUF_INIT;
  enum helper_said said = helper_answer_parse (out, size - 1, status, &user, &secret, &why);
  if (said == HELPER_CREDS)
    {
      /* Credentials: a user (never "<token>"), a secret, no reason. */
      if (user == NULL || !*user || secret == NULL || streq (user, "<token>") || why.len)
        __builtin_trap ();
    }
  else if (user || secret)
    __builtin_trap (); /* nothing handed out otherwise */
  else if (said == HELPER_BAD && why.len == 0)
    __builtin_trap (); /* refused without a reason */
  else if (said != HELPER_BAD && status != 0 && said != HELPER_NOT_FOUND)
    __builtin_trap (); /* a failing exit is not-found or bad */
  secret_free (user);
  secret_free (secret);
  strbuf_release (&why);
  free (out);
  return 0;
}
