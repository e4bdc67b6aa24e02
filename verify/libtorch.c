/* libtorch.c: libtorch through its C ABI, the AOTInductor shim (aoti_torch_*, C linkage in
   libtorch_cpu.so and libtorch_cuda.so). The shim's header is C++, so the prototypes are
   declared here. A 64x64 float32 matmul on random inputs is checked against a naive
   reference in double, on the CPU and, with a GPU, on CUDA; torch's own version.py must
   name the release and CUDA the tag claims. */
#include "verify.h"

#include <dlfcn.h>
#include <errno.h>

typedef struct AtenTensorOpaque *AtenTensorHandle;
typedef int32_t AOTITorchError; /* 0: success */

struct torch
{
  AOTITorchError (*empty_strided) (int64_t, const int64_t *, const int64_t *, int32_t, int32_t,
                                   int32_t, AtenTensorHandle *);
  AOTITorchError (*from_blob) (void *, int64_t, const int64_t *, const int64_t *, int64_t, int32_t,
                               int32_t, int32_t, AtenTensorHandle *);
  AOTITorchError (*mm_out) (AtenTensorHandle, AtenTensorHandle, AtenTensorHandle);
  AOTITorchError (*copy) (AtenTensorHandle, AtenTensorHandle); /* (src, dst) */
  AOTITorchError (*data_ptr) (AtenTensorHandle, void **);
  AOTITorchError (*delete) (AtenTensorHandle);
  int32_t float32, device;
  const char *mm_name;
};

enum
{
  DIM = 64,
};

static const int64_t sizes[2] = { DIM, DIM }, strides[2] = { DIM, 1 };

#define SYM(h, field, name) ((*(void **) &t->field = lib_sym (h, name)) != NULL)

/* The shim's entry points in H; the matmul is the per-device one where it exists (mid-2024
   on), else aoti_torch_mm_out (deprecated in the newest releases, still exported). */
static int
load_shim (struct torch *t, void *h, const char *device_mm, const char *device_type, char *err,
           size_t errsize)
{
  int32_t (*dtype) (void) = (int32_t (*) (void)) lib_sym (h, "aoti_torch_dtype_float32");
  int32_t (*dev) (void) = (int32_t (*) (void)) lib_sym (h, device_type);
  t->mm_name = device_mm;
  if (!SYM (h, mm_out, device_mm))
    t->mm_name = "aoti_torch_mm_out";
  if (!SYM (h, empty_strided, "aoti_torch_empty_strided")
      || !SYM (h, from_blob, "aoti_torch_create_tensor_from_blob")
      || !SYM (h, copy, "aoti_torch_tensor_copy_") || !SYM (h, data_ptr, "aoti_torch_get_data_ptr")
      || !SYM (h, delete, "aoti_torch_delete_tensor_object") || !dtype || !dev
      || (t->mm_out == NULL && !SYM (h, mm_out, "aoti_torch_mm_out")))
    {
      snprintf (err, errsize,
                "%s lacks an aoti_torch_* entry point (the C shim is in torch "
                "2.2 and newer)",
                lib_path (h));
      return -1;
    }
  t->float32 = dtype ();
  t->device = dev ();
  return 0;
}

static int
fail (char *err, size_t errsize, const char *call, AOTITorchError r)
{
  snprintf (err, errsize, "%s returned %d (torch prints the reason on stderr)", call, (int) r);
  return -1;
}

/* out = a @ b on the shim's device; the inputs and the result travel through CPU tensors
   made from the caller's buffers, so one path serves CPU and CUDA. */
