/* nvrtc.c: the "kernel" check. NVRTC from the image compiles a CUDA C kernel to CUBIN for
   every architecture the image claims (PC_ARCHS), which needs no GPU; with a GPU, the driver
   API loads the kernel built for the device and runs it over 1M fresh random elements, and
   the result must equal the CPU's bit for bit (fused multiply-add is off on both sides, so
   each element is one float multiply and one float add, rounded the same way). */
#include "verify.h"

#include <dlfcn.h>

typedef struct nvrtc_program *nvrtcProgram;
typedef int nvrtcResult;

struct nvrtc
{
  nvrtcResult (*version) (int *, int *);
  nvrtcResult (*num_archs) (int *);
  nvrtcResult (*archs) (int *);
  nvrtcResult (*create) (nvrtcProgram *, const char *, const char *, int, const char *const *,
                         const char *const *);
  nvrtcResult (*compile) (nvrtcProgram, int, const char *const *);
  nvrtcResult (*cubin_size) (nvrtcProgram, size_t *);
  nvrtcResult (*cubin) (nvrtcProgram, char *);
  nvrtcResult (*ptx_size) (nvrtcProgram, size_t *);
  nvrtcResult (*ptx) (nvrtcProgram, char *);
  nvrtcResult (*log_size) (nvrtcProgram, size_t *);
  nvrtcResult (*log) (nvrtcProgram, char *);
  nvrtcResult (*destroy) (nvrtcProgram *);
  const char *(*error) (nvrtcResult);
  int supported[64];
  int nsupported; /* -1: this NVRTC cannot list them (before 11.2) */
};

/* The kernel's parameters are (int n, float a, const float *x, float *y): the fake driver
   in tests/fakes/fake_cuda.c runs the same signature on the CPU. */
static const char kernel_src[]
    = "extern \"C\" __global__ void saxpy (int n, float a, const float *x, float *y)\n"
      "{\n"
      "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
      "  if (i < n)\n"
      "    y[i] = a * x[i] + y[i];\n"
      "}\n";

#define N_ELEMS (1 << 20)

#define SYM(field, name) ((*(void **) &api->field = lib_sym (h, name)) != NULL)

static int
load_api (struct nvrtc *api, void *h, char *err, size_t errsize)
{
  memset (api, 0, sizeof *api);
  if (!SYM (version, "nvrtcVersion") || !SYM (create, "nvrtcCreateProgram")
      || !SYM (compile, "nvrtcCompileProgram") || !SYM (cubin_size, "nvrtcGetCUBINSize")
      || !SYM (cubin, "nvrtcGetCUBIN") || !SYM (ptx_size, "nvrtcGetPTXSize")
      || !SYM (ptx, "nvrtcGetPTX") || !SYM (log_size, "nvrtcGetProgramLogSize")
      || !SYM (log, "nvrtcGetProgramLog") || !SYM (destroy, "nvrtcDestroyProgram")
      || !SYM (error, "nvrtcGetErrorString"))
    {
      snprintf (err, errsize, "%s lacks an NVRTC entry point (nvrtcGetCUBIN needs CUDA 11.1+)",
                lib_path (h));
      return -1;
    }
  api->nsupported = -1;
  int n = 0;
  if (SYM (num_archs, "nvrtcGetNumSupportedArchs") && SYM (archs, "nvrtcGetSupportedArchs")
      && api->num_archs (&n) == 0 && n > 0 && n <= (int) ARRAY_SIZE (api->supported)
      && api->archs (api->supported) == 0)
    api->nsupported = n;
  return 0;
}

static int
nvrtc_supports (const struct nvrtc *api, int sm)
{
  if (api->nsupported < 0)
    return 1; /* cannot tell: let the compiler answer */
  for (int i = 0; i < api->nsupported; i++)
    if (api->supported[i] == sm)
      return 1;
  return 0;
}

