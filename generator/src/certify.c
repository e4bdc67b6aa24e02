/* certify.c: see certify.h. */
#include "certify.h"
#include "blob_gzip.h"
#include "docker.h"
#include "fsutil.h"
#include "image_writer.h"
#include "kinds.h"
#include "oci.h"
#include "push_image.h"
#include "run.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CERT_DIR "results/certificates"

int
certify_engine_has_gpus (void)
{
  const char *argv[] = { "docker", "info", "--format", "{{json .Runtimes}}", NULL };
  struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
  int has = docker_run (argv, &out, &err) == 0 && strstr (out.buf, "\"nvidia\"") != NULL;
  strbuf_release (&out);
  strbuf_release (&err);
  return has;
}

char *
certificate_path (const char *image_id)
{
  const char *hex = starts_with (image_id, "sha256:") ? image_id + 7 : image_id;
  return xasprintf ("%s/%s.json", CERT_DIR, hex);
}

static const char *const cert_verdict_names[] = { [VERDICT_CERTIFIED] = "certified", [VERDICT_FAILED] = "failed", NULL };
static const char *const cert_level_names[] = { [LEVEL_STATIC] = "static", [LEVEL_GPU] = "gpu", NULL };
static const char *const check_status_names[]
    = { [CHECK_STATUS_PASS] = "pass", [CHECK_STATUS_FAIL] = "fail", [CHECK_STATUS_SKIP] = "skip", NULL };

NAME_TABLE_FUNCTIONS (cert_verdict)
NAME_TABLE_FUNCTIONS (cert_level)
NAME_TABLE_FUNCTIONS (check_status)

const char *
cert_verdict_word (int v)
{
  return v < 0 ? "?" : cert_verdict_name ((enum cert_verdict) v);
}

const char *
cert_level_word (int l)
{
  return l < 0 ? "?" : cert_level_name ((enum cert_level) l);
}

/* The verdict, the level and the failed checks of a certificate's JSON. */
static void
summarize (json_t *cert, int *verdict, int *level, char **failed_checks)
{
  *verdict = cert_verdict_parse (json_string_value (json_object_get (cert, "result")));
  *level = cert_level_parse (json_string_value (json_object_get (cert, "level")));
  struct strbuf failed = STRBUF_INIT;
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (cert, "checks"), i, c)
  if (check_status_parse (json_string_value (json_object_get (c, "status"))) == CHECK_STATUS_FAIL)
    strbuf_addf (&failed, "%s%s", failed.len ? "," : "", json_string_value (json_object_get (c, "name")));
  *failed_checks = strbuf_detach (&failed, NULL);
}

int
certificate_load (const char *image_id, struct certificate *c, struct strbuf *why)
{
  memset (c, 0, sizeof *c);
  c->verdict = c->level = -1;
  c->path = certificate_path (image_id);
  json_error_t je;
  json_t *j = json_load_file (c->path, 0, &je);
  int ok = 0;
  if (j == NULL && access (c->path, F_OK) != 0)
    strbuf_addf (why, "image %.19s has no certificate", image_id);
  else if (j == NULL)
    strbuf_addf (why, "its certificate %s is unreadable (%s)", c->path, je.text);
  else if (!streq (json_string_value (json_object_get (j, "image_id")), image_id))
    strbuf_addf (why, "its certificate %s is for another image", c->path);
  else
    {
      ok = 1;
      summarize (j, &c->verdict, &c->level, &c->failed_checks);
      const char *d = json_string_value (json_object_get (j, "manifest_digest"));
      c->manifest_digest = d ? xstrdup (d) : NULL;
    }
  json_decref (j);
  return ok;
}

void
certificate_release (struct certificate *c)
{
  free (c->path);
  free (c->failed_checks);
  free (c->manifest_digest);
  memset (c, 0, sizeof *c);
}

int
certificate_passed_as (const struct certificate *c, struct strbuf *why)
{
  if (c->verdict == VERDICT_CERTIFIED)
    return 1;
  strbuf_addf (why, "its certificate %s says %s (failed checks: %s)", c->path, cert_verdict_word (c->verdict),
               c->failed_checks && *c->failed_checks ? c->failed_checks : "-");
  return 0;
}

int
certificate_check (const char *image_id, struct certificate *c, struct strbuf *why)
{
  return certificate_load (image_id, c, why) && certificate_passed_as (c, why);
}

int
certificate_passed (const char *image_id)
{
  struct certificate c;
  struct strbuf ignored = STRBUF_INIT;
  int ok = certificate_check (image_id, &c, &ignored);
  certificate_release (&c);
  strbuf_release (&ignored);
  return ok;
}

