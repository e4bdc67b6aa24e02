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

/* The Debian archive a package comes from (bases.yaml's and cuda.yaml's `archive`: "debian",
   the default, or "debian-security"); debs_mirror() says where each one is. */
enum kb_deb_archive
{
  DEB_ARCHIVE_DEBIAN,
  DEB_ARCHIVE_SECURITY,
};

/* One file an nvcc source is made of: a Debian package, an archive of NVIDIA's redist, or a
   PyPI wheel (path: its file name, which pip fetches by name and version from its index). */
struct kb_deb
{
  char *name;    /* nvidia-cuda-toolkit, cuda_nvcc, nvidia-cuda-nvcc */
  char *version; /* 12.4.131~12.4.1-2 */
  char *path;    /* under the mirror: pool/non-free/n/.../X.deb, cuda_nvcc/linux-x86_64/X.tar.xz */
  char *sha256;
  unsigned long long size;
  enum kb_deb_archive archive;
};

/* Where a devel image's nvcc comes from (docs/nvcc.md). A CUDA lists them in order of
   preference; pcgen uses the first one it can make a layer from (kb_cuda.nvcc). */
enum kb_nvcc_kind
{
  NVCC_DEBIAN, /* Debian's nvidia-cuda-toolkit and nvidia-cuda-dev, from $PCGEN_DEBIAN_MIRROR */
  NVCC_PYPI,   /* wheels that carry the whole driver (CUDA 13: nvidia-cuda-nvcc, -crt, nvvm, cccl), via pip */
  NVCC_REDIST, /* NVIDIA's redistributable archives, from $PCGEN_CUDA_REDIST */
};

struct kb_nvcc
{
  enum kb_nvcc_kind kind;
  char *version; /* what `nvcc --version` says: 12.4.131 */
  char *release; /* redist: the CUDA release whose redistrib_<release>.json lists the files */
  char *source;  /* a key of cuda.yaml's `sources` */
  struct kb_deb *files;
  size_t nfiles;
};

/* A host compiler nvcc supports, for a CUDA whose nvcc refuses the base's default (11.8 and
   GCC 12): Debian packages unpacked into the nvcc layer, and the compiler nvcc is told to use. */
struct kb_host_compiler
{
  char *ccbin; /* /usr/bin/g++-11 */
  char *source;
  struct kb_deb *files;
  size_t nfiles;
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
  struct kb_nvcc *nvcc_sources; /* in order of preference */
  size_t nnvcc_sources;
  const struct kb_nvcc *nvcc;   /* the one devel images use; NULL: none pcgen can build */
  struct kb_host_compiler *host_compiler; /* NULL: the base's default compiler will do */
  /* CUDA 13: torch pins the cuda-toolkit meta-package, not nvidia-cublas; name = a cuda-toolkit
     version as torch.yaml pins it, version = the nvidia-cublas its `cublas` extra pins. */
  struct kb_pin *toolkit_cublas;
  size_t ntoolkit_cublas;
  char *source, *archs_source, *toolkit_source;
};

struct kb_variant
{
  char *cuda;      /* "12.4" */
  char *cudnn;     /* "9.1.0.70", or NULL when not known */
  char *arch_list; /* TORCH_CUDA_ARCH_LIST, or NULL when not known */
  struct kb_pin *pins;
  size_t npins;
  char *pins_source, *arch_source;
  /* Listed under `unknown:` (written by `pcgen kb update`): not read, so not "none". */
  int arch_list_unknown, cudnn_unknown;
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
  /* `unknown: [variants]`: only the PyPI variant was read; PyTorch's own index (the other CUDA
     variants) was not, so a CUDA missing from `variants` may still have been published. */
  int variants_unknown;
  char *numpy, *numpy_source; /* the NumPy release locked with it (every image ships one), or NULL */
};

/* One name of gpus.yaml; an entry with several names becomes one kb_gpu per name. */
struct kb_gpu
{
  char *name;     /* "RTX 4090", as gpus.yaml writes it */
  int cc;         /* 89 */
  char *arch;     /* "Ada" */
  char *platform; /* NULL, or "aarch64": comes only with an Arm host (Jetson, Grace) */
  char *source;
  char *key;      /* the name normalised (kb_gpu_key): "rtx4090" */
};
struct kb_gpu_norm; /* gpus.c: the compiled rules of gpus.yaml's `normalize` */

struct kb_base
{
  char *name;   /* debian-bookworm */
  char *python; /* 3.11 */
  char *suite;  /* bookworm */
  char *source;
  /* Debian packages every image carries for torch.compile (compiler, OpenMP, Python headers),
     and those devel images add (cmake, make): the toolchain and buildtools layers. */
  struct kb_deb *toolchain, *buildtools;
  size_t ntoolchain, nbuildtools;
  /* The notebook flavor's Debian packages (openssh-server, tini) and the JupyterLab release its
     Python set is resolved from (docs/notebook.md); NULL/0: the base has no notebook flavor. */
  struct kb_deb *notebook;
  size_t nnotebook;
  char *jupyterlab;
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
  struct kb_gpu_norm *gpu_norm;
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
/* GPUs (gpus.c). A name as nvidia-smi, nvidia-smi -L or torch.cuda.get_device_name() print
   it ("NVIDIA A100-SXM4-80GB", "GPU 0: Tesla T4 (UUID: GPU-...)") or as people write it
   ("a100", "RTX-4090"): normalised by gpus.yaml's rules, then compared whole. */
int kb_gpus_load (const char *dir, struct kb *kb, struct diags *d);
void kb_gpus_release (struct kb *kb);
const struct kb_gpu *kb_gpu_find (const struct kb *kb, const char *name);
/* The lookup key of name, a new string: "NVIDIA GeForce RTX 4090 Laptop GPU" -> "rtx4090". */
char *kb_gpu_key (const struct kb *kb, const char *name);
/* The known names nearest to name (edit distance of the keys), best first, at most max. */
size_t kb_gpu_nearest (const struct kb *kb, const char *name, const struct kb_gpu **out, size_t max);
const struct kb_base *kb_base_find (const struct kb *kb, const char *name);
const char *kb_pin_find (const struct kb_pin *pins, size_t n, const char *name);
/* The variants' CUDA versions as "12.6, 12.8, 13.0", into buf. */
void kb_torch_variant_list (const struct kb_torch *t, char *buf, size_t size);

/* "debian", "pypi", "redist": the word cuda.yaml uses for a kind. */
const char *kb_nvcc_kind_name (enum kb_nvcc_kind k);

/* Whether file is a wheel of name (PEP 503, "nvidia-cuda-nvcc") at version that pip installs
   on Linux x86_64, by the binary distribution format's file name convention:
   {name with '-' as '_'}-{version}-{python tag}-{abi tag}-{platform tag}.whl, the platform tag
   possibly a compressed set joined by '.', one of them manylinux..._x86_64 or linux_x86_64
   (PyPI's nvidia_cuda_nvcc-13.0.88-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl).
   On 0, *want (owned by the caller) says what was expected. */
int kb_wheel_file_ok (const char *name, const char *version, const char *file, char **want);

/* Parse "8.6" / "sm_86" / "86" / "compute_86" into 86; -1 when not a compute capability. */
int kb_parse_cc (const char *s);

#endif
