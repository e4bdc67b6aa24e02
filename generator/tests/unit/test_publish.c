/* test_publish.c: --to REGISTRY[/REPO] as users write it, and the private credentials folder. */
#include "check.h"
#include "publish.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *default_repo = "myrepo/pytorch-cuda";

/* "HOST REPO" for a valid destination, "error: ..." otherwise. */
static char *
dest (const char *to, const char *def)
{
  struct publish_dest d;
  struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
  if (publish_parse_dest (to, def, &d, &err) == 0)
    strbuf_addf (&out, "%s %s", d.host, d.repo);
  else
    strbuf_addf (&out, "error: %s", err.buf);
  publish_dest_release (&d);
  strbuf_release (&err);
  return strbuf_detach (&out, NULL);
}

#define CHECK_DEST(to, want)                                                                \
  do                                                                                        \
    {                                                                                       \
      char *got_ = dest (to, default_repo);                                                 \
      CHECK_STR (got_, want);                                                               \
      free (got_);                                                                          \
    }                                                                                       \
  while (0)

/* The error names the bad part. */
#define CHECK_DEST_ERR(to, part)                                                            \
  do                                                                                        \
    {                                                                                       \
      char *got_ = dest (to, default_repo);                                                 \
      CHECK (strncmp (got_, "error: ", 7) == 0 && strstr (got_, part) != NULL);             \
      if (strncmp (got_, "error: ", 7) != 0 || strstr (got_, part) == NULL)                 \
        fprintf (stderr, "  --to '%s' gave: %s (want an error naming '%s')\n", to, got_, part); \
      free (got_);                                                                          \
    }                                                                                       \
  while (0)

static void
test_dest (void)
{
  CHECK_DEST ("localhost:5000", "localhost:5000 myrepo/pytorch-cuda");
  CHECK_DEST ("localhost", "localhost myrepo/pytorch-cuda");
  CHECK_DEST ("127.0.0.1:5000", "127.0.0.1:5000 myrepo/pytorch-cuda");
  CHECK_DEST ("ghcr.io/org/pytorch-cuda", "ghcr.io org/pytorch-cuda");
  CHECK_DEST ("registry.example.com:443/a/b/c", "registry.example.com:443 a/b/c");
  CHECK_DEST ("localhost:5000/team_x/torch-images", "localhost:5000 team_x/torch-images");
  CHECK_DEST ("r.io/a__b/c.d", "r.io a__b/c.d");
  /* A matrix repository that names its own registry: only its path is kept. */
  char *got = dest ("localhost:5000", "ghcr.io/org/pytorch-cuda");
  CHECK_STR (got, "localhost:5000 org/pytorch-cuda");
  free (got);

  CHECK_DEST_ERR ("myrepo", "'myrepo' is not a registry host");
  CHECK_DEST_ERR ("myrepo/pytorch-cuda", "'myrepo' is not a registry host");
  CHECK_DEST_ERR ("localhost:0", "'0' is not a port");
  CHECK_DEST_ERR ("localhost:99999", "'99999' is not a port");
  CHECK_DEST_ERR ("localhost:50a0", "'50a0' is not a port");
  CHECK_DEST_ERR ("localhost:", "'' is not a port");
  CHECK_DEST_ERR (":5000", "host is empty");
  CHECK_DEST_ERR ("bad_host.io", "'bad_host.io' is not a host name");
  CHECK_DEST_ERR ("r.io/Org/x", "'Org' is not a path component");
  CHECK_DEST_ERR ("r.io/org//x", "'' is not a path component");
  CHECK_DEST_ERR ("r.io/org/", "'' is not a path component");
  CHECK_DEST_ERR ("r.io/-org", "'-org' is not a path component");
  CHECK_DEST_ERR ("r.io/a..b", "'a..b' is not a path component");
  CHECK_DEST_ERR ("r.io/a:b", "'a:b' is not a path component");
  CHECK_DEST_ERR ("r.io/a b", "'a b' is not a path component");
}

static void
test_credentials (void)
{
  struct strbuf err = STRBUF_INIT;
  char *dir = NULL;
  unsetenv ("PCGEN_REGISTRY_USER");
  unsetenv ("PCGEN_REGISTRY_PASSWORD");
  CHECK_INT (publish_credentials ("localhost:5000", &dir, &err), 0);
  CHECK (dir == NULL);

  setenv ("PCGEN_REGISTRY_USER", "ci", 1);
  CHECK_INT (publish_credentials ("localhost:5000", &dir, &err), -1);
  CHECK (strstr (err.buf, "PCGEN_REGISTRY_PASSWORD is not") != NULL);

  strbuf_reset (&err);
  setenv ("PCGEN_REGISTRY_PASSWORD", "s3cret", 1);
  CHECK_INT (publish_credentials ("localhost:5000", &dir, &err), 0);
  CHECK (dir != NULL);
  struct stat st;
  CHECK (dir && stat (dir, &st) == 0 && (st.st_mode & 0777) == 0700);
  struct strbuf cfg = STRBUF_INIT;
  char *path = NULL;
  if (dir)
    {
      size_t n = strlen (dir) + sizeof "/config.json";
      path = malloc (n);
      snprintf (path, n, "%s/config.json", dir);
    }
  CHECK (path && stat (path, &st) == 0 && (st.st_mode & 0777) == 0600);
  CHECK (path && strbuf_read_file (&cfg, path, 1 << 16) == 0);
  /* base64("ci:s3cret"), for that host only; the password itself is not in the file. */
  CHECK (strstr (cfg.buf, "\"localhost:5000\"") != NULL);
  CHECK (strstr (cfg.buf, "\"auth\": \"Y2k6czNjcmV0\"") != NULL);
  CHECK (strstr (cfg.buf, "s3cret") == NULL);
  publish_credentials_remove ();
  CHECK (path && access (path, F_OK) != 0);
  CHECK (dir && access (dir, F_OK) != 0);
  unsetenv ("PCGEN_REGISTRY_USER");
  unsetenv ("PCGEN_REGISTRY_PASSWORD");
  free (path);
  free (dir);
  strbuf_release (&cfg);
  strbuf_release (&err);
}

int
main (void)
{
  test_dest ();
  test_credentials ();
  return check_summary ("publish");
}
