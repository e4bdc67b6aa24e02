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

/* why(): the first compiler diagnostic ("fatal error: Python.h: ...") in the chain of causes
   (dynamo wraps inductor's error in BackendCompilerFailed, whose inner_exception is it; a
   CalledProcessError keeps the compiler's output), else the root cause's first line. The script: `import torch` and its versions, then the stages named in argv, each in its own
   try: a stage prints "@ NAME ok|fail|skip DETAIL" (one line), so one failure names its check
   and the other stages still run. What users run first (verify/README.md, "Checks"): a training
   step, NumPy interop, torch.compile (inductor: a C++ compiler, OpenMP and Python.h), the arch
   list compiled in, and with a GPU the same on CUDA with cuDNN and Triton. */
static const char script[]
    = "import sys\n"
      "import torch\n"
      "print('torch', torch.__version__)\n"
      "print('cuda', torch.version.cuda)\n"
      "print('cudnn', torch.backends.cudnn.version())\n"
      "print('available', torch.cuda.is_available())\n"
      "sys.stdout.flush()\n"
      "def why(e):\n"
      "    chain = [e]\n"
      "    while len(chain) < 8 and (getattr(chain[-1], 'inner_exception', None) or chain[-1].__cause__):\n"
      "        chain.append(getattr(chain[-1], 'inner_exception', None) or chain[-1].__cause__)\n"
      "    for x in chain:\n"
      "        out = getattr(x, 'output', None) or ''\n"
      "        out = out.decode(errors='replace') if isinstance(out, bytes) else str(out)\n"
      "        for l in (str(x) + '\\n' + out).splitlines():\n"
      "            if 'error:' in l:\n"
      "                return (type(x).__name__ + ': ' + l.strip())[:400]\n"
      "    lines = [l.strip() for l in str(chain[-1]).splitlines() if l.strip()]\n"
      "    return (type(chain[-1]).__name__ + ': ' + (lines or [''])[0])[:400]\n"
      "def stage(name, fn):\n"
      "    if name not in sys.argv[1:]:\n"
      "        return\n"
      "    try:\n"
      "        print('@', name, 'ok', fn())\n"
      "    except Exception as e:\n"
      "        print('@', name, 'fail', why(e))\n"
      "    sys.stdout.flush()\n"
      "def train(dev):\n"
      "    torch.manual_seed(0)\n"
      "    m = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4)).to(dev)\n"
      "    opt = torch.optim.SGD(m.parameters(), lr=0.1)\n"
      "    x, y = torch.randn(64, 16, device=dev), torch.randn(64, 4, device=dev)\n"
      "    losses = []\n"
      "    for _ in range(5):\n"
      "        opt.zero_grad()\n"
      "        loss = torch.nn.functional.mse_loss(m(x), y)\n"
      "        loss.backward()\n"
      "        opt.step()\n"
      "        losses.append(loss.item())\n"
      "    assert all(p.grad is not None and bool(torch.isfinite(p.grad).all()) for p in m.parameters()), 'no finite gradients'\n"
      "    assert losses[-1] < losses[0], 'loss did not fall: %r' % losses\n"
      "    return 'loss %.4f -> %.4f on %s' % (losses[0], losses[-1], dev)\n"
      "def numpy_():\n"
      "    import numpy\n"
      "    t = torch.randn(2)\n"
      "    assert t.numpy().tolist() == t.tolist(), 'tensor.numpy() differs'\n"
      "    assert torch.from_numpy(numpy.arange(3.0)).tolist() == [0.0, 1.0, 2.0], 'from_numpy differs'\n"
      "    return 'numpy ' + numpy.__version__\n"
      "def compiled(dev):\n"
      "    f = lambda x: torch.sin(x) * 2 + 1\n"
      "    x = torch.randn(8, device=dev)\n"
      "    got = torch.compile(f, backend='inductor')(x)\n"
      "    assert torch.allclose(got, f(x), atol=1e-5), 'compiled result differs from eager'\n"
      "    return 'torch.compile (inductor) on %s equals eager' % dev\n"
      "def archs():\n"
      "    return str(torch._C._cuda_getArchFlags())\n"
      "def gpu():\n"
      "    if not torch.cuda.is_available():\n"
      "        raise RuntimeError('torch.cuda.is_available() is False')\n"
      "    done = [train('cuda')]\n"
      "    torch.backends.cudnn.allow_tf32 = False\n"
      "    x, w = torch.randn(2, 3, 16, 16), torch.randn(4, 3, 3, 3)\n"
      "    assert torch.backends.cudnn.is_acceptable(x.cuda()), 'cuDNN does not accept a CUDA tensor'\n"
      "    ref = torch.nn.functional.conv2d(x, w)\n"
      "    got = torch.nn.functional.conv2d(x.cuda(), w.cuda()).cpu()\n"
      "    assert torch.allclose(got, ref, atol=1e-4), 'cuDNN convolution differs from the CPU'\n"
      "    done.append('cuDNN conv2d equals CPU')\n"
      "    done.append(compiled('cuda').replace('inductor', 'Triton'))\n"
      "    return ', '.join(done) + ' on ' + torch.cuda.get_device_name(0)\n"
      "stage('python-train', lambda: train('cpu'))\n"
      "stage('python-numpy', numpy_)\n"
      "stage('python-compile', lambda: compiled('cpu'))\n"
      "stage('python-archs', archs)\n"
      "stage('python-gpu', gpu)\n";

