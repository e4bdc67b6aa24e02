/* cmd_publish.c: `pcgen publish --to REGISTRY[/REPO]`: push each selected tag and its aliases,
   only when the exact image the tag names has a passing certificate; a report of what
   happened to every tag. */
#include "certify.h"
#include "cmd.h"
#include "docker.h"
#include "exitcode.h"
#include "fsutil.h"
#include "project.h"
#include "publish.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEFAULT_REPORT "results/publish.json"

static const char publish_usage[]
    = "usage: pcgen publish --to REGISTRY[/REPO] [--dry-run] [--report FILE] [--matrix FILE] [TAG|GLOB...]\n"
      "Push each tag (default: every tag with a source) and its aliases to REGISTRY/REPO (REPO\n"
      "defaults to the matrix's repository), but only when the image the tag names in the engine\n"
      "has a passing certificate (pcgen certify); a tag without one is refused in one line and\n"
      "none of its aliases is pushed. The engine pushes (docker push): blobs the registry has are\n"
      "not uploaded again, and a tag is stored only after all its blobs are. Prints the manifest\n"
      "digest per tag and writes a JSON report.\n"
      "  --to REGISTRY[/REPO]  e.g. localhost:5000, ghcr.io/org/pytorch-cuda\n"
      "  --dry-run             check tags and certificates, push nothing\n"
      "  --report FILE         the report (default " DEFAULT_REPORT ")\n"
      "credentials: PCGEN_REGISTRY_USER and PCGEN_REGISTRY_PASSWORD when both are set (kept in a\n"
      "private docker config for this run only), else docker's own config (docker login).\n"
      "exit: 0 every selected tag published (or would be), 1 a tag was refused (not built, not\n"
      "certified), 2 usage, 3 the engine or the registry failed (a re-run completes the push)\n";

struct publish_opts
{
  const char *to, *report, *matrix;
  int dry_run;
};

static int
parse (int argc, char **argv, struct publish_opts *o)
{
  static const struct option opts[] = { { "to", required_argument, NULL, 't' },     { "dry-run", no_argument, NULL, 'n' },
                                        { "report", required_argument, NULL, 'r' }, { "matrix", required_argument, NULL, 'm' },
                                        { "help", no_argument, NULL, 'h' },         { 0 } };
  int c;
  optind = 1;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 't':
        o->to = optarg;
        break;
      case 'n':
        o->dry_run = 1;
        break;
      case 'r':
        o->report = optarg;
        break;
      case 'm':
        o->matrix = optarg;
        break;
      case 'h':
        fputs (publish_usage, stdout);
        return 1;
      default:
        fputs (publish_usage, stderr);
        return -1;
      }
  if (o->to == NULL || !*o->to)
    {
      error ("publish needs --to REGISTRY[/REPO], e.g. --to localhost:5000");
      fputs (publish_usage, stderr);
      return -1;
    }
  return 0;
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
alias_list (const struct ptag *t, struct strbuf *out)
{
  for (size_t i = 0; i < t->naliases; i++)
    strbuf_addf (out, "%s%s", i ? ", " : "", t->aliases[i]);
}

/* Whether t may be published: built here, and that image certified. Fills id and level. */
static int
admissible (const struct ptag *t, struct strbuf *id, char **level, struct strbuf *why)
{
  if (docker_image_id (t->ref, id) < 0)
    {
      strbuf_addf (why, "not built: no image %s in the engine (run 'pcgen build %s')", t->ref, t->name);
      return 0;
    }
  if (!certificate_check (id->buf, level, why))
    {
      strbuf_addf (why, " (run 'pcgen certify %s')", t->name);
      return 0;
    }
  return 1;
}

struct counts
{
  size_t pushed, refused, failed, skipped;
};

/* Push t's image and then its aliases; entry gets what happened. Returns 0, or -1 when a
   push failed (the aliases not yet pushed are then left alone). */
static int
push_tag (const struct ptag *t, const struct publish_dest *d, const char *cfg, const char *id, json_t *entry)
{
  cleanup_free char *ref = xasprintf ("%s/%s:%s", d->host, d->repo, t->name);
  struct strbuf err = STRBUF_INIT;
  char *digest = NULL;
  int up = 0, had = 0;
  double t0 = now ();
  fprintf (stderr, "publish: %s: pushing %s (blobs the registry lacks are uploaded: can take minutes)\n", t->name, ref);
  int rc = publish_push (cfg, id, ref, &digest, &up, &had, &err);
  if (rc < 0)
    {
      error ("%s: %s", t->name, err.buf);
      json_object_set_new (entry, "status", json_string ("failed"));
      json_object_set_new (entry, "why", json_string (err.buf));
      strbuf_release (&err);
      return -1;
    }
  printf ("pushed  %-36s %s  %d layer%s uploaded, %d already there, %.0fs\n", t->name, digest, up, up == 1 ? "" : "s",
          had, now () - t0);
  fflush (stdout); /* a line per push as it happens, also into a pipe */
  json_object_set_new (entry, "status", json_string ("pushed"));
  json_object_set_new (entry, "ref", json_string (ref));
  json_object_set_new (entry, "digest", json_string (digest));
  json_object_set_new (entry, "layers_uploaded", json_integer (up));
  json_object_set_new (entry, "layers_present", json_integer (had));
  json_t *aliases = json_object_get (entry, "aliases");
  for (size_t i = 0; i < t->naliases && rc == 0; i++)
    {
      cleanup_free char *aref = xasprintf ("%s/%s:%s", d->host, d->repo, t->aliases[i]);
      char *adigest = NULL;
      strbuf_reset (&err);
      json_t *a = json_array_get (aliases, i);
      if (publish_push (cfg, id, aref, &adigest, &up, &had, &err) < 0)
        {
          error ("%s: alias %s: %s", t->name, t->aliases[i], err.buf);
          json_object_set_new (a, "status", json_string ("failed"));
          json_object_set_new (a, "why", json_string (err.buf));
          rc = -1;
        }
      else
        {
          printf ("pushed  %-36s %s  (alias of %s)\n", t->aliases[i], adigest, t->name);
          fflush (stdout);
          json_object_set_new (a, "status", json_string ("pushed"));
          json_object_set_new (a, "digest", json_string (adigest));
        }
      free (adigest);
    }
  if (rc < 0)
    json_object_set_new (entry, "status", json_string ("failed"));
  free (digest);
  strbuf_release (&err);
  return rc;
}

