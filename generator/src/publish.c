/* publish.c: see publish.h. */
#include "publish.h"
#include "docker.h"
#include "fsutil.h"
#include "run.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Docker's rule: the first path component names a registry when it has a '.' or a ':' or is
   "localhost"; otherwise it is a Docker Hub namespace. */
static int
names_registry (const char *s, size_t n)
{
  return memchr (s, '.', n) || memchr (s, ':', n) || (n == 9 && memcmp (s, "localhost", 9) == 0);
}

/* HOST[:PORT]: letters, digits, '-' and '.', then an optional decimal port. */
static int
valid_host (const char *s, size_t n, struct strbuf *err)
{
  const char *colon = memchr (s, ':', n);
  size_t hn = colon ? (size_t) (colon - s) : n;
  if (hn == 0)
    return strbuf_addstr (err, "the registry host is empty"), -1;
  for (size_t i = 0; i < hn; i++)
    if (!isalnum ((unsigned char) s[i]) && s[i] != '-' && s[i] != '.')
      return strbuf_addf (err, "'%.*s' is not a host name (letters, digits, '-', '.')", (int) hn, s), -1;
  if (colon)
    {
      size_t pn = n - hn - 1;
      int port = 0;
      for (size_t i = 0; i < pn; i++)
        {
          if (!isdigit ((unsigned char) colon[1 + i]) || (port = port * 10 + colon[1 + i] - '0') > 65535)
            return strbuf_addf (err, "'%.*s' is not a port (1-65535)", (int) pn, colon + 1), -1;
        }
      if (pn == 0 || port == 0)
        return strbuf_addf (err, "'%.*s' is not a port (1-65535)", (int) pn, colon + 1), -1;
    }
  return 0;
}

/* A repository path: components of [a-z0-9] runs joined by '.', '_', '__' or '-'s
   (the distribution reference grammar), separated by '/'. */
static int
valid_repo (const char *s, struct strbuf *err)
{
  const char *c = s;
  while (1)
    {
      size_t n = strcspn (c, "/");
      int ok = n > 0 && isalnum ((unsigned char) c[0]) && isalnum ((unsigned char) c[n - 1]);
      for (size_t i = 0; ok && i < n; i++)
        {
          unsigned char ch = (unsigned char) c[i];
          if (isupper (ch) || (!isalnum (ch) && ch != '.' && ch != '_' && ch != '-'))
            ok = 0;
          else if (ch == '.' && (c[i + 1] == '.' || c[i + 1] == '_' || c[i + 1] == '-'))
            ok = 0;
        }
      if (!ok)
        return strbuf_addf (err, "repository '%s': '%.*s' is not a path component (lowercase letters and "
                                 "digits, joined by '.', '_' or '-')",
                            s, (int) n, c),
               -1;
      if (c[n] == '\0')
        return 0;
      c += n + 1;
    }
}

int
publish_parse_dest (const char *to, const char *default_repo, struct publish_dest *d, struct strbuf *err)
{
  memset (d, 0, sizeof *d);
  size_t hn = strcspn (to, "/");
  if (!names_registry (to, hn))
    {
      strbuf_addf (err, "--to '%s': '%.*s' is not a registry host (it needs a '.' or a ':port', or is "
                        "'localhost'); give REGISTRY[/REPO], e.g. localhost:5000 or ghcr.io/org/pytorch-cuda",
                   to, (int) hn, to);
      return -1;
    }
  if (valid_host (to, hn, err) < 0)
    {
      strbuf_addf (err, " in --to '%s'", to);
      return -1;
    }
  const char *repo = to[hn] ? to + hn + 1 : default_repo;
  if (!to[hn])
    {
      size_t fn = strcspn (repo, "/");
      if (repo[fn] && names_registry (repo, fn)) /* the matrix names a registry: keep the path only */
        repo += fn + 1;
    }
  if (valid_repo (repo, err) < 0)
    {
      if (to[hn])
        strbuf_addf (err, " in --to '%s'", to);
      else
        strbuf_addstr (err, " (the matrix's repository; give --to REGISTRY/REPO)");
      return -1;
    }
  d->host = xstrndup (to, hn);
  d->repo = xstrdup (repo);
  return 0;
}

void
publish_dest_release (struct publish_dest *d)
{
  free (d->host);
  free (d->repo);
  memset (d, 0, sizeof *d);
}

/* The private config folder, for removal at exit or on a signal. Fixed-size storage so that
   the signal handler touches no heap. */
static char cred_dir[64], cred_file[96];

void
publish_credentials_remove (void)
{
  if (cred_file[0])
    unlink (cred_file);
  if (cred_dir[0])
    rmdir (cred_dir);
  cred_file[0] = cred_dir[0] = '\0';
}

static void
on_signal (int sig)
{
  publish_credentials_remove ();
  signal (sig, SIG_DFL);
  raise (sig);
}

