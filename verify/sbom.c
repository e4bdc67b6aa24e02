/* sbom.c: the image carries its bill of materials (docs/sbom.md): the SPDX 2.3 JSON document
   pcgen writes at /usr/share/doc/pytorch-cuda/sbom.spdx.json (PYTORCH_CUDA_SBOM names another
   file) is there, is JSON (a syntax check: strings with their escapes, balanced objects and
   arrays, one value), says spdxVersion SPDX-2.3, and describes this tag (its name ends in
   ":PC_TAG"). The full SPDX validation is spdx-tools' (tests/writer); this check catches an
   image without it or with a truncated or foreign one. */
#include "verify.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define SBOM_DEFAULT "/usr/share/doc/pytorch-cuda/sbom.spdx.json"
#define SBOM_MAX (64u << 20)

/* A JSON value's syntax from s (whitespace around allowed), depth at most 64. Returns the byte
   after it, or NULL. Numbers and literals are checked loosely (their characters only). */
static const char *
json_value (const char *s, const char *end, int depth)
{
  while (s < end && isspace ((unsigned char) *s))
    s++;
  if (s >= end || depth > 64)
    return NULL;
  if (*s == '"')
    {
      for (s++; s < end && *s != '"'; s++)
        if (*s == '\\')
          s++;
        else if ((unsigned char) *s < 0x20)
          return NULL;
      return s < end ? s + 1 : NULL;
    }
  if (*s == '{' || *s == '[')
    {
      char close = *s == '{' ? '}' : ']';
      int object = *s == '{';
      s++;
      while (s < end && isspace ((unsigned char) *s))
        s++;
      if (s < end && *s == close)
        return s + 1;
      for (;;)
        {
          if (object)
            {
              while (s < end && isspace ((unsigned char) *s))
                s++;
              if (s >= end || *s != '"' || (s = json_value (s, end, depth + 1)) == NULL)
                return NULL;
              while (s < end && isspace ((unsigned char) *s))
                s++;
              if (s >= end || *s++ != ':')
                return NULL;
            }
          if ((s = json_value (s, end, depth + 1)) == NULL)
            return NULL;
          while (s < end && isspace ((unsigned char) *s))
            s++;
          if (s < end && *s == ',')
            {
              s++;
              continue;
            }
          return s < end && *s == close ? s + 1 : NULL;
        }
    }
  const char *start = s;
  while (s < end && (isalnum ((unsigned char) *s) || *s == '-' || *s == '+' || *s == '.'))
    s++;
  return s > start ? s : NULL;
}

void
check_sbom (struct ctx *c, struct check *out)
{
  const char *path = getenv ("PYTORCH_CUDA_SBOM");
  path = path && *path ? path : SBOM_DEFAULT;
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    {
      check_set (out, ST_FAIL, "no SBOM: cannot open %s: %s (pcgen build puts it in every image: docs/sbom.md)", path,
                 strerror (errno));
      return;
    }
  size_t cap = 1 << 20, n = 0;
  char *buf = malloc (cap + 1);
  size_t got;
  while (buf && (got = fread (buf + n, 1, cap - n, f)) > 0)
    {
      n += got;
      if (n == cap && cap < SBOM_MAX)
        {
          char *bigger = realloc (buf, cap * 2 + 1);
          if (bigger == NULL)
            break;
          buf = bigger;
          cap *= 2;
        }
      else if (n == cap)
        break;
    }
  int read_error = ferror (f);
  fclose (f);
  if (buf == NULL || read_error || n == cap)
    {
      check_set (out, ST_FAIL, "cannot read %s%s", path, n == cap ? ": larger than 64 MiB" : "");
      free (buf);
      return;
    }
  buf[n] = '\0';
  const char *after = json_value (buf, buf + n, 0);
  while (after && after < buf + n && isspace ((unsigned char) *after))
    after++;
  size_t packages = 0;
  for (const char *p = buf; (p = strstr (p, "\"SPDXID\"")) != NULL; p++)
    packages++;
  char want[160];
  snprintf (want, sizeof want, ":%s\"", c->img->tag);
  if (after == NULL || after != buf + n || buf[strspn (buf, " \t\r\n")] != '{')
    check_set (out, ST_FAIL, "%s is not a JSON object (truncated or broken)", path);
  else if (strstr (buf, "\"spdxVersion\": \"SPDX-2.3\"") == NULL && strstr (buf, "\"spdxVersion\":\"SPDX-2.3\"") == NULL)
    check_set (out, ST_FAIL, "%s has no \"spdxVersion\": \"SPDX-2.3\"", path);
  else if (strstr (buf, want) == NULL)
    check_set (out, ST_FAIL, "%s does not name this tag (%s): another image's SBOM?", path, c->img->tag);
  else
    check_set (out, ST_PASS, "%s: SPDX-2.3, %zu packages", path, packages > 0 ? packages - 1 : 0);
  free (buf);
}
