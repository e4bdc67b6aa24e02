/* debs.c: see debs.h. */
#include "debs.h"
#include "cache.h"
#include "fsutil.h"
#include "http.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *
debs_mirror (const struct kb_deb *d)
{
  if (d->archive != DEB_ARCHIVE_SECURITY)
    return debian_mirror ();
  return url_setting (NULL, "PCGEN_DEBIAN_SECURITY_MIRROR", DEFAULT_DEBIAN_SECURITY_MIRROR);
}

static const char *
file_name (const struct kb_deb *d)
{
  const char *slash = strrchr (d->path, '/');
  return slash ? slash + 1 : d->path;
}

char *
debs_path (const struct kb_deb *d)
{
  return cache_path (d->sha256, file_name (d));
}

/* One package into the cache: downloaded into a temporary folder of the cache, hashed, adopted
   only when the digest is the pinned one. */
static int
fetch_one (const struct kb_deb *d, struct strbuf *err)
{
  cleanup_free char *mirror = debs_mirror (d);
  cleanup_free char *url = xasprintf ("%s/%s", mirror, d->path);
  cleanup_free char *tmp = xasprintf ("%s/tmp", cache_dir ());
  if (mkdir_p (tmp, 0755) < 0)
    return strbuf_addf (err, "cannot create '%s': %s", tmp, strerror (errno)), -1;
  cleanup_free char *got = xasprintf ("%s/%s.%ld", tmp, file_name (d), (long) getpid ());
  fprintf (stderr, "fetch: %s (%.1f MB) from %s\n", file_name (d), (double) d->size / 1e6, mirror);
  if (http_download (url, got, d->size, file_name (d), err) < 0)
    {
      unlink (got);
      return -1;
    }
  return cache_put_pinned (got, file_name (d), url, d->sha256, d->size, "bases.yaml", err);
}

int
debs_fetch (const struct kb_deb *d, size_t n, int offline, struct strbuf *err)
{
  for (size_t i = 0; i < n; i++)
    {
      int have = cache_check (d[i].sha256, file_name (&d[i]), err);
      if (have < 0)
        return -1;
      if (have)
        continue;
      if (offline)
        return strbuf_addf (err, "%s is not in the cache (%s) and --offline was given: run pcgen fetch online",
                            file_name (&d[i]), cache_dir ()), -1;
      if (fetch_one (&d[i], err) < 0)
        return -1;
    }
  return 0;
}
