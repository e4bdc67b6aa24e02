/* layer.h: deterministic layer tars made from wheels and .deb packages with libarchive.
   The same inputs give the same bytes: entries sorted by path, explicit parent folders,
   uid/gid 0 and empty owner names, one fixed mtime (SOURCE_DATE_EPOCH), no atime/ctime
   (pax_restricted), normalized modes (0755 folders and executables, 0644 other files). */
#ifndef PCGEN_LAYER_H
#define PCGEN_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "strbuf.h"

/* A wheel member whose path starts with `from` lands at `to` + the rest of its path (paths
   relative, no leading '/'). The first matching rule wins; `to` NULL drops the member; a member
   no rule matches is dropped. */
struct layer_rule
{
  const char *from;
  const char *to;
};

/* An input is a wheel (a zip), or a Debian package when its name ends in ".deb" (an ar archive
   whose data.tar.{xz,zst,gz,bz2} is read; its members' leading "./" is dropped before the rules
   apply, so a rule's `from` reads "usr/bin/"), or a tar when it ends in ".tar.xz" (NVIDIA's redist
   archives). Member paths are normalized ("a//b", "a/./b" are "a/b") before the rules and the
   duplicate check. Hard links and device files in a mapped member are refused; so is any symlink
   in a wheel (pip never makes one), and a mapped .deb or tar symlink whose target, seen from the
   package and from the layer, climbs above the root or leaves the system folders (usr/, lib/,
   lib64/, bin/, sbin/: /etc/shadow, ../tmp/x). */
struct layer_input
{
  const char *wheel; /* path of a .whl or a .deb */
  const struct layer_rule *rules;
  size_t nrules;
};

/* Extra entries made by pcgen itself. */
struct layer_link
{
  const char *path;   /* usr/local/cuda */
  const char *target; /* cuda-12.4 */
};

struct layer_file
{
  const char *path;    /* etc/ld.so.conf.d/pytorch-cuda.conf */
  const char *content; /* written as is */
  int mode;            /* 0644 */
};

/* An empty folder made by pcgen with its own owner and mode (the notebook image's /workspace,
   owned by its user). Only a leaf: a folder that other entries sit in is made by the layer
   itself (root's, 0755). */
struct layer_dir
{
  const char *path; /* workspace */
  int mode;         /* 0755 */
  int uid, gid;     /* 1000 */
};

struct layer_spec
{
  const struct layer_input *inputs;
  size_t ninputs;
  const struct layer_link *links;
  size_t nlinks;
  const struct layer_file *files;
  size_t nfiles;
  int64_t mtime;       /* every entry's mtime */
  const char *tmp_dir; /* where staging may happen (same file system as out is best) */
  const struct layer_dir *dirs;
  size_t ndirs;
};

/* The most an input's kept members may unpack to: LAYER_MAX_EXPANSION times the archive's
   size, or LAYER_EXPAND_FLOOR bytes (layer_set_expand_floor) when that is more. Real inputs stay far below (torch: 770 MB of
   wheel, 2.5 GB unpacked, 3.3 times; a 200 KB zip that unpacks to 200 MB is 1000 times). */
#define LAYER_MAX_EXPANSION 100
#define LAYER_EXPAND_FLOOR (256ull << 20)
/* Another floor for the process (tests); 0 puts LAYER_EXPAND_FLOOR back. */
void layer_set_expand_floor (uint64_t bytes);

struct layer_stats
{
  uint64_t entries;
  uint64_t bytes; /* file content bytes */
};

/* Write the layer to out_tar (an uncompressed pax tar) atomically: a temporary file in the same
   folder, renamed on success, removed on failure or interruption. Fills sha256 (hex of the tar)
   and stats. Two inputs writing the same path, an unreadable wheel, a path with "..": an error.
   Returns 0, or -1 with a message in err. */
int layer_write (const struct layer_spec *spec, const char *out_tar, char sha256[SHA256_HEX_LEN + 1],
                 struct layer_stats *stats, struct strbuf *err);
/* The same, where spec->files[i] holds file_sizes[i] bytes (binary content: the image writer's
   ld.so.cache and verifier); file_sizes NULL: strlen of each, as layer_write. */
int layer_write_sized (const struct layer_spec *spec, const size_t *file_sizes, const char *out_tar,
                       char sha256[SHA256_HEX_LEN + 1], struct layer_stats *stats, struct strbuf *err);

/* The member paths of a .deb's data.tar (without "./"), one per line, reading every member's
   data (the fuzz target's entry). Returns 0, or -1 with err. */
int deb_members_memory (const void *data, size_t size, struct strbuf *out, struct strbuf *err);
/* The in-place wheel reader (layer.c) over a zip in memory: each member's name, mode and size as
   a line of out, every file of up to 64 MiB inflated and checked against its CRC-32. Returns 0,
   1 when it is not a zip that reader takes (libarchive reads those), -1 with err. For
   fuzz_wheel. */
int wheel_members_direct (const void *data, size_t size, struct strbuf *out, struct strbuf *err);

#endif
