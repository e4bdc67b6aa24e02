/* test_lock.c: matrix.lock reading and writing, the cache's refusal of wrong bytes, and
   pip's errors turned into one line. */
#include "check.h"
#include "base.h"
#include "cache.h"
#include "fsutil.h"
#include "lock.h"
#include "util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static char tmp[] = "/tmp/pcgen-test-lock.XXXXXX";

/* A lock with no set (a first `pcgen lock` whose every tag failed) is written and read back:
   no qsort on a NULL array (UBSan's nonnull-attribute check). */
static void
test_empty_lock (void)
{
  struct lockfile lf = { 0 };
  struct error err = ERROR_INIT;
  cleanup_free char *path = xasprintf ("%s/empty.lock", tmp);
  CHECK_INT (lockfile_write (path, &lf, &err), 0);
  struct lockfile back;
  CHECK_INT (lockfile_read (path, &back, &err), 0);
  CHECK_INT (back.n, 0);
  lockfile_release (&back);
  /* A set with no wheel, the same. */
  ARRAY_GROW (lf.sets, 1, lf.alloc);
  lf.sets[0] = (struct lockset) { xstrdup ("torch-2.6.0-cu124-py3.11"), SOURCE_PYPI, NULL, NULL, 0, 0 };
  lf.n = 1;
  CHECK_INT (lockfile_write (path, &lf, &err), 0);
  CHECK_INT (lockfile_read (path, &back, &err), 0);
  CHECK_INT (back.n, 1);
  CHECK_INT (back.sets[0].n, 0);
  lockfile_release (&back);
  lockfile_release (&lf);
  err_release (&err);
}

/* Both NULL, or the same string. */
static int
same (const char *a, const char *b)
{
  return a == NULL ? b == NULL : b != NULL && strcmp (a, b) == 0;
}

static struct locked_wheel
wheel (const char *name, const char *version, const char *role, const char *file, const char *sha_of,
       const char *path)
{
  char sha[SHA256_HEX_LEN + 1];
  sha256_hex (sha_of, strlen (sha_of), sha);
  return (struct locked_wheel) { xstrdup (name), xstrdup (version), xstrdup (file), xstrdup (sha),
                                 strlen (sha_of), role_parse (role), path ? xstrdup (path) : NULL };
}

/* Two sets of several wheels, one an nvcc package with its pool path, written and read back
   field by field (sets and wheels come back sorted by id and name). */
