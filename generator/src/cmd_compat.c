/* cmd_compat.c: `pcgen compat [--driver VERSION] [--gpu G]... [--json] [--matrix FILE] [TAG...]`:
   which tags of the plan run on this host (or on the host the flags describe), and why not. */
#include "cmd.h"
#include "compat.h"
#include "exitcode.h"
#include "hostinfo.h"
#include "project.h"
#include "strbuf.h"
#include "util.h"

#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char compat_usage[]
    = "usage: pcgen compat [--driver VERSION] [--gpu GPU]... [--json] [--matrix FILE] [TAG...]\n"
      "Say which tags of the plan run on this host, and why the others do not.\n"
      "Without --driver, the driver version is read from libnvidia-ml.so.1 (else\n"
      "/proc/driver/nvidia/version) and, without --gpu, the GPUs from libcuda.so.1.\n"
      "  --driver VERSION  judge for this Linux driver (like 535.104.05) instead of this host's\n"
      "  --gpu GPU         judge for this GPU: a name as nvidia-smi or torch print it\n"
      "                    ('NVIDIA H100 80GB HBM3', 'Tesla T4') or short (H100, RTX 4090),\n"
      "                    or a compute capability: X.Y (nvidia-smi's compute_cap), sm_XY or XY;\n"
      "                    repeat it for a host with several\n"
      "  --json            the verdicts as JSON (schema: docs/compat.md)\n"
      "  --matrix FILE     the matrix to expand (default matrix.yaml)\n"
      "  TAG               tag names, aliases or globs (default: every tag of the plan)\n"
      "verdicts: runs, runs-minor-compat, driver-too-old, arch-not-built, arch-dropped,\n"
      "          arch-unknown, wrong-platform\n"
      "exit: 0 a requested tag runs, 1 invalid matrix, 2 usage, 3 no driver found or\n"
      "      cannot read the matrix, 5 no requested tag runs\n";

struct compat_opts
{
  const char *driver;
  const char **gpus; /* as given */
  size_t ngpus;
  int json;
  const char *matrix;
  char **patterns;
  size_t npatterns;
};

static int
parse_options (int argc, char **argv, struct compat_opts *o)
{
  static const struct option opts[] = { { "driver", required_argument, NULL, 'd' },
                                        { "gpu", required_argument, NULL, 'g' },
                                        { "json", no_argument, NULL, 'j' },
                                        { "matrix", required_argument, NULL, 'm' },
                                        { "help", no_argument, NULL, 'h' },
                                        { 0 } };
  int c;
  optind = 1;
  o->gpus = xcalloc ((size_t) argc + 1, sizeof *o->gpus);
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'd':
        o->driver = optarg;
        break;
      case 'g':
        o->gpus[o->ngpus++] = optarg;
        break;
      case 'j':
        o->json = 1;
        break;
      case 'm':
        o->matrix = optarg;
        break;
      case 'h':
        fputs (compat_usage, stdout);
        return EXIT_OK;
      default:
        fputs (compat_usage, stderr);
        return EXIT_USAGE;
      }
  o->patterns = argv + optind;
  o->npatterns = (size_t) (argc - optind);
  if (o->driver && !hostinfo_is_driver_version (o->driver))
    {
      error ("--driver '%s' is not a driver version (digits and dots, like 535.104.05)", o->driver);
      return EXIT_USAGE;
    }
  size_t n;
  const char *big = o->driver ? version_too_big (o->driver, &n) : NULL;
  if (big)
    {
      error ("--driver '%s' has the number %.*s, larger than %lu: not a driver version (digits and dots, like 535.104.05)",
             o->driver, (int) n, big, VERSION_COMPONENT_MAX);
      return EXIT_USAGE;
    }
  return -1; /* go on */
}

/* The nearest known names, as a suggestion only: GPU names one digit apart are different GPUs
   (RTX 4080 is not RTX 2080), so nothing is picked for the user. */
