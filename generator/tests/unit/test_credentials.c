/* test_credentials.c: where publish's credentials come from (credentials.h): the environment;
   a docker config's "auths" (base64 user:password, keys written as URLs); the order docker/cli's
   GetAuthConfig gives credHelpers, credsStore and auths; a credential helper's answers read as
   docker-credential-helpers' client.Get reads them (helper_answer_parse, the cases as data);
   and the test double tests/registry/docker-credential-pcgentest run for real: the argument
   "get" and the server URL on stdin, not found, an identity token, a helper not on PATH, one
   that hangs, killed by the timeout, and one that prints without end, stopped at 64 KiB. Run from the repository root (tests/run-tests). */
#include "check.h"
#include "credentials.h"
#include "fsutil.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/pcgen-test-credentials.XXXXXX";
static char *cfg;

#define CHECK_NULL_OR(a, b) CHECK_STR ((a) ? (a) : "(null)", (b))

static void
write_cfg (const char *json)
{
  CHECK_INT (write_file_atomic (cfg, json, strlen (json), 0600), 0);
}

/* credentials_find for host: its return, with c and e kept for checks. */
static int
find (const char *host, struct registry_creds *c, struct error *e)
{
  err_reset (e);
  return credentials_find (host, c, e);
}

static void
test_env_and_auths (void)
{
  struct registry_creds c;
  struct error e = ERROR_INIT;
  unlink (cfg);
  /* Nothing anywhere: no credentials, no error. */
  CHECK_INT (find ("localhost:5000", &c, &e), 0);
  CHECK (c.user == NULL && c.password == NULL && c.source == NULL);
  registry_creds_release (&c);
  /* docker login's auths: "u:p:w" is user u, password "p:w"; a key written as a URL
     (file_store.go ConvertToHostname). */
  write_cfg ("{\"auths\":{\"localhost:5000\":{\"auth\":\"dTpwOnc=\"},\"https://ghcr.io/v1/\":{\"auth\":"
             "\"YWxpY2U6c2VjcmV0\"}},\"credHelpers\":{\"gcr.io\":\"pcgen-no-such-helper\"}}");
  CHECK_INT (find ("localhost:5000", &c, &e), 0);
  CHECK_NULL_OR (c.user, "u");
  CHECK_NULL_OR (c.password, "p:w");
  CHECK_NULL_OR (c.source, cfg);
  registry_creds_release (&c);
  CHECK_INT (find ("ghcr.io", &c, &e), 0);
  CHECK_NULL_OR (c.user, "alice");
  CHECK_NULL_OR (c.password, "secret");
  registry_creds_release (&c);
  /* A helper that is not on PATH: named, with where it is configured and the host. */
  CHECK_INT (find ("gcr.io", &c, &e), -1);
  CHECK_INT (e.kind, ERR_ENV);
  CHECK_CONTAINS (e.msg.buf, "credential helper docker-credential-pcgen-no-such-helper (credHelpers in ");
  CHECK_CONTAINS (e.msg.buf, " for gcr.io: docker-credential-pcgen-no-such-helper is not on PATH");
  registry_creds_release (&c);
  /* The environment wins; half of it is an error naming both. */
  setenv ("PCGEN_REGISTRY_USER", "ci", 1);
  setenv ("PCGEN_REGISTRY_PASSWORD", "pw", 1);
  CHECK_INT (find ("gcr.io", &c, &e), 0);
  CHECK_NULL_OR (c.user, "ci");
  CHECK_NULL_OR (c.password, "pw");
  registry_creds_release (&c);
  unsetenv ("PCGEN_REGISTRY_PASSWORD");
  CHECK_INT (find ("localhost:5000", &c, &e), -1);
  CHECK_CONTAINS (e.msg.buf, "PCGEN_REGISTRY_USER is set but PCGEN_REGISTRY_PASSWORD is not");
  unsetenv ("PCGEN_REGISTRY_USER");
  /* Not base64 of user:password; an empty user (file.go decodeAuth refuses it). */
  write_cfg ("{\"auths\":{\"localhost:5000\":{\"auth\":\"bm9jb2xvbg==\"},\"h2\":{\"auth\":\"OnB3\"}}}");
  CHECK_INT (find ("localhost:5000", &c, &e), -1);
  CHECK_CONTAINS (e.msg.buf, "not base64 of user:password");
  CHECK_INT (find ("h2", &c, &e), -1);
  CHECK_CONTAINS (e.msg.buf, "not base64 of user:password");
  /* An identity token in auths: refused, saying what to do. */
  write_cfg ("{\"auths\":{\"localhost:5000\":{\"identitytoken\":\"tok\"}}}");
  CHECK_INT (find ("localhost:5000", &c, &e), -1);
  CHECK_CONTAINS (e.msg.buf, "holds an identity token for localhost:5000");
  /* Not JSON: the file, line and column, and nothing of the text (it may be an auth). */
  write_cfg ("{\"auths\": {\n  \"localhost:5000\": {\"auth\": \"c2VjcmV0\n}");
  CHECK_INT (find ("localhost:5000", &c, &e), -1);
  CHECK_INT (e.kind, ERR_ENV);
  CHECK_NULL_OR (e.file, cfg);
  CHECK_INT (e.where.line, 2);
  CHECK (strstr (e.msg.buf, "c2Vj") == NULL);
  CHECK_CONTAINS (e.msg.buf, "not valid JSON");
  err_release (&e);
}

