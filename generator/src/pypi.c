/* pypi.c: see pypi.h. */
#include "pypi.h"
#include "http.h"
#include "util.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_CAP (64u << 20) /* torch's page is ~420 kB */

char *
pypi_simple_index (const char *option)
{
  return url_setting (option, "PCGEN_PYPI_SIMPLE", DEFAULT_PYPI_SIMPLE);
}

struct answer
{
  CURL *c;
  struct strbuf *out;
  size_t cap;
  int ranged;        /* a Range was asked for: a 200 means no range support */
  int no_ranges;     /* ... and that is what came */
  int too_big;
  char *content_type;
  uint64_t range_first, range_total;
  int have_range;
};

static size_t
on_header (char *data, size_t size, size_t n, void *arg)
{
  struct answer *a = arg;
  size_t len = size * n;
  cleanup_free char *line = xstrndup (data, len);
  size_t l = strlen (line);
  while (l && (line[l - 1] == '\r' || line[l - 1] == '\n'))
    line[--l] = '\0';
  if (starts_with (line, "HTTP/"))
    {
      /* A redirect's headers come first: only the last answer's count. */
      free (a->content_type);
      a->content_type = NULL;
      a->have_range = 0;
    }
  char *colon = strchr (line, ':');
  if (colon == NULL)
    return len;
  *colon = '\0';
  const char *v = colon + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  if (strcasecmp (line, "content-type") == 0)
    {
      free (a->content_type);
      a->content_type = xstrdup (v);
    }
  else if (strcasecmp (line, "content-range") == 0)
    {
      /* RFC 9110 14.4: "bytes first-last/complete-length". */
      unsigned long long first, last, total;
      if (sscanf (v, "bytes %llu-%llu/%llu", &first, &last, &total) == 3)
        {
          a->range_first = first;
          a->range_total = total;
          a->have_range = 1;
        }
    }
  return len;
}

static size_t
on_body (char *data, size_t size, size_t n, void *arg)
{
  struct answer *a = arg;
  if (a->ranged && a->out->len == 0)
    {
      long code = 0;
      curl_easy_getinfo (a->c, CURLINFO_RESPONSE_CODE, &code);
      if (code == 200)
        {
          a->no_ranges = 1;
          return 0; /* stop: the whole file is on its way */
        }
    }
  if (a->out->len + size * n > a->cap)
    {
      a->too_big = 1;
      return 0;
    }
  strbuf_add (a->out, data, size * n);
  return size * n;
}

/* One GET. range: NULL or "A-B" / "-N". Returns 0, -1 with err, or LAZY_NO_RANGES. */
static int
get (const char *url, const char *accept, const char *range, size_t cap, struct strbuf *out, struct answer *a,
     struct strbuf *err)
{
  CURL *c = curl_easy_init ();
  if (c == NULL)
    return strbuf_addstr (err, "cannot initialize libcurl"), -1;
  a->c = c;
  a->out = out;
  a->cap = cap;
  a->ranged = range != NULL;
  char cerr[CURL_ERROR_SIZE] = "";
  struct curl_slist *headers = NULL;
  cleanup_free char *accept_line = accept ? xasprintf ("Accept: %s", accept) : NULL;
  if (accept_line)
    headers = curl_slist_append (headers, accept_line);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
  if (range)
    curl_easy_setopt (c, CURLOPT_RANGE, range);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, a);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, a);
  curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt (c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, cerr);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (c, CURLOPT_USERAGENT, "pcgen (pytorch-cuda)");
  CURLcode r = curl_easy_perform (c);
  long code = 0;
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup (c);
  curl_slist_free_all (headers);
  if (a->no_ranges)
    return LAZY_NO_RANGES;
  if (a->too_big)
    return strbuf_addf (err, "%s: more than %zu bytes, refused", url, cap), -1;
  if (r != CURLE_OK)
    return strbuf_addf (err, "cannot read %s: %s", url, *cerr ? cerr : curl_easy_strerror (r)), -1;
  if (range && code != 206)
    return strbuf_addf (err, "%s: expected 206 Partial Content for bytes=%s, got %ld", url, range, code), -1;
  return 0;
}

