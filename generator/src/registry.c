/* registry.c: see registry.h. */
#include "registry.h"
#include "cache.h"
#include "fsutil.h"
#include "util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* --- WWW-Authenticate (RFC 7235 2.1, 4.1; RFC 7230 3.2.6 token and quoted-string) */

static int
tchar (int c)
{
  return isalnum (c) || (c && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *
skip_ows (const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* A token at p: its length (0: none). */
static size_t
token_len (const char *p)
{
  size_t n = 0;
  while (tchar ((unsigned char) p[n]))
    n++;
  return n;
}

static void
set_param (struct www_auth *a, const char *name, size_t nn, char *value)
{
  char **slot = NULL;
  if (nn == 5 && strncasecmp (name, "realm", 5) == 0)
    slot = &a->realm;
  else if (nn == 7 && strncasecmp (name, "service", 7) == 0)
    slot = &a->service;
  else if (nn == 5 && strncasecmp (name, "scope", 5) == 0)
    slot = &a->scope;
  else if (nn == 5 && strncasecmp (name, "error", 5) == 0)
    slot = &a->error;
  if (slot && *slot == NULL)
    *slot = value;
  else
    free (value);
}

/* One challenge at *pp: scheme, then auth-params up to the next challenge or the end. */
static int
parse_challenge (const char *start, const char **pp, struct www_auth *a, struct strbuf *err)
{
  const char *p = skip_ows (*pp);
  size_t n = token_len (p);
  if (n == 0)
    return strbuf_addf (err, "no auth scheme at byte %zu", (size_t) (p - start)), -1;
  a->scheme = xstrndup (p, n);
  p = skip_ows (p + n);
  int first = 1;
  while (*p)
    {
      /* A parameter (token "="), or after a comma the next challenge (a token and no '='). */
      int comma = 0;
      const char *q = p;
      while (*q == ',')
        q = skip_ows (q + 1), comma = 1;
      if (*q == '\0')
        {
          p = q;
          break;
        }
      if (!first && !comma)
        return strbuf_addf (err, "expected ',' at byte %zu", (size_t) (q - start)), -1;
      size_t tn = token_len (q);
      if (tn == 0)
        return strbuf_addf (err, "unexpected '%c' at byte %zu", *q, (size_t) (q - start)), -1;
      const char *after = skip_ows (q + tn);
      if (*after != '=')
        {
          if (comma)
            {
              p = q; /* the next challenge */
              break;
            }
          /* A token68 right after the scheme ("Negotiate abc"): no registry parameter, skipped. */
          p = after;
          first = 0;
          continue;
        }
      first = 0;
      const char *v = skip_ows (after + 1);
      struct strbuf val = STRBUF_INIT;
      if (*v == '"')
        {
          v++;
          while (*v && *v != '"')
            {
              if (*v == '\\' && v[1])
                v++;
              strbuf_addch (&val, *v++);
            }
          if (*v != '"')
            {
              strbuf_release (&val);
              return strbuf_addf (err, "unterminated quoted string at byte %zu", (size_t) (v - start)), -1;
            }
          v++;
        }
      else
        {
          /* A token; leniently anything up to a ',' or a space, for the unquoted URLs some
             servers send ("realm=https://…"). */
          size_t vn = strcspn (v, ", \t\"");
          strbuf_add (&val, v, vn);
          v += vn;
        }
      set_param (a, q, tn, strbuf_detach (&val, NULL));
      p = skip_ows (v);
    }
  *pp = p;
  return 0;
}

void
www_auth_release (struct www_auth *a)
{
  free (a->scheme);
  free (a->realm);
  free (a->service);
  free (a->scope);
  free (a->error);
  memset (a, 0, sizeof *a);
}

int
www_auth_parse (const char *value, struct www_auth *out, struct strbuf *err)
{
  memset (out, 0, sizeof *out);
  const char *p = value;
  int have = 0;
  while (*skip_ows (p))
    {
      struct www_auth a = { 0 };
      const char *before = p;
      if (parse_challenge (value, &p, &a, err) < 0)
        {
          www_auth_release (&a);
          www_auth_release (out);
          return -1;
        }
      int known = strcasecmp (a.scheme, "Bearer") == 0 || strcasecmp (a.scheme, "Basic") == 0;
      if (!have || (known && strcasecmp (out->scheme, "Bearer") != 0 && strcasecmp (out->scheme, "Basic") != 0))
        {
          www_auth_release (out);
          *out = a;
          have = 1;
        }
      else
        www_auth_release (&a);
      if (p == before) /* no progress: cannot happen, but never loop */
        break;
    }
  if (!have)
    return strbuf_addstr (err, "empty WWW-Authenticate"), -1;
  return 0;
}

/* --- credentials */

static char *
b64 (const char *s)
{
  size_t n = strlen (s);
  char *out = xmalloc (4 * ((n + 2) / 3) + 1);
  EVP_EncodeBlock ((unsigned char *) out, (const unsigned char *) s, (int) n);
  return out;
}

void
registry_creds_release (struct registry_creds *c)
{
  secret_free (c->user);
  secret_free (c->password);
  free (c->source);
  memset (c, 0, sizeof *c);
}

/* --- requests */

struct registry
{
  char *base; /* "http://127.0.0.1:5000" */
  char *host, *repo;
  struct registry_creds creds;
  char *authz;      /* the Authorization header line, or NULL */
  int sent_basic;   /* authz is our Basic credentials: a 401 now means they are wrong */
  char *mount_from; /* a repository the bearer token must also cover (pull), or NULL */
  CURL *curl;
};

struct response
{
  long status;
  struct strbuf body;
  char *location, *digest, *www_auth;
};

static void
response_release (struct response *p)
{
  strbuf_release (&p->body);
  free (p->location);
  free (p->digest);
  free (p->www_auth);
  memset (p, 0, sizeof *p);
  strbuf_init (&p->body, 0);
}

static size_t
on_header (char *buf, size_t size, size_t n, void *ctx)
{
  struct response *p = ctx;
  size_t len = size * n;
  if (len >= 5 && strncmp (buf, "HTTP/", 5) == 0)
    {
      /* A new response (after a redirect or a 100 Continue): forget the last one's headers. */
      free (p->location), free (p->digest), free (p->www_auth);
      p->location = p->digest = p->www_auth = NULL;
      return len;
    }
  const char *colon = memchr (buf, ':', len);
  if (colon == NULL)
    return len;
  size_t nn = (size_t) (colon - buf);
  const char *v = colon + 1;
  size_t vn = len - nn - 1;
  while (vn && (*v == ' ' || *v == '\t'))
    v++, vn--;
  while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
    vn--;
  char **slot = nn == 8 && strncasecmp (buf, "Location", 8) == 0                 ? &p->location
                : nn == 21 && strncasecmp (buf, "Docker-Content-Digest", 21) == 0 ? &p->digest
                : nn == 16 && strncasecmp (buf, "WWW-Authenticate", 16) == 0      ? &p->www_auth
                                                                                  : NULL;
  if (slot && *slot == NULL)
    *slot = xstrndup (v, vn);
  return len;
}

static size_t
on_body (char *buf, size_t size, size_t n, void *ctx)
{
  struct response *p = ctx;
  if (p->body.len < (1u << 20)) /* errors and tokens are small; never hold more */
    strbuf_add (&p->body, buf, size * n);
  return size * n;
}

struct request
{
  const char *method; /* HEAD GET POST PUT */
  const char *url;
  const char *content_type, *accept;
  const char *body; /* PUT from memory */
  const char *file; /* PUT from a file of file_size bytes */
  unsigned long long file_size;
  int no_auth; /* the token request: its own credentials */
};

static int
send_once (struct registry *r, const struct request *q, struct response *p, struct strbuf *err)
{
  CURL *c = r->curl;
  char cerr[CURL_ERROR_SIZE] = "";
  struct curl_slist *h = NULL;
  FILE *f = NULL;
  response_release (p);
  curl_easy_reset (c);
  curl_easy_setopt (c, CURLOPT_URL, q->url);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, cerr);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, p);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, p);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (c, CURLOPT_USERAGENT, "pcgen");
  if (q->content_type)
    {
      char *line = xasprintf ("Content-Type: %s", q->content_type);
      h = curl_slist_append (h, line);
      free (line);
    }
  if (q->accept)
    {
      char *line = xasprintf ("Accept: %s", q->accept);
      h = curl_slist_append (h, line);
      free (line);
    }
  if (!q->no_auth && r->authz)
    h = curl_slist_append (h, r->authz);
  if (streq (q->method, "HEAD"))
    curl_easy_setopt (c, CURLOPT_NOBODY, 1L);
  else if (streq (q->method, "POST"))
    {
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE, 0L);
    }
  else if (streq (q->method, "PUT") && q->file)
    {
      f = fopen (q->file, "rbe");
      if (f == NULL)
        {
          curl_slist_free_all (h);
          return strbuf_addf (err, "cannot open '%s': %s", q->file, strerror (errno)), -1;
        }
      curl_easy_setopt (c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt (c, CURLOPT_READDATA, f);
      curl_easy_setopt (c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) q->file_size);
      /* PCGEN_PUSH_RATE_LIMIT: bytes per second per upload (curl --limit-rate), for a shared
         uplink; tests/registry/push.sh uses it to kill the registry mid-upload. */
      const char *rate = getenv ("PCGEN_PUSH_RATE_LIMIT");
      if (rate && *rate)
        curl_easy_setopt (c, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t) strtoll (rate, NULL, 10));
      if (q->content_type == NULL)
        h = curl_slist_append (h, "Content-Type: application/octet-stream");
    }
  else if (streq (q->method, "PUT"))
    {
      curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, "PUT");
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, q->body);
      curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen (q->body));
    }
  else if (streq (q->method, "GET"))
    {
      curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt (c, CURLOPT_MAXREDIRS, 5L);
    }
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
  CURLcode cc = curl_easy_perform (c);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all (h);
  if (f)
    fclose (f);
  if (cc != CURLE_OK)
    return strbuf_addf (err, "%s %.*s: %s", q->method, (int) strcspn (q->url, "?"), q->url, *cerr ? cerr : curl_easy_strerror (cc)), -1;
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &p->status);
  return 0;
}

