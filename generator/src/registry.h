/* registry.h: a registry client for `pcgen publish` (OCI distribution spec, "Pushing blobs",
   "Pushing manifests"; libcurl), so that what the registry stores is what pcgen computed
   (docs/publishing.md):
     blob      HEAD /v2/<name>/blobs/<digest>: 200 means present, nothing sent; else a
               cross-repository mount (POST …/blobs/uploads/?mount=<digest>&from=<repo>) when
               pcgen pushed the blob to another repository of the same registry before (201:
               done; 202: the registry opened an upload instead), else POST …/blobs/uploads/
               then one PUT <location>?digest=<digest> with the whole blob (monolithic)
     manifest  PUT /v2/<name>/manifests/<tag> with its media type; the Docker-Content-Digest
               answered must be the digest pcgen computed
   Auth: a 401's WWW-Authenticate decides. Basic: the credentials below, base64. Bearer
   (realm, service, scope): GET realm?service=…&scope=… with the credentials as Basic (or none),
   then the token as "Authorization: Bearer". The credentials come from credentials_find
   (credentials.h); they live in this process's memory only (no file, no argv) and are cleansed
   when released. */
#ifndef PCGEN_REGISTRY_H
#define PCGEN_REGISTRY_H

#include "strbuf.h"

/* One challenge of a WWW-Authenticate value (RFC 7235 section 4.1): the scheme ("Bearer",
   "Basic", as written) and the parameters a registry sends (NULL when absent). */
struct www_auth
{
  char *scheme;
  char *realm, *service, *scope, *error;
};

/* The first challenge of value whose scheme is Bearer or Basic (case-insensitive), else the
   first one. Parameters: token "=" (token / quoted-string), quoted-pair unescaped; unknown
   ones are skipped. Returns 0, or -1 with err saying what is malformed and at which byte. */
int www_auth_parse (const char *value, struct www_auth *out, struct strbuf *err);
void www_auth_release (struct www_auth *a);

struct registry_creds
{
  char *user, *password; /* NULL: none */
  /* for messages: "PCGEN_REGISTRY_USER/PCGEN_REGISTRY_PASSWORD", "/root/.docker/config.json",
     "docker-credential-ecr-login"; with no user, why there is none (or NULL) */
  char *source;
};

void registry_creds_release (struct registry_creds *c);

struct registry;

/* A client for host's repository repo: http:// for localhost, 127.0.0.0/8 and ::1 (as the
   engine treats them) or with PCGEN_REGISTRY_INSECURE=1, else https://. It takes over creds
   (released by registry_close). */
struct registry *registry_open (const char *host, const char *repo, struct registry_creds *creds);
void registry_close (struct registry *r);

enum blob_how
{
  BLOB_PRESENT,
  BLOB_MOUNTED,
  BLOB_UPLOADED
};

/* Make blob sha256:<sha> (size bytes at path) present in the repository; *how says how.
   Returns 0, or -1 with err (the request, the status and the registry's own error message). */
int registry_push_blob (struct registry *r, const char *sha, unsigned long long size, const char *path,
                        enum blob_how *how, struct strbuf *err);

/* PUT the manifest bytes as ref (a tag) with media_type; *digest gets the registry's
   Docker-Content-Digest ("sha256:…", asked again by HEAD when the PUT did not say). */
int registry_put_manifest (struct registry *r, const char *ref, const char *media_type, const char *body,
                           char **digest, struct strbuf *err);

/* HEAD /v2/<name>/manifests/<ref>: its Docker-Content-Digest. */
int registry_manifest_digest (struct registry *r, const char *ref, const char *media_type, char **digest,
                              struct strbuf *err);

#endif
