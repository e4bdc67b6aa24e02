/* hostinfo.h: what this host's NVIDIA driver says about itself, for `pcgen compat`.
   The driver libraries are dlopened, never linked, so pcgen runs (and says "no driver") on a
   host without them:
     driver version  libnvidia-ml.so.1 nvmlSystemGetDriverVersion, else /proc/driver/nvidia/version
     GPUs            libcuda.so.1 cuDeviceGetName and the compute capability attributes
   PCGEN_TEST_NVIDIA_PROC names another file to read instead of /proc/driver/nvidia/version
   (tests use it with the fake libraries of tests/fakes/). */
#ifndef PCGEN_HOSTINFO_H
#define PCGEN_HOSTINFO_H

#include <stddef.h>

#include "strbuf.h"

struct host_gpu
{
  char *name; /* "NVIDIA H100 80GB HBM3" */
  int cc;     /* 90 */
};

struct hostinfo
{
  char *driver;          /* "550.54.14"; NULL when no driver was found */
  const char *driver_from; /* "NVML" or the path of the proc file; NULL with driver */
  int cuda_version;      /* cuDriverGetVersion: 12040 for CUDA 12.4; 0 when unknown */
  struct host_gpu *gpus;
  size_t ngpus;
  /* Why nothing was found: "libnvidia-ml.so.1: cannot open shared object file: ...". */
  struct strbuf driver_notes, gpu_notes;
};
#define HOSTINFO_INIT { NULL, NULL, 0, NULL, 0, STRBUF_INIT, STRBUF_INIT }

/* Find the driver version (NVML, else the proc file). Returns 0, or -1 with h->driver_notes
   saying where it looked. */
int hostinfo_detect_driver (struct hostinfo *h);
/* List the GPUs through libcuda. Returns their count (0 with h->gpu_notes saying why). */
size_t hostinfo_detect_gpus (struct hostinfo *h);
void hostinfo_release (struct hostinfo *h);

/* The version in the text of /proc/driver/nvidia/version ("NVRM version: NVIDIA UNIX x86_64
   Kernel Module  550.54.14  Thu Feb 22 ..."), as a new string; NULL when there is none. */
char *hostinfo_parse_proc_version (const char *text);
/* s is a driver version: digits and dots, like 535.104.05 or 570.26. */
int hostinfo_is_driver_version (const char *s);

#endif