enum
{
  CAP = 65536,     /* of each stream kept; the rest is drained */
  TIMEOUT_S = 600, /* a cold `import torch` and two cold torch.compile runs take minutes on 2 cores */
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
  int finished, rc;
} py;

/* The stages the script knows: python-train, -numpy, -compile, -archs and -gpu. */
enum
{
  NSTAGES = 5
};

void
python_start (struct ctx *c, const char *const *selected, size_t nselected)
{
  const char *python = c->img->python;
  int po[2], pe[2];
  char *argv[4 + NSTAGES] = { (char *) python, (char *) "-c", (char *) script };
  size_t argc = 3;
  for (size_t i = 0; i < nselected && argc + 1 < ARRAY_SIZE (argv); i++)
    argv[argc++] = (char *) selected[i];
  argv[argc] = NULL;
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
  if (py.finished)
    return py.rc;
  py.finished = 1;
  py.rc = -1;
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
  return py.rc = rc;
}

/* Lines "KEY VALUE" of the script's output into found. */
static void
parse (struct ctx *c, const char *out)
{
  struct found *f = &c->found;
  static char copy[CAP];
  snprintf (copy, sizeof copy, "%s", out);
  char *text = copy;
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
    python_start (c, NULL, 0);
  if (python_finish (c->img->python) < 0)
    check_set (out, ST_FAIL, "%s", py.err);
  else
    {
      parse (c, py.out.buf);
      verdict (c, out);
    }
}

