/* build.c: see build.h. */
#include "base.h"
#include "build.h"
#include "debs.h"
#include "docker.h"
#include "fetch.h"
#include "fsutil.h"
#include "image_writer.h"
#include "oci.h"
#include "kinds.h"
#include "run.h"
#include "sbom.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
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
build_inputs_digest (enum build_engine engine, const struct ptag *t, const char *base_ref, const struct staged_layer *l, size_t nl,
                     struct strbuf *err)
{
  char d[SHA256_HEX_LEN + 1];
  struct strbuf sb = STRBUF_INIT;
  cleanup_free char *df = xasprintf ("images/%s/Dockerfile", t->name);
  cleanup_free char *env = xasprintf ("images/%s/image.env", t->name);
  cleanup_free char *sbom = xasprintf (SBOM_BUILD_FMT, t->name);
  const char *files[] = { df, env, VERIFIER_BINARY, sbom };
  strbuf_addf (&sb, "base %s\n", base_ref);
  if (engine == ENGINE_WRITER) /* absent for docker build: its records made before stay valid */
    strbuf_addf (&sb, "engine %s\n", build_engine_name (engine));
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

/* 0 when the writer's layout of t is there but lacks a layer blob (`build --lean` removed them
   once the engine held the image): `pcgen publish` pushes from the layout, so a build must write
   it again. 1 when it is whole or absent (an image docker build made has none). */
static int
layout_whole (const struct ptag *t)
{
  cleanup_free char *dir = xasprintf (OCI_DIR "/%s", t->name);
  cleanup_free char *ix = xasprintf ("%s/index.json", dir);
  if (access (ix, F_OK) != 0)
    return 1;
  struct oci_image img;
  struct strbuf err = STRBUF_INIT;
  int loaded = oci_image_load (&img, dir, &err) == 0, whole = loaded;
  for (size_t i = 0; whole && i < img.nlayers; i++)
    whole = access (img.layers[i].path, R_OK) == 0;
  if (loaded)
    oci_image_release (&img);
  strbuf_release (&err);
  return whole;
}

int
build_up_to_date (const struct ptag *t, const char *inputs_digest, struct build_result *r)
{
  cleanup_free char *path = record_path (t);
  json_t *rec = json_load_file (path, 0, NULL);
  if (rec == NULL)
    return 0;
  if (!layout_whole (t))
    {
      json_decref (rec);
      return 0;
    }
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
      r->status = BUILD_UP_TO_DATE;
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

/* The verifier is the largest (a few MB, static). */
#define CONTEXT_FILE_MAX (256u << 20)

/* The context's own small files (Dockerfile, image.env, the verifier, the SBOM) are copied with
   their mode made 0644, or 0755 when any execute bit is set: COPY keeps a file's mode in the
   image (docker build's and the writer's alike), and a checkout made under umask 002 has 0664
   files, which changed the image ID from one machine to another. */
static int
place_normalized (const char *src, const char *dst, struct strbuf *err)
{
  struct stat st;
  struct strbuf content = STRBUF_INIT;
  int rc = 0;
  if (stat (src, &st) < 0 || strbuf_read_file (&content, src, CONTEXT_FILE_MAX) < 0)
    rc = -1, strbuf_addf (err, "cannot read '%s': %s", src, strerror (errno));
  else if (write_file_atomic (dst, content.buf, content.len, (st.st_mode & 0111) ? 0755 : 0644) < 0)
    rc = -1, strbuf_addf (err, "cannot write '%s': %s", dst, strerror (errno));
  strbuf_release (&content);
  return rc;
}

/* The wheels of set s whose sha256 is a line of `inputs` (stager_inputs): a set of its own, for
   lock_fetch (its NVCC_UNREACHABLE included). */
static int
fetch_inputs (const struct lockset *s, const char *inputs, const char *python, int offline, struct strbuf *err)
{
  struct lockset sub = *s;
  sub.w = xcalloc (s->n + 1, sizeof *sub.w);
  sub.n = 0;
  for (size_t i = 0; i < s->n; i++)
    {
      cleanup_free char *line = xasprintf ("%s\n", s->w[i].sha256);
      if (strstr (inputs, line)) /* every line is a whole digest: no match across two */
        sub.w[sub.n++] = s->w[i];
    }
  int rc = sub.n ? lock_fetch (&sub, python, offline, err) : 0;
  free (sub.w);
  return rc;
}

static unsigned long long
role_bytes (const struct lockset *ts, enum layer_role role)
{
  unsigned long long sum = 0;
  for (size_t i = 0; i < ts->n; i++)
    if ((int) ts->w[i].role == layer_role_wheels (role))
      sum += ts->w[i].size;
  return sum;
}

/* What layer i reads, into the cache: a base's packages, or the wheels and nvcc files of the
   tag's sets that the layer is made of (stager_inputs), nothing else. */
static int
fetch_layer (const struct stager *s, size_t i, const struct ptag *t, const struct lockset *ts,
             const struct lockset *ds, int offline, struct strbuf *err)
{
  enum layer_role role = stager_role (s, i);
  if (role == LAYER_TOOLCHAIN)
    return debs_fetch (t->base->toolchain, t->base->ntoolchain, offline, err);
  if (role == LAYER_BUILDTOOLS)
    return debs_fetch (t->base->buildtools, t->base->nbuildtools, offline, err);
  if (role == LAYER_NOTEBOOK_DEBS)
    return debs_fetch (t->base->notebook, t->base->nnotebook, offline, err);
  cleanup_free char *inputs = stager_inputs (s, i);
  int rc = fetch_inputs (ts, inputs, t->python, offline, err);
  if (rc == 0 && ds)
    rc = fetch_inputs (ds, inputs, t->python, offline, err); /* NVCC_UNREACHABLE: the tag is unavailable */
  return rc;
}

int
build_layers (const struct plan *p, const struct ptag *t, const struct lockfile *lf, const char *lock, int offline,
              struct staged_layer **l, size_t *nl, struct strbuf *err)
{
  /* The second set: a devel tag's devel set, a notebook tag's notebook set (lock.h). */
  int devel = t->flavor == FLAVOR_DEVEL, notebook = t->flavor == FLAVOR_NOTEBOOK;
  const struct lockset *ts = lock_find_current (lf, t, SET_TORCH, lock, err);
  const struct lockset *ds
      = ts && (devel || notebook) ? lock_find_current (lf, t, devel ? SET_DEVEL : SET_NOTEBOOK, lock, err) : NULL;
  if (ts == NULL || ((devel || notebook) && ds == NULL))
    return -1;
  /* Fetch and stage at once: each layer goes to a staging thread as soon as what it reads is in
     the cache. The base's packages first (small; their layer stages while the wheels download),
     then the torch set's roles by their locked bytes, most first, so that the layer staged
     after the last download is the smallest, then the rest in plan order. */
  struct stager *s = stager_new (p, t, ts, ds);
  size_t n = stager_count (s);
  size_t *order = xcalloc (n + 1, sizeof *order);
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  for (size_t i = 1; i < n; i++)
    for (size_t k = i; k > 0; k--)
      {
        enum layer_role a = stager_role (s, order[k - 1]), b = stager_role (s, order[k]);
        int ra = layer_role_wheels (a) >= 0 ? 1 : layer_role_debs (a) ? 0 : 2;
        int rb = layer_role_wheels (b) >= 0 ? 1 : layer_role_debs (b) ? 0 : 2;
        if (ra < rb || (ra == rb && (ra != 1 || role_bytes (ts, a) >= role_bytes (ts, b))))
          break;
        size_t x = order[k - 1];
        order[k - 1] = order[k];
        order[k] = x;
      }
  /* A layer whose tar is cached already reads nothing: its inputs are neither fetched nor
     checked (a devel tag whose nvcc layer is cached never touches nvcc's 1 GB of packages), and
     nothing else of the sets is fetched either: the SBOM takes a wheel's license from the cache's
     note when the wheel has gone (sbom.c). */
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    {
      if (!stager_cached (s, order[i]))
        rc = fetch_layer (s, order[i], t, ts, ds, offline, err);
      if (rc == 0)
        rc = stager_submit (s, order[i], err) < 0 ? -1 : 0;
    }
  free (order);
  /* The layers already handed over are finished either way: a complete tar is reused later. */
  struct strbuf later = STRBUF_INIT;
  if (stager_finish (s, l, nl, rc == 0 ? err : &later) < 0 && rc == 0)
    rc = -1;
  strbuf_release (&later);
  if (rc < 0)
    return rc;
  return sbom_write_for_tag (t, ts, ds, offline, err); /* the image's SBOM, COPY'd from the context */
}

/* rm -rf dir, then mkdir -p dir/sub. */
static int
fresh_folder (const char *dir, const char *sub, struct strbuf *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, sub);
  const char *argv[] = { "rm", "-rf", dir, NULL };
  struct run_opts o = { argv, NULL, NULL, NULL, NULL, 1 };
  if (run_command (&o) != 0 || mkdir_p (path, 0755) < 0)
    return strbuf_addf (err, "cannot make '%s': %s", path, strerror (errno)), -1;
  return 0;
}

int
build_base_context (const struct kb_base *b, int offline, char **ctx, struct strbuf *err)
{
  cleanup_free char *tar = NULL;
  char sha[SHA256_HEX_LEN + 1];
  *ctx = xasprintf (BASE_CONTEXT_FMT, b->name);
  cleanup_free char *dst = xasprintf ("%s/" BASE_CONTEXT_TAR, *ctx);
  if (base_rootfs (b, offline, &tar, sha, err) < 0 || fresh_folder (*ctx, ".", err) < 0)
    return -1;
  return place (tar, dst, err);
}

static unsigned long long
file_size (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 ? (unsigned long long) st.st_size : 0;
}

int
build_context (const struct ptag *t, const struct staged_layer *l, size_t nl, char **ctx,
               unsigned long long *bytes, struct strbuf *err)
{
  *ctx = xasprintf ("build/context/%s", t->name);
  cleanup_free char *layers = xasprintf ("%s/layers", *ctx);
  if (fresh_folder (*ctx, "layers", err) < 0)
    return -1;
  cleanup_free char *df = xasprintf ("images/%s/Dockerfile", t->name);
  cleanup_free char *env = xasprintf ("images/%s/image.env", t->name);
  cleanup_free char *df2 = xasprintf ("%s/Dockerfile", *ctx);
  cleanup_free char *env2 = xasprintf ("%s/image.env", *ctx);
  cleanup_free char *ver2 = xasprintf ("%s/pytorch-cuda-verify", *ctx);
  cleanup_free char *sbom = xasprintf (SBOM_BUILD_FMT, t->name);
  cleanup_free char *sbom2 = xasprintf ("%s/" SBOM_FILE, *ctx);
  if (place_normalized (df, df2, err) < 0 || place_normalized (env, env2, err) < 0
      || place_normalized (VERIFIER_BINARY, ver2, err) < 0 || place_normalized (sbom, sbom2, err) < 0)
    return -1;
  unsigned long long sum = file_size (df2) + file_size (env2) + file_size (ver2) + file_size (sbom2);
  for (size_t i = 0; i < nl; i++)
    {
      cleanup_free char *dst = xasprintf ("%s/%s.tar", layers, l[i].name);
      if (place (l[i].path, dst, err) < 0)
        return -1;
      sum += file_size (dst);
    }
  if (bytes)
    *bytes = sum;
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

char *
build_log_path (const struct ptag *t)
{
  return xasprintf ("results/logs/%s.build.log", t->name);
}

/* docker's output on its way to the log: split into lines that tell the phase, the bytes
   sent and the step, and keep the line that best says why a build failed. */
struct build_log
{
  int fd;
  int write_failed;
  const struct build_watch *w;
  struct strbuf line;
  char last_error[512]; /* the last line that starts with ERROR (BuildKit) or error */
  char last_line[512];  /* the last line that is not empty */
  int phase; /* the last enum phase reported, -1 before the first */
};

static void
watch_phase (struct build_log *lg, enum phase phase, const char *detail)
{
  if (lg->phase == (int) phase && detail == NULL)
    return;
  lg->phase = (int) phase;
  if (lg->w && lg->w->phase)
    lg->w->phase (lg->w->ctx, phase, detail);
}

/* "1.23GB", "456.7MB", "12kB", "7B" (go-units, as docker prints sizes) -> bytes */
static unsigned long long
parse_size (const char *s)
{
  char *end;
  double v = strtod (s, &end);
  if (end == s || v < 0)
    return 0;
  while (*end == ' ')
    end++;
  double mult = 1;
  switch (toupper ((unsigned char) *end))
    {
    case 'K':
      mult = 1e3;
      break;
    case 'M':
      mult = 1e6;
      break;
    case 'G':
      mult = 1e9;
      break;
    case 'T':
      mult = 1e12;
      break;
    }
  if (end[0] && end[1] == 'i')
    mult = mult == 1e3 ? 1024.0 : mult == 1e6 ? 1048576.0 : mult == 1e9 ? 1073741824.0 : mult;
  return (unsigned long long) (v * mult);
}

static void
copy_line (char *dst, size_t size, const char *s, size_t n)
{
  while (n > 0 && isspace ((unsigned char) *s))
    s++, n--;
  while (n > 0 && isspace ((unsigned char) s[n - 1]))
    n--;
  snprintf (dst, size, "%.*s", (int) n, s);
}

static void
log_line (struct build_log *lg, const char *s, size_t n)
{
  cleanup_free char *line = xstrndup (s, n);
  const char *body = line;
  /* BuildKit's plain progress: "#7 [2/5] COPY ...", "#7 0.123 output", "#7 ERROR: ..." */
  if (body[0] == '#' && isdigit ((unsigned char) body[1]))
    {
      body += strspn (body + 1, "0123456789") + 1;
      body += strspn (body, " ");
    }
  if (strspn (line, " \t") == n)
    return;
  copy_line (lg->last_line, sizeof lg->last_line, line, n);
  if (strncmp (body, "ERROR", 5) == 0 || strncmp (body, "error", 5) == 0 || strncmp (body, "Error", 5) == 0)
    copy_line (lg->last_error, sizeof lg->last_error, line, n);
  const char *p;
  int k, m;
  if ((p = strstr (body, "transferring context: ")) != NULL)
    {
      unsigned long long sent = parse_size (p + strlen ("transferring context: "));
      watch_phase (lg, PHASE_SENDING_CONTEXT, NULL);
      if (sent && lg->w && lg->w->bytes)
        lg->w->bytes (lg->w->ctx, sent, 0);
    }
  else if ((p = strstr (body, "Sending build context to Docker daemon")) != NULL)
    {
      unsigned long long sent = parse_size (p + strlen ("Sending build context to Docker daemon"));
      watch_phase (lg, PHASE_SENDING_CONTEXT, NULL);
      if (sent && lg->w && lg->w->bytes)
        lg->w->bytes (lg->w->ctx, sent, 0);
    }
  else if ((sscanf (body, "[%d/%d]", &k, &m) == 2 || sscanf (body, "Step %d/%d", &k, &m) == 2) && k > 0 && m > 0)
    {
      watch_phase (lg, PHASE_BUILDING, NULL);
      if (lg->w && lg->w->detail)
        {
          char d[32];
          snprintf (d, sizeof d, "step %d/%d", k, m);
          lg->w->detail (lg->w->ctx, d);
        }
    }
  else if (strstr (body, "exporting to image") || strncmp (body, "Successfully built", 18) == 0)
    watch_phase (lg, PHASE_EXPORTING, NULL);
}

static void
log_output (void *ctx, const char *buf, size_t n)
{
  struct build_log *lg = ctx;
  for (size_t off = 0; off < n && !lg->write_failed;)
    {
      ssize_t k = write (lg->fd, buf + off, n - off);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        lg->write_failed = errno ? errno : EIO;
      else
        off += (size_t) k;
    }
  strbuf_add (&lg->line, buf, n);
  size_t start = 0;
  for (size_t i = 0; i < lg->line.len; i++)
    if (lg->line.buf[i] == '\n' || lg->line.buf[i] == '\r')
      {
        log_line (lg, lg->line.buf + start, i - start);
        start = i + 1;
      }
  /* keep the unfinished line; a line longer than 64 KiB is taken as it is */
  if (start == 0 && lg->line.len > 65536)
    start = lg->line.len;
  if (start)
    {
      memmove (lg->line.buf, lg->line.buf + start, lg->line.len - start);
      lg->line.len -= start;
      lg->line.buf[lg->line.len] = '\0';
    }
}

static void
log_printf (int fd, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
log_printf (int fd, const char *fmt, ...)
{
  struct strbuf sb = STRBUF_INIT;
  va_list ap;
  va_start (ap, fmt);
  strbuf_vaddf (&sb, fmt, ap);
  va_end (ap);
  for (size_t off = 0; off < sb.len;)
    {
      ssize_t k = write (fd, sb.buf + off, sb.len - off);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        break;
      off += (size_t) k;
    }
  strbuf_release (&sb);
}

static double
since (const struct timespec *t0)
{
  struct timespec t1;
  clock_gettime (CLOCK_MONOTONIC, &t1);
  return (double) (t1.tv_sec - t0->tv_sec) + (double) (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* docker build with its output into the log. Returns docker's exit status (-1: not started). */
static int
docker_build (const struct ptag *t, const char *const *argv, const struct build_watch *w, struct build_log *lg,
              struct strbuf *err)
{
  cleanup_free char *path = build_log_path (t);
  cleanup_free char *part = xasprintf ("%s.part", path);
  if (mkdir_p ("results/logs", 0755) < 0)
    return strbuf_addf (err, "cannot create 'results/logs': %s", strerror (errno)), -1;
  lg->fd = open (part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (lg->fd < 0)
    return strbuf_addf (err, "cannot write '%s': %s", part, strerror (errno)), -1;
  lg->w = w;
  struct strbuf cmd = STRBUF_INIT;
  run_describe (argv, &cmd);
  log_printf (lg->fd, "# pcgen build %s: %s\n", t->name, cmd.buf);
  strbuf_release (&cmd);
  const char *env[] = { "DOCKER_BUILDKIT=1", NULL };
  struct run_stream_opts o = { argv, env, log_output, lg };
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  int rc = run_stream (&o);
  int e = errno;
  if (lg->line.len)
    log_line (lg, lg->line.buf, lg->line.len);
  if (rc < 0)
    log_printf (lg->fd, "# pcgen: docker did not start: %s\n", strerror (e));
  else
    log_printf (lg->fd, "# pcgen: docker build exited %d after %.1fs\n", rc, since (&t0));
  int bad = lg->write_failed || close (lg->fd) < 0;
  lg->fd = -1;
  if (rename (part, path) < 0)
    bad = 1;
  if (rc < 0)
    return strbuf_addf (err, "docker build of %s did not start: %s", t->name,
                        e == ECANCELED ? "interrupted" : strerror (e)), -1;
  if (rc != 0)
    strbuf_addf (err, "docker build failed (exit %d): %s (log: %s)", rc,
                 lg->last_error[0] ? lg->last_error : lg->last_line[0] ? lg->last_line : "no output", path);
  else if (bad)
    strbuf_addf (err, "cannot write '%s': %s", path, strerror (lg->write_failed ? lg->write_failed : errno)), rc = -1;
  return rc;
}

/* docker build of the rendered Dockerfile in ctx, its output in the tag's build log. */
static int
docker_image (const struct ptag *t, const char *base_ref, const char *ctx, unsigned long long ctx_bytes,
              const struct build_watch *w, struct strbuf *err)
{
  if (w && w->bytes)
    w->bytes (w->ctx, 0, ctx_bytes);
  cleanup_free char *df = xasprintf ("%s/Dockerfile", ctx);
  /* Each Dockerfile's own ARG: a devel image is FROM its runtime image, whose repository is the
     matrix's, not the one images/ was rendered with. */
  cleanup_free char *arg = t->runtime ? xasprintf ("RUNTIME_IMAGE=%s", t->runtime->ref) : xasprintf ("BASE_IMAGE=%s", base_ref);
  /* -t tags only when the build succeeded: a failed or stopped build leaves no tag. */
  const char *argv[] = { docker_bin (), "build", "--progress=plain", "--build-arg", arg, "-t", t->ref, "-f", df, ctx, NULL };
  struct build_log lg = { -1, 0, NULL, STRBUF_INIT, "", "", -1 };
  lg.w = w;
  watch_phase (&lg, PHASE_BUILDING, NULL);
  int rc = docker_build (t, argv, w, &lg, err);
  strbuf_release (&lg.line);
  return rc != 0 ? -1 : 0;
}

/* build/oci/<tag>, written from the context ctx (image_writer.h). */
static int
write_layout (const struct ptag *t, const char *ctx, const struct staged_layer *l, size_t nl, struct writer_result *r,
              struct strbuf *err)
{
  cleanup_free char *tar = NULL;
  char sha[SHA256_HEX_LEN + 1] = "";
  if (!t->runtime && base_rootfs (t->base, 1, &tar, sha, err) < 0)
    return -1;
  cleanup_free char *recipe = xasprintf ("images/%s/Dockerfile", t->name);
  cleanup_free char *out = xasprintf (OCI_DIR "/%s", t->name);
  cleanup_free char *parent = t->runtime ? xasprintf (OCI_DIR "/%s", t->runtime->name) : NULL;
  struct writer_input in = { t->ref, recipe, ctx, tar, sha, parent, l, nl, out };
  if (image_write (&in, r, err) < 0)
    return -1;
  /* The SBOM beside the layout, the same bytes as in the image. */
  cleanup_free char *sbom = xasprintf ("%s/" SBOM_FILE, ctx);
  cleanup_free char *sbom2 = xasprintf ("%s/" SBOM_FILE, out);
  return place (sbom, sbom2, err);
}

/* The image writer's path: the layout at build/oci/<tag>, then docker load (image_writer.h). */
static int
write_image (const struct ptag *t, const char *ctx, const struct staged_layer *l, size_t nl,
             const struct build_watch *w, struct strbuf *err)
{
  struct writer_result r;
  if (w && w->phase)
    w->phase (w->ctx, PHASE_WRITING, NULL);
  if (write_layout (t, ctx, l, nl, &r, err) < 0)
    return -1;
  if (w && w->phase)
    w->phase (w->ctx, PHASE_LOADING, NULL);
  cleanup_free char *out = xasprintf (OCI_DIR "/%s", t->name);
  return image_load (out, &r, t->ref, err);
}

/* The image is in the engine: its ID and size, the aliases, the record. */
static int
finish (const struct ptag *t, const char *base_ref, const struct staged_layer *l, size_t nl, const char *inputs,
        const struct build_watch *w, const struct timespec *t0, struct build_result *r, struct strbuf *err)
{
  struct strbuf id = STRBUF_INIT;
  docker_image_id (t->ref, &id);
  r->image_id = strbuf_detach (&id, NULL);
  r->size = docker_image_size (t->ref);
  const char *repo_end = strrchr (t->ref, ':');
  if (t->naliases && w && w->phase)
    w->phase (w->ctx, PHASE_TAGGING, NULL);
  for (size_t i = 0; i < t->naliases; i++)
    {
      cleanup_free char *alias = xasprintf ("%.*s:%s", (int) (repo_end - t->ref), t->ref, t->aliases[i]);
      const char *tag_argv[] = { "docker", "tag", t->ref, alias, NULL };
      if (docker_run (tag_argv, NULL, err) < 0)
        return -1;
    }
  r->seconds = since (t0);
  r->status = BUILD_BUILT;
  return write_record (t, r, inputs, base_ref, l, nl, err);
}

int
build_image (enum build_engine engine, const struct ptag *t, const char *base_ref, const struct staged_layer *l,
             size_t nl, const char *inputs, const struct build_watch *w, struct build_result *r,
             struct strbuf *err)
{
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  cleanup_free char *ctx = NULL;
  unsigned long long ctx_bytes = 0;
  if (build_context (t, l, nl, &ctx, &ctx_bytes, err) < 0)
    return -1;
  if (engine == ENGINE_WRITER && write_image (t, ctx, l, nl, w, err) < 0)
    return -1;
  if (engine == ENGINE_DOCKER && docker_image (t, base_ref, ctx, ctx_bytes, w, err) < 0)
    return -1;
  return finish (t, base_ref, l, nl, inputs, w, &t0, r, err);
}

int
build_write (const struct ptag *t, const struct staged_layer *l, size_t nl, struct writer_result *wr, struct strbuf *err)
{
  cleanup_free char *ctx = NULL;
  if (build_context (t, l, nl, &ctx, NULL, err) < 0)
    return -1;
  return write_layout (t, ctx, l, nl, wr, err);
}

int
build_finish (const struct ptag *t, const char *base_ref, const struct staged_layer *l, size_t nl,
              const struct writer_result *wr, const char *inputs, struct build_result *r, struct strbuf *err)
{
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  cleanup_free char *out = xasprintf (OCI_DIR "/%s", t->name);
  if (image_load (out, wr, t->ref, err) < 0)
    return -1;
  return finish (t, base_ref, l, nl, inputs, NULL, &t0, r, err);
}

static const char *const build_engine_names[] = { [ENGINE_WRITER] = "writer", [ENGINE_DOCKER] = "docker", NULL };
NAME_TABLE_FUNCTIONS (build_engine)

static const char *const build_status_names[]
    = { [BUILD_PENDING] = "-",
        [BUILD_BUILT] = "built",
        [BUILD_UP_TO_DATE] = "up to date",
        [BUILD_FAILED] = "failed",
        [BUILD_INTERRUPTED] = "interrupted",
        [BUILD_CANCELLED] = "cancelled",
        [BUILD_SKIPPED_RUNTIME_SKIPPED] = "skipped: runtime skipped",
        [BUILD_SKIPPED_RUNTIME_FAILED] = "skipped: runtime failed",
        [BUILD_SKIPPED_NO_SOURCE] = "skipped: no source",
        [BUILD_SKIPPED_NVCC_UNREACHABLE] = "skipped: nvcc unreachable" };

const char *
build_status_name (enum build_status s)
{
  return build_status_names[s];
}

int
build_status_failed (enum build_status s)
{
  return s == BUILD_PENDING || s == BUILD_FAILED || s == BUILD_INTERRUPTED || s == BUILD_CANCELLED
         || s == BUILD_SKIPPED_RUNTIME_SKIPPED || s == BUILD_SKIPPED_RUNTIME_FAILED;
}

void
build_result_release (struct build_result *r)
{
  free (r->image_id);
  free (r->why);
  memset (r, 0, sizeof *r);
}
