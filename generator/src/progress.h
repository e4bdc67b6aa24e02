/* progress.h: one line per tag while tags build. On a terminal (live mode) the lines are a
   block redrawn in place (ANSI cursor movement) by progress_draw (), which the main thread
   calls every 200 ms: tag, phase, bytes, elapsed seconds, a detail. Otherwise (and on a
   terminal before progress_live ()) every phase prints "TAG: phase[ detail]" when it starts.
   Every function takes the lock: workers call progress_phase () and progress_bytes (),
   anyone may call progress_note (), which prints a line above the block. */
#ifndef PCGEN_PROGRESS_H
#define PCGEN_PROGRESS_H

#include <pthread.h>
#include <stdio.h>
#include <time.h>

/* A tag's phase in pcgen build, in the order a build goes through them; from PHASE_DONE on, the
   final ones. phase_name: the word its line shows ("sending context", "up to date"). */
enum phase
{
  PHASE_QUEUED,
  PHASE_STAGING,
  PHASE_SENDING_CONTEXT,
  PHASE_BUILDING,
  PHASE_EXPORTING,
  PHASE_WRITING,
  PHASE_LOADING,
  PHASE_TAGGING,
  PHASE_DONE,
  PHASE_UP_TO_DATE,
  PHASE_FAILED,
  PHASE_SKIPPED,
  PHASE_CANCELLED,
  PHASE_INTERRUPTED,
};
const char *phase_name (enum phase p);

struct progress_row
{
  const char *name;
  enum phase phase;
  char detail[96];
  unsigned long long bytes, total; /* sent so far, of total (0: unknown) */
  struct timespec t0, t1;          /* started (the last phase after queued), ended */
  int started, ended, queued;
};

struct progress
{
  pthread_mutex_t mu;
  FILE *out;
  struct progress_row *rows;
  size_t n;
  int tty;    /* out is a terminal */
  int live;   /* the block is shown (tty and progress_live () called) */
  int drawn;  /* lines of the block on the screen now */
  int name_width;
};

/* names[i] (kept, not copied) for row i; tty: out is a terminal. */
void progress_init (struct progress *p, FILE *out, const char *const *names, size_t n, int tty);
void progress_release (struct progress *p);

/* Row i enters phase; fmt (may be NULL) is its detail. The final phases (PHASE_DONE and after)
   end the row's clock. */
void progress_phase (struct progress *p, size_t i, enum phase phase, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
/* Bytes sent for row i (the build context), of total when known (0: keep the last total). */
void progress_bytes (struct progress *p, size_t i, unsigned long long sent, unsigned long long total);
/* Row i's detail, without a new phase (live mode only shows it). */
void progress_detail (struct progress *p, size_t i, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

/* From now on, on a terminal, show the block. */
void progress_live (struct progress *p);
/* Redraw the block (live mode; otherwise nothing). */
void progress_draw (struct progress *p);
/* A line to `to` (stdout or stderr), above the block in live mode. */
void progress_note (struct progress *p, FILE *to, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
/* A last redraw; the block stays on the screen and later output goes below it. */
void progress_end (struct progress *p);

/* "1.23 GB", "456 MB", "12 kB", "7 B" (decimal units, as docker prints them). */
void progress_format_bytes (unsigned long long n, char *buf, size_t size);

#endif
