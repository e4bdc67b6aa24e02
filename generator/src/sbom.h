/* sbom.h: the image's bill of materials, an SPDX 2.3 JSON document (docs/sbom.md): every wheel,
   Debian package (the base's dpkg status included) and NVIDIA redist archive in a tag's image,
   with version, sha256 (where pcgen pins one), license (where the wheel's METADATA gives a valid
   SPDX expression) and download location. pcgen build puts it in the image at SBOM_IMAGE_PATH
   (a COPY of the build context's sbom.spdx.json, templates/partials/verify.tmpl) and beside the
   writer's layout, build/oci/<tag>/sbom.spdx.json.
   The bytes are a function of the inputs alone: keys sorted, packages in input order, `created`
   from oci_created(), the documentNamespace from the tag and a digest of the rest (no UUID), so
   the image ID stays reproducible. */
#ifndef PCGEN_SBOM_H
#define PCGEN_SBOM_H

#include <stddef.h>

#include "lock.h"
#include "plan.h"
#include "strbuf.h"

#define SBOM_IMAGE_PATH "/usr/share/doc/pytorch-cuda/sbom.spdx.json"
#define SBOM_FILE "sbom.spdx.json"
/* Where pcgen build keeps a tag's document between staging and the build context. */
#define SBOM_BUILD_FMT "build/sbom/%s.spdx.json"
#define SBOM_NAMESPACE_PREFIX "https://example.invalid/pytorch-cuda/spdx/"

enum sbom_kind
{
  SBOM_WHEEL,  /* a PyPI wheel */
  SBOM_DEB,    /* a Debian package pcgen pins (bases.yaml, cuda.yaml) and unpacks into a layer */
  SBOM_DPKG,   /* a package of the base's dpkg status (installed by mmdebstrap) */
  SBOM_NVIDIA, /* an NVIDIA redist archive (.tar.xz) */
  SBOM_BASE,   /* the base's root file system tar (mmdebstrap) */
};

struct sbom_package
{
  enum sbom_kind kind;
  const char *name;
  const char *version;
  const char *arch;     /* SBOM_DEB/SBOM_DPKG: "amd64", "all"; NULL: amd64 */
  const char *sha256;   /* NULL: none known (dpkg status has none) */
  const char *download; /* a URL, or NULL: NOASSERTION */
  const char *license;  /* declared: a valid SPDX expression (sbom_license_valid), or NULL: NOASSERTION */
  const char *file;     /* the file pcgen took (packageFileName), or NULL */
};

struct sbom_input
{
  const char *image;   /* myrepo/pytorch-cuda:2.6.0-cuda12.4-cudnn9-runtime */
  const char *tag;     /* 2.6.0-cuda12.4-cudnn9-runtime */
  const char *created; /* oci_created() */
  const char *tool;    /* "pcgen-0.1.0" */
  const struct sbom_package *p;
  size_t n;
};

/* The document, pretty-printed with sorted keys and a final newline, into out. A license that
   is not a valid expression is written as NOASSERTION. Returns 0, or -1 with err. */
int sbom_document (const struct sbom_input *in, struct strbuf *out, struct strbuf *err);

/* Whether s is an SPDX license expression pcgen can vouch for: ids of the short list in sbom.c
   (the licenses PyPI's wheels name; anything else is NOASSERTION, never a wrong id), an optional
   '+', WITH one of the list's exceptions, AND/OR, parentheses. */
int sbom_license_valid (const char *s);

/* The license of a wheel's METADATA as an SPDX expression, or NULL: License-Expression (PEP
   639), else License when it is a valid expression, else one unambiguous license Classifier. */
char *sbom_metadata_license (const char *metadata);

/* The installed packages of a dpkg status file (Status: install ok installed): name, version and
   architecture, into *out (n entries; strings owned by the array, freed by sbom_dpkg_free). */
struct sbom_dpkg
{
  char *name, *version, *arch;
};
int sbom_dpkg_parse (const char *status, struct sbom_dpkg **out, size_t *n);
void sbom_dpkg_free (struct sbom_dpkg *d, size_t n);

/* The document of tag t: the base (its root file system tar and dpkg status), the base's pinned
   Debian packages of t's flavor, every entry of the torch set ts and of the second set ds (devel,
   notebook; NULL for runtime), their licenses read from the cached wheels (or, for a wheel gone from the
   cache, from the cache's note of its license: docs/building.md, "What a cold run reuses"). Written to
   SBOM_BUILD_FMT; offline as for base_rootfs. Returns 0, or -1 with err. */
int sbom_write_for_tag (const struct ptag *t, const struct lockset *ts, const struct lockset *ds, int offline,
                        struct strbuf *err);

#endif
