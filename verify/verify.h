/* verify.h: what the checks of pytorch-cuda-verify share: the image's claims (image.c), the
   GPU found through the driver API (gpu.c), each check's verdict, and small helpers (util.c).
   The verifier links only libc and libdl: every NVIDIA library is dlopen'ed and the few
   prototypes it calls are declared next to the code that calls them. */
#ifndef PCV_VERIFY_H
#define PCV_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h" /* after the headers that declare what it bans */

#define PCV_VERSION "0.1.0"
#define PCV_SCHEMA 1

/* Exit codes, one meaning each (--help and verify/README.md). When several apply, the lowest
   row of this list wins: a too-old driver explains failed checks better than they do. */
enum
{
  PCV_EXIT_CERTIFIED = 0, /* every selected check passed or was skipped for a stated reason */
  PCV_EXIT_FAILED = 1,    /* a check failed */
  PCV_EXIT_USAGE = 2,     /* bad options, or a missing or invalid image.env */
  PCV_EXIT_NO_GPU = 3,    /* --require-gpu and no usable GPU */
  PCV_EXIT_DRIVER = 4,    /* the host's driver is older than this image's CUDA can run on */
};

/* ---- the image's claims (image.c) ---- */

#define PCV_MAX_ARCHS 32

/* One entry of TORCH_CUDA_ARCH_LIST: "8.6" is sm 86; "9.0a" has suffix 'a'; "+PTX" adds PTX. */
struct arch
{
  int sm;      /* major * 10 + minor */
  char suffix; /* 0, 'a' or 'f' */
  int ptx;     /* 1 when the entry carries +PTX */
};

struct image
{
  char *path; /* the file read, for messages */
  char *tag, *flavor, *torch, *cuda, *cuda_full, *cudnn, *cublas, *min_driver, *compat_floor;
  char *archs_text, *cuda_home, *torch_lib, *python;
  char *user; /* PC_USER: the user the image runs as by default; NULL: root */
  int cuda_major, cuda_minor;
  struct arch archs[PCV_MAX_ARCHS];
  size_t narchs;
};

/* Read the image metadata; on error print "file:line: message" to stderr and return -1. */
int image_load (struct image *img, const char *path);
void image_release (struct image *img);

/* ---- checks ---- */

enum status
{
  ST_PASS,
  ST_FAIL,
  ST_SKIP,
};

#define PCV_DETAIL_MAX 512

struct check
{
  const char *name;
  enum status status;
  char detail[PCV_DETAIL_MAX];
  int selected;
};

