/* test_layer.c: deterministic layers, checked as libarchive's and git's t5000 tests check
   archives: write to a file, read back every entry's path, type, mode, owner, mtime and size,
   in order; the same spec twice gives the same bytes, and a fixed fixture a known sha256.
   The wheels are fixtures made here with libarchive's zip writer, beside the real ones the
   end-to-end test builds images from. */
#include "cache.h"
#include "check.h"
#include "digest.h"
#include "fsutil.h"
#include "project.h"
#include "layer.h"
#include "wheel.h"
#include "stage.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/pcgen-test-layer.XXXXXX";

static void
zip_add (struct archive *a, const char *path, const char *data, int mode)
{
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, mode);
  archive_entry_set_size (e, (la_int64_t) strlen (data));
  archive_entry_set_mtime (e, 1234567890, 0);
  archive_write_header (a, e);
  archive_write_data (a, data, strlen (data));
  archive_entry_free (e);
}

static char *
make_wheel (const char *name, const char *const *members)
{
  char *path = xasprintf ("%s/%s", dir, name);
  struct archive *a = archive_write_new ();
  archive_write_set_format_zip (a);
  CHECK_INT (archive_write_open_filename (a, path), ARCHIVE_OK);
  for (size_t i = 0; members[i]; i += 2)
    zip_add (a, members[i], members[i + 1], strstr (members[i], ".so") ? 0755 : 0644);
  archive_write_close (a);
  archive_write_free (a);
  return path;
}

struct seen
{
  char path[256];
  int type, mode;
  long long uid, gid, mtime, size;
  char uname[16];
  char link[256];
};

static size_t
read_back (const char *tar, struct seen *out, size_t max)
{
  struct archive *a = archive_read_new ();
  archive_read_support_format_tar (a);
  size_t n = 0;
  if (archive_read_open_filename (a, tar, 10240) != ARCHIVE_OK)
    return 0;
  struct archive_entry *e;
  while (n < max && archive_read_next_header (a, &e) == ARCHIVE_OK)
    {
      struct seen *s = &out[n++];
      snprintf (s->path, sizeof s->path, "%s", archive_entry_pathname (e));
      s->type = (int) archive_entry_filetype (e);
      s->mode = (int) archive_entry_perm (e);
      s->uid = archive_entry_uid (e);
      s->gid = archive_entry_gid (e);
      s->mtime = archive_entry_mtime (e);
      s->size = archive_entry_size (e);
      snprintf (s->uname, sizeof s->uname, "%s", archive_entry_uname (e) ? archive_entry_uname (e) : "");
      snprintf (s->link, sizeof s->link, "%s", archive_entry_symlink (e) ? archive_entry_symlink (e) : "");
      CHECK (!archive_entry_atime_is_set (e));
      CHECK (!archive_entry_ctime_is_set (e));
    }
  archive_read_free (a);
  return n;
}

static const char *const cublas[]
    = { "nvidia/__init__.py", "",
        "nvidia/cublas/lib/libcublas.so.12", "ELF-cublas",
        "nvidia/cublas/lib/__init__.py", "",
        "nvidia/cublas/include/cublas.h", "/* header */",
        "nvidia_cublas_cu12-12.4.5.8.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: nvidia-cublas-cu12\nVersion: 12.4.5.8\n\ndescription\n",
        NULL };
static const char *const cusparselt[]
    = { "cusparselt/lib/libcusparseLt.so.0", "ELF-lt", NULL };

static struct layer_rule cublas_rules[] = {
  { "nvidia/cublas/lib/__init__.py", NULL },
  { "nvidia/cublas/lib/", "usr/local/cuda-12.4/lib/" },
  { "nvidia/cublas/include/", NULL },
  { "nvidia/", "usr/lib/python3/dist-packages/nvidia/" },
  { "nvidia_cublas_cu12-12.4.5.8.dist-info/", "usr/lib/python3/dist-packages/nvidia_cublas_cu12-12.4.5.8.dist-info/" },
};
static struct layer_rule lt_rules[] = { { "cusparselt/lib/", "usr/local/cuda-12.4/lib/" } };
static const struct layer_link links[] = { { "usr/local/cuda", "cuda-12.4" } };
static const struct layer_file files[] = { { "etc/ld.so.conf.d/pytorch-cuda.conf", "/usr/local/cuda-12.4/lib\n", 0644 } };

static int
write_layer (const char *w1, const char *w2, int64_t mtime, const char *out, char sha[65], struct strbuf *err)
{
  struct layer_input in[] = { { w1, cublas_rules, ARRAY_SIZE (cublas_rules) }, { w2, lt_rules, 1 } };
  struct layer_spec spec = { in, 2, links, 1, files, 1, mtime, dir, NULL, 0 };
  struct layer_stats st;
  return layer_write (&spec, out, sha, &st, err);
}

static void
test_layer (void)
{
  cleanup_free char *w1 = make_wheel ("cublas.whl", cublas);
  cleanup_free char *w2 = make_wheel ("lt.whl", cusparselt);
  cleanup_free char *t1 = xasprintf ("%s/a.tar", dir), *t2 = xasprintf ("%s/b.tar", dir), *t3 = xasprintf ("%s/c.tar", dir);
  char s1[65], s2[65], s3[65];
  struct strbuf err = STRBUF_INIT;
  CHECK_INT (write_layer (w1, w2, 1700000000, t1, s1, &err), 0);
  CHECK_STR (err.buf, "");
  CHECK_INT (write_layer (w1, w2, 1700000000, t2, s2, &err), 0);
  CHECK_STR (s1, s2); /* the same inputs, the same bytes */
  /* The regression value: this fixture's layer as pcgen writes it today (computed by this test
     on its first run). A change here means every cached layer changes: bump STAGE_FORMAT. */
  CHECK_STR (s1, "446ea2064715b40502fcceab058c0de6ddf118ea2f5f2c79642b3f1ad67f9819");
  CHECK_INT (write_layer (w1, w2, 1700000001, t3, s3, &err), 0);
  CHECK (strcmp (s1, s3) != 0); /* another mtime, another layer */

  struct seen e[64];
  size_t n = read_back (t1, e, 64);
  /* Folders carry a trailing '/' in the tar, as tar writes them. */
  static const char *const want[] = {
    "etc/", "etc/ld.so.conf.d/", "etc/ld.so.conf.d/pytorch-cuda.conf", "usr/", "usr/lib/", "usr/lib/python3/",
    "usr/lib/python3/dist-packages/", "usr/lib/python3/dist-packages/nvidia/",
    "usr/lib/python3/dist-packages/nvidia/__init__.py",
    "usr/lib/python3/dist-packages/nvidia_cublas_cu12-12.4.5.8.dist-info/",
    "usr/lib/python3/dist-packages/nvidia_cublas_cu12-12.4.5.8.dist-info/METADATA", "usr/local/",
    "usr/local/cuda", "usr/local/cuda-12.4/", "usr/local/cuda-12.4/lib/", "usr/local/cuda-12.4/lib/libcublas.so.12",
    "usr/local/cuda-12.4/lib/libcusparseLt.so.0",
  };
  CHECK_INT (n, ARRAY_SIZE (want));
  for (size_t i = 0; i < n && i < ARRAY_SIZE (want); i++)
    {
      CHECK_STR (e[i].path, want[i]);
      CHECK_INT (e[i].uid, 0);
      CHECK_INT (e[i].gid, 0);
      CHECK_STR (e[i].uname, "");
      CHECK_INT (e[i].mtime, 1700000000);
    }
  CHECK_INT (e[0].type, AE_IFDIR);
  CHECK_INT (e[0].mode, 0755);
  CHECK_INT (e[2].size, 25);
  CHECK_INT (e[2].mode, 0644);
  CHECK_INT (e[12].type, AE_IFLNK);
  CHECK_STR (e[12].link, "cuda-12.4");
  CHECK_INT (e[15].mode, 0755); /* the execute bit of the zip member */
  CHECK_INT (e[15].size, 10);
  CHECK_INT (e[10].mode, 0644);

  /* Two inputs writing one path: refused, naming both, and no file left. */
  cleanup_free char *dup = xasprintf ("%s/dup.tar", dir);
  struct layer_input in[] = { { w1, cublas_rules, ARRAY_SIZE (cublas_rules) }, { w1, cublas_rules, ARRAY_SIZE (cublas_rules) } };
  struct layer_spec spec = { in, 2, NULL, 0, NULL, 0, 1700000000, dir, NULL, 0 };
  char s[65];
  strbuf_reset (&err);
  CHECK_INT (layer_write (&spec, dup, s, NULL, &err), -1);
  CHECK_CONTAINS (err.buf, "two inputs write");
  CHECK (access (dup, F_OK) != 0);

  /* A rule that would escape the root is refused. */
  static const char *const evil[] = { "x/y", "z", NULL };
  cleanup_free char *w3 = make_wheel ("evil.whl", evil);
  struct layer_rule bad_rules[] = { { "x/", "../../etc/" } };
  struct layer_input in3[] = { { w3, bad_rules, 1 } };
  struct layer_spec spec3 = { in3, 1, NULL, 0, NULL, 0, 1700000000, dir, NULL, 0 };
  strbuf_reset (&err);
  CHECK_INT (layer_write (&spec3, dup, s, NULL, &err), -1);
  CHECK_CONTAINS (err.buf, "unsafe path");
  CHECK (access (dup, F_OK) != 0);

  /* METADATA and the member list of a wheel. */
  struct strbuf meta = STRBUF_INIT, members = STRBUF_INIT;
  strbuf_reset (&err);
  CHECK_INT (wheel_read_metadata (w1, &meta, &err), 0);
  CHECK_CONTAINS (meta.buf, "Name: nvidia-cublas-cu12");
  CHECK_INT (wheel_members (w2, &members, &err), 0);
  CHECK_STR (members.buf, "cusparselt/lib/libcusparseLt.so.0\n");
  strbuf_release (&meta);
  strbuf_release (&members);
  strbuf_release (&err);
}

