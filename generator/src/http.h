/* http.h: plain downloads with libcurl, for inputs that are not wheels (the Debian packages
   nvcc comes from). Integrity is the caller's: every such file is pinned by sha256, which is
   what makes plain http from a mirror safe. */
#ifndef PCGEN_HTTP_H
#define PCGEN_HTTP_H

#include "strbuf.h"

#define DEFAULT_DEBIAN_MIRROR "http://deb.debian.org/debian"

/* libcurl's process-wide setup and teardown (curl_global_init is not thread-safe): main() calls
   them once, around the command, before any thread starts. http_global_init returns 0, or -1. */
int http_global_init (void);
void http_global_cleanup (void);

/* A base URL from a command-line option, else the environment variable var, else fallback,
   without a trailing '/' (owned by the caller): every mirror setting reads the same way. */
char *url_setting (const char *option, const char *var, const char *fallback);

/* $PCGEN_DEBIAN_MIRROR without a trailing '/', else DEFAULT_DEBIAN_MIRROR (owned by the caller). */
char *debian_mirror (void);

/* Download url into dst (created or truncated). Progress on stderr, labelled with `label`:
   received/total bytes rewritten in place on a terminal, a line per quarter otherwise.
   expect_size (0: unknown) sizes the progress when the server does not. A non-2xx status,
   a short transfer or a write error fails. Returns 0, or -1 with err; HTTP_UNREACHABLE (also
   < 0) when no server answered (name not resolved, connection refused, timed out): the mirror
   is down or not reachable from here, not wrong. */
#define HTTP_UNREACHABLE (-2)
int http_download (const char *url, const char *dst, unsigned long long expect_size, const char *label,
                   struct strbuf *err);

#endif
