/* hostinfo.c: see hostinfo.h. No CUDA headers: the few prototypes used are declared here,
   with the types the driver API documents (CUresult and CUdevice are int). */
#include "hostinfo.h"
#include "util.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

typedef int (*nvml_init_fn) (void);
typedef int (*nvml_shutdown_fn) (void);
typedef int (*nvml_driver_version_fn) (char *version, unsigned int length);

typedef int (*cu_init_fn) (unsigned int flags);
typedef int (*cu_driver_version_fn) (int *version);
typedef int (*cu_device_count_fn) (int *count);
typedef int (*cu_device_get_fn) (int *device, int ordinal);
typedef int (*cu_device_name_fn) (char *name, int len, int device);
typedef int (*cu_device_attribute_fn) (int *value, int attribute, int device);
typedef int (*cu_error_string_fn) (int error, const char **text);

enum
{
  CU_ATTR_CC_MAJOR = 75, /* CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR */
  CU_ATTR_CC_MINOR = 76, /* CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR */
  NVML_DRIVER_VERSION_SIZE = 80, /* NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE */
};

#define PROC_VERSION "/proc/driver/nvidia/version"

int
hostinfo_is_driver_version (const char *s)
{
  size_t len = strlen (s);
  if (len == 0 || len > 31 || !isdigit ((unsigned char) s[0]) || !isdigit ((unsigned char) s[len - 1]))
    return 0;
  for (size_t i = 0; i < len; i++)
    if (!isdigit ((unsigned char) s[i]) && !(s[i] == '.' && isdigit ((unsigned char) s[i + 1])))
      return 0;
  return 1;
}

