/* cudnn.c: the cuDNN the image ships is the one the tag pins (PC_CUDNN), built for the
   image's CUDA major, with its sub-libraries beside it; with a GPU, cudnnAddTensor on random
   inputs must equal the CPU exactly (C = 2A + C: doubling is exact, so one rounding). */
#include "verify.h"

#include <dlfcn.h>
#include <unistd.h>

typedef size_t (*fn_version) (void);
typedef int (*fn_create) (void **);
typedef int (*fn_destroy) (void *);
typedef int (*fn_set4d) (void *, int, int, int, int, int, int);
typedef int (*fn_add) (void *, const void *, const void *, const void *, const void *, const void *,
                       void *);
typedef const char *(*fn_errstr) (int);

enum
{
  CUDNN_TENSOR_NCHW = 0,
  CUDNN_DATA_FLOAT = 0,
  TN = 1,
  TC = 16,
  TH = 64,
  TW = 64,
};

/* The sub-libraries libcudnn.so.N loads by soname from its own folder when an operation
   first needs them: missing ones fail only then, in the user's program, so look now. */
static const char *const subs9[] = { "libcudnn_graph.so.9",
                                     "libcudnn_ops.so.9",
                                     "libcudnn_cnn.so.9",
                                     "libcudnn_adv.so.9",
                                     "libcudnn_heuristic.so.9",
                                     "libcudnn_engines_precompiled.so.9",
                                     "libcudnn_engines_runtime_compiled.so.9",
                                     NULL };
static const char *const subs8[] = { "libcudnn_ops_infer.so.8",
                                     "libcudnn_ops_train.so.8",
                                     "libcudnn_cnn_infer.so.8",
                                     "libcudnn_cnn_train.so.8",
                                     "libcudnn_adv_infer.so.8",
                                     "libcudnn_adv_train.so.8",
                                     NULL };

static const char *
missing_sub (void *h, int major)
{
  const char *path = lib_path (h), *slash = strrchr (path, '/');
  const char *const *subs = major >= 9 ? subs9 : subs8;
  char file[4096];
  if (slash == NULL)
    return NULL;
  for (size_t i = 0; subs[i]; i++)
    if ((size_t) snprintf (file, sizeof file, "%.*s/%s", (int) (slash - path), path, subs[i])
            < sizeof file
        && access (file, R_OK) != 0)
      return subs[i];
  return NULL;
}

/* cuDNN 9 encodes MAJOR*10000 + MINOR*100 + PATCH, cuDNN 8 MAJOR*1000 + MINOR*100 + PATCH. */
void
cudnn_decode (size_t v, char *buf, size_t size)
{
  if (v >= 90000)
    snprintf (buf, size, "%zu.%zu.%zu", v / 10000, v / 100 % 100, v % 100);
  else
    snprintf (buf, size, "%zu.%zu.%zu", v / 1000, v / 100 % 10, v % 100);
}

static int
st (void *h, int r, const char *call, char *err, size_t errsize)
{
  fn_errstr text = (fn_errstr) lib_sym (h, "cudnnGetErrorString");
  if (r == 0)
    return 0;
  snprintf (err, errsize, "%s: %s", call, text ? text (r) : "cudnnStatus error");
  return -1;
}

/* C = 2A + C on the device, already holding A and C; result into out. */
static int
add_on_device (struct ctx *c, void *h, pcv_devptr da, pcv_devptr dc, char *err, size_t errsize)
{
  fn_create create = (fn_create) lib_sym (h, "cudnnCreate");
  fn_destroy destroy = (fn_destroy) lib_sym (h, "cudnnDestroy");
  fn_create create_desc = (fn_create) lib_sym (h, "cudnnCreateTensorDescriptor");
  fn_destroy destroy_desc = (fn_destroy) lib_sym (h, "cudnnDestroyTensorDescriptor");
  fn_set4d set4d = (fn_set4d) lib_sym (h, "cudnnSetTensor4dDescriptor");
  fn_add add = (fn_add) lib_sym (h, "cudnnAddTensor");
  void *handle = NULL, *desc = NULL;
  float alpha = 2, beta = 1;
  int rc;
  if (!create || !destroy || !create_desc || !destroy_desc || !set4d || !add)
    {
      snprintf (err, errsize, "%s lacks cudnnCreate/AddTensor/tensor descriptors", lib_path (h));
      return -1;
    }
  rc = st (h, create (&handle), "cudnnCreate", err, errsize);
  if (rc == 0)
    rc = st (h, create_desc (&desc), "cudnnCreateTensorDescriptor", err, errsize);
  if (rc == 0)
    rc = st (h, set4d (desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, TN, TC, TH, TW),
             "cudnnSetTensor4dDescriptor", err, errsize);
  if (rc == 0)
    rc = st (h, add (handle, &alpha, desc, (const void *) da, &beta, desc, (void *) dc),
             "cudnnAddTensor", err, errsize);
  if (rc == 0)
    rc = gpu_sync (&c->gpu, err, errsize);
  if (desc && st (h, destroy_desc (desc), "cudnnDestroyTensorDescriptor", err, errsize) < 0)
    rc = -1;
  if (handle && st (h, destroy (handle), "cudnnDestroy", err, errsize) < 0)
    rc = -1;
  return rc;
}

