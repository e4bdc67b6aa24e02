/* jobs.c: see jobs.h. One mutex guards every state; workers take the first job that may start,
   run it without the lock, and broadcast each change so that waiting workers and jobs_wait()
   look again. */
#include "jobs.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

struct jobs
{
  struct jobs_spec spec;
  enum job_state *state;
  size_t ended;    /* jobs in an end state */
  int running, max_running, cancelled;
  pthread_mutex_t mu;
  pthread_cond_t cv; /* a state changed */
  pthread_t *threads;
  int nthreads;
};

static int
is_end (enum job_state s)
{
  return s != JOB_PENDING && s != JOB_RUNNING;
}

static void
set_state (struct jobs *j, size_t i, enum job_state s)
{
  if (!is_end (j->state[i]) && is_end (s))
    j->ended++;
  j->state[i] = s;
}

/* Under the lock: the first job that may start (SIZE_MAX: none). A job whose prerequisite
   ended badly is marked skipped and returned through *skip, one at a time, so that the caller
   can report it without the lock. */
static size_t
pick (struct jobs *j, size_t *skip, size_t *skip_dep)
{
  *skip = JOBS_NO_DEP;
  for (size_t i = 0; i < j->spec.n; i++)
    {
      if (j->state[i] != JOB_PENDING)
        continue;
      if (j->cancelled)
        {
          set_state (j, i, JOB_CANCELLED);
          continue;
        }
      size_t d = j->spec.dep ? j->spec.dep[i] : JOBS_NO_DEP;
      if (d >= j->spec.n || d == i || j->state[d] == JOB_DONE)
        return i;
      if (is_end (j->state[d]))
        {
          set_state (j, i, JOB_SKIPPED);
          *skip = i;
          *skip_dep = d;
          return SIZE_MAX;
        }
    }
  return SIZE_MAX;
}

static void *
worker (void *arg)
{
  struct jobs *j = arg;
  pthread_mutex_lock (&j->mu);
  for (;;)
    {
      size_t skip, skip_dep;
      size_t i = pick (j, &skip, &skip_dep);
      if (skip != JOBS_NO_DEP)
        {
          enum job_state why = j->state[skip_dep];
          pthread_cond_broadcast (&j->cv);
          pthread_mutex_unlock (&j->mu);
          if (j->spec.skipped)
            j->spec.skipped (j->spec.ctx, skip, skip_dep, why);
          pthread_mutex_lock (&j->mu);
          continue;
        }
      if (i != SIZE_MAX)
        {
          set_state (j, i, JOB_RUNNING);
          if (++j->running > j->max_running)
            j->max_running = j->running;
          pthread_mutex_unlock (&j->mu);
          int rc = j->spec.run (j->spec.ctx, i);
          pthread_mutex_lock (&j->mu);
          j->running--;
          set_state (j, i, rc == 0 ? JOB_DONE : JOB_FAILED);
          pthread_cond_broadcast (&j->cv);
          continue;
        }
      if (j->ended == j->spec.n)
        break;
      if (j->running == 0)
        {
          /* Pending jobs, none running, none may start: they wait on each other (a cycle).
             Nothing will ever let them start: they end skipped. */
          for (size_t k = 0; k < j->spec.n; k++)
            if (j->state[k] == JOB_PENDING)
              set_state (j, k, JOB_SKIPPED);
          pthread_cond_broadcast (&j->cv);
          continue;
        }
      pthread_cond_wait (&j->cv, &j->mu);
    }
  pthread_cond_broadcast (&j->cv);
  pthread_mutex_unlock (&j->mu);
  return NULL;
}

struct jobs *
jobs_start (const struct jobs_spec *spec)
{
  struct jobs *j = xcalloc (1, sizeof *j);
  j->spec = *spec;
  j->state = xcalloc (spec->n + 1, sizeof *j->state);
  for (size_t i = 0; i < spec->n; i++)
    set_state (j, i, spec->initial ? spec->initial[i] : JOB_PENDING);
  pthread_mutex_init (&j->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init (&ca);
  pthread_condattr_setclock (&ca, CLOCK_MONOTONIC);
  pthread_cond_init (&j->cv, &ca);
  pthread_condattr_destroy (&ca);
  int want = spec->max < 1 ? 1 : spec->max > JOBS_MAX ? JOBS_MAX : spec->max;
  if ((size_t) want > spec->n)
    want = spec->n ? (int) spec->n : 1;
  j->threads = xcalloc ((size_t) want, sizeof *j->threads);
  for (int k = 0; k < want; k++)
    {
      int e = pthread_create (&j->threads[j->nthreads], NULL, worker, j);
      if (e != 0)
        {
          if (j->nthreads > 0)
            break; /* fewer workers than asked: still correct, less parallel */
          errno = e;
          pthread_cond_destroy (&j->cv);
          pthread_mutex_destroy (&j->mu);
          free (j->threads);
          free (j->state);
          free (j);
          return NULL;
        }
      j->nthreads++;
    }
  return j;
}

int
jobs_wait (struct jobs *j, int timeout_ms)
{
  struct timespec until;
  clock_gettime (CLOCK_MONOTONIC, &until);
  if (timeout_ms > 0)
    {
      until.tv_sec += timeout_ms / 1000;
      until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
      if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    }
  pthread_mutex_lock (&j->mu);
  while (j->ended < j->spec.n)
    {
      if (timeout_ms < 0)
        pthread_cond_wait (&j->cv, &j->mu);
      else if (timeout_ms == 0 || pthread_cond_timedwait (&j->cv, &j->mu, &until) == ETIMEDOUT)
        break;
    }
  int all = j->ended == j->spec.n;
  pthread_mutex_unlock (&j->mu);
  return all;
}

void
jobs_cancel (struct jobs *j)
{
  pthread_mutex_lock (&j->mu);
  j->cancelled = 1;
  for (size_t i = 0; i < j->spec.n; i++)
    if (j->state[i] == JOB_PENDING)
      set_state (j, i, JOB_CANCELLED);
  pthread_cond_broadcast (&j->cv);
  pthread_mutex_unlock (&j->mu);
}

enum job_state
jobs_state (struct jobs *j, size_t i)
{
  pthread_mutex_lock (&j->mu);
  enum job_state s = j->state[i];
  pthread_mutex_unlock (&j->mu);
  return s;
}

int
jobs_max_running (struct jobs *j)
{
  pthread_mutex_lock (&j->mu);
  int m = j->max_running;
  pthread_mutex_unlock (&j->mu);
  return m;
}

void
jobs_finish (struct jobs *j)
{
  if (j == NULL)
    return;
  for (int k = 0; k < j->nthreads; k++)
    pthread_join (j->threads[k], NULL);
  pthread_cond_destroy (&j->cv);
  pthread_mutex_destroy (&j->mu);
  free (j->threads);
  free (j->state);
  free (j);
}

int
jobs_run (const struct jobs_spec *spec, enum job_state *states, int *max_running)
{
  struct jobs *j = jobs_start (spec);
  if (j == NULL)
    return -1;
  jobs_wait (j, -1);
  int bad = 0;
  for (size_t i = 0; i < spec->n; i++)
    {
      if (states)
        states[i] = j->state[i];
      bad += j->state[i] != JOB_DONE;
    }
  if (max_running)
    *max_running = j->max_running;
  jobs_finish (j);
  return bad;
}

const char *
job_state_name (enum job_state s)
{
  static const char *const names[] = { "pending", "running", "done", "failed", "skipped", "cancelled" };
  return (size_t) s < ARRAY_SIZE (names) ? names[s] : "?";
}
