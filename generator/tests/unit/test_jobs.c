/* test_jobs.c: the scheduler (jobs.h) with a fake job function that records when each job
   starts and ends, and the progress lines (progress.h) written to memory. */
#include "check.h"
#include "jobs.h"
#include "progress.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N 12

/* What the fake jobs saw: a global sequence number at each start and end, the order of starts,
   how many ran at once. */
struct fake
{
  pthread_mutex_t mu;
  int seq;
  int start[N], end[N]; /* sequence numbers; 0: never */
  int order[N], norder;
  int running, max_running;
  int fail[N];     /* job i returns 1 */
  int sleep_ms[N];
  int gated[N];       /* job i, once started, waits until the test opens the gate */
  int gate_open;
  pthread_cond_t gate;
  int skipped_dep[N];
  enum job_state skipped_why[N];
  int nskipped;
};

static void
fake_init (struct fake *f)
{
  memset (f, 0, sizeof *f);
  pthread_mutex_init (&f->mu, NULL);
  pthread_cond_init (&f->gate, NULL);
  for (int i = 0; i < N; i++)
    f->skipped_dep[i] = -1;
}

static void
sleep_ms (int ms)
{
  struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
  nanosleep (&ts, NULL);
}

static int
fake_run (void *ctx, size_t i)
{
  struct fake *f = ctx;
  pthread_mutex_lock (&f->mu);
  f->start[i] = ++f->seq;
  f->order[f->norder++] = (int) i;
  if (++f->running > f->max_running)
    f->max_running = f->running;
  while (f->gated[i] && !f->gate_open)
    pthread_cond_wait (&f->gate, &f->mu);
  pthread_mutex_unlock (&f->mu);
  sleep_ms (f->sleep_ms[i]);
  pthread_mutex_lock (&f->mu);
  f->running--;
  f->end[i] = ++f->seq;
  pthread_mutex_unlock (&f->mu);
  return f->fail[i];
}

static void
fake_skipped (void *ctx, size_t i, size_t dep, enum job_state why)
{
  struct fake *f = ctx;
  pthread_mutex_lock (&f->mu);
  f->skipped_dep[i] = (int) dep;
  f->skipped_why[i] = why;
  f->nskipped++;
  pthread_mutex_unlock (&f->mu);
}

static void
test_serial_order (void)
{
  struct fake f;
  fake_init (&f);
  struct jobs_spec spec = { 6, 1, NULL, NULL, fake_run, fake_skipped, &f };
  enum job_state st[6];
  int maxr = 0;
  CHECK_INT (jobs_run (&spec, st, &maxr), 0);
  CHECK_INT (maxr, 1);
  CHECK_INT (f.max_running, 1);
  CHECK_INT (f.norder, 6);
  for (int i = 0; i < 6; i++)
    {
      CHECK_INT (f.order[i], i);
      CHECK_INT (st[i], JOB_DONE);
      if (i > 0)
        CHECK (f.start[i] > f.end[i - 1]); /* one at a time */
    }
}

/* -j 1 with devel (even) before its runtime (odd) in index order: each runtime runs first. */
static void
test_serial_with_deps (void)
{
  struct fake f;
  fake_init (&f);
  size_t dep[4] = { 1, JOBS_NO_DEP, 3, JOBS_NO_DEP };
  struct jobs_spec spec = { 4, 1, dep, NULL, fake_run, fake_skipped, &f };
  CHECK_INT (jobs_run (&spec, NULL, NULL), 0);
  CHECK_INT (f.norder, 4);
  int want[4] = { 1, 0, 3, 2 };
  for (int i = 0; i < 4; i++)
    CHECK_INT (f.order[i], want[i]);
}

static void
test_parallel_limit (void)
{
  for (int max = 1; max <= 4; max++)
    {
      struct fake f;
      fake_init (&f);
      for (int i = 0; i < 10; i++)
        f.sleep_ms[i] = 30;
      struct jobs_spec spec = { 10, max, NULL, NULL, fake_run, fake_skipped, &f };
      int maxr = 0;
      CHECK_INT (jobs_run (&spec, NULL, &maxr), 0);
      CHECK (f.max_running <= max);
      CHECK_INT (f.max_running, max); /* 10 jobs of 30 ms: the limit is reached */
      CHECK_INT (maxr, f.max_running);
      CHECK_INT (f.norder, 10);
    }
}

