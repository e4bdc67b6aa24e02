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
#include <unistd.h>

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
  struct compat_gpu gpu = { .cc = -1 };
  if (c->gpu)
    {
      const struct kb_gpu *g = kb_gpu_find (&kb, c->gpu);
      gpu = (struct compat_gpu) { .name = g ? g->name : NULL, .cc = g ? g->cc : kb_parse_cc (c->gpu),
                                  .platform = g ? g->platform : NULL };
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
  struct compat_gpu gpu = { .name = "RTX 5090", .cc = 120 };
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
  struct compat_gpu gpus[] = { { .name = "RTX 4090", .cc = 89 }, { .name = "GTX 1080", .cc = 61 } };
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
  struct compat_gpu gpu = { .cc = 100 };
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

/* GPU names as users paste them, each with the compute capability it must resolve to (and
   the platform, for the Arm-only ones). Real strings, from the public output cited above each
   group; the expected capability is NVIDIA's (developer.nvidia.com/cuda-gpus). */
struct name_case
{
  const char *name;
  int cc;
  const char *platform; /* NULL: x86_64 hosts */
};

static const struct name_case real_names[] = {
  /* Issue 19 of this project: the seeds' diagnostic and nvidia-smi. */
  { "NVIDIA A100-PCIE-40GB", 80, NULL },
  { "NVIDIA H100 80GB HBM3", 90, NULL },
  { "Tesla T4", 75, NULL },
  { "NVIDIA GeForce RTX 4090", 89, NULL },
  { "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-...)", 80, NULL },
  /* nvidia-smi's table and --query-gpu=name: NVIDIA/DCGM#232 (A10G, AWS g5),
     bottlerocket-os/bottlerocket-core-kit#834, dexmal/dexbotic#41, 1CatAI/1Cat-vLLM#85,
     NVIDIA/nccl#1264, pytorch/test-infra#7631 (B200), Frogging-Family/nvidia-all#212,
     FoldingAtHome/fah-issues#1557, akash-network/provider-configs#99 (L40S), #91 (H100 NVL),
     #90 (Tesla PG500-216, a V100 PCIe board), #12 (Quadro RTX 4000),
     geerlingguy/raspberry-pi-pcie-devices#677 (RTX A400) and #791 (RTX A4000),
     marin-community/marin lib/iris CoreWeave docs (GH200, the nvidia-smi name table). */
  { "NVIDIA A10G", 86, NULL },
  { "NVIDIA A100-SXM4-40GB", 80, NULL },
  { "NVIDIA A800-SXM4-80GB", 80, NULL },
  { "Tesla V100-SXM2-16GB", 70, NULL },
  { "NVIDIA B200", 100, NULL },
  { "NVIDIA GeForce RTX 4070", 89, NULL },
  { "NVIDIA L40S", 89, NULL },
  { "NVIDIA H100 NVL", 90, NULL },
  { "Tesla PG500-216", 70, NULL },
  { "Quadro RTX 4000", 75, NULL },
  { "NVIDIA RTX A400", 86, NULL },
  { "NVIDIA RTX A4000", 86, NULL },
  { "NVIDIA GH200 480GB", 90, "aarch64" },
  /* nvidia-smi -q's "Product Name" of older drivers, without "NVIDIA": NVIDIA/nvidia-docker#756
     (GeForce GTX 1080 Ti), #816 (Tesla K80), #688 (Quadro M1000M), #1256 (Tesla T4). */
  { "GeForce GTX 1080 Ti", 61, NULL },
  { "Tesla K80", 37, NULL },
  { "Quadro M1000M", 50, NULL },
  /* nvidia-smi's default table cuts long names (NVIDIA/mig-parted#31, driver 495). */
  { "NVIDIA A100-SXM...", 80, NULL },
  /* nvidia-smi -L: akash-network/provider-configs#12 verbatim; the others are the name and
     UUID of nvidia-smi -q in NVIDIA/k8s-device-plugin#344 (A10G), NVIDIA/nvidia-docker#1256
     (T4) and #756 (GTX 1080 Ti), in -L's format. */
  { "GPU 0: Quadro RTX 4000 (UUID: GPU-c7b57be0-94ff-d352-a59b-d0ee00aeed43)", 75, NULL },
  { "GPU 1: Quadro RTX 4000 (UUID: GPU-d6de6afc-bdfe-75c4-5273-0544439153fc)", 75, NULL },
  { "GPU 0: NVIDIA A10G (UUID: GPU-2600e701-8d2f-704c-06bd-ca16a9306dfe)", 86, NULL },
  { "GPU 0: Tesla T4 (UUID: GPU-4cfe4f25-9d56-b1f1-edb8-dfa13fc461ae)", 75, NULL },
  { "GPU 3: GeForce GTX 1080 Ti (UUID: GPU-55ec30ad-1f3f-adc5-25cb-57e440db2c91)", 61, NULL },
  /* torch.cuda.get_device_name() and collect_env's "GPU models and configuration":
     mosaicml/composer#2265, pytorch/pytorch#75198, vllm-project/vllm#9293,
     allenai/open-instruct#1160, vectorch-ai/ScaleLLM#288, xorbitsai/inference#3603,
     FrederikHasecke/diffused-texture-addon#18, pytorch/pytorch#150733 (RTX 5090 D),
     ryujaehun/pytorch-gpu-benchmark#15 (TITAN RTX). */
  { "NVIDIA A100-SXM4-40GB", 80, NULL },
  { "NVIDIA GeForce RTX 3090", 86, NULL },
  { "NVIDIA GeForce RTX 4070 Laptop GPU", 89, NULL },
  { "NVIDIA GeForce RTX 4090 Laptop GPU", 89, NULL },
  { "NVIDIA A100 80GB PCIe", 80, NULL },
  { "NVIDIA GeForce RTX 5090", 120, NULL },
  { "NVIDIA GeForce RTX 5080", 120, NULL },
  { "GeForce RTX 5090 D", 120, NULL },
  { "TITAN RTX", 75, NULL },
  /* Product names of the driver's README ("Supported NVIDIA GPU Products"), which nvidia-smi
     prints: 440.44's list quoted in LibreELEC/LibreELEC.tv#4055; pci.ids names in
     DualCoder/vgpu_unlock#82. */
  { "Quadro P400", 61, NULL },
  { "Quadro P600", 61, NULL },
  { "Quadro P620", 61, NULL },
  { "Quadro P1000", 61, NULL },
  { "Quadro P2000 with Max-Q Design", 61, NULL },
  { "Quadro P500", 61, NULL },
  { "Quadro P520", 61, NULL },
  { "Quadro GV100", 70, NULL },
  { "Quadro RTX 6000", 75, NULL },
  { "Quadro RTX 8000", 75, NULL },
  { "Quadro RTX 5000 with Max-Q Design", 75, NULL },
  { "Quadro RTX 3000 with Max-Q Design", 75, NULL },
  { "Quadro T2000 with Max-Q Design", 75, NULL },
  { "Quadro T1000", 75, NULL },
  { "GeForce RTX 2080 Ti", 75, NULL },
  { "T4G", 75, "aarch64" }, /* AWS g5g: a Graviton2 host */
  /* Kubernetes' nvidia.com/gpu.product labels (the NVML name, spaces as '-'), as listed in
     vllm-project/aibrix#2388. */
  { "Tesla-T4", 75, NULL },
  { "Tesla-V100-SXM2-32GB", 70, NULL },
  { "NVIDIA-A10", 86, NULL },
  { "NVIDIA-A30", 80, NULL },
  { "A100-PCIE-80GB", 80, NULL },
  { "NVIDIA-A100-SXM4-80GB", 80, NULL },
  { "H100-SXM-80GB", 90, NULL },
  /* Jetson: deviceQuery on a Nano (Technica-Corporation/Tegra-Docker#12), CUDA's name on an
     AGX Orin (NVIDIA/nvbandwidth#55) and NVML's (crystian/ComfyUI-Crystools#141). */
  { "NVIDIA Tegra X1", 53, "aarch64" },
  { "Orin", 87, "aarch64" },
  { "Orin (nvgpu)", 87, "aarch64" },
  /* Names people type. */
  { "a100", 80, NULL },
  { "rtx-4090", 89, NULL },
  { "RTX A6000", 86, NULL },
  { "A6000", 86, NULL },
  { "NVIDIA RTX 6000 Ada Generation", 89, NULL },
  { "NVIDIA RTX PRO 6000 Blackwell Server Edition", 120, NULL },
  { "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", 120, NULL },
  { "NVIDIA H200 NVL", 90, NULL },
  { "NVIDIA TITAN X (Pascal)", 61, NULL },
  { "NVIDIA GeForce GTX TITAN X", 52, NULL },
  { "Jetson AGX Xavier", 72, "aarch64" },
  { "Jetson TX2", 62, "aarch64" },
};

static void
test_gpu_names (void)
{
  for (size_t i = 0; i < ARRAY_SIZE (real_names); i++)
    {
      const struct name_case *c = &real_names[i];
      const struct kb_gpu *g = kb_gpu_find (&kb, c->name);
      CHECK (g != NULL);
      if (g == NULL)
        {
          fprintf (stderr, "  unknown GPU name: '%s'\n", c->name);
          continue;
        }
      int bad = check_failed;
      CHECK_INT (g->cc, c->cc);
      CHECK ((g->platform == NULL) == (c->platform == NULL));
      if (check_failed > bad)
        fprintf (stderr, "  in name '%s' (found '%s')\n", c->name, g->name);
    }
  printf ("gpu names: %zu\n", ARRAY_SIZE (real_names));

  /* The rules of gpus.yaml, one at a time. */
  static const struct
  {
    const char *name, *key;
  } keys[] = {
    { "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-2600e701-8d2f-704c-06bd-ca16a9306dfe)", "a100" },
    { "NVIDIA GeForce RTX 4090 Laptop GPU", "rtx4090" },
    { "Quadro RTX 5000 with Max-Q Design", "rtx5000" },
    { "NVIDIA H200 141GB HBM3e", "h200" },
    { "NVIDIA A100 80 GB PCIe", "a100" },
    { "NVIDIA GB200", "gb200" }, /* "gb" after digits only: GB200 is a name */
    { "NVIDIA RTX 6000 Ada Generation", "rtx6000ada" },
    { "Orin (nvgpu)", "orin" },
    { "  rtx_4090 ", "rtx4090" },
    { "NVIDIA", "" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (keys); i++)
    {
      char *k = kb_gpu_key (&kb, keys[i].name);
      CHECK_STR (k, keys[i].key);
      free (k);
    }

  /* Not GPUs, or GPUs one digit away from a known one: nothing is guessed. */
  static const char *const unknown[] = { "NVIDIA Graphics Device", "RTX 9090", "NVIDIA", "", "H1000", "sm_90" };
  for (size_t i = 0; i < ARRAY_SIZE (unknown); i++)
    CHECK (kb_gpu_find (&kb, unknown[i]) == NULL);

  /* nvidia-smi --query-gpu=compute_cap prints "9.0"; sm_XY and XY work too. */
  CHECK_INT (kb_parse_cc ("9.0"), 90);
  CHECK_INT (kb_parse_cc ("12.0"), 120);
  CHECK_INT (kb_parse_cc ("sm_90"), 90);
  CHECK_INT (kb_parse_cc ("86"), 86);
  CHECK_INT (kb_parse_cc ("7.5"), 75);
  CHECK_INT (kb_parse_cc ("H100"), -1);

  /* "did you mean": the nearest names, best first. */
  const struct kb_gpu *near[5];
  size_t n = kb_gpu_nearest (&kb, "RTX 9090", near, 5);
  CHECK (n >= 3);
  int has5090 = 0;
  for (size_t i = 0; i < n; i++)
    has5090 |= strcmp (near[i]->name, "RTX 5090") == 0;
  CHECK (has5090);
  n = kb_gpu_nearest (&kb, "NVIDIA GeForce RTX 4080 Supr", near, 5);
  CHECK (n >= 1 && strcmp (near[0]->name, "RTX 4080 SUPER") == 0);
  CHECK_INT (kb_gpu_nearest (&kb, "NVIDIA Graphics Device", near, 5), 0);

  /* Every family of the issue is there, with NVIDIA's capability. */
  static const struct
  {
    const char *name;
    int cc;
  } table[] = { { "M60", 52 },         { "GTX 750 Ti", 50 },  { "P100", 60 },      { "P40", 61 },
                { "V100", 70 },        { "Jetson Nano", 53 }, { "Jetson TX2", 62 }, { "Xavier", 72 },
                { "Jetson AGX Orin", 87 }, { "RTX 2080 Ti", 75 }, { "A30", 80 },   { "A16", 86 },
                { "RTX 3060", 86 },    { "L4", 89 },          { "RTX 4060 Ti", 89 }, { "H20", 90 },
                { "B300", 103 },       { "RTX 5060", 120 },   { "GB10", 121 },     { "Thor", 110 } };
  for (size_t i = 0; i < ARRAY_SIZE (table); i++)
    {
      const struct kb_gpu *g = kb_gpu_find (&kb, table[i].name);
      CHECK (g != NULL && g->cc == table[i].cc);
      if (g == NULL || g->cc != table[i].cc)
        fprintf (stderr, "  in table name '%s'\n", table[i].name);
    }
  CHECK (kb.ngpus >= 200);
}

/* gpus.yaml's own errors: each is reported with its place, and loading fails. */
static void
test_gpus_yaml_errors (void)
{
  char dir[] = "/tmp/pcgen-gpus.XXXXXX";
  CHECK (mkdtemp (dir) != NULL);
  char path[64];
  snprintf (path, sizeof path, "%s/gpus.yaml", dir);
  static const struct
  {
    const char *text, *error;
  } t[] = {
    { "sources: { s: x }\nnormalize: { source: s, strip: [], drop_words: [nvidia] }\n"
      "gpus:\n  - { names: [\"A100\", \"NVIDIA A100\"], cc: \"8.0\", arch: Ampere, source: s }\n",
      "GPU name 'NVIDIA A100' is 'a100' once normalised, like 'A100' (sm_80) before it" },
    { "sources: { s: x }\nnormalize: { source: s, strip: [\"(\"], drop_words: [] }\n"
      "gpus: []\n",
      "'(' is not a POSIX extended regular expression" },
    { "sources: { s: x }\nnormalize: { source: s, strip: [], drop_words: [] }\n"
      "gpus:\n  - { names: [\"X1\"], cc: \"8.0\", arch: A, platform: arm, source: s }\n",
      "platform 'arm' is not aarch64 or x86_64" },
    { "sources: { s: x }\nnormalize: { source: s, strip: [], drop_words: [] }\n"
      "gpus:\n  - { names: [\"X1\"], cc: \"8.0\", arch: A, source: t }\n",
      "a GPU cites source 't', which 'sources' does not define" },
    { "sources: { s: x }\ngpus: []\n", "expected 'normalize'" },
    { "sources: { s: x }\nnormalize: { source: s, strip: [], drop_words: [nvidia] }\n"
      "gpus:\n  - { names: [\"NVIDIA\"], cc: \"8.0\", arch: A, source: s }\n",
      "GPU name 'NVIDIA' is empty once normalised" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (t); i++)
    {
      FILE *f = fopen (path, "w");
      CHECK (f != NULL);
      if (f == NULL)
        continue;
      fputs (t[i].text, f);
      fclose (f);
      struct kb k = { 0 };
      struct diags d = DIAGS_INIT;
      CHECK_INT (kb_gpus_load (dir, &k, &d), -1);
      int found = 0;
      for (size_t j = 0; j < d.n; j++)
        found |= strstr (d.v[j].msg, t[i].error) != NULL;
      CHECK (found);
      if (!found)
        fprintf (stderr, "  wanted '%s' (got %zu diagnostics, first: %s)\n", t[i].error, d.n,
                 d.n ? d.v[0].msg : "-");
      diags_release (&d);
      kb_gpus_release (&k);
    }
  unlink (path);
  rmdir (dir);
}

/* A plan with no build for Blackwell and none for a 470 driver: the advice names the
   releases of the knowledge base. Expected values from torch.yaml (2.7.0 is the first release
   with 12.0 in an arch list; 2.10.0's PyPI wheel is cu128) and cuda.yaml (11.8 is the newest
   CUDA a 470 driver runs, through minor-version compatibility). */
static const char cuda12_matrix[] = "repository: test/pytorch-cuda\n"
                                    "base: debian-bookworm\n"
                                    "python: \"3.11\"\n"
                                    "torch: [\"2.6.0\"]\n"
                                    "cuda: [\"12.4\", \"12.6\"]\n"
                                    "flavors: [runtime]\n";

struct advice_case
{
  const char *driver, *gpu, *tag;
  int verdict;
  const char *text;                        /* the advice, exactly; NULL: none */
  const char *torch, *cuda, *needs_driver; /* the include */
};

static const struct advice_case advice_cases[] = {
  { "570.124.06", "NVIDIA GeForce RTX 5090", "2.6.0-cuda12.4-cudnn9-runtime", COMPAT_ARCH_NOT_BUILT,
    "RTX 5090 (sm_120) is built by torch 2.7.0+ for CUDA 12.8 and later: add { torch: \"2.10.0\", cuda: \"12.8\" } to include",
    "2.10.0", "12.8", NULL },
  /* A 550 driver runs 12.8 only through minor-version compatibility: said so. */
  { "550.54.14", "RTX 5090", "2.6.0-cuda12.4-cudnn9-runtime", COMPAT_ARCH_NOT_BUILT,
    "RTX 5090 (sm_120) is built by torch 2.7.0+ for CUDA 12.8 and later: add { torch: \"2.10.0\", cuda: \"12.8\" } to "
    "include (minor-version compatibility on driver 550.54.14; 570.26 for full support)",
    "2.10.0", "12.8", NULL },
  /* A driver that runs no build for the GPU: the smallest upgrade is named. */
  { "520.61.05", "RTX 5090", "2.6.0-cuda12.4-cudnn9-runtime", COMPAT_ARCH_NOT_BUILT,
    "RTX 5090 (sm_120) is built by torch 2.7.0+ for CUDA 12.8 and later: add { torch: \"2.10.0\", cuda: \"12.8\" } to "
    "include (it needs driver 570.26 or newer)",
    "2.10.0", "12.8", "570.26" },
  /* A 580 driver runs 13.0, which 2.14.1's PyPI wheel is built for (2.14.1 is the newest such
     release; 2.15.0's is 13.2, which needs a newer driver). */
  { "580.65.06", "B200", "2.6.0-cuda12.6-cudnn9-runtime", COMPAT_ARCH_NOT_BUILT,
    "B200 (sm_100) is built by torch 2.7.0+ for CUDA 12.8 and later: add { torch: \"2.14.1\", cuda: \"13.0\" } to include",
    "2.14.1", "13.0", NULL },
  { "470.57.02", NULL, "2.6.0-cuda12.4-cudnn9-runtime", COMPAT_DRIVER_TOO_OLD,
    "the newest CUDA with a torch build that driver 470.57.02 runs is 11.8 (minor-version compatibility); torch 2.1.2 to "
    "2.7.1 are built for it: add { torch: \"2.7.1\", cuda: \"11.8\" } to include",
    "2.7.1", "11.8", NULL },
  { "535.104.05", "H100", "2.6.0-cuda12.6-cudnn9-runtime", COMPAT_RUNS_MINOR, NULL, NULL, NULL, NULL },
  { "440.33.01", "T4", "2.6.0-cuda12.4-cudnn9-runtime", COMPAT_DRIVER_TOO_OLD,
    "driver 440.33.01 is older than every CUDA of the knowledge base accepts (the oldest, CUDA 11.8, needs 450.80.02 or "
    "newer): upgrade the driver",
    NULL, NULL, NULL },
  /* Jetson and Grace: no x86_64 image serves them, so no advice either. */
  { "540.4.0", "Orin (nvgpu)", "2.6.0-cuda12.4-cudnn9-runtime", COMPAT_WRONG_PLATFORM, NULL, NULL, NULL, NULL },
  { "570.124.06", "NVIDIA GH200 480GB", "2.6.0-cuda12.6-cudnn9-runtime", COMPAT_WRONG_PLATFORM, NULL, NULL, NULL, NULL },
};

static void
test_advice (void)
{
  struct diags d = DIAGS_INIT;
  struct matrix m2;
  struct plan p2;
  int r = matrix_load_text ("cuda12.yaml", cuda12_matrix, strlen (cuda12_matrix), &m2, &d);
  if (r == 0)
    r = plan_build (&m2, &kb, &p2, &d);
  CHECK_INT (r, 0);
  diags_release (&d);
  if (r < 0)
    return;
  for (size_t i = 0; i < ARRAY_SIZE (advice_cases); i++)
    {
      const struct advice_case *c = &advice_cases[i];
      const struct kb_gpu *g = c->gpu ? kb_gpu_find (&kb, c->gpu) : NULL;
      CHECK (c->gpu == NULL || g != NULL);
      struct compat_gpu gpu = { .name = g ? g->name : NULL, .cc = g ? g->cc : 0, .platform = g ? g->platform : NULL };
      struct compat_host h = { c->driver, &gpu, g ? 1 : 0 };
      struct compat_report rep;
      CHECK_INT (compat_judge_plan (&p2, &h, &rep), 0);
      const struct ptag *t = plan_find (&p2, c->tag);
      CHECK (t != NULL);
      if (t == NULL)
        {
          compat_report_release (&rep);
          continue;
        }
      const struct compat_entry *e = &rep.v[t - p2.tags];
      int bad = check_failed;
      CHECK_INT (e->r.verdict, c->verdict);
      if (c->text)
        {
          CHECK_STR (e->advice.text, c->text);
          CHECK_CONTAINS (e->r.why, c->text); /* the table's WHY carries it */
        }
      else
        CHECK (e->advice.text == NULL);
      CHECK ((e->advice.torch == NULL) == (c->torch == NULL));
      if (c->torch && e->advice.torch)
        {
          CHECK_STR (e->advice.torch, c->torch);
          CHECK_STR (e->advice.cuda, c->cuda);
        }
      CHECK ((e->advice.needs_driver == NULL) == (c->needs_driver == NULL));
      if (c->needs_driver && e->advice.needs_driver)
        CHECK_STR (e->advice.needs_driver, c->needs_driver);
      if (check_failed > bad)
        fprintf (stderr, "  in advice case: driver %s, gpu %s, tag %s\n", c->driver, c->gpu ? c->gpu : "-", c->tag);
      compat_report_release (&rep);
    }
  /* The torch range and CUDA list of the RTX 5090 case, as JSON carries them. */
  struct compat_gpu gpu = { .name = "RTX 5090", .cc = 120 };
  struct compat_host h = { "570.124.06", &gpu, 1 };
  struct compat_report rep;
  CHECK_INT (compat_judge_plan (&p2, &h, &rep), 0);
  const struct compat_advice *a = &rep.v[0].advice;
  CHECK_STR (a->torch_from, "2.7.0");
  CHECK_STR (a->torch_to, "2.15.0");
  CHECK_INT (a->ncudas, 3);
  if (a->ncudas == 3)
    {
      CHECK_STR (a->cudas[0], "12.8");
      CHECK_STR (a->cudas[1], "13.0");
      CHECK_STR (a->cudas[2], "13.2");
    }
  compat_report_release (&rep);

  /* Several GPUs: a release must serve every one of them, and the line names them all (once). */
  struct compat_gpu two[] = { { .name = "GTX 1080", .cc = 61 }, { .name = "B200", .cc = 100 }, { .name = "B200", .cc = 100 } };
  struct compat_host h2 = { "580.82.07", two, 3 };
  CHECK_INT (compat_judge_plan (&p2, &h2, &rep), 0);
  CHECK_STR (rep.v[0].advice.text, "no torch release of the knowledge base is built for both GTX 1080 (sm_61) and B200 (sm_100)");
  CHECK (rep.v[0].advice.torch == NULL);
  compat_report_release (&rep);
  struct compat_gpu three[] = { { .name = "H100", .cc = 90 }, { .name = "H100", .cc = 90 }, { .name = "RTX 5090", .cc = 120 } };
  struct compat_host h3 = { "580.82.07", three, 3 };
  CHECK_INT (compat_judge_plan (&p2, &h3, &rep), 0);
  CHECK_STR (rep.v[0].advice.text, "H100 (sm_90) and RTX 5090 (sm_120) are both built by torch 2.7.0+ for CUDA 12.8 and "
                                   "later: add { torch: \"2.14.1\", cuda: \"13.0\" } to include");
  compat_report_release (&rep);
  plan_release (&p2);
  matrix_release (&m2);
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
  test_gpu_names ();
  test_gpus_yaml_errors ();
  test_advice ();
  plan_release (&plan);
  matrix_release (&m);
  kb_release (&kb);
  return check_summary ("compat");
}
