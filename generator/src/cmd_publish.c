/* cmd_publish.c: `pcgen publish --to REGISTRY[/REPO]`: push each selected tag and its aliases,
   only when the exact image the tag names has a passing certificate; a report of what
   happened to every tag. --engine writer (default) pushes build/oci/<tag> with the registry
   API (push_image.h, registry.h); --engine docker tags and runs docker push (publish.h). */
#include "build.h"
#include "certify.h"
#include "cmd.h"
#include "credentials.h"
#include "docker.h"
#include "engine_layers.h"
#include "exitcode.h"
#include "fsutil.h"
#include "image_writer.h"
#include "oci.h"
#include "project.h"
#include "publish.h"
#include "push_image.h"
#include "registry.h"
#include "util.h"

#include <errno.h>
#include <unistd.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEFAULT_REPORT "results/publish.json"

static const char publish_usage[]
    = "usage: pcgen publish --to REGISTRY[/REPO] [--engine writer|docker] [--dry-run] [--report FILE]\n"
      "                     [--matrix FILE] [TAG|GLOB...]\n"
      "Push each tag (default: every tag with a source) and its aliases to REGISTRY/REPO (REPO\n"
      "defaults to the matrix's repository), but only when the image has a passing certificate\n"
      "(pcgen certify); a tag without one is refused in one line and none of its aliases is pushed.\n"
      "With the writer the certificate must also name the manifest digest about to be pushed: one\n"
      "naming another refuses the tag; one naming none (certify compresses nothing) gets it now.\n"
      "Blobs the registry has are not uploaded again, and a tag is stored only after all its blobs\n"
      "are. Prints the manifest digest per tag and writes a JSON report.\n"
      "  --to REGISTRY[/REPO]  e.g. localhost:5000, ghcr.io/org/pytorch-cuda\n"
      "  --engine writer       (default) push the image pcgen wrote, build/oci/<tag>, with the\n"
      "                        registry API: layers gzip-compressed once (cached), the manifest\n"
      "                        digest the one pcgen computed (build/oci/<tag>/push-manifest.json)\n"
      "  --engine docker       docker push of the engine's image (for images docker build made)\n"
      "  --dry-run             check tags and certificates, push nothing\n"
      "  --report FILE         the report (default " DEFAULT_REPORT ")\n"
      "credentials: PCGEN_REGISTRY_USER and PCGEN_REGISTRY_PASSWORD when both are set (in memory\n"
      "only; with --engine docker a private docker config for this run), else docker's own config\n"
      "as docker push reads it: the host's credHelpers, else credsStore (docker-credential-NAME get,\n"
      "killed after PCGEN_CREDENTIAL_HELPER_TIMEOUT seconds, default 60), else its auths entry.\n"
      "exit: 0 every selected tag published (or would be), 1 a tag was refused (not built, not\n"
      "certified), 2 usage, 3 the engine or the registry failed (a re-run completes the push)\n";

struct publish_opts
{
  const char *to, *report, *matrix;
  int dry_run;
  enum build_engine engine;
};