/* Two runtimes and their devels with -j 4: the runtimes overlap, each devel starts after its
   own runtime ended. */
static void
test_dependency_order (void)
{
  struct fake f;
  fake_init (&f);
  size_t dep[4] = { JOBS_NO_DEP, 0, JOBS_NO_DEP, 2 };
  f.sleep_ms[0] = 60;
  f.sleep_ms[2] = 20;
  struct jobs_spec spec = { 4, 4, dep, NULL, fake_run, fake_skipped, &f };
  enum job_state st[4];
  CHECK_INT (jobs_run (&spec, st, NULL), 0);
  CHECK (f.start[1] > f.end[0]);
  CHECK (f.start[3] > f.end[2]);
  CHECK (f.start[2] < f.end[0] && f.start[0] < f.end[2]); /* runtimes in parallel */
  CHECK (f.start[3] < f.end[0]);                          /* devel 3 did not wait for runtime 0 */
  for (int i = 0; i < 4; i++)
    CHECK_INT (st[i], JOB_DONE);
}

/* A failed runtime: its devel is skipped (never run) and says why; a job waiting on the skipped
   devel is skipped in turn; the other pair is built. */
static void
test_failure_propagates (void)
{
  struct fake f;
  fake_init (&f);
  size_t dep[5] = { JOBS_NO_DEP, 0, JOBS_NO_DEP, 2, 1 };
  f.fail[0] = 1;
  struct jobs_spec spec = { 5, 2, dep, NULL, fake_run, fake_skipped, &f };
  enum job_state st[5];
  CHECK_INT (jobs_run (&spec, st, NULL), 3);
  CHECK_INT (st[0], JOB_FAILED);
  CHECK_INT (st[1], JOB_SKIPPED);
  CHECK_INT (st[2], JOB_DONE);
  CHECK_INT (st[3], JOB_DONE);
  CHECK_INT (st[4], JOB_SKIPPED);
  CHECK_INT (f.start[1], 0);
  CHECK_INT (f.start[4], 0);
  CHECK_INT (f.skipped_dep[1], 0);
  CHECK_INT (f.skipped_why[1], JOB_FAILED);
  CHECK_INT (f.skipped_dep[4], 1);
  CHECK_INT (f.skipped_why[4], JOB_SKIPPED);
  CHECK_INT (f.nskipped, 2);
}

/* Jobs that ended before the scheduler (staging failed, up to date): initial states. */
static void
test_initial_states (void)
{
  struct fake f;
  fake_init (&f);
  size_t dep[4] = { JOBS_NO_DEP, 0, JOBS_NO_DEP, 2 };
  enum job_state init[4] = { JOB_FAILED, JOB_PENDING, JOB_DONE, JOB_PENDING };
  struct jobs_spec spec = { 4, 2, dep, init, fake_run, fake_skipped, &f };
  enum job_state st[4];
  CHECK_INT (jobs_run (&spec, st, NULL), 2);
  CHECK_INT (st[0], JOB_FAILED);
  CHECK_INT (st[1], JOB_SKIPPED);
  CHECK_INT (st[2], JOB_DONE);
  CHECK_INT (st[3], JOB_DONE);
  CHECK_INT (f.norder, 1);
  CHECK_INT (f.order[0], 3);
  CHECK_INT (f.start[0] + f.start[1] + f.start[2], 0);
}

/* jobs_cancel: the running job ends as it ends; the others never start. Job 0 waits at a gate
   the test opens only after cancelling, so a loaded machine cannot let it end first (with a
   100 ms sleep instead, job 1 started under load and the test failed). */