static void
test_requirements (void)
{
  /* The Requires-Dist lines of the real torch 2.6.0 and 2.7.0 wheels. */
  const char *meta = "Metadata-Version: 2.1\nName: torch\n"
                     "Requires-Dist: filelock\n"
                     "Requires-Dist: typing-extensions (>=4.10.0)\n"
                     "Requires-Dist: nvidia-cuda-nvrtc-cu12 (==12.4.127) ; platform_system == \"Linux\" and platform_machine == \"x86_64\"\n"
                     "Requires-Dist: triton (==3.2.0) ; platform_system == \"Linux\" and platform_machine == \"x86_64\"\n"
                     "Requires-Dist: sympy (==1.13.1) ; python_version >= \"3.9\"\n"
                     "Requires-Dist: opt-einsum (>=3.3) ; extra == \"opt-einsum\"\n"
                     "Requires-Dist: nvidia-cudnn-cu12==9.5.1.17; platform_system == \"Linux\"\n"
                     "Requires-Dist: mpmath<1.4,>=1.1.0\n"
                     "Requires-Dist: Typing_Extensions[x]>=4\n"
                     "\nRequires-Dist: in-the-description\n";
  struct requirement *r;
  size_t n;
  CHECK_INT (metadata_requirements (meta, &r, &n), 0);
  CHECK_INT (n, 8);
  CHECK_STR (r[0].name, "filelock");
  CHECK (r[0].spec == NULL && r[0].version == NULL && r[0].marker == NULL);
  CHECK_STR (r[1].spec, ">=4.10.0");
  CHECK (r[1].version == NULL);
  CHECK_STR (r[2].name, "nvidia-cuda-nvrtc-cu12");
  CHECK_STR (r[2].version, "12.4.127");
  CHECK_STR (r[2].marker, "platform_system == \"Linux\" and platform_machine == \"x86_64\"");
  CHECK_STR (r[4].marker, "python_version >= \"3.9\"");
  CHECK_STR (r[5].name, "nvidia-cudnn-cu12");
  CHECK_STR (r[5].version, "9.5.1.17");
  CHECK_STR (r[6].spec, "<1.4,>=1.1.0");
  CHECK_STR (r[7].name, "typing-extensions");
  requirements_free (r, n);
}

/* Temporaries of exited writers go; a live writer's (another pcgen staging the same layer in
   the shared cache) stays, or its rename would fail half-way through that build. */
static void
test_stale_temporaries (void)
{
  pid_t dead = fork ();
  if (dead == 0)
    _exit (0);
  CHECK (dead > 0);
  waitpid (dead, NULL, 0);
  cleanup_free char *tar = xasprintf ("%s/cuda-abc.tar", dir);
  cleanup_free char *alive = xasprintf ("%s.tmp.%ld", tar, (long) getpid ());
  cleanup_free char *gone = xasprintf ("%s.tmp.%ld", tar, (long) dead);
  cleanup_free char *junk = xasprintf ("%s.tmp.x1", tar);
  const char *temps[] = { alive, gone, junk };
  for (size_t i = 0; i < 3; i++)
    CHECK (write_file_atomic (temps[i], "x", 1, 0644) == 0);
  stage_remove_stale_temporaries (tar);
  CHECK (access (alive, F_OK) == 0);
  CHECK (access (gone, F_OK) != 0);
  CHECK (access (junk, F_OK) != 0);
  unlink (alive);
}

/* ---- .deb inputs: an ar archive (debian-binary, control.tar.gz, data.tar.{xz,gz}) made here ---- */

struct member
{
  const char *path; /* as dpkg-deb writes them: "./usr/bin/nvcc" */
  int type;         /* AE_IFREG, AE_IFDIR, AE_IFLNK; 'h' for a hard link */
  int mode;
  const char *data; /* file content, or a link's target */
};

/* A tar of members, compressed with filter, into a malloc'd buffer. */
static char *
make_tar (const struct member *m, int filter, size_t *len)
{
  size_t cap = 1 << 20;
  char *buf = xmalloc (cap);
  struct archive *a = archive_write_new ();
  archive_write_set_format_gnutar (a);
  if (filter == 'x')
    archive_write_add_filter_xz (a);
  else if (filter == 'g')
    archive_write_add_filter_gzip (a);
  else
    archive_write_add_filter_none (a);
  CHECK_INT (archive_write_open_memory (a, buf, cap, len), ARCHIVE_OK);
  for (size_t i = 0; m[i].path; i++)
    {
      struct archive_entry *e = archive_entry_new ();
      archive_entry_set_pathname (e, m[i].path);
      archive_entry_set_mtime (e, 1711657740, 0);
      archive_entry_set_uname (e, "root");
      archive_entry_set_perm (e, m[i].mode);
      if (m[i].type == AE_IFLNK)
        {
          archive_entry_set_filetype (e, AE_IFLNK);
          archive_entry_set_symlink (e, m[i].data);
        }
      else if (m[i].type == 'h')
        {
          archive_entry_set_filetype (e, AE_IFREG);
          archive_entry_set_hardlink (e, m[i].data);
        }
      else
        {
          archive_entry_set_filetype (e, (unsigned) m[i].type);
          archive_entry_set_size (e, m[i].type == AE_IFREG ? (la_int64_t) strlen (m[i].data) : 0);
        }
      CHECK (archive_write_header (a, e) >= ARCHIVE_WARN);
      if (m[i].type == AE_IFREG)
        archive_write_data (a, m[i].data, strlen (m[i].data));
      archive_entry_free (e);
    }
  CHECK_INT (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  return buf;
}

static void
ar_add (struct archive *a, const char *name, const void *data, size_t len)
{
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) len);
  archive_entry_set_mtime (e, 1711657740, 0);
  CHECK (archive_write_header (a, e) >= ARCHIVE_WARN);
  CHECK_INT (archive_write_data (a, data, len), (long long) len);
  archive_entry_free (e);
}

/* name.deb in dir: data.tar.xz (filter 'x') or data.tar.gz ('g') of m; with data 0, no data.tar. */
static char *
make_deb (const char *name, const struct member *m, int filter, int data)
{
  static const struct member control[] = { { "./control", AE_IFREG, 0644, "Package: x\n" }, { NULL, 0, 0, NULL } };
  char *path = xasprintf ("%s/%s", dir, name);
  size_t clen, dlen = 0;
  cleanup_free char *ctar = make_tar (control, 'g', &clen);
  cleanup_free char *dtar = data ? make_tar (m, filter, &dlen) : NULL;
  struct archive *a = archive_write_new ();
  archive_write_set_format_ar_svr4 (a);
  CHECK_INT (archive_write_open_filename (a, path), ARCHIVE_OK);
  ar_add (a, "debian-binary", "2.0\n", 4);
  ar_add (a, "control.tar.gz", ctar, clen);
  if (data)
    ar_add (a, filter == 'x' ? "data.tar.xz" : "data.tar.gz", dtar, dlen);
  archive_write_close (a);
  archive_write_free (a);
  return path;
}

