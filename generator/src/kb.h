/* kb.h: the compatibility knowledge base, loaded from the YAML files of generator/data/.
   Data, not code: every entry names its source (a key of the file's `sources`). */
#ifndef PCGEN_KB_H
#define PCGEN_KB_H

#include <stddef.h>

#include "diag.h"

struct kb_pin
{
  char *name;    /* nvidia-cuda-runtime-cu12 */
  char *version; /* 12.4.127 */
};

/* A Debian package a devel image takes nvcc from (no PyPI wheel carries the nvcc driver). */
struct kb_deb
{
  char *name;    /* nvidia-cuda-toolkit */
  char *version; /* 12.4.131~12.4.1-2 */
  char *path;    /* pool/non-free/n/nvidia-cuda-toolkit/nvidia-cuda-toolkit_12.4.131~12.4.1-2_amd64.deb */
  char *sha256;
  unsigned long long size;
};

struct kb_cuda
{
  char *version;      /* "12.4" */
  int major, minor;
  char *min_driver;   /* oldest driver of the release notes' table 3 */
  char *compat_floor; /* oldest driver under minor-version compatibility */
  int *archs;         /* compute capabilities nvcc can target, as 10*major+minor */
  size_t narchs;
  struct kb_pin *devel; /* wheels a devel image takes nvcc and headers from */
  size_t ndevel;
  struct kb_deb *nvcc_debs; /* where nvcc comes from; none: devel images have no nvcc */
  size_t nnvcc_debs;
  char *nvcc_version; /* what `nvcc --version` says: 12.4.131 */
  char *source, *archs_source, *nvcc_source;
};

struct kb_variant
{
  char *cuda;      /* "12.4" */
  char *cudnn;     /* "9.1.0.70", or NULL when not known */
  char *arch_list; /* TORCH_CUDA_ARCH_LIST, or NULL when not known */
  struct kb_pin *pins;
  size_t npins;
  char *pins_source, *arch_source;
};

struct kb_torch
{
  char *version; /* "2.6.0" */
  int major, minor, patch;
  char *python_min, *python_max;
  char *pypi_cuda; /* the variant the plain PyPI wheel is built for */
  struct kb_variant *variants;
  size_t nvariants;
  char *source;
  char *numpy, *numpy_source; /* the NumPy release locked with it (every image ships one), or NULL */
};

struct kb_gpu
{
  char *name; /* "RTX 4090" */
  int cc;     /* 89 */
  char *arch; /* "Ada" */
  char *source;
};

struct kb_base
{
  char *name;   /* debian-bookworm */
  char *python; /* 3.11 */
  char *suite;  /* bookworm */
  char *source;
};

struct kb
{
  char *dir;
  struct kb_cuda *cuda;
  size_t ncuda;
  struct kb_torch *torch;
  size_t ntorch;
  struct kb_gpu *gpus;
  size_t ngpus;
  struct kb_base *bases;
  size_t nbases;
};

/* Load every file of the knowledge base in `dir`. Returns 0, or -1 with every problem in d. */
int kb_load (const char *dir, struct kb *kb, struct diags *d);
void kb_release (struct kb *kb);

/* The directory pcgen reads the knowledge base from: $PCGEN_DATA, else generator/data
   next to the binary's ../ (bin/pcgen -> generator/data), else ./generator/data. */
const char *kb_default_dir (const char *argv0);

const struct kb_cuda *kb_cuda_find (const struct kb *kb, const char *version);
/* "2.6.0" exactly, or "2.6" meaning the newest 2.6.x the knowledge base knows. */
const struct kb_torch *kb_torch_find (const struct kb *kb, const char *version);
/* "2.6.0" or "2.6" names t. */
int kb_torch_matches (const char *asked, const struct kb_torch *t);
const struct kb_variant *kb_variant_find (const struct kb_torch *t, const char *cuda);
const struct kb_gpu *kb_gpu_find (const struct kb *kb, const char *name);
const struct kb_base *kb_base_find (const struct kb *kb, const char *name);
const char *kb_pin_find (const struct kb_pin *pins, size_t n, const char *name);
/* The variants' CUDA versions as "12.6, 12.8, 13.0", into buf. */
void kb_torch_variant_list (const struct kb_torch *t, char *buf, size_t size);

/* Parse "8.6" / "sm_86" / "86" / "compute_86" into 86; -1 when not a compute capability. */
int kb_parse_cc (const char *s);

#endif