static void
publish_one (const struct ptag *t, const struct publish_dest *d, const char *cfg, int dry_run, json_t *entry,
             struct counts *n)
{
  struct strbuf id = STRBUF_INIT, why = STRBUF_INIT, names = STRBUF_INIT;
  char *level = NULL;
  json_t *aliases = json_array ();
  for (size_t i = 0; i < t->naliases; i++)
    json_array_append_new (aliases, json_pack ("{s:s,s:s}", "name", t->aliases[i], "status", "not pushed"));
  json_object_set_new (entry, "aliases", aliases);
  if (!admissible (t, &id, &level, &why))
    {
      alias_list (t, &names);
      printf ("refused %-36s %s%s%s\n", t->name, why.buf, names.len ? "; aliases not pushed: " : "", names.buf);
      json_object_set_new (entry, "status", json_string ("refused"));
      json_object_set_new (entry, "why", json_string (why.buf));
      n->refused++;
      goto out;
    }
  json_object_set_new (entry, "image_id", json_string (id.buf));
  json_object_set_new (entry, "certificate_level", json_string (level));
  if (dry_run)
    {
      alias_list (t, &names);
      printf ("would push %-33s %s/%s:%s (image %.19s, certified %s)%s%s\n", t->name, d->host, d->repo, t->name,
              id.buf, level, names.len ? " with " : "", names.buf);
      json_object_set_new (entry, "status", json_string ("would push"));
      n->pushed++;
      goto out;
    }
  if (push_tag (t, d, cfg, id.buf, entry) < 0)
    n->failed++;
  else
    n->pushed++;
out:
  free (level);
  strbuf_release (&id);
  strbuf_release (&why);
  strbuf_release (&names);
}

static int
write_report (const char *path, json_t *report)
{
  char *text = json_dumps (report, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  int rc = 0;
  if (slash)
    *slash = '\0';
  if ((slash && mkdir_p (dir, 0755) < 0) || write_file_atomic (path, text, strlen (text), 0644) < 0)
    rc = error ("cannot write the report '%s': %s", path, strerror (errno));
  free (text);
  return rc;
}

int
cmd_publish (int argc, char **argv)
{
  struct publish_opts o = { NULL, DEFAULT_REPORT, DEFAULT_MATRIX, 0 };
  int r = parse (argc, argv, &o);
  if (r)
    return r > 0 ? EXIT_OK : EXIT_USAGE;
  struct project p;
  struct publish_dest d = { 0 };
  struct strbuf err = STRBUF_INIT;
  char *cfg = NULL;
  int *sel = NULL;
  json_t *report = NULL;
  int rc = project_open (&p, o.matrix);
  if (rc != EXIT_OK)
    goto out;
  sel = xcalloc (p.plan.ntags + 1, sizeof *sel);
  if (select_tags (&p.plan, argv + optind, (size_t) (argc - optind), sel) < 0
      || publish_parse_dest (o.to, p.m.repository.s, &d, &err) < 0)
    {
      if (err.len)
        error ("%s", err.buf);
      rc = EXIT_USAGE;
      goto out;
    }
  if (docker_ping (&err) < 0 || (!o.dry_run && publish_credentials (d.host, &cfg, &err) < 0))
    {
      error ("%s", err.buf);
      rc = EXIT_ENV;
      goto out;
    }
  int named = argc > optind;
  report = json_pack ("{s:s,s:s,s:b,s:[]}", "registry", d.host, "repository", d.repo, "dry_run", o.dry_run, "tags");
  struct counts n = { 0 };
  for (size_t i = 0; i < p.plan.ntags; i++)
    {
      const struct ptag *t = &p.plan.tags[i];
      if (!sel[i])
        continue;
      json_t *entry = json_pack ("{s:s}", "tag", t->name);
      json_array_append_new (json_object_get (report, "tags"), entry);
      if (t->source_kind == SOURCE_UNAVAILABLE && !named)
        {
          /* Never built: not a refusal, the plan already says why. */
          json_object_set_new (entry, "status", json_string ("skipped: no source"));
          n.skipped++;
          continue;
        }
      publish_one (t, &d, cfg, o.dry_run, entry, &n);
    }
  printf ("publish: %zu %s, %zu refused, %zu failed, %zu without a source; %s/%s; report %s\n", n.pushed,
          o.dry_run ? "would be pushed" : "pushed", n.refused, n.failed, n.skipped, d.host, d.repo, o.report);
  if (write_report (o.report, report) < 0)
    rc = EXIT_ENV;
  else
    rc = n.failed ? EXIT_ENV : n.refused ? EXIT_INVALID : EXIT_OK;
out:
  json_decref (report);
  if (cfg)
    publish_credentials_remove ();
  free (cfg);
  free (sel);
  strbuf_release (&err);
  publish_dest_release (&d);
  project_close (&p);
  return rc;
}