static int
matmul (const struct torch *cpu, const struct torch *t, float *a, float *b, float *out, char *err,
        size_t errsize)
{
  AtenTensorHandle ha = NULL, hb = NULL, hout = NULL, da = NULL, db = NULL, dout = NULL;
  AOTITorchError r;
  int rc = -1;
  if ((r = cpu->from_blob (a, 2, sizes, strides, 0, cpu->float32, cpu->device, 0, &ha)) != 0
      || (r = cpu->from_blob (b, 2, sizes, strides, 0, cpu->float32, cpu->device, 0, &hb)) != 0
      || (r = cpu->from_blob (out, 2, sizes, strides, 0, cpu->float32, cpu->device, 0, &hout)) != 0)
    fail (err, errsize, "aoti_torch_create_tensor_from_blob", r);
  else if ((r = t->empty_strided (2, sizes, strides, t->float32, t->device, 0, &da)) != 0
           || (r = t->empty_strided (2, sizes, strides, t->float32, t->device, 0, &db)) != 0
           || (r = t->empty_strided (2, sizes, strides, t->float32, t->device, 0, &dout)) != 0)
    fail (err, errsize, "aoti_torch_empty_strided", r);
  else if ((r = t->copy (ha, da)) != 0 || (r = t->copy (hb, db)) != 0)
    fail (err, errsize, "aoti_torch_tensor_copy_", r);
  else if ((r = t->mm_out (dout, da, db)) != 0)
    fail (err, errsize, t->mm_name, r);
  else if ((r = t->copy (dout, hout)) != 0) /* synchronizes with the device */
    fail (err, errsize, "aoti_torch_tensor_copy_", r);
  else
    rc = 0;
  AtenTensorHandle all[] = { ha, hb, hout, da, db, dout };
  for (size_t i = 0; i < ARRAY_SIZE (all); i++)
    if (all[i] && (r = t->delete (all[i])) != 0 && rc == 0)
      rc = fail (err, errsize, "aoti_torch_delete_tensor_object", r);
  return rc;
}

static int
checked_matmul (const struct torch *cpu, const struct torch *t, const char *where, char *note,
                size_t notesize, char *err, size_t errsize)
{
  float *a = malloc (sizeof (float) * DIM * DIM), *b = malloc (sizeof (float) * DIM * DIM);
  float *out = malloc (sizeof (float) * DIM * DIM);
  int rc = -1;
  if (!a || !b || !out)
    snprintf (err, errsize, "out of memory");
  else
    {
      rng_fill (a, DIM * DIM);
      rng_fill (b, DIM * DIM);
      rng_fill (out, DIM * DIM); /* overwritten */
      rc = matmul (cpu, t, a, b, out, err, errsize);
    }
  if (rc == 0)
    {
      double ratio = matmul_error_ratio (out, a, b, DIM, DIM, DIM, 0);
      if (ratio > 1)
        {
          snprintf (err, errsize,
                    "%s %s %dx%d: error %.3g times the float32 bound "
                    "2*k*eps*sum|a||b| (seed %#llx)",
                    where, t->mm_name, DIM, DIM, ratio, (unsigned long long) rng_seed_value ());
          rc = -1;
        }
      else
        snprintf (note, notesize, "%s matmul %dx%d within %.2g of the float32 bound", where, DIM,
                  DIM, ratio);
    }
  free (a);
  free (b);
  free (out);
  return rc;
}

/* 'X' from a version.py line "NAME = 'X'" or "NAME: Optional[str] = 'X'"; "" for None. */
static void
py_assign (const char *line, const char *name, char *buf, size_t size)
{
  size_t n = strlen (name);
  if (strncmp (line, name, n) != 0 || (line[n] != ' ' && line[n] != ':' && line[n] != '='))
    return;
  const char *q = strpbrk (line + n, "'\"=");
  if (q && *q == '=')
    q = strpbrk (q, "'\"");
  if (q == NULL)
    return;
  const char *end = strchr (q + 1, *q);
  if (end)
    snprintf (buf, size, "%.*s", (int) (end - q - 1), q + 1);
}

/* torch's version.py, beside lib/: __version__ and cuda. */
static int
read_version_py (struct ctx *c, char *err, size_t errsize)
{
  char path[4096], line[512];
  snprintf (path, sizeof path, "%s/../version.py", c->img->torch_lib);
  FILE *f = fopen (path, "r");
  if (f == NULL)
    {
      snprintf (err, errsize, "cannot read %s: %s", path, strerror (errno));
      return -1;
    }
  while (fgets (line, sizeof line, f))
    {
      py_assign (line, "__version__", c->found.torch, sizeof c->found.torch);
      py_assign (line, "cuda", c->found.torch_cuda, sizeof c->found.torch_cuda);
    }
  fclose (f);
  if (c->found.torch[0] == '\0')
    {
      snprintf (err, errsize, "%s has no __version__", path);
      return -1;
    }
  return 0;
}

