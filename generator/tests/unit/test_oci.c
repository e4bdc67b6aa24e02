/* test_oci.c: the image writer's JSON (oci.h) as exact bytes (the config's bytes are the image
   ID, so a changed byte is a changed ID everywhere), its reading back, the Dockerfile reader
   (dockerfile.h) on what templates/ renders and on what it must refuse (file:line:col), and
   image_write on a tiny base: two writes give the same image ID, a RUN it cannot do is refused. */
#include "check.h"
#include "dockerfile.h"
#include "fsutil.h"
#include "image_writer.h"
#include "oci.h"
#include "util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/pcgen-test-oci.XXXXXX";

static void
test_created (void)
{
  unsetenv ("SOURCE_DATE_EPOCH");
  char *c = oci_created ();
  CHECK_STR (c, "1970-01-01T00:00:01Z");
  free (c);
  setenv ("SOURCE_DATE_EPOCH", "1700000000", 1);
  c = oci_created ();
  CHECK_STR (c, "2023-11-14T22:13:20Z");
  free (c);
  setenv ("SOURCE_DATE_EPOCH", "12abc", 1);
  c = oci_created ();
  CHECK_STR (c, "1970-01-01T00:00:01Z");
  free (c);
  unsetenv ("SOURCE_DATE_EPOCH");
}

#define L1 "1111111111111111111111111111111111111111111111111111111111111111"
#define L2 "2222222222222222222222222222222222222222222222222222222222222222"
#define CF "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static void
test_json (void)
{
  struct oci_image img;
  oci_image_init (&img, "1970-01-01T00:00:01Z");
  oci_add_layer (&img, L1, 10, "/x/base.tar", "base");
  const char *bash[] = { "bash" };
  oci_set_argv (&img, "Cmd", bash, 1);
  oci_set_env (&img, "PATH", "/bin");
  oci_set_env (&img, "A", "1");
  oci_set_env (&img, "PATH", "/usr/bin:/bin"); /* replaced in place, as Docker's ENV does */
  oci_set_label (&img, "b", "2");
  oci_set_label (&img, "a", "1");
  oci_add_history (&img, "ENV PATH=/usr/bin:/bin");
  oci_add_layer (&img, L2, 20, "/x/l2.tar", "ADD layers/l2.tar /");
  oci_add_exposed (&img, "8888");
  oci_add_exposed (&img, "22/tcp");
  char *c = oci_config_json (&img);
  CHECK_STR (c, "{\"architecture\":\"amd64\",\"config\":{\"Cmd\":[\"bash\"],\"Env\":[\"PATH=/usr/bin:/bin\",\"A=1\"],"
                "\"ExposedPorts\":{\"22/tcp\":{},\"8888/tcp\":{}},\"Labels\":{\"a\":\"1\",\"b\":\"2\"}},"
                "\"created\":\"1970-01-01T00:00:01Z\",\"history\":[{\"created\":\"1970-01-01T00:00:01Z\","
                "\"created_by\":\"base\"},{\"created\":\"1970-01-01T00:00:01Z\",\"created_by\":\"ENV PATH=/usr/bin:/bin\","
                "\"empty_layer\":true},{\"created\":\"1970-01-01T00:00:01Z\",\"created_by\":\"ADD layers/l2.tar /\"}],"
                "\"os\":\"linux\",\"rootfs\":{\"diff_ids\":[\"sha256:" L1 "\",\"sha256:" L2 "\"],\"type\":\"layers\"}}");
  char *m = oci_manifest_json (&img, CF, 123);
  CHECK_STR (m, "{\"config\":{\"digest\":\"sha256:" CF "\",\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                "\"size\":123},\"layers\":[{\"digest\":\"sha256:" L1 "\",\"mediaType\":"
                "\"application/vnd.oci.image.layer.v1.tar\",\"size\":10},{\"digest\":\"sha256:" L2 "\",\"mediaType\":"
                "\"application/vnd.oci.image.layer.v1.tar\",\"size\":20}],\"mediaType\":"
                "\"application/vnd.oci.image.manifest.v1+json\",\"schemaVersion\":2}");
  char *ix = oci_index_json (CF, 77, "localhost:5000/my/repo:2.6.0-cuda12.4-cudnn9-runtime");
  CHECK_STR (ix, "{\"manifests\":[{\"annotations\":{\"io.containerd.image.name\":"
                 "\"localhost:5000/my/repo:2.6.0-cuda12.4-cudnn9-runtime\",\"org.opencontainers.image.ref.name\":"
                 "\"2.6.0-cuda12.4-cudnn9-runtime\"},\"digest\":\"sha256:" CF "\",\"mediaType\":"
                 "\"application/vnd.oci.image.manifest.v1+json\",\"size\":77}],\"mediaType\":"
                 "\"application/vnd.oci.image.index.v1+json\",\"schemaVersion\":2}");
  char *ix2 = oci_index_json (CF, 77, "localhost:5000/repo");
  CHECK_CONTAINS (ix2, "\"org.opencontainers.image.ref.name\":\"latest\"");
  char *d = oci_docker_manifest_json (&img, CF, "my/repo:t");
  CHECK_STR (d, "[{\"Config\":\"blobs/sha256/" CF "\",\"Layers\":[\"blobs/sha256/" L1 "\",\"blobs/sha256/" L2
                "\"],\"RepoTags\":[\"my/repo:t\"]}]");
  free (c);
  free (m);
  free (ix);
  free (ix2);
  free (d);
  oci_image_release (&img);
}

