/* report.c: the two outputs. The table is for a person; the JSON is the certificate that
   `pcgen certify` keeps per image ID (schema: verify/README.md). Only libc is at hand, so
   the JSON is written by hand: every string goes through json_string(), which escapes what
   RFC 8259 requires and replaces bytes that are not UTF-8, so that a path or a message
   from a library can never break the document. */
#include "report.h"

static const char *const status_upper[] = { "PASS", "FAIL", "SKIP" };
static const char *const status_lower[] = { "pass", "fail", "skip" };

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates), or 0. */
static size_t
utf8_len (const unsigned char *s)
{
  if (s[0] < 0x80)
    return 1;
  size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
  if (n == 0 || s[0] > 0xf4)
    return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80)
      return 0;
  if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)
      || (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
    return 0;
  return n;
}

void
json_string (FILE *f, const char *s)
{
  const unsigned char *p = (const unsigned char *) s;
  fputc ('"', f);
  while (*p)
    {
      size_t n = utf8_len (p);
      if (*p == '"' || *p == '\\')
        fprintf (f, "\\%c", *p);
      else if (*p == '\n')
        fputs ("\\n", f);
      else if (*p == '\t')
        fputs ("\\t", f);
      else if (*p < 0x20 || *p == 0x7f)
        fprintf (f, "\\u%04x", *p);
      else if (n == 0)
        fputs ("\\ufffd", f); /* a byte that is not UTF-8 */
      else
        fwrite (p, 1, n, f);
      p += n ? n : 1;
    }
  fputc ('"', f);
}

/* A string, or null when it is empty. */
static void
json_opt (FILE *f, const char *s)
{
  if (s && s[0])
    json_string (f, s);
  else
    fputs ("null", f);
}

static void
json_member (FILE *f, int *first, const char *name, const char *value)
{
  fprintf (f, "%s\n    ", *first ? "" : ",");
  *first = 0;
  json_string (f, name);
  fputs (": ", f);
  json_opt (f, value);
}

static void
json_image (FILE *f, const struct ctx *c)
{
  const struct image *img = c->img;
  const char *id = getenv ("PYTORCH_CUDA_IMAGE_ID");
  int first = 1;
  fputs ("  \"image\": {", f);
  json_member (f, &first, "tag", img->tag);
  json_member (f, &first, "id", id);
  json_member (f, &first, "flavor", img->flavor);
  json_member (f, &first, "metadata", img->path);
  fputs ("\n  },\n  \"claims\": {", f);
  first = 1;
  json_member (f, &first, "torch", img->torch);
  json_member (f, &first, "cuda", img->cuda);
  json_member (f, &first, "cuda_full", img->cuda_full);
  json_member (f, &first, "cudnn", img->cudnn);
  json_member (f, &first, "cublas", img->cublas);
  json_member (f, &first, "min_driver", img->min_driver);
  json_member (f, &first, "compat_floor", img->compat_floor);
  json_member (f, &first, "archs", img->archs_text);
  json_member (f, &first, "cuda_home", img->cuda_home);
  json_member (f, &first, "torch_lib", img->torch_lib);
  json_member (f, &first, "python", img->python);
  fputs ("\n  },\n", f);
}

static void
json_versions (FILE *f, const struct found *v)
{
  int first = 1;
  fputs ("  \"versions\": {", f);
  json_member (f, &first, "cudart", v->cudart);
  json_member (f, &first, "nvrtc", v->nvrtc);
  json_member (f, &first, "cublas", v->cublas);
  json_member (f, &first, "cudnn", v->cudnn);
  json_member (f, &first, "cudnn_cuda", v->cudnn_cudart);
  json_member (f, &first, "torch", v->torch);
  json_member (f, &first, "torch_cuda", v->torch_cuda);
  json_member (f, &first, "python_torch", v->py_torch);
  json_member (f, &first, "python_torch_cuda", v->py_cuda);
  json_member (f, &first, "python_cudnn", v->py_cudnn);
  fprintf (f, ",\n    \"python_cuda_available\": %s\n  },\n",
           !v->py_cuda_available[0]                     ? "null"
           : strcmp (v->py_cuda_available, "True") == 0 ? "true"
                                                        : "false");
}

