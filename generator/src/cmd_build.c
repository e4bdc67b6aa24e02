/* cmd_build.c: `pcgen build`: fetch -> layers (serial, this thread) -> docker builds (up to
   -j at once, jobs.h) -> tags, for every selected tag, with a progress line per tag
   (progress.h) and a summary table at the end. */
#include "base.h"
#include "build.h"
#include "cmd.h"
#include "docker.h"
#include "evict.h"
#include "exitcode.h"
#include "image_writer.h"
#include "jobs.h"
#include "lock.h"
#include "nvcc_source.h"
#include "progress.h"
#include "project.h"
#include "run.h"
#include "stage.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char build_usage[]
    = "usage: pcgen build [-j N] [--offline] [--lean] [--engine writer|docker] [--matrix FILE] [--lock FILE] [TAG|GLOB...]\n"
      "Build the images of the tags (default: every tag whose torch wheel has a source): fetch and\n"
      "verify the pinned wheels, make the deterministic layers (cached, shared by tags), write the\n"
      "image that images/<tag>/Dockerfile describes (OCI layout in build/oci/<tag>, docker load;\n"
      "docs/image-writer.md), tag the image with its name and aliases. A tag whose inputs\n"
      "and image are unchanged is not built again. Needs a Docker engine (make deps starts one).\n"
      "Wheels and layers are made first, one tag after another; then up to N docker builds run at\n"
      "once, a devel image after its runtime image (skipped when that failed). docker's output\n"
      "goes to results/logs/<tag>.build.log. On a terminal one line per tag is redrawn in place,\n"
      "otherwise a line \"TAG: phase\" is printed as each phase starts. Ctrl-C stops the builds\n"
      "and tags nothing more.\n"
      "  -j, --jobs N  run up to N docker builds at once (1 to 64, default 1)\n"
      "  --offline     use only the cache\n"
      "  --lean        for a CI runner with little disk (docs/building.md, \"Lean builds (CI)\"): once\n"
      "                every layer is made the tags' wheels leave the cache, and each layer's tar\n"
      "                leaves the cache and build/ once the engine holds it (layers are loaded one at\n"
      "                a time); tags are built one after another. The images stay in the engine; a\n"
      "                next build fetches and stages again. Not with --engine docker\n"
      "  --engine E    writer (default: pcgen writes the image, same ID on every machine) or docker\n"
      "                (docker build of images/<tag>/Dockerfile, as bake and BuildKit users build it)\n"
      "exit: 0 every selected tag built or up to date, 1 invalid input, 2 usage, 3 a build failed,\n"
      "130 interrupted (SIGINT or SIGTERM)\n";

struct build_opts
{
  int offline;
  int lean;
  int jobs;
  enum build_engine engine;
  const char *matrix, *lock;
  char **patterns;
  size_t npatterns;
};

static int
parse_jobs (const char *s, int *out)
{
  char *end;
  errno = 0;
  long v = strtol (s, &end, 10);
  if (errno || end == s || *end || v < 1 || v > JOBS_MAX)
    return error ("--jobs '%s' is not a number from 1 to %d", s, JOBS_MAX);
  *out = (int) v;
  return 0;
}

static int
parse (int argc, char **argv, struct build_opts *o)
{
  static const struct option opts[] = { { "offline", no_argument, NULL, 'o' }, { "matrix", required_argument, NULL, 'm' },
                                        { "lock", required_argument, NULL, 'l' }, { "jobs", required_argument, NULL, 'j' }, { "engine", required_argument, NULL, 'e' },
                                        { "lean", no_argument, NULL, 'L' },
                                        { "help", no_argument, NULL, 'h' }, { 0 } };
  int c;
  optind = 1;
  while ((c = getopt_long (argc, argv, "hj:", opts, NULL)) != -1)
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
      case 'j':
        if (parse_jobs (optarg, &o->jobs) < 0)
          {
            fputs (build_usage, stderr);
            return -1;
          }
        break;
      case 'e':
        {
          int e;
          if (engine_option (optarg, build_usage, &e) < 0)
            return -1;
          o->engine = (enum build_engine) e;
        }
        break;
      case 'L':
        o->lean = 1;
        break;
      case 'h':
        fputs (build_usage, stdout);
        return 1;
      default:
        fputs (build_usage, stderr);
        return -1;
      }
  if (o->lean && o->engine == ENGINE_DOCKER)
    {
      error ("--lean needs the image writer: docker build keeps its own copies (--engine docker)");
      fputs (build_usage, stderr);
      return -1;
    }
  o->patterns = argv + optind;
  o->npatterns = (size_t) (argc - optind);
  return 0;
}

