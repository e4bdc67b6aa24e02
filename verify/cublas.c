/* cublas.c: the cuBLAS the image ships is the version the tag pins (PC_CUBLAS, the
   nvidia-cublas wheel's version, whose first three fields are the library's); with a GPU, a
   256x256x256 SGEMM on random inputs is checked against a CPU reference in double. */
#include "verify.h"

#include <dlfcn.h>

enum
{
  MAJOR_VERSION = 0, /* libraryPropertyType */
  MINOR_VERSION = 1,
  PATCH_LEVEL = 2,
  CUBLAS_OP_N = 0,
  DIM = 256,
};

typedef int (*fn_prop) (int, int *);
typedef size_t (*fn_ltversion) (void);
typedef int (*fn_create) (void **);
typedef int (*fn_destroy) (void *);
typedef int (*fn_sgemm) (void *, int, int, int, int, int, const float *, const float *, int,
                         const float *, int, const float *, float *, int);

/* The library's version as MAJOR.MINOR.PATCH into buf: cublasGetProperty needs no handle and
   no GPU; cublasLtGetVersion (MAJOR*10000 + MINOR*100 + PATCH) serves where it is missing. */
static int
read_version (void *h, void *lt, char *buf, size_t size)
{
  fn_prop prop = (fn_prop) lib_sym (h, "cublasGetProperty");
  fn_ltversion ltv = (fn_ltversion) lib_sym (lt, "cublasLtGetVersion");
  int major, minor, patch;
  if (prop && prop (MAJOR_VERSION, &major) == 0 && prop (MINOR_VERSION, &minor) == 0
      && prop (PATCH_LEVEL, &patch) == 0)
    snprintf (buf, size, "%d.%d.%d", major, minor, patch);
  else if (ltv)
    {
      size_t v = ltv ();
      snprintf (buf, size, "%zu.%zu.%zu", v / 10000, v / 100 % 100, v % 100);
    }
  else
    return -1;
  return 0;
}

/* cublasLt is a separate library that cuBLAS loads by soname: a stale copy beside a new
   cuBLAS is a broken image too. "" when it agrees. */
static void
lt_mismatch (void *lt, const char *version, char *buf, size_t size)
{
  fn_ltversion ltv = (fn_ltversion) lib_sym (lt, "cublasLtGetVersion");
  buf[0] = '\0';
  if (ltv == NULL)
    return;
  size_t v = ltv ();
  char lv[32];
  snprintf (lv, sizeof lv, "%zu.%zu.%zu", v / 10000, v / 100 % 100, v % 100);
  if (strcmp (lv, version) != 0)
    snprintf (buf, size, "cublasLt %s at %s differs from cublas %s", lv, lib_path (lt), version);
}

