/* driver.c: is the host's driver new enough for this image's CUDA? The image states the
   minimum driver of its CUDA (PC_MIN_DRIVER) and the floor of minor-version compatibility
   (PC_COMPAT_FLOOR); those decide. The table below only serves the remedy: which older tag
   would run on this host. */
#include "verify.h"

struct cuda_driver
{
  const char *cuda, *min, *floor;
};

/* Minimum Linux driver of each CUDA GA release: CUDA Toolkit release notes, table "CUDA
   Toolkit and Corresponding Driver Versions"; floors from the table of minor-version
   compatibility (11.x: >= 450.80.02, 12.x: >= 525.60.13, 13.x: >= 580). Only CUDA versions
   the PyTorch images are published for. */
static const struct cuda_driver cuda_drivers[] = {
  { "11.8", "520.61.05", "450.80.02" }, { "12.1", "530.30.02", "525.60.13" },
  { "12.4", "550.54.14", "525.60.13" }, { "12.6", "560.28.03", "525.60.13" },
  { "12.8", "570.26", "525.60.13" },    { "13.0", "580.65.06", "580" },
};

/* The remedy for a driver older than this image's CUDA can use. */
static void
remedy (const char *driver, char *buf, size_t size)
{
  const char *full = NULL, *compat = NULL;
  for (size_t i = 0; driver[0] && i < ARRAY_SIZE (cuda_drivers); i++)
    {
      if (version_cmp (driver, cuda_drivers[i].min) >= 0)
        full = cuda_drivers[i].cuda;
      if (version_cmp (driver, cuda_drivers[i].floor) >= 0)
        compat = cuda_drivers[i].cuda;
    }
  if (full)
    snprintf (buf, size, "upgrade the driver, or use a -cuda%s tag", full);
  else if (compat)
    snprintf (buf, size, "upgrade the driver, or use a -cuda%s tag (minor-version compatibility)",
              compat);
  else
    snprintf (buf, size, "upgrade the driver");
}

/* "550.54.14 (CUDA 12.4)", from what NVML and cuDriverGetVersion said. */
static const char *
describe (const struct gpu *g, char *buf, size_t size)
{
  int dc = g->driver_cuda;
  if (g->driver[0] && dc)
    snprintf (buf, size, "driver %s (CUDA %d.%d)", g->driver, dc / 1000, dc % 1000 / 10);
  else if (g->driver[0])
    snprintf (buf, size, "driver %s", g->driver);
  else
    snprintf (buf, size, "driver for CUDA %d.%d (no version string from NVML)", dc / 1000,
              dc % 1000 / 10);
  return buf;
}

static const char *
device_note (const struct gpu *g, char *buf, size_t size)
{
  if (g->have_device)
    snprintf (buf, size, "%s, sm_%d%d", g->name, g->cc_major, g->cc_minor);
  else
    snprintf (buf, size, "no usable device (%s)", g->init_msg);
  return buf;
}

/* The verdict for a driver whose versions are known; sets too_old and minor_compat. */
static void
verdict (struct ctx *c, struct check *out)
{
  struct gpu *g = &c->gpu;
  const struct image *img = c->img;
  char who[128], dev[320], fix[128];
  int image_cuda = img->cuda_major * 1000 + img->cuda_minor * 10;
  describe (g, who, sizeof who);
  device_note (g, dev, sizeof dev);
  g->too_old = (g->driver[0] && version_cmp (g->driver, img->compat_floor) < 0)
               || (g->driver_cuda && g->driver_cuda / 1000 < img->cuda_major);
  g->minor_compat = !g->too_old
                    && ((g->driver[0] && version_cmp (g->driver, img->min_driver) < 0)
                        || (g->driver_cuda && g->driver_cuda < image_cuda));
  if (g->too_old)
    {
      remedy (g->driver, fix, sizeof fix);
      check_set (out, ST_FAIL, "%s is older than %s, which CUDA %s needs: %s", who, img->min_driver,
                 img->cuda, fix);
    }
  else if (!g->have_device && c->opt.require_gpu)
    check_set (out, ST_FAIL, "%s; %s but --require-gpu: run the container with --gpus all", who,
               dev);
  else if (g->minor_compat)
    check_set (out, ST_PASS,
               "%s is older than %s for CUDA %s: minor-version compatibility (>= %s), "
               "PTX JIT unavailable; %s",
               who, img->min_driver, img->cuda, img->compat_floor, dev);
  else
    check_set (out, ST_PASS, "%s >= %s for CUDA %s; %s", who, img->min_driver, img->cuda, dev);
}

void
check_driver (struct ctx *c, struct check *out)
{
  struct gpu *g = &c->gpu;
  if (g->libcuda == NULL && c->opt.require_gpu)
    check_set (out, ST_FAIL,
               "no driver (no libcuda.so.1) but --require-gpu: run the container "
               "with the NVIDIA container toolkit (docker run --gpus all)");
  else if (g->libcuda == NULL)
    check_set (out, ST_SKIP, "no driver (static certification)");
  else if (!g->driver[0] && !g->driver_cuda)
    check_set (out, ST_FAIL, "libcuda.so.1 loads but reports no version");
  else
    verdict (c, out);
}
