/* cmd_bake.c: `pcgen bake`: a docker-bake.json for `docker buildx bake`, one target per
   buildable tag, with the build contexts `pcgen build` uses, staged unless --no-stage. */
#include "build.h"
#include "cmd.h"
#include "exitcode.h"
#include "fsutil.h"
#include "lock.h"
#include "project.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_BAKE_FILE "docker-bake.json"

static const char bake_usage[]
    = "usage: pcgen bake [--no-stage] [--offline] [-o FILE] [--matrix FILE] [--lock FILE] [TAG|GLOB...]\n"
      "Write a bake file for `docker buildx bake` (default " DEFAULT_BAKE_FILE "): a target per tag\n"
      "(default: every tag whose torch wheel has a source; target name: the tag with '.' as '-'),\n"
      "with the context `pcgen build` uses (build/context/<tag>), images/<tag>/Dockerfile, the tag\n"
      "and its aliases; a devel or notebook target builds FROM its runtime target, a runtime target FROM a\n"
      "base target made of the base OS tar, so any BuildKit builder can build them. Group\n"
      "\"default\" lists the tag targets. Run bake from the project root (paths are relative).\n"
      "By default the contexts are staged (wheels fetched, layers made, as pcgen build does).\n"
      "  --no-stage          only write the file\n"
      "  --offline           stage from the cache only\n"
      "  -o, --output FILE   the bake file (default " DEFAULT_BAKE_FILE ")\n"
      "then: docker buildx bake -f FILE [--load | --push] [TARGET...]\n"
      "exit: 0 written, 1 invalid input (or a named tag without a source), 2 usage, 3 staging or\n"
      "writing failed\n";

struct bake_opts
{
  int no_stage, offline;
  const char *out, *matrix, *lock;
};

static int
parse (int argc, char **argv, struct bake_opts *o)
{
  static const struct option opts[] = { { "no-stage", no_argument, NULL, 'n' },  { "offline", no_argument, NULL, 'f' },
                                        { "output", required_argument, NULL, 'o' }, { "matrix", required_argument, NULL, 'm' },
                                        { "lock", required_argument, NULL, 'l' },  { "help", no_argument, NULL, 'h' },
                                        { 0 } };
  int c;
  optind = 1;
  while ((c = getopt_long (argc, argv, "ho:", opts, NULL)) != -1)
    switch (c)
      {
      case 'n':
        o->no_stage = 1;
        break;
      case 'f':
        o->offline = 1;
        break;
      case 'o':
        o->out = optarg;
        break;
      case 'm':
        o->matrix = optarg;
        break;
      case 'l':
        o->lock = optarg;
        break;
      case 'h':
        fputs (bake_usage, stdout);
        return 1;
      default:
        fputs (bake_usage, stderr);
        return -1;
      }
  /* Rules between options, in one place. */
  if (o->no_stage && o->offline)
    {
      error ("--offline stages from the cache; with --no-stage nothing is staged");
      fputs (bake_usage, stderr);
      return -1;
    }
  if (!*o->out)
    {
      error ("-o needs a file name");
      fputs (bake_usage, stderr);
      return -1;
    }
  return 0;
}

/* Bake target names allow [a-zA-Z0-9_-]: a tag's dots become dashes. */
static char *
target_name (const char *prefix, const char *name)
{
  char *s = xasprintf ("%s%s", prefix, name);
  for (char *q = s; *q; q++)
    if (*q == '.')
      *q = '-';
  return s;
}

static int
is_glob (const char *s)
{
  return strpbrk (s, "*?[") != NULL;
}

/* A tag named literally (its name or an alias, not a glob) that has no source is an error:
   the user asked for exactly that image. */
static int
named_unavailable (const struct plan *p, char *const *patterns, size_t n)
{
  int bad = 0;
  for (size_t k = 0; k < n; k++)
    {
      if (is_glob (patterns[k]))
        continue;
      for (size_t i = 0; i < p->ntags; i++)
        {
          const struct ptag *t = &p->tags[i];
          int named = streq (t->name, patterns[k]);
          for (size_t j = 0; j < t->naliases; j++)
            named |= streq (t->aliases[j], patterns[k]);
          if (!named || t->source_kind != SOURCE_UNAVAILABLE)
            continue;
          cleanup_free char *hint = plan_source_hint (t);
          error ("%s has no source: %s", t->name, hint);
          bad = 1;
        }
    }
  return bad;
}