int
publish_credentials (const char *host, char **dir, struct strbuf *err)
{
  *dir = NULL;
  const char *user = getenv ("PCGEN_REGISTRY_USER"), *pass = getenv ("PCGEN_REGISTRY_PASSWORD");
  int have_user = user && *user, have_pass = pass && *pass;
  if (!have_user && !have_pass)
    return 0;
  if (have_user != have_pass)
    {
      strbuf_addf (err, "%s is set but %s is not: set both, or neither to use docker's own config",
                   have_user ? "PCGEN_REGISTRY_USER" : "PCGEN_REGISTRY_PASSWORD",
                   have_user ? "PCGEN_REGISTRY_PASSWORD" : "PCGEN_REGISTRY_USER");
      return -1;
    }
  /* config.json's "auth" is base64("user:password"), what `docker login` writes without a
     credential helper. */
  cleanup_free char *pair = xasprintf ("%s:%s", user, pass);
  size_t n = strlen (pair);
  unsigned char *b64 = xmalloc (4 * ((n + 2) / 3) + 1);
  EVP_EncodeBlock (b64, (const unsigned char *) pair, (int) n);
  json_t *cfg = json_pack ("{s:{s:{s:s}}}", "auths", host, "auth", (const char *) b64);
  char *text = json_dumps (cfg, JSON_INDENT (2));
  json_decref (cfg);
  OPENSSL_cleanse (b64, strlen ((char *) b64));
  OPENSSL_cleanse (pair, n);
  free (b64);
  int rc = -1;
  snprintf (cred_dir, sizeof cred_dir, "%s", "/tmp/pcgen-docker-config.XXXXXX");
  if (mkdtemp (cred_dir) == NULL)
    {
      strbuf_addf (err, "cannot make a private docker config folder in /tmp: %s", strerror (errno));
      cred_dir[0] = '\0';
      goto out;
    }
  snprintf (cred_file, sizeof cred_file, "%s/config.json", cred_dir);
  atexit (publish_credentials_remove);
  signal (SIGINT, on_signal);
  signal (SIGTERM, on_signal);
  if (write_file_atomic (cred_file, text, strlen (text), 0600) < 0)
    {
      strbuf_addf (err, "cannot write the private docker config in %s: %s", cred_dir, strerror (errno));
      publish_credentials_remove ();
      goto out;
    }
  *dir = xstrdup (cred_dir);
  rc = 0;
out:
  OPENSSL_cleanse (text, strlen (text));
  free (text);
  return rc;
}

/* "TAG: digest: sha256:<hex> size: N", docker push's last line. */
static char *
pushed_digest (const char *out)
{
  const char *p = out;
  char *found = NULL;
  while ((p = strstr (p, "digest: sha256:")) != NULL)
    {
      p += 8;
      size_t n = 7;
      while (isxdigit ((unsigned char) p[n]))
        n++;
      if (n == 7 + 64)
        {
          free (found);
          found = xstrndup (p, n);
        }
    }
  return found;
}

static int
count_lines (const char *out, const char *suffix)
{
  int n = 0;
  size_t sl = strlen (suffix);
  for (const char *line = out; *line;)
    {
      size_t len = strcspn (line, "\n");
      if (len >= sl && memcmp (line + len - sl, suffix, sl) == 0)
        n++;
      line += len + (line[len] == '\n');
    }
  return n;
}

/* The last non-empty line of docker's output: its reason for failing. */
static void
last_line (const char *s, struct strbuf *out)
{
  size_t end = strlen (s);
  while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r' || s[end - 1] == ' '))
    end--;
  size_t start = end;
  while (start > 0 && s[start - 1] != '\n')
    start--;
  strbuf_add (out, s + start, end - start);
}

int
publish_push (const char *config_dir, const char *image_id, const char *ref, char **digest, int *uploaded,
              int *present, struct strbuf *err)
{
  *digest = NULL;
  const char *tag_argv[] = { docker_bin (), "tag", image_id, ref, NULL };
  const char *push_cfg[] = { docker_bin (), "--config", config_dir, "push", ref, NULL };
  const char *push_plain[] = { docker_bin (), "push", ref, NULL };
  struct strbuf out = STRBUF_INIT, perr = STRBUF_INIT;
  if (docker_run (tag_argv, NULL, err) < 0)
    return -1;
  struct run_opts o = { config_dir ? push_cfg : push_plain, NULL, NULL, &out, &perr, 1 };
  int rc = run_command (&o);
  if (rc != 0)
    {
      strbuf_addf (err, "docker push %s failed (exit %d): ", ref, rc);
      last_line (perr.len ? perr.buf : out.buf, err);
    }
  else if ((*digest = pushed_digest (out.buf)) == NULL)
    {
      strbuf_addf (err, "docker push %s printed no manifest digest: ", ref);
      last_line (out.buf, err);
      rc = -1;
    }
  *uploaded = count_lines (out.buf, ": Pushed");
  *present = count_lines (out.buf, ": Layer already exists");
  strbuf_release (&out);
  strbuf_release (&perr);
  return rc == 0 ? 0 : -1;
}