static void
unknown_gpu (const struct kb *kb, const char *asked)
{
  error ("unknown GPU '%s': give a name the knowledge base knows (as nvidia-smi or "
         "torch.cuda.get_device_name() print it, or short: H100, RTX 4090), or a compute capability as "
         "X.Y, sm_XY or XY (like 8.9, sm_89 or 89)", asked);
  const struct kb_gpu *near[5];
  size_t n = kb_gpu_nearest (kb, asked, near, ARRAY_SIZE (near));
  if (n > 0)
    {
      fputs ("did you mean: ", stderr);
      for (size_t i = 0; i < n; i++)
        fprintf (stderr, "%s%s (sm_%d)", i ? ", " : "", near[i]->name, near[i]->cc);
      fputs ("?\n", stderr);
    }
  fprintf (stderr, "hint: nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader prints both; "
                   "the %zu known names are in %s/gpus.yaml\n", kb->ngpus, kb->dir);
}

static struct compat_gpu
gpu_of (const struct kb_gpu *g, const char *name, int cc)
{
  return (struct compat_gpu) { .name = name, .cc = cc, .platform = g ? g->platform : NULL };
}

/* --gpu values into capabilities: a knowledge-base name first, then a capability. */
static int
resolve_gpus (const struct kb *kb, const struct compat_opts *o, struct compat_gpu *out)
{
  for (size_t i = 0; i < o->ngpus; i++)
    {
      const struct kb_gpu *g = kb_gpu_find (kb, o->gpus[i]);
      int cc = g ? g->cc : kb_parse_cc (o->gpus[i]);
      if (cc < 0)
        {
          unknown_gpu (kb, o->gpus[i]);
          return EXIT_USAGE;
        }
      out[i] = gpu_of (g, g ? g->name : NULL, cc);
    }
  return EXIT_OK;
}

/* The host: the flags' description, or what the driver says. */
static int
describe_host (const struct kb *kb, const struct compat_opts *o, struct hostinfo *hi, struct compat_gpu **gpus,
               struct compat_host *h)
{
  h->gpus = *gpus;
  h->ngpus = o->ngpus;
  if (o->driver)
    {
      h->driver = o->driver;
      return EXIT_OK;
    }
  if (hostinfo_detect_driver (hi) < 0)
    {
      error ("no NVIDIA driver found (%s)", hi->driver_notes.buf);
      fprintf (stderr, "hint: describe the host instead: pcgen compat --driver VERSION [--gpu GPU]\n");
      return EXIT_ENV;
    }
  h->driver = hi->driver;
  if (o->ngpus == 0 && hostinfo_detect_gpus (hi) > 0)
    {
      *gpus = xrealloc (*gpus, hi->ngpus * sizeof **gpus);
      for (size_t i = 0; i < hi->ngpus; i++)
        /* libcuda's name and capability; the knowledge base adds the platform (Jetson). */
        (*gpus)[i] = gpu_of (kb_gpu_find (kb, hi->gpus[i].name), hi->gpus[i].name, hi->gpus[i].cc);
      h->gpus = *gpus;
      h->ngpus = hi->ngpus;
    }
  return EXIT_OK;
}

static void
print_host (const struct compat_opts *o, const struct hostinfo *hi, const struct compat_host *h)
{
  printf ("host: driver %s (%s%s)", h->driver, o->driver ? "given" : "detected: ",
          o->driver ? "" : hi->driver_from);
  if (h->ngpus == 0)
    {
      const char *why = hi->gpu_notes.buf;
      if (o->driver)
        fputs (", no GPU given (--gpu)", stdout);
      else
        printf (", no GPU found%s%s%s", *why ? " (" : "", why, *why ? ")" : "");
      puts (": architectures not checked");
      return;
    }
  fputs (", GPU ", stdout);
  for (size_t i = 0; i < h->ngpus; i++)
    {
      cleanup_free char *label = compat_gpu_label (&h->gpus[i]);
      printf ("%s%s", i ? ", " : "", label);
    }
  printf (" (%s)\n", o->ngpus ? "given" : "detected: libcuda");
}