static json_t *
base_target (const struct kb_base *b)
{
  cleanup_free char *ctx = xasprintf (BASE_CONTEXT_FMT, b->name);
  return json_pack ("{s:s, s:s}", "context", ctx, "dockerfile-inline",
                    "FROM scratch\nADD " BASE_CONTEXT_TAR " /\nCMD [\"bash\"]\n");
}

static json_t *
tag_target (const struct ptag *t)
{
  cleanup_free char *ctx = xasprintf ("build/context/%s", t->name);
  /* bake joins a relative dockerfile to the context: this is images/<tag>/Dockerfile. */
  cleanup_free char *df = xasprintf ("../../../images/%s/Dockerfile", t->name);
  json_t *tags = json_array ();
  json_array_append_new (tags, json_string (t->ref));
  size_t repo_len = (size_t) (strrchr (t->ref, ':') - t->ref);
  for (size_t i = 0; i < t->naliases; i++)
    json_array_append_new (tags, json_sprintf ("%.*s:%s", (int) repo_len, t->ref, t->aliases[i]));
  /* The FROM of each Dockerfile names a bake context: "base" (a runtime image's OS) or
     "runtime" (a devel or notebook image's runtime image), each the target that builds it. */
  cleanup_free char *from = t->runtime ? target_name ("", t->runtime->name) : target_name ("base-", t->base->name);
  cleanup_free char *target = xasprintf ("target:%s", from);
  const char *ctx_name = t->runtime ? "runtime" : "base";
  return json_pack ("{s:s, s:s, s:{s:s}, s:{s:s}, s:o}", "context", ctx, "dockerfile", df, "contexts", ctx_name,
                    target, "args", t->runtime ? "RUNTIME_IMAGE" : "BASE_IMAGE", ctx_name, "tags", tags);
}

/* Stage the contexts of the base and of every selected tag, as pcgen build does. */
static int
stage (const struct plan *p, const int *sel, const struct bake_opts *o)
{
  struct lockfile lf = { 0 };
  struct strbuf err = STRBUF_INIT;
  int rc = EXIT_OK;
  struct error lerr = ERROR_INIT;
  if (lockfile_read (o->lock, &lf, &lerr) < 0)
    {
      rc = cmd_error (&lerr);
      err_release (&lerr);
      return rc;
    }
  for (size_t i = 0; i < p->ntags && rc == EXIT_OK; i++)
    {
      const struct ptag *t = &p->tags[i];
      if (!sel[i])
        continue;
      cleanup_free char *ctx = NULL;
      struct staged_layer *layers = NULL;
      size_t nl = 0;
      /* The first tag of each base stages the base. */
      size_t j = 0;
      while (j < i && !(sel[j] && p->tags[j].base == t->base))
        j++;
      if (j == i)
        {
          cleanup_free char *bctx = NULL;
          if (build_base_context (t->base, o->offline, &bctx, &err) < 0)
            rc = EXIT_ENV;
          else
            fprintf (stderr, "bake: base %s: staged %s\n", t->base->name, bctx);
        }
      if (rc == EXIT_OK
          && (build_layers (p, t, &lf, o->lock, o->offline, &layers, &nl, &err) < 0
              || build_context (t, layers, nl, &ctx, NULL, &err) < 0))
        rc = EXIT_ENV;
      if (rc == EXIT_OK)
        fprintf (stderr, "bake: %s: staged %s\n", t->name, ctx);
      else
        error ("%s: %s", t->name, err.buf);
      staged_layers_free (layers, nl);
    }
  strbuf_release (&err);
  lockfile_release (&lf);
  return rc;
}

