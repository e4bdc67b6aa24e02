/* certify.h: run the in-image verifier in a built image and keep its certificate.
   A certificate belongs to one image ID: results/certificates/<image id hex>.json. A rebuilt
   image has another ID, so it is not certified until it is verified again. */
#ifndef PCGEN_CERTIFY_H
#define PCGEN_CERTIFY_H

#include "error.h"
#include "plan.h"
#include "strbuf.h"

/* A certificate's words, as the verifier writes them (verify/main.c, verify/report.c), each an
   enum with one name table (certify.c): E_name gives the word, E_parse reads it back (-1: a
   word this pcgen does not know, which is never taken for a pass). */
enum cert_verdict /* "result" */
{
  VERDICT_CERTIFIED,
  VERDICT_FAILED,
};
enum cert_level /* "level": the verifier saw no usable GPU, or ran on one */
{
  LEVEL_STATIC,
  LEVEL_GPU,
};
enum check_status /* each of "checks"' "status" */
{
  CHECK_STATUS_PASS,
  CHECK_STATUS_FAIL,
  CHECK_STATUS_SKIP,
};
const char *cert_verdict_name (enum cert_verdict v);
int cert_verdict_parse (const char *word);
const char *cert_level_name (enum cert_level l);
int cert_level_parse (const char *word);
const char *check_status_name (enum check_status s);
int check_status_parse (const char *word);
/* A parsed verdict's or level's word, "?" for -1 (a word pcgen does not know). */
const char *cert_verdict_word (int v);
const char *cert_level_word (int l);

struct certify_result
{
  char *image_id;
  int level;   /* enum cert_level; -1: a word pcgen does not know */
  int verdict; /* enum cert_verdict; -1 the same */
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

/* The path of the certificate of an image ID (sha256:...). */
char *certificate_path (const char *image_id);

/* A certificate as pcgen reads it back: read once, then asked (certificate_check, the digest
   gate). */
struct certificate
{
  char *path;
  int verdict; /* enum cert_verdict; -1: none or a word pcgen does not know */
  int level;   /* enum cert_level; -1 the same */
  char *failed_checks;   /* comma-separated, "" for none */
  char *manifest_digest; /* NULL: none named (null or absent) */
};
/* image_id's certificate into c (released with certificate_release whatever the result).
   Returns 1 when it is read and names image_id; 0 with the reason in why when there is none,
   it is unreadable or it is another image's. */
int certificate_load (const char *image_id, struct certificate *c, struct strbuf *why);
void certificate_release (struct certificate *c);
/* Whether a loaded certificate passed; why says what it says when not. */
int certificate_passed_as (const struct certificate *c, struct strbuf *why);
/* Load and ask at once: image_id has a certificate that passed (why: the reason when not). */
int certificate_check (const char *image_id, struct certificate *c, struct strbuf *why);
int certificate_passed (const char *image_id);

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
/* Write digest (NULL: null) as the manifest digest of image_id's existing certificate. Returns 0,
   or -1 with err. */
int certificate_set_manifest_digest (const char *image_id, const char *digest, struct strbuf *err);
/* Publish's gate on the digest: the certificate must name digest ("sha256:…"), the push manifest
   publish is about to put. Returns 0, or -1 with e (ERR_INVALID) in one line: the certificate
   names no manifest digest (publish then records it), or another one. */
int certificate_digest_check (const struct certificate *c, const char *digest, struct error *e);

void certify_result_release (struct certify_result *r);

#endif