static int
parse (int argc, char **argv, struct publish_opts *o)
{
  static const struct option opts[] = { { "to", required_argument, NULL, 't' },     { "dry-run", no_argument, NULL, 'n' },
                                        { "report", required_argument, NULL, 'r' }, { "matrix", required_argument, NULL, 'm' },
                                        { "engine", required_argument, NULL, 'e' }, { "help", no_argument, NULL, 'h' },
                                        { 0 } };
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
      case 'e':
        {
          int e;
          if (engine_option (optarg, publish_usage, &e) < 0)
            return -1;
          o->engine = (enum build_engine) e;
        }
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

/* Whether t may be published: built here, and that image certified. Fills id and the
   certificate c (read once: publish asks it for the level and the manifest digest). */
static int
admissible (const struct ptag *t, struct strbuf *id, struct certificate *c, struct strbuf *why)
{
  if (docker_image_id (t->ref, id) < 0)
    {
      strbuf_addf (why, "not built: no image %s in the engine (run 'pcgen build %s')", t->ref, t->name);
      return 0;
    }
  if (!certificate_check (id->buf, c, why))
    {
      strbuf_addf (why, " (run 'pcgen certify %s')", t->name);
      return 0;
    }
  return 1;
}

/* The same for an image the writer made: its layout build/oci/<tag>, whose config digest is
   the image ID the certificate names. */
static int
admissible_layout (const struct ptag *t, struct strbuf *id, struct certificate *c, struct strbuf *why)
{
  cleanup_free char *layout = xasprintf (OCI_DIR "/%s", t->name);
  cleanup_free char *ix = xasprintf ("%s/index.json", layout);
  char sha[SHA256_HEX_LEN + 1];
  struct strbuf err = STRBUF_INIT;
  if (access (ix, F_OK) != 0)
    {
      strbuf_addf (why, "not built: no image layout %s (run 'pcgen build %s'; an image docker build made is "
                        "published with --engine docker)",
                   layout, t->name);
      return 0;
    }
  if (layout_config_sha (layout, sha, &err) < 0)
    {
      strbuf_addf (why, "unreadable layout: %s", err.buf);
      strbuf_release (&err);
      return 0;
    }
  strbuf_addf (id, "sha256:%s", sha);
  if (!certificate_check (id->buf, c, why))
    {
      strbuf_addf (why, " (run 'pcgen certify %s')", t->name);
      return 0;
    }
  return 1;
}

/* A tag's or an alias's "status" in the report (docs/publishing.md, "The rest, for both engines"). */
enum publish_status
{
  PUBLISH_PUSHED,
  PUBLISH_WOULD_PUSH, /* --dry-run */
  PUBLISH_REFUSED,    /* not built, not certified, or another manifest digest certified */
  PUBLISH_FAILED,     /* the engine or the registry failed */
  PUBLISH_NOT_PUSHED, /* an alias whose tag was not pushed */
  PUBLISH_SKIPPED_NO_SOURCE,
};
static const char *const publish_status_names[]
    = { [PUBLISH_PUSHED] = "pushed",         [PUBLISH_WOULD_PUSH] = "would push",
        [PUBLISH_REFUSED] = "refused",       [PUBLISH_FAILED] = "failed",
        [PUBLISH_NOT_PUSHED] = "not pushed", [PUBLISH_SKIPPED_NO_SOURCE] = "skipped: no source" };

static void
set_status (json_t *o, enum publish_status s)
{
  json_object_set_new (o, "status", json_string (publish_status_names[s]));
}

struct counts
{
  size_t pushed, refused, failed, skipped;
};

/* The report entry of a tag whose manifest the registry now holds under ref. */
static void
tag_pushed (json_t *entry, const char *ref, const char *digest, int up, int had)
{
  set_status (entry, PUBLISH_PUSHED);
  json_object_set_new (entry, "ref", json_string (ref));
  json_object_set_new (entry, "digest", json_string (digest));
  json_object_set_new (entry, "layers_uploaded", json_integer (up));
  json_object_set_new (entry, "layers_present", json_integer (had));
}

/* t's alias i, in the report entry a and on the terminal: pushed at digest, or failed and why
   (both engines report aliases alike). */
static void
alias_pushed (json_t *a, const struct ptag *t, size_t i, const char *digest)
{
  printf ("pushed  %-36s %s  (alias of %s)\n", t->aliases[i], digest, t->name);
  fflush (stdout);
  set_status (a, PUBLISH_PUSHED);
  json_object_set_new (a, "digest", json_string (digest));
}

static void
alias_failed (json_t *a, const struct ptag *t, size_t i, const char *why)
{
  error ("%s: alias %s: %s", t->name, t->aliases[i], why);
  set_status (a, PUBLISH_FAILED);
  json_object_set_new (a, "why", json_string (why));
}

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
      set_status (entry, PUBLISH_FAILED);
      json_object_set_new (entry, "why", json_string (err.buf));
      strbuf_release (&err);
      return -1;
    }
  printf ("pushed  %-36s %s  %d layer%s uploaded, %d already there, %.0fs\n", t->name, digest, up, up == 1 ? "" : "s",
          had, now () - t0);
  fflush (stdout); /* a line per push as it happens, also into a pipe */
  tag_pushed (entry, ref, digest, up, had);
  json_t *aliases = json_object_get (entry, "aliases");
  for (size_t i = 0; i < t->naliases && rc == 0; i++)
    {
      cleanup_free char *aref = xasprintf ("%s/%s:%s", d->host, d->repo, t->aliases[i]);
      char *adigest = NULL;
      strbuf_reset (&err);
      json_t *a = json_array_get (aliases, i);
      if (publish_push (cfg, id, aref, &adigest, &up, &had, &err) < 0)
        {
          alias_failed (a, t, i, err.buf);
          rc = -1;
        }
      else
        alias_pushed (a, t, i, adigest);
      free (adigest);
    }
  if (rc < 0)
    set_status (entry, PUBLISH_FAILED);
  free (digest);
  strbuf_release (&err);
  return rc;
}

