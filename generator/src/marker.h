/* marker.h: PEP 508 environment markers ("platform_system == 'Linux' and python_version <
   '3.13'"), evaluated for the image's target: Linux, x86_64, CPython at a given version. */
#ifndef PCGEN_MARKER_H
#define PCGEN_MARKER_H

#include "strbuf.h"

struct marker_env
{
  const char *python_version; /* "3.11" */
  const char *python_full_version; /* "3.11.2" */
};

/* 1 if the marker holds, 0 if not, -1 when it cannot be parsed (message in err).
   Markers that test `extra` are false: pcgen installs no extras. */
int marker_eval (const char *marker, const struct marker_env *env, struct strbuf *err);

#endif
