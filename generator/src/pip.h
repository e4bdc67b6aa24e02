/* pip.h: wheels come through `pip download`, the ordinary client, so the user's index, proxy,
   certificates and credentials (pip.conf, PIP_* variables, netrc) apply. pcgen always asks for
   exact binary wheels for the image's platform: --only-binary=:all: --no-deps --platform ...
   --python-version X.Y --implementation cp. */
#ifndef PCGEN_PIP_H
#define PCGEN_PIP_H

#include "strbuf.h"

struct pip_source
{
  const char *kind;  /* "pypi" (the user's pip configuration), "index" or "wheelhouse" */
  const char *where; /* index URL or folder */
};

/* How pip failed, read from what it printed. */
enum pip_failure
{
  PIP_FAILED = -1,      /* anything else: pip's last error line */
  PIP_UNREACHABLE = -2, /* the index (or wheelhouse) could not be reached */
  PIP_NOT_FOUND = -3,   /* reached, but no wheel of that name and version for the platform */
  PIP_HASH = -4,        /* the bytes differ from the sha256 the index lists */
};

/* Download the wheels of `specs` ("name==1.2", "name>=4.10") into dest (an empty folder).
   Returns 0, or a negative enum pip_failure with one line in err: what was asked, from where,
   and why (pip's multi-line report condensed). With PIP_NOT_FOUND, *missing (when not NULL)
   is the requirement pip named (the caller frees it). */
int pip_download (const char *const *specs, size_t nspecs, const struct pip_source *src,
                  const char *python, const char *dest, char **missing, struct strbuf *err);

/* Condense pip's output (stderr, then stdout) into one line appended to `line`; returns the
   enum pip_failure it shows and, for PIP_NOT_FOUND, the requirement in *missing. */
int pip_explain (const char *output, struct strbuf *line, char **missing);

/* "torch-2.6.0-cp311-cp311-manylinux1_x86_64.whl" -> name "torch", version "2.6.0" (the name
   normalized as PEP 503 does). Returns 0, or -1 if it is not a wheel file name. */
int wheel_file_name (const char *file, char **name, char **version);

/* PEP 503 normalization: lowercase, runs of '-', '_', '.' as one '-'. */
char *pep503_name (const char *name);

#endif
