/* gpu.c: the host's NVIDIA driver, through the driver API of libcuda.so.1 and the version
   string of libnvidia-ml.so.1. The driver is never part of an image (the NVIDIA container
   toolkit mounts the host's), so its absence is normal: the image is then certified
   statically. Every call's CUresult is checked. */
#include "verify.h"

#include <dlfcn.h>

typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext;
enum
{
  CUDA_SUCCESS = 0,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};

typedef CUresult (*fn_int_p) (int *);
typedef CUresult (*fn_uint) (unsigned);
typedef CUresult (*fn_get) (CUdevice *, int);
typedef CUresult (*fn_name) (char *, int, CUdevice);
typedef CUresult (*fn_attr) (int *, int, CUdevice);
typedef CUresult (*fn_errstr) (CUresult, const char **);
typedef CUresult (*fn_retain) (CUcontext *, CUdevice);
typedef CUresult (*fn_ctx) (CUcontext);
typedef CUresult (*fn_dev) (CUdevice);
typedef CUresult (*fn_alloc) (pcv_devptr *, size_t);
typedef CUresult (*fn_free) (pcv_devptr);
typedef CUresult (*fn_htod) (pcv_devptr, const void *, size_t);
typedef CUresult (*fn_dtoh) (void *, pcv_devptr, size_t);
typedef CUresult (*fn_void) (void);

void *
gpu_sym (struct gpu *g, const char *name)
{
  return lib_sym (g->libcuda, name);
}

const char *
gpu_strerror (struct gpu *g, int r, char *buf, size_t size)
{
  fn_errstr name = (fn_errstr) gpu_sym (g, "cuGetErrorName");
  fn_errstr text = (fn_errstr) gpu_sym (g, "cuGetErrorString");
  const char *n = NULL, *t = NULL;
  if (name == NULL || name (r, &n) != CUDA_SUCCESS)
    n = NULL;
  if (text == NULL || text (r, &t) != CUDA_SUCCESS)
    t = NULL;
  snprintf (buf, size, "%s%s%d (%s)", n ? n : "", n ? " " : "CUresult ", r, t ? t : "?");
  return buf;
}

/* Say what failed into err and return -1, when r is not CUDA_SUCCESS. */
static int
cu_check (struct gpu *g, CUresult r, const char *call, char *err, size_t errsize)
{
  char msg[160];
  if (r == CUDA_SUCCESS)
    return 0;
  snprintf (err, errsize, "%s: %s", call, gpu_strerror (g, r, msg, sizeof msg));
  return -1;
}

static int
missing (const char *name, char *err, size_t errsize)
{
  snprintf (err, errsize, "libcuda.so.1 lacks %s", name);
  return -1;
}

