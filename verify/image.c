/* image.c: the image's claims, from /etc/pytorch-cuda/image.env (PYTORCH_CUDA_IMAGE_ENV
   overrides). Lines are KEY=VALUE without quotes; '#' starts a comment line. The image
   templates write this file, so anything unexpected in it is an error that names the line:
   a typo there would otherwise certify an image against the wrong claims. */
#include "verify.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>

enum kind
{
  K_TEXT,    /* non-empty, no blanks */
  K_VERSION, /* dotted numbers */
  K_CUDA,    /* MAJOR.MINOR of a CUDA this verifier knows */
  K_FLAVOR,  /* runtime | devel | notebook */
  K_ARCHS,   /* TORCH_CUDA_ARCH_LIST */
  K_PATH,    /* absolute path */
  K_OPTIONAL, /* may be empty: PC_PYTHON */
  K_USER      /* may be absent (the image runs as root); when there, a user name, not root */
};

struct key
{
  const char *name;
  size_t offset;
  enum kind kind;
};

#define KEY(n, field, kind)                                                                        \
  {                                                                                                \
    n, offsetof (struct image, field), kind                                                        \
  }
static const struct key keys[] = {
  KEY ("PC_TAG", tag, K_TEXT),
  KEY ("PC_FLAVOR", flavor, K_FLAVOR),
  KEY ("PC_TORCH", torch, K_VERSION),
  KEY ("PC_CUDA", cuda, K_CUDA),
  KEY ("PC_CUDA_FULL", cuda_full, K_VERSION),
  KEY ("PC_CUDNN", cudnn, K_VERSION),
  KEY ("PC_CUBLAS", cublas, K_VERSION),
  KEY ("PC_MIN_DRIVER", min_driver, K_VERSION),
  KEY ("PC_COMPAT_FLOOR", compat_floor, K_VERSION),
  KEY ("PC_ARCHS", archs_text, K_ARCHS),
  KEY ("PC_CUDA_HOME", cuda_home, K_PATH),
  KEY ("PC_TORCH_LIB", torch_lib, K_PATH),
  KEY ("PC_PYTHON", python, K_OPTIONAL),
  KEY ("PC_USER", user, K_USER),
};

static char **
field (struct image *img, const struct key *k)
{
  return (char **) ((char *) img + k->offset);
}

