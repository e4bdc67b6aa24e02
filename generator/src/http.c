/* http.c: see http.h. */
#include "http.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *
url_setting (const char *option, const char *var, const char *fallback)
{
  const char *m = option;
  if (m == NULL || *m == '\0')
    m = getenv (var);
  if (m == NULL || *m == '\0')
    m = fallback;
  size_t n = strlen (m);
  while (n > 1 && m[n - 1] == '/')
    n--;
  return xstrndup (m, n);
}

char *
debian_mirror (void)
{
  return url_setting (NULL, "PCGEN_DEBIAN_MIRROR", DEFAULT_DEBIAN_MIRROR);
}

struct download_progress
{
  const char *label;
  unsigned long long expect;
  int tty;
  int quarter; /* the last quarter reported (plain output) */
  struct timespec last;
  int printed;
  curl_off_t shown; /* bytes in the last line drawn (terminal) */
};

static int
on_progress (void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  (void) ultotal;
  (void) ulnow;
  struct download_progress *p = data;
  double total = dltotal > 0 ? (double) dltotal : (double) p->expect;
  if (p->tty)
    {
      struct timespec now;
      clock_gettime (CLOCK_MONOTONIC, &now);
      double dt = (double) (now.tv_sec - p->last.tv_sec) + (double) (now.tv_nsec - p->last.tv_nsec) / 1e9;
      /* At most 4 redraws a second, the final count once. */
      int done = total > 0 && (double) dlnow >= total;
      if ((p->printed && dlnow == p->shown) || (dt < 0.25 && !done))
        return 0;
      p->last = now;
      p->shown = dlnow;
      if (total > 0)
        fprintf (stderr, "\rfetch: %s: %.1f / %.1f MB (%.0f%%)  ", p->label, (double) dlnow / 1e6, total / 1e6,
                 100.0 * (double) dlnow / total);
      else
        fprintf (stderr, "\rfetch: %s: %.1f MB  ", p->label, (double) dlnow / 1e6);
      p->printed = 1;
      return 0;
    }
  if (total > 0)
    {
      int q = (int) (4.0 * (double) dlnow / total);
      if (q > p->quarter && q < 4)
        {
          p->quarter = q;
          fprintf (stderr, "fetch: %s: %.1f / %.1f MB\n", p->label, (double) dlnow / 1e6, total / 1e6);
        }
    }
  return 0;
}

int
http_global_init (void)
{
  return curl_global_init (CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
http_global_cleanup (void)
{
  curl_global_cleanup ();
}

int
http_download (const char *url, const char *dst, unsigned long long expect_size, const char *label,
               struct strbuf *err)
{
  FILE *f = fopen (dst, "wbe");
  if (f == NULL)
    return strbuf_addf (err, "cannot create '%s': %s", dst, strerror (errno)), -1;
  CURL *c = curl_easy_init ();
  if (c == NULL)
    {
      fclose (f);
      return strbuf_addstr (err, "cannot initialize libcurl"), -1;
    }
  char cerr[CURL_ERROR_SIZE] = "";
  struct download_progress p = { label, expect_size, isatty (STDERR_FILENO), 0, { 0, 0 }, 0, -1 };
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, f); /* libcurl's default writer: fwrite */
  curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt (c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, cerr);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A stalled mirror: under 1 kB/s for a minute fails rather than hangs. */
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (c, CURLOPT_USERAGENT, "pcgen (pytorch-cuda)");
  curl_easy_setopt (c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt (c, CURLOPT_XFERINFODATA, &p);
  curl_easy_setopt (c, CURLOPT_NOPROGRESS, 0L);
  CURLcode r = curl_easy_perform (c);
  if (p.printed)
    fputc ('\n', stderr);
  int rc = 0;
  if (r != CURLE_OK)
    {
      strbuf_addf (err, "cannot download %s: %s", url, *cerr ? cerr : curl_easy_strerror (r));
      rc = r == CURLE_COULDNT_RESOLVE_HOST || r == CURLE_COULDNT_RESOLVE_PROXY || r == CURLE_COULDNT_CONNECT
                   || r == CURLE_OPERATION_TIMEDOUT
               ? HTTP_UNREACHABLE
               : -1;
    }
  curl_easy_cleanup (c);
  if (fflush (f) != 0 || ferror (f))
    {
      if (rc == 0)
        strbuf_addf (err, "cannot write '%s': %s", dst, strerror (errno));
      rc = -1;
    }
  if (fclose (f) != 0 && rc == 0)
    {
      strbuf_addf (err, "cannot write '%s': %s", dst, strerror (errno));
      rc = -1;
    }
  return rc;
}
