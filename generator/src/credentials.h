/* credentials.h: the credentials `pcgen publish --engine writer` gives a registry, found as the
   docker CLI finds them for `docker push` (docs/publishing.md, "Credentials"):
     1. PCGEN_REGISTRY_USER and PCGEN_REGISTRY_PASSWORD, when both are set;
     2. else the docker config ($DOCKER_CONFIG/config.json, else ~/.docker/config.json), as
        docker/cli's cli/config/configfile/file.go GetAuthConfig reads it: the helper that
        "credHelpers" names for the host, else the "credsStore" helper, else the host's "auths"
        entry (base64 "user:password"). With a helper, "auths" is not read for the host.
   A helper is the program docker-credential-<name> on PATH, run with the argument "get", the
   server URL on stdin and {"ServerURL","Username","Secret"} on stdout (docker-credential-helpers,
   client.Get); no shell, a timeout (PCGEN_CREDENTIAL_HELPER_TIMEOUT seconds, default 60) and a
   bound on what it answers (64 KiB). Its "credentials not found in native keychain" (exit 1)
   means no credentials, as for docker: publishing goes on without any, and a registry's 401
   then names the helper. An identity token (Username "<token>") is refused: pcgen does not
   run docker's OAuth2 refresh-token exchange.
   The secrets live in this process's memory only (no file, no argv, no log) and every copy pcgen
   makes of them is wiped when released. */
#ifndef PCGEN_CREDENTIALS_H
#define PCGEN_CREDENTIALS_H

#include "error.h"
#include "registry.h"

/* Credentials for host ("127.0.0.1:5000", "ghcr.io") into c, as above. None at all is not an
   error (c->user NULL; c->source then says which helper had none, or NULL). A helper that
   cannot run, fails, hangs past the timeout or answers what the protocol does not allow, and a
   config.json that is not JSON, are errors of kind ERR_ENV naming the helper, the host and what
   went wrong in one line (the config: at file:line:col). Returns 0, or -1 with e. */
int credentials_find (const char *host, struct registry_creds *c, struct error *e);

/* What a helper's `get` said (docker-credential-helpers client.Get, credentials.Get). */
enum helper_said
{
  HELPER_CREDS,          /* *user and *secret set (malloc'd; wipe them) */
  HELPER_NOT_FOUND,      /* "credentials not found in native keychain" with a failing exit */
  HELPER_IDENTITY_TOKEN, /* Username "<token>": Secret is an identity (OAuth2 refresh) token */
  HELPER_EMPTY,          /* exit 0 and a JSON answer without a Username or Secret */
  HELPER_BAD             /* anything else: why says what, never quoting a secret */
};

/* Read a helper's answer: out (n bytes, its stdout) and its exit status. Pure (no I/O), for
   the fuzz target and the unit tests. The strings jansson made of out are wiped before they
   are freed; out itself is the caller's to wipe. */
enum helper_said helper_answer_parse (const char *out, size_t n, int status, char **user, char **secret,
                                      struct strbuf *why);

#endif
