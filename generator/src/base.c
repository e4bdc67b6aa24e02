/* base.c: see base.h. */
#include "base.h"
#include "cache.h"
#include "docker.h"
#include "fsutil.h"
#include "run.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Packages of the base beyond minbase: Python with pip (runtime images run `import torch`,
   `pip check`), and what apt needs over https in derived images. */
#define BASE_PACKAGES "python3,python3-pip,ca-certificates"
#define BASE_EPOCH "1700000000"

static int
make_rootfs (const struct kb_base *b, const char *tar, struct strbuf *err)
{
  cleanup_free char *tmp = xasprintf ("%s.tmp.%ld", tar, (long) getpid ());
  const char *argv[] = { "mmdebstrap", "--quiet", "--variant=minbase", "--include=" BASE_PACKAGES,
                         "--format=tar", b->suite, tmp, NULL };
  const char *env[] = { "SOURCE_DATE_EPOCH=" BASE_EPOCH, NULL };
  struct strbuf out = STRBUF_INIT, perr = STRBUF_INIT;
  struct run_opts o = { argv, NULL, env, &out, &perr, 1 };
  fprintf (stderr, "base: mmdebstrap %s (%s) ...\n", b->suite, BASE_PACKAGES);
  int rc = run_command (&o);
  if (rc != 0)
    {
      strbuf_addf (err, "mmdebstrap %s failed (%s): %s", b->suite,
                   rc < 0 ? "is mmdebstrap installed? make deps installs it" : "see below", perr.buf);
      unlink (tmp);
    }
  else if (rename (tmp, tar) < 0)
    {
      strbuf_addf (err, "cannot rename '%s': %s", tmp, strerror (errno));
      rc = -1;
    }
  strbuf_release (&out);
  strbuf_release (&perr);
  return rc == 0 ? 0 : -1;
}

int
base_rootfs (const struct kb_base *b, int offline, char **tar, char *sha, struct strbuf *err)
{
  cleanup_free char *dir = xasprintf ("%s/base", cache_dir ());
  char *path = xasprintf ("%s/%s.tar", dir, b->name);
  int rc = 0;
  if (access (path, F_OK) != 0)
    {
      rc = -1;
      if (offline)
        strbuf_addf (err, "the %s base tar is not in the cache (%s): run without --offline", b->name, path);
      else if (mkdir_p (dir, 0755) < 0)
        strbuf_addf (err, "cannot create '%s': %s", dir, strerror (errno));
      else
        rc = make_rootfs (b, path, err);
    }
  /* Hashed once, then known by its stat stamp: a no-op build of every tag asks for it. */
  if (rc == 0 && cache_file_sha256 (path, sha, err) < 0)
    rc = -1;
  if (rc < 0)
    free (path);
  else
    *tar = path;
  return rc;
}

static int
scan_tar_files (const char *tar, const char *const *names, size_t n, struct strbuf *out, struct strbuf *err)
{
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  size_t found = 0;
  int *have = xcalloc (n + 1, sizeof *have);
  int rc = archive_read_open_filename (a, tar, 1 << 16) == ARCHIVE_OK ? 0 : -1;
  if (rc < 0)
    strbuf_addf (err, "cannot read '%s': %s", tar, archive_error_string (a));
  struct archive_entry *e;
  while (rc == 0 && found < n && archive_read_next_header (a, &e) == ARCHIVE_OK)
    {
      const char *path = archive_entry_pathname (e);
      path += starts_with (path, "./") ? 2 : 0;
      for (size_t i = 0; i < n; i++)
        {
          if (have[i] || strcmp (path, names[i]) != 0 || archive_entry_filetype (e) != AE_IFREG)
            continue;
          if (archive_entry_size (e) > (1 << 20))
            {
              strbuf_addf (err, "'%s' in '%s' is larger than 1 MiB", names[i], tar);
              rc = -1;
              break;
            }
          char buf[8192];
          la_ssize_t got;
          while ((got = archive_read_data (a, buf, sizeof buf)) > 0)
            strbuf_add (&out[i], buf, (size_t) got);
          if (got < 0)
            {
              strbuf_addf (err, "cannot read '%s' in '%s': %s", names[i], tar, archive_error_string (a));
              rc = -1;
            }
          have[i] = 1;
          found++;
        }
    }
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (!have[i])
      {
        strbuf_addf (err, "the base tar '%s' has no file '%s'", tar, names[i]);
        rc = -1;
      }
  free (have);
  archive_read_free (a);
  return rc;
}


/* Where a file read from the base tar whose sha256 is sha is kept: CACHE/base/files/SHA/NAME,
   the name's '/' written '%' (a flat folder). */
static char *
kept_path (const char *sha, const char *name)
{
  char *p = xasprintf ("%s/base/files/%s/%s", cache_dir (), sha, name);
  for (char *q = p + strlen (p) - strlen (name); *q; q++)
    if (*q == '/')
      *q = '%';
  return p;
}

/* Scanning the 235 MB tar for a few small files took 0.6 s, on every build of every tag (the
   SBOM's dpkg status, stage's ld.so.conf): each file is kept by the tar's digest once read. */
int
base_read_files (const char *tar, const char *const *names, size_t n, struct strbuf *out, struct strbuf *err)
{
  char sha[SHA256_HEX_LEN + 1];
  if (cache_file_sha256 (tar, sha, err) < 0)
    return -1;
  size_t kept = 0;
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *p = kept_path (sha, names[i]);
      kept += access (p, R_OK) == 0;
    }
  for (size_t i = 0; kept == n && i < n; i++)
    {
      cleanup_free char *p = kept_path (sha, names[i]);
      strbuf_reset (&out[i]);
      if (strbuf_read_file (&out[i], p, 1 << 20) < 0)
        kept = 0; /* gone meanwhile: read the tar */
    }
  if (kept == n)
    return 0;
  for (size_t i = 0; i < n; i++)
    strbuf_reset (&out[i]);
  if (scan_tar_files (tar, names, n, out, err) < 0)
    return -1;
  cleanup_free char *dir = xasprintf ("%s/base/files/%s", cache_dir (), sha);
  if (mkdir_p (dir, 0755) == 0)
    for (size_t i = 0; i < n; i++)
      {
        cleanup_free char *p = kept_path (sha, names[i]);
        write_file_atomic (p, out[i].buf, out[i].len, 0644); /* a speed-up only */
      }
  return 0;
}

int
base_ensure (const struct kb_base *b, struct strbuf *ref, struct strbuf *err)
{
  cleanup_free char *tar = NULL;
  char sha[SHA256_HEX_LEN + 1];
  if (base_rootfs (b, 0, &tar, sha, err) < 0)
    return -1;
  strbuf_reset (ref);
  strbuf_addf (ref, "pytorch-cuda/base:%s-%.12s", b->name, sha);
  if (docker_image_id (ref->buf, NULL) == 0)
    return 0;
  fprintf (stderr, "base: docker import %s as %s\n", tar, ref->buf);
  const char *argv[] = { "docker", "import", "--change", "CMD [\"bash\"]", tar, ref->buf, NULL };
  return docker_run (argv, NULL, err);
}