/* "FILE:LINE: message" on stderr, as a compiler would say it; returns -1. */
static int bad (const char *path, size_t line, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static int
bad (const char *path, size_t line, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fprintf (stderr, "pytorch-cuda-verify: error: %s:%zu: ", path, line);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  return -1;
}

/* One TORCH_CUDA_ARCH_LIST entry: "8.6", "9.0a", "12.0+PTX". */
static int
parse_arch (const char *s, size_t len, struct arch *out)
{
  size_t i = 0;
  int major = 0, minor;
  if (len == 0 || !isdigit ((unsigned char) s[0]))
    return -1;
  while (i < len && isdigit ((unsigned char) s[i]) && major < 100)
    major = major * 10 + (s[i++] - '0');
  if (i + 1 >= len || s[i] != '.' || !isdigit ((unsigned char) s[i + 1]))
    return -1;
  minor = s[i + 1] - '0';
  i += 2;
  out->suffix = 0;
  out->ptx = 0;
  if (i < len && (s[i] == 'a' || s[i] == 'f'))
    out->suffix = s[i++];
  if (len - i == 4 && memcmp (s + i, "+PTX", 4) == 0)
    {
      out->ptx = 1;
      i += 4;
    }
  if (i != len || major < 1)
    return -1;
  out->sm = major * 10 + minor;
  return 0;
}

static int
parse_archs (struct image *img, size_t line)
{
  const char *s = img->archs_text;
  img->narchs = 0;
  while (*s)
    {
      size_t len = strcspn (s, "; ");
      if (len)
        {
          char tok[32];
          snprintf (tok, sizeof tok, "%.*s", (int) (len < 31 ? len : 31), s);
          if (img->narchs == PCV_MAX_ARCHS)
            return bad (img->path, line, "PC_ARCHS: more than %d entries", PCV_MAX_ARCHS);
          if (parse_arch (s, len, &img->archs[img->narchs]) < 0)
            return bad (img->path, line,
                        "PC_ARCHS: '%s' is not an architecture like 8.6, 9.0a or 12.0+PTX", tok);
          img->narchs++;
        }
      s += len;
      if (*s)
        s++;
    }
  if (img->narchs == 0)
    return bad (img->path, line, "PC_ARCHS is empty");
  return 0;
}

static int
validate (struct image *img, const struct key *k, const char *v, size_t line)
{
  switch (k->kind)
    {
    case K_OPTIONAL:
      if (strpbrk (v, " \t") == NULL)
        return 0;
      break;
    case K_TEXT:
      if (*v && strpbrk (v, " \t") == NULL)
        return 0;
      break;
    case K_USER:
      if (strcmp (v, "root") == 0)
        return bad (img->path, line, "PC_USER: root is what an image without PC_USER runs as");
      if (*v && strpbrk (v, " \t:") == NULL)
        return 0;
      break;
    case K_VERSION:
      if (version_valid (v))
        return 0;
      return bad (img->path, line, "%s: '%.60s' is not a dotted version like 12.4.127", k->name, v);
    case K_CUDA:
      if (version_valid (v) && sscanf (v, "%d.%d", &img->cuda_major, &img->cuda_minor) == 2
          && strchr (strchr (v, '.') + 1, '.') == NULL)
        {
          if (sonames_for (img->cuda_major))
            return 0;
          return bad (img->path, line, "PC_CUDA: this verifier knows CUDA 11, 12 and 13, not %s",
                      v);
        }
      return bad (img->path, line, "%s: '%.60s' is not MAJOR.MINOR like 12.4", k->name, v);
    case K_FLAVOR:
      if (strcmp (v, "runtime") == 0 || strcmp (v, "devel") == 0 || strcmp (v, "notebook") == 0)
        return 0;
      return bad (img->path, line, "%s: '%.60s' is not runtime, devel or notebook", k->name, v);
    case K_ARCHS:
      return parse_archs (img, line);
    case K_PATH:
      if (v[0] == '/')
        return 0;
      return bad (img->path, line, "%s: '%.60s' is not an absolute path", k->name, v);
    }
  return bad (img->path, line, "%s: '%.60s' is empty or has blanks", k->name, v);
}

/* One KEY=VALUE line (already stripped of its newline and trailing blanks). */
static int
parse_line (struct image *img, char *s, size_t line, size_t *seen)
{
  char *eq = strchr (s, '=');
  if (eq == NULL)
    return bad (img->path, line, "expected KEY=VALUE, found '%.40s'", s);
  *eq = '\0';
  const char *name = s, *v = eq + 1;
  for (size_t i = 0; i < ARRAY_SIZE (keys); i++)
    {
      if (strcmp (keys[i].name, name) != 0)
        continue;
      if (seen[i])
        return bad (img->path, line, "%s is set twice (first on line %zu)", name, seen[i]);
      if (v[0] == '"' || v[0] == '\'')
        return bad (img->path, line, "%s: values take no quotes", name);
      seen[i] = line;
      *field (img, &keys[i]) = strdup (v);
      if (*field (img, &keys[i]) == NULL)
        return bad (img->path, line, "out of memory");
      return validate (img, &keys[i], v, line);
    }
  return bad (img->path, line, "unknown key '%.40s'", name);
}

static int
parse_file (struct image *img, FILE *f, size_t *seen)
{
  char *buf = NULL;
  size_t cap = 0, line = 0;
  ssize_t n;
  int rc = 0;
  while (rc == 0 && (n = getline (&buf, &cap, f)) >= 0)
    {
      line++;
      if (memchr (buf, '\0', (size_t) n) != NULL)
        {
          rc = bad (img->path, line, "a NUL byte: this is not a text file");
          break;
        }
      while (n > 0 && isspace ((unsigned char) buf[n - 1]))
        buf[--n] = '\0';
      char *s = buf;
      while (*s == ' ' || *s == '\t')
        s++;
      if (*s == '\0' || *s == '#')
        continue;
      rc = parse_line (img, s, line, seen);
    }
  if (rc == 0 && ferror (f))
    rc = bad (img->path, line, "read error: %s", strerror (errno));
  free (buf);
  return rc;
}

int
image_load (struct image *img, const char *path)
{
  memset (img, 0, sizeof *img);
  img->path = strdup (path);
  if (img->path == NULL)
    return -1;
  FILE *f = fopen (path, "r");
  if (f == NULL)
    {
      pcv_error ("cannot read image metadata '%s': %s (set PYTORCH_CUDA_IMAGE_ENV to another "
                 "file)",
                 path, strerror (errno));
      return -1;
    }
  size_t seen[ARRAY_SIZE (keys)] = { 0 };
  int rc = parse_file (img, f, seen);
  fclose (f);
  for (size_t i = 0; rc == 0 && i < ARRAY_SIZE (keys); i++)
    if (!seen[i] && keys[i].kind != K_USER)
      {
        pcv_error ("%s: %s is missing", path, keys[i].name);
        rc = -1;
      }
  return rc;
}

void
image_release (struct image *img)
{
  for (size_t i = 0; i < ARRAY_SIZE (keys); i++)
    free (*field (img, &keys[i]));
  free (img->path);
  memset (img, 0, sizeof *img);
}