/* The first line of the program's log, for a failed compile. */
static void
first_log_line (const struct nvrtc *api, nvrtcProgram p, char *err, size_t errsize)
{
  size_t n = 0;
  char line[256] = "";
  if (api->log_size (p, &n) == 0 && n > 1)
    {
      char *log = malloc (n);
      if (log && api->log (p, log) == 0)
        snprintf (line, sizeof line, "%.*s", (int) strcspn (log, "\n"), log);
      free (log);
    }
  size_t len = strlen (err);
  if (line[0] && len < errsize)
    snprintf (err + len, errsize - len, ": %s", line);
}

/* Compile the kernel for TARGET ("sm_86" gives CUBIN, "compute_120" gives PTX). Returns a
   malloc'ed image, or NULL with the reason in err. */
static char *
compile (const struct nvrtc *api, const char *target, size_t *size, char *err, size_t errsize)
{
  nvrtcProgram p = NULL;
  char arch[48];
  int want_ptx = strncmp (target, "compute_", 8) == 0;
  snprintf (arch, sizeof arch, "--gpu-architecture=%s", target);
  const char *opts[] = { arch, "--fmad=false" };
  nvrtcResult r = api->create (&p, kernel_src, "saxpy.cu", 0, NULL, NULL);
  if (r != 0)
    {
      snprintf (err, errsize, "nvrtcCreateProgram: %s", api->error (r));
      return NULL;
    }
  char *image = NULL;
  r = api->compile (p, 2, opts);
  if (r != 0)
    {
      snprintf (err, errsize, "nvrtcCompileProgram for %s: %s", target, api->error (r));
      first_log_line (api, p, err, errsize);
    }
  else if ((r = (want_ptx ? api->ptx_size : api->cubin_size) (p, size)) != 0 || *size < 16)
    snprintf (err, errsize, "nvrtcGet%sSize for %s: %s", want_ptx ? "PTX" : "CUBIN", target,
              r ? api->error (r) : "empty");
  else if ((image = malloc (*size)) == NULL)
    snprintf (err, errsize, "out of memory");
  else if ((r = (want_ptx ? api->ptx : api->cubin) (p, image)) != 0
           || (!want_ptx && memcmp (image, "\177ELF", 4) != 0))
    {
      snprintf (err, errsize, "nvrtcGet%s for %s: %s", want_ptx ? "PTX" : "CUBIN", target,
                r ? api->error (r) : "not an ELF image");
      free (image);
      image = NULL;
    }
  api->destroy (&p);
  return image;
}

/* "a" for sm_90a-style architecture-specific code, "f" for family code, else "". */
static const char *
suffix (const struct arch *a)
{
  return a->suffix == 'a' ? "a" : a->suffix == 'f' ? "f" : "";
}

static void
arch_name (const struct arch *a, char *buf, size_t size)
{
  snprintf (buf, size, "sm_%d%s%s", a->sm, suffix (a), a->ptx ? "+PTX" : "");
}

/* Compile for each claimed architecture; names into done, or -1 with the failure in err. */
static int
compile_claimed (const struct ctx *c, const struct nvrtc *api, char *done, size_t donesize,
                 char *err, size_t errsize)
{
  const struct image *img = c->img;
  size_t used = 0;
  done[0] = '\0';
  for (size_t i = 0; i < img->narchs; i++)
    {
      const struct arch *a = &img->archs[i];
      char name[32], target[32];
      size_t size;
      arch_name (a, name, sizeof name);
      if (!nvrtc_supports (api, a->sm))
        {
          snprintf (err, errsize,
                    "nvrtc %s cannot target %s, which PC_ARCHS claims (it targets "
                    "sm_%d..sm_%d)",
                    c->found.nvrtc, name, api->supported[0], api->supported[api->nsupported - 1]);
          return -1;
        }
      snprintf (target, sizeof target, "sm_%d%s", a->sm, suffix (a));
      char *image = compile (api, target, &size, err, errsize);
      free (image);
      if (image == NULL)
        return -1;
      snprintf (target, sizeof target, "compute_%d", a->sm);
      if (a->ptx && (image = compile (api, target, &size, err, errsize)) == NULL)
        return -1;
      if (a->ptx)
        free (image);
      if (used < donesize)
        used += (size_t) snprintf (done + used, donesize - used, "%s%s", used ? " " : "", name);
    }
  return 0;
}