/* One job per selected tag; row j of the progress display is job j. */
struct build_ctx
{
  const struct plan *p;
  const char *base_ref;
  enum build_engine engine;
  size_t *tag;                  /* job -> index in p->tags */
  size_t *job;                  /* index in p->tags -> job, or JOBS_NO_DEP */
  struct staged_layer **layers; /* per job */
  size_t *nlayers;
  struct build_result *res;     /* per job */
  struct progress prog;
};

/* SIGINT and SIGTERM while builds run: counted here, acted on by the main thread. */
static volatile sig_atomic_t signals_seen;

static void
on_signal (int sig)
{
  (void) sig;
  signals_seen++;
}

/* Fetch the wheels and make the layers of job j, in the main thread. Returns 0 or -1 with err. */
static int
stage_one (struct build_ctx *c, size_t j, const struct lockfile *lf, const struct build_opts *o, struct strbuf *err)
{
  const struct ptag *t = &c->p->tags[c->tag[j]];
  return build_layers (c->p, t, lf, o->lock, o->offline, &c->layers[j], &c->nlayers[j], err);
}

struct job_watch
{
  struct build_ctx *c;
  size_t j;
};

static void
watch_phase (void *ctx, enum phase phase, const char *detail)
{
  struct job_watch *w = ctx;
  if (detail)
    progress_phase (&w->c->prog, w->j, phase, "%s", detail);
  else
    progress_phase (&w->c->prog, w->j, phase, NULL);
}

static void
watch_bytes (void *ctx, unsigned long long sent, unsigned long long total)
{
  struct job_watch *w = ctx;
  progress_bytes (&w->c->prog, w->j, sent, total);
}

static void
watch_detail (void *ctx, const char *detail)
{
  struct job_watch *w = ctx;
  progress_detail (&w->c->prog, w->j, "%s", detail);
}

/* A worker thread: the up-to-date check (a devel tag's inputs include its runtime's image ID,
   known only now), then docker build and the aliases. */
static int
build_job (void *arg, size_t j)
{
  struct build_ctx *c = arg;
  const struct ptag *t = &c->p->tags[c->tag[j]];
  struct build_result *r = &c->res[j];
  struct strbuf err = STRBUF_INIT;
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  struct job_watch jw = { c, j };
  struct build_watch w = { &jw, watch_phase, watch_bytes, watch_detail };
  cleanup_free char *inputs = build_inputs_digest (c->engine, t, c->base_ref, c->layers[j], c->nlayers[j], &err);
  if (inputs == NULL)
    goto fail;
  if (build_up_to_date (t, inputs, r))
    {
      progress_phase (&c->prog, j, PHASE_UP_TO_DATE, NULL);
      strbuf_release (&err);
      return 0;
    }
  if (build_image (c->engine, t, c->base_ref, c->layers[j], c->nlayers[j], inputs, &w, r, &err) < 0)
    goto fail;
  progress_phase (&c->prog, j, PHASE_DONE, "image %.12s", r->image_id && strlen (r->image_id) > 7 ? r->image_id + 7 : "-");
  strbuf_release (&err);
  return 0;
fail:
  clock_gettime (CLOCK_MONOTONIC, &t1);
  r->seconds = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
  r->status = signals_seen ? BUILD_INTERRUPTED : BUILD_FAILED;
  r->why = strbuf_detach (&err, NULL);
  progress_phase (&c->prog, j, r->status == BUILD_INTERRUPTED ? PHASE_INTERRUPTED : PHASE_FAILED, NULL);
  if (!signals_seen)
    progress_note (&c->prog, stderr, "pcgen: error: %s: %s", t->name, r->why);
  return 1;
}