static void note (struct strbuf *notes, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Record where detection looked and what it found there, for the messages that say why
   nothing was found. */
static void
note (struct strbuf *notes, const char *fmt, ...)
{
  va_list ap;
  if (notes->len)
    strbuf_addstr (notes, "; ");
  va_start (ap, fmt);
  strbuf_vaddf (notes, fmt, ap);
  va_end (ap);
}

/* dlerror's text already names the library ("libcuda.so.1: cannot open shared object file"). */
static const char *
dl_error (const char *lib)
{
  const char *e = dlerror ();
  return e ? e : lib;
}

/* dlsym returns void *; the driver's symbols are functions (POSIX allows the conversion). */
static void *
sym (void *lib, const char *name)
{
  return dlsym (lib, name);
}

static char *
driver_from_nvml (struct hostinfo *h)
{
  void *lib = dlopen ("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL)
    {
      note (&h->driver_notes, "%s", dl_error ("libnvidia-ml.so.1"));
      return NULL;
    }
  nvml_init_fn init = (nvml_init_fn) sym (lib, "nvmlInit_v2");
  if (init == NULL)
    init = (nvml_init_fn) sym (lib, "nvmlInit");
  nvml_shutdown_fn fini = (nvml_shutdown_fn) sym (lib, "nvmlShutdown");
  nvml_driver_version_fn get = (nvml_driver_version_fn) sym (lib, "nvmlSystemGetDriverVersion");
  char buf[NVML_DRIVER_VERSION_SIZE] = "";
  char *version = NULL;
  if (init == NULL || get == NULL)
    note (&h->driver_notes, "libnvidia-ml.so.1: no nvmlInit or nvmlSystemGetDriverVersion");
  else if (init () != 0)
    note (&h->driver_notes, "libnvidia-ml.so.1: nvmlInit failed (no driver loaded?)");
  else
    {
      int rc = get (buf, sizeof buf);
      buf[sizeof buf - 1] = '\0';
      if (rc == 0 && hostinfo_is_driver_version (buf))
        version = xstrdup (buf);
      else
        note (&h->driver_notes, "libnvidia-ml.so.1: no driver version in '%s'", buf);
      if (fini)
        fini ();
    }
  dlclose (lib);
  return version;
}

char *
hostinfo_parse_proc_version (const char *text)
{
  const char *line = strstr (text, "NVRM version:");
  if (line == NULL)
    return NULL;
  const char *p = line + strlen ("NVRM version:");
  const char *end = p + strcspn (p, "\n");
  /* The version is the first word of the line made of digits and dots: "x86_64" is not. */
  while (p < end)
    {
      p += strspn (p, " \t");
      size_t len = strcspn (p, " \t\n");
      if (len > 0 && len < 32)
        {
          cleanup_free char *word = xstrndup (p, len);
          if (strchr (word, '.') && hostinfo_is_driver_version (word))
            return xstrdup (word);
        }
      p += len;
    }
  return NULL;
}

static char *
driver_from_proc (struct hostinfo *h, const char **from)
{
  const char *path = getenv ("PCGEN_TEST_NVIDIA_PROC");
  if (path == NULL || *path == '\0')
    path = PROC_VERSION;
  struct strbuf text = STRBUF_INIT;
  char *version = NULL;
  if (strbuf_read_file (&text, path, 1u << 16) < 0)
    note (&h->driver_notes, "%s: %s", path, strerror (errno));
  else if ((version = hostinfo_parse_proc_version (text.buf)) == NULL)
    note (&h->driver_notes, "%s: no 'NVRM version' line with a version", path);
  strbuf_release (&text);
  *from = path; /* a literal or the environment's: both outlive h */
  return version;
}

int
hostinfo_detect_driver (struct hostinfo *h)
{
  h->driver = driver_from_nvml (h);
  if (h->driver)
    {
      h->driver_from = "NVML";
      return 0;
    }
  h->driver = driver_from_proc (h, &h->driver_from);
  if (h->driver == NULL)
    h->driver_from = NULL;
  return h->driver ? 0 : -1;
}

static void
cu_note (struct hostinfo *h, void *lib, const char *call, int rc)
{
  cu_error_string_fn str = (cu_error_string_fn) sym (lib, "cuGetErrorString");
  const char *text = NULL;
  if (str == NULL || str (rc, &text) != 0 || text == NULL)
    text = "unknown error";
  note (&h->gpu_notes, "libcuda.so.1: %s returned %d (%s)", call, rc, text);
}

static void
list_devices (struct hostinfo *h, void *lib)
{
  cu_device_count_fn count = (cu_device_count_fn) sym (lib, "cuDeviceGetCount");
  cu_device_get_fn get = (cu_device_get_fn) sym (lib, "cuDeviceGet");
  cu_device_name_fn name = (cu_device_name_fn) sym (lib, "cuDeviceGetName");
  cu_device_attribute_fn attr = (cu_device_attribute_fn) sym (lib, "cuDeviceGetAttribute");
  int n = 0, rc;
  if (!count || !get || !name || !attr)
    {
      note (&h->gpu_notes, "libcuda.so.1: a device query function is missing");
      return;
    }
  if ((rc = count (&n)) != 0)
    {
      cu_note (h, lib, "cuDeviceGetCount", rc);
      return;
    }
  h->gpus = xcalloc ((size_t) n + 1, sizeof *h->gpus);
  for (int i = 0; i < n; i++)
    {
      int dev, major = 0, minor = 0;
      char buf[256] = "";
      if ((rc = get (&dev, i)) != 0 || (rc = name (buf, (int) sizeof buf, dev)) != 0
          || (rc = attr (&major, CU_ATTR_CC_MAJOR, dev)) != 0
          || (rc = attr (&minor, CU_ATTR_CC_MINOR, dev)) != 0)
        {
          cu_note (h, lib, "a device query", rc);
          continue;
        }
      buf[sizeof buf - 1] = '\0';
      h->gpus[h->ngpus].name = xstrdup (buf);
      h->gpus[h->ngpus].cc = major * 10 + minor;
      h->ngpus++;
    }
}

size_t
hostinfo_detect_gpus (struct hostinfo *h)
{
  /* Not closed: a libcuda that has run cuInit keeps threads and state until the process ends. */
  void *lib = dlopen ("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL)
    {
      note (&h->gpu_notes, "%s", dl_error ("libcuda.so.1"));
      return 0;
    }
  cu_init_fn init = (cu_init_fn) sym (lib, "cuInit");
  cu_driver_version_fn version = (cu_driver_version_fn) sym (lib, "cuDriverGetVersion");
  int v = 0, rc;
  if (version && version (&v) == 0)
    h->cuda_version = v;
  if (init == NULL)
    note (&h->gpu_notes, "libcuda.so.1: no cuInit");
  else if ((rc = init (0)) != 0)
    cu_note (h, lib, "cuInit", rc);
  else
    list_devices (h, lib);
  return h->ngpus;
}

void
hostinfo_release (struct hostinfo *h)
{
  free (h->driver);
  for (size_t i = 0; i < h->ngpus; i++)
    free (h->gpus[i].name);
  free (h->gpus);
  strbuf_release (&h->driver_notes);
  strbuf_release (&h->gpu_notes);
  h->driver = NULL;
  h->gpus = NULL;
  h->ngpus = 0;
}