static void
test_round_trip (void)
{
  struct lockfile lf = { 0 };
  struct error err = ERROR_INIT;
  cleanup_free char *path = xasprintf ("%s/two.lock", tmp);
  ARRAY_GROW (lf.sets, 2, lf.alloc);
  lf.sets[0] = (struct lockset) { xstrdup ("torch-2.6.0-cu124-py3.11"), SOURCE_INDEX,
                                  xstrdup ("http://127.0.0.1:8080/simple"), NULL, 0, 0 };
  lf.sets[1] = (struct lockset) { xstrdup ("cuda-devel-12.4-py3.11"), SOURCE_PYPI, NULL, NULL, 0, 0 };
  lf.n = 2;
  struct lockset *t = &lf.sets[0], *d = &lf.sets[1];
  ARRAY_GROW (t->w, 3, t->alloc);
  t->w[t->n++] = wheel ("torch", "2.6.0", "torch", "torch-2.6.0-cp311-cp311-manylinux1_x86_64.whl", "t", NULL);
  t->w[t->n++] = wheel ("nvidia-cudnn-cu12", "9.1.0.70", "cudnn", "nvidia_cudnn_cu12-9.1.0.70-py3-none-manylinux2014_x86_64.whl",
                        "cudnn bytes", NULL);
  t->w[t->n++] = wheel ("filelock", "3.13.1", "torch", "filelock-3.13.1-py3-none-any.whl", "fl", NULL);
  ARRAY_GROW (d->w, 2, d->alloc);
  d->w[d->n++] = wheel ("nvidia-cuda-nvcc-cu12", "12.4.131", "devel", "nvidia_cuda_nvcc_cu12-12.4.131-py3-none-manylinux2014_x86_64.whl",
                        "nvcc wheel", NULL);
  d->w[d->n++] = wheel ("nvidia-cuda-toolkit", "12.4.131~12.4.1-5", "nvcc", "nvidia-cuda-toolkit_12.4.131~12.4.1-5_amd64.deb",
                        "deb", "pool/non-free/n/nvidia-cuda-toolkit/nvidia-cuda-toolkit_12.4.131~12.4.1-5_amd64.deb");
  CHECK_INT (lockfile_write (path, &lf, &err), 0);
  struct lockfile back;
  CHECK_INT (lockfile_read (path, &back, &err), 0);
  CHECK_STR (err.msg.buf, "");
  CHECK_INT (back.n, 2);
  for (size_t i = 0; i < 2 && back.n == 2; i++)
    {
      const struct lockset *a = lockfile_find (&lf, back.sets[i].id), *b = &back.sets[i];
      CHECK (a != NULL);
      if (a == NULL)
        continue;
      CHECK_INT (b->source_kind, a->source_kind);
      CHECK (same (b->source_where, a->source_where));
      CHECK_INT (b->n, a->n);
      for (size_t j = 0; j < a->n && j < b->n; j++)
        {
          CHECK_STR (b->w[j].name, a->w[j].name);
          CHECK_STR (b->w[j].version, a->w[j].version);
          CHECK_STR (b->w[j].file, a->w[j].file);
          CHECK_STR (b->w[j].sha256, a->w[j].sha256);
          CHECK_INT (b->w[j].role, a->w[j].role);
          CHECK_INT (b->w[j].size, a->w[j].size);
          CHECK (same (b->w[j].path, a->w[j].path));
        }
    }
  /* Sorted: the devel set first, its nvcc package last; torch's wheels by name. */
  CHECK_STR (back.sets[0].id, "cuda-devel-12.4-py3.11");
  CHECK_STR (back.sets[0].w[1].path, "pool/non-free/n/nvidia-cuda-toolkit/nvidia-cuda-toolkit_12.4.131~12.4.1-5_amd64.deb");
  CHECK_STR (back.sets[1].w[0].name, "filelock");
  CHECK (back.sets[1].source_where && strcmp (back.sets[1].source_where, "http://127.0.0.1:8080/simple") == 0);
  /* The source kind is kept as an enum and written as its word: the lock read back writes the
     same bytes, and says "index" and "pypi" as matrix.lock always has. */
  cleanup_free char *again = xasprintf ("%s/two-again.lock", tmp);
  CHECK_INT (lockfile_write (again, &back, &err), 0);
  struct strbuf first = STRBUF_INIT, second = STRBUF_INIT;
  CHECK (strbuf_read_file (&first, path, 1 << 20) >= 0);
  CHECK (strbuf_read_file (&second, again, 1 << 20) >= 0);
  CHECK_STR (second.buf, first.buf);
  CHECK_CONTAINS (first.buf, "\"kind\": \"index\"");
  CHECK_CONTAINS (first.buf, "\"kind\": \"pypi\"");
  strbuf_release (&first);
  strbuf_release (&second);
  lockfile_release (&back);
  lockfile_release (&lf);
  err_release (&err);
}

/* One wheel entry with the given sha256 and file, read back: the error (empty when read). */
static char *
read_hostile (const char *sha256, const char *file)
{
  cleanup_free char *path = xasprintf ("%s/hostile.lock", tmp);
  cleanup_free char *text = xasprintf (
      "{ \"schema\": 1, \"sets\": [ { \"id\": \"torch-2.6.0-cu124-py3.11\", \"source\": { \"kind\": \"pypi\" },\n"
      "  \"wheels\": [ { \"name\": \"torch\", \"version\": \"2.6.0\", \"role\": \"torch\", \"size\": 1,\n"
      "                \"file\": \"%s\", \"sha256\": \"%s\" } ] } ] }\n",
      file, sha256);
  CHECK_INT (write_file_atomic (path, text, strlen (text), 0644), 0);
  struct lockfile lf;
  struct error err = ERROR_INIT;
  int rc = lockfile_read (path, &lf, &err);
  CHECK_INT (rc, err.msg.len ? -1 : 0);
  lockfile_release (&lf);
  char *msg = strbuf_detach (&err.msg, NULL);
  CHECK_INT (err.kind, rc < 0 ? ERR_INVALID : ERR_NONE);
  err_release (&err);
  return msg;
}

/* A role matrix.lock does not know (kinds.h) is refused when read, naming it: it would go into
   no layer. */