static const struct member toolkit[] = {
  { "./", AE_IFDIR, 0755, NULL },
  { "./usr/", AE_IFDIR, 0755, NULL },
  { "./usr/bin/", AE_IFDIR, 0755, NULL },
  { "./usr/bin/fatbinary", AE_IFREG, 0755, "ELF-fatbinary" },
  { "./usr/bin/nvdisasm", AE_IFREG, 0755, "ELF-nvdisasm" },
  { "./usr/lib/nvidia-cuda-toolkit/bin/nvcc", AE_IFREG, 0755, "ELF-nvcc" },
  { "./usr/lib/nvidia-cuda-toolkit/bin/nvcc.profile", AE_IFLNK, 0777, "/etc/nvcc.profile" },
  { "./usr/lib/nvidia-cuda-toolkit/bin/crt/link.stub", AE_IFREG, 0644, "stub" },
  { "./usr/lib/nvidia-cuda-toolkit/libdevice", AE_IFLNK, 0777, "../cuda/libdevice" },
  { "./usr/lib/cuda/libdevice/", AE_IFDIR, 0755, NULL }, /* the link's target, in the package */
  { "./usr/share/doc/nvidia-cuda-toolkit/copyright", AE_IFREG, 0644, "(c)" },
  { NULL, 0, 0, NULL },
};

static struct layer_rule toolkit_rules[] = {
  { "usr/lib/nvidia-cuda-toolkit/bin/nvcc.profile", NULL },
  { "usr/lib/nvidia-cuda-toolkit/bin/nvcc", "usr/local/cuda-12.4/bin/nvcc" },
  { "usr/lib/nvidia-cuda-toolkit/bin/crt/", "usr/local/cuda-12.4/bin/crt/" },
  { "usr/lib/nvidia-cuda-toolkit/libdevice", "usr/local/cuda-12.4/nvvm/libdevice" },
  { "usr/bin/fatbinary", "usr/local/cuda-12.4/bin/fatbinary" },
};

static void
test_deb (void)
{
  cleanup_free char *xz = make_deb ("tk_1_amd64.deb", toolkit, 'x', 1);
  cleanup_free char *gz = make_deb ("tkgz_1_amd64.deb", toolkit, 'g', 1);
  static const struct layer_file profile[] = { { "usr/local/cuda-12.4/bin/nvcc.profile", "TOP = $(_HERE_)/..\n", 0644 } };
  struct layer_input in[] = { { xz, toolkit_rules, ARRAY_SIZE (toolkit_rules) } };
  struct layer_spec spec = { in, 1, NULL, 0, profile, 1, 1700000000, dir, NULL, 0 };
  cleanup_free char *t1 = xasprintf ("%s/deb1.tar", dir), *t2 = xasprintf ("%s/deb2.tar", dir);
  char s1[65], s2[65];
  struct strbuf err = STRBUF_INIT;
  CHECK_INT (layer_write (&spec, t1, s1, NULL, &err), 0);
  CHECK_STR (err.buf, "");
  /* The same files from a data.tar.gz: the same layer, byte for byte. */
  in[0].wheel = gz;
  CHECK_INT (layer_write (&spec, t2, s2, NULL, &err), 0);
  CHECK_STR (err.buf, "");
  CHECK_STR (s1, s2);
  /* The regression value, as for the wheel fixture above: a change means every nvcc layer changes. */
  CHECK_STR (s1, "4bf9f5ae069a84003732a24787321efcff6c8415b654f61a9084f2af8d82f0c9");

  struct seen e[32];
  size_t n = read_back (t1, e, 32);
  static const char *const want[] = {
    "usr/", "usr/local/", "usr/local/cuda-12.4/", "usr/local/cuda-12.4/bin/", "usr/local/cuda-12.4/bin/crt/",
    "usr/local/cuda-12.4/bin/crt/link.stub", "usr/local/cuda-12.4/bin/fatbinary", "usr/local/cuda-12.4/bin/nvcc",
    "usr/local/cuda-12.4/bin/nvcc.profile", "usr/local/cuda-12.4/nvvm/", "usr/local/cuda-12.4/nvvm/libdevice",
  };
  CHECK_INT (n, ARRAY_SIZE (want));
  for (size_t i = 0; i < n && i < ARRAY_SIZE (want); i++)
    {
      CHECK_STR (e[i].path, want[i]);
      CHECK_INT (e[i].uid, 0);
      CHECK_STR (e[i].uname, "");
      CHECK_INT (e[i].mtime, 1700000000);
    }
  CHECK_INT (e[5].mode, 0644);
  CHECK_INT (e[5].size, 4);
  CHECK_INT (e[7].mode, 0755);
  CHECK_INT (e[7].size, 8);
  CHECK_INT (e[8].size, 19);
  CHECK_INT (e[10].type, AE_IFLNK);
  CHECK_STR (e[10].link, "../cuda/libdevice");

  /* The members as the fuzz target sees them. */
  struct strbuf raw = STRBUF_INIT, list = STRBUF_INIT;
  CHECK_INT (strbuf_read_file (&raw, xz, 1 << 20), 0);
  CHECK_INT (deb_members_memory (raw.buf, raw.len, &list, &err), 0);
  CHECK (strstr (list.buf, "\nusr/lib/nvidia-cuda-toolkit/bin/nvcc\n") != NULL);
  CHECK (strstr (list.buf, "./") == NULL);
  strbuf_release (&raw);
  strbuf_release (&list);

  /* A package without data.tar, a hard link where a rule maps it, a path escaping the root. */
  cleanup_free char *nodata = make_deb ("nodata_1_amd64.deb", toolkit, 'x', 0);
  in[0].wheel = nodata;
  CHECK_INT (layer_write (&spec, t2, s2, NULL, &err), -1);
  CHECK (strstr (err.buf, "has no data.tar member") != NULL);
  strbuf_reset (&err);
  static const struct member hard[] = { { "./usr/bin/fatbinary", AE_IFREG, 0755, "x" },
                                        { "./usr/bin/nvlink", 'h', 0755, "./usr/bin/fatbinary" },
                                        { NULL, 0, 0, NULL } };
  static struct layer_rule usr_bin[] = { { "usr/bin/", "usr/local/cuda-12.4/bin/" } };
  cleanup_free char *hl = make_deb ("hard_1_amd64.deb", hard, 'g', 1);
  struct layer_input hin[] = { { hl, usr_bin, 1 } };
  struct layer_spec hspec = { hin, 1, NULL, 0, NULL, 0, 1700000000, dir, NULL, 0 };
  CHECK_INT (layer_write (&hspec, t2, s2, NULL, &err), -1);
  CHECK (strstr (err.buf, "'usr/bin/nvlink' is a hard link") != NULL);
  strbuf_reset (&err);
  static const struct member evil[] = { { "./usr/../../etc/passwd", AE_IFREG, 0644, "x" }, { NULL, 0, 0, NULL } };
  cleanup_free char *ev = make_deb ("evil_1_amd64.deb", evil, 'g', 1);
  hin[0].wheel = ev;
  CHECK_INT (layer_write (&hspec, t2, s2, NULL, &err), -1);
  CHECK (strstr (err.buf, "unsafe member path") != NULL);
  strbuf_reset (&err);
  /* Not a package at all. */
  CHECK_INT (deb_members_memory ("!<arch>\nxx", 10, &list, &err), -1);
  strbuf_release (&list);
  strbuf_release (&err);
}

/* A zip of (path, kind, data): kind 'f' a file, 'l' a symlink to data, 'z' a file of
   strlen(data) MiB of zeros (deflate packs each MiB into about a KiB). */
static char *
make_zip (const char *name, const char *const *m)
{
  char *path = xasprintf ("%s/%s", dir, name);
  struct archive *a = archive_write_new ();
  archive_write_set_format_zip (a);
  CHECK_INT (archive_write_open_filename (a, path), ARCHIVE_OK);
  cleanup_free char *zeros = xcalloc (1, 1 << 20);
  for (size_t i = 0; m[i]; i += 3)
    {
      struct archive_entry *e = archive_entry_new ();
      archive_entry_set_pathname (e, m[i]);
      archive_entry_set_mtime (e, 1234567890, 0);
      size_t mib = m[i + 1][0] == 'z' ? strlen (m[i + 2]) : 0;
      if (m[i + 1][0] == 'l')
        {
          archive_entry_set_filetype (e, AE_IFLNK);
          archive_entry_set_perm (e, 0777);
          archive_entry_set_symlink (e, m[i + 2]);
        }
      else
        {
          archive_entry_set_filetype (e, AE_IFREG);
          archive_entry_set_perm (e, 0644);
          archive_entry_set_size (e, (la_int64_t) (mib ? mib << 20 : strlen (m[i + 2])));
        }
      CHECK (archive_write_header (a, e) >= ARCHIVE_WARN);
      if (m[i + 1][0] == 'f')
        archive_write_data (a, m[i + 2], strlen (m[i + 2]));
      for (size_t k = 0; k < mib; k++)
        archive_write_data (a, zeros, 1 << 20);
      archive_entry_free (e);
    }
  archive_write_close (a);
  archive_write_free (a);
  return path;
}

