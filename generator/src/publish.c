/* publish.c: see publish.h. */
#include "publish.h"
#include "docker.h"
#include "fsutil.h"
#include "run.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
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
   the signal handler touches no heap. cred_link is the link to the user's contexts folder. */
static char cred_dir[64], cred_file[96], cred_link[96];

void
publish_credentials_remove (void)
{
  /* Only async-signal-safe calls (unlink, rmdir): this runs in a signal handler too. */
  if (cred_file[0])
    unlink (cred_file);
  if (cred_link[0])
    unlink (cred_link);
  if (cred_dir[0])
    rmdir (cred_dir);
  cred_file[0] = cred_link[0] = cred_dir[0] = '\0';
}

/* Every signal whose default action ends the process and that a handler can catch (signal(7),
   actions "Term" and "Core"; SIGKILL cannot be caught). The faults (SIGSEGV, SIGBUS, ...) too:
   a crash must not leave the password behind either, and the action they had before (the
   sanitizers' reporter, or the default core dump) runs right after. SIGPIPE is handled apart. */
const int publish_fatal_signals[] = { SIGHUP,  SIGINT,  SIGQUIT, SIGILL,    SIGTRAP, SIGABRT, SIGBUS,  SIGFPE,
                                      SIGUSR1, SIGSEGV, SIGUSR2, SIGALRM,   SIGTERM, SIGXCPU, SIGXFSZ, SIGVTALRM,
                                      SIGPROF, SIGIO,   SIGPWR,  SIGSTKFLT, SIGSYS,  0 };

static struct sigaction saved_action[NSIG];

static void
on_signal (int sig)
{
  int saved = errno;
  publish_credentials_remove ();
  /* The action the signal had before, then the signal again: it ends the process the way it
     would have (exit status, core, a sanitizer's report), once this handler returns and the
     signal is no longer blocked. */
  sigaction (sig, &saved_action[sig], NULL);
  raise (sig);
  errno = saved;
}

/* Caught rather than ignored: a write to a closed pipe (`pcgen publish | head`) fails with
   EPIPE and pcgen ends through its own checks and atexit; and a caught signal goes back to its
   default in the programs pcgen runs (execve(2)), where an ignored one would stay ignored. */
static void
on_sigpipe (int sig)
{
  (void) sig;
}

void
publish_credentials_guard (void)
{
  static int at_exit;
  if (!at_exit++)
    atexit (publish_credentials_remove);
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sigfillset (&sa.sa_mask); /* a second signal waits until the first has cleaned up */
  sa.sa_handler = on_signal;
  for (size_t i = 0; publish_fatal_signals[i]; i++)
    {
      int sig = publish_fatal_signals[i];
      struct sigaction cur;
      /* A signal the caller ignores (nohup's SIGHUP) stays ignored: it cannot end us. Called
         twice, the first call's saved action stays. */
      if (sigaction (sig, NULL, &cur) < 0 || cur.sa_handler == SIG_IGN || cur.sa_handler == on_signal)
        continue;
      saved_action[sig] = cur;
      sigaction (sig, &sa, NULL);
    }
  sa.sa_handler = on_sigpipe;
  sa.sa_flags = SA_RESTART;
  sigaction (SIGPIPE, &sa, NULL);
}


/* The user's docker config folder: $DOCKER_CONFIG, else ~/.docker (docker's cli/config). */
static char *
user_config_dir (void)
{
  const char *env = getenv ("DOCKER_CONFIG");
  const char *home = getenv ("HOME");
  if (env && *env)
    return xstrdup (env);
  return home && *home ? xasprintf ("%s/.docker", home) : NULL;
}

/* The user's config.json without what would decide the credentials of host: "auths" (ours
   replace them), "credsStore" (docker asks the store instead of "auths" when it is set) and
   credHelpers' entry for host. Everything else (currentContext, proxies, plugins, other hosts'
   helpers) is kept, so `docker tag` and `docker push` run with the user's settings. */
static json_t *
user_settings (const char *host)
{
  cleanup_free char *dir = user_config_dir ();
  cleanup_free char *path = dir ? xasprintf ("%s/config.json", dir) : NULL;
  json_t *cfg = path ? json_load_file (path, 0, NULL) : NULL;
  if (!json_is_object (cfg))
    {
      json_decref (cfg);
      return json_object ();
    }
  json_object_del (cfg, "auths");
  json_object_del (cfg, "credsStore");
  json_t *helpers = json_object_get (cfg, "credHelpers");
  if (json_is_object (helpers))
    json_object_del (helpers, host);
  return cfg;
}

int
publish_credentials_wanted (void)
{
  const char *user = getenv ("PCGEN_REGISTRY_USER"), *pass = getenv ("PCGEN_REGISTRY_PASSWORD");
  return user && *user && pass && *pass;
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
  json_t *cfg = user_settings (host);
  json_object_set_new (cfg, "auths", json_pack ("{s:{s:s}}", host, "auth", (const char *) b64));
  char *text = json_dumps (cfg, JSON_INDENT (2));
  json_decref (cfg);
  OPENSSL_cleanse (b64, strlen ((char *) b64));
  OPENSSL_cleanse (pair, n);
  free (b64);
  cleanup_free char *contexts = NULL;
  {
    cleanup_free char *ud = user_config_dir ();
    contexts = ud ? xasprintf ("%s/contexts", ud) : NULL;
  }
  int rc = -1, fd = -1;
  /* The handlers are in place (publish_credentials_guard); every signal is held back until
     cred_dir and cred_file name what exists: no moment when a signal could leave the file behind. */
  sigset_t all, old;
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, &old);
  snprintf (cred_dir, sizeof cred_dir, "%s", "/tmp/pcgen-docker-config.XXXXXX");
  if (mkdtemp (cred_dir) == NULL)
    {
      strbuf_addf (err, "cannot make a private docker config folder in /tmp: %s", strerror (errno));
      cred_dir[0] = '\0';
      goto out;
    }
  snprintf (cred_file, sizeof cred_file, "%s/config.json", cred_dir);
  /* The user's docker contexts (currentContext names one of them), by a link. */
  if (contexts && access (contexts, F_OK) == 0)
    {
      snprintf (cred_link, sizeof cred_link, "%s/contexts", cred_dir);
      if (symlink (contexts, cred_link) < 0)
        cred_link[0] = '\0';
    }
  /* Written in place, no temporary beside it: the folder is ours alone (0700) and nothing
     reads the file before publish_credentials returns. */
  fd = open (cred_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || write_all (fd, text, strlen (text)) < 0 || close (fd) < 0)
    {
      strbuf_addf (err, "cannot write the private docker config in %s: %s", cred_dir, strerror (errno));
      publish_credentials_remove ();
      goto out;
    }
  *dir = xstrdup (cred_dir);
  rc = 0;
out:
  sigprocmask (SIG_SETMASK, &old, NULL);
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
  /* One config for both: the private one (the user's settings, our credentials) or the user's. */
  const char *tag_cfg[] = { docker_bin (), "--config", config_dir, "tag", image_id, ref, NULL };
  const char *tag_plain[] = { docker_bin (), "tag", image_id, ref, NULL };
  const char *push_cfg[] = { docker_bin (), "--config", config_dir, "push", ref, NULL };
  const char *push_plain[] = { docker_bin (), "push", ref, NULL };
  struct strbuf out = STRBUF_INIT, perr = STRBUF_INIT;
  if (docker_run (config_dir ? tag_cfg : tag_plain, NULL, err) < 0)
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