int
certify_image (const struct ptag *t, int gpus, struct certify_result *r, struct strbuf *err)
{
  struct strbuf id = STRBUF_INIT;
  if (docker_image_id (t->ref, &id) < 0)
    {
      strbuf_addf (err, "no image %s in the engine: run 'pcgen build %s'", t->ref, t->name);
      strbuf_release (&id);
      return -1;
    }
  r->image_id = strbuf_detach (&id, NULL);
  cleanup_free char *idenv = xasprintf ("PYTORCH_CUDA_IMAGE_ID=%s", r->image_id);
  const char *argv_gpu[] = { docker_bin (), "run", "--rm", "--gpus", "all", "-e", idenv, t->ref, "pytorch-cuda-verify", "--json", NULL };
  const char *argv_cpu[] = { docker_bin (), "run", "--rm", "-e", idenv, t->ref, "pytorch-cuda-verify", "--json", NULL };
  struct strbuf out = STRBUF_INIT, perr = STRBUF_INIT;
  struct run_opts o = { gpus ? argv_gpu : argv_cpu, NULL, NULL, &out, &perr, 1 };
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  r->exit_code = run_command (&o);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  r->seconds = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
  json_error_t je;
  json_t *cert = json_loads (out.buf, 0, &je);
  int rc = 0;
  if (cert == NULL)
    {
      strbuf_addf (err, "the verifier in %s printed no certificate (exit %d): %s%s", t->ref, r->exit_code,
                   perr.buf, out.buf);
      rc = -1;
    }
  else
    {
      /* The engine's view wins over what the container believes its ID is. */
      json_object_set_new (cert, "image_id", json_string (r->image_id));
      json_object_set_new (cert, "image", json_string (t->ref));
      summarize (cert, &r->verdict, &r->level, &r->failed_checks);
      /* The digest publish will push, computed now (certify.h), for an image that passed: null
         when there is no layout of it. */
      struct strbuf derr = STRBUF_INIT;
      int drc = r->verdict == VERDICT_CERTIFIED ? certify_manifest_digest (t->name, r->image_id, &r->manifest_digest, &derr) : 0;
      if (drc < 0)
        {
          strbuf_addf (err, "the push manifest's digest: %s", derr.buf);
          rc = -1;
        }
      else if (drc > 0)
        certify_lean_note (t->name);
      strbuf_release (&derr);
      json_object_set_new (cert, "manifest_digest", r->manifest_digest ? json_string (r->manifest_digest) : json_null ());
      char *text = json_dumps (cert, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
      cleanup_free char *path = certificate_path (r->image_id);
      if (mkdir_p (CERT_DIR, 0755) < 0 || write_file_atomic (path, text, strlen (text), 0644) < 0)
        {
          strbuf_addf (err, "cannot write '%s': %s", path, strerror (errno));
          rc = -1;
        }
      free (text);
      json_decref (cert);
    }
  strbuf_release (&out);
  strbuf_release (&perr);
  return rc;
}

void
certify_lean_note (const char *tag)
{
  fprintf (stderr,
           "certify: %s: " OCI_DIR "/%s has no layer tars (build --lean): the certificate names no manifest digest; "
           "publish it with --engine docker, or build it without --lean and certify again\n",
           tag, tag);
}

int
certify_manifest_digest (const char *tag, const char *image_id, char **digest, struct strbuf *err)
{
  cleanup_free char *layout = xasprintf (OCI_DIR "/%s", tag);
  cleanup_free char *ix = xasprintf ("%s/index.json", layout);
  char sha[SHA256_HEX_LEN + 1];
  struct strbuf ignored = STRBUF_INIT;
  *digest = NULL;
  /* No layout, or the layout of another image (a later build, or docker build's image): no
     manifest of pcgen's to name. */
  int mine = access (ix, F_OK) == 0 && layout_config_sha (layout, sha, &ignored) == 0
             && starts_with (image_id, "sha256:") && streq (image_id + 7, sha);
  strbuf_release (&ignored);
  if (!mine)
    return 0;
  /* build --lean removed the layer tars once the engine held them: nothing to compress. */
  struct oci_image oi;
  if (oci_image_load (&oi, layout, err) < 0)
    return -1;
  int lean = 0, compressed = 1;
  for (size_t i = 0; i < oi.nlayers; i++)
    {
      lean |= access (oi.layers[i].path, R_OK) != 0;
      compressed &= gz_layer_cached (oi.layers[i].digest);
    }
  oci_image_release (&oi);
  if (lean)
    return 1;
  /* Compressing every layer (minutes for a CUDA image) only to name a digest would make every
     certified image pay for a publish most never have: when a layer is not compressed yet, the
     certificate names none, and the first publish records it (cmd_publish.c, prepare_checked). */
  if (!compressed)
    return 0;
  struct push_image img;
  if (push_image_prepare (layout, 0, &img, err) < 0)
    return -1;
  *digest = xasprintf ("sha256:%s", img.manifest_sha);
  push_image_release (&img);
  return 0;
}

int
certificate_set_manifest_digest (const char *image_id, const char *digest, struct strbuf *err)
{
  cleanup_free char *path = certificate_path (image_id);
  json_error_t je;
  json_t *c = json_load_file (path, JSON_PRESERVE_ORDER, &je);
  if (c == NULL)
    {
      strbuf_addf (err, "cannot read '%s': %s", path, je.text);
      return -1;
    }
  json_object_set_new (c, "manifest_digest", digest ? json_string (digest) : json_null ());
  char *text = json_dumps (c, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  int rc = write_file_atomic (path, text, strlen (text), 0644);
  if (rc < 0)
    strbuf_addf (err, "cannot write '%s': %s", path, strerror (errno));
  free (text);
  json_decref (c);
  return rc;
}

int
certificate_digest_check (const struct certificate *c, const char *digest, struct error *e)
{
  if (c->manifest_digest == NULL)
    return err_set (e, ERR_INVALID, "its certificate %s names no manifest digest", c->path);
  if (!streq (c->manifest_digest, digest))
    return err_set (e, ERR_INVALID, "its certificate %s names manifest %s, but the manifest to push is %s", c->path,
                    c->manifest_digest, digest);
  return 0;
}

void
certify_result_release (struct certify_result *r)
{
  free (r->manifest_digest);
  free (r->image_id);
  free (r->failed_checks);
  memset (r, 0, sizeof *r);
}
