/* fake_cuda.c: a test double of the NVIDIA driver's user-space libraries, built as
   libcuda.so.1 and libnvidia-ml.so.1 (see the Makefile). It stands beside the real driver in
   tests only: pcgen compat and pytorch-cuda-verify dlopen it through LD_LIBRARY_PATH and must
   reach the same verdicts they reach on a real host. What it reports comes from the environment:
     FAKE_CUDA_DRIVER_VERSION  cuDriverGetVersion's answer, e.g. 12040 (default 12040)
     FAKE_NVIDIA_DRIVER        nvmlSystemGetDriverVersion's answer, e.g. 550.54.14
     FAKE_CUDA_DEVICES         "NAME:MAJOR.MINOR,NAME:MAJOR.MINOR" (default: no device)
     FAKE_CUDA_INIT_ERROR      a CUresult for cuInit to return (e.g. 100: no device)
     FAKE_CUDA_LOAD_ERROR      a CUresult for cuModuleLoadData (e.g. 209: no binary for the GPU)
     FAKE_CUDA_WRONG_RESULT    when set, a kernel launch gets one element wrong
   With a device, a context, memory (host memory standing in for device memory) and modules
   work well enough to run pytorch-cuda-verify's kernel check on the CPU: the one kernel it
   knows is saxpy (int n, float a, const float *x, float *y), as in verify/nvrtc.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
enum
{
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_IMAGE = 200,
  CUDA_ERROR_INVALID_CONTEXT = 201,
  CUDA_ERROR_NOT_FOUND = 500,
};
enum
{
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};

static int initialized;

/* The i-th device of FAKE_CUDA_DEVICES: its name into buf, its capability into major, minor. */
static int
device_at (int i, char *buf, size_t size, int *major, int *minor)
{
  const char *list = getenv ("FAKE_CUDA_DEVICES");
  if (list == NULL || *list == '\0')
    return -1;
  for (int k = 0; k < i; k++)
    {
      list = strchr (list, ',');
      if (list == NULL)
        return -1;
      list++;
    }
  const char *end = strchr (list, ',');
  size_t len = end ? (size_t) (end - list) : strlen (list);
  const char *colon = memchr (list, ':', len);
  if (colon == NULL)
    return -1;
  size_t nlen = (size_t) (colon - list);
  if (nlen >= size)
    nlen = size - 1;
  memcpy (buf, list, nlen);
  buf[nlen] = '\0';
  if (sscanf (colon + 1, "%d.%d", major, minor) != 2)
    return -1;
  return 0;
}

static int
device_count (void)
{
  char name[256];
  int a, b, n = 0;
  while (device_at (n, name, sizeof name, &a, &b) == 0)
    n++;
  return n;
}

CUresult
cuInit (unsigned int flags)
{
  (void) flags;
  const char *e = getenv ("FAKE_CUDA_INIT_ERROR");
  if (e && *e)
    return atoi (e);
  initialized = 1;
  return device_count () ? CUDA_SUCCESS : CUDA_ERROR_NO_DEVICE;
}

CUresult
cuDriverGetVersion (int *v)
{
  if (v == NULL)
    return CUDA_ERROR_INVALID_VALUE;
  const char *e = getenv ("FAKE_CUDA_DRIVER_VERSION");
  *v = e && *e ? atoi (e) : 12040;
  return CUDA_SUCCESS;
}

CUresult
cuDeviceGetCount (int *n)
{
  if (!initialized)
    return CUDA_ERROR_NOT_INITIALIZED;
  *n = device_count ();
  return CUDA_SUCCESS;
}

CUresult
cuDeviceGet (CUdevice *d, int ordinal)
{
  if (!initialized)
    return CUDA_ERROR_NOT_INITIALIZED;
  if (ordinal < 0 || ordinal >= device_count ())
    return CUDA_ERROR_INVALID_DEVICE;
  *d = ordinal;
  return CUDA_SUCCESS;
}

CUresult
cuDeviceGetName (char *name, int len, CUdevice d)
{
  int a, b;
  if (len <= 0 || device_at (d, name, (size_t) len, &a, &b) < 0)
    return CUDA_ERROR_INVALID_DEVICE;
  return CUDA_SUCCESS;
}