static struct layer_rule pkg_rules[] = { { "pkg/", "usr/lib/python3/dist-packages/pkg/" } };

/* Symlinks: none from a wheel, mapped or not; from a .deb only inside the package's tree. */
static void
test_symlinks (void)
{
  struct strbuf err = STRBUF_INIT;
  char sha[65];
  cleanup_free char *out = xasprintf ("%s/links.tar", dir);
  static const char *const shadow[] = { "pkg/a.py", "f", "x", "pkg/shadow", "l", "/etc/shadow", NULL };
  static const char *const evil[] = { "pkg/a.py", "f", "x", "other/evil.so", "l", "../../../tmp/evil.so", NULL };
  cleanup_free char *w1 = make_zip ("shadow-1.0-py3-none-any.whl", shadow);
  cleanup_free char *w2 = make_zip ("evil-1.0-py3-none-any.whl", evil);
  struct layer_input in[] = { { w1, pkg_rules, 1 } };
  struct layer_spec spec = { in, 1, NULL, 0, NULL, 0, 1700000000, dir, NULL, 0 };
  CHECK_INT (layer_write (&spec, out, sha, NULL, &err), -1);
  CHECK_CONTAINS (err.buf, "'pkg/shadow' is a symbolic link (to '/etc/shadow')");
  CHECK_CONTAINS (err.buf, w1);
  CHECK (access (out, F_OK) != 0);
  strbuf_reset (&err);
  in[0].wheel = w2; /* not even mapped: the wheel is refused all the same */
  CHECK_INT (layer_write (&spec, out, sha, NULL, &err), -1);
  CHECK_CONTAINS (err.buf, "'other/evil.so' is a symbolic link (to '../../../tmp/evil.so')");
  strbuf_reset (&err);

  /* Absolute, above the root, empty, and a path the package does not have. */
  static const struct member debs[][3] = {
    { { "./usr/lib/x/shadow", AE_IFLNK, 0777, "/etc/shadow" }, { NULL, 0, 0, NULL } },
    { { "./usr/lib/x/evil.so", AE_IFLNK, 0777, "../../../tmp/evil.so" }, { NULL, 0, 0, NULL } },
    { { "./usr/lib/x/up", AE_IFLNK, 0777, "../../../../etc/passwd" }, { NULL, 0, 0, NULL } },
    { { "./usr/lib/x/empty", AE_IFLNK, 0777, "" }, { NULL, 0, 0, NULL } },
  };
  static struct layer_rule x_rules[] = { { "usr/lib/x/", "usr/local/cuda-12.4/lib/" } };
  for (size_t i = 0; i < ARRAY_SIZE (debs); i++)
    {
      cleanup_free char *name = xasprintf ("links%zu_1_amd64.deb", i);
      cleanup_free char *deb = make_deb (name, debs[i], 'g', 1);
      struct layer_input din[] = { { deb, x_rules, 1 } };
      struct layer_spec dspec = { din, 1, NULL, 0, NULL, 0, 1700000000, dir, NULL, 0 };
      CHECK_INT (layer_write (&dspec, out, sha, NULL, &err), -1);
      cleanup_free char *want = xasprintf ("symbolic link '%s' points at '%s', outside the image's system folders",
                                           debs[i][0].path + 2, debs[i][0].data);
      CHECK_CONTAINS (err.buf, want);
      strbuf_reset (&err);
    }
  /* Inside the system folders, as Debian's own packages link: usr/lib/cuda/nvvm/libdevice ->
     ../../nvidia-cuda-toolkit/libdevice; libc6-dev's libanl.so -> /lib/x86_64-linux-gnu/libanl.so.1
     (absolute, another package's file); libbinutils' usr/share/doc/libbinutils -> binutils-common. */
  static const struct member ok[] = { { "./usr/lib/x/libdevice", AE_IFLNK, 0777, "../nvidia-cuda-toolkit/libdevice" },
                                      { "./usr/lib/x/libanl.so", AE_IFLNK, 0777, "/lib/x86_64-linux-gnu/libanl.so.1" },
                                      { "./usr/lib/x/doc", AE_IFLNK, 0777, "../../share/doc/binutils-common" },
                                      { "./usr/lib/x/libfoo.so", AE_IFLNK, 0777, "libfoo.so.1" },
                                      { "./usr/lib/x/libfoo.so.1", AE_IFREG, 0644, "ELF" },
                                      { "./usr/lib/nvidia-cuda-toolkit/libdevice/libdevice.10.bc", AE_IFREG, 0644, "bc" },
                                      { NULL, 0, 0, NULL } };
  cleanup_free char *okdeb = make_deb ("okl_1_amd64.deb", ok, 'g', 1);
  struct layer_input oin[] = { { okdeb, x_rules, 1 } };
  struct layer_spec ospec = { oin, 1, NULL, 0, NULL, 0, 1700000000, dir, NULL, 0 };
  CHECK_INT (layer_write (&ospec, out, sha, NULL, &err), 0);
  CHECK_STR (err.buf, "");
  strbuf_release (&err);
}

/* pkg//a.py and pkg/./a.py are pkg/a.py: written twice is an error, not two tar entries. */
static void
test_path_spellings (void)
{
  struct strbuf err = STRBUF_INIT;
  char sha[65];
  cleanup_free char *out = xasprintf ("%s/spell.tar", dir);
  static const char *const twice[] = { "pkg/a.py", "f", "one", "pkg//a.py", "f", "two", NULL };
  static const char *const dot[] = { "pkg/a.py", "f", "one", "pkg/./a.py", "f", "two", NULL };
  static const char *const single[] = { "pkg//b.py", "f", "b", "./pkg/./c.py", "f", "c", NULL };
  cleanup_free char *w1 = make_zip ("twice-1.0-py3-none-any.whl", twice);
  cleanup_free char *w2 = make_zip ("dot-1.0-py3-none-any.whl", dot);
  cleanup_free char *w3 = make_zip ("single-1.0-py3-none-any.whl", single);
  struct layer_input in[] = { { w1, pkg_rules, 1 } };
  struct layer_spec spec = { in, 1, NULL, 0, NULL, 0, 1700000000, dir, NULL, 0 };
  CHECK_INT (layer_write (&spec, out, sha, NULL, &err), -1);
  CHECK_CONTAINS (err.buf, "two inputs write 'usr/lib/python3/dist-packages/pkg/a.py'");
  strbuf_reset (&err);
  in[0].wheel = w2;
  CHECK_INT (layer_write (&spec, out, sha, NULL, &err), -1);
  CHECK_CONTAINS (err.buf, "two inputs write 'usr/lib/python3/dist-packages/pkg/a.py'");
  strbuf_reset (&err);
  /* One spelling each: written under the normalized path. */
  in[0].wheel = w3;
  CHECK_INT (layer_write (&spec, out, sha, NULL, &err), 0);
  struct seen e[16];
  size_t n = read_back (out, e, 16);
  CHECK_INT (n, 7);
  CHECK_STR (e[5].path, "usr/lib/python3/dist-packages/pkg/b.py");
  CHECK_STR (e[6].path, "usr/lib/python3/dist-packages/pkg/c.py");
  strbuf_release (&err);
}

/* A zip that unpacks to far more than it weighs is refused, naming the archive and the member;
   the same bytes under the floor are not. */
