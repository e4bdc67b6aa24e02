/* cache.c: see cache.h. */
#include "cache.h"
#include "fsutil.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Found once per process (pthread_once: build -j's threads ask too). */
static char *the_dir;
static pthread_once_t dir_once = PTHREAD_ONCE_INIT;

static void
find_cache_dir (void)
{
  const char *env = getenv ("PCGEN_CACHE");
  const char *xdg = getenv ("XDG_CACHE_HOME");
  const char *home = getenv ("HOME");
  if (env && *env)
    the_dir = xstrdup (env);
  else if (xdg && *xdg)
    the_dir = xasprintf ("%s/pytorch-cuda", xdg);
  else
    the_dir = xasprintf ("%s/.cache/pytorch-cuda", home && *home ? home : "/tmp");
}

const char *
cache_dir (void)
{
  pthread_once (&dir_once, find_cache_dir);
  return the_dir;
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
cache_valid_sha256 (const char *s)
{
  size_t n = 0;
  for (; s[n]; n++)
    if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
      return 0;
  return n == SHA256_HEX_LEN;
}

int
cache_valid_file (const char *s)
{
  return *s && !strchr (s, '/') && !strstr (s, "..") && s[0] != '.' && s[0] != '-';
}

/* Defence in depth: lockfile_read refuses bad digests and names already, but the cache removes
   files, so it checks for itself that (sha256, file) names an entry inside it, and that the
   entry's folder, where it exists, is the cache's own (no symlink leading elsewhere). */
static int
entry_inside (const char *sha256, const char *file, struct strbuf *err)
{
  if (!cache_valid_sha256 (sha256) || !cache_valid_file (file))
    return strbuf_addf (err, "refusing cache entry '%s/%s': not a sha256 (64 lowercase hex digits) and a plain file "
                             "name, it would lead outside %s",
                        sha256, file, cache_dir ()), -1;
  cleanup_free char *dir = xasprintf ("%s/sha256/%s", cache_dir (), sha256);
  cleanup_free char *top = xasprintf ("%s/sha256", cache_dir ());
  cleanup_free char *real_dir = realpath (dir, NULL);
  if (real_dir == NULL)
    return 0; /* not there yet: nothing to remove, and cache_adopt creates it */
  cleanup_free char *real_top = realpath (top, NULL);
  size_t n = real_top ? strlen (real_top) : 0;
  if (real_top == NULL || strncmp (real_dir, real_top, n) != 0 || real_dir[n] != '/'
      || strcmp (real_dir + n + 1, sha256) != 0)
    return strbuf_addf (err, "refusing cache entry '%s': it resolves to '%s', outside %s", dir, real_dir, top), -1;
  return 0;
}

static int
check (const char *sha256, const char *file, int rehash, struct strbuf *err)
{
  if (entry_inside (sha256, file, err) < 0)
    return -1;
  cleanup_free char *path = cache_path (sha256, file);
  struct stat st;
  if (lstat (path, &st) != 0)
    return 0;
  cleanup_free char *stamp_path = xasprintf ("%s.verified", path);
  if (!S_ISREG (st.st_mode))
    {
      /* Only pcgen puts files here, by rename: anything else (a symlink) is not trusted. */
      strbuf_addf (err, "cached '%s' is not a regular file: removed it (download it again with pcgen fetch)", path);
      unlink (path);
      unlink (stamp_path);
      return -1;
    }
  cleanup_free char *stamp = stat_stamp (path);
  if (!rehash && stamp && file_equals (stamp_path, stamp, strlen (stamp)) == 1)
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
cache_file_sha256 (const char *path, char out[SHA256_HEX_LEN + 1], struct strbuf *err)
{
  cleanup_free char *side = xasprintf ("%s.sha256", path);
  cleanup_free char *stamp = stat_stamp (path);
  if (stamp == NULL)
    return strbuf_addf (err, "cannot read '%s': %s", path, strerror (errno)), -1;
  struct strbuf was = STRBUF_INIT;
  size_t n = strlen (stamp);
  /* "stamp\nsha256\n" */
  if (strbuf_read_file (&was, side, 4096) >= 0 && was.len == n + SHA256_HEX_LEN + 1 && memcmp (was.buf, stamp, n) == 0
      && was.buf[n + SHA256_HEX_LEN] == '\n')
    {
      memcpy (out, was.buf + n, SHA256_HEX_LEN);
      out[SHA256_HEX_LEN] = '\0';
      if (cache_valid_sha256 (out))
        {
          strbuf_release (&was);
          return 0;
        }
    }
  strbuf_release (&was);
  if (sha256_file (path, out, NULL) < 0)
    return strbuf_addf (err, "cannot read '%s': %s", path, strerror (errno)), -1;
  cleanup_free char *text = xasprintf ("%s%s\n", stamp, out);
  write_file_atomic (side, text, strlen (text), 0644); /* a speed-up only: a failure costs a hash */
  return 0;
}

int
cache_check (const char *sha256, const char *file, struct strbuf *err)
{
  return check (sha256, file, 0, err);
}

int
cache_verify (const char *sha256, const char *file, struct strbuf *err)
{
  return check (sha256, file, 1, err);
}

int
cache_adopt (const char *src, const char *file, const char *sha256, struct strbuf *err)
{
  if (entry_inside (sha256, file, err) < 0)
    {
      unlink (src);
      return -1;
    }
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
cache_put_pinned (const char *src, const char *file, const char *url, const char *sha256, unsigned long long size,
                  const char *pinned_by, struct strbuf *err)
{
  char got[SHA256_HEX_LEN + 1];
  unsigned long long got_size = 0;
  int rc = 0;
  if (sha256_file (src, got, &got_size) < 0)
    rc = -1, strbuf_addf (err, "cannot read '%s': %s", src, strerror (errno));
  if (rc == 0 && strcmp (got, sha256) != 0)
    {
      strbuf_addf (err, "%s from %s: sha256 %s (%llu bytes), but %s pins %s (%llu bytes): refused, "
                        "not cached (a different file at that path, or a broken mirror)",
                   file, url, got, got_size, pinned_by, sha256, size);
      rc = -1;
    }
  if (rc == 0)
    rc = cache_adopt (src, file, sha256, err);
  unlink (src);
  return rc;
}

int
cache_put (const char *src, const char *file, const char *want, char sha256[SHA256_HEX_LEN + 1],
           unsigned long long *size, struct strbuf *err)
{
  if (!cache_valid_file (file))
    {
      strbuf_addf (err, "refusing to cache '%s': not a plain file name", file);
      unlink (src);
      return -1;
    }
  if (sha256_file (src, sha256, size) < 0)
    {
      strbuf_addf (err, "cannot read '%s': %s", src, strerror (errno));
      return -1;
    }
  if (want && strcmp (sha256, want) != 0)
    {
      strbuf_addf (err, "%s has sha256 %s, not %s: refused, not cached", file, sha256, want);
      unlink (src);
      return CACHE_MISMATCH;
    }
  /* Just hashed: adopting stamps it verified, so the next check does not hash it again. */
  return cache_adopt (src, file, sha256, err);
}