CUresult
cuDeviceGetAttribute (int *value, int attrib, CUdevice d)
{
  char name[256];
  int major, minor;
  if (device_at (d, name, sizeof name, &major, &minor) < 0)
    return CUDA_ERROR_INVALID_DEVICE;
  if (attrib == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
    *value = major;
  else if (attrib == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
    *value = minor;
  else
    return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}

CUresult
cuGetErrorString (CUresult r, const char **s)
{
  *s = r == CUDA_ERROR_NO_DEVICE ? "no CUDA-capable device is detected" : "fake error";
  return CUDA_SUCCESS;
}

CUresult
cuGetErrorName (CUresult r, const char **s)
{
  switch (r)
    {
    case CUDA_ERROR_NO_DEVICE:
      *s = "CUDA_ERROR_NO_DEVICE";
      break;
    case 209:
      *s = "CUDA_ERROR_NO_BINARY_FOR_GPU";
      break;
    default:
      *s = "CUDA_ERROR_UNKNOWN";
    }
  return CUDA_SUCCESS;
}

/* ---- context, memory, modules: enough to run saxpy on the CPU ---- */
typedef void *CUcontext;
typedef unsigned long long CUdeviceptr;
static int fake_context; /* its address is the primary context */
static void *current;
static int fake_module, fake_function;

CUresult
cuDevicePrimaryCtxRetain (CUcontext *ctx, CUdevice d)
{
  if (!initialized)
    return CUDA_ERROR_NOT_INITIALIZED;
  if (d < 0 || d >= device_count ())
    return CUDA_ERROR_INVALID_DEVICE;
  *ctx = &fake_context;
  return CUDA_SUCCESS;
}

CUresult
cuDevicePrimaryCtxRelease_v2 (CUdevice d)
{
  (void) d;
  current = NULL;
  return CUDA_SUCCESS;
}

CUresult
cuCtxSetCurrent (CUcontext ctx)
{
  current = ctx;
  return CUDA_SUCCESS;
}

CUresult
cuCtxSynchronize (void)
{
  return current ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

CUresult
cuMemAlloc_v2 (CUdeviceptr *p, size_t bytes)
{
  if (!current)
    return CUDA_ERROR_INVALID_CONTEXT;
  void *m = malloc (bytes);
  if (m == NULL)
    return CUDA_ERROR_OUT_OF_MEMORY;
  *p = (CUdeviceptr) (uintptr_t) m;
  return CUDA_SUCCESS;
}

CUresult
cuMemFree_v2 (CUdeviceptr p)
{
  free ((void *) (uintptr_t) p);
  return CUDA_SUCCESS;
}

CUresult
cuMemcpyHtoD_v2 (CUdeviceptr dst, const void *src, size_t bytes)
{
  memcpy ((void *) (uintptr_t) dst, src, bytes);
  return current ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

CUresult
cuMemcpyDtoH_v2 (void *dst, CUdeviceptr src, size_t bytes)
{
  memcpy (dst, (const void *) (uintptr_t) src, bytes);
  return current ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

/* A CUBIN is an ELF file; PTX is text starting with a comment or a directive. */
CUresult
cuModuleLoadData (void **module, const void *image)
{
  const char *e = getenv ("FAKE_CUDA_LOAD_ERROR");
  const char *s = image;
  if (!current)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (e && *e)
    return atoi (e);
  if (memcmp (s, "\177ELF", 4) != 0 && s[0] != '/' && s[0] != '.')
    return CUDA_ERROR_INVALID_IMAGE;
  *module = &fake_module;
  return CUDA_SUCCESS;
}

CUresult
cuModuleGetFunction (void **fn, void *module, const char *name)
{
  if (module != &fake_module)
    return CUDA_ERROR_INVALID_VALUE;
  if (strcmp (name, "saxpy") != 0)
    return CUDA_ERROR_NOT_FOUND;
  *fn = &fake_function;
  return CUDA_SUCCESS;
}

CUresult
cuModuleUnload (void *module)
{
  return module == &fake_module ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

/* saxpy's grid on the CPU: y[i] = a * x[i] + y[i] for the threads the grid has, rounded
   twice as the GPU does with --fmad=false (C11 does not contract without being asked). */
CUresult
cuLaunchKernel (void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                unsigned bz, unsigned shared, void *stream, void **params, void **extra)
{
  (void) gy, (void) gz, (void) by, (void) bz, (void) shared, (void) stream, (void) extra;
  if (!current)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (fn != &fake_function || params == NULL)
    return CUDA_ERROR_INVALID_VALUE;
  int n = *(int *) params[0];
  float a = *(float *) params[1];
  const float *x = (const float *) (uintptr_t) * (CUdeviceptr *) params[2];
  float *y = (float *) (uintptr_t) * (CUdeviceptr *) params[3];
  long threads = (long) gx * bx;
  for (long i = 0; i < n && i < threads; i++)
    {
      float p = a * x[i];
      y[i] = p + y[i];
    }
  if (getenv ("FAKE_CUDA_WRONG_RESULT") && n > 12345)
    y[12345] += 1.0f;
  return CUDA_SUCCESS;
}

/* NVML: the driver's version string, which the CUDA driver API does not give. */
typedef int nvmlReturn_t;

nvmlReturn_t
nvmlInit_v2 (void)
{
  return getenv ("FAKE_NVIDIA_DRIVER") ? 0 : 9; /* 9: NVML_ERROR_DRIVER_NOT_LOADED */
}

nvmlReturn_t
nvmlInit (void)
{
  return nvmlInit_v2 ();
}

nvmlReturn_t
nvmlShutdown (void)
{
  return 0;
}

nvmlReturn_t
nvmlSystemGetDriverVersion (char *version, unsigned int length)
{
  const char *v = getenv ("FAKE_NVIDIA_DRIVER");
  if (v == NULL)
    return 9;
  snprintf (version, length, "%s", v);
  return 0;
}

nvmlReturn_t
nvmlSystemGetCudaDriverVersion (int *v)
{
  return cuDriverGetVersion (v);
}