int
http_get (const char *url, const char *accept, size_t cap, struct strbuf *out, char **content_type,
          struct strbuf *err)
{
  struct answer a = { 0 };
  int rc = get (url, accept, NULL, cap, out, &a, err);
  if (content_type)
    *content_type = a.content_type;
  else
    free (a.content_type);
  return rc;
}

static int
ranges_tail (void *ctx, size_t len, struct strbuf *out, uint64_t *size, struct strbuf *err)
{
  struct http_ranges *h = ctx;
  struct answer a = { 0 };
  char range[32];
  snprintf (range, sizeof range, "-%zu", len);
  int rc = get (h->url, NULL, range, len, out, &a, err);
  free (a.content_type);
  if (rc != 0)
    return rc;
  h->bytes += out->len;
  if (!a.have_range || a.range_total < out->len || a.range_first != a.range_total - out->len)
    return strbuf_addf (err, "%s: expected a Content-Range 'bytes A-B/SIZE' ending at the file's end for bytes=%s",
                        h->url, range), -1;
  *size = a.range_total;
  return 0;
}

static int
ranges_read (void *ctx, uint64_t off, size_t len, struct strbuf *out, struct strbuf *err)
{
  struct http_ranges *h = ctx;
  struct answer a = { 0 };
  char range[64];
  if (len == 0)
    return 0;
  snprintf (range, sizeof range, "%" PRIu64 "-%" PRIu64, off, off + len - 1);
  int rc = get (h->url, NULL, range, len, out, &a, err);
  free (a.content_type);
  if (rc != 0)
    return rc;
  h->bytes += out->len;
  if (out->len != len || !a.have_range || a.range_first != off)
    return strbuf_addf (err, "%s: asked bytes=%s, got %zu bytes from %" PRIu64, h->url, range, out->len,
                        a.range_first), -1;
  return 0;
}

void
http_ranges_init (struct http_ranges *h, const char *url)
{
  memset (h, 0, sizeof *h);
  h->url = xstrdup (url);
  h->src.tail = ranges_tail;
  h->src.read = ranges_read;
  h->src.ctx = h;
  h->src.name = h->url;
}

void
http_ranges_release (struct http_ranges *h)
{
  free (h->url);
  memset (h, 0, sizeof *h);
}

int
wheel_name_parse (const char *filename, struct wheel_name *w)
{
  memset (w, 0, sizeof *w);
  size_t len = strlen (filename);
  if (len < 5 || strcmp (filename + len - 4, ".whl") != 0)
    return -1;
  cleanup_free char *s = xstrndup (filename, len - 4);
  char *part[7];
  size_t n = 0;
  for (char *p = s; n < 7;)
    {
      part[n++] = p;
      char *d = strchr (p, '-');
      if (d == NULL)
        break;
      *d = '\0';
      p = d + 1;
    }
  if (n != 5 && n != 6)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (*part[i] == '\0')
      return -1;
  w->name = xstrdup (part[0]);
  w->version = xstrdup (part[1]);
  w->python = xstrdup (part[n - 3]);
  w->abi = xstrdup (part[n - 2]);
  w->platform = xstrdup (part[n - 1]);
  return 0;
}

void
wheel_name_release (struct wheel_name *w)
{
  free (w->name);
  free (w->version);
  free (w->python);
  free (w->abi);
  free (w->platform);
  memset (w, 0, sizeof *w);
}

/* url resolved against base (RFC 3986 section 5, libcurl's URL API does it). */
static char *
resolve (const char *base, const char *url)
{
  CURLU *u = curl_url ();
  char *out = NULL;
  if (u && curl_url_set (u, CURLUPART_URL, base, 0) == CURLUE_OK && curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK)
    {
      char *s = NULL;
      if (curl_url_get (u, CURLUPART_URL, &s, 0) == CURLUE_OK)
        {
          out = xstrdup (s);
          curl_free (s);
        }
    }
  curl_url_cleanup (u);
  return out;
}