static void
print_summary (const struct compat_report *rep, const int *sel)
{
  size_t count[COMPAT_WRONG_PLATFORM + 1] = { 0 }, asked = 0;
  for (size_t i = 0; i < rep->n; i++)
    if (sel[i])
      count[rep->v[i].r.verdict]++, asked++;
  printf ("%zu of %zu tags run on this host", count[COMPAT_RUNS] + count[COMPAT_RUNS_MINOR], asked);
  const char *sep = ": ";
  for (int v = COMPAT_RUNS; v <= COMPAT_WRONG_PLATFORM; v++)
    if (count[v])
      {
        printf ("%s%zu %s", sep, count[v], compat_verdict_name (v));
        sep = ", ";
      }
  putchar ('\n');
}

static void
print_table (const struct compat_report *rep, const int *sel)
{
  int w = 3;
  for (size_t i = 0; i < rep->n; i++)
    if (sel[i] && (int) strlen (rep->v[i].tag->name) > w)
      w = (int) strlen (rep->v[i].tag->name);
  printf ("%-*s  %-17s  %s\n", w, "TAG", "VERDICT", "WHY");
  for (size_t i = 0; i < rep->n; i++)
    if (sel[i])
      printf ("%-*s  %-17s  %s\n", w, rep->v[i].tag->name, compat_verdict_name (rep->v[i].r.verdict),
              rep->v[i].r.why);
  print_summary (rep, sel);
}

static json_t *
str_or_null (const char *s)
{
  return s ? json_string (s) : json_null ();
}

static json_t *
gpu_json (const struct compat_gpu *g, const char *source)
{
  char cc[16], sm[16];
  snprintf (cc, sizeof cc, "%d.%d", g->cc / 10, g->cc % 10);
  snprintf (sm, sizeof sm, "sm_%d", g->cc);
  return json_pack ("{s:o, s:s, s:s, s:s, s:o}", "name", str_or_null (g->name), "cc", cc, "sm", sm,
                    "source", source, "platform", str_or_null (g->platform));
}

static json_t *
host_json (const struct compat_opts *o, const struct hostinfo *hi, const struct compat_host *h)
{
  json_t *gpus = json_array ();
  for (size_t i = 0; i < h->ngpus; i++)
    json_array_append_new (gpus, gpu_json (&h->gpus[i], o->ngpus ? "given" : "libcuda"));
  char cuda[16] = "";
  if (hi->cuda_version > 0)
    snprintf (cuda, sizeof cuda, "%d.%d", hi->cuda_version / 1000, hi->cuda_version % 1000 / 10);
  const char *gpu_error = hi->gpu_notes.len ? hi->gpu_notes.buf : NULL;
  return json_pack ("{s:s, s:s, s:o, s:o, s:o, s:b}", "driver", h->driver, "driver_source",
                    o->driver ? "given" : hi->driver_from, "driver_cuda", str_or_null (cuda[0] ? cuda : NULL),
                    "gpus", gpus, "gpu_error", str_or_null (gpu_error), "detected", o->driver == NULL);
}

static json_t *
advice_json (const struct compat_advice *a)
{
  if (a->text == NULL)
    return json_null ();
  json_t *cudas = json_array ();
  for (size_t i = 0; i < a->ncudas; i++)
    json_array_append_new (cudas, json_string (a->cudas[i]));
  json_t *include = a->torch ? json_pack ("{s:s, s:s}", "torch", a->torch, "cuda", a->cuda) : json_null ();
  return json_pack ("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "text", a->text, "torch_from", str_or_null (a->torch_from),
                    "torch_to", str_or_null (a->torch_to), "cuda", cudas, "include", include, "needs_driver",
                    str_or_null (a->needs_driver), "full_driver", str_or_null (a->full_driver));
}