/* Push t's image from its layout with the registry API (registry.h): the blobs, then the
   manifest as the tag and each alias; the digest the registry answers must be pcgen's. */
static int
push_tag_api (const struct ptag *t, const struct publish_dest *d, struct registry *reg, const struct push_image *img,
              json_t *entry)
{
  cleanup_free char *ref = xasprintf ("%s/%s:%s", d->host, d->repo, t->name);
  struct strbuf err = STRBUF_INIT;
  char *digest = NULL;
  cleanup_free char *want = xasprintf ("sha256:%s", img->manifest_sha);
  int up = 0, had = 0, mounted = 0, rc = -1;
  unsigned long long bytes = 0;
  double t0 = now ();
  fprintf (stderr, "publish: %s: pushing %s\n", t->name, ref);
  /* The config, then the layers bottom to top. */
  for (size_t i = 0; i <= img->nlayers; i++)
    {
      const struct push_blob *b = i == 0 ? &img->config : &img->layers[i - 1];
      enum blob_how how;
      if (registry_push_blob (reg, b->sha, b->size, b->path, &how, &err) < 0)
        goto fail;
      if (i == 0)
        continue;
      if (how == BLOB_UPLOADED)
        up++, bytes += b->size;
      else if (how == BLOB_MOUNTED)
        mounted++;
      else
        had++;
      fprintf (stderr, "publish: %s: layer %zu/%zu sha256:%.12s %.1f MB %s\n", t->name, i, img->nlayers, b->sha,
               (double) b->size / 1e6, how == BLOB_UPLOADED ? "uploaded" : how == BLOB_MOUNTED ? "mounted" : "already there");
    }
  if (registry_put_manifest (reg, t->name, OCI_MT_MANIFEST, img->manifest, &digest, &err) < 0)
    goto fail;
  if (!streq (digest, want))
    {
      strbuf_addf (&err, "the registry stored the manifest of %s as %s, but pcgen computed %s", ref, digest, want);
      goto fail;
    }
  printf ("pushed  %-36s %s  %d layer%s uploaded, %d already there, %.0fs\n", t->name, digest, up, up == 1 ? "" : "s",
          had + mounted, now () - t0);
  fflush (stdout);
  tag_pushed (entry, ref, digest, up, had);
  json_object_set_new (entry, "layers_mounted", json_integer (mounted));
  json_object_set_new (entry, "bytes_uploaded", json_integer ((json_int_t) bytes));
  rc = 0;
  json_t *aliases = json_object_get (entry, "aliases");
  for (size_t i = 0; i < t->naliases && rc == 0; i++)
    {
      char *adigest = NULL;
      json_t *a = json_array_get (aliases, i);
      strbuf_reset (&err);
      if (registry_put_manifest (reg, t->aliases[i], OCI_MT_MANIFEST, img->manifest, &adigest, &err) < 0
          || !streq (adigest, want))
        {
          if (adigest && !err.len)
            strbuf_addf (&err, "the registry stored it as %s, but pcgen computed %s", adigest, want);
          alias_failed (a, t, i, err.buf);
          set_status (entry, PUBLISH_FAILED);
          rc = -1;
        }
      else
        alias_pushed (a, t, i, adigest);
      free (adigest);
    }
  free (digest);
  strbuf_release (&err);
  return rc;
fail:
  error ("%s: %s", t->name, err.buf);
  set_status (entry, PUBLISH_FAILED);
  json_object_set_new (entry, "why", json_string (err.buf));
  free (digest);
  strbuf_release (&err);
  return -1;
}

struct publish_ctx
{
  const struct publish_dest *d;
  const char *cfg;      /* --engine docker: the private docker config, or NULL */
  struct registry *reg; /* --engine writer */
  int dry_run;
  enum build_engine engine;
};