static int
op_on_device (struct ctx *c, void *h, char *note, size_t notesize, char *err, size_t errsize)
{
  struct gpu *g = &c->gpu;
  size_t n = (size_t) TN * TC * TH * TW, bytes = n * sizeof (float);
  float *a = malloc (bytes), *cv = malloc (bytes), *got = malloc (bytes);
  pcv_devptr da = 0, dc = 0;
  int rc = -1;
  if (!a || !cv || !got)
    snprintf (err, errsize, "out of memory");
  else
    {
      rng_fill (a, n);
      rng_fill (cv, n);
      if (gpu_context (g, err, errsize) == 0 && gpu_alloc (g, &da, bytes, err, errsize) == 0
          && gpu_alloc (g, &dc, bytes, err, errsize) == 0
          && gpu_upload (g, da, a, bytes, err, errsize) == 0
          && gpu_upload (g, dc, cv, bytes, err, errsize) == 0
          && add_on_device (c, h, da, dc, err, errsize) == 0
          && gpu_download (g, got, dc, bytes, err, errsize) == 0)
        rc = 0;
    }
  for (size_t i = 0; rc == 0 && i < n; i++)
    {
      float want = 2 * a[i] + cv[i];
      if (memcmp (&want, &got[i], sizeof want) != 0)
        {
          snprintf (err, errsize,
                    "cudnnAddTensor: element %zu is %.9g, the CPU says %.9g "
                    "(seed %#llx)",
                    i, (double) got[i], (double) want, (unsigned long long) rng_seed_value ());
          rc = -1;
        }
    }
  if (rc == 0)
    snprintf (note, notesize, "cudnnAddTensor over %zu elements on %s equals the CPU exactly", n,
              g->name);
  gpu_free (g, da);
  gpu_free (g, dc);
  free (a);
  free (cv);
  free (got);
  return rc;
}

static void
verdict (struct ctx *c, void *h, int major, struct check *out)
{
  const struct image *img = c->img;
  fn_version cudart = (fn_version) lib_sym (h, "cudnnGetCudartVersion");
  char want[32], err[PCV_DETAIL_MAX] = "", note[PCV_DETAIL_MAX];
  const char *sub = missing_sub (h, major);
  size_t built = cudart ? cudart () : 0;
  version_prefix (img->cudnn, 3, want, sizeof want);
  if (built)
    snprintf (c->found.cudnn_cudart, sizeof c->found.cudnn_cudart, "%zu.%zu", built / 1000,
              built % 1000 / 10);
  if (strcmp (want, c->found.cudnn) != 0)
    check_set (out, ST_FAIL, "cudnn %s at %s, but the image pins %s", c->found.cudnn, lib_path (h),
               img->cudnn);
  else if (built && (int) (built / 1000) != img->cuda_major)
    check_set (out, ST_FAIL, "cudnn %s at %s is built for CUDA %s, not CUDA %d", c->found.cudnn,
               lib_path (h), c->found.cudnn_cudart, img->cuda_major);
  else if (sub)
    check_set (out, ST_FAIL, "cudnn %s: %s is missing beside %s", c->found.cudnn, sub,
               lib_path (h));
  else if (!c->gpu.have_device || c->gpu.too_old)
    check_set (out, ST_PASS, "cudnn %s for CUDA %s (%s); %s", c->found.cudnn, c->found.cudnn_cudart,
               lib_path (h), c->gpu.too_old ? "op skipped: driver too old" : "no GPU, op not run");
  else if (op_on_device (c, h, note, sizeof note, err, sizeof err) < 0)
    check_set (out, ST_FAIL, "cudnn %s: %s", c->found.cudnn, err);
  else
    check_set (out, ST_PASS, "cudnn %s: %s", c->found.cudnn, note);
}

void
check_cudnn (struct ctx *c, struct check *out)
{
  const struct image *img = c->img;
  char soname[32], err[PCV_DETAIL_MAX];
  int major = atoi (img->cudnn);
  snprintf (soname, sizeof soname, "libcudnn.so.%d", major);
  void *h = lib_open (soname, img->cuda_home, RTLD_LOCAL, err, sizeof err);
  fn_version version = (fn_version) lib_sym (h, "cudnnGetVersion");
  if (h == NULL)
    check_set (out, ST_FAIL, "%s", err);
  else if (version == NULL)
    check_set (out, ST_FAIL, "%s lacks cudnnGetVersion", lib_path (h));
  else
    {
      cudnn_decode (version (), c->found.cudnn, sizeof c->found.cudnn);
      verdict (c, h, major, out);
    }
}
