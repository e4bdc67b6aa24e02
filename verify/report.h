/* report.h: the table and the JSON certificate (report.c). */
#ifndef PCV_REPORT_H
#define PCV_REPORT_H

#include "verify.h"

struct outcome
{
  const char *level;  /* "static" or "gpu" */
  const char *result; /* "certified", "failed", "no-gpu", "driver-too-old" */
  int exit_code;
  char started[32], finished[32]; /* RFC 3339, UTC */
};

/* S as a JSON string literal, escaped; bytes that are not UTF-8 become U+FFFD. */
void json_string (FILE *f, const char *s);
void report_json (FILE *f, const struct ctx *c, const struct check *checks, size_t n,
                  const struct outcome *o);
void report_table (FILE *f, const struct ctx *c, const struct check *checks, size_t n,
                   const struct outcome *o);

#endif
