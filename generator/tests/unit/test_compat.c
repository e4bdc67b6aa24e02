/* test_compat.c: the verdicts of `pcgen compat`, as a table of (driver, GPU, tag) cases judged
   against the real knowledge base (generator/data) and a plan of one runtime tag per
   interesting (torch, CUDA) pair. Each expected value comes from a fact of the knowledge base:
   the CUDA release notes' driver tables, nvcc's architectures, TORCH_CUDA_ARCH_LIST. */
#include "check.h"
#include "compat.h"
#include "hostinfo.h"
#include "kb.h"
#include "matrix.h"
#include "plan.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char wide_matrix[]
    = "repository: test/pytorch-cuda\n"
      "base: debian-bookworm\n"
      "python: \"3.11\"\n"
      "torch: [\"2.4.1\"]\n"
      "cuda: [\"12.1\", \"12.4\"]\n"
      "flavors: [runtime]\n"
      "include:\n"
      "  - { torch: \"2.1.2\", cuda: \"11.8\" }\n"
      "  - { torch: \"2.1.2\", cuda: \"12.1\" }\n"
      "  - { torch: \"2.6.0\", cuda: \"12.6\" }\n"
      "  - { torch: \"2.7.1\", cuda: \"12.8\" }\n"
      "  - { torch: \"2.8.0\", cuda: \"12.9\" }\n"
      "  - { torch: \"2.9.1\", cuda: \"12.8\" }\n"
      "  - { torch: \"2.9.1\", cuda: \"13.0\" }\n";

/* Short names for the tags of wide_matrix. */
#define T118 "2.1.2-cuda11.8-cudnn8-runtime"
#define T121 "2.4.1-cuda12.1-cudnn9-runtime"
#define T121_OLD "2.1.2-cuda12.1-cudnn8-runtime"
#define T124 "2.4.1-cuda12.4-cudnn9-runtime"
#define T126 "2.6.0-cuda12.6-cudnn9-runtime"
#define T128 "2.7.1-cuda12.8-cudnn9-runtime"
#define T129 "2.8.0-cuda12.9-cudnn9-runtime"
#define T128_29 "2.9.1-cuda12.8-cudnn9-runtime"
#define T130 "2.9.1-cuda13.0-cudnn9-runtime"

enum
{
  U = COMPAT_UNCHECKED,
  RUNS = COMPAT_RUNS,
  MINOR = COMPAT_RUNS_MINOR,
  UNKNOWN = COMPAT_ARCH_UNKNOWN,
  OLD = COMPAT_DRIVER_TOO_OLD,
  NOT_BUILT = COMPAT_ARCH_NOT_BUILT,
  DROPPED = COMPAT_ARCH_DROPPED,
};

struct tcase
{
  const char *driver; /* NULL: not given */
  const char *gpu;    /* a name of gpus.yaml or a capability; NULL: not given */
  const char *tag;
  int verdict, driver_verdict, arch_verdict;
  const char *why; /* a part of the reported reason */
};

