/* cmd_build.c: `pcgen build`: fetch -> layers -> docker build -> tags, for every selected tag,
   with a line per step and a summary table at the end. */
#include "base.h"
#include "build.h"
#include "cmd.h"
#include "docker.h"
#include "exitcode.h"
#include "lock.h"
#include "project.h"
#include "stage.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char build_usage[]
    = "usage: pcgen build [--offline] [--matrix FILE] [--lock FILE] [TAG|GLOB...]\n"
      "Build the images of the tags (default: every tag whose torch wheel has a source): fetch and\n"
      "verify the pinned wheels, make the deterministic layers (cached, shared by tags), docker\n"
      "build images/<tag>/Dockerfile, tag the image with its name and aliases. A tag whose inputs\n"
      "and image are unchanged is not built again. Needs a Docker engine (make deps starts one).\n"
      "  --offline   use only the cache\n"
      "exit: 0 every selected tag built or up to date, 1 invalid input, 2 usage, 3 a build failed\n";

struct build_opts
{
  int offline;
  const char *matrix, *lock;
  char **patterns;
  size_t npatterns;
};

static int
parse (int argc, char **argv, struct build_opts *o)
{
  static const struct option opts[] = { { "offline", no_argument, NULL, 'o' }, { "matrix", required_argument, NULL, 'm' },
                                        { "lock", required_argument, NULL, 'l' }, { "help", no_argument, NULL, 'h' }, { 0 } };
  int c;
  optind = 1;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'o':
        o->offline = 1;
        break;
      case 'm':
        o->matrix = optarg;
        break;
      case 'l':
        o->lock = optarg;
        break;
      case 'h':
        fputs (build_usage, stdout);
        return 1;
      default:
        fputs (build_usage, stderr);
        return -1;
      }
  o->patterns = argv + optind;
  o->npatterns = (size_t) (argc - optind);
  return 0;
}

static const struct lockset *
need_set (const struct lockfile *lf, const struct ptag *t, int devel, const char *lock, struct strbuf *err)
{
  return lock_find_current (lf, t, devel, lock, err);
}

/* Everything for one tag; the outcome goes into r. */
static void
build_one (const struct plan *p, const struct ptag *t, const struct lockfile *lf, const char *base_ref,
           const struct build_opts *o, struct build_result *r)
{
  struct strbuf err = STRBUF_INIT;
  struct staged_layer *layers = NULL;
  size_t nl = 0;
  cleanup_free char *inputs = NULL;
  const struct lockset *ts = need_set (lf, t, 0, o->lock, &err);
  const struct lockset *ds = ts && t->runtime ? need_set (lf, t, 1, o->lock, &err) : NULL;
  if (ts == NULL || (t->runtime && ds == NULL))
    goto fail;
  if (lock_fetch (ts, t->python, o->offline, &err) < 0 || (ds && lock_fetch (ds, t->python, o->offline, &err) < 0))
    goto fail;
  if (stage_layers (p, t, ts, ds, &layers, &nl, &err) < 0)
    goto fail;
  inputs = build_inputs_digest (t, base_ref, layers, nl, &err);
  if (inputs == NULL)
    goto fail;
  if (build_up_to_date (t, inputs, r))
    fprintf (stderr, "build: %s: up to date\n", t->name);
  else if (build_image (t, base_ref, layers, nl, inputs, r, &err) < 0)
    goto fail;
  staged_layers_free (layers, nl);
  strbuf_release (&err);
  return;
fail:
  r->status = "failed";
  r->why = strbuf_detach (&err, NULL);
  error ("%s: %s", t->name, r->why);
  staged_layers_free (layers, nl);
}

static void
summary (const struct plan *p, const int *sel, const struct build_result *res)
{
  printf ("%-36s %-19s %9s %8s  %s\n", "TAG", "IMAGE ID", "SIZE", "TIME", "STATUS");
  for (size_t i = 0; i < p->ntags; i++)
    {
      if (!sel[i])
        continue;
      const struct build_result *r = &res[i];
      const char *id = r->image_id && strlen (r->image_id) > 7 ? r->image_id + 7 : "-";
      char size[32] = "-", secs[32] = "-";
      if (r->size)
        snprintf (size, sizeof size, "%.2f GB", (double) r->size / 1e9);
      if (r->seconds > 0)
        snprintf (secs, sizeof secs, "%.0fs", r->seconds);
      printf ("%-36s %-19.12s %9s %8s  %s\n", p->tags[i].name, id, size, secs, r->status ? r->status : "-");
    }
}

int
cmd_build (int argc, char **argv)
{
  struct build_opts o = { 0, DEFAULT_MATRIX, DEFAULT_LOCK, NULL, 0 };
  int r = parse (argc, argv, &o);
  if (r)
    return r > 0 ? EXIT_OK : EXIT_USAGE;
  struct project p;
  int rc = project_open (&p, o.matrix);
  struct lockfile lf = { 0 };
  struct strbuf err = STRBUF_INIT, base = STRBUF_INIT;
  int *sel = NULL;
  struct build_result *res = NULL;
  if (rc != EXIT_OK)
    goto out;
  sel = xcalloc (p.plan.ntags + 1, sizeof *sel);
  res = xcalloc (p.plan.ntags + 1, sizeof *res);
  if (plan_select (&p.plan, o.patterns, o.npatterns, sel) < 0)
    {
      rc = EXIT_USAGE;
      goto out;
    }
  if (lockfile_read (o.lock, &lf, &err) < 0)
    {
      error ("%s", err.buf);
      rc = EXIT_INVALID;
      goto out;
    }
  if (docker_ping (&err) < 0 || base_ensure (p.plan.tags[0].base, &base, &err) < 0)
    {
      error ("%s", err.buf);
      rc = EXIT_ENV;
      goto out;
    }
  size_t failed = 0;
  for (size_t i = 0; i < p.plan.ntags; i++)
    {
      const struct ptag *t = &p.plan.tags[i];
      if (!sel[i])
        continue;
      if (strcmp (t->source_kind, "unavailable") == 0)
        {
          res[i].status = "skipped: no source";
          cleanup_free char *hint = plan_source_hint (t);
          fprintf (stderr, "build: %s: skipped: %s\n", t->name, hint);
          continue;
        }
      /* A devel image builds on its runtime image: not without it. */
      size_t rt = t->runtime ? (size_t) (t->runtime - p.plan.tags) : i;
      if (t->runtime && res[rt].status && strcmp (res[rt].status, "built") && strcmp (res[rt].status, "up to date"))
        {
          res[i].status = "skipped: runtime failed";
          failed++;
          continue;
        }
      build_one (&p.plan, t, &lf, base.buf, &o, &res[i]);
      failed += strcmp (res[i].status, "failed") == 0;
    }
  summary (&p.plan, sel, res);
  rc = failed ? EXIT_ENV : EXIT_OK;
out:
  for (size_t i = 0; res && i < p.plan.ntags; i++)
    build_result_release (&res[i]);
  free (res);
  free (sel);
  strbuf_release (&err);
  strbuf_release (&base);
  lockfile_release (&lf);
  project_close (&p);
  return rc;
}