/* The line "@ NAME STATUS DETAIL" of stage name: status and detail into the arguments. */
static int
stage_line (const char *name, char *status, size_t ssize, char *detail, size_t dsize)
{
  size_t n = strlen (name);
  for (const char *l = py.out.buf; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
    if (l[0] == '@' && l[1] == ' ' && strncmp (l + 2, name, n) == 0 && l[2 + n] == ' ')
      {
        const char *st = l + 3 + n, *end = strchr (st, '\n');
        size_t len = end ? (size_t) (end - st) : strlen (st);
        size_t sl = strcspn (st, " \n");
        snprintf (status, ssize, "%.*s", (int) sl, st);
        const char *d = st + sl + (st[sl] == ' ');
        snprintf (detail, dsize, "%.*s", (int) (len - (size_t) (d - st)), d);
        return 0;
      }
  return -1;
}

/* The verdict of a stage the script ran: its own line, or why it has none. */
static int
stage_result (struct ctx *c, const char *name, struct check *out, char *detail, size_t dsize)
{
  char status[16];
  if (c->img->python == NULL || c->img->python[0] == '\0')
    return check_set (out, ST_SKIP, "no Python in this image (PC_PYTHON is empty)"), -1;
  if (!py.started)
    {
      const char *one[] = { name };
      python_start (c, one, 1);
    }
  int rc = python_finish (c->img->python);
  if (stage_line (name, status, sizeof status, detail, dsize) < 0)
    return check_set (out, ST_FAIL, "not reached: %s", rc < 0 ? py.err : "the script printed no result"), -1;
  if (strcmp (status, "ok") != 0)
    return check_set (out, ST_FAIL, "%s", detail), -1;
  return 0;
}

static void
stage_check (struct ctx *c, const char *name, struct check *out)
{
  char detail[PCV_DETAIL_MAX];
  if (stage_result (c, name, out, detail, sizeof detail) == 0)
    check_set (out, ST_PASS, "%s", detail);
}

void
check_python_train (struct ctx *c, struct check *out)
{
  stage_check (c, "python-train", out);
}

void
check_python_numpy (struct ctx *c, struct check *out)
{
  stage_check (c, "python-numpy", out);
}

void
check_python_compile (struct ctx *c, struct check *out)
{
  stage_check (c, "python-compile", out);
}

/* Claimed "5.0;9.0a;12.0+PTX" as torch spells it: "sm_50 sm_90a sm_120 compute_120". */
static void
claimed_flags (const struct image *img, char *buf, size_t size)
{
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < img->narchs && len < size; i++)
    {
      const struct arch *a = &img->archs[i];
      char sfx[2] = { a->suffix, '\0' };
      len += (size_t) snprintf (buf + len, size - len, "%ssm_%d%s", len ? " " : "", a->sm, sfx);
      if (a->ptx && len < size)
        len += (size_t) snprintf (buf + len, size - len, " compute_%d%s", a->sm, sfx);
    }
}

/* 1 when every space-separated word of a is a word of b. */
static int
words_in (const char *a, const char *b)
{
  for (const char *w = a; *w;)
    {
      size_t n = strcspn (w, " ");
      int found = n == 0;
      for (const char *v = b; *v && !found;)
        {
          size_t m = strcspn (v, " ");
          found = m == n && strncmp (v, w, n) == 0;
          v += m + (v[m] == ' ');
        }
      if (!found)
        return 0;
      w += n + (w[n] == ' ');
    }
  return 1;
}

/* The knowledge base's arch list (image.env PC_ARCHS) checked against the binary. */
void
check_python_archs (struct ctx *c, struct check *out)
{
  char detail[PCV_DETAIL_MAX], want[PCV_DETAIL_MAX];
  if (stage_result (c, "python-archs", out, detail, sizeof detail) < 0)
    return;
  if (c->img->narchs == 0)
    {
      check_set (out, ST_SKIP, "image.env claims no arch list (PC_ARCHS); torch has %s", detail);
      return;
    }
  claimed_flags (c->img, want, sizeof want);
  if (words_in (detail, want) && words_in (want, detail))
    check_set (out, ST_PASS, "torch._C._cuda_getArchFlags() is '%s', as PC_ARCHS %s claims", detail,
               c->img->archs_text);
  else
    check_set (out, ST_FAIL,
               "torch._C._cuda_getArchFlags() is '%s', but image.env claims PC_ARCHS=%s ('%s'): fix "
               "the arch list in generator/data/torch.yaml",
               detail, c->img->archs_text, want);
}

void
check_python_gpu (struct ctx *c, struct check *out)
{
  if (!c->gpu.have_device || c->gpu.too_old)
    {
      check_set (out, ST_SKIP, "no usable GPU: the model on CUDA, cuDNN and Triton run with one");
      return;
    }
  stage_check (c, "python-gpu", out);
}