static void
build_skipped (void *arg, size_t j, size_t dep, enum job_state why)
{
  struct build_ctx *c = arg;
  const char *rt = c->p->tags[c->tag[dep]].name;
  c->res[j].status = why == JOB_CANCELLED ? BUILD_CANCELLED
                     : why == JOB_SKIPPED  ? BUILD_SKIPPED_RUNTIME_SKIPPED
                                           : BUILD_SKIPPED_RUNTIME_FAILED;
  if (why == JOB_CANCELLED)
    progress_phase (&c->prog, j, PHASE_CANCELLED, NULL);
  else
    progress_phase (&c->prog, j, PHASE_SKIPPED, "runtime %s %s", rt, job_state_name (why));
}

/* Run the jobs; the main thread redraws the progress every 200 ms and acts on Ctrl-C: no new
   build starts, the running docker builds are stopped (SIGTERM to their process groups, SIGKILL
   10 s later or at a second signal). Returns the number of signals seen. */
static int
run_jobs (struct build_ctx *c, size_t nj, const size_t *dep, const enum job_state *initial, int max)
{
  struct sigaction sa, old_int, old_term;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset (&sa.sa_mask);
  signals_seen = 0;
  sigaction (SIGINT, &sa, &old_int);
  sigaction (SIGTERM, &sa, &old_term);
  struct jobs_spec spec = { nj, max, dep, initial, build_job, build_skipped, c };
  progress_live (&c->prog);
  struct jobs *js = jobs_start (&spec);
  int seen = 0;
  if (js == NULL)
    {
      progress_note (&c->prog, stderr, "pcgen: error: cannot start a thread: %s", strerror (errno));
      for (size_t j = 0; j < nj; j++)
        if (initial[j] == JOB_PENDING)
          c->res[j].status = BUILD_FAILED;
    }
  else
    {
      int acted = 0, killed = 0;
      struct timespec stop_at = { 0, 0 }, now;
      while (!jobs_wait (js, 200))
        {
          int n = signals_seen;
          clock_gettime (CLOCK_MONOTONIC, &now);
          if (n > acted)
            {
              if (acted == 0)
                {
                  jobs_cancel (js);
                  int k = run_stop_all (SIGTERM);
                  progress_note (&c->prog, stderr, "pcgen: interrupted: starting no more builds, stopping %d running", k);
                  stop_at = now;
                  stop_at.tv_sec += 10;
                }
              else if (!killed)
                killed = 1, run_stop_all (SIGKILL);
              acted = n;
            }
          if (acted && !killed && now.tv_sec >= stop_at.tv_sec)
            killed = 1, run_stop_all (SIGKILL);
          progress_draw (&c->prog);
        }
      for (size_t j = 0; j < nj; j++)
        if (jobs_state (js, j) == JOB_CANCELLED && c->res[j].status == BUILD_PENDING)
          {
            c->res[j].status = BUILD_CANCELLED;
            progress_phase (&c->prog, j, PHASE_CANCELLED, NULL);
          }
      jobs_finish (js);
      seen = signals_seen;
    }
  progress_end (&c->prog);
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
  return seen;
}

static void
lean_fail (struct build_ctx *c, size_t j, struct strbuf *err)
{
  c->res[j].status = BUILD_FAILED;
  c->res[j].why = strbuf_detach (err, NULL);
  progress_phase (&c->prog, j, PHASE_FAILED, NULL);
  progress_note (&c->prog, stderr, "pcgen: error: %s: %s", c->p->tags[c->tag[j]].name, c->res[j].why);
}

