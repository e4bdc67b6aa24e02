/* pypi.h: a client of the simple repository API in its JSON form, and byte ranges of the files
   it lists. The conventions followed, and where they come from:
   - PEP 691: GET {index}/{project}/ with `Accept: application/vnd.pypi.simple.v1+json`; the
     answer has `meta.api-version`, `name` and `files[]`, each with `filename`, `url` (maybe
     relative to the page), `hashes` (a map, sha256 when the index has it), `requires-python`,
     `yanked` (false, true, or the reason as a string).
   - PEP 700: `upload-time` and `size` per file (read when present, never required).
   - PEP 658 / PEP 714: when a file has `core-metadata` (PEP 714's name) or, from older indexes,
     `data-dist-info-metadata`, its METADATA is served alone at `url` + ".metadata"; the value is
     true or a map of hashes of that metadata file.
   - PEP 503: project names normalized, page URL ends with '/'. */
#ifndef PCGEN_PYPI_H
#define PCGEN_PYPI_H

#include <stdint.h>

#include "lazywheel.h"
#include "strbuf.h"

#define DEFAULT_PYPI_SIMPLE "https://pypi.org/simple"
#define PYPI_JSON_TYPE "application/vnd.pypi.simple.v1+json"

struct pypi_file
{
  char *filename;
  char *url;          /* absolute: resolved against the page's URL */
  char *sha256;       /* NULL when the index gives none */
  char *requires_python;
  char *upload_time;
  uint64_t size;      /* 0 when the index does not say */
  int yanked;
  int core_metadata;  /* PEP 658/714: url + ".metadata" exists */
  char *core_metadata_sha256;
};

struct pypi_project
{
  char *name;
  struct pypi_file *files;
  size_t nfiles;
};

/* $PCGEN_PYPI_SIMPLE without a trailing '/', else DEFAULT_PYPI_SIMPLE (owned by the caller). */
char *pypi_simple_index (const char *option);

/* GET the project's page from `index` and parse it. Returns 0, or -1 with err. */
int pypi_project_get (const char *index, const char *project, struct pypi_project *p, struct strbuf *err);
/* Parse a PEP 691 JSON page fetched from `page_url`. Returns 0, or -1 with err. */
int pypi_project_parse (const char *json, size_t len, const char *page_url, struct pypi_project *p,
                        struct strbuf *err);
void pypi_project_release (struct pypi_project *p);

/* A wheel file name's parts (PEP 427: name-version[-build]-python-abi-platform.whl), owned by
   the caller. Returns 0, or -1 when it is not a wheel name. */
struct wheel_name
{
  char *name, *version, *python, *abi, *platform;
};
int wheel_name_parse (const char *filename, struct wheel_name *w);
void wheel_name_release (struct wheel_name *w);

/* GET url into out (at most cap bytes). accept: the Accept header, or NULL; content_type, when
   not NULL, receives the answer's Content-Type. Returns 0, or -1 with err naming the URL. */
int http_get (const char *url, const char *accept, size_t cap, struct strbuf *out, char **content_type,
              struct strbuf *err);

/* A range_source (lazywheel.h) of HTTP range requests to url (RFC 9110 14.1.2: `bytes=-N` for
   the tail, `bytes=A-B` then). A server that answers 200 instead of 206 has no range support:
   the request stops at once and the source answers LAZY_NO_RANGES. */
struct http_ranges
{
  struct range_source src;
  char *url;
  uint64_t bytes; /* received over all requests */
};
void http_ranges_init (struct http_ranges *h, const char *url);
void http_ranges_release (struct http_ranges *h);

#endif

/* How pypi_wheel_metadata got the METADATA: what `pcgen kb update` reports. */
struct metadata_fetch
{
  const char *how;   /* "PEP 658 .metadata", "range requests", "full download" */
  unsigned requests;
  uint64_t bytes;
};

/* The METADATA of the wheel `f`, the cheapest way the index allows: PEP 658's `.metadata`
   file (checked against its sha256 when the index gives one), else range requests
   (lazywheel.h), else, when the server has no range support, the whole wheel into a temporary
   file (checked against the index's sha256, then removed). Returns 0, or -1 with err. */
int pypi_wheel_metadata (const struct pypi_file *f, struct strbuf *meta, struct metadata_fetch *info,
                         struct strbuf *err);
