/* python.c: what a user meets first: `import torch` in the image's Python. The interpreter
   (PC_PYTHON, found on PATH) runs a fixed script through posix_spawn, without a shell;
   what it prints is compared with the tag's claims. */
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char script[] = "import torch\n"
                             "print('torch', torch.__version__)\n"
                             "print('cuda', torch.version.cuda)\n"
                             "print('cudnn', torch.backends.cudnn.version())\n"
                             "print('available', torch.cuda.is_available())\n";

enum
{
  CAP = 65536,     /* of each stream kept; the rest is drained */
  TIMEOUT_S = 300, /* a cold `import torch` on a slow disk takes tens of seconds */
};

struct stream
{
  int fd;
  char buf[CAP];
  size_t len;
};

static int
drain (struct stream *s)
{
  char tmp[4096];
  ssize_t n = read (s->fd, tmp, sizeof tmp);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 1;
  if (n <= 0)
    {
      close (s->fd);
      s->fd = -1;
      return 0;
    }
  size_t keep = (size_t) n < CAP - 1 - s->len ? (size_t) n : CAP - 1 - s->len;
  memcpy (s->buf + s->len, tmp, keep);
  s->len += keep;
  s->buf[s->len] = '\0';
  return 1;
}

/* Read both pipes until they close or the deadline passes; -1 on timeout. */
static int
collect (struct stream *out, struct stream *errs)
{
  time_t deadline = time (NULL) + TIMEOUT_S;
  while (out->fd >= 0 || errs->fd >= 0)
    {
      struct pollfd p[2] = { { out->fd, POLLIN, 0 }, { errs->fd, POLLIN, 0 } };
      time_t left = deadline - time (NULL);
      if (left <= 0)
        return -1;
      int n = poll (p, 2, (int) (left > 10 ? 10000 : left * 1000));
      if (n < 0 && errno != EINTR)
        return -1;
      if (out->fd >= 0 && p[0].revents)
        drain (out);
      if (errs->fd >= 0 && p[1].revents)
        drain (errs);
    }
  return 0;
}

/* The last non-empty line of text, e.g. "ModuleNotFoundError: No module named 'torch'". */
static const char *
last_line (char *text)
{
  size_t n = strlen (text);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
    text[--n] = '\0';
  char *nl = strrchr (text, '\n');
  return nl ? nl + 1 : text;
}

/* `import torch` takes about two seconds, more than every other check together, so the
   interpreter is started before the other checks (python_start) and its output collected when
   the python check's turn comes: the two run side by side. Its output is a few lines, well
   under a pipe's buffer, so it never waits for us. */
static struct
{
  pid_t pid;
  int started;
  struct stream out, errs; /* 128 KiB: kept off the stack */
  char err[PCV_DETAIL_MAX];
} py;

void
python_start (struct ctx *c)
{
  const char *python = c->img->python;
  int po[2], pe[2];
  char *argv[] = { (char *) python, (char *) "-c", (char *) script, NULL };
  posix_spawn_file_actions_t fa;
  memset (&py, 0, sizeof py);
  py.out.fd = py.errs.fd = -1;
  if (python == NULL || python[0] == '\0')
    return;
  py.started = 1;
  if (pipe2 (po, O_CLOEXEC) < 0)
    {
      snprintf (py.err, sizeof py.err, "pipe: %s", strerror (errno));
      return;
    }
  if (pipe2 (pe, O_CLOEXEC) < 0)
    {
      snprintf (py.err, sizeof py.err, "pipe: %s", strerror (errno));
      close (po[0]);
      close (po[1]);
      return;
    }
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, po[1], 1);
  posix_spawn_file_actions_adddup2 (&fa, pe[1], 2);
  int r = posix_spawnp (&py.pid, python, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (po[1]);
  close (pe[1]);
  py.out.fd = po[0];
  py.errs.fd = pe[0];
  if (r != 0)
    {
      close (po[0]);
      close (pe[0]);
      py.out.fd = py.errs.fd = -1;
      py.pid = 0;
      snprintf (py.err, sizeof py.err, "cannot run '%s' (PC_PYTHON): %s", python, strerror (r));
    }
}