static void
test_unknown_role (void)
{
  cleanup_free char *path = xasprintf ("%s/role.lock", tmp);
  char sha[SHA256_HEX_LEN + 1];
  sha256_hex ("x", 1, sha);
  cleanup_free char *text = xasprintf (
      "{ \"schema\": 1, \"sets\": [ { \"id\": \"torch-2.6.0-cu124-py3.11\", \"source\": { \"kind\": \"pypi\" },\n"
      "  \"wheels\": [ { \"name\": \"torch\", \"version\": \"2.6.0\", \"role\": \"tourch\", \"size\": 1,\n"
      "                \"file\": \"torch-2.6.0-cp311-cp311-manylinux1_x86_64.whl\", \"sha256\": \"%s\" } ] } ] }\n",
      sha);
  CHECK_INT (write_file_atomic (path, text, strlen (text), 0644), 0);
  struct lockfile lf;
  struct error err = ERROR_INIT;
  CHECK_INT (lockfile_read (path, &lf, &err), -1);
  CHECK_INT (err.kind, ERR_INVALID);
  CHECK_CONTAINS (err.msg.buf, "wheel 1 (torch): role 'tourch' is not torch, cuda, cudnn, devel, nvcc or notebook");
  lockfile_release (&lf);
  err_release (&err);
}

/* The lock's source kind for a set (where fetch downloads it from), read through kinds.h's table:
   a word it does not know, or "unavailable", is refused naming the set and the word (it was
   once read as PyPI, so `"kind": "ftp"` fetched from PyPI); each known word reads back as its
   kind. */
static void
test_unknown_source_kind (void)
{
  cleanup_free char *path = xasprintf ("%s/kind.lock", tmp);
  char sha[SHA256_HEX_LEN + 1];
  sha256_hex ("x", 1, sha);
  const char *words[] = { "ftp", "PyPI", "unavailable", "pypi", "index", "wheelhouse" };
  for (size_t i = 0; i < ARRAY_SIZE (words); i++)
    {
      cleanup_free char *text = xasprintf (
          "{ \"schema\": 1, \"sets\": [ { \"id\": \"torch-2.6.0-cu124-py3.11\", \"source\": { \"kind\": \"%s\" },\n"
          "  \"wheels\": [ { \"name\": \"torch\", \"version\": \"2.6.0\", \"role\": \"torch\", \"size\": 1,\n"
          "                \"file\": \"torch-2.6.0-cp311-cp311-manylinux1_x86_64.whl\", \"sha256\": \"%s\" } ] } ] }\n",
          words[i], sha);
      CHECK_INT (write_file_atomic (path, text, strlen (text), 0644), 0);
      struct lockfile lf;
      struct error err = ERROR_INIT;
      int known = source_kind_parse (words[i]) >= 0 && source_kind_parse (words[i]) != SOURCE_UNAVAILABLE;
      CHECK_INT (lockfile_read (path, &lf, &err), known ? 0 : -1);
      if (known && lf.n == 1)
        CHECK_STR (source_kind_name (lf.sets[0].source_kind), words[i]);
      else
        {
          CHECK_INT (err.kind, ERR_INVALID);
          cleanup_free char *want
              = xasprintf ("set 'torch-2.6.0-cu124-py3.11': source kind '%s' is not pypi, index or wheelhouse", words[i]);
          CHECK_CONTAINS (err.msg.buf, want);
        }
      lockfile_release (&lf);
      err_release (&err);
    }
}

/* A hand-edited lock whose digest is 64 characters of path, or whose file name leaves its
   folder, is refused when read, the error naming the file, set, wheel and value; and the cache
   itself refuses such an entry rather than remove a file outside it. */