static void
test_cancel (void)
{
  struct fake f;
  fake_init (&f);
  f.gated[0] = 1;
  size_t dep[4] = { JOBS_NO_DEP, JOBS_NO_DEP, 0, JOBS_NO_DEP };
  struct jobs_spec spec = { 4, 1, dep, NULL, fake_run, fake_skipped, &f };
  struct jobs *j = jobs_start (&spec);
  CHECK (j != NULL);
  if (j == NULL)
    return;
  CHECK_INT (jobs_wait (j, 30), 0); /* still running: timed out */
  jobs_cancel (j);
  pthread_mutex_lock (&f.mu);
  f.gate_open = 1;
  pthread_cond_broadcast (&f.gate);
  pthread_mutex_unlock (&f.mu);
  CHECK_INT (jobs_wait (j, 5000), 1);
  CHECK_INT (jobs_state (j, 0), JOB_DONE);
  CHECK_INT (jobs_state (j, 1), JOB_CANCELLED);
  CHECK_INT (jobs_state (j, 2), JOB_CANCELLED);
  CHECK_INT (jobs_state (j, 3), JOB_CANCELLED);
  jobs_finish (j);
  CHECK_INT (f.norder, 1);
}

/* Jobs that wait on each other can never start: they end skipped instead of hanging. */
static void
test_cycle (void)
{
  struct fake f;
  fake_init (&f);
  size_t dep[3] = { 1, 0, JOBS_NO_DEP };
  struct jobs_spec spec = { 3, 2, dep, NULL, fake_run, NULL, &f };
  enum job_state st[3];
  CHECK_INT (jobs_run (&spec, st, NULL), 2);
  CHECK_INT (st[0], JOB_SKIPPED);
  CHECK_INT (st[1], JOB_SKIPPED);
  CHECK_INT (st[2], JOB_DONE);
}

static void
test_empty (void)
{
  struct jobs_spec spec = { 0, 4, NULL, NULL, fake_run, NULL, NULL };
  CHECK_INT (jobs_run (&spec, NULL, NULL), 0);
}

static char *
progress_output (int tty, void (*fn) (struct progress *))
{
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream (&buf, &len);
  const char *names[] = { "a-runtime", "a-devel" };
  struct progress p;
  progress_init (&p, out, names, 2, tty);
  fn (&p);
  progress_end (&p);
  progress_release (&p);
  fclose (out);
  return buf;
}

static void
some_phases (struct progress *p)
{
  progress_phase (p, 0, PHASE_STAGING, NULL);
  progress_phase (p, 0, PHASE_QUEUED, NULL);
  progress_live (p);
  progress_phase (p, 0, PHASE_BUILDING, NULL);
  progress_bytes (p, 0, 1500000, 3000000000ULL);
  progress_detail (p, 0, "step %d/%d", 2, 5);
  progress_draw (p);
  progress_phase (p, 0, PHASE_DONE, "image %s", "0123456789ab");
  progress_phase (p, 1, PHASE_SKIPPED, "runtime %s failed", "a-runtime");
  progress_draw (p);
}

static void
test_progress (void)
{
  char *plain = progress_output (0, some_phases);
  CHECK_CONTAINS (plain, "a-runtime: staging\n");
  CHECK_CONTAINS (plain, "a-runtime: queued\n");
  CHECK_CONTAINS (plain, "a-runtime: building\n");
  CHECK_CONTAINS (plain, "a-runtime: done 0s: image 0123456789ab\n");
  CHECK_CONTAINS (plain, "a-devel: skipped: runtime a-runtime failed\n");
  CHECK (strchr (plain, '\033') == NULL);
  free (plain);
  char *live = progress_output (1, some_phases);
  /* before progress_live: plain lines; then the block, redrawn with the cursor moved up */
  CHECK_CONTAINS (live, "a-runtime: staging\n");
  CHECK (strstr (live, "a-runtime: building") == NULL);
  CHECK_CONTAINS (live, "\033[2A\033[J");
  CHECK_CONTAINS (live, "1.5 MB/3.00 GB");
  CHECK_CONTAINS (live, "step 2/5");
  CHECK_CONTAINS (live, "runtime a-runtime failed");
  free (live);
  char b[32];
  progress_format_bytes (999, b, sizeof b);
  CHECK_STR (b, "999 B");
  progress_format_bytes (12300, b, sizeof b);
  CHECK_STR (b, "12.3 kB");
  progress_format_bytes (4100000000ULL, b, sizeof b);
  CHECK_STR (b, "4.10 GB");
}

int
main (void)
{
  test_serial_order ();
  test_serial_with_deps ();
  test_parallel_limit ();
  test_dependency_order ();
  test_failure_propagates ();
  test_initial_states ();
  test_cancel ();
  test_cycle ();
  test_empty ();
  test_progress ();
  return check_summary ("jobs");
}