/* ---- with a GPU ---- */

typedef int (*fn_load) (void **, const void *);
typedef int (*fn_getfn) (void **, void *, const char *);
typedef int (*fn_launch) (void *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                          unsigned, void *, void **, void **);
typedef int (*fn_unload) (void *);

/* Does PC_ARCHS hold code that runs on the device? SASS runs on its own major at an equal
   or higher minor ('a' variants only on their exact device); PTX is JIT-compiled for any
   newer device, but not by a driver in minor-version compatibility. */
static int
covers (const struct ctx *c, int dev_sm)
{
  const struct image *img = c->img;
  for (size_t i = 0; i < img->narchs; i++)
    {
      const struct arch *a = &img->archs[i];
      if (a->suffix == 'a' ? a->sm == dev_sm
                           : a->sm / 10 == dev_sm / 10 && a->sm % 10 <= dev_sm % 10)
        return 1;
      if (a->ptx && a->sm <= dev_sm && !c->gpu.minor_compat)
        return 1;
    }
  return 0;
}

/* The first CUDA release that can build for an architecture (CUDA release notes), for the
   remedy when the image's torch has no code for the device. */
static const char *
first_cuda_for (int sm)
{
  if (sm == 110)
    return "13.0";
  if (sm == 103 || sm == 121)
    return "12.9";
  if (sm >= 100)
    return "12.8";
  return "11.8";
}

/* Build the kernel for the device: its own CUBIN when NVRTC knows the architecture, else PTX
   of the newest architecture below it for the driver to JIT. */
static char *
build_for_device (struct ctx *c, const struct nvrtc *api, int dev_sm, char *how, size_t howsize,
                  char *err, size_t errsize)
{
  char target[32];
  size_t size;
  int best = 0;
  if (nvrtc_supports (api, dev_sm))
    {
      snprintf (target, sizeof target, "sm_%d", dev_sm);
      snprintf (how, howsize, "CUBIN sm_%d", dev_sm);
      return compile (api, target, &size, err, errsize);
    }
  for (int i = 0; i < api->nsupported; i++)
    if (api->supported[i] <= dev_sm && api->supported[i] > best)
      best = api->supported[i];
  if (best == 0 || c->gpu.minor_compat)
    {
      snprintf (err, errsize, "nvrtc %s cannot build for sm_%d%s", c->found.nvrtc, dev_sm,
                best ? " and PTX JIT is unavailable under minor-version compatibility" : "");
      return NULL;
    }
  snprintf (target, sizeof target, "compute_%d", best);
  snprintf (how, howsize, "PTX compute_%d JIT", best);
  return compile (api, target, &size, err, errsize);
}

/* Launch saxpy over x, y already on the device. */
static int
launch (struct ctx *c, void *fn, float a, pcv_devptr dx, pcv_devptr dy, char *err, size_t errsize)
{
  struct gpu *g = &c->gpu;
  fn_launch go = (fn_launch) gpu_sym (g, "cuLaunchKernel");
  int n = N_ELEMS, r;
  void *args[] = { &n, &a, &dx, &dy };
  char msg[160];
  if (go == NULL)
    {
      snprintf (err, errsize, "libcuda.so.1 lacks cuLaunchKernel");
      return -1;
    }
  r = go (fn, (N_ELEMS + 255) / 256, 1, 1, 256, 1, 1, 0, NULL, args, NULL);
  if (r != 0)
    {
      snprintf (err, errsize, "cuLaunchKernel: %s", gpu_strerror (g, r, msg, sizeof msg));
      return -1;
    }
  return gpu_sync (g, err, errsize);
}

