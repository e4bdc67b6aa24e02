/* test_layer.c: deterministic layers, checked as libarchive's and git's t5000 tests check
   archives: write to a file, read back every entry's path, type, mode, owner, mtime and size,
   in order; the same spec twice gives the same bytes, and a fixed fixture a known sha256.
   The wheels are fixtures made here with libarchive's zip writer, beside the real ones the
   end-to-end test builds images from. */
#include "check.h"
#include "fsutil.h"
#include "layer.h"
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
  struct layer_spec spec = { in, 2, links, 1, files, 1, mtime, dir };
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
  struct layer_spec spec = { in, 2, NULL, 0, NULL, 0, 1700000000, dir };
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
  struct layer_spec spec3 = { in3, 1, NULL, 0, NULL, 0, 1700000000, dir };
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

int
main (void)
{
  CHECK (mkdtemp (dir) != NULL);
  test_layer ();
  test_requirements ();
  test_stale_temporaries ();
  cleanup_free char *cmd = xasprintf ("rm -rf '%s'", dir);
  CHECK_INT (system (cmd), 0);
  return check_summary ("layer");
}