/* The registry's own reason: the first errors[].code and message of its JSON body (spec,
   "Error Codes"), else nothing. */
static void
registry_reason (const struct response *p, struct strbuf *out)
{
  json_t *j = p->body.len ? json_loadb (p->body.buf, p->body.len, 0, NULL) : NULL;
  json_t *e = json_array_get (json_object_get (j, "errors"), 0);
  const char *code = json_string_value (json_object_get (e, "code"));
  const char *msg = json_string_value (json_object_get (e, "message"));
  if (code)
    strbuf_addf (out, ": %s%s%s", code, msg ? ": " : "", msg ? msg : "");
  json_decref (j);
}

static void
append_query (struct strbuf *url, const char *name, const char *value, CURL *c)
{
  char *esc = curl_easy_escape (c, value, 0);
  strbuf_addf (url, "%c%s=%s", strchr (url->buf, '?') ? '&' : '?', name, esc);
  curl_free (esc);
}

/* After "needs credentials": where none came from (a credential helper that had none), and how to
   give some. */
static void
no_creds_hint (const struct registry *r, struct strbuf *err)
{
  if (r->creds.source)
    strbuf_addf (err, ": %s; docker login %s, or set PCGEN_REGISTRY_USER and PCGEN_REGISTRY_PASSWORD", r->creds.source,
                 r->host);
  else
    strbuf_addf (err, ": set PCGEN_REGISTRY_USER and PCGEN_REGISTRY_PASSWORD, or docker login %s", r->host);
}

