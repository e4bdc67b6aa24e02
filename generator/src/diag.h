/* diag.h: diagnostics that point at the byte, as jq does:
     matrix.yaml:14:7: error: torch 2.9 has no CUDA 11.8 build (published: 12.6, 12.8, 13.0)
        14 |   - "11.8"
           |     ^~~~~~
   A parser collects every problem of a file in a struct diags, then prints them all. */
#ifndef PCGEN_DIAG_H
#define PCGEN_DIAG_H

#include <stdio.h>

/* A place in a source text; line and col are 1-based, len the span in bytes (0: one caret). */
struct mark
{
  int line;
  int col;
  int len;
};

struct diag
{
  char *file;
  struct mark mark;
  char *msg;
  char *hint; /* optional second line: "did you mean 'flavors'?" */
};

struct diags
{
  struct diag *v;
  size_t n, alloc;
  size_t cap; /* stop recording after this many (0: 200) so hostile input stays cheap */
  size_t dropped;
};
#define DIAGS_INIT { NULL, 0, 0, 0, 0 }

void diag_add (struct diags *d, const char *file, struct mark m, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
/* Whether d keeps no more diagnostics (the cap is reached): a caller may skip building a
   costly message that would only be counted. */
int diags_full (const struct diags *d);
/* Attach a hint to the diagnostic added last. */
void diag_hint (struct diags *d, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Print every diagnostic; src (may be NULL) is the text of the file (NUL-terminated; or len
   bytes, NUL bytes allowed, for diags_print_len), for the caret lines. Diagnostics of other files are printed without a source line.
   What is printed is made safe for a terminal: characters that could garble or fool it, and
   bytes that are not UTF-8, are shown escaped (\x1b, \u{85}, \xff); a source line wider than
   120 columns is cut to about 100 around the caret, with "…" where it was cut; a message keeps
   at most 1024 bytes, its head and tail. */
void diags_print (const struct diags *d, const char *file, const char *src, FILE *out);
void diags_print_len (const struct diags *d, const char *file, const char *src, size_t len, FILE *out);
/* Print every diagnostic, reading each named file once for the caret lines. */
void diags_print_files (const struct diags *d, FILE *out);
void diags_release (struct diags *d);

/* The place of byte `offset` of src (len bytes), counted as libyaml counts marks: lines split
   at its breaks (LF, CR, CR LF, NEL, LS, PS), columns in characters (an invalid UTF-8 byte is
   one), after a leading byte order mark. For libyaml's reader errors, which give a byte offset
   and no mark. */
struct mark diag_mark_at (const char *src, size_t len, size_t offset);

#endif