static const char *
jstr (json_t *o, const char *key)
{
  return json_string_value (json_object_get (o, key));
}

static int
is_hex64 (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return 0;
  for (; *s; s++)
    if (!isxdigit ((unsigned char) *s))
      return 0;
  return 1;
}

int
pypi_project_parse (const char *text, size_t len, const char *page_url, struct pypi_project *p, struct strbuf *err)
{
  memset (p, 0, sizeof *p);
  json_error_t je;
  json_t *root = json_loadb (text, len, 0, &je);
  if (root == NULL)
    return strbuf_addf (err, "%s:%d:%d: %s (expected a PEP 691 JSON page)", page_url, je.line, je.column, je.text), -1;
  int rc = -1;
  json_t *meta = json_object_get (root, "meta"), *files = json_object_get (root, "files");
  const char *api = jstr (meta, "api-version");
  if (!json_is_object (root) || !json_is_string (json_object_get (root, "name")) || !json_is_array (files))
    strbuf_addf (err, "%s: expected a PEP 691 project page: an object with 'name' and 'files'", page_url);
  else if (api == NULL || !starts_with (api, "1."))
    strbuf_addf (err, "%s: meta.api-version '%s' is not 1.x (PEP 691: a client refuses another major version)",
                 page_url, api ? api : "");
  else
    {
      p->name = xstrdup (jstr (root, "name"));
      p->files = xcalloc (json_array_size (files) + 1, sizeof *p->files);
      size_t i;
      json_t *f;
      rc = 0;
      json_array_foreach (files, i, f)
      {
        const char *name = jstr (f, "filename"), *url = jstr (f, "url");
        if (name == NULL || url == NULL || !json_is_object (json_object_get (f, "hashes")))
          {
            strbuf_addf (err, "%s: files[%zu]: expected 'filename', 'url' (strings) and 'hashes' (an object)",
                         page_url, i);
            rc = -1;
            break;
          }
        struct pypi_file *pf = &p->files[p->nfiles++];
        pf->filename = xstrdup (name);
        pf->url = resolve (page_url, url);
        if (pf->url == NULL)
          {
            strbuf_addf (err, "%s: files[%zu]: url '%s' is not a URL", page_url, i, url);
            rc = -1;
            break;
          }
        const char *sha = jstr (json_object_get (f, "hashes"), "sha256");
        pf->sha256 = is_hex64 (sha) ? xstrdup (sha) : NULL;
        pf->requires_python = jstr (f, "requires-python") ? xstrdup (jstr (f, "requires-python")) : NULL;
        pf->upload_time = jstr (f, "upload-time") ? xstrdup (jstr (f, "upload-time")) : NULL;
        json_t *size = json_object_get (f, "size");
        pf->size = json_is_integer (size) && json_integer_value (size) > 0 ? (uint64_t) json_integer_value (size) : 0;
        json_t *y = json_object_get (f, "yanked");
        pf->yanked = json_is_string (y) || json_is_true (y);
        /* PEP 714: core-metadata first; data-dist-info-metadata from indexes older than it. */
        json_t *cm = json_object_get (f, "core-metadata");
        if (cm == NULL)
          cm = json_object_get (f, "data-dist-info-metadata");
        pf->core_metadata = json_is_true (cm) || json_is_object (cm);
        const char *cms = json_is_object (cm) ? jstr (cm, "sha256") : NULL;
        pf->core_metadata_sha256 = is_hex64 (cms) ? xstrdup (cms) : NULL;
      }
    }
  json_decref (root);
  if (rc < 0)
    pypi_project_release (p);
  return rc;
}

