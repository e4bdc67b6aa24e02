/* wheel.h: reading a wheel without unpacking it: its member paths, its .dist-info/METADATA and
   the requirements METADATA lists (Requires-Dist). */
#ifndef PCGEN_WHEEL_H
#define PCGEN_WHEEL_H

#include "strbuf.h"

/* Every member path of a wheel, one per line, into out. Returns 0, or -1 with err. */
int wheel_members (const char *wheel, struct strbuf *out, struct strbuf *err);

/* A wheel's .dist-info/METADATA, into out. Returns 0, or -1 with a message in err. */
int wheel_read_metadata (const char *wheel, struct strbuf *out, struct strbuf *err);

/* The value of METADATA's first `key:` header (RFC 822 style: the key in any case, before the
   blank line; a dpkg status paragraph reads the same), trimmed; NULL when absent. */
char *metadata_field (const char *meta, const char *key);

/* Requires-Dist lines of METADATA without an `extra ==` marker: name (normalized: lowercase,
   runs of '-', '_', '.' as '-') and the exact version when pinned with '==' (else NULL). */
struct requirement
{
  char *name;
  char *version;
  char *spec;   /* the version specifier as written ("==2.1", ">=4.10.0,<5"), or NULL */
  char *marker; /* the text after ';', or NULL */
};
int metadata_requirements (const char *metadata, struct requirement **out, size_t *n);
void requirements_free (struct requirement *r, size_t n);

#endif