/* A refusal: one line naming the tag, why, and the aliases left alone. */
static void
refuse (const struct ptag *t, json_t *entry, const char *why, struct counts *n)
{
  struct strbuf names = STRBUF_INIT;
  alias_list (t, &names);
  printf ("refused %-36s %s%s%s\n", t->name, why, names.len ? "; aliases not pushed: " : "", names.buf);
  set_status (entry, PUBLISH_REFUSED);
  json_object_set_new (entry, "why", json_string (why));
  strbuf_release (&names);
  n->refused++;
}

/* The writer's image of t (certified as id, c its certificate) made ready to push: its push
   manifest, whose digest the certificate must name (certificate_digest_check: pcgen pushes only
   the manifest that was certified; one naming none gets it recorded here, unless dry_run).
   Returns 0 with img filled, 1 when refused (why), -1 when it could not be made (printed, entry
   says so). */
static int
prepare_checked (const struct ptag *t, const char *id, const struct certificate *c, int dry_run,
                 struct push_image *img, json_t *entry, struct strbuf *why)
{
  cleanup_free char *layout = xasprintf (OCI_DIR "/%s", t->name);
  struct strbuf err = STRBUF_INIT;
  struct error e = ERROR_INIT;
  fprintf (stderr, "publish: %s: its push manifest (layers compressed once per machine, cached)\n", t->name);
  /* After build --lean the layer tars are the engine's alone: those not compressed yet come
     back from docker save (engine_layers.h). */
  int taken = engine_gz_layers (layout, id, &err);
  if (taken > 0)
    fprintf (stderr, "publish: %s: %d layer tar%s taken back from the engine (build --lean had removed them), compressed\n",
             t->name, taken, taken == 1 ? "" : "s");
  if (taken < 0 || push_image_prepare (layout, 0, img, &err) < 0)
    {
      error ("%s: %s", t->name, err.buf);
      set_status (entry, PUBLISH_FAILED);
      json_object_set_new (entry, "why", json_string (err.buf));
      strbuf_release (&err);
      return -1;
    }
  strbuf_release (&err);
  cleanup_free char *digest = xasprintf ("sha256:%s", img->manifest_sha);
  json_object_set_new (entry, "manifest_digest", json_string (digest));
  if (c->manifest_digest == NULL)
    {
      /* None named (certify compresses nothing): the manifest made from the certified image's
         layers (its config is the certified image ID, checked by admissible_layout) is recorded
         before anything is pushed, so the certificate names what the registry will hold. */
      if (!dry_run && certificate_set_manifest_digest (id, digest, &err) < 0)
        {
          error ("%s: %s", t->name, err.buf);
          set_status (entry, PUBLISH_FAILED);
          json_object_set_new (entry, "why", json_string (err.buf));
          strbuf_release (&err);
          push_image_release (img);
          return -1;
        }
      fprintf (stderr, "publish: %s: its certificate %s manifest %s\n", t->name, dry_run ? "would name" : "now names",
               digest);
      return 0;
    }
  if (certificate_digest_check (c, digest, &e) < 0)
    {
      /* Another one: the blobs differ from those certified (another zlib, a changed cache), so
         the image is verified again. */
      strbuf_addf (why, "%s (run 'pcgen certify --force %s')", e.msg.buf, t->name);
      err_release (&e);
      push_image_release (img);
      return 1;
    }
  return 0;
}