static void
json_host (FILE *f, const struct gpu *g)
{
  char cuda[16] = "", cc[16];
  if (g->have_device)
    {
      snprintf (cc, sizeof cc, "%d.%d", g->cc_major, g->cc_minor);
      fputs ("  \"device\": {\"name\": ", f);
      json_string (f, g->name);
      fputs (", \"compute_capability\": ", f);
      json_string (f, cc);
      fputs ("},\n", f);
    }
  else
    fputs ("  \"device\": null,\n", f);
  if (g->libcuda == NULL)
    {
      fputs ("  \"driver\": null,\n", f);
      return;
    }
  if (g->driver_cuda)
    snprintf (cuda, sizeof cuda, "%d.%d", g->driver_cuda / 1000, g->driver_cuda % 1000 / 10);
  fputs ("  \"driver\": {\"version\": ", f);
  json_opt (f, g->driver);
  fputs (", \"cuda\": ", f);
  json_opt (f, cuda);
  fprintf (f, ", \"minor_version_compatibility\": %s},\n", g->minor_compat ? "true" : "false");
}

void
report_json (FILE *f, const struct ctx *c, const struct check *checks, size_t n,
             const struct outcome *o)
{
  fprintf (f, "{\n  \"schema_version\": %d,\n", PCV_SCHEMA);
  fputs ("  \"tool\": {\"name\": \"pytorch-cuda-verify\", \"version\": \"" PCV_VERSION "\"},\n", f);
  json_image (f, c);
  json_versions (f, &c->found);
  fprintf (f, "  \"level\": \"%s\",\n", o->level);
  json_host (f, &c->gpu);
  fputs ("  \"checks\": [", f);
  for (size_t i = 0; i < n; i++)
    {
      fprintf (f, "%s\n    {\"name\": ", i ? "," : "");
      json_string (f, checks[i].name);
      fprintf (f, ", \"status\": \"%s\", \"detail\": ", status_lower[checks[i].status]);
      json_string (f, checks[i].detail);
      fputc ('}', f);
    }
  fprintf (f, "\n  ],\n  \"started\": \"%s\",\n  \"finished\": \"%s\",\n", o->started, o->finished);
  fprintf (f, "  \"result\": \"%s\",\n  \"exit_code\": %d\n}\n", o->result, o->exit_code);
}

void
report_table (FILE *f, const struct ctx *c, const struct check *checks, size_t n,
              const struct outcome *o)
{
  const struct gpu *g = &c->gpu;
  const char *id = getenv ("PYTORCH_CUDA_IMAGE_ID");
  char device[300] = "none", driver[96] = "none";
  int counts[3] = { 0, 0, 0 };
  if (g->have_device)
    snprintf (device, sizeof device, "%s (sm_%d%d)", g->name, g->cc_major, g->cc_minor);
  if (g->driver[0] || g->driver_cuda)
    snprintf (driver, sizeof driver, "%s (CUDA %d.%d)", g->driver[0] ? g->driver : "?",
              g->driver_cuda / 1000, g->driver_cuda % 1000 / 10);
  fprintf (f, "pytorch-cuda-verify %s: %s%s%s\n", PCV_VERSION, c->img->tag, id ? " " : "",
           id ? id : "");
  fprintf (f, "level: %s   device: %s   driver: %s\n\n", o->level, device, driver);
  /* As wide as the longest check name (python-compile) and a space. */
  fprintf (f, "%-15s| %-7s| %s\n", "CHECK", "STATUS", "DETAIL");
  fprintf (f, "---------------+--------+--------------------------------------------------\n");
  for (size_t i = 0; i < n; i++)
    {
      counts[checks[i].status]++;
      fprintf (f, "%-15s| %-7s| %s\n", checks[i].name, status_upper[checks[i].status],
               checks[i].detail);
    }
  fprintf (f, "\nresult: %s (exit %d): %d passed, %d failed, %d skipped\n", o->result, o->exit_code,
           counts[ST_PASS], counts[ST_FAIL], counts[ST_SKIP]);
}
