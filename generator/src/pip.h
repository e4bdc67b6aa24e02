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

/* Download the wheels of `specs` ("name==1.2", "name>=4.10") into dest (an empty folder).
   Returns 0, or -1 with pip's own last lines and the setting that would fix it in err. */
int pip_download (const char *const *specs, size_t nspecs, const struct pip_source *src,
                  const char *python, const char *dest, struct strbuf *err);

/* "torch-2.6.0-cp311-cp311-manylinux1_x86_64.whl" -> name "torch", version "2.6.0" (the name
   normalized as PEP 503 does). Returns 0, or -1 if it is not a wheel file name. */
int wheel_file_name (const char *file, char **name, char **version);

/* PEP 503 normalization: lowercase, runs of '-', '_', '.' as one '-'. */
char *pep503_name (const char *name);

#endif