/* What a helper said, as data: its stdout, its exit status, what it means, and the user and
   secret or the reason. */
static void
test_answers (void)
{
  static const struct
  {
    const char *out;
    int status;
    enum helper_said said;
    const char *user, *secret_or_why;
  } cases[] = {
    /* json.NewEncoder's line, as every helper prints it */
    { "{\"ServerURL\":\"h\",\"Username\":\"u\",\"Secret\":\"s\"}\n", 0, HELPER_CREDS, "u", "s" },
    /* Go's encoding/json: names case-insensitive, unknown members ignored, the first value only */
    { " {\"username\":\"u2\",\"SECRET\":\"s2\",\"Extra\":[1,{}]} trailing", 0, HELPER_CREDS, "u2", "s2" },
    { "{\"Username\":\"AWS\",\"Secret\":\"\"}", 0, HELPER_CREDS, "AWS", "" },
    /* credentials/error.go's message, trimmed, with a failing exit */
    { "credentials not found in native keychain\n", 1, HELPER_NOT_FOUND, NULL, NULL },
    { "  credentials not found in native keychain  ", 3, HELPER_NOT_FOUND, NULL, NULL },
    /* the same message with exit 0 is not JSON */
    { "credentials not found in native keychain\n", 0, HELPER_BAD, NULL, "not JSON (at byte" },
    /* Username "<token>" (Go escapes < and >) */
    { "{\"ServerURL\":\"h\",\"Username\":\"\\u003ctoken\\u003e\",\"Secret\":\"rt\"}\n", 0, HELPER_IDENTITY_TOKEN, NULL,
      NULL },
    { "{\"ServerURL\":\"h\",\"Username\":\"\",\"Secret\":\"\"}", 0, HELPER_EMPTY, NULL, NULL },
    { "null", 0, HELPER_EMPTY, NULL, NULL },
    { "{\"Secret\":\"s\"}", 0, HELPER_BAD, NULL, "a Secret without a Username" },
    { "{\"Username\":1,\"Secret\":\"s\"}", 0, HELPER_BAD, NULL, "\"Username\" is not a string" },
    { "{\"Username\":\"u\",\"Secret\":[\"s\"]}", 0, HELPER_BAD, NULL, "\"Secret\" is not a string" },
    { "[]", 0, HELPER_BAD, NULL, "not a JSON object" },
    { "", 0, HELPER_BAD, NULL, "not JSON" },
    /* a failure: its stdout's first line, never a JSON one (it may hold the secret) */
    { "error getting credentials: keychain locked\nmore\n", 1, HELPER_BAD, NULL, "exit 1: error getting credentials: keychain locked" },
    { "{\"Username\":\"u\",\"Secret\":\"hunter2\"}\n", 2, HELPER_BAD, NULL, "exit 2 (its stdout holds JSON, not shown)" },
    { "", 1, HELPER_BAD, NULL, "exit 1, nothing on stdout" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char *u = NULL, *s = NULL;
      struct strbuf why = STRBUF_INIT;
      enum helper_said said = helper_answer_parse (cases[i].out, strlen (cases[i].out), cases[i].status, &u, &s, &why);
      if (said != cases[i].said)
        fprintf (stderr, "case %zu: '%s'\n", i, cases[i].out);
      CHECK_INT (said, cases[i].said);
      if (cases[i].said == HELPER_CREDS)
        {
          CHECK_NULL_OR (u, cases[i].user);
          CHECK_NULL_OR (s, cases[i].secret_or_why);
        }
      else
        {
          CHECK (u == NULL && s == NULL);
          if (cases[i].secret_or_why)
            CHECK_CONTAINS (why.buf, cases[i].secret_or_why);
          CHECK (strstr (why.buf, "hunter2") == NULL);
        }
      secret_free (u);
      secret_free (s);
      strbuf_release (&why);
    }
}

/* The test double, run for real. */
static void
test_helper (void)
{
  struct registry_creds c;
  struct error e = ERROR_INIT;
  char cwd[4096];
  CHECK (getcwd (cwd, sizeof cwd) != NULL);
  char *double_path = xasprintf ("%s/tests/registry/docker-credential-pcgentest", cwd);
  CHECK_INT (access (double_path, X_OK), 0);
  char *path = xasprintf ("%s/tests/registry:%s", cwd, getenv ("PATH") ? getenv ("PATH") : "/usr/bin:/bin");
  char *old_path = xstrdup (getenv ("PATH") ? getenv ("PATH") : "/usr/bin:/bin");
  setenv ("PATH", path, 1);
  char *store = xasprintf ("%s/store.json", dir), *log = xasprintf ("%s/helper.log", dir);
  setenv ("PCGEN_TEST_CREDS", store, 1);
  setenv ("PCGEN_TEST_HELPER_LOG", log, 1);
  const char *creds = "{\"reg.example:5000\":{\"Username\":\"hu\",\"Secret\":\"hs\"},"
                      "\"https://index.docker.io/v1/\":{\"Username\":\"hub\",\"Secret\":\"hubs\"},"
                      "\"tok.example\":{\"Username\":\"<token>\",\"Secret\":\"rt-9f3e7\"}}";
  CHECK_INT (write_file_atomic (store, creds, strlen (creds), 0600), 0);
  /* credsStore: the helper, not the host's auths (native_store.go takes only the email from
     the file); "get" and the server URL on stdin without a newline. */
  write_cfg ("{\"credsStore\":\"pcgentest\",\"auths\":{\"reg.example:5000\":{\"auth\":\"eDp5\"}}}");
  CHECK_INT (find ("reg.example:5000", &c, &e), 0);
  CHECK_NULL_OR (c.user, "hu");
  CHECK_NULL_OR (c.password, "hs");
  CHECK_NULL_OR (c.source, "docker-credential-pcgentest");
  registry_creds_release (&c);
  struct strbuf said = STRBUF_INIT;
  CHECK_INT (strbuf_read_file (&said, log, 4096), 0);
  CHECK_STR (said.buf, "{\"argv\": [\"get\"], \"stdin\": \"reg.example:5000\"}\n");
  strbuf_release (&said);
  /* Docker Hub's key (file.go getAuthConfigKey). */
  CHECK_INT (find ("docker.io", &c, &e), 0);
  CHECK_NULL_OR (c.user, "hub");
  registry_creds_release (&c);
  /* credHelpers for the host wins over credsStore; "" for a host means its auths. */
  write_cfg ("{\"credsStore\":\"pcgen-no-such-helper\",\"credHelpers\":{\"reg.example:5000\":\"pcgentest\","
             "\"other:1\":\"\"},\"auths\":{\"other:1\":{\"auth\":\"eDp5\"}}}");
  CHECK_INT (find ("reg.example:5000", &c, &e), 0);
  CHECK_NULL_OR (c.user, "hu");
  registry_creds_release (&c);
  CHECK_INT (find ("other:1", &c, &e), 0);
  CHECK_NULL_OR (c.user, "x");
  CHECK_NULL_OR (c.password, "y");
  registry_creds_release (&c);
  CHECK_INT (find ("third:2", &c, &e), -1);
  CHECK_CONTAINS (e.msg.buf, "docker-credential-pcgen-no-such-helper (credsStore in ");
  /* Not found: no credentials and no error; the source says which helper had none. */
  write_cfg ("{\"credHelpers\":{\"none.example\":\"pcgentest\",\"tok.example\":\"pcgentest\"}}");
  CHECK_INT (find ("none.example", &c, &e), 0);
  CHECK (c.user == NULL && c.password == NULL);
  CHECK_NULL_OR (c.source, "docker-credential-pcgentest has no credentials for none.example");
  registry_creds_release (&c);
  /* An identity token: a clear error, without the token. */
  CHECK_INT (find ("tok.example", &c, &e), -1);
  CHECK_INT (e.kind, ERR_ENV);
  CHECK_CONTAINS (e.msg.buf, "credential helper docker-credential-pcgentest (credHelpers in ");
  CHECK_CONTAINS (e.msg.buf, "holds an identity token for tok.example");
  CHECK (strstr (e.msg.buf, "rt-9f3e7") == NULL);
  /* A helper that hangs: killed after the timeout, named with the host. */
  setenv ("PCGEN_TEST_HELPER_HANG", "1", 1);
  setenv ("PCGEN_CREDENTIAL_HELPER_TIMEOUT", "1", 1);
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  CHECK_INT (find ("none.example", &c, &e), -1);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  double took = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
  CHECK (took >= 0.9 && took < 5);
  CHECK_CONTAINS (e.msg.buf, "docker-credential-pcgentest (credHelpers in ");
  CHECK_CONTAINS (e.msg.buf, " for none.example: no answer within 1 s (PCGEN_CREDENTIAL_HELPER_TIMEOUT), killed");
  char *pidfile = xasprintf ("%s.pid", log);
  struct strbuf pid = STRBUF_INIT;
  CHECK_INT (strbuf_read_file (&pid, pidfile, 64), 0);
  CHECK (pid.len > 0 && kill ((pid_t) atoi (pid.buf), 0) < 0 && errno == ESRCH); /* killed and reaped */
  strbuf_release (&pid);
  unsetenv ("PCGEN_TEST_HELPER_HANG");
  /* One that prints without end: stopped at 64 KiB. */
  setenv ("PCGEN_TEST_HELPER_FLOOD", "1", 1);
  CHECK_INT (find ("none.example", &c, &e), -1);
  CHECK_CONTAINS (e.msg.buf, " for none.example: answered more than 65536 bytes, killed");
  unsetenv ("PCGEN_TEST_HELPER_FLOOD");
  setenv ("PCGEN_CREDENTIAL_HELPER_TIMEOUT", "soon", 1);
  CHECK_INT (find ("none.example", &c, &e), -1);
  CHECK_CONTAINS (e.msg.buf, "PCGEN_CREDENTIAL_HELPER_TIMEOUT='soon': give whole seconds");
  unsetenv ("PCGEN_CREDENTIAL_HELPER_TIMEOUT");
  unsetenv ("PCGEN_TEST_CREDS");
  unsetenv ("PCGEN_TEST_HELPER_LOG");
  setenv ("PATH", old_path, 1);
  err_release (&e);
  free (pidfile);
  free (store);
  free (log);
  free (path);
  free (old_path);
  free (double_path);
}

int
main (void)
{
  if (mkdtemp (dir) == NULL)
    return 1;
  char *cfgdir = xasprintf ("%s/docker", dir);
  cfg = xasprintf ("%s/config.json", cfgdir);
  mkdir (cfgdir, 0700);
  setenv ("DOCKER_CONFIG", cfgdir, 1);
  unsetenv ("PCGEN_REGISTRY_USER");
  unsetenv ("PCGEN_REGISTRY_PASSWORD");
  unsetenv ("PCGEN_CREDENTIAL_HELPER_TIMEOUT");
  test_env_and_auths ();
  test_answers ();
  test_helper ();
  free (cfgdir);
  free (cfg);
  return check_summary_in ("credentials", dir);
}
