/* credentials.c: see credentials.h. */
#include "credentials.h"
#include "run.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* docker-credential-helpers credentials/error.go: the one message every helper prints on stdout
   (and exits 1) when it has nothing for the server; client.Get compares it trimmed. */
#define HELPER_NOT_FOUND_MESSAGE "credentials not found in native keychain"
/* docker/cli cli/config/credentials/native_store.go: tokenUsername. */
#define HELPER_TOKEN_USERNAME "<token>"
/* Credentials are a few KiB at most (an ECR token is ~2 KiB): more is a helper gone wrong. */
#define HELPER_ANSWER_MAX 65536
#define HELPER_TIMEOUT_S 60

/* --- the helper's answer */

/* obj's member name: Go's encoding/json (client.Get decodes into credentials.Credentials)
   matches field names case-insensitively, an exact match first. */
static json_t *
member (json_t *obj, const char *name)
{
  json_t *v = json_object_get (obj, name);
  if (v)
    return v;
  const char *k;
  json_object_foreach (obj, k, v)
    {
      if (strcasecmp (k, name) == 0)
        return v;
    }
  return NULL;
}

/* Wipe every string jansson made of the answer (the secret is one of them). */
static void
wipe_strings (json_t *j)
{
  const char *k;
  json_t *v;
  size_t i;
  if (json_is_string (j))
    OPENSSL_cleanse ((char *) json_string_value (j), json_string_length (j));
  else if (json_is_object (j))
    {
      json_object_foreach (j, k, v)
        wipe_strings (v);
    }
  else if (json_is_array (j))
    {
      json_array_foreach (j, i, v)
        wipe_strings (v);
    }
}

/* Go's strings.TrimSpace, for ASCII (a NUL is not space). */
static int
is_space (char c)
{
  return c == ' ' || (c >= '\t' && c <= '\r');
}

enum helper_said
helper_answer_parse (const char *out, size_t n, int status, char **user, char **secret, struct strbuf *why)
{
  *user = *secret = NULL;
  if (status != 0)
    {
      /* client.Get: a failing exit whose stdout, trimmed, is the not-found message. */
      size_t a = 0, b = n;
      while (a < b && is_space (out[a]))
        a++;
      while (b > a && is_space (out[b - 1]))
        b--;
      if (b - a == strlen (HELPER_NOT_FOUND_MESSAGE) && memcmp (out + a, HELPER_NOT_FOUND_MESSAGE, b - a) == 0)
        return HELPER_NOT_FOUND;
      /* Its error message is its stdout (credentials.Serve prints the error there). Its first
         line, unless it holds JSON: a helper that failed after printing credentials must not
         have them quoted. */
      const char *nl = memchr (out + a, '\n', b - a);
      size_t ln = nl ? (size_t) (nl - (out + a)) : b - a;
      strbuf_addf (why, "exit %d", status);
      if (ln == 0)
        strbuf_addstr (why, ", nothing on stdout");
      else if (memchr (out + a, '{', ln))
        strbuf_addstr (why, " (its stdout holds JSON, not shown)");
      else
        {
          /* one printable line, whatever it wrote */
          strbuf_addstr (why, ": ");
          for (size_t i = a; i < a + (ln > 200 ? 200 : ln); i++)
            strbuf_addch (why, out[i] >= 0x20 && out[i] < 0x7f ? out[i] : '?');
        }
      return HELPER_BAD;
    }
  /* json.NewDecoder(...).Decode: the first JSON value; what follows it is not read. */
  json_error_t je;
  json_t *j = json_loadb (out, n, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &je);
  if (j == NULL)
    {
      /* jansson's text quotes the input near the error: only the position. */
      strbuf_addf (why, "exit 0 but its answer is not JSON (at byte %d of %zu)", je.position, n);
      return HELPER_BAD;
    }
  enum helper_said r = HELPER_BAD;
  json_t *u = NULL, *s = NULL, *url = NULL;
  if (json_is_null (j))
    r = HELPER_EMPTY; /* Go decodes null into the struct as nothing */
  else if (!json_is_object (j))
    strbuf_addstr (why, "exit 0 but its answer is not a JSON object");
  else if ((u = member (j, "Username")) && !json_is_string (u) && !json_is_null (u))
    strbuf_addstr (why, "its \"Username\" is not a string");
  else if ((s = member (j, "Secret")) && !json_is_string (s) && !json_is_null (s))
    strbuf_addstr (why, "its \"Secret\" is not a string");
  else if ((url = member (j, "ServerURL")) && !json_is_string (url) && !json_is_null (url))
    strbuf_addstr (why, "its \"ServerURL\" is not a string");
  else
    {
      const char *us = json_is_string (u) ? json_string_value (u) : "";
      const char *ss = json_is_string (s) ? json_string_value (s) : "";
      if (streq (us, HELPER_TOKEN_USERNAME))
        r = HELPER_IDENTITY_TOKEN;
      else if (!*us && !*ss)
        r = HELPER_EMPTY;
      else if (!*us)
        strbuf_addstr (why, "it answered a Secret without a Username");
      else
        {
          *user = xstrdup (us);
          *secret = xstrdup (ss);
          r = HELPER_CREDS;
        }
    }
  wipe_strings (j);
  json_decref (j);
  return r;
}