static void
test_hostile_lock (void)
{
  const char *good_file = "torch-2.6.0-cp311-cp311-manylinux1_x86_64.whl";
  char good[SHA256_HEX_LEN + 1];
  sha256_hex ("x", 1, good);
  char *e = read_hostile (good, good_file);
  CHECK_STR (e, "");
  free (e);
  /* 26 "./" and "../../victim": 64 characters that lead from CACHE/sha256/ to tmp/victim. */
  struct strbuf evil = STRBUF_INIT;
  for (int i = 0; i < 26; i++)
    strbuf_addstr (&evil, "./");
  strbuf_addstr (&evil, "../../victim");
  CHECK_INT (evil.len, 64);
  e = read_hostile (evil.buf, good_file);
  cleanup_free char *want = xasprintf ("%s/hostile.lock: set 'torch-2.6.0-cu124-py3.11': wheel 1 (torch): sha256 '%s' "
                                       "is not 64 lowercase hex digits", tmp, evil.buf);
  CHECK_STR (e, want);
  free (e);
  char upper[SHA256_HEX_LEN + 1];
  memcpy (upper, good, sizeof upper);
  upper[0] = 'A';
  e = read_hostile (upper, good_file);
  CHECK_CONTAINS (e, "is not 64 lowercase hex digits");
  free (e);
  e = read_hostile (good + 1, good_file);
  CHECK_CONTAINS (e, "is not 64 lowercase hex digits");
  free (e);
  const char *bad_files[] = { "../../../etc/passwd", "a/b.whl", "..", ".verified", "-rf.whl", "" };
  for (size_t i = 0; i < ARRAY_SIZE (bad_files); i++)
    {
      e = read_hostile (good, bad_files[i]);
      cleanup_free char *w = xasprintf ("wheel 1 (torch): file '%s' is not a plain file name", bad_files[i]);
      CHECK_CONTAINS (e, w);
      free (e);
    }
  /* Defence in depth: the cache refuses the entry and the file outside stays. */
  cleanup_free char *vdir = xasprintf ("%s/victim", tmp);
  cleanup_free char *victim = xasprintf ("%s/victim/%s", tmp, good_file);
  cleanup_free char *shadir = xasprintf ("%s/cache/sha256", tmp);
  CHECK_INT (mkdir_p (vdir, 0755), 0);
  CHECK_INT (mkdir_p (shadir, 0755), 0);
  CHECK_INT (write_file_atomic (victim, "precious", 8, 0644), 0);
  struct strbuf err = STRBUF_INIT;
  CHECK_INT (cache_check (evil.buf, good_file, &err), -1);
  CHECK_CONTAINS (err.buf, "refusing cache entry");
  CHECK_INT (access (victim, F_OK), 0);
  strbuf_reset (&err);
  CHECK_INT (cache_verify (evil.buf, good_file, &err), -1);
  CHECK_INT (access (victim, F_OK), 0);
  /* A digest folder that is a symlink out of the cache is refused the same way. */
  cleanup_free char *link = xasprintf ("%s/%s", shadir, good);
  CHECK_INT (symlink (vdir, link), 0);
  strbuf_reset (&err);
  CHECK_INT (cache_check (good, good_file, &err), -1);
  CHECK_CONTAINS (err.buf, "outside");
  CHECK_INT (access (victim, F_OK), 0);
  unlink (link);
  strbuf_release (&err);
  strbuf_release (&evil);
}

/* A cached file rewritten in place with its size and mtime put back passes cache_check (the
   stamp trusts them, as git's index does) but not cache_verify, which hashes it again and
   removes it. */
static void
test_cache_verify (void)
{
  struct strbuf err = STRBUF_INIT;
  char sha[SHA256_HEX_LEN + 1];
  unsigned long long size;
  const char *name = "b-1.0-py3-none-any.whl";
  cleanup_free char *src = xasprintf ("%s/%s", tmp, name);
  CHECK_INT (write_file_atomic (src, "right bytes", 11, 0644), 0);
  CHECK_INT (cache_put (src, name, NULL, sha, &size, &err), 0);
  cleanup_free char *path = cache_path (sha, name);
  CHECK_INT (cache_check (sha, name, &err), 1);
  struct stat st;
  CHECK_INT (stat (path, &st), 0);
  FILE *f = fopen (path, "r+");
  CHECK (f != NULL);
  if (f)
    {
      fputs ("wrong", f);
      fclose (f);
    }
  struct timeval tv[2] = { { st.st_atim.tv_sec, st.st_atim.tv_nsec / 1000 },
                           { st.st_mtim.tv_sec, st.st_mtim.tv_nsec / 1000 } };
  CHECK_INT (utimes (path, tv), 0);
  /* utimes keeps microseconds: the stamp's nanoseconds must survive for the test to mean much. */
  struct stat st2;
  CHECK_INT (stat (path, &st2), 0);
  if (st2.st_mtim.tv_nsec == st.st_mtim.tv_nsec)
    CHECK_INT (cache_check (sha, name, &err), 1);
  CHECK_INT (cache_verify (sha, name, &err), -1);
  CHECK_CONTAINS (err.buf, "removed it");
  CHECK (access (path, F_OK) != 0);
  strbuf_release (&err);
}