/* A Bearer challenge: ask realm for a token covering this repository (pull, push), what the
   challenge asked for, and the mount source (pull). */
static int
get_token (struct registry *r, const struct www_auth *a, struct strbuf *err)
{
  if (a->realm == NULL || !*a->realm)
    return strbuf_addf (err, "%s asks for a Bearer token but names no realm", r->host), -1;
  struct strbuf url = STRBUF_INIT;
  strbuf_addstr (&url, a->realm);
  if (a->service)
    append_query (&url, "service", a->service, r->curl);
  cleanup_free char *own = xasprintf ("repository:%s:pull,push", r->repo);
  append_query (&url, "scope", own, r->curl);
  if (a->scope && !streq (a->scope, own))
    append_query (&url, "scope", a->scope, r->curl);
  if (r->mount_from)
    {
      cleanup_free char *from = xasprintf ("repository:%s:pull", r->mount_from);
      append_query (&url, "scope", from, r->curl);
    }
  struct request q = { "GET", url.buf, NULL, NULL, NULL, NULL, 0, 1 };
  struct response p = { 0, STRBUF_INIT, NULL, NULL, NULL };
  /* The credentials as Basic on the token request only (libcurl builds the header). */
  int rc = -1;
  char *basic = NULL;
  if (r->creds.user)
    {
      cleanup_free char *pair = xasprintf ("%s:%s", r->creds.user, r->creds.password);
      char *enc = b64 (pair);
      basic = xasprintf ("Authorization: Basic %s", enc);
      secret_free (enc);
      OPENSSL_cleanse (pair, strlen (pair));
    }
  char *saved = r->authz;
  r->authz = basic;
  q.no_auth = basic == NULL;
  int sr = send_once (r, &q, &p, err);
  r->authz = saved;
  secret_free (basic);
  if (sr < 0)
    goto out;
  if (p.status == 401 || p.status == 403)
    {
      if (r->creds.user)
        strbuf_addf (err, "%s refused the credentials from %s (user '%s'): the token service %s answered %ld", r->host,
                     r->creds.source, r->creds.user, a->realm, p.status);
      else
        {
          strbuf_addf (err, "%s needs credentials (the token service %s answered %ld)", r->host, a->realm, p.status);
          no_creds_hint (r, err);
        }
      goto out;
    }
  if (p.status != 200)
    {
      strbuf_addf (err, "the token service %s answered %ld", a->realm, p.status);
      goto out;
    }
  json_t *j = json_loadb (p.body.buf, p.body.len, 0, NULL);
  const char *tok = json_string_value (json_object_get (j, "token"));
  if (tok == NULL || !*tok)
    tok = json_string_value (json_object_get (j, "access_token"));
  if (tok && *tok && strcspn (tok, "\r\n") == strlen (tok))
    {
      secret_free (r->authz);
      r->authz = xasprintf ("Authorization: Bearer %s", tok);
      r->sent_basic = 0;
      rc = 0;
    }
  else
    strbuf_addf (err, "the token service %s answered no token", a->realm);
  if (j)
    {
      /* The token in jansson's copy too. */
      const char *t2 = json_string_value (json_object_get (j, "token"));
      if (t2)
        OPENSSL_cleanse ((char *) t2, strlen (t2));
      t2 = json_string_value (json_object_get (j, "access_token"));
      if (t2)
        OPENSSL_cleanse ((char *) t2, strlen (t2));
    }
  json_decref (j);
out:
  OPENSSL_cleanse (p.body.buf, p.body.len);
  response_release (&p);
  strbuf_release (&url);
  return rc;
}

