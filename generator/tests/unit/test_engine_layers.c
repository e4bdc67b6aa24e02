/* test_engine_layers.c: layer tars taken back from the engine for a lean layout
   (engine_layers.h), against a stand-in for `docker save` (PCGEN_DOCKER): a script that writes
   a tar like docker save's, `<id>/layer.tar` entries, where an entry of the layer's size but
   other bytes comes first. The layer whose tar is gone is compressed into the cache and its tar
   leaves nothing behind; a stream without its bytes, and a docker that fails, are errors that
   say so. Each case in its own temporary folder. */
#include "blob_gzip.h"
#include "check.h"
#include "digest.h"
#include "engine_layers.h"
#include "fsutil.h"
#include "util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR "build/oci/t"
#define ID "sha256:a4e762113a03120b138a2df97cf2d3a11867d2a501573561fdf760e5d2898907"

static char layer[SHA256_HEX_LEN + 1], kept[SHA256_HEX_LEN + 1];

static void
put (const char *path, const char *data)
{
  write_file_atomic (path, data, strlen (data), 0644);
}

/* blobs/sha256/<its sha256> of DIR; the hex into hex. */
static void
put_blob (const char *data, char hex[SHA256_HEX_LEN + 1])
{
  sha256_hex (data, strlen (data), hex);
  cleanup_free char *p = xasprintf (DIR "/blobs/sha256/%s", hex);
  put (p, data);
}

/* A layout of two layers, as build --lean leaves it once the engine holds them: the first
   layer's tar gone, the second kept. */
static void
make_layout (void)
{
  const char *gone = "the layer's bytes: gone from the layout", *here = "a layer still in the layout";
  mkdir_p (DIR "/blobs/sha256", 0755);
  put_blob (gone, layer);
  put_blob (here, kept);
  cleanup_free char *cfg = xasprintf ("{\"config\":{},\"history\":[{},{}],\"rootfs\":{\"diff_ids\":[\"sha256:%s\","
                                      "\"sha256:%s\"],\"type\":\"layers\"}}", layer, kept);
  char config[SHA256_HEX_LEN + 1], manifest[SHA256_HEX_LEN + 1];
  put_blob (cfg, config);
  cleanup_free char *man = xasprintf ("{\"config\":{\"digest\":\"sha256:%s\",\"size\":%zu},\"layers\":["
                                      "{\"digest\":\"sha256:%s\",\"size\":%zu},{\"digest\":\"sha256:%s\",\"size\":%zu}],"
                                      "\"schemaVersion\":2}",
                                      config, strlen (cfg), layer, strlen (gone), kept, strlen (here));
  put_blob (man, manifest);
  cleanup_free char *ix = xasprintf ("{\"manifests\":[{\"digest\":\"sha256:%s\"}]}", manifest);
  put (DIR "/index.json", ix);
  /* docker save's stream: a decoy of the same size first, then the layer, then the metadata */
  mkdir_p ("save/aaa", 0755);
  mkdir_p ("save/bbb", 0755);
  put ("save/aaa/layer.tar", "THE LAYER'S BYTES: GONE FROM THE LAYOUT");
  put ("save/bbb/layer.tar", gone);
  put ("save/manifest.json", "[{\"Layers\":[\"bbb/layer.tar\"]}]");
  mkdir_p ("decoy-only/aaa", 0755);
  put ("decoy-only/aaa/layer.tar", "THE LAYER'S BYTES: GONE FROM THE LAYOUT");
  cleanup_free char *p = xasprintf (DIR "/blobs/sha256/%s", layer);
  unlink (p);
  /* the stand-in: FAKE_SAVE names the folder whose tar it writes; FAKE_FAIL fails as docker does */
  put ("docker", "#!/bin/sh\n"
                 "[ \"$1\" = save ] || exit 2\n"
                 "if [ -n \"$FAKE_FAIL\" ]; then echo \"Error response from daemon: reference does not exist\" >&2; exit 1; fi\n"
                 "exec tar -C \"$FAKE_SAVE\" -cf - .\n");
  chmod ("docker", 0755);
  char cwd[4096];
  cleanup_free char *bin = xasprintf ("%s/docker", getcwd (cwd, sizeof cwd));
  setenv ("PCGEN_DOCKER", bin, 1);
}

/* Nothing but the layout's own files and the cache's entries: no temporary of a taken tar. */
static int
leftovers (void)
{
  return system ("find " DIR " -name '*.engine-*' | grep -q .") == 0;
}

static void
test_taken_back (void)
{
  struct strbuf err = STRBUF_INIT;
  setenv ("FAKE_SAVE", "save", 1);
  CHECK (!gz_layer_cached (layer));
  /* what an interrupted take left goes first */
  cleanup_free char *stale = xasprintf (DIR "/blobs/sha256/%s.engine-AbC123", layer);
  put (stale, "half a layer");
  CHECK_INT (engine_gz_layers (DIR, ID, &err), 1);
  CHECK_STR (err.buf, "");
  CHECK (gz_layer_cached (layer));
  CHECK (!gz_layer_cached (kept)); /* its tar is there: not the engine's business */
  cleanup_free char *p = xasprintf (DIR "/blobs/sha256/%s", layer);
  CHECK (access (p, F_OK) != 0); /* the tar does not come back to stay */
  CHECK (!leftovers ());
  CHECK (access (stale, F_OK) != 0);
  /* compressed now: docker is not run again (it would fail) */
  setenv ("FAKE_FAIL", "1", 1);
  CHECK_INT (engine_gz_layers (DIR, ID, &err), 0);
  unsetenv ("FAKE_FAIL");
  strbuf_release (&err);
}

static void
test_not_in_stream (void)
{
  struct strbuf err = STRBUF_INIT;
  setenv ("FAKE_SAVE", "decoy-only", 1);
  CHECK_INT (engine_gz_layers (DIR, ID, &err), -1);
  cleanup_free char *want = xasprintf ("the engine's image sha256:a4e762113a03 has no layer %.19s of 39 bytes (docker save): "
                                       "build the tag again without --lean", layer);
  CHECK_STR (err.buf, want);
  CHECK (!gz_layer_cached (layer));
  CHECK (!leftovers ());
  strbuf_reset (&err);
  setenv ("FAKE_FAIL", "1", 1);
  CHECK_INT (engine_gz_layers (DIR, ID, &err), -1);
  CHECK_STR (err.buf, "docker save sha256:a4e762113a03 failed (exit 1): Error response from daemon: reference does not exist");
  unsetenv ("FAKE_FAIL");
  strbuf_release (&err);
}

int
main (void)
{
  char tmpl[] = "/tmp/pcgen-test-engine-layers.XXXXXX";
  char *dir = mkdtemp (tmpl);
  if (dir == NULL || chdir (dir) < 0)
    return 1;
  setenv ("PCGEN_CACHE", "cache", 1);
  make_layout ();
  test_not_in_stream ();
  test_taken_back ();
  int rc = check_summary ("engine-layers");
  if (rc == 0)
    {
      cleanup_free char *cmd = xasprintf ("rm -rf '%s'", dir);
      if (system (cmd) != 0)
        return 1;
    }
  else
    fprintf (stderr, "kept %s\n", dir);
  return rc;
}
