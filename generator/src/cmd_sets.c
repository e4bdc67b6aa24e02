/* cmd_sets.c: what pcgen lock and pcgen fetch share (cmd_sets.h). */
#include "cmd_sets.h"
#include "cmd.h"
#include "exitcode.h"
#include "nvcc_source.h"
#include "project.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>

int
sets_parse (int argc, char **argv, struct lock_opts *o)
{
  static const struct option opts[] = { { "refresh", no_argument, NULL, 'r' }, { "offline", no_argument, NULL, 'o' },
                                        { "verify", no_argument, NULL, 'v' },
                                        { "matrix", required_argument, NULL, 'm' }, { "lock", required_argument, NULL, 'l' },
                                        { "help", no_argument, NULL, 'h' }, { 0 } };
  const char *usage = o->usage;
  int c;
  optind = 1;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'r':
        o->refresh = 1;
        break;
      case 'o':
        o->offline = 1;
        break;
      case 'v':
        o->verify = 1;
        break;
      case 'm':
        o->matrix = optarg;
        break;
      case 'l':
        o->lock = optarg;
        break;
      case 'h':
        fputs (usage, stdout);
        return 1;
      default:
        fputs (usage, stderr);
        return -1;
      }
  if ((o->fetch && o->refresh) || (!o->fetch && (o->offline || o->verify)))
    {
      error ("%s is not an option of pcgen %s", o->fetch ? "--refresh" : o->offline ? "--offline" : "--verify",
             o->fetch ? "fetch" : "lock");
      return -1;
    }
  o->patterns = argv + optind;
  o->npatterns = (size_t) (argc - optind);
  return 0;
}

char *
source_setting (const struct ptag *t)
{
  if (t->source_kind == SOURCE_PYPI)
    return xstrdup ("the source is pip's own index (PIP_INDEX_URL, pip.conf); matrix.yaml 'sources' can name another");
  return xasprintf ("the setting: sources: {\"%s\": {%s: \"%s\"}} in matrix.yaml", t->cuda->version, source_kind_name (t->source_kind),
                    t->source_where);
}

int
sets_run (struct lock_opts *o)
{
  struct project p;
  int rc = project_open (&p, o->matrix);
  struct lockfile lf = { 0 };
  struct error lerr = ERROR_INIT;
  int *sel = NULL;
  if (rc != EXIT_OK)
    goto out;
  sel = xcalloc (p.plan.ntags + 1, sizeof *sel);
  if (select_tags (&p.plan, o->patterns, o->npatterns, sel) < 0)
    {
      rc = EXIT_USAGE;
      goto out;
    }
  if (lockfile_read (o->lock, &lf, &lerr) < 0)
    {
      rc = cmd_error (&lerr);
      goto out;
    }
  size_t done = 0, failed = 0, unavailable = 0, no_nvcc = 0;
  for (size_t i = 0; i < p.plan.ntags; i++)
    {
      const struct ptag *t = &p.plan.tags[i];
      if (!sel[i])
        continue;
      if (t->source_kind == SOURCE_UNAVAILABLE)
        {
          cleanup_free char *hint = plan_source_hint (t);
          fprintf (stderr, "%s: skipped: %s\n", t->name, hint);
          unavailable++;
          continue;
        }
      /* The torch set first: a notebook set is resolved with it. */
      int second = t->flavor == FLAVOR_DEVEL ? SET_DEVEL : t->flavor == FLAVOR_NOTEBOOK ? SET_NOTEBOOK : 0;
      int r = o->each (&lf, t, SET_TORCH, o);
      if (r == 0 && second)
        r = o->each (&lf, t, second, o);
      if (r == NVCC_UNREACHABLE)
        no_nvcc++;
      else
        r < 0 ? failed++ : done++;
      /* Write after every tag: a long lock interrupted keeps what it resolved. */
      if (!o->fetch && lockfile_write (o->lock, &lf, &lerr) < 0)
        {
          rc = cmd_error (&lerr);
          goto out;
        }
    }
  printf ("%s: %zu tag%s %s, %zu failed, %zu skipped (no source)", o->fetch ? "fetch" : "lock", done,
          done == 1 ? "" : "s", o->fetch ? "present and verified" : "locked", failed, unavailable);
  if (no_nvcc)
    printf (", %zu unavailable (nvcc's source unreachable)", no_nvcc);
  printf ("\n");
  /* The first failure's kind decides: a pin that disagrees with the knowledge base is invalid
     input (1), a download that failed the environment (3). */
  rc = failed ? (o->failed_code ? o->failed_code : EXIT_ENV) : EXIT_OK;
out:
  free (sel);
  free (o->verified);
  err_release (&lerr);
  lockfile_release (&lf);
  project_close (&p);
  return rc;
}