static json_t *
bake_json (const struct plan *p, const int *sel)
{
  json_t *names = json_array (), *targets = json_object ();
  for (size_t i = 0; i < p->ntags; i++)
    {
      const struct ptag *t = &p->tags[i];
      if (!sel[i])
        continue;
      cleanup_free char *base = target_name ("base-", t->base->name);
      if (json_object_get (targets, base) == NULL)
        json_object_set_new (targets, base, base_target (t->base));
    }
  for (size_t i = 0; i < p->ntags; i++)
    {
      const struct ptag *t = &p->tags[i];
      if (!sel[i])
        continue;
      cleanup_free char *name = target_name ("", t->name);
      json_array_append_new (names, json_string (name));
      json_object_set_new (targets, name, tag_target (t));
    }
  return json_pack ("{s:{s:{s:o}}, s:o}", "group", "default", "targets", names, "target", targets);
}

int
cmd_bake (int argc, char **argv)
{
  struct bake_opts o = { 0, 0, DEFAULT_BAKE_FILE, DEFAULT_MATRIX, DEFAULT_LOCK };
  int r = parse (argc, argv, &o);
  if (r)
    return r > 0 ? EXIT_OK : EXIT_USAGE;
  char *const *patterns = argv + optind;
  size_t npatterns = (size_t) (argc - optind);
  struct project p;
  int rc = project_open (&p, o.matrix);
  int *sel = NULL;
  json_t *bake = NULL;
  char *text = NULL, *dumped = NULL, *dir = NULL;
  if (rc != EXIT_OK)
    goto out;
  sel = xcalloc (p.plan.ntags + 1, sizeof *sel);
  if (select_tags (&p.plan, patterns, npatterns, sel) < 0)
    {
      rc = EXIT_USAGE;
      goto out;
    }
  if (named_unavailable (&p.plan, patterns, npatterns))
    {
      rc = EXIT_INVALID;
      goto out;
    }
  size_t ntargets = 0, skipped = 0, added = 0;
  for (size_t i = 0; i < p.plan.ntags; i++)
    {
      const struct ptag *t = &p.plan.tags[i];
      if (sel[i] && t->source_kind == SOURCE_UNAVAILABLE)
        {
          cleanup_free char *hint = plan_source_hint (t);
          fprintf (stderr, "bake: %s: skipped: %s\n", t->name, hint);
          sel[i] = 0;
          skipped++;
        }
    }
  /* A devel or notebook target builds FROM its runtime target: the file needs both. */
  for (size_t i = 0; i < p.plan.ntags; i++)
    if (sel[i] && p.plan.tags[i].runtime)
      {
        size_t rt = (size_t) (p.plan.tags[i].runtime - p.plan.tags);
        if (!sel[rt])
          {
            sel[rt] = 1;
            added++;
            fprintf (stderr, "bake: %s: added, %s builds on it\n", p.plan.tags[rt].name, p.plan.tags[i].name);
          }
      }
  for (size_t i = 0; i < p.plan.ntags; i++)
    ntargets += sel[i] != 0;
  if (ntargets == 0)
    {
      error ("no tag to bake: every selected tag lacks a source (see 'pcgen plan')");
      rc = EXIT_INVALID;
      goto out;
    }
  if (!o.no_stage && (rc = stage (&p.plan, sel, &o)) != EXIT_OK)
    goto out;
  bake = bake_json (&p.plan, sel);
  dumped = bake ? json_dumps (bake, JSON_INDENT (2) | JSON_PRESERVE_ORDER) : NULL;
  if (dumped == NULL)
    {
      error ("cannot build the bake file");
      rc = EXIT_ENV;
      goto out;
    }
  text = xasprintf ("%s\n", dumped);
  size_t len = strlen (text);
  dir = xstrdup (o.out);
  char *slash = strrchr (dir, '/');
  if (slash)
    *slash = '\0';
  if ((slash && slash != dir && mkdir_p (dir, 0755) < 0) || write_file_atomic (o.out, text, len, 0644) < 0)
    {
      error ("cannot write '%s': %s", o.out, strerror (errno));
      rc = EXIT_ENV;
      goto out;
    }
  printf ("bake: %zu target%s in %s, %zu skipped (no source)", ntargets, ntargets == 1 ? "" : "s", o.out, skipped);
  if (added)
    printf (", %zu runtime%s added for devel", added, added == 1 ? "" : "s");
  printf ("; contexts %s\n", o.no_stage ? "not staged (--no-stage)" : "staged");
out:
  free (text);
  free (dumped);
  free (dir);
  json_decref (bake);
  free (sel);
  project_close (&p);
  return rc;
}
