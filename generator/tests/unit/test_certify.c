/* test_certify.c: the digests a certificate names (certify.h) and publish's gate on them: a
   certificate without a manifest digest, with another one, with the right one; recording one in
   a kept certificate; no layout, no digest. Each case in its own temporary folder. */
#include "blob_gzip.h"
#include "certify.h"
#include "check.h"
#include "digest.h"
#include "fsutil.h"
#include "util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID "sha256:a4e762113a03120b138a2df97cf2d3a11867d2a501573561fdf760e5d2898907"
#define MD "sha256:7972304b31fafbd79abd94c9f9d8e183f932bea21c5a2674f77de72990124e9b"
#define OTHER "sha256:0000000000000000000000000000000000000000000000000000000000000000"
#define CERT "results/certificates/a4e762113a03120b138a2df97cf2d3a11867d2a501573561fdf760e5d2898907.json"

static void
put_cert (const char *text)
{
  mkdir_p ("results/certificates", 0755);
  write_file_atomic (CERT, text, strlen (text), 0644);
}

/* The gate's answer for ID's certificate: "ok", or the error's kind name and message. */
static char *
gate (const char *digest)
{
  struct error e = ERROR_INIT;
  struct certificate c;
  struct strbuf why = STRBUF_INIT;
  CHECK_INT (certificate_load (ID, &c, &why), 1);
  char *out = certificate_digest_check (&c, digest, &e) == 0 ? xstrdup ("ok")
                                                             : xasprintf ("%s: %s", err_kind_name (e.kind), e.msg.buf);
  certificate_release (&c);
  strbuf_release (&why);
  err_release (&e);
  return out;
}

/* The manifest digest image_id's certificate names, or NULL (none, or no certificate). */
static char *
named_digest (const char *image_id)
{
  struct certificate c;
  struct strbuf why = STRBUF_INIT;
  char *d = certificate_load (image_id, &c, &why) && c.manifest_digest ? xstrdup (c.manifest_digest) : NULL;
  certificate_release (&c);
  strbuf_release (&why);
  return d;
}

static void
test_gate (void)
{
  char *g;
  put_cert ("{\"image_id\": \"" ID "\", \"result\": \"certified\", \"level\": \"static\"}");
  CHECK (named_digest (ID) == NULL);
  g = gate (MD);
  CHECK_STR (g, "invalid input: its certificate " CERT " names no manifest digest");
  free (g);
  /* null (an image without a layout: docker build's) is none as well */
  put_cert ("{\"image_id\": \"" ID "\", \"result\": \"certified\", \"manifest_digest\": null}");
  g = gate (MD);
  CHECK_STR (g, "invalid input: its certificate " CERT " names no manifest digest");
  free (g);
  put_cert ("{\"image_id\": \"" ID "\", \"result\": \"certified\", \"manifest_digest\": \"" OTHER "\"}");
  g = gate (MD);
  CHECK_STR (g, "invalid input: its certificate " CERT " names manifest " OTHER ", but the manifest to push is " MD);
  free (g);
  /* Recording a digest keeps the rest of the certificate, in its order. */
  struct strbuf err = STRBUF_INIT;
  CHECK_INT (certificate_set_manifest_digest (ID, MD, &err), 0);
  g = gate (MD);
  CHECK_STR (g, "ok");
  free (g);
  char *named = named_digest (ID);
  CHECK_STR (named, MD);
  free (named);
  CHECK (certificate_passed (ID));
  struct strbuf text = STRBUF_INIT;
  CHECK (strbuf_read_file (&text, CERT, 1 << 20) >= 0);
  CHECK (strstr (text.buf, "\"image_id\"") < strstr (text.buf, "\"result\""));
  strbuf_release (&text);
  /* No certificate at all: none named, and recording fails naming the file. */
  CHECK (named_digest (OTHER) == NULL);
  strbuf_reset (&err);
  CHECK_INT (certificate_set_manifest_digest (OTHER, MD, &err), -1);
  CHECK (strstr (err.buf, "cannot read 'results/certificates/0000") != NULL);
  strbuf_release (&err);
}