/* --- docker's config */

/* docker/cli cli/config/configfile/file.go getAuthConfigKey: Docker Hub's credentials are kept
   under its historical index address; every other registry under its host[:port]. */
static const char *
auth_config_key (const char *host)
{
  if (streq (host, "docker.io") || streq (host, "index.docker.io"))
    return "https://index.docker.io/v1/";
  return host;
}

/* docker/cli cli/config/credentials/file_store.go ConvertToHostname: "https://host:port/v1/"
   -> "host:port" (what older `docker login`s wrote as keys). */
static int
key_is_host (const char *k, const char *host)
{
  const char *p = strstr (k, "://");
  p = p ? p + 3 : k;
  size_t n = strcspn (p, "/");
  return n == strlen (host) && strncmp (p, host, n) == 0;
}

/* The host's "auths" entry (file_store.go Get: the exact key, else a key that converts to it). */
static json_t *
auths_entry (json_t *cfg, const char *key)
{
  json_t *auths = json_object_get (cfg, "auths"), *v = json_object_get (auths, key);
  const char *k;
  if (v)
    return v;
  json_object_foreach (auths, k, v)
    {
      if (key_is_host (k, key))
        return v;
    }
  return NULL;
}

static int
identity_token_error (struct error *e, const char *from, const char *host)
{
  return err_set (e, ERR_ENV,
                  "%s holds an identity token for %s, not a user and password: pcgen does not exchange identity "
                  "tokens (docker's OAuth2 refresh-token grant); docker login %s with a user and password or access "
                  "token, set PCGEN_REGISTRY_USER and PCGEN_REGISTRY_PASSWORD, or publish with --engine docker",
                  from, host, host);
}

/* "auths": base64("user:password"), what `docker login` writes without a helper (file.go
   decodeAuth: the user must not be empty; NULs trimmed from the password). */
static int
from_auths (json_t *cfg, const char *path, const char *host, const char *key, struct registry_creds *c,
            struct error *e)
{
  json_t *entry = auths_entry (cfg, key);
  const char *auth = json_string_value (json_object_get (entry, "auth"));
  const char *itok = json_string_value (json_object_get (entry, "identitytoken"));
  if (itok && *itok)
    {
      cleanup_free char *from = xasprintf ("%s (auths)", path);
      return identity_token_error (e, from, host);
    }
  if (auth == NULL || !*auth)
    return 0;
  size_t n = strlen (auth);
  unsigned char *dec = xcalloc (n + 4, 1);
  int dn = EVP_DecodeBlock (dec, (const unsigned char *) auth, (int) n);
  while (dn > 0 && n > 0 && auth[n - 1] == '=' && dec[dn - 1] == '\0') /* the padding decoded as NULs */
    dn--, n--;
  char *colon = dn > 0 ? memchr (dec, ':', (size_t) dn) : NULL;
  int rc = 0;
  if (colon == NULL || colon == (char *) dec)
    rc = err_set (e, ERR_ENV, "%s: the auths entry of %s is not base64 of user:password", path, host);
  else
    {
      size_t pn = (size_t) dn - (size_t) (colon + 1 - (char *) dec);
      while (pn && colon[pn] == '\0')
        pn--;
      c->user = xstrndup ((char *) dec, (size_t) (colon - (char *) dec));
      c->password = xstrndup (colon + 1, pn);
      c->source = xstrdup (path);
    }
  OPENSSL_cleanse (dec, strlen (auth) + 4);
  free (dec);
  return rc;
}

static int
helper_timeout_s (struct error *e)
{
  const char *t = getenv ("PCGEN_CREDENTIAL_HELPER_TIMEOUT");
  if (t == NULL || !*t)
    return HELPER_TIMEOUT_S;
  char *end;
  errno = 0;
  long v = strtol (t, &end, 10);
  if (errno || *end || v < 1 || v > 3600)
    return err_set (e, ERR_ENV, "PCGEN_CREDENTIAL_HELPER_TIMEOUT='%s': give whole seconds, 1 to 3600", t);
  return (int) v;
}

/* docker-credential-<name> get, the server URL on stdin (docker-credential-helpers client.Get;
   cli/config/credentials/native_store.go getCredentialsFromStore reads the answer). */
