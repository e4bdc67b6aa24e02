/* main.c: pytorch-cuda-verify's front: options, the checks in order, the table or the JSON
   certificate, and the exit code. Only this file decides how the program ends. */
#include "report.h"
#include "verify.h"

#include <errno.h>
#include <time.h>

#define DEFAULT_IMAGE_ENV "/etc/pytorch-cuda/image.env"

struct check_def
{
  const char *name;
  void (*run) (struct ctx *, struct check *);
};

/* The order matters: the driver check decides whether the others may use the GPU. */
static const struct check_def defs[] = {
  { "driver", check_driver }, { "runtime", check_runtime }, { "kernel", check_kernel },
  { "cublas", check_cublas }, { "cudnn", check_cudnn },     { "libtorch", check_libtorch },
  { "python", check_python },
  /* One interpreter runs these after python's `import torch` (python.c): what users run first. */
  { "python-train", check_python_train }, { "python-numpy", check_python_numpy },
  { "python-compile", check_python_compile }, { "python-archs", check_python_archs },
  { "python-gpu", check_python_gpu },
  /* `python` on PATH is the image's Python (command.c): what users type. */
  { "python-command", check_python_command }, { "user", check_user },
  /* Notebook images only: sshd's effective configuration (sshd.c). */
  { "sshd", check_sshd },
  /* The image's SPDX bill of materials is there and is this tag's (sbom.c, docs/sbom.md). */
  { "sbom", check_sbom },
};

static void
usage (FILE *out)
{
  fprintf (out,
           "usage: pytorch-cuda-verify [--json] [--require-gpu] [--only CHECK[,CHECK...]]\n"
           "       pytorch-cuda-verify --help | --version\n\n"
           "Certifies this image from the inside: each check loads the image's own libraries\n"
           "and compares what they do and report with the image's claims in\n" DEFAULT_IMAGE_ENV
           ". Without a GPU the certificate is static (versions,\n"
           "NVRTC builds for every claimed architecture, a libtorch CPU matmul); with one the\n"
           "kernel, SGEMM, cuDNN and libtorch CUDA results are checked against the CPU.\n\n"
           "options:\n"
           "  --json           print the JSON certificate instead of the table\n"
           "  --require-gpu    fail (exit 3) unless a GPU is usable\n"
           "  --only LIST      run only these checks (comma-separated); the rest are skipped\n"
           "  --help, --version\n\n"
           "checks: driver, runtime, kernel, cublas, cudnn, libtorch, python, python-train,\n"
           "        python-numpy, python-compile, python-archs, python-gpu, python-command, user, sshd,\n"
           "        sbom\n\n"
           "exit codes (when several apply, the highest listed here wins over 1):\n"
           "  0  certified: every check passed or was skipped for a stated reason\n"
           "  1  a check failed (its row names the remedy)\n"
           "  2  usage: bad options, or a missing or invalid image.env\n"
           "  3  no GPU, and --require-gpu was given\n"
           "  4  the driver is too old for this image's CUDA\n\n"
           "environment:\n"
           "  PYTORCH_CUDA_IMAGE_ENV  the image metadata (default " DEFAULT_IMAGE_ENV ")\n"
           "  PYTORCH_CUDA_IMAGE_ID   the image ID to record in the certificate\n"
           "  PYTORCH_CUDA_SBOM       the image's SPDX document (default /usr/share/doc/pytorch-cuda/sbom.spdx.json)\n");
}

/* Mark the checks named in LIST (comma-separated) as selected; -1 on an unknown name. */
static int
select_checks (struct check *checks, const char *list)
{
  for (size_t i = 0; i < ARRAY_SIZE (defs); i++)
    checks[i].selected = 0;
  while (*list)
    {
      size_t len = strcspn (list, ","), i;
      for (i = 0; i < ARRAY_SIZE (defs); i++)
        if (strlen (defs[i].name) == len && strncmp (defs[i].name, list, len) == 0)
          break;
      if (i == ARRAY_SIZE (defs))
        {
          pcv_error ("unknown check '%.*s' in --only; checks: driver, runtime, kernel, cublas, "
                     "cudnn, libtorch, python, python-train, python-numpy, python-compile, "
                     "python-archs, python-gpu, user, sshd, sbom",
                     (int) len, list);
          return -1;
        }
      checks[i].selected = 1;
      list += len;
      if (*list)
        list++;
    }
  return 0;
}

