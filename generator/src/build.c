/* build.c: see build.h. */
#include "build.h"
#include "docker.h"
#include "fsutil.h"
#include "run.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int
file_digest (const char *path, char *out, struct strbuf *err)
{
  if (sha256_file (path, out, NULL) < 0)
    return strbuf_addf (err, "cannot read '%s': %s%s", path, strerror (errno),
                        strcmp (path, VERIFIER_BINARY) == 0 ? " (make builds it)" : ""), -1;
  return 0;
}

char *
build_inputs_digest (const struct ptag *t, const char *base_ref, const struct staged_layer *l, size_t nl,
                     struct strbuf *err)
{
  char d[SHA256_HEX_LEN + 1];
  struct strbuf sb = STRBUF_INIT;
  cleanup_free char *df = xasprintf ("images/%s/Dockerfile", t->name);
  cleanup_free char *env = xasprintf ("images/%s/image.env", t->name);
  const char *files[] = { df, env, VERIFIER_BINARY };
  strbuf_addf (&sb, "base %s\n", base_ref);
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      if (file_digest (files[i], d, err) < 0)
        {
          strbuf_release (&sb);
          return NULL;
        }
      strbuf_addf (&sb, "%s %s\n", files[i], d);
    }
  for (size_t i = 0; i < nl; i++)
    strbuf_addf (&sb, "layer %s %s\n", l[i].name, l[i].sha256);
  if (t->runtime)
    {
      /* A devel image is stale when its runtime image was rebuilt: the runtime's ID counts. */
      struct strbuf rid = STRBUF_INIT;
      docker_image_id (t->runtime->ref, &rid);
      strbuf_addf (&sb, "from %s %s\n", t->runtime->ref, rid.buf);
      strbuf_release (&rid);
    }
  sha256_hex (sb.buf, sb.len, d);
  strbuf_release (&sb);
  return xstrdup (d);
}

static char *
record_path (const struct ptag *t)
{
  return xasprintf ("results/builds/%s.json", t->name);
}

int
build_up_to_date (const struct ptag *t, const char *inputs_digest, struct build_result *r)
{
  cleanup_free char *path = record_path (t);
  json_t *rec = json_load_file (path, 0, NULL);
  if (rec == NULL)
    return 0;
  const char *inputs = json_string_value (json_object_get (rec, "inputs"));
  const char *id = json_string_value (json_object_get (rec, "image_id"));
  struct strbuf now = STRBUF_INIT;
  int same = inputs && id && strcmp (inputs, inputs_digest) == 0 && docker_image_id (t->ref, &now) == 0
             && strcmp (now.buf, id) == 0;
  /* An alias missing (removed by hand) makes the tag stale too. */
  for (size_t i = 0; same && i < t->naliases; i++)
    {
      cleanup_free char *alias = xasprintf ("%.*s:%s", (int) (strrchr (t->ref, ':') - t->ref), t->ref, t->aliases[i]);
      struct strbuf aid = STRBUF_INIT;
      same = docker_image_id (alias, &aid) == 0 && strcmp (aid.buf, id) == 0;
      strbuf_release (&aid);
    }
  if (same)
    {
      r->image_id = xstrdup (id);
      r->size = (unsigned long long) json_integer_value (json_object_get (rec, "size"));
      r->status = "up to date";
    }
  strbuf_release (&now);
  json_decref (rec);
  return same;
}

/* build/context/<tag>: hard links where the file system allows (layers are GBs), else copies. */
static int
place (const char *src, const char *dst, struct strbuf *err)
{
  unlink (dst);
  if (link (src, dst) == 0)
    return 0;
  const char *argv[] = { "cp", "--reflink=auto", src, dst, NULL };
  struct run_opts o = { argv, NULL, NULL, NULL, NULL, 1 };
  if (run_command (&o) != 0)
    return strbuf_addf (err, "cannot copy '%s' to '%s'", src, dst), -1;
  return 0;
}