static int
from_helper (const char *name, const char *where, const char *path, const char *host, const char *key,
             struct registry_creds *c, struct error *e)
{
  int timeout = helper_timeout_s (e);
  if (timeout < 0)
    return -1;
  cleanup_free char *prog = xasprintf ("docker-credential-%s", name);
  cleanup_free char *who = xasprintf ("credential helper %s (%s in %s)", prog, where, path);
  const char *argv[] = { prog, "get", NULL };
  /* room for one byte more than allowed: reading it means too much */
  char *out = xmalloc (HELPER_ANSWER_MAX + 2);
  size_t n = 0;
  struct run_bounded_opts o = { argv, key, strlen (key), out, HELPER_ANSWER_MAX + 2, &n, timeout * 1000 };
  int st = strchr (name, '/') ? (errno = EINVAL, -1) : run_bounded (&o);
  int rc = -1;
  char *user = NULL, *secret = NULL;
  struct strbuf why = STRBUF_INIT;
  if (st == -1 && errno == ENOENT)
    err_set (e, ERR_ENV, "%s for %s: %s is not on PATH", who, host, prog);
  else if (st == -1)
    err_set (e, ERR_ENV, "%s for %s: cannot run it: %s", who, host, strerror (errno));
  else if (st == RUN_TIMED_OUT)
    err_set (e, ERR_ENV, "%s for %s: no answer within %d s (PCGEN_CREDENTIAL_HELPER_TIMEOUT), killed", who, host,
             timeout);
  else if (st == RUN_TOO_BIG)
    err_set (e, ERR_ENV, "%s for %s: answered more than %d bytes, killed", who, host, HELPER_ANSWER_MAX);
  else
    switch (helper_answer_parse (out, n, st, &user, &secret, &why))
      {
      case HELPER_CREDS:
        c->user = user;
        c->password = secret;
        c->source = xstrdup (prog);
        user = secret = NULL;
        rc = 0;
        break;
      case HELPER_NOT_FOUND:
      case HELPER_EMPTY:
        /* native_store.go: not found is no credentials, not an error; a 401 names the helper. */
        c->source = xasprintf ("%s has no credentials for %s", prog, host);
        rc = 0;
        break;
      case HELPER_IDENTITY_TOKEN:
        identity_token_error (e, who, host);
        break;
      case HELPER_BAD:
        err_set (e, ERR_ENV, "%s for %s: %s", who, host, why.buf);
        break;
      }
  secret_free (user);
  secret_free (secret);
  OPENSSL_cleanse (out, HELPER_ANSWER_MAX + 2);
  free (out);
  strbuf_release (&why);
  return rc;
}

int
credentials_find (const char *host, struct registry_creds *c, struct error *e)
{
  memset (c, 0, sizeof *c);
  const char *user = getenv ("PCGEN_REGISTRY_USER"), *pass = getenv ("PCGEN_REGISTRY_PASSWORD");
  int have_user = user && *user, have_pass = pass && *pass;
  if (have_user != have_pass)
    return err_set (e, ERR_ENV, "%s is set but %s is not: set both, or neither to use docker's own config",
                    have_user ? "PCGEN_REGISTRY_USER" : "PCGEN_REGISTRY_PASSWORD",
                    have_user ? "PCGEN_REGISTRY_PASSWORD" : "PCGEN_REGISTRY_USER");
  if (have_user)
    {
      c->user = xstrdup (user);
      c->password = xstrdup (pass);
      c->source = xstrdup ("PCGEN_REGISTRY_USER/PCGEN_REGISTRY_PASSWORD");
      return 0;
    }
  /* docker's cli/config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
  const char *dc = getenv ("DOCKER_CONFIG"), *home = getenv ("HOME");
  cleanup_free char *path = dc && *dc ? xasprintf ("%s/config.json", dc)
                            : home && *home ? xasprintf ("%s/.docker/config.json", home)
                                            : NULL;
  struct stat st;
  if (path == NULL || (stat (path, &st) < 0 && errno == ENOENT))
    return 0;
  json_error_t je;
  json_t *cfg = json_load_file (path, 0, &je);
  if (cfg == NULL)
    {
      /* Not jansson's text: it quotes the input near the error, which may be an auth. */
      struct mark m = { je.line, je.column, 0 };
      if (je.line < 1)
        return err_set (e, ERR_ENV, "%s", je.text); /* "unable to open PATH: why" */
      return err_at (e, ERR_ENV, path, m, "docker's config is not valid JSON (pcgen reads the credentials of %s from it)",
                     host);
    }
  int rc = 0;
  const char *key = auth_config_key (host);
  /* file.go getConfiguredCredentialStore: the host's credHelpers entry when there is one (even
     ""), else credsStore; GetCredentialsStore: a non-empty name is a helper, else "auths". */
  json_t *helpers = json_object_get (cfg, "credHelpers"), *h = json_object_get (helpers, key);
  const char *where = h ? "credHelpers" : "credsStore";
  const char *helper = json_string_value (h ? h : json_object_get (cfg, "credsStore"));
  if (helper && *helper)
    rc = from_helper (helper, where, path, host, key, c, e);
  else
    rc = from_auths (cfg, path, host, key, c, e);
  wipe_strings (cfg); /* the auths' base64 */
  json_decref (cfg);
  return rc;
}
