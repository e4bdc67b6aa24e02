/* sshd.c: the notebook image's SSH mode, checked statically (no daemon is started): sshd's
   effective configuration, as `sshd -T` prints it after every default and include is applied,
   has keys-only login for the image's user and nothing else; and no host key is in the image
   (the entrypoint makes them at a container's first start, so two containers never share one).
   `sshd -T` needs a host key to run: a throwaway one in a temporary folder, given with -h. */
#include "verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define SSHD "/usr/sbin/sshd"
#define SSHD_CONFIG "/etc/ssh/sshd_config"

/* The settings and the value `sshd -T` must print for each (lowercase, as it prints them). */
static const char *const wanted[][2] = {
  { "passwordauthentication", "no" }, { "kbdinteractiveauthentication", "no" },
  { "permitemptypasswords", "no" },   { "permitrootlogin", "no" },
  { "pubkeyauthentication", "yes" },
};

/* Run argv (no shell) with stdin from /dev/null; stdout into out (at most cap - 1 bytes, the
   rest read and dropped). Returns the exit status, or -1 with errno's text in out. */
static int
run_capture (char *const argv[], char *out, size_t cap)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return snprintf (out, cap, "pipe: %s", strerror (errno)), -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, p[1], 1);
  posix_spawn_file_actions_adddup2 (&fa, p[1], 2);
  pid_t pid;
  int r = posix_spawn (&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (p[1]);
  if (r != 0)
    {
      close (p[0]);
      return snprintf (out, cap, "cannot run %s: %s", argv[0], strerror (r)), -1;
    }
  size_t len = 0;
  char sink[4096];
  for (;;)
    {
      ssize_t got = len + 1 < cap ? read (p[0], out + len, cap - 1 - len) : read (p[0], sink, sizeof sink);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        break;
      if (len + 1 < cap)
        len += (size_t) got;
    }
  out[len] = '\0';
  close (p[0]);
  int status;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

/* The value of `key` in sshd -T's output ("key value" lines), or NULL; into buf. */
static const char *
setting (const char *text, const char *key, char *buf, size_t cap)
{
  size_t n = strlen (key);
  for (const char *l = text; *l;)
    {
      size_t len = strcspn (l, "\n");
      if (len > n && strncmp (l, key, n) == 0 && l[n] == ' ')
        {
          snprintf (buf, cap, "%.*s", (int) (len - n - 1), l + n + 1);
          return buf;
        }
      l += len + (l[len] == '\n');
    }
  return NULL;
}

/* A host key shipped in /etc/ssh (ssh_host_*): its name into buf, or NULL. */
static const char *
shipped_host_key (char *buf, size_t cap)
{
  DIR *d = opendir ("/etc/ssh");
  struct dirent *e;
  const char *found = NULL;
  while (d && !found && (e = readdir (d)))
    if (strncmp (e->d_name, "ssh_host_", 9) == 0)
      {
        snprintf (buf, cap, "/etc/ssh/%s", e->d_name);
        found = buf;
      }
  if (d)
    closedir (d);
  return found;
}

static void
check_config (struct check *out, const char *user, const char *text)
{
  char v[256], bad[PCV_DETAIL_MAX] = "";
  size_t blen = 0;
  for (size_t i = 0; i < ARRAY_SIZE (wanted); i++)
    {
      const char *got = setting (text, wanted[i][0], v, sizeof v);
      if (got == NULL || strcmp (got, wanted[i][1]) != 0)
        blen += (size_t) snprintf (bad + blen, blen < sizeof bad ? sizeof bad - blen : 0, "%s%s is %s, not %s",
                                   blen ? "; " : "", wanted[i][0], got ? got : "unset", wanted[i][1]);
    }
  const char *allow = setting (text, "allowusers", v, sizeof v);
  if (allow == NULL || strcmp (allow, user) != 0)
    blen += (size_t) snprintf (bad + blen, blen < sizeof bad ? sizeof bad - blen : 0, "%sallowusers is %s, not %s",
                               blen ? "; " : "", allow ? allow : "unset (everyone)", user);
  if (blen)
    check_set (out, ST_FAIL, "sshd -T: %s (" SSHD_CONFIG ")", bad);
  else
    check_set (out, ST_PASS, "sshd -T: keys only (password, keyboard-interactive and empty passwords off), no root "
                             "login, AllowUsers %s; no host key in the image",
               user);
}

void
check_sshd (struct ctx *c, struct check *out)
{
  const struct image *img = c->img;
  if (img->flavor == NULL || strcmp (img->flavor, "notebook") != 0)
    {
      check_set (out, ST_SKIP, "a %s image has no SSH mode", img->flavor ? img->flavor : "runtime");
      return;
    }
  const char *user = img->user && img->user[0] ? img->user : NULL;
  char name[300];
  if (user == NULL)
    check_set (out, ST_FAIL, "image.env names no user (PC_USER): a notebook image's sshd must allow one user");
  else if (shipped_host_key (name, sizeof name))
    check_set (out, ST_FAIL, "%s is in the image: every container of it would share that host key; make host keys "
                             "at start", name);
  else if (access (SSHD, X_OK) != 0)
    check_set (out, ST_FAIL, SSHD " cannot be run: %s", strerror (errno));
  if (out->status == ST_FAIL)
    return;
  char dir[] = "/tmp/pcv-sshd.XXXXXX";
  if (mkdtemp (dir) == NULL)
    {
      check_set (out, ST_FAIL, "cannot make a temporary folder in /tmp: %s", strerror (errno));
      return;
    }
  char key[64], pub[64], cuser[128];
  snprintf (key, sizeof key, "%s/k", dir);
  snprintf (pub, sizeof pub, "%s/k.pub", dir);
  snprintf (cuser, sizeof cuser, "user=%s,host=localhost,addr=127.0.0.1", user);
  static char text[32768];
  char *keygen[] = { (char *) "/usr/bin/ssh-keygen", (char *) "-q", (char *) "-t", (char *) "ed25519",
                     (char *) "-N", (char *) "", (char *) "-f", key, NULL };
  char *sshd[] = { (char *) SSHD, (char *) "-T", (char *) "-f", (char *) SSHD_CONFIG, (char *) "-h", key,
                   (char *) "-C", cuser, NULL };
  int rc = run_capture (keygen, text, sizeof text);
  if (rc != 0)
    check_set (out, ST_FAIL, "ssh-keygen (a throwaway host key for sshd -T) failed: %.200s", text);
  else if ((rc = run_capture (sshd, text, sizeof text)) != 0)
    check_set (out, ST_FAIL, "sshd -T -f " SSHD_CONFIG " exited %d: %.300s", rc, text);
  else
    check_config (out, user, text);
  unlink (key);
  unlink (pub);
  rmdir (dir);
}