/* A 401: authenticate as its challenge says. Returns 0 (send again), or -1 with err. */
static int
authenticate (struct registry *r, const struct response *p, struct strbuf *err)
{
  struct www_auth a;
  struct strbuf why = STRBUF_INIT;
  if (p->www_auth == NULL || www_auth_parse (p->www_auth, &a, &why) < 0)
    {
      strbuf_addf (err, "%s answered 401 with %s WWW-Authenticate%s%s", r->host, p->www_auth ? "a malformed" : "no",
                   why.len ? ": " : "", why.buf);
      strbuf_release (&why);
      return -1;
    }
  int rc = -1;
  if (strcasecmp (a.scheme, "Basic") == 0)
    {
      if (r->creds.user == NULL)
        {
          strbuf_addf (err, "%s answered 401 unauthorized: it needs a user and password (Basic realm \"%s\")", r->host,
                       a.realm ? a.realm : "");
          no_creds_hint (r, err);
        }
      else if (r->sent_basic)
        strbuf_addf (err, "%s refused the credentials from %s (user '%s'): 401 unauthorized", r->host, r->creds.source,
                     r->creds.user);
      else
        {
          cleanup_free char *pair = xasprintf ("%s:%s", r->creds.user, r->creds.password);
          char *enc = b64 (pair);
          secret_free (r->authz);
          r->authz = xasprintf ("Authorization: Basic %s", enc);
          secret_free (enc);
          OPENSSL_cleanse (pair, strlen (pair));
          r->sent_basic = 1;
          rc = 0;
        }
    }
  else if (strcasecmp (a.scheme, "Bearer") == 0)
    rc = get_token (r, &a, err);
  else
    strbuf_addf (err, "%s asks for the '%s' auth scheme; pcgen speaks Basic and Bearer", r->host, a.scheme);
  www_auth_release (&a);
  strbuf_release (&why);
  return rc;
}

