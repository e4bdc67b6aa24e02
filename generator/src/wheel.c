/* wheel.c: a wheel's member paths and METADATA read with libarchive, and METADATA's
   Requires-Dist lines parsed (see wheel.h). */
#include "wheel.h"
#include "pip.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHUNK (1u << 20)

/* A wheel opened for reading with libarchive's zip reader (seekable: the one that takes names
   from the central directory and skips member data), or NULL with err. */
static struct archive *
open_wheel (const char *wheel, int seekable, struct strbuf *err)
{
  struct archive *a = archive_read_new ();
  if (seekable)
    archive_read_support_format_zip_seekable (a);
  else
    archive_read_support_format_zip (a);
  if (archive_read_open_filename (a, wheel, CHUNK) != ARCHIVE_OK)
    {
      strbuf_addf (err, "cannot open wheel '%s': %s", wheel, archive_error_string (a));
      archive_read_free (a);
      return NULL;
    }
  return a;
}

int
wheel_members (const char *wheel, struct strbuf *out, struct strbuf *err)
{
  struct archive *a = open_wheel (wheel, 1, err);
  if (a == NULL)
    return -1;
  struct archive_entry *ae;
  int r;
  while ((r = archive_read_next_header (a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    strbuf_addf (out, "%s\n", archive_entry_pathname (ae) ? archive_entry_pathname (ae) : "");
  if (r != ARCHIVE_EOF)
    strbuf_addf (err, "cannot read wheel '%s': %s", wheel, archive_error_string (a));
  archive_read_free (a);
  return r == ARCHIVE_EOF ? 0 : -1;
}

int
wheel_read_metadata (const char *wheel, struct strbuf *out, struct strbuf *err)
{
  struct archive *a = open_wheel (wheel, 0, err);
  if (a == NULL)
    return -1;
  int rc = -1;
  struct archive_entry *ae;
  int r;
  while ((r = archive_read_next_header (a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      const char *p = archive_entry_pathname (ae);
      const char *slash = p ? strchr (p, '/') : NULL;
      if (!slash || strcmp (slash, "/METADATA") != 0 || slash - p < 11 || strncmp (slash - 10, ".dist-info", 10) != 0)
        continue;
      char buf[65536];
      la_ssize_t n;
      while ((n = archive_read_data (a, buf, sizeof buf)) > 0)
        strbuf_add (out, buf, (size_t) n);
      rc = n < 0 ? -1 : 0;
      if (rc < 0)
        strbuf_addf (err, "cannot read the METADATA of '%s': %s", wheel, archive_error_string (a));
      break;
    }
  if (rc < 0 && err->len == 0)
    strbuf_addf (err, "wheel '%s' has no .dist-info/METADATA", wheel);
  archive_read_free (a);
  return rc;
}

static char *
trimmed (const char *s, size_t n)
{
  while (n && isspace ((unsigned char) *s))
    s++, n--;
  while (n && isspace ((unsigned char) s[n - 1]))
    n--;
  return n ? xstrndup (s, n) : NULL;
}

/* "name (==1.2) ; marker", "name==1.2; marker", "name[extra]>=1; marker". */
static int
parse_requirement (const char *line, struct requirement *r)
{
  memset (r, 0, sizeof *r);
  const char *semi = strchr (line, ';');
  size_t body = semi ? (size_t) (semi - line) : strlen (line);
  if (semi)
    r->marker = trimmed (semi + 1, strlen (semi + 1));
  size_t name_len = 0;
  while (name_len < body && (isalnum ((unsigned char) line[name_len]) || strchr ("-_.", line[name_len])))
    name_len++;
  if (name_len == 0)
    return -1;
  cleanup_free char *raw = xstrndup (line, name_len);
  r->name = pep503_name (raw);
  const char *rest = line + name_len;
  size_t rest_len = body - name_len;
  if (rest_len && *rest == '[')
    {
      const char *close = memchr (rest, ']', rest_len);
      if (close == NULL)
        return -1;
      rest_len -= (size_t) (close + 1 - rest);
      rest = close + 1;
    }
  /* Drop the optional parentheses around the specifier. */
  struct strbuf spec = STRBUF_INIT;
  for (size_t i = 0; i < rest_len; i++)
    if (rest[i] != '(' && rest[i] != ')' && !isspace ((unsigned char) rest[i]))
      strbuf_addch (&spec, rest[i]);
  if (spec.len)
    {
      r->spec = strbuf_detach (&spec, NULL);
      if (starts_with (r->spec, "==") && !strchr (r->spec, ',') && !strchr (r->spec, '*'))
        r->version = xstrdup (r->spec + 2);
    }
  strbuf_release (&spec);
  return 0;
}

static int
marker_has_extra (const char *m)
{
  for (const char *p = m ? strstr (m, "extra") : NULL; p; p = strstr (p + 1, "extra"))
    {
      const char *q = p + 5;
      while (isspace ((unsigned char) *q))
        q++;
      if ((p == m || !isalnum ((unsigned char) p[-1])) && q[0] == '=' && q[1] == '=')
        return 1;
    }
  return 0;
}

char *
metadata_field (const char *meta, const char *key)
{
  size_t kl = strlen (key);
  for (const char *line = meta; line && *line && *line != '\n' && *line != '\r';)
    {
      const char *end = strchr (line, '\n');
      size_t len = end ? (size_t) (end - line) : strlen (line);
      if (len > kl && strncasecmp (line, key, kl) == 0 && line[kl] == ':')
        {
          const char *v = line + kl + 1;
          while (*v == ' ' || *v == '\t')
            v++;
          size_t vl = len - (size_t) (v - line);
          while (vl && isspace ((unsigned char) v[vl - 1]))
            vl--;
          return xstrndup (v, vl);
        }
      line = end ? end + 1 : NULL;
    }
  return NULL;
}

int
metadata_requirements (const char *metadata, struct requirement **out, size_t *n)
{
  struct requirement *v = NULL;
  size_t alloc = 0;
  *n = 0;
  for (const char *line = metadata; line && *line;)
    {
      const char *end = strchr (line, '\n');
      size_t len = end ? (size_t) (end - line) : strlen (line);
      if (len == 0 || (len == 1 && line[0] == '\r'))
        break; /* the headers end at the first empty line; the description follows */
      if (strncmp (line, "Requires-Dist:", 14) == 0)
        {
          cleanup_free char *text = trimmed (line + 14, len - 14);
          struct requirement r;
          if (text && parse_requirement (text, &r) == 0 && !marker_has_extra (r.marker))
            {
              ARRAY_GROW (v, *n + 1, alloc);
              v[(*n)++] = r;
            }
          else if (text)
            {
              free (r.name);
              free (r.version);
              free (r.spec);
              free (r.marker);
            }
        }
      line = end ? end + 1 : NULL;
    }
  *out = v;
  return 0;
}

void
requirements_free (struct requirement *r, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (r[i].name);
      free (r[i].version);
      free (r[i].spec);
      free (r[i].marker);
    }
  free (r);
}