/* Run the module's saxpy on random data and compare with the CPU. */
static int
run_and_compare (struct ctx *c, void *fn, char *note, size_t notesize, char *err, size_t errsize)
{
  struct gpu *g = &c->gpu;
  size_t bytes = sizeof (float) * N_ELEMS;
  float *x = malloc (bytes), *y = malloc (bytes), *got = malloc (bytes), a = 1;
  pcv_devptr dx = 0, dy = 0;
  int rc = -1;
  if (!x || !y || !got)
    snprintf (err, errsize, "out of memory");
  else
    {
      rng_fill (x, N_ELEMS);
      rng_fill (y, N_ELEMS);
      rng_fill (&a, 1);
      rc = 0;
    }
  if (rc == 0
      && (gpu_alloc (g, &dx, bytes, err, errsize) < 0 || gpu_alloc (g, &dy, bytes, err, errsize) < 0
          || gpu_upload (g, dx, x, bytes, err, errsize) < 0
          || gpu_upload (g, dy, y, bytes, err, errsize) < 0
          || launch (c, fn, a, dx, dy, err, errsize) < 0
          || gpu_download (g, got, dy, bytes, err, errsize) < 0))
    rc = -1;
  for (size_t i = 0; rc == 0 && i < N_ELEMS; i++)
    {
      float p = a * x[i];
      float want = p + y[i];
      if (memcmp (&want, &got[i], sizeof want) != 0)
        {
          snprintf (err, errsize,
                    "y[%zu] = %.9g on the GPU, %.9g on the CPU (a=%.9g x=%.9g "
                    "y=%.9g, seed %#llx)",
                    i, (double) got[i], (double) want, (double) a, (double) x[i], (double) y[i],
                    (unsigned long long) rng_seed_value ());
          rc = -1;
        }
    }
  if (rc == 0)
    snprintf (note, notesize, "%d elements equal the CPU's exactly (seed %#llx)", N_ELEMS,
              (unsigned long long) rng_seed_value ());
  gpu_free (g, dx);
  gpu_free (g, dy);
  free (x);
  free (y);
  free (got);
  return rc;
}

static int
run_on_device (struct ctx *c, const struct nvrtc *api, char *note, size_t notesize, char *err,
               size_t errsize)
{
  struct gpu *g = &c->gpu;
  int dev_sm = g->cc_major * 10 + g->cc_minor, r;
  char how[48], msg[160], res[PCV_DETAIL_MAX];
  fn_load load = (fn_load) gpu_sym (g, "cuModuleLoadData");
  fn_getfn getfn = (fn_getfn) gpu_sym (g, "cuModuleGetFunction");
  fn_unload unload = (fn_unload) gpu_sym (g, "cuModuleUnload");
  void *mod = NULL, *fn = NULL;
  if (!covers (c, dev_sm))
    {
      snprintf (err, errsize,
                "no kernel image for sm_%d in PC_ARCHS %s (\"no kernel image is "
                "available\"): use a tag whose CUDA targets sm_%d (%s or newer)",
                dev_sm, c->img->archs_text, dev_sm, first_cuda_for (dev_sm));
      return -1;
    }
  if (!load || !getfn || !unload)
    {
      snprintf (err, errsize, "libcuda.so.1 lacks cuModuleLoadData/GetFunction/Unload");
      return -1;
    }
  char *image = build_for_device (c, api, dev_sm, how, sizeof how, err, errsize);
  if (image == NULL || gpu_context (g, err, errsize) < 0)
    {
      free (image);
      return -1;
    }
  r = load (&mod, image);
  free (image);
  if (r != 0)
    {
      snprintf (err, errsize, "cuModuleLoadData (%s): %s", how,
                gpu_strerror (g, r, msg, sizeof msg));
      return -1;
    }
  if ((r = getfn (&fn, mod, "saxpy")) != 0)
    snprintf (err, errsize, "cuModuleGetFunction: %s", gpu_strerror (g, r, msg, sizeof msg));
  else if (run_and_compare (c, fn, res, sizeof res, err, errsize) == 0)
    snprintf (note, notesize, "%s on %s: %s", how, g->name, res);
  if ((r = unload (mod)) != 0 && err[0] == '\0')
    snprintf (err, errsize, "cuModuleUnload: %s", gpu_strerror (g, r, msg, sizeof msg));
  return err[0] ? -1 : 0;
}

