/* cache.c: see cache.h. */
#include "cache.h"
#include "fsutil.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *
cache_dir (void)
{
  static char *dir;
  if (dir)
    return dir;
  const char *env = getenv ("PCGEN_CACHE");
  const char *xdg = getenv ("XDG_CACHE_HOME");
  const char *home = getenv ("HOME");
  if (env && *env)
    dir = xstrdup (env);
  else if (xdg && *xdg)
    dir = xasprintf ("%s/pytorch-cuda", xdg);
  else
    dir = xasprintf ("%s/.cache/pytorch-cuda", home && *home ? home : "/tmp");
  return dir;
}

char *
cache_path (const char *sha256, const char *file)
{
  return xasprintf ("%s/sha256/%s/%s", cache_dir (), sha256, file);
}

/* "size mtime inode" of a file: a verified entry whose stat is unchanged need not be hashed
   again (git's index does the same), which keeps a no-op `make images` fast. */
static char *
stat_stamp (const char *path)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return NULL;
  return xasprintf ("%lld %lld.%09ld %llu\n", (long long) st.st_size, (long long) st.st_mtim.tv_sec,
                    st.st_mtim.tv_nsec, (unsigned long long) st.st_ino);
}

int
cache_check (const char *sha256, const char *file, struct strbuf *err)
{
  cleanup_free char *path = cache_path (sha256, file);
  if (access (path, F_OK) != 0)
    return 0;
  cleanup_free char *stamp_path = xasprintf ("%s.verified", path);
  cleanup_free char *stamp = stat_stamp (path);
  if (stamp && file_equals (stamp_path, stamp, strlen (stamp)) == 1)
    return 1;
  char got[SHA256_HEX_LEN + 1];
  if (sha256_file (path, got, NULL) < 0)
    {
      strbuf_addf (err, "cannot read '%s': %s", path, strerror (errno));
      return -1;
    }
  if (strcmp (got, sha256) != 0)
    {
      strbuf_addf (err, "cached '%s' has sha256 %s, not %s: removed it (download it again with pcgen fetch)",
                   path, got, sha256);
      unlink (path);
      unlink (stamp_path);
      return -1;
    }
  if (stamp)
    write_file_atomic (stamp_path, stamp, strlen (stamp), 0644);
  return 1;
}

int
cache_adopt (const char *src, const char *file, const char *sha256, struct strbuf *err)
{
  cleanup_free char *dir = xasprintf ("%s/sha256/%s", cache_dir (), sha256);
  cleanup_free char *dst = xasprintf ("%s/%s", dir, file);
  if (mkdir_p (dir, 0755) < 0)
    return strbuf_addf (err, "cannot create '%s': %s", dir, strerror (errno)), -1;
  if (rename (src, dst) < 0)
    return strbuf_addf (err, "cannot move '%s' into the cache: %s", src, strerror (errno)), -1;
  cleanup_free char *stamp_path = xasprintf ("%s.verified", dst);
  cleanup_free char *stamp = stat_stamp (dst);
  if (stamp)
    write_file_atomic (stamp_path, stamp, strlen (stamp), 0644);
  return 0;
}

int
cache_put (const char *src, const char *file, const char *want, char sha256[SHA256_HEX_LEN + 1],
           unsigned long long *size, struct strbuf *err)
{
  if (sha256_file (src, sha256, size) < 0)
    {
      strbuf_addf (err, "cannot read '%s': %s", src, strerror (errno));
      return -1;
    }
  if (want && strcmp (sha256, want) != 0)
    {
      strbuf_addf (err, "%s has sha256 %s, not %s: refused, not cached", file, sha256, want);
      unlink (src);
      return -2;
    }
  /* Just hashed: adopting stamps it verified, so the next check does not hash it again. */
  return cache_adopt (src, file, sha256, err);
}