/* Wait for the interpreter python_start started. Returns 0, or -1 with the reason in py.err. */
static int
python_finish (const char *python)
{
  int status = 0, rc = -1;
  if (py.pid == 0)
    return -1;
  if (collect (&py.out, &py.errs) < 0)
    {
      kill (py.pid, SIGKILL);
      snprintf (py.err, sizeof py.err, "'%s' did not finish within %d s", python, TIMEOUT_S);
    }
  if (py.out.fd >= 0)
    close (py.out.fd);
  if (py.errs.fd >= 0)
    close (py.errs.fd);
  while (waitpid (py.pid, &status, 0) < 0 && errno == EINTR)
    ;
  py.pid = 0;
  if (py.err[0])
    return -1;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    rc = 0;
  else
    snprintf (py.err, sizeof py.err, "%s -c 'import torch ...' failed: %s", python,
              py.errs.len ? last_line (py.errs.buf) : "no message");
  return rc;
}

/* Lines "KEY VALUE" of the script's output into found. */
static void
parse (struct ctx *c, char *text)
{
  struct found *f = &c->found;
  for (char *line = text; line && *line;)
    {
      char *nl = strchr (line, '\n');
      if (nl)
        *nl = '\0';
      char *sp = strchr (line, ' ');
      if (sp)
        {
          *sp = '\0';
          if (strcmp (line, "torch") == 0)
            snprintf (f->py_torch, sizeof f->py_torch, "%s", sp + 1);
          else if (strcmp (line, "cuda") == 0)
            snprintf (f->py_cuda, sizeof f->py_cuda, "%s", sp + 1);
          else if (strcmp (line, "cudnn") == 0 && strcmp (sp + 1, "None") != 0)
            cudnn_decode ((size_t) strtoull (sp + 1, NULL, 10), f->py_cudnn, sizeof f->py_cudnn);
          else if (strcmp (line, "available") == 0)
            snprintf (f->py_cuda_available, sizeof f->py_cuda_available, "%s", sp + 1);
        }
      line = nl ? nl + 1 : NULL;
    }
}

static void
verdict (struct ctx *c, struct check *out)
{
  const struct image *img = c->img;
  const struct found *f = &c->found;
  size_t rel = strcspn (f->py_torch, "+");
  char cudnn[32];
  int want_gpu = c->gpu.have_device && !c->gpu.too_old;
  version_prefix (img->cudnn, 3, cudnn, sizeof cudnn);
  if (f->py_torch[0] == '\0' || f->py_cuda_available[0] == '\0')
    check_set (out, ST_FAIL, "%s printed no torch version", img->python);
  else if (strlen (img->torch) != rel || strncmp (f->py_torch, img->torch, rel) != 0)
    check_set (out, ST_FAIL, "import torch gives %s, but the image claims %s", f->py_torch,
               img->torch);
  else if (strcmp (f->py_cuda, img->cuda) != 0)
    check_set (out, ST_FAIL, "torch.version.cuda is %s, but the image claims CUDA %s", f->py_cuda,
               img->cuda);
  else if (strcmp (f->py_cudnn, cudnn) != 0)
    check_set (out, ST_FAIL, "torch.backends.cudnn.version() is %s, but the image pins %s",
               f->py_cudnn[0] ? f->py_cudnn : "None", img->cudnn);
  else if (want_gpu && strcmp (f->py_cuda_available, "True") != 0)
    check_set (out, ST_FAIL, "torch.cuda.is_available() is %s although the driver offers %s",
               f->py_cuda_available, c->gpu.name);
  else
    check_set (out, ST_PASS, "torch %s, CUDA %s, cuDNN %s, cuda.is_available() %s", f->py_torch,
               f->py_cuda, f->py_cudnn, f->py_cuda_available);
}

void
check_python (struct ctx *c, struct check *out)
{
  if (c->img->python == NULL || c->img->python[0] == '\0')
    {
      check_set (out, ST_SKIP, "no Python in this image (PC_PYTHON is empty)");
      return;
    }
  if (!py.started)
    python_start (c);
  if (python_finish (c->img->python) < 0)
    check_set (out, ST_FAIL, "%s", py.err);
  else
    {
      parse (c, py.out.buf);
      verdict (c, out);
    }
}
