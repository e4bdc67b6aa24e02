/* strbuf.h: growable NUL-terminated strings, after git's strbuf.
   buf is never NULL and always NUL-terminated; strbuf_detach() hands ownership out. */
#ifndef PCGEN_STRBUF_H
#define PCGEN_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

extern char strbuf_slopbuf[];
struct strbuf
{
  size_t alloc;
  size_t len;
  char *buf;
};
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init (struct strbuf *sb, size_t hint);
void strbuf_release (struct strbuf *sb);
char *strbuf_detach (struct strbuf *sb, size_t *len);
void strbuf_reset (struct strbuf *sb);
void strbuf_grow (struct strbuf *sb, size_t extra);
void strbuf_add (struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr (struct strbuf *sb, const char *s);
void strbuf_addch (struct strbuf *sb, int c);
void strbuf_addf (struct strbuf *sb, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void strbuf_vaddf (struct strbuf *sb, const char *fmt, va_list ap);
/* Read a whole file; returns 0, or -1 with errno set. */
int strbuf_read_file (struct strbuf *sb, const char *path, size_t cap);

#endif
