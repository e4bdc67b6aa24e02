/* compat.h: will an image run on a host? Verdicts from the knowledge base only: the CUDA
   release's minimum driver and minor-version-compatibility floor, the architectures its nvcc
   can target, and the torch build's TORCH_CUDA_ARCH_LIST. Pure functions: no I/O; the host is
   described by the caller (flags, or hostinfo.h's detection). See docs/compat.md.

   An image is described by (CUDA version, torch version, arch list) rather than by a plan tag,
   so that a certificate of a built image can feed the same functions later. */
#ifndef PCGEN_COMPAT_H
#define PCGEN_COMPAT_H

#include <stddef.h>

#include "kb.h"
#include "plan.h"

/* Ordered by severity: the reported verdict of a tag is the larger of its driver verdict and
   its architecture verdict. Refusals a driver upgrade cannot fix rank above the one it can. */
enum compat_verdict
{
  COMPAT_UNCHECKED,      /* that side of the host is not known (no GPU given): not judged */
  COMPAT_RUNS,           /* "runs" */
  COMPAT_RUNS_MINOR,     /* "runs-minor-compat": older driver of the same CUDA major */
  COMPAT_ARCH_UNKNOWN,   /* "arch-unknown": the build's arch list is not in the knowledge base */
  COMPAT_DRIVER_TOO_OLD, /* "driver-too-old" */
  COMPAT_ARCH_NOT_BUILT, /* "arch-not-built": no SASS and no PTX in the torch build covers it */
  COMPAT_ARCH_DROPPED,   /* "arch-dropped": the CUDA release cannot target the GPU at all */
  COMPAT_WRONG_PLATFORM, /* "wrong-platform": the GPU comes with an aarch64 host (Jetson,
                            Grace) and the images are x86_64 */
};

/* "runs", "runs-minor-compat", ...; NULL for COMPAT_UNCHECKED. */
const char *compat_verdict_name (enum compat_verdict v);
/* The image runs (fully or through minor-version compatibility). */
int compat_verdict_runs (enum compat_verdict v);

struct compat_gpu
{
  const char *name; /* "RTX 4090", "NVIDIA H100 80GB HBM3"; NULL when given as a capability */
  int cc;           /* compute capability as 10*major+minor: 89 */
  const char *platform; /* NULL, or "aarch64" when gpus.yaml says it comes only with an Arm host */
};

struct compat_host
{
  const char *driver; /* "535.104.05"; NULL when not known */
  const struct compat_gpu *gpus;
  size_t ngpus; /* 0: architectures are not judged */
};

struct compat_image
{
  const char *cuda;      /* "12.4"; a longer "12.4.1" counts as 12.4 */
  const char *torch;     /* "2.6.0", for messages */
  const char *arch_list; /* TORCH_CUDA_ARCH_LIST, "5.0;6.0;...;9.0" or "...;12.0+PTX"; NULL: unknown */
};

struct compat_result
{
  enum compat_verdict verdict;        /* the worse of the two below */
  enum compat_verdict driver_verdict; /* COMPAT_UNCHECKED when the host has no driver */
  enum compat_verdict arch_verdict;   /* COMPAT_UNCHECKED when the host has no GPU */
  int via_ptx;                        /* a GPU runs this build only through PTX JIT */
  const struct compat_gpu *gpu;       /* the GPU arch_verdict is about (the worst one) */
  char *driver_why, *arch_why;        /* one line each; NULL when unchecked */
  char *why;                          /* one line: why `verdict` */
};

/* Judge img on h. Returns 0, or -1 when the knowledge base does not know img->cuda (then
   r->why says so and every verdict is COMPAT_UNCHECKED). Release r with compat_result_release. */
int compat_judge (const struct kb *kb, const struct compat_image *img, const struct compat_host *h,
                  struct compat_result *r);
void compat_result_release (struct compat_result *r);

/* One entry of a TORCH_CUDA_ARCH_LIST: "8.6", "9.0a", "12.0+PTX". */
struct compat_arch
{
  int cc;     /* 86 */
  char kind;  /* '\0', or 'a' (arch-specific: that exact GPU) or 'f' (family-specific) */
  int ptx;    /* "+PTX": PTX for this architecture is in the build too */
};

/* Parse list (entries separated by ';' or spaces) into out (max entries). Returns the count,
   or -1 when an entry is not of the forms above. */
int compat_parse_arch_list (const char *list, struct compat_arch *out, size_t max);

/* The verdicts of every tag of a plan, index-aligned with p->tags, and for each refused tag
   the tags of the same flavor a user could take instead. */
/* Advice beyond the plan, for a tag refused when no tag of the plan answers the refusal: the
   releases of the knowledge base that would (torch.yaml's arch lists, cuda.yaml's drivers). */
struct compat_advice
{
  char *text;                         /* one line; NULL: no advice */
  const char *torch_from, *torch_to;  /* the oldest and newest torch releases that serve; NULL: none */
  const char **cudas;                 /* the CUDA versions they are built for, oldest first */
  size_t ncudas;
  const char *torch, *cuda;           /* the include rule to add; NULL when none fits the matrix */
  const char *needs_driver;           /* that include needs a newer driver than the host's: this one */
  const char *full_driver;            /* it runs on the host's driver through minor-version
                                         compatibility only: the driver of full support */
};

struct compat_entry
{
  const struct ptag *tag;
  struct compat_result r;
  const struct ptag **alts; /* refused tags only: see compat_judge_plan */
  size_t nalts;
  struct compat_advice advice;
};

struct compat_report
{
  struct compat_entry *v;
  size_t n;
};

/* Judge every tag of p on h. For a tag refused because of the driver, alts are the tags that
   run on h; for one refused because of the architecture, the tags built for the GPU. The
   alternatives are appended to each `why`; when there are none, the advice (the releases of
   the knowledge base that would serve) is. Returns 0, or -1 when a tag's CUDA is unknown. */
int compat_judge_plan (const struct plan *p, const struct compat_host *h, struct compat_report *out);
void compat_report_release (struct compat_report *rep);

/* The version of `pcgen compat --json`'s schema (docs/compat.md). */
#define COMPAT_SCHEMA_VERSION 1

/* "sm_89" or "RTX 4090 (sm_89)" into a new string. */
char *compat_gpu_label (const struct compat_gpu *g);

#endif