/* --lean (evict.h), in this thread, one tag at a time, a runtime before the tags built on it:
   the wheels leave the cache (every layer is made), every layout is written (a devel layout
   links its runtime's tars, and its ldconfig layer reads them), then each tag goes into the
   engine a layer at a time, each tar leaving once the engine holds it. Returns 0: no signal
   handler is installed, Ctrl-C ends pcgen as it ends any program. */
static int
lean_build (struct build_ctx *c, size_t nj, const size_t *dep, const enum job_state *initial, const struct lockfile *lf,
            const struct build_opts *o)
{
  struct writer_result *wr = xcalloc (nj + 1, sizeof *wr);
  int *ok = xcalloc (nj + 1, sizeof *ok);
  const struct ptag **written = xcalloc (nj + 1, sizeof *written);
  char **layouts = xcalloc (nj + 1, sizeof *layouts);
  const char **later = xcalloc (nj + 1, sizeof *later);
  size_t nw = 0;
  struct strbuf err = STRBUF_INIT;
  struct evict ev = EVICT_INIT;
  progress_live (&c->prog);
  /* every layer is made: the wheels go before the layouts are written (the ldconfig layers
     stage copies of the libraries under CACHE/tmp: not on top of the wheels) */
  for (size_t j = 0; j < nj; j++)
    if (initial[j] == JOB_PENDING)
      written[nw++] = &c->p->tags[c->tag[j]];
  if (nw && evict_wheels (&ev, lf, o->lock, written, nw, &err) < 0)
    progress_note (&c->prog, stderr, "pcgen: warning: --lean: the wheels stay in the cache: %s", err.buf);
  for (int pass = 0; pass < 2; pass++) /* tags FROM the base, then those FROM a runtime */
    for (size_t j = 0; j < nj; j++)
      {
        const struct ptag *t = &c->p->tags[c->tag[j]];
        if (initial[j] != JOB_PENDING || (dep[j] == JOBS_NO_DEP) != (pass == 0))
          continue;
        if (dep[j] != JOBS_NO_DEP && !ok[dep[j]])
          {
            c->res[j].status = BUILD_SKIPPED_RUNTIME_FAILED;
            progress_phase (&c->prog, j, PHASE_SKIPPED, "runtime failed");
            continue;
          }
        progress_phase (&c->prog, j, PHASE_WRITING, NULL);
        progress_draw (&c->prog);
        strbuf_reset (&err);
        if (build_write (t, c->layers[j], c->nlayers[j], &wr[j], &err) < 0)
          {
            lean_fail (c, j, &err);
            continue;
          }
        ok[j] = 1;
        layouts[j] = xasprintf (OCI_DIR "/%s", t->name);
      }
  for (int pass = 0; pass < 2; pass++)
    for (size_t j = 0; j < nj; j++)
      {
        const struct ptag *t = &c->p->tags[c->tag[j]];
        if (!ok[j] || (dep[j] == JOBS_NO_DEP) != (pass == 0))
          continue;
        if (dep[j] != JOBS_NO_DEP && !ok[dep[j]])
          {
            c->res[j].status = BUILD_SKIPPED_RUNTIME_FAILED;
            progress_phase (&c->prog, j, PHASE_SKIPPED, "runtime failed");
            ok[j] = 0;
            continue;
          }
        size_t nlater = 0;
        for (size_t q = 0; q < nj; q++)
          if (ok[q] && q != j && c->res[q].status == BUILD_PENDING && (pass == 0 || dep[q] != JOBS_NO_DEP))
            later[nlater++] = layouts[q];
        progress_phase (&c->prog, j, PHASE_LOADING, "a layer at a time");
        progress_draw (&c->prog);
        strbuf_reset (&err);
        cleanup_free char *ctx = xasprintf ("build/context/%s", t->name);
        cleanup_free char *inputs = build_inputs_digest (ENGINE_WRITER, t, c->base_ref, c->layers[j], c->nlayers[j], &err);
        int rc = inputs ? 0 : -1;
        int fresh = inputs && build_up_to_date (t, inputs, &c->res[j]);
        if (rc == 0)
          rc = evict_load (&ev, layouts[j], later, nlater, ctx, &err);
        if (rc == 0 && !fresh)
          rc = build_finish (t, c->base_ref, c->layers[j], c->nlayers[j], &wr[j], inputs, &c->res[j], &err);
        if (rc < 0)
          {
            ok[j] = 0;
            lean_fail (c, j, &err);
            continue;
          }
        if (fresh)
          progress_phase (&c->prog, j, PHASE_UP_TO_DATE, NULL);
        else
          progress_phase (&c->prog, j, PHASE_DONE, "image %.12s", c->res[j].image_id && strlen (c->res[j].image_id) > 7 ? c->res[j].image_id + 7 : "-");
      }
  evict_finish (&ev);
  progress_end (&c->prog);
  char freed[32];
  progress_format_bytes (ev.freed, freed, sizeof freed);
  printf ("build --lean: %s left the cache and build/; %u layers loaded one at a time\n", freed, ev.loaded);
  for (size_t j = 0; j < nj; j++)
    free (layouts[j]);
  free (layouts);
  free (later);
  free (written);
  free (ok);
  free (wr);
  strbuf_release (&err);
  return 0;
}