static void
test_expansion (void)
{
  struct strbuf err = STRBUF_INIT;
  char sha[65];
  cleanup_free char *out = xasprintf ("%s/bomb.tar", dir);
  /* 8 MiB of zeros in a zip of a few KiB; the floor 1 MiB for the test. */
  static const char *const bomb[] = { "pkg/a.py", "f", "fine", "pkg/zeros.bin", "z", "12345678", NULL };
  cleanup_free char *w = make_zip ("bomb-1.0-py3-none-any.whl", bomb);
  struct stat st;
  CHECK (stat (w, &st) == 0 && st.st_size < 100 * 1024);
  struct layer_input in[] = { { w, pkg_rules, 1 } };
  struct layer_spec spec = { in, 1, NULL, 0, NULL, 0, 1700000000, dir, NULL, 0 };
  layer_set_expand_floor (1 << 20);
  CHECK_INT (layer_write (&spec, out, sha, NULL, &err), -1);
  cleanup_free char *want = xasprintf ("wheel '%s': member 'pkg/zeros.bin' takes it past", w);
  CHECK_CONTAINS (err.buf, want);
  CHECK_CONTAINS (err.buf, "over 100 times its");
  CHECK (access (out, F_OK) != 0);
  strbuf_reset (&err);
  layer_set_expand_floor (0);
  CHECK_INT (layer_write (&spec, out, sha, NULL, &err), 0);
  CHECK_STR (err.buf, "");
  strbuf_release (&err);
}

/* ---- NVIDIA's redist archives: tar.xz holding one folder named after the archive --------- */

/* Synthetic archives in NVIDIA's layout (as `tar -tf cuda_nvcc-linux-x86_64-12.1.105-archive.tar.xz`
   lists the real ones: cuda_nvcc-linux-x86_64-<ver>-archive/{bin,include,lib,nvvm,LICENSE}). */
static const struct member redist_nvcc[] = {
  { "cuda_nvcc-linux-x86_64-12.1.105-archive/", AE_IFDIR, 0755, NULL },
  { "cuda_nvcc-linux-x86_64-12.1.105-archive/LICENSE", AE_IFREG, 0644, "EULA" },
  { "cuda_nvcc-linux-x86_64-12.1.105-archive/bin/nvcc", AE_IFREG, 0755, "ELF-nvcc" },
  { "cuda_nvcc-linux-x86_64-12.1.105-archive/bin/nvcc.profile", AE_IFREG, 0644, "TOP = $(_HERE_)/../targets" },
  { "cuda_nvcc-linux-x86_64-12.1.105-archive/bin/ptxas", AE_IFREG, 0755, "ELF-ptxas" },
  { "cuda_nvcc-linux-x86_64-12.1.105-archive/bin/crt/link.stub", AE_IFREG, 0644, "stub" },
  { "cuda_nvcc-linux-x86_64-12.1.105-archive/include/crt/host_config.h", AE_IFREG, 0644, "/* h */" },
  { "cuda_nvcc-linux-x86_64-12.1.105-archive/nvvm/bin/cicc", AE_IFREG, 0755, "ELF-cicc" },
  { "cuda_nvcc-linux-x86_64-12.1.105-archive/nvvm/lib64/libnvvm.so", AE_IFREG, 0755, "ELF-nvvm" },
  { NULL, 0, 0, NULL },
};
static const struct member redist_cudart[] = {
  { "cuda_cudart-linux-x86_64-12.1.105-archive/LICENSE", AE_IFREG, 0644, "EULA" },
  { "cuda_cudart-linux-x86_64-12.1.105-archive/include/cuda_runtime.h", AE_IFREG, 0644, "/* h */" },
  { "cuda_cudart-linux-x86_64-12.1.105-archive/lib/libcudart.so.12", AE_IFREG, 0755, "ELF-cudart" },
  { "cuda_cudart-linux-x86_64-12.1.105-archive/lib/libcudart_static.a", AE_IFREG, 0644, "!<arch>" },
  { "cuda_cudart-linux-x86_64-12.1.105-archive/lib/stubs/libcuda.so", AE_IFREG, 0755, "ELF-stub" },
  { NULL, 0, 0, NULL },
};

/* Put bytes into the cache (PCGEN_CACHE) under their digest (sha), as pcgen fetch would. */
static void
cache_bytes (const char *file, const void *data, size_t len, char sha[65])
{
  sha256_hex (data, len, sha);
  cleanup_free char *path = cache_path (sha, file);
  cleanup_free char *folder = xstrndup (path, (size_t) (strrchr (path, '/') - path));
  CHECK_INT (mkdir_p (folder, 0755), 0);
  CHECK_INT (write_file_atomic (path, data, len, 0644), 0);
}

/* Put an archive into the cache under its digest. */
static void
cache_archive (const char *name, const char *version, const char *file, const struct member *m, struct locked_wheel *w)
{
  size_t len;
  cleanup_free char *tar = make_tar (m, 'x', &len);
  char sha[65];
  cache_bytes (file, tar, len, sha);
  char *comp = xstrndup (file, strcspn (file, "-"));
  *w = (struct locked_wheel) { xstrdup (name), xstrdup (version), xstrdup (file), xstrdup (sha), len, ROLE_NVCC,
                               xasprintf ("%s/linux-x86_64/%s", comp, file) };
  free (comp);
}

/* Load a one-line-of-each matrix (torch, cuda; runtime and devel) written to dir/name. */
static void
load_matrix (struct project *p, const char *name, const char *torch, const char *cuda)
{
  cleanup_free char *matrix = xasprintf ("%s/%s", dir, name);
  cleanup_free char *yaml = xasprintf ("repository: t/pytorch-cuda\nbase: debian-bookworm\npython: \"3.11\"\n"
                                       "torch: [\"%s\"]\ncuda: [\"%s\"]\nflavors: [runtime, devel]\n",
                                       torch, cuda);
  CHECK_INT (write_file_atomic (matrix, yaml, strlen (yaml), 0644), 0);
  struct error perr = ERROR_INIT;
  CHECK_INT (project_load (p, matrix, &perr), 0);
  CHECK_STR (perr.msg.buf, "");
  err_release (&perr);
}

/* The plan makes a tag's layers when it is built (plan_layers.c): a test that changes the
   knowledge base after that makes them again. */
static void
relayer (const struct ptag *t)
{
  plan_layers_release ((struct ptag *) t);
  plan_layers_fill ((struct ptag *) t);
}

/* The nvcc layer of a CUDA 12.1 devel tag, made by stage_layers from the two redist archives:
   NVIDIA's bin/ and nvvm/bin under /usr/local/cuda-12.1, the static runtime and the driver stub
   from cuda_cudart, pcgen's nvcc.profile instead of NVIDIA's; nothing else. */
static void
test_redist (void)
{
  struct project p;
  load_matrix (&p, "matrix.yaml", "2.4.1", "12.1");
  const struct ptag *t = plan_find (&p.plan, "2.4.1-cuda12.1-cudnn9-devel");
  CHECK (t != NULL);
  /* Only the wheels' and nvcc's layers: the base's buildtools (bases.yaml, 20 real Debian
     packages) are not in this test's cache, and test_deb covers packages. */
  struct kb_base *base = t ? (struct kb_base *) t->base : NULL;
  size_t nbuildtools = base ? base->nbuildtools : 0;
  if (base)
    base->nbuildtools = 0;
  if (t)
    relayer (t);
  struct locked_wheel *w = xcalloc (3, sizeof *w); /* the lockset owns it */
  cache_archive ("cuda_nvcc", "12.1.105", "cuda_nvcc-linux-x86_64-12.1.105-archive.tar.xz", redist_nvcc, &w[0]);
  cache_archive ("cuda_cudart", "12.1.105", "cuda_cudart-linux-x86_64-12.1.105-archive.tar.xz", redist_cudart, &w[1]);
  struct lockset ts = { xstrdup ("torch"), SOURCE_PYPI, NULL, NULL, 0, 0 };
  struct lockset ds = { xstrdup ("devel"), SOURCE_PYPI, NULL, w, 2, 3 };
  struct staged_layer *l = NULL;
  size_t nl = 0;
  struct strbuf err = STRBUF_INIT;
  if (t)
    CHECK_INT (stage_layers (&p.plan, t, &ts, &ds, &l, &nl, &err), 0);
  CHECK_STR (err.buf, "");
  CHECK_INT (nl, 2);
  if (nl == 2)
    {
      CHECK (starts_with (l[1].name, "nvcc-12.1.105-"));
      struct seen e[32];
      size_t n = read_back (l[1].path, e, 32);
      static const char *const want[] = {
        "usr/", "usr/local/", "usr/local/cuda-12.1/", "usr/local/cuda-12.1/bin/", "usr/local/cuda-12.1/bin/crt/",
        "usr/local/cuda-12.1/bin/crt/link.stub", "usr/local/cuda-12.1/bin/nvcc", "usr/local/cuda-12.1/bin/nvcc.profile",
        "usr/local/cuda-12.1/bin/ptxas", "usr/local/cuda-12.1/lib/", "usr/local/cuda-12.1/lib/libcudart_static.a",
        "usr/local/cuda-12.1/lib/stubs/", "usr/local/cuda-12.1/lib/stubs/libcuda.so", "usr/local/cuda-12.1/nvvm/",
        "usr/local/cuda-12.1/nvvm/bin/", "usr/local/cuda-12.1/nvvm/bin/cicc",
      };
      CHECK_INT (n, ARRAY_SIZE (want));
      for (size_t i = 0; i < n && i < ARRAY_SIZE (want); i++)
        CHECK_STR (e[i].path, want[i]);
      CHECK_INT (e[6].mode, 0755);
      CHECK_INT (e[6].size, 8);
      /* pcgen's profile (docs/nvcc.md), not the archive's 27 bytes pointing at targets/. */
      CHECK (e[7].size > 100);
    }
  staged_layers_free (l, nl);
  /* A component stage.c has no mapping for is an error naming it. */
  free (w[1].name);
  w[1].name = xstrdup ("libcublas");
  free (w[1].sha256);
  w[1].sha256 = xstrdup ("0000000000000000000000000000000000000000000000000000000000000000");
  l = NULL;
  nl = 0;
  if (t)
    CHECK_INT (stage_layers (&p.plan, t, &ts, &ds, &l, &nl, &err), -1);
  CHECK (strstr (err.buf, "no mapping for the redist component 'libcublas'") != NULL);
  staged_layers_free (l, nl);
  strbuf_release (&err);
  lockset_release (&ts);
  lockset_release (&ds);
  if (base)
    base->nbuildtools = nbuildtools; /* kb_release frees them */
  project_close (&p);
}