static void
put (const char *rel, const char *data)
{
  char *p = xasprintf ("%s/%s", dir, rel);
  CHECK_INT (write_file_atomic (p, data, strlen (data), 0644), 0);
  free (p);
}

static void
test_load (void)
{
  char *blobs = xasprintf ("%s/layout/blobs/sha256", dir);
  CHECK_INT (mkdir_p (blobs, 0755), 0);
  struct oci_image img;
  oci_image_init (&img, "1970-01-01T00:00:01Z");
  oci_add_layer (&img, L1, 10, "/x/base.tar", "base");
  char *c = oci_config_json (&img), *m = oci_manifest_json (&img, CF, strlen (c)), *ix = oci_index_json (L2, strlen (m), "r:t");
  put ("layout/blobs/sha256/" CF, c);
  put ("layout/blobs/sha256/" L2, m);
  put ("layout/index.json", ix);
  struct oci_image back;
  struct strbuf err = STRBUF_INIT;
  char *layout = xasprintf ("%s/layout", dir);
  CHECK_INT (oci_image_load (&back, layout, &err), 0);
  CHECK_INT (back.nlayers, 1);
  if (back.nlayers == 1)
    {
      CHECK_STR (back.layers[0].digest, L1);
      CHECK_INT (back.layers[0].size, 10);
      CHECK_CONTAINS (back.layers[0].path, "/layout/blobs/sha256/" L1);
      char *c2 = oci_config_json (&back);
      CHECK_STR (c2, c);
      free (c2);
      oci_image_release (&back);
    }
  /* a manifest whose layer list does not match the config's diff_ids */
  put ("layout/blobs/sha256/" L2, "{\"config\":{\"digest\":\"sha256:" CF "\"},\"layers\":[]}");
  CHECK_INT (oci_image_load (&back, layout, &err), -1);
  CHECK_CONTAINS (err.buf, "not a config this writer made");
  strbuf_reset (&err);
  put ("layout/index.json", "{\"manifests\":[{\"digest\":\"sha256:zz\"}]}");
  CHECK_INT (oci_image_load (&back, layout, &err), -1);
  CHECK_CONTAINS (err.buf, "index.json: no manifest descriptor with a sha256 digest");
  strbuf_reset (&err);
  put ("layout/index.json", "{\"manifests\":[");
  CHECK_INT (oci_image_load (&back, layout, &err), -1);
  CHECK_CONTAINS (err.buf, "index.json:1:");
  strbuf_release (&err);
  free (c);
  free (m);
  free (ix);
  free (layout);
  free (blobs);
  oci_image_release (&img);
}

