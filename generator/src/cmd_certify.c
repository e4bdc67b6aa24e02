/* cmd_certify.c: `pcgen certify [TAG...]`: run pytorch-cuda-verify in each built image, keep
   the certificates, print a summary. */
#include "certify.h"
#include "cmd.h"
#include "docker.h"
#include "exitcode.h"
#include "project.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char certify_usage[]
    = "usage: pcgen certify [--force] [--gpus | --no-gpus] [--matrix FILE] [TAG|GLOB...]\n"
      "Run pytorch-cuda-verify --json in each built image (docker run; with --gpus all when the\n"
      "engine has the NVIDIA runtime, or --gpus) and keep the certificate as\n"
      "results/certificates/<image id>.json. Tags without an image in the engine are skipped, and\n"
      "images that already have a passing certificate are not verified again unless --force.\n"
      "A certificate names the image ID and, for an image pcgen wrote (build/oci/<tag>), the\n"
      "manifest digest publish will push (its layers compressed now, cached); a kept certificate\n"
      "without one gets it.\n"
      "exit: 0 every image certified, 1 a check failed, 2 usage, 3 the engine or verifier failed\n";

int
cmd_certify (int argc, char **argv)
{
  static const struct option opts[] = { { "gpus", no_argument, NULL, 'g' }, { "no-gpus", no_argument, NULL, 'n' },
                                        { "force", no_argument, NULL, 'f' },
                                        { "matrix", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' }, { 0 } };
  int gpus = -1, force = 0, c;
  const char *matrix = DEFAULT_MATRIX;
  optind = 1;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'g':
        gpus = 1;
        break;
      case 'n':
        gpus = 0;
        break;
      case 'f':
        force = 1;
        break;
      case 'm':
        matrix = optarg;
        break;
      case 'h':
        fputs (certify_usage, stdout);
        return EXIT_OK;
      default:
        fputs (certify_usage, stderr);
        return EXIT_USAGE;
      }
  struct project p;
  int rc = project_open (&p, matrix);
  struct strbuf err = STRBUF_INIT;
  int *sel = NULL;
  if (rc != EXIT_OK)
    goto out;
  sel = xcalloc (p.plan.ntags + 1, sizeof *sel);
  if (select_tags (&p.plan, argv + optind, (size_t) (argc - optind), sel) < 0)
    {
      rc = EXIT_USAGE;
      goto out;
    }
  if (docker_ping (&err) < 0)
    {
      error ("%s", err.buf);
      rc = EXIT_ENV;
      goto out;
    }
  if (gpus < 0)
    gpus = certify_engine_has_gpus ();
  printf ("%-36s %-14s %-7s %-10s %6s  %s\n", "TAG", "IMAGE ID", "LEVEL", "RESULT", "TIME", "FAILED CHECKS");
  size_t certified = 0, failed = 0, skipped = 0, broken = 0;
  for (size_t i = 0; i < p.plan.ntags; i++)
    {
      const struct ptag *t = &p.plan.tags[i];
      if (!sel[i])
        continue;
      if (docker_image_id (t->ref, NULL) < 0)
        {
          skipped++;
          continue;
        }
      struct strbuf id = STRBUF_INIT;
      docker_image_id (t->ref, &id);
      struct certificate kept = { 0 };
      strbuf_reset (&err);
      int have = !force && certificate_check (id.buf, &kept, &err);
      if (have)
        {
          /* A certificate from before pcgen recorded the push manifest's digest gets it now: it
             is a function of the image's layers, which the certificate's image ID fixes. */
          cleanup_free char *digest = NULL;
          const char *note = "(certificate kept)";
          int drc = kept.manifest_digest == NULL ? certify_manifest_digest (t->name, id.buf, &digest, &err) : 0;
          if (drc < 0)
            {
              error ("%s: the push manifest's digest: %s", t->name, err.buf);
              broken++;
            }
          else if (drc > 0)
            certify_lean_note (t->name);
          else if (digest && certificate_set_manifest_digest (id.buf, digest, &err) < 0)
            {
              error ("%s: %s", t->name, err.buf);
              broken++;
            }
          else if (digest)
            note = "(certificate kept, manifest digest recorded)";
          printf ("%-36s %-14s %-7s %-10s %6s  %s\n", t->name, "", "", cert_verdict_name (VERDICT_CERTIFIED), "", note);
          certified++;
          certificate_release (&kept);
          strbuf_release (&id);
          continue;
        }
      certificate_release (&kept);
      strbuf_release (&id);
      struct certify_result r = { 0 };
      strbuf_reset (&err);
      if (certify_image (t, gpus, &r, &err) < 0)
        {
          error ("%s: %s", t->name, err.buf);
          broken++;
        }
      else
        {
          printf ("%-36s %-14.12s %-7s %-10s %5.1fs  %s\n", t->name, r.image_id + 7, cert_level_word (r.level),
                  cert_verdict_word (r.verdict), r.seconds,
                  *r.failed_checks ? r.failed_checks : "-");
          r.verdict == VERDICT_CERTIFIED ? certified++ : failed++;
        }
      certify_result_release (&r);
    }
  printf ("certify: %zu certified, %zu failed, %zu not built (skipped)%s\n", certified, failed, skipped,
          gpus ? "" : "; level static: no GPU in this engine");
  rc = broken ? EXIT_ENV : failed ? EXIT_INVALID : EXIT_OK;
out:
  free (sel);
  strbuf_release (&err);
  project_close (&p);
  return rc;
}