/* Set a check's verdict; the detail is one line (newlines become spaces). */
void check_set (struct check *c, enum status st, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* What a check found, for the certificate's "versions" object. */
struct found
{
  char cudart[32], nvrtc[32], cublas[32], cudnn[32], cudnn_cudart[32];
  char torch[64], torch_cuda[32];
  char py_torch[64], py_cuda[32], py_cudnn[32], py_cuda_available[8];
};

/* The GPU, when the host's driver offers one (gpu.c). */
struct gpu
{
  void *libcuda;      /* NULL: no driver */
  int driver_cuda;    /* cuDriverGetVersion, e.g. 12040; 0 when unknown */
  char driver[64];    /* NVML's driver version, e.g. "550.54.14"; "" when unknown */
  int init_error;     /* cuInit's result; 0 when a device is usable */
  char init_msg[128]; /* why there is no usable device */
  int have_device;    /* a device is usable: level "gpu" */
  int ordinal;
  char name[256];
  int cc_major, cc_minor;
  int too_old;      /* set by the driver check: below the compatibility floor */
  int minor_compat; /* set by the driver check: runs under minor-version compatibility */
  void *ctx;        /* the primary context, once retained */
};

struct options
{
  int json;
  int require_gpu;
};

struct ctx
{
  struct image *img;
  struct options opt;
  struct gpu gpu;
  struct found found;
};

void check_driver (struct ctx *c, struct check *out);
void check_runtime (struct ctx *c, struct check *out);
void check_kernel (struct ctx *c, struct check *out);
void check_cublas (struct ctx *c, struct check *out);
void check_cudnn (struct ctx *c, struct check *out);
void check_libtorch (struct ctx *c, struct check *out);
void check_python (struct ctx *c, struct check *out);
void check_python_train (struct ctx *c, struct check *out);
void check_python_numpy (struct ctx *c, struct check *out);
void check_python_compile (struct ctx *c, struct check *out);
void check_python_archs (struct ctx *c, struct check *out);
void check_python_gpu (struct ctx *c, struct check *out);
void check_python_command (struct ctx *c, struct check *out);
void check_user (struct ctx *c, struct check *out);
void check_sshd (struct ctx *c, struct check *out);
void check_sbom (struct ctx *c, struct check *out);
/* Start the python checks' interpreter early, to run beside the other checks; it runs the
   stages named (python-train, python-numpy, python-compile, python-archs, python-gpu) after
   `import torch`, each printing its own verdict. */
void python_start (struct ctx *c, const char *const *stages, size_t nstages);

/* cudnnGetVersion's number as MAJOR.MINOR.PATCH (cudnn.c). */
void cudnn_decode (size_t v, char *buf, size_t size);

/* ---- the driver API (gpu.c) ---- */

typedef unsigned long long pcv_devptr;

/* Load libcuda.so.1 (if any), read its versions and look for device 0. Never fails: what
   it finds is in c->gpu. */
void gpu_probe (struct gpu *g);
/* Make device 0's primary context current; 0 or -1 with a message in err. */
int gpu_context (struct gpu *g, char *err, size_t errsize);
int gpu_alloc (struct gpu *g, pcv_devptr *p, size_t bytes, char *err, size_t errsize);
int gpu_upload (struct gpu *g, pcv_devptr dst, const void *src, size_t bytes, char *err,
                size_t errsize);
int gpu_download (struct gpu *g, void *dst, pcv_devptr src, size_t bytes, char *err,
                  size_t errsize);
int gpu_sync (struct gpu *g, char *err, size_t errsize);
void gpu_free (struct gpu *g, pcv_devptr p);
/* The driver API entry point NAME, or NULL. */
void *gpu_sym (struct gpu *g, const char *name);
/* "CUDA_ERROR_X (text)" for a CUresult, into buf. */
const char *gpu_strerror (struct gpu *g, int r, char *buf, size_t size);
void gpu_release (struct gpu *g);

/* ---- libraries (lib.c) ---- */

/* The sonames this verifier knows per CUDA major (11, 12, 13). */
struct sonames
{
  int major;
  const char *cudart, *nvrtc, *cublas, *cublaslt;
};
const struct sonames *sonames_for (int cuda_major);

/* dlopen SONAME through the dynamic loader (as the image's programs find it), else
   HOME/lib/SONAME and HOME/lib64/SONAME. Returns the handle, or NULL with a one-line reason
   in err. flags: RTLD_LOCAL or RTLD_GLOBAL (RTLD_NOW is added). */
void *lib_open (const char *soname, const char *home, int flags, char *err, size_t errsize);
/* The file a handle was loaded from, for details ("?" when unknown). */
const char *lib_path (void *handle);
/* dlsym that returns NULL rather than an object pointer cast. */
void *lib_sym (void *handle, const char *name);

/* ---- helpers (util.c) ---- */

/* Dotted numeric compare: "12.4" < "12.10"; missing fields count as 0. */
int version_cmp (const char *a, const char *b);
/* The first N dot-separated fields of V into buf ("12.4.5.8", 3 -> "12.4.5"). */
const char *version_prefix (const char *v, int n, char *buf, size_t size);
/* 1 when V is digits separated by single dots. */
int version_valid (const char *v);

/* Random floats in [-1, 1) whose magnitude is at least 2^-10: never zeros, never denormals.
   The generator is seeded once from the clock and pid; the seed is kept for details. */
void rng_seed (void);
uint64_t rng_seed_value (void);
void rng_fill (float *v, size_t n);

/* Bound for a float32 dot product of length k computed in any order, with or without FMA:
   |c - exact| <= k * eps32 * sum |a_i b_i| (Higham, Accuracy and Stability, sec. 3.1),
   doubled for safety. Returns the worst ratio |c - ref| / bound over a matrix; <= 1 passes. */
double matmul_error_ratio (const float *c, const float *a, const float *b, int m, int n, int k,
                           int col_major);

/* Messages on stderr: "pytorch-cuda-verify: error: ..." */
void pcv_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#define ARRAY_SIZE(a) (sizeof (a) / sizeof (a)[0])

#endif