/* ---- CUDA 13's wheels: one nvidia/cu13/ folder shared by every wheel of the major --------- */

/* Synthetic wheels with the members of PyPI's real ones (`unzip -l` of
   nvidia_cuda_nvcc-13.0.88-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl,
   nvidia_cuda_crt-13.0.88-…, nvidia_nvvm-13.0.88-py3-none-manylinux2010_x86_64…,
   nvidia_cuda_cccl-13.0.85-…, nvidia_cuda_runtime-13.0.96-…, cuda_toolkit-13.0.2-py2.py3-none-any.whl),
   a few of each, contents made up. */
static const char *const cu13_nvcc[] = {
  "nvidia/cu13/bin/nvcc", "ELF-nvcc", "nvidia/cu13/bin/nvcc.profile", "TOP = $(_HERE_)/..",
  "nvidia/cu13/bin/ptxas", "ELF-ptxas", "nvidia/cu13/bin/crt/link.stub", "stub",
  "nvidia/cu13/include/fatbinary_section.h", "/* h */",
  "nvidia_cuda_nvcc-13.0.88.dist-info/METADATA", "Name: nvidia-cuda-nvcc", NULL,
};
static const char *const cu13_crt[] = {
  "nvidia/cu13/include/crt/host_config.h", "/* h */", "nvidia_cuda_crt-13.0.88.dist-info/METADATA", "Name: nvidia-cuda-crt", NULL,
};
static const char *const cu13_nvvm[] = {
  "nvidia/cu13/nvvm/bin/cicc", "ELF-cicc", "nvidia/cu13/nvvm/libdevice/libdevice.10.bc", "BC",
  "nvidia/cu13/lib/libnvvm.so.4", "ELF-nvvm", "nvidia_nvvm-13.0.88.dist-info/METADATA", "Name: nvidia-nvvm", NULL,
};
static const char *const cu13_cccl[] = {
  "nvidia/cu13/.metadata/provenance.txt", "scan", "nvidia/cu13/include/cccl/cub/cub.cuh", "/* cub */",
  "nvidia/cu13/lib/cmake/cub/cub-config.cmake", "#", "nvidia_cuda_cccl-13.0.85.dist-info/METADATA", "Name: nvidia-cuda-cccl", NULL,
};
static const char *const cu13_runtime[] = {
  "nvidia/cu13/include/cuda_runtime.h", "/* h */", "nvidia/cu13/lib/libcudart.so.13", "ELF-cudart",
  "nvidia/cu13/lib/libcudart_static.a", "!<arch>", "nvidia_cuda_runtime-13.0.96.dist-info/METADATA", "Name: nvidia-cuda-runtime", NULL,
};
static const char *const cu13_nvtx[] = {
  "nvidia/cu13/include/nvtx3/nvToolsExt.h", "/* h */", "nvidia_nvtx-13.0.85.dist-info/METADATA", "Name: nvidia-nvtx", NULL,
};
/* What pip puts in the torch set besides (nvidia-nvshmem-cu13 requires nvidia-cuda-cccl with no
   version): a newer CCCL, with a header the nvcc's own lacks. */
static const char *const cu13_cccl_newer[] = {
  "nvidia/cu13/include/cccl/cub/cub.cuh", "/* cub 13.3 */", "nvidia/cu13/include/cccl/cuda/only_in_13_3.h", "/* h */",
  "nvidia_cuda_cccl-13.3.5.0.6.dist-info/METADATA", "Name: nvidia-cuda-cccl", NULL,
};
static const char *const cu13_toolkit[] = {
  "cuda_toolkit-13.0.2.dist-info/METADATA", "Name: cuda-toolkit", NULL,
};

/* Put a wheel into the cache under its digest, as pcgen fetch would. */
static void
cache_wheel (const char *name, const char *version, const char *file, const char *const *m, const char *role,
             struct locked_wheel *w)
{
  cleanup_free char *made = make_wheel (file, m);
  struct strbuf b = STRBUF_INIT;
  CHECK_INT (strbuf_read_file (&b, made, 1 << 20), 0);
  char sha[65];
  cache_bytes (file, b.buf, b.len, sha);
  *w = (struct locked_wheel) { xstrdup (name), xstrdup (version), xstrdup (file), xstrdup (sha), b.len, role_parse (role),
                               strcmp (role, "nvcc") == 0 ? xstrdup (file) : NULL };
  strbuf_release (&b);
}

static const struct seen *
entry (const struct seen *e, size_t n, const char *path)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (e[i].path, path) == 0)
      return &e[i];
  return NULL;
}

/* A CUDA 13.0 tag: the runtime layer takes every nvidia/cu13/ wheel (libraries into the CUDA
   folder, site-packages' nvidia/cu13/lib one link to it, whichever wheels ask) and installs the
   cuda-toolkit meta-package like a Python package; the nvcc layer is nvidia/cu13/ of the four
   nvcc wheels under /usr/local/cuda-13.0, without NVIDIA's profile, .metadata/ and dist-info,
   with pcgen's profile (CCCL's include/cccl) and lib64 -> lib. */