/* certificate_check's answer for ID: "pass LEVEL", or "no: WHY". */
static char *
checked (void)
{
  struct certificate c;
  struct strbuf why = STRBUF_INIT;
  char *out = certificate_check (ID, &c, &why) ? xasprintf ("pass %s", cert_level_word (c.level))
                                               : xasprintf ("no: %s", why.buf);
  certificate_release (&c);
  strbuf_release (&why);
  return out;
}

/* The verdict, the level and each check's status are read through their name tables: only
   "certified" passes; a word pcgen does not know (another case, a newer verifier's) is no pass
   and is shown as "?". */
static void
test_verdicts (void)
{
  char *g;
  put_cert ("{\"image_id\": \"" ID "\", \"result\": \"certified\", \"level\": \"gpu\"}");
  CHECK_STR (g = checked (), "pass gpu");
  free (g);
  put_cert ("{\"image_id\": \"" ID "\", \"result\": \"failed\", \"level\": \"static\", \"checks\": ["
            "{\"name\": \"cudart\", \"status\": \"pass\"}, {\"name\": \"numpy\", \"status\": \"fail\"},"
            "{\"name\": \"kernel\", \"status\": \"skip\"}, {\"name\": \"compile\", \"status\": \"fail\"}]}");
  CHECK_STR (g = checked (), "no: its certificate " CERT " says failed (failed checks: numpy,compile)");
  free (g);
  CHECK (!certificate_passed (ID));
  put_cert ("{\"image_id\": \"" ID "\", \"result\": \"Certified\", \"level\": \"static\", \"checks\": ["
            "{\"name\": \"numpy\", \"status\": \"FAIL\"}]}");
  CHECK_STR (g = checked (), "no: its certificate " CERT " says ? (failed checks: -)");
  free (g);
  CHECK (!certificate_passed (ID));
  put_cert ("{\"image_id\": \"" ID "\", \"result\": \"certified\", \"level\": \"tpu\"}");
  CHECK_STR (g = checked (), "pass ?");
  free (g);
  put_cert ("{\"image_id\": \"" OTHER "\", \"result\": \"certified\"}");
  CHECK_STR (g = checked (), "no: its certificate " CERT " is for another image");
  free (g);
  for (int v = VERDICT_CERTIFIED; v <= VERDICT_FAILED; v++)
    CHECK_INT (cert_verdict_parse (cert_verdict_name ((enum cert_verdict) v)), v);
  for (int l = LEVEL_STATIC; l <= LEVEL_GPU; l++)
    CHECK_INT (cert_level_parse (cert_level_name ((enum cert_level) l)), l);
  for (int st = CHECK_STATUS_PASS; st <= CHECK_STATUS_SKIP; st++)
    CHECK_INT (check_status_parse (check_status_name ((enum check_status) st)), st);
}

/* No layout for the tag, or a layout of another image: nothing to name (docker build's image). */
static void
test_no_layout (void)
{
  struct strbuf err = STRBUF_INIT;
  char *d = (char *) 1;
  CHECK_INT (certify_manifest_digest ("2.6.0-cuda12.4-cudnn9-runtime", ID, &d, &err), 0);
  CHECK (d == NULL);
  mkdir_p ("build/oci/2.6.0-cuda12.4-cudnn9-runtime", 0755);
  const char *ix = "{\"manifests\": [{\"digest\": \"sha256:1111111111111111111111111111111111111111111111111111111111111111\"}]}";
  write_file_atomic ("build/oci/2.6.0-cuda12.4-cudnn9-runtime/index.json", ix, strlen (ix), 0644);
  d = (char *) 1;
  CHECK_INT (certify_manifest_digest ("2.6.0-cuda12.4-cudnn9-runtime", ID, &d, &err), 0);
  CHECK (d == NULL);
  strbuf_release (&err);
}

/* blobs/sha256/<its sha256> of layout dir; the hex into hex. */
static void
put_blob (const char *dir, const char *data, char hex[SHA256_HEX_LEN + 1])
{
  sha256_hex (data, strlen (data), hex);
  cleanup_free char *p = xasprintf ("%s/blobs/sha256/%s", dir, hex);
  write_file_atomic (p, data, strlen (data), 0644);
}

