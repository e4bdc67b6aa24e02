/* progress.c: see progress.h. */
#include "progress.h"
#include "util.h"

#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

void
progress_init (struct progress *p, FILE *out, const char *const *names, size_t n, int tty)
{
  memset (p, 0, sizeof *p);
  pthread_mutex_init (&p->mu, NULL);
  p->out = out;
  p->tty = tty;
  p->n = n;
  p->rows = xcalloc (n + 1, sizeof *p->rows);
  for (size_t i = 0; i < n; i++)
    {
      p->rows[i].name = names[i];
      if (strlen (names[i]) > (size_t) p->name_width)
        p->name_width = (int) strlen (names[i]);
      p->rows[i].phase = PHASE_QUEUED;
    }
}

void
progress_release (struct progress *p)
{
  free (p->rows);
  pthread_mutex_destroy (&p->mu);
  memset (p, 0, sizeof *p);
}

void
progress_format_bytes (unsigned long long n, char *buf, size_t size)
{
  if (n >= 1000000000ULL)
    snprintf (buf, size, "%.2f GB", (double) n / 1e9);
  else if (n >= 1000000ULL)
    snprintf (buf, size, "%.1f MB", (double) n / 1e6);
  else if (n >= 1000ULL)
    snprintf (buf, size, "%.1f kB", (double) n / 1e3);
  else
    snprintf (buf, size, "%llu B", n);
}

static double
elapsed (const struct progress_row *r)
{
  if (!r->started)
    return 0;
  struct timespec now;
  if (r->ended)
    now = r->t1;
  else
    clock_gettime (CLOCK_MONOTONIC, &now);
  return (double) (now.tv_sec - r->t0.tv_sec) + (double) (now.tv_nsec - r->t0.tv_nsec) / 1e9;
}

static const char *const phase_names[]
    = { [PHASE_QUEUED] = "queued",       [PHASE_STAGING] = "staging",   [PHASE_SENDING_CONTEXT] = "sending context",
        [PHASE_BUILDING] = "building",   [PHASE_EXPORTING] = "exporting", [PHASE_WRITING] = "writing",
        [PHASE_LOADING] = "loading",     [PHASE_TAGGING] = "tagging",   [PHASE_DONE] = "done",
        [PHASE_UP_TO_DATE] = "up to date", [PHASE_FAILED] = "failed",   [PHASE_SKIPPED] = "skipped",
        [PHASE_CANCELLED] = "cancelled", [PHASE_INTERRUPTED] = "interrupted" };

const char *
phase_name (enum phase phase)
{
  return phase_names[phase];
}

static int
is_final (enum phase phase)
{
  return phase >= PHASE_DONE;
}

/* Skipped and cancelled rows did no work of their own: no clock. */
static int
no_work (enum phase phase)
{
  return phase == PHASE_SKIPPED || phase == PHASE_CANCELLED;
}

/* Under the lock, in live mode: move to the top of the block and erase it. */
static void
erase_block (struct progress *p)
{
  if (p->drawn)
    fprintf (p->out, "\r\033[%dA\033[J", p->drawn);
  p->drawn = 0;
}