static json_t *
entry_json (const struct compat_entry *e)
{
  const struct compat_result *r = &e->r;
  json_t *alts = json_array ();
  for (size_t i = 0; i < e->nalts; i++)
    json_array_append_new (alts, json_string (e->alts[i]->name));
  const struct ptag *t = e->tag;
  json_t *j = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:b, s:s, s:o, s:o, s:o}", "tag",
                    t->name, "image", t->ref, "flavor", flavor_name (t->flavor), "torch", t->torch->version, "cuda",
                    t->cuda->version, "arch_list", str_or_null (t->variant->arch_list), "verdict",
                    compat_verdict_name (r->verdict), "driver_verdict",
                    str_or_null (compat_verdict_name (r->driver_verdict)), "arch_verdict",
                    str_or_null (compat_verdict_name (r->arch_verdict)), "via_ptx", r->via_ptx, "why",
                    r->why, "driver_why", str_or_null (r->driver_why), "arch_why",
                    str_or_null (r->arch_why), "alternatives", alts);
  json_object_set_new (j, "advice", advice_json (&e->advice));
  return j;
}

static json_t *
report_json (const struct compat_opts *o, const struct hostinfo *hi, const struct compat_host *h,
             const struct compat_report *rep, const int *sel, const char *matrix)
{
  json_t *tags = json_array ();
  size_t run = 0, asked = 0;
  for (size_t i = 0; i < rep->n; i++)
    if (sel[i])
      {
        json_array_append_new (tags, entry_json (&rep->v[i]));
        run += compat_verdict_runs (rep->v[i].r.verdict);
        asked++;
      }
  return json_pack ("{s:i, s:s, s:o, s:o, s:{s:I, s:I}}", "schema", COMPAT_SCHEMA_VERSION, "matrix", matrix,
                    "host", host_json (o, hi, h), "tags", tags, "summary", "tags", (json_int_t) asked,
                    "run", (json_int_t) run);
}

static int
judge_and_print (const struct compat_opts *o, const struct project *p, const int *sel,
                 const struct hostinfo *hi, const struct compat_host *h)
{
  struct compat_report rep;
  if (compat_judge_plan (&p->plan, h, &rep) < 0)
    {
      compat_report_release (&rep);
      return error ("the knowledge base does not know a CUDA of the plan"), EXIT_INVALID;
    }
  int rc = EXIT_REFUSED;
  for (size_t i = 0; i < rep.n; i++)
    if (sel[i] && compat_verdict_runs (rep.v[i].r.verdict))
      rc = EXIT_OK;
  if (o->json)
    {
      int jr = print_json (report_json (o, hi, h, &rep, sel, p->m.file), 0);
      rc = jr != EXIT_OK ? jr : rc;
    }
  else
    {
      print_host (o, hi, h);
      print_table (&rep, sel);
    }
  compat_report_release (&rep);
  return rc;
}

int
cmd_compat (int argc, char **argv)
{
  struct compat_opts o = { 0 };
  o.matrix = DEFAULT_MATRIX;
  int rc = parse_options (argc, argv, &o);
  if (rc >= 0)
    {
      free (o.gpus);
      return rc;
    }
  struct project p;
  struct hostinfo hi = HOSTINFO_INIT;
  struct compat_gpu *gpus = NULL;
  int *sel = NULL;
  rc = project_open (&p, o.matrix);
  if (rc != EXIT_OK)
    goto out;
  gpus = xcalloc (o.ngpus + 1, sizeof *gpus);
  sel = xcalloc (p.plan.ntags + 1, sizeof *sel);
  struct compat_host h = { 0 };
  if ((rc = resolve_gpus (&p.kb, &o, gpus)) != EXIT_OK || (rc = select_tags (&p.plan, o.patterns, o.npatterns, sel) < 0 ? EXIT_USAGE : EXIT_OK) != EXIT_OK
      || (rc = describe_host (&p.kb, &o, &hi, &gpus, &h)) != EXIT_OK)
    goto out;
  rc = judge_and_print (&o, &p, sel, &hi, &h);
out:
  free (sel);
  free (gpus);
  hostinfo_release (&hi);
  project_close (&p);
  free (o.gpus);
  return rc;
}