/* send_once, and on a 401 authenticate and send once more. */
static int
send_req (struct registry *r, const struct request *q, struct response *p, struct strbuf *err)
{
  if (send_once (r, q, p, err) < 0)
    return -1;
  if (p->status != 401)
    return 0;
  int had_token = r->authz && !r->sent_basic;
  if (authenticate (r, p, err) < 0)
    return -1;
  if (send_once (r, q, p, err) < 0)
    return -1;
  if (p->status == 401)
    {
      if (r->sent_basic || had_token)
        strbuf_addf (err, "%s refused the credentials from %s (user '%s'): %s %s answered 401", r->host,
                     r->creds.source ? r->creds.source : "-", r->creds.user ? r->creds.user : "-", q->method, q->url);
      else
        {
          /* A token just issued and refused: the registry does not trust what its token
             service signs (RFC 6750 section 3.1: error="invalid_token"). */
          struct www_auth a = { 0 };
          struct strbuf ignored = STRBUF_INIT;
          if (p->www_auth && www_auth_parse (p->www_auth, &a, &ignored) == 0 && a.error && streq (a.error, "invalid_token"))
            strbuf_addf (err, "%s refused the token its token service %s issued (invalid_token): %s %s answered 401; the "
                              "registry does not accept that service's issuer, audience or signing key",
                         r->host, a.realm ? a.realm : "-", q->method, q->url);
          else
            strbuf_addf (err, "%s: %s %s answered 401 after authenticating", r->host, q->method, q->url);
          www_auth_release (&a);
          strbuf_release (&ignored);
        }
      return -1;
    }
  return 0;
}

static int
status_error (struct registry *r, const struct request *q, const struct response *p, struct strbuf *err)
{
  (void) r;
  strbuf_addf (err, "%s %.*s answered %ld", q->method, (int) strcspn (q->url, "?"), q->url, p->status);
  registry_reason (p, err);
  return -1;
}

static int
is_loopback (const char *host)
{
  size_t hn = strcspn (host, ":");
  if (host[0] == '[')
    return starts_with (host, "[::1]");
  return (hn == 9 && strncmp (host, "localhost", 9) == 0) || starts_with (host, "127.");
}