static int
make_context (const struct ptag *t, const struct staged_layer *l, size_t nl, char **ctx, struct strbuf *err)
{
  *ctx = xasprintf ("build/context/%s", t->name);
  cleanup_free char *layers = xasprintf ("%s/layers", *ctx);
  const char *argv[] = { "rm", "-rf", *ctx, NULL };
  struct run_opts o = { argv, NULL, NULL, NULL, NULL, 1 };
  if (run_command (&o) != 0 || mkdir_p (layers, 0755) < 0)
    return strbuf_addf (err, "cannot make '%s': %s", layers, strerror (errno)), -1;
  cleanup_free char *df = xasprintf ("images/%s/Dockerfile", t->name);
  cleanup_free char *env = xasprintf ("images/%s/image.env", t->name);
  cleanup_free char *df2 = xasprintf ("%s/Dockerfile", *ctx);
  cleanup_free char *env2 = xasprintf ("%s/image.env", *ctx);
  cleanup_free char *ver2 = xasprintf ("%s/pytorch-cuda-verify", *ctx);
  if (place (df, df2, err) < 0 || place (env, env2, err) < 0 || place (VERIFIER_BINARY, ver2, err) < 0)
    return -1;
  for (size_t i = 0; i < nl; i++)
    {
      cleanup_free char *dst = xasprintf ("%s/%s.tar", layers, l[i].name);
      if (place (l[i].path, dst, err) < 0)
        return -1;
    }
  return 0;
}

static int
write_record (const struct ptag *t, const struct build_result *r, const char *inputs, const char *base_ref,
              const struct staged_layer *l, size_t nl, struct strbuf *err)
{
  json_t *layers = json_object ();
  for (size_t i = 0; i < nl; i++)
    json_object_set_new (layers, l[i].name, json_string (l[i].sha256));
  json_t *rec = json_pack ("{s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:f}", "tag", t->name, "image", t->ref,
                           "image_id", r->image_id, "inputs", inputs, "size", (json_int_t) r->size, "base",
                           base_ref, "layers", layers, "seconds", r->seconds);
  char *text = json_dumps (rec, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  json_decref (rec);
  cleanup_free char *path = record_path (t);
  int rc = mkdir_p ("results/builds", 0755) < 0 || write_file_atomic (path, text, strlen (text), 0644) < 0 ? -1 : 0;
  if (rc < 0)
    strbuf_addf (err, "cannot write '%s': %s", path, strerror (errno));
  free (text);
  return rc;
}

int
build_image (const struct ptag *t, const char *base_ref, const struct staged_layer *l,
             size_t nl, const char *inputs, struct build_result *r, struct strbuf *err)
{
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  cleanup_free char *ctx = NULL;
  if (make_context (t, l, nl, &ctx, err) < 0)
    return -1;
  cleanup_free char *df = xasprintf ("%s/Dockerfile", ctx);
  cleanup_free char *arg = xasprintf ("BASE_IMAGE=%s", base_ref);
  /* A devel image builds on the runtime image of this plan's repository, which need not be the
     one the committed Dockerfile names (a matrix with another repository: same Dockerfile). */
  cleanup_free char *rarg = xasprintf ("RUNTIME_IMAGE=%s", t->runtime ? t->runtime->ref : "");
  const char *argv[13] = { docker_bin (), "build", "--quiet", "--build-arg", arg, "-t", t->ref, "-f", df };
  size_t argc = 9;
  if (t->runtime)
    {
      argv[argc++] = "--build-arg";
      argv[argc++] = rarg;
    }
  argv[argc++] = ctx;
  argv[argc] = NULL;
  const char *env[] = { "DOCKER_BUILDKIT=1", NULL };
  struct strbuf out = STRBUF_INIT, perr = STRBUF_INIT;
  struct run_opts o = { argv, NULL, env, &out, &perr, 1 };
  fprintf (stderr, "build: %s: docker build ...\n", t->name);
  int rc = run_command (&o);
  if (rc != 0)
    {
      strbuf_addf (err, "docker build of %s failed (exit %d):\n%s", t->name, rc, perr.buf);
      strbuf_release (&out);
      strbuf_release (&perr);
      return -1;
    }
  strbuf_release (&out);
  strbuf_release (&perr);
  struct strbuf id = STRBUF_INIT;
  docker_image_id (t->ref, &id);
  r->image_id = strbuf_detach (&id, NULL);
  r->size = docker_image_size (t->ref);
  const char *repo_end = strrchr (t->ref, ':');
  for (size_t i = 0; i < t->naliases; i++)
    {
      cleanup_free char *alias = xasprintf ("%.*s:%s", (int) (repo_end - t->ref), t->ref, t->aliases[i]);
      const char *tag_argv[] = { "docker", "tag", t->ref, alias, NULL };
      if (docker_run (tag_argv, NULL, err) < 0)
        return -1;
    }
  clock_gettime (CLOCK_MONOTONIC, &t1);
  r->seconds = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
  r->status = "built";
  return write_record (t, r, inputs, base_ref, l, nl, err);
}

void
build_result_release (struct build_result *r)
{
  free (r->image_id);
  free (r->why);
  memset (r, 0, sizeof *r);
}