/* 1 to go on, 0 to exit with *rc (help, version, usage errors). */
static int
parse_options (int argc, char **argv, struct options *opt, struct check *checks, int *rc)
{
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "--json") == 0)
        opt->json = 1;
      else if (strcmp (a, "--require-gpu") == 0)
        opt->require_gpu = 1;
      else if (strcmp (a, "--only") == 0 || strncmp (a, "--only=", 7) == 0)
        {
          const char *list = a[6] == '=' ? a + 7 : i + 1 < argc ? argv[++i] : NULL;
          if (list == NULL || *list == '\0')
            pcv_error ("--only needs a list of checks");
          if (list == NULL || *list == '\0' || select_checks (checks, list) < 0)
            return *rc = PCV_EXIT_USAGE, 0;
        }
      else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
        {
          usage (stdout);
          return *rc = PCV_EXIT_CERTIFIED, 0;
        }
      else if (strcmp (a, "--version") == 0)
        {
          printf ("pytorch-cuda-verify %s (certificate schema %d)\n", PCV_VERSION, PCV_SCHEMA);
          return *rc = PCV_EXIT_CERTIFIED, 0;
        }
      else
        {
          pcv_error ("unknown option '%s'; see 'pytorch-cuda-verify --help'", a);
          return *rc = PCV_EXIT_USAGE, 0;
        }
    }
  return 1;
}

static void
now_utc (char *buf, size_t size)
{
  time_t t = time (NULL);
  struct tm tm;
  if (gmtime_r (&t, &tm) == NULL || strftime (buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    snprintf (buf, size, "unknown");
}

static void
run_checks (struct ctx *c, struct check *checks)
{
  /* The python checks' `import torch` is the slowest: start it first (its verdicts come last),
     with the stages selected; python-gpu only where a GPU is there to run it. */
  const char *stages[ARRAY_SIZE (defs)];
  size_t nstages = 0;
  int any_python = 0;
  for (size_t i = 0; i < ARRAY_SIZE (defs); i++)
    if (checks[i].selected && strncmp (defs[i].name, "python", 6) == 0)
      {
        any_python = 1;
        if (strcmp (defs[i].name, "python") != 0 && (defs[i].run != check_python_gpu || c->gpu.have_device))
          stages[nstages++] = defs[i].name;
      }
  if (any_python)
    python_start (c, stages, nstages);
  for (size_t i = 0; i < ARRAY_SIZE (defs); i++)
    {
      checks[i].name = defs[i].name;
      /* The driver's verdict is always reached: the other checks need it. */
      if (checks[i].selected || i == 0)
        defs[i].run (c, &checks[i]);
      if (!checks[i].selected)
        check_set (&checks[i], ST_SKIP, "not selected (--only)");
    }
}

static void
decide (const struct ctx *c, const struct check *checks, struct outcome *o)
{
  int failed = 0;
  for (size_t i = 0; i < ARRAY_SIZE (defs); i++)
    failed |= checks[i].status == ST_FAIL;
  o->level = c->gpu.have_device && !c->gpu.too_old ? "gpu" : "static";
  if (c->gpu.too_old)
    o->exit_code = PCV_EXIT_DRIVER, o->result = "driver-too-old";
  else if (c->opt.require_gpu && !c->gpu.have_device)
    o->exit_code = PCV_EXIT_NO_GPU, o->result = "no-gpu";
  else if (failed)
    o->exit_code = PCV_EXIT_FAILED, o->result = "failed";
  else
    o->exit_code = PCV_EXIT_CERTIFIED, o->result = "certified";
}

/* git's run_builtin(): a full disk or a closed pipe on stdout is an error, not silence. */
static int
finish_stdout (int rc)
{
  if (fflush (stdout) != 0 || ferror (stdout) || fclose (stdout) != 0)
    {
      pcv_error ("cannot write to standard output: %s", strerror (errno));
      return rc ? rc : PCV_EXIT_FAILED;
    }
  return rc;
}

int
main (int argc, char **argv)
{
  struct check checks[ARRAY_SIZE (defs)];
  struct image img;
  struct ctx c;
  struct outcome o;
  int rc = 0;
  memset (checks, 0, sizeof checks);
  memset (&c, 0, sizeof c);
  memset (&o, 0, sizeof o);
  for (size_t i = 0; i < ARRAY_SIZE (defs); i++)
    checks[i].selected = 1;
  if (!parse_options (argc, argv, &c.opt, checks, &rc))
    return finish_stdout (rc);
  const char *path = getenv ("PYTORCH_CUDA_IMAGE_ENV");
  if (image_load (&img, path && *path ? path : DEFAULT_IMAGE_ENV) < 0)
    {
      image_release (&img);
      return finish_stdout (PCV_EXIT_USAGE);
    }
  c.img = &img;
  now_utc (o.started, sizeof o.started);
  rng_seed ();
  gpu_probe (&c.gpu);
  run_checks (&c, checks);
  decide (&c, checks, &o);
  now_utc (o.finished, sizeof o.finished);
  if (c.opt.json)
    report_json (stdout, &c, checks, ARRAY_SIZE (defs), &o);
  else
    report_table (stdout, &c, checks, ARRAY_SIZE (defs), &o);
  gpu_release (&c.gpu);
  image_release (&img);
  return finish_stdout (o.exit_code);
}