static int
sgemm_on_device (struct ctx *c, void *h, char *note, size_t notesize, char *err, size_t errsize)
{
  struct gpu *g = &c->gpu;
  fn_create create = (fn_create) lib_sym (h, "cublasCreate_v2");
  fn_destroy destroy = (fn_destroy) lib_sym (h, "cublasDestroy_v2");
  fn_sgemm sgemm = (fn_sgemm) lib_sym (h, "cublasSgemm_v2");
  size_t bytes = sizeof (float) * DIM * DIM;
  float *a = malloc (bytes), *b = malloc (bytes), *cm = malloc (bytes);
  float one = 1, zero = 0;
  pcv_devptr da = 0, db = 0, dc = 0;
  void *handle = NULL;
  int r = 0, rc = -1;
  if (!create || !destroy || !sgemm)
    snprintf (err, errsize, "%s lacks cublasCreate_v2/Destroy_v2/Sgemm_v2", lib_path (h));
  else if (!a || !b || !cm)
    snprintf (err, errsize, "out of memory");
  else if (gpu_context (g, err, errsize) == 0 && (r = create (&handle)) != 0)
    snprintf (err, errsize, "cublasCreate: cublasStatus %d", r);
  else if (handle)
    {
      rng_fill (a, DIM * DIM);
      rng_fill (b, DIM * DIM);
      rng_fill (cm, DIM * DIM); /* overwritten: beta is 0 */
      if (gpu_alloc (g, &da, bytes, err, errsize) == 0
          && gpu_alloc (g, &db, bytes, err, errsize) == 0
          && gpu_alloc (g, &dc, bytes, err, errsize) == 0
          && gpu_upload (g, da, a, bytes, err, errsize) == 0
          && gpu_upload (g, db, b, bytes, err, errsize) == 0
          && gpu_upload (g, dc, cm, bytes, err, errsize) == 0)
        {
          r = sgemm (handle, CUBLAS_OP_N, CUBLAS_OP_N, DIM, DIM, DIM, &one, (const float *) da, DIM,
                     (const float *) db, DIM, &zero, (float *) dc, DIM);
          if (r != 0)
            snprintf (err, errsize, "cublasSgemm: cublasStatus %d", r);
          else if (gpu_sync (g, err, errsize) == 0
                   && gpu_download (g, cm, dc, bytes, err, errsize) == 0)
            rc = 0;
        }
      if ((r = destroy (handle)) != 0 && rc == 0)
        {
          snprintf (err, errsize, "cublasDestroy: cublasStatus %d", r);
          rc = -1;
        }
    }
  if (rc == 0)
    {
      double ratio = matmul_error_ratio (cm, a, b, DIM, DIM, DIM, 1);
      if (ratio > 1)
        {
          snprintf (err, errsize,
                    "SGEMM %dx%dx%d error %.3g times the float32 bound "
                    "2*k*eps*sum|a||b| (seed %#llx)",
                    DIM, DIM, DIM, ratio, (unsigned long long) rng_seed_value ());
          rc = -1;
        }
      else
        snprintf (note, notesize, "SGEMM %dx%dx%d on %s within %.2g of the float32 bound", DIM, DIM,
                  DIM, g->name, ratio);
    }
  gpu_free (g, da);
  gpu_free (g, db);
  gpu_free (g, dc);
  free (a);
  free (b);
  free (cm);
  return rc;
}

static void
verdict (struct ctx *c, void *h, void *lt, struct check *out)
{
  const struct image *img = c->img;
  char want[32], lt_err[PCV_DETAIL_MAX], err[PCV_DETAIL_MAX] = "", note[PCV_DETAIL_MAX];
  version_prefix (img->cublas, 3, want, sizeof want);
  lt_mismatch (lt, c->found.cublas, lt_err, sizeof lt_err);
  if (strcmp (want, c->found.cublas) != 0)
    check_set (out, ST_FAIL, "cublas %s at %s, but the image pins %s", c->found.cublas,
               lib_path (h), img->cublas);
  else if (lt_err[0])
    check_set (out, ST_FAIL, "%s", lt_err);
  else if (!c->gpu.have_device || c->gpu.too_old)
    check_set (out, ST_PASS, "cublas %s (%s); %s", c->found.cublas, lib_path (h),
               c->gpu.too_old ? "SGEMM skipped: driver too old" : "no GPU, SGEMM not run");
  else if (sgemm_on_device (c, h, note, sizeof note, err, sizeof err) < 0)
    check_set (out, ST_FAIL, "cublas %s: %s", c->found.cublas, err);
  else
    check_set (out, ST_PASS, "cublas %s: %s", c->found.cublas, note);
}

void
check_cublas (struct ctx *c, struct check *out)
{
  const struct image *img = c->img;
  const struct sonames *so = sonames_for (img->cuda_major);
  char err[PCV_DETAIL_MAX];
  void *lt = NULL, *h = lib_open (so->cublaslt, img->cuda_home, RTLD_LOCAL, err, sizeof err);
  if (h)
    {
      lt = h;
      h = lib_open (so->cublas, img->cuda_home, RTLD_LOCAL, err, sizeof err);
    }
  if (h == NULL)
    check_set (out, ST_FAIL, "%s", err);
  else if (read_version (h, lt, c->found.cublas, sizeof c->found.cublas) < 0)
    check_set (out, ST_FAIL, "%s has neither cublasGetProperty nor cublasLtGetVersion",
               lib_path (h));
  else
    verdict (c, h, lt, out);
}
