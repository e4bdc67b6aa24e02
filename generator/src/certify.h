/* certify.h: run the in-image verifier in a built image and keep its certificate.
   A certificate belongs to one image ID: results/certificates/<image id hex>.json. A rebuilt
   image has another ID, so it is not certified until it is verified again. */
#ifndef PCGEN_CERTIFY_H
#define PCGEN_CERTIFY_H

#include "error.h"
#include "plan.h"
#include "strbuf.h"

struct certify_result
{
  char *image_id;
  char *level;   /* "static" or "gpu" */
  char *result;  /* "certified" or "failed" */
  char *failed_checks; /* names of the checks that failed, comma-separated */
  char *manifest_digest; /* the push manifest's ("sha256:…"), NULL without a layout (below) */
  int exit_code; /* the verifier's */
  double seconds;
};

/* The engine has the NVIDIA container runtime (then the verifier runs with --gpus all). */
int certify_engine_has_gpus (void);

/* Verify t's image; the certificate is written whatever its result. Returns 0 when it ran
   (r says how it went), -1 when it could not run (err). */
int certify_image (const struct ptag *t, int gpus, struct certify_result *r, struct strbuf *err);

/* The path of the certificate of an image ID (sha256:...), and whether it passed. */
char *certificate_path (const char *image_id);
int certificate_passed (const char *image_id);
/* The same, with the reason when not (no certificate, another image's, a failed one) and the
   certificate's level ("static", "gpu") when it passed (*level then to be freed). */
int certificate_check (const char *image_id, char **level, struct strbuf *why);

/* The digests a user checks against a registry (docs/certificates.md, "Digests"): a
   certificate names the image ID ("image_id", the config digest) and, for an image pcgen wrote
   (its layout build/oci/<tag> has that config), "manifest_digest": the digest of the push
   manifest `pcgen publish` will put (push_image.h), computed when the image is certified if its
   layers are compressed already (blob_gzip.h, cached), else by the first publish, which records
   it before it pushes. null for an image without such a layout (docker build's): the engine's
   push then decides the manifest, and only the image ID is promised.
   certify_manifest_digest: that digest for tag's image image_id ("sha256:…"; *digest NULL when
   the layout is missing, holds another image, or has a layer not compressed yet: nothing is
   compressed here). Returns 0; 1 (*digest NULL) when the layout is this image's but its
   layer tars are gone (build --lean: nothing to compress); -1 with err. */
int certify_manifest_digest (const char *tag, const char *image_id, char **digest, struct strbuf *err);
/* The line certify prints for the 1 above (stderr). */
void certify_lean_note (const char *tag);
/* The manifest digest image_id's certificate names (NULL: none, or no certificate). */
char *certificate_manifest_digest (const char *image_id);
/* Write digest (NULL: null) as the manifest digest of image_id's existing certificate. Returns 0,
   or -1 with err. */
int certificate_set_manifest_digest (const char *image_id, const char *digest, struct strbuf *err);
/* Publish's gate on the digest: image_id's certificate must name digest ("sha256:…"), the push
   manifest publish is about to put. Returns 0, or -1 with e (ERR_INVALID) in one line: the
   certificate names no manifest digest (publish then records it), or another one. */
int certificate_digest_check (const char *image_id, const char *digest, struct error *e);

void certify_result_release (struct certify_result *r);

#endif