/* A layout of one layer for tag (as oci.c writes one): the digest certify records, once the
   layer is compressed, is the sha256 of the push manifest publish writes beside it; without its layer tar (build --lean) there is
   none to record (1). */
static void
test_layout (void)
{
  const char *tag = "2.6.0-cuda12.4-cudnn9-devel", *dir = "build/oci/2.6.0-cuda12.4-cudnn9-devel";
  char layer[SHA256_HEX_LEN + 1], config[SHA256_HEX_LEN + 1], manifest[SHA256_HEX_LEN + 1];
  mkdir_p ("build/oci/2.6.0-cuda12.4-cudnn9-devel/blobs/sha256", 0755);
  setenv ("PCGEN_CACHE", "cache", 1);
  put_blob (dir, "not really a tar, but bytes to compress", layer);
  cleanup_free char *cfg = xasprintf ("{\"config\":{},\"history\":[{}],\"rootfs\":{\"diff_ids\":[\"sha256:%s\"],"
                                      "\"type\":\"layers\"}}", layer);
  put_blob (dir, cfg, config);
  cleanup_free char *man = xasprintf ("{\"config\":{\"digest\":\"sha256:%s\",\"size\":%zu},\"layers\":[{\"digest\":"
                                      "\"sha256:%s\",\"size\":39}],\"schemaVersion\":2}", config, strlen (cfg), layer);
  put_blob (dir, man, manifest);
  cleanup_free char *ix = xasprintf ("{\"manifests\":[{\"digest\":\"sha256:%s\"}]}", manifest);
  write_file_atomic ("build/oci/2.6.0-cuda12.4-cudnn9-devel/index.json", ix, strlen (ix), 0644);
  cleanup_free char *id = xasprintf ("sha256:%s", config);
  struct strbuf err = STRBUF_INIT, pm = STRBUF_INIT;
  char *d = (char *) 1;
  /* Its layer not compressed yet: no digest, and nothing compressed (publish records it). */
  CHECK_INT (certify_manifest_digest (tag, id, &d, &err), 0);
  CHECK (d == NULL);
  CHECK (!gz_layer_cached (layer));
  CHECK (access ("build/oci/2.6.0-cuda12.4-cudnn9-devel/push-manifest.json", F_OK) != 0);
  /* Compressed (as publish or an earlier certify did): the digest. */
  struct gz_blob gz;
  cleanup_free char *tarp = xasprintf ("%s/blobs/sha256/%s", dir, layer);
  CHECK_INT (gz_layer (layer, tarp, &gz, &err), 0);
  gz_blob_release (&gz);
  CHECK (gz_layer_cached (layer));
  CHECK_INT (certify_manifest_digest (tag, id, &d, &err), 0);
  CHECK (strbuf_read_file (&pm, "build/oci/2.6.0-cuda12.4-cudnn9-devel/push-manifest.json", 1 << 20) >= 0);
  char want[SHA256_HEX_LEN + 1];
  sha256_hex (pm.buf, pm.len, want);
  CHECK (d != NULL && starts_with (d, "sha256:") && streq (d + 7, want));
  free (d);
  /* Another image ID: the layout is not its. */
  d = (char *) 1;
  CHECK_INT (certify_manifest_digest (tag, ID, &d, &err), 0);
  CHECK (d == NULL);
  /* build --lean took the layer tar (the compressed blob is cached, but the layout is what
     publish reads: certify does not promise a manifest it cannot rebuild). */
  cleanup_free char *lp = xasprintf ("%s/blobs/sha256/%s", dir, layer);
  unlink (lp);
  d = (char *) 1;
  CHECK_INT (certify_manifest_digest (tag, id, &d, &err), 1);
  CHECK (d == NULL);
  CHECK_STR (err.buf, "");
  strbuf_release (&pm);
  strbuf_release (&err);
}

int
main (void)
{
  char tmpl[] = "/tmp/pcgen-test-certify.XXXXXX";
  char *dir = mkdtemp (tmpl);
  if (dir == NULL || chdir (dir) < 0)
    return 1;
  test_verdicts ();
  test_gate ();
  test_no_layout ();
  test_layout ();
  int rc = check_summary ("certify");
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