static void
test_cuda13 (void)
{
  struct project p;
  load_matrix (&p, "matrix13.yaml", "2.14.1", "13.0");
  const struct ptag *rt = plan_find (&p.plan, "2.14.1-cuda13.0-cudnn9-runtime");
  const struct ptag *dv = plan_find (&p.plan, "2.14.1-cuda13.0-cudnn9-devel");
  CHECK (rt != NULL && dv != NULL);
  if (rt == NULL || dv == NULL)
    return project_close (&p);
  /* The base's packages are not in this test's cache (test_deb covers packages). */
  struct kb_base *base = (struct kb_base *) rt->base;
  size_t ntool = base->ntoolchain, nbuild = base->nbuildtools;
  base->ntoolchain = base->nbuildtools = 0;
  relayer (rt);
  relayer (dv);
  struct locked_wheel *tw = xcalloc (4, sizeof *tw), *dw = xcalloc (5, sizeof *dw); /* the locksets own them */
  cache_wheel ("nvidia-cuda-runtime", "13.0.96", "nvidia_cuda_runtime-13.0.96-py3-none-manylinux2014_x86_64.whl",
               cu13_runtime, "cuda", &tw[0]);
  cache_wheel ("nvidia-nvtx", "13.0.85", "nvidia_nvtx-13.0.85-py3-none-manylinux2014_x86_64.whl", cu13_nvtx, "cuda", &tw[1]);
  cache_wheel ("cuda-toolkit", "13.0.2", "cuda_toolkit-13.0.2-py2.py3-none-any.whl", cu13_toolkit, "cuda", &tw[2]);
  cache_wheel ("nvidia-cuda-cccl", "13.3.5.0.6", "nvidia_cuda_cccl-13.3.5.0.6-py3-none-manylinux2014_x86_64.whl",
               cu13_cccl_newer, "cuda", &tw[3]);
  cache_wheel ("nvidia-cuda-nvcc", "13.0.88", "nvidia_cuda_nvcc-13.0.88-py3-none-manylinux2014_x86_64.whl", cu13_nvcc,
               "nvcc", &dw[0]);
  cache_wheel ("nvidia-cuda-crt", "13.0.88", "nvidia_cuda_crt-13.0.88-py3-none-manylinux2014_x86_64.whl", cu13_crt, "nvcc",
               &dw[1]);
  cache_wheel ("nvidia-nvvm", "13.0.88", "nvidia_nvvm-13.0.88-py3-none-manylinux2010_x86_64.whl", cu13_nvvm, "nvcc", &dw[2]);
  cache_wheel ("nvidia-cuda-cccl", "13.0.85", "nvidia_cuda_cccl-13.0.85-py3-none-manylinux2014_x86_64.whl", cu13_cccl,
               "nvcc", &dw[3]);
  struct lockset ts = { xstrdup ("torch"), SOURCE_PYPI, NULL, tw, 4, 4 };
  struct lockset ds = { xstrdup ("devel"), SOURCE_PYPI, NULL, dw, 4, 5 };
  struct staged_layer *l = NULL;
  size_t nl = 0;
  struct strbuf err = STRBUF_INIT;
  struct seen e[64];
  CHECK_INT (stage_layers (&p.plan, rt, &ts, &ds, &l, &nl, &err), 0);
  CHECK_STR (err.buf, "");
  CHECK (nl >= 1 && starts_with (l[0].name, "cuda-13.0"));
  size_t n = nl >= 1 ? read_back (l[0].path, e, 64) : 0;
  const char *site = "usr/local/lib/python3.11/dist-packages";
  cleanup_free char *cu13_lib = xasprintf ("%s/nvidia/cu13/lib", site);
  cleanup_free char *meta = xasprintf ("%s/cuda_toolkit-13.0.2.dist-info/METADATA", site);
  cleanup_free char *nvtx_h = xasprintf ("%s/nvidia/cu13/include/nvtx3/nvToolsExt.h", site);
  CHECK (entry (e, n, "usr/local/cuda-13.0/lib/libcudart.so.13") != NULL);
  CHECK (entry (e, n, "usr/local/cuda-13.0/lib/libcudart_static.a") != NULL);
  const struct seen *link = entry (e, n, cu13_lib);
  CHECK (link != NULL && link->type == AE_IFLNK && strcmp (link->link, "/usr/local/cuda-13.0/lib") == 0);
  CHECK (entry (e, n, meta) != NULL);
  CHECK (entry (e, n, nvtx_h) == NULL); /* headers are the devel layer's */
  staged_layers_free (l, nl);
  l = NULL;
  nl = 0;
  CHECK_INT (stage_layers (&p.plan, dv, &ts, &ds, &l, &nl, &err), 0);
  CHECK_STR (err.buf, "");
  CHECK (nl == 2 && starts_with (l[1].name, "nvcc-13.0.88-"));
  /* One CCCL: the nvcc layer's (13.0.85); the devel layer has the runtime wheels' headers but
     none of the torch set's newer CCCL, so no file of it is left among the nvcc's. */
  n = nl == 2 ? read_back (l[0].path, e, 64) : 0;
  CHECK (entry (e, n, "usr/local/cuda-13.0/include/cuda_runtime.h") != NULL);
  for (size_t i = 0; i < n; i++)
    if (strstr (e[i].path, "include/cccl") != NULL)
      {
        fprintf (stderr, "devel layer has %s\n", e[i].path);
        CHECK (0);
      }
  n = nl == 2 ? read_back (l[1].path, e, 64) : 0;
  static const char *const want[] = {
    "usr/local/cuda-13.0/bin/nvcc", "usr/local/cuda-13.0/bin/ptxas", "usr/local/cuda-13.0/bin/crt/link.stub",
    "usr/local/cuda-13.0/include/fatbinary_section.h", "usr/local/cuda-13.0/include/crt/host_config.h",
    "usr/local/cuda-13.0/include/cccl/cub/cub.cuh", "usr/local/cuda-13.0/lib/cmake/cub/cub-config.cmake",
    "usr/local/cuda-13.0/nvvm/bin/cicc", "usr/local/cuda-13.0/nvvm/libdevice/libdevice.10.bc",
    "usr/local/cuda-13.0/lib/libnvvm.so.4",
  };
  for (size_t i = 0; i < ARRAY_SIZE (want); i++)
    {
      if (entry (e, n, want[i]) == NULL)
        fprintf (stderr, "nvcc layer lacks %s\n", want[i]);
      CHECK (entry (e, n, want[i]) != NULL);
    }
  const struct seen *profile = entry (e, n, "usr/local/cuda-13.0/bin/nvcc.profile");
  CHECK (profile != NULL && profile->size > 100); /* pcgen's, not the wheel's 19 bytes */
  const struct seen *lib64 = entry (e, n, "usr/local/cuda-13.0/lib64");
  CHECK (lib64 != NULL && lib64->type == AE_IFLNK && strcmp (lib64->link, "lib") == 0);
  for (size_t i = 0; i < n; i++)
    CHECK (strstr (e[i].path, ".metadata") == NULL && strstr (e[i].path, ".dist-info") == NULL);
  staged_layers_free (l, nl);
  strbuf_release (&err);
  lockset_release (&ts);
  lockset_release (&ds);
  base->ntoolchain = ntool;
  base->nbuildtools = nbuild;
  project_close (&p);
}

/* The notebook layer's folders: /workspace and sshd's state folder belong to uid 1000, with
   their own mode; pcgen's files beside them stay root's. An owned folder that another entry
   sits in is refused (add_parents would add root's copy of it too). */
static void
test_owned_dirs (void)
{
  static const struct layer_file nb_files[] = { { "usr/local/bin/pytorch-notebook", "#!/bin/sh\n", 0755 } };
  static const struct layer_dir dirs[] = { { "workspace", 0755, 1000, 1000 }, { "run/pytorch-notebook", 0700, 1000, 1000 } };
  cleanup_free char *out = xasprintf ("%s/owned.tar", dir);
  struct layer_spec spec = { NULL, 0, NULL, 0, nb_files, 1, 1700000000, dir, dirs, 2 };
  char sha[65];
  struct strbuf err = STRBUF_INIT;
  CHECK_INT (layer_write (&spec, out, sha, NULL, &err), 0);
  CHECK_STR (err.buf, "");
  struct seen e[16];
  size_t n = read_back (out, e, 16);
  static const char *const want[] = { "run/", "run/pytorch-notebook/", "usr/", "usr/local/", "usr/local/bin/",
                                      "usr/local/bin/pytorch-notebook", "workspace/" };
  CHECK_INT (n, ARRAY_SIZE (want));
  for (size_t i = 0; i < n && i < ARRAY_SIZE (want); i++)
    CHECK_STR (e[i].path, want[i]);
  CHECK_INT (e[0].uid, 0);
  CHECK_INT (e[1].uid, 1000);
  CHECK_INT (e[1].gid, 1000);
  CHECK_INT (e[1].mode, 0700);
  CHECK_INT (e[5].uid, 0);
  CHECK_INT (e[5].mode, 0755);
  CHECK_INT (e[6].type, AE_IFDIR);
  CHECK_INT (e[6].uid, 1000);
  CHECK_INT (e[6].mode, 0755);

  static const struct layer_file inside[] = { { "workspace/x", "x\n", 0644 } };
  struct layer_spec bad = { NULL, 0, NULL, 0, inside, 1, 1700000000, dir, dirs, 1 };
  cleanup_free char *out2 = xasprintf ("%s/owned2.tar", dir);
  CHECK_INT (layer_write (&bad, out2, sha, NULL, &err), -1);
  CHECK_CONTAINS (err.buf, "two inputs write 'workspace'");
  CHECK (access (out2, F_OK) != 0);
  strbuf_release (&err);
}

/* ---- Layers staged in parallel: the same bytes as one after the other --------------------- */

static const char *const par_cudart[]
    = { "nvidia/__init__.py", "",
        "nvidia/cuda_runtime/lib/libcudart.so.12", "ELF-cudart",
        "nvidia/cuda_runtime/include/cuda_runtime.h", "/* h */",
        "nvidia_cuda_runtime_cu12-12.4.127.dist-info/METADATA", "Name: nvidia-cuda-runtime-cu12\n",
        NULL };