void
pypi_project_release (struct pypi_project *p)
{
  for (size_t i = 0; i < p->nfiles; i++)
    {
      struct pypi_file *f = &p->files[i];
      free (f->filename);
      free (f->url);
      free (f->sha256);
      free (f->requires_python);
      free (f->upload_time);
      free (f->core_metadata_sha256);
    }
  free (p->files);
  free (p->name);
  memset (p, 0, sizeof *p);
}

int
pypi_project_get (const char *index, const char *project, struct pypi_project *p, struct strbuf *err)
{
  cleanup_free char *url = xasprintf ("%s/%s/", index, project);
  struct strbuf body = STRBUF_INIT;
  char *type = NULL;
  int rc = http_get (url, PYPI_JSON_TYPE, PAGE_CAP, &body, &type, err);
  if (rc == 0)
    {
      /* PEP 691: the server says which format it chose; HTML (PEP 503) is not read here. */
      size_t tl = type ? strcspn (type, "; ") : 0;
      if (type == NULL || tl != strlen (PYPI_JSON_TYPE) || strncasecmp (type, PYPI_JSON_TYPE, tl) != 0)
        {
          strbuf_addf (err, "%s: expected Content-Type %s, got '%s'", url, PYPI_JSON_TYPE, type ? type : "");
          rc = -1;
        }
      else
        rc = pypi_project_parse (body.buf, body.len, url, p, err);
    }
  free (type);
  strbuf_release (&body);
  return rc;
}

#include "digest.h"
#include "http.h"
#include "wheel.h"

#include <unistd.h>

int
pypi_wheel_metadata (const struct pypi_file *f, struct strbuf *meta, struct metadata_fetch *info,
                     struct strbuf *err)
{
  memset (info, 0, sizeof *info);
  if (f->core_metadata)
    {
      cleanup_free char *url = xasprintf ("%s.metadata", f->url);
      info->how = "PEP 658 .metadata";
      info->requests = 1;
      if (http_get (url, NULL, 16u << 20, meta, NULL, err) < 0)
        return -1;
      info->bytes = meta->len;
      if (f->core_metadata_sha256)
        {
          char hex[SHA256_HEX_LEN + 1];
          sha256_hex (meta->buf, meta->len, hex);
          if (strcmp (hex, f->core_metadata_sha256) != 0)
            return strbuf_addf (err, "%s: sha256 %s, but the index says core-metadata sha256 %s", url, hex,
                                f->core_metadata_sha256), -1;
        }
      return 0;
    }
  struct http_ranges h;
  http_ranges_init (&h, f->url);
  info->how = "range requests";
  int rc = lazy_wheel_metadata (&h.src, meta, err);
  info->requests = h.src.requests;
  info->bytes = h.bytes;
  http_ranges_release (&h);
  if (rc != LAZY_NO_RANGES)
    return rc;
  /* The last resort: the whole wheel. */
  strbuf_reset (meta);
  info->how = "full download";
  info->requests++;
  const char *tmp = getenv ("TMPDIR");
  cleanup_free char *path = xasprintf ("%s/pcgen-wheel-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  int fd = mkstemp (path);
  if (fd < 0)
    return strbuf_addf (err, "cannot create '%s': %s", path, strerror (errno)), -1;
  close (fd);
  rc = http_download (f->url, path, f->size, f->filename, err);
  char hex[SHA256_HEX_LEN + 1];
  unsigned long long size = 0;
  if (rc == 0 && sha256_file (path, hex, &size) < 0)
    rc = -1, strbuf_addf (err, "cannot read '%s': %s", path, strerror (errno));
  if (rc == 0)
    {
      info->bytes += size;
      if (f->sha256 && strcmp (hex, f->sha256) != 0)
        rc = -1, strbuf_addf (err, "%s: sha256 %s, but the index says %s", f->url, hex, f->sha256);
    }
  if (rc == 0)
    rc = wheel_read_metadata (path, meta, err);
  unlink (path);
  return rc;
}