/* NVRTC dlopens libnvrtc-builtins.so.MAJOR.MINOR by soname when it compiles. When NVRTC
   itself was found only in PC_CUDA_HOME (not on the loader path), load the builtins from
   beside it first; a loaded library answers to its soname. Where the loader finds them
   anyway, this changes nothing; where neither does, NVRTC's own error says so. */
static void
preload_builtins (void *h, int major, int minor)
{
  char name[64], path[4096];
  const char *nvrtc = lib_path (h), *slash = strrchr (nvrtc, '/');
  snprintf (name, sizeof name, "libnvrtc-builtins.so.%d.%d", major, minor);
  if (dlopen (name, RTLD_NOW | RTLD_LOCAL) != NULL || slash == NULL)
    return;
  if ((size_t) snprintf (path, sizeof path, "%.*s/%s", (int) (slash - nvrtc), nvrtc, name)
      < sizeof path)
    dlopen (path, RTLD_NOW | RTLD_LOCAL);
}

/* The verdict once NVRTC has loaded and told its version. */
static void
verdict (struct ctx *c, const struct nvrtc *api, void *h, struct check *out)
{
  const struct image *img = c->img;
  char err[PCV_DETAIL_MAX] = "", done[256], note[PCV_DETAIL_MAX] = "";
  int major = 0, minor = 0;
  sscanf (c->found.nvrtc, "%d.%d", &major, &minor);
  if (major != img->cuda_major || minor != img->cuda_minor)
    check_set (out, ST_FAIL, "nvrtc %s at %s, but the image claims CUDA %s", c->found.nvrtc,
               lib_path (h), img->cuda);
  else if (compile_claimed (c, api, done, sizeof done, err, sizeof err) < 0)
    check_set (out, ST_FAIL, "%s", err);
  else if (!c->gpu.have_device)
    check_set (out, ST_PASS, "nvrtc %s: CUBIN for %s; no GPU, launch not run", c->found.nvrtc,
               done);
  else if (c->gpu.too_old)
    check_set (out, ST_PASS, "nvrtc %s: CUBIN for %s; launch skipped: driver too old",
               c->found.nvrtc, done);
  else if (run_on_device (c, api, note, sizeof note, err, sizeof err) < 0)
    check_set (out, ST_FAIL, "%s", err);
  else
    check_set (out, ST_PASS, "nvrtc %s: CUBIN for %s; %s", c->found.nvrtc, done, note);
}

void
check_kernel (struct ctx *c, struct check *out)
{
  const struct image *img = c->img;
  const char *soname = sonames_for (img->cuda_major)->nvrtc;
  char err[PCV_DETAIL_MAX] = "";
  struct nvrtc api;
  int major = 0, minor = 0, r = 0;
  void *h = lib_open (soname, img->cuda_home, RTLD_LOCAL, err, sizeof err);
  if (h == NULL || load_api (&api, h, err, sizeof err) < 0)
    check_set (out, ST_FAIL, "%s", err);
  else if ((r = api.version (&major, &minor)) != 0)
    check_set (out, ST_FAIL, "nvrtcVersion: %s", api.error (r));
  else
    {
      snprintf (c->found.nvrtc, sizeof c->found.nvrtc, "%d.%d", major, minor);
      preload_builtins (h, major, minor);
      verdict (c, &api, h, out);
    }
}