static const char *const par_cudnn[]
    = { "nvidia/__init__.py", "",
        "nvidia/cudnn/lib/libcudnn.so.9", "ELF-cudnn",
        "nvidia_cudnn_cu12-9.1.0.70.dist-info/METADATA", "Name: nvidia-cudnn-cu12\n",
        NULL };

/* The sha256 of each layer of t, made now from the cache's wheels (their tars removed first)
   with PCGEN_STAGE_JOBS=jobs and PCGEN_WHEEL_READER=reader (NULL: the default); 0 when every
   layer was made now, its digest that of its file. */
static int
stage_fresh (const struct plan *p, const struct ptag *t, const struct lockset *ts, const char *jobs, const char *reader,
             char sha[][65], size_t *nl)
{
  cleanup_free char *cmd = xasprintf ("rm -f '%s'/layers/*", cache_dir ());
  CHECK_INT (system (cmd), 0);
  setenv ("PCGEN_STAGE_JOBS", jobs, 1);
  if (reader)
    setenv ("PCGEN_WHEEL_READER", reader, 1);
  struct staged_layer *l = NULL;
  struct strbuf err = STRBUF_INIT;
  int rc = stage_layers (p, t, ts, NULL, &l, nl, &err);
  CHECK_STR (err.buf, "");
  for (size_t i = 0; rc == 0 && i < *nl && i < 8; i++)
    {
      char got[65];
      memcpy (sha[i], l[i].sha256, 65);
      if (!l[i].built || sha256_file (l[i].path, got, NULL) < 0 || strcmp (got, l[i].sha256) != 0)
        rc = -1;
    }
  staged_layers_free (l, *nl);
  strbuf_release (&err);
  unsetenv ("PCGEN_STAGE_JOBS");
  unsetenv ("PCGEN_WHEEL_READER");
  return rc;
}

/* A runtime tag's cuda, cudnn and torch layers made by one worker, by four, and with
   libarchive's zip reader instead of the in-place one: byte for byte the same tars. The torch
   wheel is the largest, so the four workers start it first, out of layer order. */
static void
test_parallel_staging (void)
{
  CHECK_INT ((int) (setenv ("PCGEN_STAGE_JOBS", "3", 1), stage_workers ()), 3);
  CHECK_INT ((int) (setenv ("PCGEN_STAGE_JOBS", "1", 1), stage_workers ()), 1);
  unsetenv ("PCGEN_STAGE_JOBS");
  CHECK ((long) stage_workers () == sysconf (_SC_NPROCESSORS_ONLN));
  struct project p;
  load_matrix (&p, "matrixpar.yaml", "2.6.0", "12.4");
  const struct ptag *t = plan_find (&p.plan, "2.6.0-cuda12.4-cudnn9-runtime");
  CHECK (t != NULL);
  if (t == NULL)
    return project_close (&p);
  struct kb_base *base = (struct kb_base *) t->base;
  size_t ntool = base->ntoolchain;
  base->ntoolchain = 0; /* the base's packages are not in this test's cache (test_deb) */
  relayer (t);
  /* 600 KB of text that deflate has work on, in torch's largest member. */
  struct strbuf big = STRBUF_INIT;
  for (unsigned i = 0, x = 1; i < 60000; i++, x = x * 1103515245u + 12345u)
    strbuf_addf (&big, "%08x\n", x >> 3);
  const char *const torch[] = { "torch/__init__.py", "import os\n",
                                "torch/lib/libtorch_cuda.so", big.buf,
                                "torch/bin/torch_shm_manager", "ELF",
                                "torch-2.6.0.dist-info/METADATA", "Name: torch\nVersion: 2.6.0\n",
                                NULL };
  struct locked_wheel *w = xcalloc (5, sizeof *w); /* the lockset owns it */
  cache_wheel ("nvidia-cuda-runtime-cu12", "12.4.127", "nvidia_cuda_runtime_cu12-12.4.127-py3-none-manylinux2014_x86_64.whl",
               par_cudart, "cuda", &w[0]);
  cache_wheel ("nvidia-cublas-cu12", "12.4.5.8", "nvidia_cublas_cu12-12.4.5.8-py3-none-manylinux2014_x86_64.whl", cublas,
               "cuda", &w[1]);
  cache_wheel ("nvidia-cudnn-cu12", "9.1.0.70", "nvidia_cudnn_cu12-9.1.0.70-py3-none-manylinux2014_x86_64.whl", par_cudnn,
               "cudnn", &w[2]);
  cache_wheel ("torch", "2.6.0", "torch-2.6.0-cp311-cp311-manylinux1_x86_64.whl", torch, "torch", &w[3]);
  struct lockset ts = { xstrdup ("torch"), SOURCE_PYPI, NULL, w, 4, 5 };
  char one[8][65], four[8][65], lib[8][65];
  size_t n1 = 0, n4 = 0, nl = 0;
  CHECK_INT (stage_fresh (&p.plan, t, &ts, "1", NULL, one, &n1), 0);
  CHECK_INT (stage_fresh (&p.plan, t, &ts, "4", NULL, four, &n4), 0);
  CHECK_INT (stage_fresh (&p.plan, t, &ts, "4", "libarchive", lib, &nl), 0);
  CHECK_INT ((int) n1, 3);
  CHECK_INT ((int) n4, 3);
  CHECK_INT ((int) nl, 3);
  for (size_t i = 0; i < n1 && i < n4 && i < nl && i < 8; i++)
    {
      CHECK_STR (four[i], one[i]);
      CHECK_STR (lib[i], one[i]);
    }
  base->ntoolchain = ntool;
  strbuf_release (&big);
  lockset_release (&ts);
  project_close (&p);
}

/* A wheel whose deflated bytes were changed after it was made: the in-place reader refuses it
   by its CRC (or inflate), naming the wheel and the member; nothing is left behind. */
static void
test_corrupt_wheel (void)
{
  static const char *const m[] = { "pkg/a.py", "print('hello, hello, hello, hello')\n", NULL };
  cleanup_free char *w = make_wheel ("corrupt-1.0-py3-none-any.whl", m);
  struct strbuf b = STRBUF_INIT;
  CHECK_INT (strbuf_read_file (&b, w, 1 << 20), 0);
  /* The member's data follows the local header (30 bytes), its name and its extra field. */
  const unsigned char *u = (const unsigned char *) b.buf;
  size_t data = 30 + (size_t) (u[26] | u[27] << 8) + (size_t) (u[28] | u[29] << 8);
  CHECK (b.len > data + 4);
  if (b.len > data + 4)
    b.buf[data + 2] ^= 0x55;
  CHECK_INT (write_file_atomic (w, b.buf, b.len, 0644), 0);
  struct layer_input in[] = { { w, pkg_rules, 1 } };
  struct layer_spec spec = { in, 1, NULL, 0, NULL, 0, 1700000000, dir, NULL, 0 };
  cleanup_free char *out = xasprintf ("%s/corrupt.tar", dir);
  char sha[65];
  struct strbuf err = STRBUF_INIT;
  CHECK_INT (layer_write (&spec, out, sha, NULL, &err), -1);
  cleanup_free char *want = xasprintf ("cannot read a member of '%s': 'usr/lib/python3/dist-packages/pkg/a.py'", w);
  CHECK_CONTAINS (err.buf, want);
  CHECK (access (out, F_OK) != 0);
  strbuf_release (&err);
  strbuf_release (&b);
}

int
main (void)
{
  CHECK (mkdtemp (dir) != NULL);
  cleanup_free char *cache = xasprintf ("%s/cache", dir);
  setenv ("PCGEN_CACHE", cache, 1);
  test_layer ();
  test_requirements ();
  test_stale_temporaries ();
  test_deb ();
  test_symlinks ();
  test_path_spellings ();
  test_expansion ();
  test_redist ();
  test_cuda13 ();
  test_owned_dirs ();
  test_parallel_staging ();
  test_corrupt_wheel ();
  int rc = check_summary ("layer");
  /* A failed test keeps its fixtures and layers to look at. */
  if (rc != 0)
    fprintf (stderr, "kept %s\n", dir);
  else
    {
      cleanup_free char *cmd = xasprintf ("rm -rf '%s'", dir);
      if (system (cmd) != 0)
        fprintf (stderr, "cannot remove %s\n", dir);
    }
  return rc;
}
