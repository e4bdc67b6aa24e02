/* test_publish.c: --to REGISTRY[/REPO] as users write it, and the private credentials folder. */
#include "check.h"
#include "publish.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* A child makes the private config (as `pcgen publish` does before its pushes), says where, and
   waits as during a long push; the parent sends it sig. Returns the child's wait status and the
   folder in *dir. With sig SIGPIPE the child writes to a pipe nobody reads instead, then exits
   through its own path (atexit), as `pcgen publish | true` does. */
static int
credentials_then (int sig, char **dir)
{
  int p[2], sink[2];
  *dir = NULL;
  if (pipe (p) < 0 || pipe (sink) < 0)
    return -1;
  fflush (NULL);
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (p[0]);
      close (sink[0]);
      /* As pcgen would be started from a terminal: a run under nohup, or from a background job
         of a shell without job control, inherits SIGHUP, SIGINT and SIGQUIT ignored, which
         publish_credentials rightly leaves so: the child would never end. */
      signal (sig, SIG_DFL);
      publish_credentials_guard (); /* as cmd_publish.c does before publish_credentials */
      struct strbuf err = STRBUF_INIT;
      char *d = NULL;
      if (publish_credentials ("localhost:5000", &d, &err) < 0 || d == NULL)
        _exit (100);
      if (write (p[1], d, strlen (d) + 1) < 0)
        _exit (101);
      close (p[1]);
      if (sig == SIGPIPE)
        {
          usleep (100000); /* the parent has closed the reading end */
          ssize_t n = write (sink[1], "x", 1);
          exit (n < 0 && errno == EPIPE ? 7 : 102);
        }
      for (;;)
        pause ();
    }
  close (p[1]);
  close (sink[1]);
  close (sink[0]);
  char buf[128] = "";
  ssize_t n = read (p[0], buf, sizeof buf - 1);
  close (p[0]);
  if (n > 0)
    *dir = strdup (buf);
  if (sig != SIGPIPE)
    kill (pid, sig);
  int status = 0;
  waitpid (pid, &status, 0);
  return status;
}

/* No signal that can end pcgen leaves the credentials on disk: each one removes the folder
   and still ends the process as it would have (the signal, or its core). */
static void
test_credentials_signals (void)
{
  setenv ("PCGEN_REGISTRY_USER", "ci", 1);
  setenv ("PCGEN_REGISTRY_PASSWORD", "s3cret", 1);
  /* Asked by the issue by name, and the rest of publish_fatal_signals. SIGSEGV and the other
     faults are left to the sanitizers here (ASan catches them in this build). */
  int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGALRM, SIGTERM, SIGUSR1, SIGUSR2, SIGXCPU, SIGVTALRM, SIGPROF, SIGABRT };
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    {
      char *dir = NULL;
      int status = credentials_then (sigs[i], &dir);
      CHECK (dir != NULL && strncmp (dir, "/tmp/pcgen-docker-config.", 25) == 0);
      if (dir && access (dir, F_OK) == 0)
        {
          fprintf (stderr, "signal %d (%s) left %s behind\n", sigs[i], strsignal (sigs[i]), dir);
          CHECK (!"credentials left on disk");
          char cmd[256];
          snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
          if (system (cmd) != 0)
            fprintf (stderr, "cannot remove %s\n", dir);
        }
      if (sigs[i] == SIGPIPE)
        CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 7);
      else
        {
          CHECK (WIFSIGNALED (status) && WTERMSIG (status) == sigs[i]);
          if (!WIFSIGNALED (status))
            fprintf (stderr, "signal %d: child status %#x\n", sigs[i], status);
        }
      free (dir);
    }
  unsetenv ("PCGEN_REGISTRY_USER");
  unsetenv ("PCGEN_REGISTRY_PASSWORD");
}

/* The private config keeps the user's settings but not what decides the credentials of the
   host pushed to: both `docker tag` and `docker push` run with it. */
static void
test_credentials_user_settings (void)
{
  char home[] = "/tmp/pcgen-test-publish.XXXXXX";
  if (mkdtemp (home) == NULL)
    return;
  char path[128];
  snprintf (path, sizeof path, "%s/config.json", home);
  const char *user = "{ \"auths\": { \"localhost:5000\": { \"auth\": \"b2xkOm9sZA==\" } },\n"
                     "  \"credsStore\": \"desktop\", \"currentContext\": \"remote\",\n"
                     "  \"credHelpers\": { \"localhost:5000\": \"pass\", \"ghcr.io\": \"gh\" },\n"
                     "  \"proxies\": { \"default\": { \"httpProxy\": \"http://proxy:3128\" } } }\n";
  FILE *f = fopen (path, "w");
  CHECK (f != NULL);
  if (f)
    {
      fputs (user, f);
      fclose (f);
    }
  snprintf (path, sizeof path, "%s/contexts", home);
  CHECK_INT (mkdir (path, 0700), 0);
  setenv ("DOCKER_CONFIG", home, 1);
  setenv ("PCGEN_REGISTRY_USER", "ci", 1);
  setenv ("PCGEN_REGISTRY_PASSWORD", "s3cret", 1);
  struct strbuf err = STRBUF_INIT, cfg = STRBUF_INIT;
  char *dir = NULL;
  CHECK_INT (publish_credentials ("localhost:5000", &dir, &err), 0);
  char mine[160];
  snprintf (mine, sizeof mine, "%s/config.json", dir ? dir : "");
  CHECK (strbuf_read_file (&cfg, mine, 1 << 16) == 0);
  CHECK (strstr (cfg.buf, "\"auth\": \"Y2k6czNjcmV0\"") != NULL);
  CHECK (strstr (cfg.buf, "b2xkOm9sZA==") == NULL);
  CHECK (strstr (cfg.buf, "credsStore") == NULL);
  CHECK (strstr (cfg.buf, "\"pass\"") == NULL);
  CHECK (strstr (cfg.buf, "\"ghcr.io\": \"gh\"") != NULL);
  CHECK (strstr (cfg.buf, "\"currentContext\": \"remote\"") != NULL);
  CHECK (strstr (cfg.buf, "http://proxy:3128") != NULL);
  snprintf (mine, sizeof mine, "%s/contexts", dir ? dir : "");
  struct stat st;
  CHECK (lstat (mine, &st) == 0 && S_ISLNK (st.st_mode));
  publish_credentials_remove ();
  CHECK (dir && access (dir, F_OK) != 0);
  unsetenv ("DOCKER_CONFIG");
  unsetenv ("PCGEN_REGISTRY_USER");
  unsetenv ("PCGEN_REGISTRY_PASSWORD");
  char cmd[160];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", home);
  if (system (cmd) != 0)
    fprintf (stderr, "cannot remove %s\n", home);
  free (dir);
  strbuf_release (&cfg);
  strbuf_release (&err);
}

int
main (void)
{
  test_dest ();
  test_credentials ();
  test_credentials_signals ();
  test_credentials_user_settings ();
  return check_summary ("publish");
}