struct registry *
registry_open (const char *host, const char *repo, struct registry_creds *creds)
{
  static int initialized;
  if (!initialized)
    {
      if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
      initialized = 1;
    }
  struct registry *r = xcalloc (1, sizeof *r);
  const char *insecure = getenv ("PCGEN_REGISTRY_INSECURE");
  int plain = is_loopback (host) || (insecure && streq (insecure, "1"));
  r->base = xasprintf ("%s://%s", plain ? "http" : "https", host);
  r->host = xstrdup (host);
  r->repo = xstrdup (repo);
  r->creds = *creds;
  memset (creds, 0, sizeof *creds);
  r->curl = curl_easy_init ();
  if (r->curl == NULL)
    {
      registry_close (r);
      return NULL;
    }
  return r;
}

void
registry_close (struct registry *r)
{
  if (r == NULL)
    return;
  if (r->curl)
    curl_easy_cleanup (r->curl);
  registry_creds_release (&r->creds);
  secret_free (r->authz);
  free (r->base);
  free (r->host);
  free (r->repo);
  free (r->mount_from);
  free (r);
}

/* --- blobs and manifests */

/* Where pcgen records which repository of a registry it pushed a blob to, for mounts:
   CACHE/registry/<host>/<sha> holding the repository's name. */
static char *
pushed_record (const struct registry *r, const char *sha)
{
  return xasprintf ("%s/registry/%s/%s", cache_dir (), r->host, sha);
}

static void
record_pushed (const struct registry *r, const char *sha)
{
  cleanup_free char *path = pushed_record (r, sha);
  cleanup_free char *dir = xasprintf ("%s/registry/%s", cache_dir (), r->host);
  if (file_equals (path, r->repo, strlen (r->repo)) == 1)
    return;
  if (mkdir_p (dir, 0755) == 0)
    write_file_atomic (path, r->repo, strlen (r->repo), 0644); /* a hint only: failing is harmless */
}

static char *
mount_source (const struct registry *r, const char *sha)
{
  cleanup_free char *path = pushed_record (r, sha);
  struct strbuf sb = STRBUF_INIT;
  if (strbuf_read_file (&sb, path, 4096) < 0 || sb.len == 0 || streq (sb.buf, r->repo) || strchr (sb.buf, '\n'))
    {
      strbuf_release (&sb);
      return NULL;
    }
  return strbuf_detach (&sb, NULL);
}

/* An upload location as a whole URL (the spec allows a path relative to the registry). */
static char *
absolute (const struct registry *r, const char *loc)
{
  if (starts_with (loc, "http://") || starts_with (loc, "https://"))
    return xstrdup (loc);
  return xasprintf ("%s%s%s", r->base, loc[0] == '/' ? "" : "/", loc);
}

