/* fsutil.h: file-system steps that leave nothing half-written behind. */
#ifndef PCGEN_FSUTIL_H
#define PCGEN_FSUTIL_H

#include <stddef.h>

/* Write data to path through a temporary file in the same folder and rename(2), so a reader
   sees the old file or the new one, never a part. Returns 0, or -1 with errno set. */
int write_file_atomic (const char *path, const void *data, size_t len, int mode);

/* write(2) until all of p is written, through EINTR. Returns 0, or -1 with errno set. */
int write_all (int fd, const char *p, size_t len);

/* mkdir -p. Returns 0, or -1 with errno set. */
int mkdir_p (const char *path, int mode);

/* 1 if path holds exactly data, 0 if not (or missing), -1 on a read error. */
int file_equals (const char *path, const void *data, size_t len);

#endif
