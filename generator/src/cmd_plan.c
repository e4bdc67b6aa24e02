/* cmd_plan.c: `pcgen plan [--json|--github] [FILE]`: the tags the matrix expands to. */
#include "cmd.h"
#include "exitcode.h"
#include "plan_json.h"
#include "project.h"
#include "strbuf.h"
#include "util.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char plan_usage[]
    = "usage: pcgen plan [--json | --github] [FILE]\n"
      "Expand FILE (default matrix.yaml) into tags: canonical name, aliases, CUDA, cuDNN, and\n"
      "where the torch wheel comes from.\n"
      "  --json     every tag with every pinned component (schema: docs/matrix.md, 'plan --json schema')\n"
      "  --github   {\"include\":[...]} on one line, for a GitHub Actions matrix\n"
      "exit: 0 ok, 1 invalid matrix, 2 usage, 3 cannot read or write\n";

int
print_json (json_t *json, int compact)
{
  if (json == NULL)
    return error ("cannot build the JSON output"), EXIT_ENV;
  size_t flags = JSON_PRESERVE_ORDER | (compact ? JSON_COMPACT : JSON_INDENT (2));
  int r = json_dumpf (json, stdout, flags);
  json_decref (json);
  if (r < 0)
    return EXIT_ENV;
  putchar ('\n');
  return EXIT_OK;
}

static void
print_table (const struct plan *p)
{
  printf ("%-36s %-7s %-6s %-10s %-12s %s\n", "TAG", "TORCH", "CUDA", "CUDNN", "SOURCE", "ALIASES");
  for (size_t i = 0; i < p->ntags; i++)
    {
      const struct ptag *t = &p->tags[i];
      struct strbuf al = STRBUF_INIT;
      for (size_t j = 0; j < t->naliases; j++)
        strbuf_addf (&al, "%s%s", j ? ", " : "", t->aliases[j]);
      printf ("%-36s %-7s %-6s %-10s %-12s %s\n", t->name, t->torch->version, t->cuda->version,
              t->variant->cudnn, source_kind_name (t->source_kind), al.len ? al.buf : "-");
      strbuf_release (&al);
    }
  printf ("%zu tag%s in %s\n", p->ntags, p->ntags == 1 ? "" : "s", p->m->repository.s);
  for (size_t i = 0; i < p->m->nsources; i++)
    {
      const struct msource *s = &p->m->sources[i];
      size_t n = 0;
      for (size_t j = 0; j < p->ntags; j++)
        n += strcmp (p->tags[j].cuda->version, s->cuda.s) == 0;
      printf ("source: CUDA %s: %s %s (%zu tag%s)\n", s->cuda.s, source_kind_name (s->index.s ? SOURCE_INDEX : SOURCE_WHEELHOUSE),
              s->index.s ? s->index.s : s->wheelhouse.s, n, n == 1 ? "" : "s");
    }
  for (size_t i = 0; i < p->ntags; i++)
    if (p->tags[i].source_kind == SOURCE_UNAVAILABLE
        && (p->tags[i].flavor == FLAVOR_RUNTIME || p->tags[i].no_nvcc))
      {
        cleanup_free char *hint = plan_source_hint (&p->tags[i]);
        printf ("note: %s: %s\n", p->tags[i].name, hint);
      }
  for (size_t i = 0; i < p->ntags; i++)
    if (p->tags[i].source_kind != SOURCE_UNAVAILABLE)
      {
        cleanup_free char *note = plan_nvcc_note (&p->tags[i]);
        if (note)
          printf ("note: %s: %s\n", p->tags[i].name, note);
      }
}

int
cmd_plan (int argc, char **argv)
{
  static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
                                        { "github", no_argument, NULL, 'g' },
                                        { "help", no_argument, NULL, 'h' },
                                        { 0 } };
  int json = 0, github = 0, c;
  optind = 1;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'j':
        json = 1;
        break;
      case 'g':
        github = 1;
        break;
      case 'h':
        fputs (plan_usage, stdout);
        return EXIT_OK;
      default:
        fputs (plan_usage, stderr);
        return EXIT_USAGE;
      }
  if ((json && github) || argc - optind > 1)
    {
      if (json && github)
        error ("--json and --github cannot be used together");
      fputs (plan_usage, stderr);
      return EXIT_USAGE;
    }
  struct project p;
  int rc = project_open (&p, optind < argc ? argv[optind] : DEFAULT_MATRIX);
  if (rc == EXIT_OK)
    {
      if (json)
        rc = print_json (plan_json (&p.plan), 0);
      else if (github)
        rc = print_json (plan_github_json (&p.plan), 1);
      else
        print_table (&p.plan);
    }
  project_close (&p);
  return rc;
}
