/* fsutil.c: see fsutil.h. */
#include "fsutil.h"
#include "strbuf.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
write_all (int fd, const char *p, size_t len)
{
  while (len)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

int
write_file_atomic (const char *path, const void *data, size_t len, int mode)
{
  cleanup_free char *tmp = xasprintf ("%s.tmp.XXXXXX", path);
  int fd = mkstemp (tmp);
  if (fd < 0)
    return -1;
  if (write_all (fd, data, len) < 0 || fchmod (fd, (mode_t) mode) < 0 || fsync (fd) < 0)
    {
      int saved = errno;
      close (fd);
      unlink (tmp);
      errno = saved;
      return -1;
    }
  if (close (fd) < 0 || rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      errno = saved;
      return -1;
    }
  return 0;
}

int
mkdir_p (const char *path, int mode)
{
  cleanup_free char *p = xstrdup (path);
  for (char *s = p + 1; *s; s++)
    if (*s == '/')
      {
        *s = '\0';
        if (mkdir (p, (mode_t) mode) < 0 && errno != EEXIST)
          return -1;
        *s = '/';
      }
  if (mkdir (p, (mode_t) mode) < 0 && errno != EEXIST)
    return -1;
  return 0;
}

int
file_equals (const char *path, const void *data, size_t len)
{
  struct strbuf sb = STRBUF_INIT;
  if (strbuf_read_file (&sb, path, len + 1) < 0)
    {
      int missing = errno == ENOENT || errno == EFBIG;
      strbuf_release (&sb);
      return missing ? 0 : -1;
    }
  int eq = sb.len == len && memcmp (sb.buf, data, len) == 0;
  strbuf_release (&sb);
  return eq;
}