/* A file's sha256 is remembered beside it with its stat stamp: trusted while the stamp holds
   (the sidecar's value is returned, not a new hash), hashed again once the file changes. */
static void
test_file_sha256 (void)
{
  struct strbuf err = STRBUF_INIT;
  cleanup_free char *path = xasprintf ("%s/base.tar", tmp);
  cleanup_free char *side = xasprintf ("%s/base.tar.sha256", tmp);
  char sha[SHA256_HEX_LEN + 1], want[SHA256_HEX_LEN + 1];
  CHECK_INT (write_file_atomic (path, "one", 3, 0644), 0);
  sha256_hex ("one", 3, want);
  CHECK_INT (cache_file_sha256 (path, sha, &err), 0);
  CHECK_STR (sha, want);
  CHECK (access (side, F_OK) == 0);
  /* The sidecar is what answers while the stamp holds: put another digest in it. */
  struct strbuf was = STRBUF_INIT;
  CHECK_INT (strbuf_read_file (&was, side, 4096), 0);
  char *at = strstr (was.buf, want);
  CHECK (at != NULL);
  if (at)
    memset (at, 'a', SHA256_HEX_LEN);
  CHECK_INT (write_file_atomic (side, was.buf, was.len, 0644), 0);
  CHECK_INT (cache_file_sha256 (path, sha, &err), 0);
  CHECK_STR (sha, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  /* Rewritten (a new inode, as mmdebstrap's rename makes): hashed again. */
  CHECK_INT (write_file_atomic (path, "two", 3, 0644), 0);
  sha256_hex ("two", 3, want);
  CHECK_INT (cache_file_sha256 (path, sha, &err), 0);
  CHECK_STR (sha, want);
  /* A broken sidecar is not trusted. */
  CHECK_INT (write_file_atomic (side, "garbage\n", 8, 0644), 0);
  CHECK_INT (cache_file_sha256 (path, sha, &err), 0);
  CHECK_STR (sha, want);
  CHECK_STR (err.buf, "");
  strbuf_release (&was);
  strbuf_release (&err);
}

/* A file read from the base tar is kept by the tar's digest: the next read takes the kept copy
   (here changed on purpose, to see it is the one read) without scanning the tar. */
static void
test_base_files_kept (void)
{
  struct strbuf err = STRBUF_INIT, out[1] = { STRBUF_INIT };
  cleanup_free char *root = xasprintf ("%s/rootfs/etc", tmp);
  CHECK_INT (mkdir_p (root, 0755), 0);
  cleanup_free char *f = xasprintf ("%s/os-release", root);
  CHECK_INT (write_file_atomic (f, "ID=debian\n", 10, 0644), 0);
  cleanup_free char *tar = xasprintf ("%s/rootfs.tar", tmp);
  cleanup_free char *cmd = xasprintf ("tar -C '%s/rootfs' -cf '%s' ./etc", tmp, tar);
  CHECK_INT (system (cmd), 0);
  const char *names[] = { "etc/os-release" };
  CHECK_INT (base_read_files (tar, names, 1, out, &err), 0);
  CHECK_STR (out[0].buf, "ID=debian\n");
  char sha[SHA256_HEX_LEN + 1];
  CHECK_INT (cache_file_sha256 (tar, sha, &err), 0);
  cleanup_free char *kept = xasprintf ("%s/base/files/%s/etc%%os-release", cache_dir (), sha);
  CHECK (access (kept, F_OK) == 0);
  CHECK_INT (write_file_atomic (kept, "ID=kept\n", 8, 0644), 0);
  CHECK_INT (base_read_files (tar, names, 1, out, &err), 0);
  CHECK_STR (out[0].buf, "ID=kept\n");
  /* A name the tar lacks is still an error naming it. */
  const char *missing[] = { "etc/missing" };
  CHECK_INT (base_read_files (tar, missing, 1, out, &err), -1);
  CHECK_CONTAINS (err.buf, "has no file 'etc/missing'");
  strbuf_release (&out[0]);
  strbuf_release (&err);
}

/* pip's multi-line reports, as pip 23 prints them, become one line and a class. */
static void
test_pip_explain (void)
{
  struct strbuf l = STRBUF_INIT;
  char *missing = NULL;
  const char *hash
      = "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have updated the "
        "package versions, please update the hashes. Otherwise, examine the package contents carefully; someone "
        "may have tampered with them.\n"
        "    filelock==4.2.11 from http://127.0.0.1:18765/packages/filelock-4.2.11-py3-none-any.whl#sha256=020e:\n"
        "        Expected sha256 020e\n"
        "             Got        701d\n\n";
  CHECK_INT (pip_explain (hash, &l, &missing), PIP_HASH);
  CHECK_STR (l.buf, "http://127.0.0.1:18765/packages/filelock-4.2.11-py3-none-any.whl has sha256 701d, but the "
                    "index lists 020e: refused");
  strbuf_reset (&l);
  const char *down
      = "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection "
        "broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPConnection object at 0x7f67>: Failed "
        "to establish a new connection: [Errno 111] Connection refused')': /simple/filelock/\n"
        "ERROR: Could not find a version that satisfies the requirement filelock==4.2.11 (from versions: none)\n"
        "ERROR: No matching distribution found for filelock==4.2.11\n";
  CHECK_INT (pip_explain (down, &l, &missing), PIP_UNREACHABLE);
  CHECK_STR (l.buf, "cannot reach the index: connection refused");
  CHECK (missing == NULL);
  strbuf_reset (&l);
  const char *none = "ERROR: Could not find a version that satisfies the requirement nosuch==1.0 (from versions: "
                     "0.9, 1.1)\nERROR: No matching distribution found for nosuch==1.0\n";
  CHECK_INT (pip_explain (none, &l, &missing), PIP_NOT_FOUND);
  CHECK_STR (l.buf, "no wheel of nosuch==1.0 for this platform and Python there (versions there: 0.9, 1.1)");
  CHECK_STR (missing, "nosuch==1.0");
  free (missing);
  strbuf_reset (&l);
  const char *gone = "WARNING: Location '/srv/wheels' is ignored: it is either a non-existing path or lacks a "
                     "specific scheme.\nERROR: Could not find a version that satisfies the requirement torch==2.6.0 "
                     "(from versions: none)\nERROR: No matching distribution found for torch==2.6.0\n";
  CHECK_INT (pip_explain (gone, &l, &missing), PIP_UNREACHABLE);
  CHECK_STR (l.buf, "wheelhouse '/srv/wheels' does not exist");
  strbuf_reset (&l);
  /* Found by fuzz_pip: an ERROR line with nothing after it still gives a line to read. */
  CHECK_INT (pip_explain ("ERROR: \n", &l, &missing), PIP_FAILED);
  CHECK_STR (l.buf, "no message");
  strbuf_reset (&l);
  CHECK_INT (pip_explain ("Traceback\n  something\nOSError:   disk   full  \n\n", &l, &missing), PIP_FAILED);
  CHECK_STR (l.buf, "OSError: disk full");
  strbuf_reset (&l);
  CHECK_INT (pip_explain ("ERROR: one\nline two\nERROR: Exception:\n  detail\n", &l, &missing), PIP_FAILED);
  CHECK_STR (l.buf, "Exception:");
  CHECK (strchr (l.buf, '\n') == NULL);
  strbuf_release (&l);
}

/* What pip's resolver prints (pip 23.0.1 and 23.2.1, seen here) when a requirement cannot be
   met: the line names the package and what required it; a conflict lists its causes. */
static void
test_pip_explain_resolver (void)
{
  struct strbuf l = STRBUF_INIT;
  char *missing = NULL;
  const char *dep = "ERROR: Could not find a version that satisfies the requirement nvidia-nccl-cu11==2.20.5 (from "
                    "torch) (from versions: none)\nERROR: No matching distribution found for nvidia-nccl-cu11==2.20.5\n";
  CHECK_INT (pip_explain (dep, &l, &missing), PIP_NOT_FOUND);
  CHECK_STR (l.buf, "no wheel of nvidia-nccl-cu11==2.20.5 (required by torch) for this platform and Python there "
                    "(versions there: none)");
  CHECK_STR (missing, "nvidia-nccl-cu11==2.20.5");
  free (missing);
  strbuf_reset (&l);
  const char *conflict
      = "ERROR: Cannot install jinja2==3.1.6 and markupsafe==1.1 because these package versions have conflicting "
        "dependencies.\n\nThe conflict is caused by:\n    The user requested markupsafe==1.1\n    jinja2 3.1.6 "
        "depends on MarkupSafe>=2.0\n\nTo fix this you could try to:\n1. loosen the range of package versions you've "
        "specified\n\nERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/"
        "dependency-resolution/#dealing-with-dependency-conflicts\n";
  CHECK_INT (pip_explain (conflict, &l, &missing), PIP_FAILED);
  CHECK_STR (l.buf, "conflicting requirements: The user requested markupsafe==1.1; jinja2 3.1.6 depends on MarkupSafe>=2.0");
  CHECK (missing == NULL);
  strbuf_release (&l);
}

/* pip's installation report: names normalized, the local version label kept, the file name
   percent-decoded from PyTorch's hrefs (%2B), the digest from `hashes` or from `hash` (pip
   before 23.0); anything but a wheel, or an entry without a URL, is refused. */
static void
test_pip_report (void)
{
  struct strbuf err = STRBUF_INIT;
  struct pip_wheel *w;
  size_t n;
  const char *report
      = "{\"version\": \"1\", \"pip_version\": \"23.0.1\", \"install\": ["
        "{\"download_info\": {\"url\": \"http://127.0.0.1:9/cu118/torch-2.4.1%2Bcu118-cp311-cp311-linux_x86_64.whl\", "
        "\"archive_info\": {\"hash\": \"sha256=" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}, "
        "\"metadata\": {\"name\": \"torch\", \"version\": \"2.4.1+cu118\", \"requires_dist\": "
        "[\"nvidia-nccl-cu11==2.20.5; platform_system == \\\"Linux\\\"\", \"filelock\"]}},"
        "{\"download_info\": {\"url\": \"https://files.example/MarkupSafe-3.0.4-cp311-cp311-manylinux_2_28_x86_64.whl\", "
        "\"archive_info\": {\"hashes\": {\"sha256\": \"" "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\"}}}, "
        "\"metadata\": {\"name\": \"MarkupSafe\", \"version\": \"3.0.4\"}},"
        "{\"download_info\": {\"url\": \"file:///srv/wheels/a-1.0-py3-none-any.whl\", \"archive_info\": {}}, "
        "\"metadata\": {\"name\": \"a\", \"version\": \"1.0\"}}]}";
  CHECK_INT (pip_report_parse (report, &w, &n, &err), 0);
  CHECK_INT (n, 3);
  CHECK_STR (w[0].name, "torch");
  CHECK_STR (w[0].version, "2.4.1+cu118");
  CHECK_STR (w[0].file, "torch-2.4.1+cu118-cp311-cp311-linux_x86_64.whl");
  CHECK_STR (w[0].sha256, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  CHECK_STR (w[0].requires_dist, "nvidia-nccl-cu11==2.20.5; platform_system == \"Linux\"\nfilelock\n");
  CHECK_STR (w[1].name, "markupsafe");
  CHECK_STR (w[1].sha256, "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
  CHECK (w[1].requires_dist == NULL);
  CHECK (w[2].sha256 == NULL);
  pip_wheels_free (w, n);
  CHECK_INT (pip_report_parse ("{\"version\": \"1\", \"install\": [{\"download_info\": {\"url\": "
                               "\"https://x/a-1.0.tar.gz\", \"archive_info\": {}}, \"metadata\": {\"name\": \"a\", "
                               "\"version\": \"1.0\"}}]}", &w, &n, &err), -1);
  CHECK_STR (err.buf, "pip's report: a 1.0 is not a wheel (https://x/a-1.0.tar.gz)");
  strbuf_reset (&err);
  /* "%2F" decodes to '/': such a file name would leave its cache folder (found by fuzz_report). */
  CHECK_INT (pip_report_parse ("{\"version\": \"1\", \"install\": [{\"download_info\": {\"url\": "
                               "\"https://x/..%2Fa-1.0-py3-none-any.whl\", \"archive_info\": {}}, \"metadata\": "
                               "{\"name\": \"a\", \"version\": \"1.0\"}}]}", &w, &n, &err), -1);
  CHECK_STR (err.buf, "pip's report: a 1.0: the file name of https://x/..%2Fa-1.0-py3-none-any.whl is not a plain file name");
  CHECK_INT ((int) n, 0);
  strbuf_reset (&err);
  CHECK_INT (pip_report_parse ("{\"version\": \"1\", \"install\": [{\"metadata\": {\"name\": \"a\"}}]}", &w, &n, &err), -1);
  CHECK_CONTAINS (err.buf, "entry 1 lacks");
  strbuf_reset (&err);
  CHECK_INT (pip_report_parse ("{\"version\": \"2\", \"install\": []}", &w, &n, &err), -1);
  CHECK_INT (pip_report_parse ("not json", &w, &n, &err), -1);
  strbuf_release (&err);
  cleanup_free char *d = url_decode ("torch-2.6.0%2Bcu118-cp311-cp311-linux_x86_64.whl%2");
  CHECK_STR (d, "torch-2.6.0+cu118-cp311-cp311-linux_x86_64.whl%2");
}

/* Bytes that do not hash to the pinned sha256 never enter the cache. */
static void
test_cache_put_want (void)
{
  struct strbuf err = STRBUF_INIT;
  char sha[SHA256_HEX_LEN + 1], good[SHA256_HEX_LEN + 1];
  unsigned long long size = 0;
  cleanup_free char *src = xasprintf ("%s/a-1.0-py3-none-any.whl", tmp);
  CHECK_INT (write_file_atomic (src, "good bytes", 10, 0644), 0);
  sha256_hex ("good bytes", 10, good);
  CHECK_INT (write_file_atomic (src, "evil bytes", 10, 0644), 0);
  CHECK_INT (cache_put (src, "a-1.0-py3-none-any.whl", good, sha, &size, &err), CACHE_MISMATCH);
  CHECK_CONTAINS (err.buf, "refused, not cached");
  CHECK (access (src, F_OK) != 0);
  cleanup_free char *cached_dir = xasprintf ("%s/sha256/%s", getenv ("PCGEN_CACHE"), sha);
  CHECK (access (cached_dir, F_OK) != 0);
  CHECK_INT (cache_check (sha, "a-1.0-py3-none-any.whl", &err), 0);
  strbuf_reset (&err);
  CHECK_INT (write_file_atomic (src, "good bytes", 10, 0644), 0);
  CHECK_INT (cache_put (src, "a-1.0-py3-none-any.whl", good, sha, &size, &err), 0);
  CHECK_STR (sha, good);
  CHECK_INT (size, 10);
  CHECK_INT (cache_check (good, "a-1.0-py3-none-any.whl", &err), 1);
  strbuf_release (&err);
}

/* A set locked from another source than matrix.yaml's is not current. */
static void
test_source_matches (void)
{
  struct ptag t;
  memset (&t, 0, sizeof t);
  t.flavor = FLAVOR_RUNTIME;
  t.source_kind = SOURCE_INDEX;
  t.source_where = "http://127.0.0.1:8080/simple";
  struct lockset s = { NULL, SOURCE_INDEX, "http://127.0.0.1:8080/simple", NULL, 0, 0 };
  CHECK (lock_source_matches (&s, &t));
  s.source_where = "http://127.0.0.1:8081/simple";
  CHECK (!lock_source_matches (&s, &t));
  s.source_kind = SOURCE_PYPI, s.source_where = NULL;
  CHECK (!lock_source_matches (&s, &t));
  t.source_kind = SOURCE_PYPI, t.source_where = NULL;
  CHECK (lock_source_matches (&s, &t));
  s.source_kind = SOURCE_WHEELHOUSE, s.source_where = "/srv/wheels";
  CHECK (!lock_source_matches (&s, &t));
  t.source_kind = SOURCE_WHEELHOUSE, t.source_where = "/srv/wheels";
  CHECK (lock_source_matches (&s, &t));
}

int
main (void)
{
  if (mkdtemp (tmp) == NULL)
    return perror ("mkdtemp"), 1;
  cleanup_free char *cache = xasprintf ("%s/cache", tmp);
  setenv ("PCGEN_CACHE", cache, 1);
  test_empty_lock ();
  test_round_trip ();
  test_hostile_lock ();
  test_unknown_role ();
  test_unknown_source_kind ();
  test_cache_verify ();
  test_file_sha256 ();
  test_base_files_kept ();
  test_pip_explain ();
  test_pip_explain_resolver ();
  test_pip_report ();
  test_cache_put_want ();
  test_source_matches ();
  int rc = check_summary ("lock");
  if (rc == 0)
    {
      cleanup_free char *cmd = xasprintf ("rm -rf '%s'", tmp);
      if (system (cmd) != 0)
        fprintf (stderr, "cannot remove %s\n", tmp);
    }
  else
    fprintf (stderr, "kept %s\n", tmp);
  return rc;
}
