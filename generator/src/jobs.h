/* jobs.h: run up to N jobs at once, each on a worker thread, where a job may wait for one other
   job (a devel image waits for its runtime image). Jobs start in index order among those that
   may start, so with N = 1 they run one at a time in that order. A job whose prerequisite
   failed, was skipped or cancelled is not run: it ends JOB_SKIPPED and the skip callback says so.
   After jobs_cancel() nothing more starts; the jobs that run are left to end (the caller stops
   what they run, see run_stop_all()), and those not started end JOB_CANCELLED. */
#ifndef PCGEN_JOBS_H
#define PCGEN_JOBS_H

#include <stddef.h>

#define JOBS_MAX 64
#define JOBS_NO_DEP ((size_t) -1)

enum job_state
{
  JOB_PENDING,
  JOB_RUNNING,
  JOB_DONE,      /* ran and returned 0, or was done before (see jobs_spec.initial) */
  JOB_FAILED,    /* ran and returned non-zero, or failed before */
  JOB_SKIPPED,   /* not run: its prerequisite did not end JOB_DONE */
  JOB_CANCELLED, /* not run: jobs_cancel() came first */
};

struct jobs_spec
{
  size_t n;
  int max;              /* at most this many run at once: 1..JOBS_MAX */
  const size_t *dep;    /* dep[i]: the job i waits for, or JOBS_NO_DEP; NULL: no job waits */
  const enum job_state *initial; /* NULL: every job pending; else JOB_PENDING for the jobs to run
                                    and the end state of the others (JOB_DONE, JOB_FAILED ...) */
  /* The job itself, on a worker thread: 0 for done, anything else for failed. */
  int (*run) (void *ctx, size_t i);
  /* Job i will not run because its prerequisite dep ended in state `why` (may be NULL).
     Called on a worker thread, without the scheduler's lock. */
  void (*skipped) (void *ctx, size_t i, size_t dep, enum job_state why);
  void *ctx;
};

struct jobs;

/* Start the worker threads. Returns NULL (errno set) when no thread could be started. */
struct jobs *jobs_start (const struct jobs_spec *spec);

/* Wait up to timeout_ms (negative: without limit); 1 when every job has ended, else 0. */
int jobs_wait (struct jobs *j, int timeout_ms);

/* Start nothing more. */
void jobs_cancel (struct jobs *j);

enum job_state jobs_state (struct jobs *j, size_t i);

/* The most jobs that ran at the same time. */
int jobs_max_running (struct jobs *j);

/* Wait for every job, join the threads and free j. */
void jobs_finish (struct jobs *j);

/* jobs_start, jobs_wait and jobs_finish in one; the end states into states (may be NULL).
   Returns the number of jobs that did not end JOB_DONE, or -1 when no thread could start. */
int jobs_run (const struct jobs_spec *spec, enum job_state *states, int *max_running);

const char *job_state_name (enum job_state s);

#endif
