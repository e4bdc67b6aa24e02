/* lockfile.h: matrix.lock, the file: its sets and their pinned files, read and written
   (schema: docs/building.md, "Pinned inputs"). What a tag needs from it, and how a set is
   resolved and fetched: lock.h. */
#ifndef PCGEN_LOCKFILE_H
#define PCGEN_LOCKFILE_H

#include "error.h"
#include "kinds.h"
#include "strbuf.h"

struct locked_wheel
{
  char *name;    /* PEP 503 name */
  char *version;
  char *file;    /* the wheel's file name */
  char *sha256;
  unsigned long long size;
  enum role role; /* torch, cuda, cudnn, devel, nvcc, notebook */
  char *path;    /* nvcc: a Debian package, at this path under the Debian mirror; NULL for wheels */
};

struct lockset
{
  char *id; /* torch-2.6.0-cu124-py3.11, cuda-devel-12.4-py3.11 */
  enum source_kind source_kind; /* pypi, index or wheelhouse (never unavailable) */
  char *source_where;           /* the index's URL or the wheelhouse's folder; NULL for pypi */
  struct locked_wheel *w;
  size_t n, alloc;
};

struct lockfile
{
  struct lockset *sets;
  size_t n, alloc;
};

#define LOCK_SCHEMA_VERSION 1
#define DEFAULT_LOCK "matrix.lock"

/* A missing file reads as an empty lock. Returns 0, or -1 with err: ERR_INVALID for a lock that
   is not JSON (at file:line:col) or not a lock, ERR_ENV for one that cannot be read. */
int lockfile_read (const char *path, struct lockfile *lf, struct error *err);
/* Sorted and indented, written atomically. Returns 0, or -1 with err (ERR_ENV). */
int lockfile_write (const char *path, const struct lockfile *lf, struct error *err);
void lockfile_release (struct lockfile *lf);
void lockset_release (struct lockset *s);
void locked_wheel_release (struct locked_wheel *w);
const struct lockset *lockfile_find (const struct lockfile *lf, const char *id);

#endif