static void
test_dockerfile (void)
{
  const char *text = "# a comment\n"
                     "ARG BASE_IMAGE=pytorch-cuda/base:debian-bookworm\n"
                     "FROM ${BASE_IMAGE}\n"
                     "ENV PATH=/usr/local/bin:/bin \\\n"
                     "    # a comment inside the continuation\n"
                     "    NVIDIA_REQUIRE_CUDA=\"cuda>=12.0,driver>=525.60.13\" \\\n"
                     "    Q='a b' E=x\\ y\n"
                     "LABEL org.opencontainers.image.title=\"my/repo\" \\\n"
                     "      io.x=\"say \\\"hi\\\"\"\n"
                     "RUN cd /usr/local/cuda-12.4/lib \\\n && ldconfig\n"
                     "CMD [\"python3\"]\n"
                     "entrypoint echo hi\n";
  struct dockerfile df;
  struct strbuf err = STRBUF_INIT;
  CHECK_INT (dockerfile_parse ("Dockerfile", text, strlen (text), &df, &err), 0);
  CHECK_INT (df.n, 7);
  if (df.n == 7)
    {
      CHECK_INT (df.v[0].kind, DF_ARG);
      CHECK_INT (df.v[1].kind, DF_FROM);
      CHECK_INT (df.v[2].kind, DF_ENV);
      CHECK_INT (df.v[2].line, 4);
      CHECK_INT (df.v[2].col, 5);
      CHECK_INT (df.v[2].npairs, 4);
      CHECK_STR (df.v[2].pairs[0].key, "PATH");
      CHECK_STR (df.v[2].pairs[1].value, "cuda>=12.0,driver>=525.60.13");
      CHECK_STR (df.v[2].pairs[2].value, "a b");
      CHECK_STR (df.v[2].pairs[3].value, "x y");
      CHECK_STR (df.v[3].pairs[1].value, "say \"hi\"");
      CHECK_STR (df.v[4].args, "cd /usr/local/cuda-12.4/lib  && ldconfig"); /* Docker keeps both blanks */
      CHECK_INT (df.v[5].npairs, 1);
      CHECK_STR (df.v[5].pairs[0].value, "python3");
      CHECK_INT (df.v[6].kind, DF_ENTRYPOINT);
      CHECK_INT (df.v[6].npairs, 3);
      CHECK_STR (df.v[6].pairs[2].value, "echo hi");
      dockerfile_release (&df);
    }
  static const struct
  {
    const char *text, *error;
  } bad[] = {
    { "FROM x\nENV FOO\n", "Dockerfile:2:5: 'FOO' is not KEY=VALUE" },
    { "FROM x\nENV A=1 B=$HOME\n", "Dockerfile:2:9: a '$' (the writer does not expand variables" },
    { "FROM x\nLABEL a=\"b\n", "Dockerfile:2:7: an unclosed quote in this word" },
    { "FROM x\nCMD [\"a\", 1]\n", "Dockerfile:2:5: '[\"a\", 1]' is not a JSON array of strings" },
    { "FROM x\nENV\n", "Dockerfile:2:4: ENV has no KEY=VALUE" },
    { "FROM x\0\n", "holds a NUL byte" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      strbuf_reset (&err);
      size_t len = strlen (bad[i].text) + (strstr (bad[i].error, "NUL") ? 2 : 0);
      CHECK_INT (dockerfile_parse ("Dockerfile", bad[i].text, len, &df, &err), -1);
      CHECK_CONTAINS (err.buf, bad[i].error);
    }
  strbuf_release (&err);
}

/* image_write on a one-file base and a recipe of config only: the same ID twice; a RUN the
   writer cannot do names its line and column and leaves no layout. */
static void
test_write (void)
{
  char *cache = xasprintf ("%s/cache", dir);
  setenv ("PCGEN_CACHE", cache, 1);
  put ("base.tar", "not really a tar: the writer hashes it, docker would read it");
  put ("Dockerfile", "ARG BASE_IMAGE=b\nFROM ${BASE_IMAGE}\nENV A=1\nLABEL k=v\nCMD [\"python3\"]\n");
  put ("Bad", "FROM b\nENV A=1\nRUN apt-get update\n");
  char *base = xasprintf ("%s/base.tar", dir), *recipe = xasprintf ("%s/Dockerfile", dir);
  char *out = xasprintf ("%s/oci/t", dir), *bad = xasprintf ("%s/Bad", dir), *out2 = xasprintf ("%s/oci/bad", dir);
  const char *sha = "9f0a4fd9a4a7f4c0ee9b8a0b3b0f7dbb2b7e0f0d3e1f6fb6b9f4b0b4a8f1a2c3";
  struct writer_input in = { "r:t", recipe, dir, base, sha, NULL, NULL, 0, out };
  struct writer_result r1, r2;
  struct strbuf err = STRBUF_INIT;
  CHECK_INT (image_write (&in, &r1, &err), 0);
  CHECK_INT (image_write (&in, &r2, &err), 0);
  CHECK_STR (r1.config_sha, r2.config_sha);
  CHECK_STR (r1.manifest_sha, r2.manifest_sha);
  struct oci_image img;
  CHECK_INT (oci_image_load (&img, out, &err), 0);
  char *c = img.config ? oci_config_json (&img) : NULL;
  CHECK_CONTAINS (c, "\"Cmd\":[\"python3\"],\"Env\":[\"A=1\"],\"Labels\":{\"k\":\"v\"}");
  CHECK_CONTAINS (c, "\"diff_ids\":[\"sha256:9f0a4fd9");
  free (c);
  if (img.config)
    oci_image_release (&img);
  char *mj = xasprintf ("%s/manifest.json", out);
  CHECK (access (mj, F_OK) == 0);
  struct writer_input in2 = { "r:bad", bad, dir, base, sha, NULL, NULL, 0, out2 };
  strbuf_reset (&err);
  CHECK_INT (image_write (&in2, &r2, &err), -1);
  CHECK_CONTAINS (err.buf, "/Bad:3:5: RUN 'apt-get update': the image writer runs nothing in a container");
  CHECK (access (out2, F_OK) != 0);
  strbuf_release (&err);
  free (mj);
  free (cache);
  free (base);
  free (recipe);
  free (out);
  free (out2);
  free (bad);
}

int
main (void)
{
  if (mkdtemp (dir) == NULL)
    return 1;
  test_created ();
  test_json ();
  test_load ();
  test_dockerfile ();
  test_write ();
  return check_summary_in ("oci", dir);
}