/* The driver's version string: only NVML has it (cuDriverGetVersion gives the CUDA level). */
static void
nvml_driver (struct gpu *g)
{
  void *h = dlopen ("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    return;
  fn_void init = (fn_void) lib_sym (h, "nvmlInit_v2");
  CUresult (*get) (char *, unsigned)
      = (CUresult (*) (char *, unsigned)) lib_sym (h, "nvmlSystemGetDriverVersion");
  fn_void shutdown = (fn_void) lib_sym (h, "nvmlShutdown");
  if (init && get && init () == 0)
    {
      char v[80] = "";
      if (get (v, sizeof v) == 0 && version_valid (v))
        snprintf (g->driver, sizeof g->driver, "%s", v);
      if (shutdown)
        shutdown ();
    }
}

static void
find_device (struct gpu *g)
{
  fn_uint init = (fn_uint) gpu_sym (g, "cuInit");
  fn_int_p count = (fn_int_p) gpu_sym (g, "cuDeviceGetCount");
  fn_get get = (fn_get) gpu_sym (g, "cuDeviceGet");
  fn_name name = (fn_name) gpu_sym (g, "cuDeviceGetName");
  fn_attr attr = (fn_attr) gpu_sym (g, "cuDeviceGetAttribute");
  char *msg = g->init_msg;
  size_t size = sizeof g->init_msg;
  int n = 0;
  CUdevice d;
  if (!init || !count || !get || !name || !attr)
    {
      missing ("cuInit, cuDeviceGet* or cuDeviceGetAttribute", msg, size);
      g->init_error = -1;
      return;
    }
  CUresult r = init (0);
  if (r != CUDA_SUCCESS)
    {
      g->init_error = r;
      cu_check (g, r, "cuInit", msg, size);
      return;
    }
  if (cu_check (g, count (&n), "cuDeviceGetCount", msg, size) < 0
      || (n < 1 && snprintf (msg, size, "the driver sees no device") > 0)
      || cu_check (g, get (&d, 0), "cuDeviceGet", msg, size) < 0
      || cu_check (g, name (g->name, sizeof g->name, d), "cuDeviceGetName", msg, size) < 0
      || cu_check (g, attr (&g->cc_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d),
                   "cuDeviceGetAttribute", msg, size)
             < 0
      || cu_check (g, attr (&g->cc_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d),
                   "cuDeviceGetAttribute", msg, size)
             < 0)
    {
      g->init_error = -1;
      return;
    }
  g->ordinal = d;
  g->have_device = 1;
}

void
gpu_probe (struct gpu *g)
{
  memset (g, 0, sizeof *g);
  g->libcuda = dlopen ("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
  if (g->libcuda == NULL)
    {
      snprintf (g->init_msg, sizeof g->init_msg, "no libcuda.so.1");
      return;
    }
  fn_int_p version = (fn_int_p) gpu_sym (g, "cuDriverGetVersion");
  if (version == NULL || version (&g->driver_cuda) != CUDA_SUCCESS)
    g->driver_cuda = 0;
  nvml_driver (g);
  find_device (g);
}

int
gpu_context (struct gpu *g, char *err, size_t errsize)
{
  if (g->ctx)
    return 0;
  fn_retain retain = (fn_retain) gpu_sym (g, "cuDevicePrimaryCtxRetain");
  fn_ctx set = (fn_ctx) gpu_sym (g, "cuCtxSetCurrent");
  if (!retain || !set)
    return missing ("cuDevicePrimaryCtxRetain or cuCtxSetCurrent", err, errsize);
  CUcontext ctx = NULL;
  if (cu_check (g, retain (&ctx, g->ordinal), "cuDevicePrimaryCtxRetain", err, errsize) < 0)
    return -1;
  g->ctx = ctx;
  return cu_check (g, set (ctx), "cuCtxSetCurrent", err, errsize);
}

int
gpu_alloc (struct gpu *g, pcv_devptr *p, size_t bytes, char *err, size_t errsize)
{
  fn_alloc f = (fn_alloc) gpu_sym (g, "cuMemAlloc_v2");
  *p = 0;
  if (f == NULL)
    return missing ("cuMemAlloc_v2", err, errsize);
  return cu_check (g, f (p, bytes), "cuMemAlloc", err, errsize);
}

int
gpu_upload (struct gpu *g, pcv_devptr dst, const void *src, size_t bytes, char *err, size_t errsize)
{
  fn_htod f = (fn_htod) gpu_sym (g, "cuMemcpyHtoD_v2");
  if (f == NULL)
    return missing ("cuMemcpyHtoD_v2", err, errsize);
  return cu_check (g, f (dst, src, bytes), "cuMemcpyHtoD", err, errsize);
}

int
gpu_download (struct gpu *g, void *dst, pcv_devptr src, size_t bytes, char *err, size_t errsize)
{
  fn_dtoh f = (fn_dtoh) gpu_sym (g, "cuMemcpyDtoH_v2");
  if (f == NULL)
    return missing ("cuMemcpyDtoH_v2", err, errsize);
  return cu_check (g, f (dst, src, bytes), "cuMemcpyDtoH", err, errsize);
}

int
gpu_sync (struct gpu *g, char *err, size_t errsize)
{
  fn_void f = (fn_void) gpu_sym (g, "cuCtxSynchronize");
  if (f == NULL)
    return missing ("cuCtxSynchronize", err, errsize);
  return cu_check (g, f (), "cuCtxSynchronize", err, errsize);
}

void
gpu_free (struct gpu *g, pcv_devptr p)
{
  fn_free f = (fn_free) gpu_sym (g, "cuMemFree_v2");
  if (p && f) /* a failed free cannot change a verdict already reached */
    f (p);
}

void
gpu_release (struct gpu *g)
{
  fn_dev release = (fn_dev) gpu_sym (g, "cuDevicePrimaryCtxRelease_v2");
  if (g->ctx && release)
    release (g->ordinal);
  g->ctx = NULL;
}