static size_t
columns (const struct progress *p)
{
  struct winsize ws;
  if (ioctl (fileno (p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
    return ws.ws_col;
  return 80;
}

/* Under the lock, in live mode. Lines are cut to the terminal's width: a wrapped line would
   make the block taller than the cursor movement assumes. */
static void
draw_block (struct progress *p)
{
  size_t width = columns (p) - 1;
  char *line = xmalloc (width + 1);
  for (size_t i = 0; i < p->n; i++)
    {
      const struct progress_row *r = &p->rows[i];
      char bytes[48] = "", sent[24], total[24], secs[24] = "";
      if (r->bytes || r->total)
        {
          progress_format_bytes (r->bytes, sent, sizeof sent);
          progress_format_bytes (r->total, total, sizeof total);
          if (r->total && r->bytes && r->bytes < r->total)
            snprintf (bytes, sizeof bytes, "%s/%s", sent, total);
          else
            snprintf (bytes, sizeof bytes, "%s", r->total ? total : sent);
        }
      if (r->started && !r->queued)
        snprintf (secs, sizeof secs, "%.0fs", elapsed (r));
      snprintf (line, width + 1, "%-*s  %-15s %-15s %5s  %s", p->name_width, r->name, phase_name (r->phase), bytes, secs, r->detail);
      fprintf (p->out, "\033[2K%s\n", line);
    }
  free (line);
  p->drawn = (int) p->n;
  fflush (p->out);
}

void
progress_phase (struct progress *p, size_t i, enum phase phase, const char *fmt, ...)
{
  pthread_mutex_lock (&p->mu);
  struct progress_row *r = &p->rows[i];
  r->phase = phase;
  r->detail[0] = '\0';
  if (fmt)
    {
      va_list ap;
      va_start (ap, fmt);
      vsnprintf (r->detail, sizeof r->detail, fmt, ap);
      va_end (ap);
    }
  /* The clock runs from a phase with work in it after queued (staging, then building). */
  int working = phase != PHASE_QUEUED && !no_work (phase);
  if (working && (!r->started || r->queued) && !r->ended)
    {
      r->started = 1;
      clock_gettime (CLOCK_MONOTONIC, &r->t0);
    }
  r->queued = phase == PHASE_QUEUED;
  if (no_work (phase))
    r->started = 0; /* no time to show */
  if (is_final (phase) && !r->ended)
    {
      r->ended = 1;
      clock_gettime (CLOCK_MONOTONIC, &r->t1);
    }
  if (!p->live)
    {
      /* "TAG: phase[ 12s][: detail]" */
      char secs[32] = "";
      if (is_final (phase) && r->started && !no_work (phase))
        snprintf (secs, sizeof secs, " %.0fs", elapsed (r));
      fprintf (p->out, "%s: %s%s%s%s\n", r->name, phase_name (phase), secs, r->detail[0] ? ": " : "", r->detail);
      fflush (p->out);
    }
  pthread_mutex_unlock (&p->mu);
}

void
progress_bytes (struct progress *p, size_t i, unsigned long long sent, unsigned long long total)
{
  pthread_mutex_lock (&p->mu);
  p->rows[i].bytes = sent;
  if (total)
    p->rows[i].total = total;
  pthread_mutex_unlock (&p->mu);
}

void
progress_detail (struct progress *p, size_t i, const char *fmt, ...)
{
  pthread_mutex_lock (&p->mu);
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (p->rows[i].detail, sizeof p->rows[i].detail, fmt, ap);
  va_end (ap);
  pthread_mutex_unlock (&p->mu);
}

void
progress_live (struct progress *p)
{
  pthread_mutex_lock (&p->mu);
  p->live = p->tty;
  if (p->live)
    draw_block (p);
  pthread_mutex_unlock (&p->mu);
}

void
progress_draw (struct progress *p)
{
  pthread_mutex_lock (&p->mu);
  if (p->live)
    {
      erase_block (p);
      draw_block (p);
    }
  pthread_mutex_unlock (&p->mu);
}

void
progress_note (struct progress *p, FILE *to, const char *fmt, ...)
{
  pthread_mutex_lock (&p->mu);
  if (p->live)
    {
      erase_block (p);
      fflush (p->out);
    }
  else
    fflush (p->out);
  va_list ap;
  va_start (ap, fmt);
  vfprintf (to, fmt, ap);
  va_end (ap);
  fputc ('\n', to);
  fflush (to);
  if (p->live)
    draw_block (p);
  pthread_mutex_unlock (&p->mu);
}

void
progress_end (struct progress *p)
{
  pthread_mutex_lock (&p->mu);
  if (p->live)
    {
      erase_block (p);
      draw_block (p);
      p->live = 0;
    }
  p->drawn = 0;
  pthread_mutex_unlock (&p->mu);
}