int
registry_push_blob (struct registry *r, const char *sha, unsigned long long size, const char *path,
                    enum blob_how *how, struct strbuf *err)
{
  cleanup_free char *url = xasprintf ("%s/v2/%s/blobs/sha256:%s", r->base, r->repo, sha);
  struct response p = { 0, STRBUF_INIT, NULL, NULL, NULL };
  struct request head = { "HEAD", url, NULL, NULL, NULL, NULL, 0, 0 };
  int rc = -1;
  cleanup_free char *from = NULL;
  if (send_req (r, &head, &p, err) < 0)
    goto out;
  if (p.status == 200)
    {
      *how = BLOB_PRESENT;
      record_pushed (r, sha);
      rc = 0;
      goto out;
    }
  if (p.status != 404)
    {
      status_error (r, &head, &p, err);
      goto out;
    }
  /* Open an upload, or mount from the repository pcgen pushed it to before. */
  from = mount_source (r, sha);
  struct strbuf post = STRBUF_INIT;
  strbuf_addf (&post, "%s/v2/%s/blobs/uploads/", r->base, r->repo);
  if (from)
    {
      cleanup_free char *digest = xasprintf ("sha256:%s", sha);
      append_query (&post, "mount", digest, r->curl);
      append_query (&post, "from", from, r->curl);
      if (r->mount_from == NULL || !streq (r->mount_from, from))
        {
          /* A bearer token must cover the source too: the next 401 asks for it. */
          free (r->mount_from);
          r->mount_from = xstrdup (from);
        }
    }
  struct request q = { "POST", post.buf, NULL, NULL, NULL, NULL, 0, 0 };
  int sr = send_req (r, &q, &p, err);
  if (sr == 0 && p.status == 201 && from)
    {
      *how = BLOB_MOUNTED;
      record_pushed (r, sha);
      rc = 0;
    }
  else if (sr == 0 && p.status != 202)
    status_error (r, &q, &p, err);
  else if (sr == 0 && p.location == NULL)
    strbuf_addf (err, "POST %s answered 202 without a Location", post.buf);
  strbuf_release (&post);
  if (sr < 0 || rc == 0 || p.status != 202 || p.location == NULL)
    goto out;
  /* One PUT with the whole blob (spec: "Pushing a blob monolithically", POST then PUT). */
  struct strbuf put = STRBUF_INIT;
  char *loc = absolute (r, p.location);
  strbuf_addstr (&put, loc);
  free (loc);
  {
    cleanup_free char *digest = xasprintf ("sha256:%s", sha);
    append_query (&put, "digest", digest, r->curl);
  }
  struct request u = { "PUT", put.buf, NULL, NULL, NULL, path, size, 0 };
  if (send_req (r, &u, &p, err) == 0)
    {
      if (p.status == 201)
        {
          *how = BLOB_UPLOADED;
          record_pushed (r, sha);
          rc = 0;
        }
      else
        status_error (r, &u, &p, err);
    }
  strbuf_release (&put);
out:
  response_release (&p);
  return rc;
}

static int
valid_digest (const char *d)
{
  return d && starts_with (d, "sha256:") && strlen (d) == 7 + 64 && strspn (d + 7, "0123456789abcdef") == 64;
}

int
registry_manifest_digest (struct registry *r, const char *ref, const char *media_type, char **digest,
                          struct strbuf *err)
{
  *digest = NULL;
  cleanup_free char *url = xasprintf ("%s/v2/%s/manifests/%s", r->base, r->repo, ref);
  struct response p = { 0, STRBUF_INIT, NULL, NULL, NULL };
  struct request q = { "HEAD", url, NULL, media_type, NULL, NULL, 0, 0 };
  int rc = -1;
  if (send_req (r, &q, &p, err) < 0)
    goto out;
  if (p.status != 200)
    status_error (r, &q, &p, err);
  else if (!valid_digest (p.digest))
    strbuf_addf (err, "HEAD %s answered no sha256 Docker-Content-Digest", url);
  else
    {
      *digest = xstrdup (p.digest);
      rc = 0;
    }
out:
  response_release (&p);
  return rc;
}

int
registry_put_manifest (struct registry *r, const char *ref, const char *media_type, const char *body,
                       char **digest, struct strbuf *err)
{
  *digest = NULL;
  cleanup_free char *url = xasprintf ("%s/v2/%s/manifests/%s", r->base, r->repo, ref);
  struct response p = { 0, STRBUF_INIT, NULL, NULL, NULL };
  struct request q = { "PUT", url, media_type, NULL, body, NULL, 0, 0 };
  int rc = -1;
  if (send_req (r, &q, &p, err) < 0)
    goto out;
  if (p.status != 201 && p.status != 200)
    status_error (r, &q, &p, err);
  else if (valid_digest (p.digest))
    {
      *digest = xstrdup (p.digest);
      rc = 0;
    }
  else
    rc = registry_manifest_digest (r, ref, media_type, digest, err);
out:
  response_release (&p);
  return rc;
}
