/* test_registry.c: the registry client's parsing (registry.h): WWW-Authenticate challenges as
   registries send them (distribution's htpasswd and token auth, Docker Hub, ghcr.io), several
   challenges in one value, quoted-pair escapes, and malformed values refused with the byte
   (credentials: test_credentials.c). */
#include "check.h"
#include "fsutil.h"
#include "registry.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/pcgen-test-registry.XXXXXX";

#define CHECK_NULL_OR(a, b) CHECK_STR ((a) ? (a) : "(null)", (b))

static void
test_www_auth (void)
{
  struct www_auth a;
  struct strbuf err = STRBUF_INIT;
  /* Docker Hub's. */
  CHECK_INT (www_auth_parse ("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                             "scope=\"repository:library/ubuntu:pull,push\"",
                             &a, &err),
             0);
  CHECK_STR (a.scheme, "Bearer");
  CHECK_NULL_OR (a.realm, "https://auth.docker.io/token");
  CHECK_NULL_OR (a.service, "registry.docker.io");
  CHECK_NULL_OR (a.scope, "repository:library/ubuntu:pull,push");
  CHECK (a.error == NULL);
  www_auth_release (&a);
  /* distribution's htpasswd. */
  CHECK_INT (www_auth_parse ("Basic realm=\"pctest\"", &a, &err), 0);
  CHECK_STR (a.scheme, "Basic");
  CHECK_NULL_OR (a.realm, "pctest");
  CHECK (a.service == NULL && a.scope == NULL);
  www_auth_release (&a);
  /* Case, spaces around '=' and ',', unquoted values, an error parameter, unknown ones. */
  CHECK_INT (www_auth_parse ("bearer  Realm = https://ghcr.io/token , service=ghcr.io,x-foo=\"1\","
                             " error=\"insufficient_scope\"",
                             &a, &err),
             0);
  CHECK_STR (a.scheme, "bearer");
  CHECK_NULL_OR (a.realm, "https://ghcr.io/token");
  CHECK_NULL_OR (a.service, "ghcr.io");
  CHECK_NULL_OR (a.error, "insufficient_scope");
  www_auth_release (&a);
  /* Several challenges: the first Basic or Bearer one; a token68 skipped; quoted pairs. */
  CHECK_INT (www_auth_parse ("Negotiate abc==, Basic realm=\"a \\\"q\\\" b\", Bearer realm=\"x\"", &a, &err), 0);
  CHECK_STR (a.scheme, "Basic");
  CHECK_NULL_OR (a.realm, "a \"q\" b");
  www_auth_release (&a);
  CHECK_INT (www_auth_parse ("Negotiate", &a, &err), 0);
  CHECK_STR (a.scheme, "Negotiate");
  www_auth_release (&a);
  /* Refused, with where. */
  const char *bad[] = { "", "   ", "Bearer realm=\"unterminated", "Bearer realm=\"a\" service=\"b\"", "=x", "Bearer realm=\"a\",@" };
  const char *why[] = { "empty", "empty", "unterminated quoted string at byte 26", "expected ',' at byte 17", "no auth scheme at byte 0",
                        "unexpected '@' at byte 17" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      strbuf_reset (&err);
      CHECK_INT (www_auth_parse (bad[i], &a, &err), -1);
      if (strstr (err.buf, why[i]) == NULL)
        {
          check_failed++;
          fprintf (stderr, "%s:%d: '%s': got '%s', want '%s'\n", __FILE__, __LINE__, bad[i], err.buf, why[i]);
        }
      else
        check_passed++;
    }
  strbuf_release (&err);
}

int
main (void)
{
  if (mkdtemp (dir) == NULL)
    return 1;
  test_www_auth ();
  return check_summary_in ("registry", dir);
}
