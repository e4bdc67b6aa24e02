/* test_certify.c: the digests a certificate names (certify.h) and publish's gate on them: a
   certificate without a manifest digest, with another one, with the right one; recording one in
   a kept certificate; no layout, no digest. Each case in its own temporary folder. */
#include "certify.h"
#include "check.h"
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

/* The gate's answer: "ok", or the error's kind name and message. */
static char *
gate (const char *digest)
{
  struct error e = ERROR_INIT;
  char *out = certificate_digest_check (ID, digest, &e) == 0 ? xstrdup ("ok")
                                                              : xasprintf ("%s: %s", err_kind_name (e.kind), e.msg.buf);
  err_release (&e);
  return out;
}

static void
test_gate (void)
{
  char *g;
  put_cert ("{\"image_id\": \"" ID "\", \"result\": \"certified\", \"level\": \"static\"}");
  CHECK (certificate_manifest_digest (ID) == NULL);
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
  char *named = certificate_manifest_digest (ID);
  CHECK_STR (named, MD);
  free (named);
  CHECK (certificate_passed (ID));
  struct strbuf text = STRBUF_INIT;
  CHECK (strbuf_read_file (&text, CERT, 1 << 20) >= 0);
  CHECK (strstr (text.buf, "\"image_id\"") < strstr (text.buf, "\"result\""));
  strbuf_release (&text);
  /* No certificate at all: none named, and recording fails naming the file. */
  CHECK (certificate_manifest_digest (OTHER) == NULL);
  strbuf_reset (&err);
  CHECK_INT (certificate_set_manifest_digest (OTHER, MD, &err), -1);
  CHECK (strstr (err.buf, "cannot read 'results/certificates/0000") != NULL);
  strbuf_release (&err);
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

int
main (void)
{
  char tmpl[] = "/tmp/pcgen-test-certify.XXXXXX";
  char *dir = mkdtemp (tmpl);
  if (dir == NULL || chdir (dir) < 0)
    return 1;
  test_gate ();
  test_no_layout ();
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