static void
summary (const struct build_ctx *c, size_t nj)
{
  printf ("%-36s %-19s %9s %8s  %s\n", "TAG", "IMAGE ID", "SIZE", "TIME", "STATUS");
  for (size_t j = 0; j < nj; j++)
    {
      const struct build_result *r = &c->res[j];
      const char *id = r->image_id && strlen (r->image_id) > 7 ? r->image_id + 7 : "-";
      char size[32] = "-", secs[32] = "-";
      if (r->size)
        snprintf (size, sizeof size, "%.2f GB", (double) r->size / 1e9);
      if (r->seconds > 0)
        snprintf (secs, sizeof secs, "%.0fs", r->seconds);
      printf ("%-36s %-19.12s %9s %8s  %s\n", c->p->tags[c->tag[j]].name, id, size, secs, build_status_name (r->status));
    }
}

int
cmd_build (int argc, char **argv)
{
  struct build_opts o = { 0, 0, 1, ENGINE_WRITER, DEFAULT_MATRIX, DEFAULT_LOCK, NULL, 0 };
  int r = parse (argc, argv, &o);
  if (r)
    return r > 0 ? EXIT_OK : EXIT_USAGE;
  struct project p;
  int rc = project_open (&p, o.matrix);
  struct lockfile lf = { 0 };
  struct strbuf err = STRBUF_INIT, base = STRBUF_INIT;
  int *sel = NULL;
  struct build_ctx c;
  memset (&c, 0, sizeof c);
  size_t nj = 0, *dep = NULL;
  enum job_state *initial = NULL;
  const char **names = NULL;
  if (rc != EXIT_OK)
    goto out;
  sel = xcalloc (p.plan.ntags + 1, sizeof *sel);
  if (select_tags (&p.plan, o.patterns, o.npatterns, sel) < 0)
    {
      rc = EXIT_USAGE;
      goto out;
    }
  struct error lerr = ERROR_INIT;
  if (lockfile_read (o.lock, &lf, &lerr) < 0)
    {
      rc = cmd_error (&lerr);
      err_release (&lerr);
      goto out;
    }
  if (docker_ping (&err) < 0 || base_ensure (p.plan.tags[0].base, &base, &err) < 0)
    {
      error ("%s", err.buf);
      rc = EXIT_ENV;
      goto out;
    }
  c.p = &p.plan;
  c.base_ref = base.buf;
  c.engine = o.engine;
  c.tag = xcalloc (p.plan.ntags + 1, sizeof *c.tag);
  c.job = xcalloc (p.plan.ntags + 1, sizeof *c.job);
  for (size_t i = 0; i < p.plan.ntags; i++)
    {
      c.job[i] = sel[i] ? nj : JOBS_NO_DEP;
      if (sel[i])
        c.tag[nj++] = i;
    }
  c.layers = xcalloc (nj + 1, sizeof *c.layers);
  c.nlayers = xcalloc (nj + 1, sizeof *c.nlayers);
  c.res = xcalloc (nj + 1, sizeof *c.res);
  dep = xcalloc (nj + 1, sizeof *dep);
  initial = xcalloc (nj + 1, sizeof *initial);
  names = xcalloc (nj + 1, sizeof *names);
  for (size_t j = 0; j < nj; j++)
    {
      const struct ptag *t = &p.plan.tags[c.tag[j]];
      names[j] = t->name;
      /* A devel image builds on its runtime image: after it, when both are selected. */
      dep[j] = t->runtime ? c.job[t->runtime - p.plan.tags] : JOBS_NO_DEP;
    }
  progress_init (&c.prog, stdout, names, nj, isatty (STDOUT_FILENO));

  /* Wheels and layers: one tag after another, in this thread, before any build starts (layers
     are shared by tags: two jobs never write the same cache entry). */
  for (size_t j = 0; j < nj; j++)
    {
      const struct ptag *t = &p.plan.tags[c.tag[j]];
      if (t->source_kind == SOURCE_UNAVAILABLE)
        {
          c.res[j].status = BUILD_SKIPPED_NO_SOURCE;
          initial[j] = JOB_SKIPPED;
          cleanup_free char *hint = plan_source_hint (t);
          progress_phase (&c.prog, j, PHASE_SKIPPED, "no source");
          progress_note (&c.prog, stderr, "build: %s: skipped: %s", t->name, hint);
          continue;
        }
      progress_phase (&c.prog, j, PHASE_STAGING, NULL);
      strbuf_reset (&err);
      int staged = stage_one (&c, j, &lf, &o, &err);
      if (staged == NVCC_UNREACHABLE)
        {
          /* Never a devel image without nvcc: unavailable here, like a tag without a source. */
          c.res[j].status = BUILD_SKIPPED_NVCC_UNREACHABLE;
          initial[j] = JOB_SKIPPED;
          progress_phase (&c.prog, j, PHASE_SKIPPED, "nvcc unreachable");
          progress_note (&c.prog, stderr, "build: %s: unavailable: %s", t->name, err.buf);
          continue;
        }
      if (staged < 0)
        {
          c.res[j].status = BUILD_FAILED;
          c.res[j].why = strbuf_detach (&err, NULL);
          initial[j] = JOB_FAILED;
          progress_phase (&c.prog, j, PHASE_FAILED, NULL);
          progress_note (&c.prog, stderr, "pcgen: error: %s: %s", t->name, c.res[j].why);
          continue;
        }
      cleanup_free char *note = plan_nvcc_note (t);
      if (note)
        progress_note (&c.prog, stderr, "build: %s: %s", t->name, note);
      initial[j] = JOB_PENDING;
      progress_phase (&c.prog, j, PHASE_QUEUED, NULL);
    }

  int signals = o.lean ? lean_build (&c, nj, dep, initial, &lf, &o) : run_jobs (&c, nj, dep, initial, o.jobs);
  summary (&c, nj);
  size_t failed = 0;
  for (size_t j = 0; j < nj; j++)
    failed += build_status_failed (c.res[j].status);
  rc = signals ? EXIT_INTERRUPTED : failed ? EXIT_ENV : EXIT_OK;
  progress_release (&c.prog);
out:
  for (size_t j = 0; j < nj; j++)
    {
      build_result_release (&c.res[j]);
      staged_layers_free (c.layers[j], c.nlayers[j]);
    }
  free (c.res);
  free (c.layers);
  free (c.nlayers);
  free (c.tag);
  free (c.job);
  free (dep);
  free (initial);
  free (names);
  free (sel);
  strbuf_release (&err);
  strbuf_release (&base);
  lockfile_release (&lf);
  project_close (&p);
  return rc;
}
