/* run.c: see run.h. */
#include "run.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Wait for pid; its exit status, 128 + the signal that ended it (as shells say), or -1. */
static int
wait_exit (pid_t pid)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return WEXITSTATUS (status);
}

/* environ plus the extra entries (which win: they come first for getenv's first match). */
static char **
make_env (const char *const *extra)
{
  size_t n = 0, m = 0;
  while (environ[n])
    n++;
  while (extra && extra[m])
    m++;
  char **env = xcalloc (n + m + 1, sizeof *env);
  for (size_t i = 0; i < m; i++)
    env[i] = (char *) extra[i];
  for (size_t i = 0; i < n; i++)
    env[m + i] = environ[i];
  return env;
}

/* Read both pipes until both close, so neither child stream can fill up and block. */
static void
drain (int out_fd, struct strbuf *out, int err_fd, struct strbuf *err)
{
  struct pollfd fds[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
  struct strbuf *bufs[2] = { out, err };
  int open_fds = (out_fd >= 0) + (err_fd >= 0);
  char chunk[65536];
  while (open_fds > 0)
    {
      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      for (int i = 0; i < 2; i++)
        {
          if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
          ssize_t n = read (fds[i].fd, chunk, sizeof chunk);
          if (n > 0)
            strbuf_add (bufs[i], chunk, (size_t) n);
          else if (n == 0 || errno != EINTR)
            {
              close (fds[i].fd);
              fds[i].fd = -1;
              open_fds--;
            }
        }
    }
}

int
run_command (const struct run_opts *o)
{
  int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  if ((o->out && pipe2 (out_pipe, O_CLOEXEC) < 0) || (o->err && pipe2 (err_pipe, O_CLOEXEC) < 0))
    return -1;
  if (o->out)
    posix_spawn_file_actions_adddup2 (&fa, out_pipe[1], 1);
  if (o->err)
    posix_spawn_file_actions_adddup2 (&fa, err_pipe[1], 2);
  if (o->null_stdin)
    posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  if (o->dir)
    posix_spawn_file_actions_addchdir_np (&fa, o->dir);
  char **env = make_env (o->env);
  pid_t pid;
  int r = posix_spawnp (&pid, o->argv[0], &fa, NULL, (char *const *) o->argv, env);
  free (env);
  posix_spawn_file_actions_destroy (&fa);
  if (out_pipe[1] >= 0)
    close (out_pipe[1]);
  if (err_pipe[1] >= 0)
    close (err_pipe[1]);
  if (r != 0)
    {
      if (out_pipe[0] >= 0)
        close (out_pipe[0]);
      if (err_pipe[0] >= 0)
        close (err_pipe[0]);
      errno = r;
      return -1;
    }
  drain (out_pipe[0], o->out, err_pipe[0], o->err);
  return wait_exit (pid);
}

/* The programs run_stream () runs now, by process group; stopping: run_stop_all () was called. */
static pthread_mutex_t streams_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t *streams;
static size_t nstreams, streams_alloc;
static int stopping;

int
run_stream (const struct run_stream_opts *o)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, p[1], 1);
  posix_spawn_file_actions_adddup2 (&fa, p[1], 2);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  /* Its own process group, every signal unblocked and INT/TERM/PIPE at their defaults, whatever
     the thread that starts it has. */
  posix_spawnattr_t at;
  posix_spawnattr_init (&at);
  sigset_t none, dfl;
  sigemptyset (&none);
  sigemptyset (&dfl);
  sigaddset (&dfl, SIGINT);
  sigaddset (&dfl, SIGTERM);
  sigaddset (&dfl, SIGPIPE);
  posix_spawnattr_setpgroup (&at, 0);
  posix_spawnattr_setsigmask (&at, &none);
  posix_spawnattr_setsigdefault (&at, &dfl);
  posix_spawnattr_setflags (&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char **env = make_env (o->env);
  pid_t pid = -1;
  int r;
  /* Started under the lock: run_stop_all () either sees it or comes first and it never starts. */
  pthread_mutex_lock (&streams_mu);
  if (stopping)
    r = ECANCELED;
  else
    r = posix_spawnp (&pid, o->argv[0], &fa, &at, (char *const *) o->argv, env);
  if (r == 0)
    {
      ARRAY_GROW (streams, nstreams + 1, streams_alloc);
      streams[nstreams++] = pid;
    }
  pthread_mutex_unlock (&streams_mu);
  free (env);
  posix_spawnattr_destroy (&at);
  posix_spawn_file_actions_destroy (&fa);
  close (p[1]);
  if (r != 0)
    {
      close (p[0]);
      errno = r;
      return -1;
    }
  char chunk[65536];
  for (;;)
    {
      ssize_t n = read (p[0], chunk, sizeof chunk);
      if (n > 0 && o->output)
        o->output (o->ctx, chunk, (size_t) n);
      else if (n == 0 || (n < 0 && errno != EINTR))
        break;
    }
  close (p[0]);
  /* Wait without reaping, forget the pid, then reap: run_stop_all () never signals a pid that
     was reaped (and could be another process's by now). */
  siginfo_t si;
  while (waitid (P_PID, (id_t) pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
    ;
  pthread_mutex_lock (&streams_mu);
  for (size_t i = 0; i < nstreams; i++)
    if (streams[i] == pid)
      {
        streams[i] = streams[--nstreams];
        break;
      }
  if (nstreams == 0)
    {
      free (streams);
      streams = NULL;
      streams_alloc = 0;
    }
  pthread_mutex_unlock (&streams_mu);
  return wait_exit (pid);
}

int
run_stop_all (int sig)
{
  int n = 0;
  pthread_mutex_lock (&streams_mu);
  stopping = 1;
  for (size_t i = 0; sig && i < nstreams; i++)
    n += kill (-streams[i], sig) == 0;
  pthread_mutex_unlock (&streams_mu);
  return n;
}

void
run_describe (const char *const *argv, struct strbuf *out)
{
  for (size_t i = 0; argv[i]; i++)
    {
      if (i)
        strbuf_addch (out, ' ');
      if (argv[i][0] && strpbrk (argv[i], " \t'\"$`\\") == NULL)
        strbuf_addstr (out, argv[i]);
      else
        strbuf_addf (out, "'%s'", argv[i]);
    }
}

/* What a program wrote to the temporary file fd, from its start, into said (trailing newlines
   dropped); fd is closed. */
static void
take_said (int fd, struct strbuf *said)
{
  char buf[4096];
  lseek (fd, 0, SEEK_SET);
  for (ssize_t n; (n = read (fd, buf, sizeof buf)) > 0;)
    strbuf_add (said, buf, (size_t) n);
  close (fd);
  while (said->len && said->buf[said->len - 1] == '\n')
    said->buf[--said->len] = '\0';
}

int
run_feed (const char *const *argv, int (*feed) (int fd, void *ctx), void *ctx, int *fed, struct strbuf *said)
{
  int in[2];
  int out = open ("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (out < 0 || pipe2 (in, O_CLOEXEC) < 0)
    {
      int e = errno;
      if (out >= 0)
        close (out);
      errno = e;
      return -1;
    }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, in[0], 0);
  posix_spawn_file_actions_adddup2 (&fa, out, 1);
  posix_spawn_file_actions_adddup2 (&fa, out, 2);
  pid_t pid;
  int e = posix_spawnp (&pid, argv[0], &fa, NULL, (char *const *) argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (in[0]);
  if (e != 0)
    {
      close (in[1]);
      close (out);
      errno = e;
      return -1;
    }
  /* the program ending early must be an error of feed, not a SIGPIPE that ends pcgen: SIGPIPE
     goes to the thread that wrote, so this thread blocks it and takes a pending one back */
  sigset_t pipe_set, old_mask;
  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, &old_mask);
  *fed = feed (in[1], ctx);
  close (in[1]);
  struct timespec zero = { 0, 0 };
  while (sigtimedwait (&pipe_set, NULL, &zero) == SIGPIPE)
    ;
  pthread_sigmask (SIG_SETMASK, &old_mask, NULL);
  int rc = wait_exit (pid);
  take_said (out, said);
  return rc;
}

int
run_drain (const char *const *argv, int (*reader) (int fd, void *ctx), void *ctx, int *drained, struct strbuf *said)
{
  int out[2];
  int errf = open ("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  int devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (errf < 0 || devnull < 0 || pipe2 (out, O_CLOEXEC) < 0)
    {
      int e = errno;
      if (errf >= 0)
        close (errf);
      if (devnull >= 0)
        close (devnull);
      errno = e;
      return -1;
    }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, devnull, 0);
  posix_spawn_file_actions_adddup2 (&fa, out[1], 1);
  posix_spawn_file_actions_adddup2 (&fa, errf, 2);
  pid_t pid;
  int e = posix_spawnp (&pid, argv[0], &fa, NULL, (char *const *) argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (out[1]);
  close (devnull);
  if (e != 0)
    {
      close (out[0]);
      close (errf);
      errno = e;
      return -1;
    }
  *drained = reader (out[0], ctx);
  /* A reader that stopped early closes the pipe: the program's next write fails (EPIPE, or
     SIGPIPE in its own process) and it ends. */
  close (out[0]);
  int rc = wait_exit (pid);
  take_said (errf, said);
  return rc;
}

static long long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
run_bounded (const struct run_bounded_opts *o)
{
  int in[2] = { -1, -1 }, out[2] = { -1, -1 };
  *o->out_len = 0;
  if (o->cap)
    o->out[0] = '\0';
  if (pipe2 (in, O_CLOEXEC) < 0 || pipe2 (out, O_CLOEXEC) < 0)
    {
      int e = errno;
      if (in[0] >= 0)
        close (in[0]), close (in[1]);
      errno = e;
      return -1;
    }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, in[0], 0);
  posix_spawn_file_actions_adddup2 (&fa, out[1], 1);
  pid_t pid;
  int e = posix_spawnp (&pid, o->argv[0], &fa, NULL, (char *const *) o->argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (in[0]);
  close (out[1]);
  if (e != 0)
    {
      close (in[1]);
      close (out[0]);
      errno = e;
      return -1;
    }
  /* A program that exits without reading its stdin must be an EPIPE here, not a SIGPIPE that
     ends pcgen (as run_feed). */
  sigset_t pipe_set, old_mask;
  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, &old_mask);
  fcntl (in[1], F_SETFL, O_NONBLOCK);
  size_t sent = 0, len = 0;
  int killed = 0;
  long long deadline = now_ms () + o->timeout_ms;
  if (o->input == NULL || o->input_len == 0)
    close (in[1]), in[1] = -1;
  while (out[0] >= 0)
    {
      long long left = deadline - now_ms ();
      if (left <= 0)
        {
          killed = RUN_TIMED_OUT;
          break;
        }
      struct pollfd fds[2] = { { out[0], POLLIN, 0 }, { in[1], POLLOUT, 0 } };
      if (poll (fds, in[1] >= 0 ? 2 : 1, left > 1000 ? 1000 : (int) left) < 0)
        {
          if (errno == EINTR)
            continue;
          killed = RUN_TIMED_OUT; /* cannot wait for it: treat as hung */
          break;
        }
      if (in[1] >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)))
        {
          ssize_t n = write (in[1], o->input + sent, o->input_len - sent);
          if (n > 0)
            sent += (size_t) n;
          if ((n < 0 && errno != EAGAIN && errno != EINTR) || sent == o->input_len)
            close (in[1]), in[1] = -1; /* all written, or it stopped reading (EPIPE) */
        }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          /* Straight into the caller's buffer: no copy of what it says is left anywhere else. */
          ssize_t n = read (out[0], o->out + len, o->cap - 1 - len);
          if (n > 0)
            {
              len += (size_t) n;
              if (len == o->cap - 1)
                {
                  killed = RUN_TOO_BIG;
                  break;
                }
            }
          else if (n == 0 || errno != EINTR)
            close (out[0]), out[0] = -1;
        }
    }
  if (in[1] >= 0)
    close (in[1]);
  if (out[0] >= 0)
    close (out[0]);
  struct timespec zero = { 0, 0 };
  while (sigtimedwait (&pipe_set, NULL, &zero) == SIGPIPE)
    ;
  pthread_sigmask (SIG_SETMASK, &old_mask, NULL);
  o->out[len] = '\0';
  *o->out_len = len;
  /* Its stdout closed: it has until the deadline to exit. */
  int status;
  while (!killed)
    {
      pid_t w = waitpid (pid, &status, WNOHANG);
      if (w == pid)
        return WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status);
      if (w < 0 && errno != EINTR)
        return -1;
      if (now_ms () >= deadline)
        killed = RUN_TIMED_OUT;
      else
        {
          struct timespec tick = { 0, 10 * 1000000 };
          nanosleep (&tick, NULL);
        }
    }
  kill (pid, SIGKILL);
  wait_exit (pid);
  return killed;
}