static const struct tcase cases[] = {
  /* Driver against CUDA: min_driver, else the minor-version-compatibility floor of the major. */
  { "520.61.05", NULL, T118, RUNS, RUNS, U, "driver 520.61.05 >= 520.61.05, the minimum of CUDA 11.8" },
  { "520.56.06", NULL, T118, MINOR, MINOR, U, "but at least 450.80.02 (CUDA 11.x): minor-version compatibility" },
  { "450.80.02", NULL, T118, MINOR, MINOR, U, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION" },
  { "440.33.01", NULL, T118, OLD, OLD, U,
    "driver 440.33.01 is older than 450.80.02, the oldest that runs CUDA 11.x (minor-version compatibility; "
    "520.61.05 for full 11.8 support); no tag of the plan runs on this host" },
  { "530.30.02", NULL, T121, RUNS, RUNS, U, ">= 530.30.02, the minimum of CUDA 12.1" },
  { "530.30.02", NULL, T124, MINOR, MINOR, U,
    "driver 530.30.02 is older than 550.54.14 (CUDA 12.4) but at least 525.60.13 (CUDA 12.x): minor-version "
    "compatibility; PTX JIT (CUDA_ERROR_UNSUPPORTED_PTX_VERSION) and newer-driver features fail" },
  { "525.60.13", NULL, T126, MINOR, MINOR, U, "older than 560.28.03 (CUDA 12.6)" },
  { "520.61.05", NULL, T121, OLD, OLD, U,
    "older than 525.60.13, the oldest that runs CUDA 12.x (minor-version compatibility; 530.30.02 for full 12.1 support)" },
  { "470.57.02", NULL, T121, OLD, OLD, U,
    "driver 470.57.02 is older than 525.60.13, the oldest that runs CUDA 12.x (minor-version compatibility; "
    "530.30.02 for full 12.1 support); runs on this host instead: " T118 },
  { "470.57.02", NULL, T124, OLD, OLD, U, "(minor-version compatibility; 550.54.14 for full 12.4 support)" },
  { "470.57.02", NULL, T126, OLD, OLD, U, "(minor-version compatibility; 560.28.03 for full 12.6 support)" },
  { "470.57.02", NULL, T128, OLD, OLD, U, "(minor-version compatibility; 570.26 for full 12.8 support)" },
  { "470.57.02", NULL, T129, OLD, OLD, U, "(minor-version compatibility; 575.51.03 for full 12.9 support)" },
  { "470.57.02", NULL, T118, MINOR, MINOR, U, "older than 520.61.05 (CUDA 11.8)" },
  /* A 13.x image needs a 580 driver: the floor of 13.x is its minimum. */
  { "575.57.08", NULL, T130, OLD, OLD, U, "driver 575.57.08 is older than 580.65.06, the oldest that runs CUDA 13.0" },
  { "580.65.06", NULL, T130, RUNS, RUNS, U, ">= 580.65.06, the minimum of CUDA 13.0" },
  { "580.65.06", NULL, T118, RUNS, RUNS, U, ">= 520.61.05" },
  { "570.26", NULL, T128, RUNS, RUNS, U, "driver 570.26 >= 570.26" },
  { "570.124.06", NULL, T129, MINOR, MINOR, U, "older than 575.51.03 (CUDA 12.9)" },
  /* GPU against CUDA and the torch build's arch list. CUDA 11.8 does target sm_90. */
  { "550.54.14", "H100", T118, RUNS, RUNS, RUNS, "H100 (sm_90) runs the 9.0 kernels of torch 2.1.2" },
  { "550.54.14", "sm_90", T124, RUNS, RUNS, RUNS, "sm_90 runs the 9.0 kernels" },
  { "530.30.02", "H200", T124, MINOR, MINOR, RUNS, "minor-version compatibility" },
  { "550.54.14", "RTX 4090", T124, RUNS, RUNS, RUNS, "RTX 4090 (sm_89) runs the 8.6 kernels" },
  { "550.54.14", "L40S", T118, RUNS, RUNS, RUNS, "L40S (sm_89) runs the 8.6 kernels" },
  { "550.54.14", "A10", T121, RUNS, RUNS, RUNS, "A10 (sm_86) runs the 8.6 kernels" },
  { "550.54.14", "A100", T121, RUNS, RUNS, RUNS, "A100 (sm_80) runs the 8.0 kernels" },
  { "550.54.14", "rtx-3090", T124, RUNS, RUNS, RUNS, "RTX 3090 (sm_86)" },
  { "570.26", "L4", T128, RUNS, RUNS, RUNS, "L4 (sm_89) runs the 8.6 kernels" },
  /* RTX 5090 against a build whose list stops at 9.0: refused, naming the builds for sm_120.
     2.8.0 for 12.9 has no known arch list, so it is not named. */
  { "570.26", "RTX 5090", T126, NOT_BUILT, RUNS, NOT_BUILT,
    "RTX 5090 (sm_120) is not in the arch list of torch 2.6.0 for CUDA 12.6 (5.0;6.0;7.0;7.5;8.0;8.6;9.0) and no "
    "PTX covers it; built for RTX 5090 (sm_120): " T128 ", " T128_29 ", " T130 },
  { "570.26", "RTX 5090", T128, RUNS, RUNS, RUNS, "RTX 5090 (sm_120) runs the 12.0 kernels of torch 2.7.1" },
  { "570.26", "12.0", T128_29, RUNS, RUNS, RUNS, "sm_120 runs the 12.0 kernels" },
  { "575.51.03", "RTX 5090", T129, UNKNOWN, RUNS, UNKNOWN, "arch list unknown" },
  { "470.57.02", "RTX 5090", T121, NOT_BUILT, OLD, NOT_BUILT, "older than 525.60.13" },
  { "580.65.06", "B200", T130, RUNS, RUNS, RUNS, "B200 (sm_100) runs the 10.0 kernels" },
  { "580.65.06", "B200", T126, NOT_BUILT, RUNS, NOT_BUILT, "built for B200 (sm_100): " T128 ", " T128_29 ", " T130 },
  { "580.65.06", "sm_103", T130, RUNS, RUNS, RUNS, "sm_103 runs the 10.0 kernels" },
  { "580.65.06", "121", T130, RUNS, RUNS, RUNS, "sm_121 runs the 12.0 kernels" },
  { "580.65.06", "sm_110", T130, NOT_BUILT, RUNS, NOT_BUILT, "no PTX covers it" },
  /* CUDA 13.0 targets sm_75 and newer: Pascal and Volta are dropped. */
  { "580.65.06", "GTX 1080", T130, DROPPED, RUNS, DROPPED,
    "GTX 1080 (sm_61) is older than sm_75, the oldest architecture CUDA 13.0 can target; built for GTX 1080 "
    "(sm_61): " T118 ", " T121_OLD ", " T121 ", " T124 ", " T126 },
  { "580.65.06", "V100", T130, DROPPED, RUNS, DROPPED, "older than sm_75" },
  { "580.65.06", "V100", T128_29, RUNS, RUNS, RUNS, "V100 (sm_70) runs the 7.0 kernels" },
  { "580.65.06", "V100", T128, NOT_BUILT, RUNS, NOT_BUILT, "(7.5;8.0;8.6;9.0;10.0;12.0+PTX)" },
  { "580.65.06", "T4", T130, RUNS, RUNS, RUNS, "T4 (sm_75) runs the 7.5 kernels" },
  { "580.65.06", "RTX 2080", T118, RUNS, RUNS, RUNS, "RTX 2080 (sm_75)" },
  { "580.65.06", "GTX 1080", T126, RUNS, RUNS, RUNS, "GTX 1080 (sm_61) runs the 6.0 kernels" },
  { "580.65.06", "GTX 1080", T128, NOT_BUILT, RUNS, NOT_BUILT, "GTX 1080 (sm_61) is not in the arch list" },
  /* CUDA 12.x dropped Kepler (sm_37); 11.8 still targets it and torch's cu118 lists 3.7. */
  { "580.65.06", "sm_37", T121, DROPPED, RUNS, DROPPED, "sm_37 is older than sm_50, the oldest architecture CUDA 12.1" },
  { "470.57.02", "3.7", T118, MINOR, MINOR, RUNS, "sm_37 runs the 3.7 kernels" },
  /* 12.0+PTX: a GPU newer than every SASS of the list runs through PTX JIT with a driver of
     the image's CUDA, and not at all under minor-version compatibility. */
  { "570.26", "sm_130", T128, RUNS, RUNS, RUNS, "sm_130 runs torch 2.7.1 through PTX JIT of 12.0" },
  { "560.35.03", "sm_130", T128, OLD, OLD, RUNS,
    "sm_130 runs this build only through PTX JIT, which minor-version compatibility cannot do "
    "(CUDA_ERROR_UNSUPPORTED_PTX_VERSION): driver 560.35.03 is older than 570.26, which CUDA 12.8 needs" },
  { "560.35.03", "RTX 5090", T128, MINOR, MINOR, RUNS, "runs the 12.0 kernels" },
  /* No driver given (a certificate without one): only the architecture is judged. */
  { NULL, "H100", T118, RUNS, U, RUNS, "H100 (sm_90) runs the 9.0 kernels" },
};

static struct kb kb;
static struct matrix m;
static struct plan plan;

static int
load_plan (void)
{
  struct diags d = DIAGS_INIT;
  int r = kb_load (kb_default_dir (NULL), &kb, &d);
  if (r == 0)
    r = matrix_load_text ("wide.yaml", wide_matrix, strlen (wide_matrix), &m, &d);
  if (r == 0)
    r = plan_build (&m, &kb, &plan, &d);
  if (r < 0)
    diags_print (&d, "wide.yaml", wide_matrix, stderr);
  diags_release (&d);
  return r;
}

static void
run_case (const struct tcase *c)
{
  struct compat_gpu gpu = { NULL, -1 };
  if (c->gpu)
    {
      const struct kb_gpu *g = kb_gpu_find (&kb, c->gpu);
      gpu = (struct compat_gpu) { g ? g->name : NULL, g ? g->cc : kb_parse_cc (c->gpu) };
    }
  CHECK (c->gpu == NULL || gpu.cc > 0);
  struct compat_host h = { c->driver, &gpu, c->gpu ? 1 : 0 };
  struct compat_report rep;
  CHECK_INT (compat_judge_plan (&plan, &h, &rep), 0);
  const struct ptag *t = plan_find (&plan, c->tag);
  CHECK (t != NULL);
  if (t == NULL)
    {
      compat_report_release (&rep);
      return;
    }
  const struct compat_result *r = &rep.v[t - plan.tags].r;
  int bad = check_failed;
  CHECK_INT (r->verdict, c->verdict);
  CHECK_INT (r->driver_verdict, c->driver_verdict);
  CHECK_INT (r->arch_verdict, c->arch_verdict);
  CHECK_CONTAINS (r->why, c->why);
  if (check_failed > bad)
    fprintf (stderr, "  in case: driver %s, gpu %s, tag %s\n", c->driver ? c->driver : "-",
             c->gpu ? c->gpu : "-", c->tag);
  compat_report_release (&rep);
}

/* The alternatives: same flavor, never the tag itself, none when nothing fits. */
static void
test_alternatives (void)
{
  struct compat_gpu gpu = { "RTX 5090", 120 };
  struct compat_host h = { "570.26", &gpu, 1 };
  struct compat_report rep;
  CHECK_INT (compat_judge_plan (&plan, &h, &rep), 0);
  const struct compat_entry *e = &rep.v[plan_find (&plan, T121) - plan.tags];
  CHECK_INT (e->nalts, 3);
  for (size_t i = 0; i < e->nalts; i++)
    CHECK (e->alts[i] != e->tag);
  const struct compat_entry *ok = &rep.v[plan_find (&plan, T128) - plan.tags];
  CHECK_INT (ok->nalts, 0);
  compat_report_release (&rep);

  struct compat_host old = { "440.33.01", NULL, 0 };
  CHECK_INT (compat_judge_plan (&plan, &old, &rep), 0);
  for (size_t i = 0; i < rep.n; i++)
    {
      CHECK_INT (rep.v[i].r.verdict, COMPAT_DRIVER_TOO_OLD);
      CHECK_INT (rep.v[i].nalts, 0);
    }
  compat_report_release (&rep);
}

/* Several GPUs: the worst one decides, and is named. */
static void
test_two_gpus (void)
{
  struct compat_gpu gpus[] = { { "RTX 4090", 89 }, { "GTX 1080", 61 } };
  struct compat_host h = { "580.65.06", gpus, 2 };
  struct compat_report rep;
  CHECK_INT (compat_judge_plan (&plan, &h, &rep), 0);
  const struct compat_result *r = &rep.v[plan_find (&plan, T128) - plan.tags].r;
  CHECK_INT (r->verdict, COMPAT_ARCH_NOT_BUILT);
  CHECK (r->gpu == &gpus[1]);
  CHECK_CONTAINS (r->why, "GTX 1080 (sm_61) is not in the arch list");
  r = &rep.v[plan_find (&plan, T126) - plan.tags].r;
  CHECK_INT (r->verdict, COMPAT_RUNS);
  compat_report_release (&rep);
}

/* compat_judge takes what a certificate will say: CUDA, torch and arch list, no plan. */
static void
test_certificate_shape (void)
{
  struct compat_gpu gpu = { NULL, 100 };
  struct compat_host h = { "570.26", &gpu, 1 };
  struct compat_image img = { "12.8.1", "2.7.1", "7.5;8.0;9.0+PTX" };
  struct compat_result r;
  CHECK_INT (compat_judge (&kb, &img, &h, &r), 0);
  CHECK_INT (r.verdict, COMPAT_RUNS);
  CHECK_INT (r.via_ptx, 1);
  CHECK_CONTAINS (r.why, "sm_100 runs torch 2.7.1 through PTX JIT of 9.0");
  compat_result_release (&r);

  h.driver = "565.57.01"; /* 12.8 under minor-version compatibility: no PTX JIT */
  CHECK_INT (compat_judge (&kb, &img, &h, &r), 0);
  CHECK_INT (r.verdict, COMPAT_DRIVER_TOO_OLD);
  CHECK_INT (r.arch_verdict, COMPAT_RUNS);
  compat_result_release (&r);

  img.arch_list = "8.0;9.0a"; /* arch-specific code runs on that exact GPU only */
  gpu.cc = 90;
  h.driver = "570.26";
  CHECK_INT (compat_judge (&kb, &img, &h, &r), 0);
  CHECK_INT (r.verdict, COMPAT_RUNS);
  compat_result_release (&r);
  gpu.cc = 100;
  CHECK_INT (compat_judge (&kb, &img, &h, &r), 0);
  CHECK_INT (r.verdict, COMPAT_ARCH_NOT_BUILT);
  compat_result_release (&r);

  img.arch_list = "8.0;banana";
  CHECK_INT (compat_judge (&kb, &img, &h, &r), 0);
  CHECK_INT (r.verdict, COMPAT_ARCH_UNKNOWN);
  CHECK_CONTAINS (r.why, "cannot be read");
  compat_result_release (&r);

  img.cuda = "10.2";
  CHECK_INT (compat_judge (&kb, &img, &h, &r), -1);
  CHECK_CONTAINS (r.why, "CUDA '10.2' is not in the knowledge base");
  compat_result_release (&r);
}

static void
test_arch_list (void)
{
  struct compat_arch a[8];
  CHECK_INT (compat_parse_arch_list ("5.0;6.0;7.0;7.5;8.0;8.6;9.0", a, 8), 7);
  CHECK_INT (a[6].cc, 90);
  CHECK_INT (compat_parse_arch_list ("7.5;8.0;8.6;9.0;10.0;12.0+PTX", a, 8), 6);
  CHECK_INT (a[5].cc, 120);
  CHECK_INT (a[5].ptx, 1);
  CHECK_INT (compat_parse_arch_list ("8.0 9.0a 10.0f", a, 8), 3);
  CHECK_INT (a[1].kind, 'a');
  CHECK_INT (a[2].kind, 'f');
  CHECK_INT (compat_parse_arch_list ("", a, 8), -1);
  CHECK_INT (compat_parse_arch_list ("8", a, 8), -1);
  CHECK_INT (compat_parse_arch_list ("8.0+ptx", a, 8), -1);
  CHECK_INT (compat_parse_arch_list ("sm_80", a, 8), -1);
  CHECK_INT (compat_parse_arch_list ("1.0;2.0;3.0", a, 2), -1);
}

static void
test_proc_version (void)
{
  static const struct
  {
    const char *text, *want;
  } t[] = {
    { "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\n"
      "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n",
      "550.54.14" },
    { "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build  "
      "(dvs-builder@U16-I3-B03-4-3)  Thu Jan 30 21:12:24 UTC 2025\n",
      "570.86.15" },
    { "NVRM version: NVIDIA UNIX aarch64 Kernel Module  535.104.05  Sat Aug 19 01:05:52 UTC 2023\n", "535.104.05" },
    { "NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.26  Release\n", "570.26" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (t); i++)
    {
      char *v = hostinfo_parse_proc_version (t[i].text);
      CHECK_STR (v, t[i].want);
      free (v);
    }
  CHECK (hostinfo_parse_proc_version ("GCC version: 12.2.0\n") == NULL);
  CHECK (hostinfo_parse_proc_version ("NVRM version: NVIDIA\nGCC version:  gcc 12.2.0\n") == NULL);
  CHECK (hostinfo_is_driver_version ("535.104.05"));
  CHECK (hostinfo_is_driver_version ("570.26"));
  CHECK (!hostinfo_is_driver_version ("535..104"));
  CHECK (!hostinfo_is_driver_version ("535.104."));
  CHECK (!hostinfo_is_driver_version ("r535"));
  CHECK (!hostinfo_is_driver_version (""));
}

static void
test_names (void)
{
  CHECK_STR (compat_verdict_name (COMPAT_RUNS), "runs");
  CHECK_STR (compat_verdict_name (COMPAT_RUNS_MINOR), "runs-minor-compat");
  CHECK_STR (compat_verdict_name (COMPAT_DRIVER_TOO_OLD), "driver-too-old");
  CHECK_STR (compat_verdict_name (COMPAT_ARCH_NOT_BUILT), "arch-not-built");
  CHECK_STR (compat_verdict_name (COMPAT_ARCH_DROPPED), "arch-dropped");
  CHECK_STR (compat_verdict_name (COMPAT_ARCH_UNKNOWN), "arch-unknown");
  CHECK (compat_verdict_name (COMPAT_UNCHECKED) == NULL);
  /* The GPU names the issue asks for are all in the knowledge base. */
  static const char *const names[] = { "V100", "T4", "A100", "A10", "L4", "L40S", "H100", "H200", "B200",
                                       "GTX 1080", "RTX 2080", "RTX 3090", "RTX 4090", "RTX 5090" };
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    CHECK (kb_gpu_find (&kb, names[i]) != NULL);
}

int
main (void)
{
  if (load_plan () < 0)
    {
      fprintf (stderr, "test_compat: cannot load the knowledge base or the test matrix\n");
      return 1;
    }
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    run_case (&cases[i]);
  printf ("compat cases: %zu\n", ARRAY_SIZE (cases));
  test_alternatives ();
  test_two_gpus ();
  test_certificate_shape ();
  test_arch_list ();
  test_proc_version ();
  test_names ();
  plan_release (&plan);
  matrix_release (&m);
  kb_release (&kb);
  return check_summary ("compat");
}