/* The versions in version.py against the tag: "2.6.0+cu124" is release 2.6.0 built for CUDA
   12.4; a CPU-only torch says cuda = None. "" when they agree. */
static void
version_mismatch (const struct ctx *c, char *buf, size_t size)
{
  const struct image *img = c->img;
  const char *v = c->found.torch, *local = strchr (v, '+');
  size_t rel = strcspn (v, "+");
  char cu[16];
  snprintf (cu, sizeof cu, "cu%d%d", img->cuda_major, img->cuda_minor);
  buf[0] = '\0';
  if (strlen (img->torch) != rel || strncmp (v, img->torch, rel) != 0)
    snprintf (buf, size, "torch %s, but the image claims %s", v, img->torch);
  else if (c->found.torch_cuda[0] == '\0')
    snprintf (buf, size, "torch %s is a CPU-only build (version.py: cuda = None)", v);
  else if (strcmp (c->found.torch_cuda, img->cuda) != 0)
    snprintf (buf, size, "torch %s is built for CUDA %s, but the image claims CUDA %s", v,
              c->found.torch_cuda, img->cuda);
  else if (local && strncmp (local + 1, "cu", 2) == 0 && strcmp (local + 1, cu) != 0)
    snprintf (buf, size, "torch %s is a %s build, but the image claims CUDA %s", v, local + 1,
              img->cuda);
}

static int
on_cuda (struct ctx *c, const struct torch *cpu, char *note, size_t notesize, char *err,
         size_t errsize)
{
  char path[4096];
  struct torch t;
  snprintf (path, sizeof path, "%s/libtorch_cuda.so", c->img->torch_lib);
  void *h = dlopen (path, RTLD_NOW | RTLD_GLOBAL);
  if (h == NULL)
    {
      snprintf (err, errsize, "%s", dlerror ());
      return -1;
    }
  if (load_shim (&t, h, "aoti_torch_cuda_mm_out", "aoti_torch_device_type_cuda", err, errsize) < 0)
    return -1;
  return checked_matmul (cpu, &t, c->gpu.name, note, notesize, err, errsize);
}

static void
verdict (struct ctx *c, void *h, struct check *out)
{
  struct torch cpu;
  char err[PCV_DETAIL_MAX] = "", note[200] = "", gpu_note[200] = "";
  if (read_version_py (c, err, sizeof err) == 0)
    version_mismatch (c, err, sizeof err);
  if (err[0])
    check_set (out, ST_FAIL, "%s", err);
  else if (load_shim (&cpu, h, "aoti_torch_cpu_mm_out", "aoti_torch_device_type_cpu", err,
                      sizeof err)
               < 0
           || checked_matmul (&cpu, &cpu, "CPU", note, sizeof note, err, sizeof err) < 0)
    check_set (out, ST_FAIL, "torch %s: %s", c->found.torch, err);
  else if (!c->gpu.have_device || c->gpu.too_old)
    check_set (out, ST_PASS, "torch %s: %s (%s); %s", c->found.torch, note, cpu.mm_name,
               c->gpu.too_old ? "CUDA skipped: driver too old" : "no GPU, CUDA not run");
  else if (on_cuda (c, &cpu, gpu_note, sizeof gpu_note, err, sizeof err) < 0)
    check_set (out, ST_FAIL, "torch %s on CUDA: %s", c->found.torch, err);
  else
    check_set (out, ST_PASS, "torch %s: %s; %s", c->found.torch, note, gpu_note);
}

void
check_libtorch (struct ctx *c, struct check *out)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/libtorch_cpu.so", c->img->torch_lib);
  /* RTLD_GLOBAL: libtorch_cuda.so, loaded later, resolves its symbols against it. */
  void *h = dlopen (path, RTLD_NOW | RTLD_GLOBAL);
  if (h == NULL)
    check_set (out, ST_FAIL, "%s", dlerror ());
  else
    verdict (c, h, out);
}
