/* test_registry.c: the registry client's parsing (registry.h): WWW-Authenticate challenges as
   registries send them (distribution's htpasswd and token auth, Docker Hub, ghcr.io), several
   challenges in one value, quoted-pair escapes, and malformed values refused with the byte;
   credentials from the environment and from a docker config's "auths" (base64 user:password),
   and a credential helper refused by name. */
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

static void
test_creds (void)
{
  struct registry_creds c;
  struct strbuf err = STRBUF_INIT;
  char *cfgdir = xasprintf ("%s/docker", dir), *cfg = xasprintf ("%s/docker/config.json", dir);
  mkdir (cfgdir, 0700);
  setenv ("DOCKER_CONFIG", cfgdir, 1);
  unsetenv ("PCGEN_REGISTRY_USER");
  unsetenv ("PCGEN_REGISTRY_PASSWORD");
  /* Nothing anywhere: no credentials, no error. */
  CHECK_INT (registry_creds_find ("localhost:5000", &c, &err), 0);
  CHECK (c.user == NULL && c.password == NULL);
  registry_creds_release (&c);
  /* docker login's auths: "u:p:w" is user u, password "p:w". */
  const char *json = "{\"auths\":{\"localhost:5000\":{\"auth\":\"dTpwOnc=\"},\"ghcr.io\":{\"auth\":\"YWxpY2U6c2VjcmV0\"}},"
                     "\"credHelpers\":{\"gcr.io\":\"gcloud\"}}";
  CHECK_INT (write_file_atomic (cfg, json, strlen (json), 0600), 0);
  CHECK_INT (registry_creds_find ("localhost:5000", &c, &err), 0);
  CHECK_NULL_OR (c.user, "u");
  CHECK_NULL_OR (c.password, "p:w");
  CHECK_NULL_OR (c.source, cfg);
  registry_creds_release (&c);
  CHECK_INT (registry_creds_find ("ghcr.io", &c, &err), 0);
  CHECK_NULL_OR (c.user, "alice");
  CHECK_NULL_OR (c.password, "secret");
  registry_creds_release (&c);
  /* A helper for the host: refused, naming it and the way out. */
  CHECK_INT (registry_creds_find ("gcr.io", &c, &err), -1);
  CHECK (strstr (err.buf, "docker-credential-gcloud") && strstr (err.buf, "PCGEN_REGISTRY_USER"));
  strbuf_reset (&err);
  /* The environment wins; half of it is an error naming both. */
  setenv ("PCGEN_REGISTRY_USER", "ci", 1);
  setenv ("PCGEN_REGISTRY_PASSWORD", "pw", 1);
  CHECK_INT (registry_creds_find ("localhost:5000", &c, &err), 0);
  CHECK_NULL_OR (c.user, "ci");
  CHECK_NULL_OR (c.password, "pw");
  registry_creds_release (&c);
  unsetenv ("PCGEN_REGISTRY_PASSWORD");
  CHECK_INT (registry_creds_find ("localhost:5000", &c, &err), -1);
  CHECK (strstr (err.buf, "PCGEN_REGISTRY_USER is set but PCGEN_REGISTRY_PASSWORD is not") != NULL);
  unsetenv ("PCGEN_REGISTRY_USER");
  strbuf_reset (&err);
  /* Not base64 of user:password. */
  json = "{\"auths\":{\"localhost:5000\":{\"auth\":\"bm9jb2xvbg==\"}}}";
  CHECK_INT (write_file_atomic (cfg, json, strlen (json), 0600), 0);
  CHECK_INT (registry_creds_find ("localhost:5000", &c, &err), -1);
  CHECK (strstr (err.buf, "not base64 of user:password") != NULL);
  unsetenv ("DOCKER_CONFIG");
  strbuf_release (&err);
  free (cfgdir);
  free (cfg);
}

int
main (void)
{
  if (mkdtemp (dir) == NULL)
    return 1;
  test_www_auth ();
  test_creds ();
  return check_summary_in ("registry", dir);
}