static void
publish_one (const struct ptag *t, const struct publish_ctx *x, json_t *entry, struct counts *n)
{
  const struct publish_dest *d = x->d;
  int dry_run = x->dry_run;
  struct strbuf id = STRBUF_INIT, why = STRBUF_INIT, names = STRBUF_INIT, mdig = STRBUF_INIT;
  struct certificate cert = { 0 };
  struct push_image img;
  int prepared = 0;
  json_t *aliases = json_array ();
  for (size_t i = 0; i < t->naliases; i++)
    json_array_append_new (aliases, json_pack ("{s:s,s:s}", "name", t->aliases[i], "status",
                                               publish_status_names[PUBLISH_NOT_PUSHED]));
  json_object_set_new (entry, "aliases", aliases);
  if (!(x->engine == ENGINE_DOCKER ? admissible (t, &id, &cert, &why) : admissible_layout (t, &id, &cert, &why)))
    {
      refuse (t, entry, why.buf, n);
      goto out;
    }
  json_object_set_new (entry, "image_id", json_string (id.buf));
  json_object_set_new (entry, "certificate_level", json_string (cert_level_word (cert.level)));
  /* The writer's image: its push manifest (compressing what is not yet cached), whose digest
     the certificate must name, before anything is sent (also for a dry run: the digest the
     registry would hold is then known without contacting it). */
  if (x->engine == ENGINE_WRITER)
    {
      int prc = prepare_checked (t, id.buf, &cert, dry_run, &img, entry, &why);
      if (prc < 0)
        {
          n->failed++;
          goto out;
        }
      if (prc > 0)
        {
          refuse (t, entry, why.buf, n);
          goto out;
        }
      prepared = 1;
      strbuf_addf (&mdig, "sha256:%s", img.manifest_sha);
    }
  if (dry_run)
    {
      alias_list (t, &names);
      printf ("would push %-33s %s/%s:%s (image %.19s, certified %s%s%.19s)%s%s\n", t->name, d->host, d->repo, t->name,
              id.buf, cert_level_word (cert.level), mdig.len ? ", manifest " : "", mdig.buf, names.len ? " with " : "", names.buf);
      set_status (entry, PUBLISH_WOULD_PUSH);
      n->pushed++;
      goto out;
    }
  if ((x->engine == ENGINE_DOCKER ? push_tag (t, d, x->cfg, id.buf, entry) : push_tag_api (t, d, x->reg, &img, entry)) < 0)
    n->failed++;
  else
    n->pushed++;
out:
  if (prepared)
    push_image_release (&img);
  strbuf_release (&mdig);
  certificate_release (&cert);
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
  struct publish_opts o = { NULL, DEFAULT_REPORT, DEFAULT_MATRIX, 0, ENGINE_WRITER };
  int r = parse (argc, argv, &o);
  if (r)
    return r > 0 ? EXIT_OK : EXIT_USAGE;
  struct project p;
  struct publish_dest d = { 0 };
  struct strbuf err = STRBUF_INIT;
  char *cfg = NULL;
  struct registry *reg = NULL;
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
  /* Process-wide, once, and only when there will be a private docker config to remove (SIGPIPE
     stays fatal otherwise): its removal at exit and on a fatal signal (publish.h). */
  if (o.engine == ENGINE_DOCKER && !o.dry_run && publish_credentials_wanted ())
    publish_credentials_guard ();
  if (o.engine == ENGINE_DOCKER && (docker_ping (&err) < 0 || (!o.dry_run && publish_credentials (d.host, &cfg, &err) < 0)))
    {
      error ("%s", err.buf);
      rc = EXIT_ENV;
      goto out;
    }
  if (o.engine == ENGINE_WRITER && !o.dry_run)
    {
      struct registry_creds creds;
      struct error ce = ERROR_INIT;
      if (credentials_find (d.host, &creds, &ce) < 0)
        {
          rc = cmd_error (&ce);
          err_release (&ce);
          goto out;
        }
      if ((reg = registry_open (d.host, d.repo, &creds)) == NULL)
        {
          registry_creds_release (&creds);
          error ("cannot initialize libcurl");
          rc = EXIT_ENV;
          goto out;
        }
    }
  struct publish_ctx x = { &d, cfg, reg, o.dry_run, o.engine };
  int named = argc > optind;
  report = json_pack ("{s:s,s:s,s:s,s:b,s:[]}", "registry", d.host, "repository", d.repo, "engine",
                      build_engine_name (o.engine), "dry_run", o.dry_run, "tags");
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
          set_status (entry, PUBLISH_SKIPPED_NO_SOURCE);
          n.skipped++;
          continue;
        }
      publish_one (t, &x, entry, &n);
    }
  printf ("publish: %zu %s, %zu refused, %zu failed, %zu without a source; %s/%s; report %s\n", n.pushed,
          o.dry_run ? "would be pushed" : "pushed", n.refused, n.failed, n.skipped, d.host, d.repo, o.report);
  if (write_report (o.report, report) < 0)
    rc = EXIT_ENV;
  else
    rc = n.failed ? EXIT_ENV : n.refused ? EXIT_INVALID : EXIT_OK;
out:
  json_decref (report);
  registry_close (reg);
  if (cfg)
    publish_credentials_remove ();
  free (cfg);
  free (sel);
  strbuf_release (&err);
  publish_dest_release (&d);
  project_close (&p);
  return rc;
}
