/* pip.h: wheels are resolved by pip's own resolver (`pip install --dry-run --report`) and come
   through `pip download`, the ordinary client, so the user's index, proxy, certificates and
   credentials (pip.conf, PIP_* variables, netrc) apply. pcgen always asks for binary wheels for
   the image's platform: --only-binary=:all: --platform ... --python-version X.Y
   --implementation cp, where the platforms are every manylinux tag glibc 2.36 runs and
   `linux_x86_64`, the tag PyTorch's own index gives its wheels through 2.6
   (torch-2.4.1+cu118-cp311-cp311-linux_x86_64.whl): x86_64 wheels only, tagged either way. */
#ifndef PCGEN_PIP_H
#define PCGEN_PIP_H

#include "kinds.h"
#include "strbuf.h"

struct pip_source
{
  enum source_kind kind; /* pypi (the user's pip configuration), index or wheelhouse */
  const char *where; /* index URL or folder */
  int fallback;      /* also pip's own index (for what an index or a wheelhouse lacks) */
};

/* One wheel of pip's report: what it resolved, and where and what bytes pip would take. */
struct pip_wheel
{
  char *name;    /* PEP 503 name */
  char *version; /* as the wheel states it: "2.4.1+cu118" */
  char *url;     /* download_info.url (credentials redacted by pip) */
  char *file;    /* the URL's last segment, percent-decoded: torch-2.4.1+cu118-...whl */
  char *sha256;  /* download_info.archive_info.hashes.sha256, or NULL when the index lists none */
  char *requires_dist; /* metadata.requires_dist, one per line, or NULL */
};

/* A pin to download: name==version, with its sha256 when known (then pip takes exactly the file
   with that digest: hash-checking mode). */
struct pip_pin
{
  const char *name, *version, *sha256;
};

/* How pip failed, read from what it printed. */
enum pip_failure
{
  PIP_FAILED = -1,      /* anything else: pip's last error line */
  PIP_UNREACHABLE = -2, /* the index (or wheelhouse) could not be reached */
  PIP_NOT_FOUND = -3,   /* reached, but no wheel of that name and version for the platform */
  PIP_HASH = -4,        /* the bytes differ from the sha256 the index lists */
};

/* Resolve `specs` ("torch==2.4.1", "numpy==2.1.2") and everything they require with pip's
   resolver (`pip install --dry-run --ignore-installed --report`), as pip would install them into
   an image with this Python. *out gets every wheel of the report (*n of them; free with
   pip_wheels_free). Returns 0, or a negative enum pip_failure with one line in err (a
   requirement that cannot be met names what required it); with PIP_NOT_FOUND, *missing (when
   not NULL) is the requirement pip named. */
int pip_resolve (const char *const *specs, size_t nspecs, const struct pip_source *src, const char *python,
                 int no_deps, struct pip_wheel **out, size_t *n, char **missing, struct strbuf *err);
void pip_wheels_free (struct pip_wheel *w, size_t n);

/* Read pip's installation report (JSON, version 1) into *out. Returns 0, or -1 with err. */
int pip_report_parse (const char *json, struct pip_wheel **out, size_t *n, struct strbuf *err);

/* Download the pinned wheels into dest (an empty folder). Pins with a sha256 are asked in pip's
   hash-checking mode, so pip takes the file with that digest and verifies it. Returns 0, or a
   negative enum pip_failure with one line in err: what was asked, from where, and why (pip's
   multi-line report condensed). With PIP_NOT_FOUND, *missing (when not NULL) is the
   requirement pip named (the caller frees it). */
int pip_download (const struct pip_pin *pins, size_t npins, const struct pip_source *src, const char *python,
                  const char *dest, char **missing, struct strbuf *err);

/* Condense pip's output (stderr, then stdout) into one line appended to `line`; returns the
   enum pip_failure it shows and, for PIP_NOT_FOUND, the requirement in *missing. */
int pip_explain (const char *output, struct strbuf *line, char **missing);

/* "torch-2.6.0-cp311-cp311-manylinux1_x86_64.whl" -> name "torch", version "2.6.0" (the name
   normalized as PEP 503 does). Returns 0, or -1 if it is not a wheel file name. */
int wheel_file_name (const char *file, char **name, char **version);

/* "torch-2.4.1%2Bcu118-cp311-cp311-linux_x86_64.whl" -> "torch-2.4.1+cu118-...": %XX decoded. */
char *url_decode (const char *s);

/* PEP 503 normalization: lowercase, runs of '-', '_', '.' as one '-'. */
char *pep503_name (const char *name);

/* The PEP 503 name of a requirement ("typing-extensions>=4.10.0", "MarkupSafe>=2.0"): what pip
   names with PIP_NOT_FOUND. */
char *pip_requirement_name (const char *spec);

#endif
