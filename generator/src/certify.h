/* certify.h: run the in-image verifier in a built image and keep its certificate.
   A certificate belongs to one image ID: results/certificates/<image id hex>.json. A rebuilt
   image has another ID, so it is not certified until it is verified again. */
#ifndef PCGEN_CERTIFY_H
#define PCGEN_CERTIFY_H

#include "plan.h"
#include "strbuf.h"

struct certify_result
{
  char *image_id;
  char *level;   /* "static" or "gpu" */
  char *result;  /* "certified" or "failed" */
  char *failed_checks; /* names of the checks that failed, comma-separated */
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

void certify_result_release (struct certify_result *r);

#endif
