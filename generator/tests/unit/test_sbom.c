/* test_sbom.c: the SPDX document (sbom.h): license expressions pcgen vouches for and those it
   turns into NOASSERTION, the license read from METADATA, the dpkg status parser, and the
   document itself: required SPDX 2.3 fields, purls, idstrings, the same bytes twice, a
   namespace that follows the content. pyspdxtools validates real documents in tests/writer. */
#include "check.h"
#include "sbom.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>

static void
test_license_valid (void)
{
  CHECK (sbom_license_valid ("MIT"));
  CHECK (sbom_license_valid ("BSD-3-Clause"));
  CHECK (sbom_license_valid ("Apache-2.0 OR BSD-2-Clause"));
  CHECK (sbom_license_valid ("(MIT OR Apache-2.0) AND BSD-3-Clause"));
  CHECK (sbom_license_valid ("GPL-2.0-or-later WITH Classpath-exception-2.0"));
  CHECK (sbom_license_valid ("Apache-2.0 WITH LLVM-exception"));
  CHECK (sbom_license_valid ("LGPL-2.1-only+"));
  /* PyPI's free text, unknown ids, references no document defines, bad grammar */
  CHECK (!sbom_license_valid ("BSD 3-Clause License"));
  CHECK (!sbom_license_valid ("BSD"));
  CHECK (!sbom_license_valid ("BSD-3"));
  CHECK (!sbom_license_valid ("Apache 2.0"));
  CHECK (!sbom_license_valid ("NVIDIA Proprietary Software"));
  CHECK (!sbom_license_valid ("LicenseRef-NVIDIA-Proprietary"));
  CHECK (!sbom_license_valid ("mit"));
  CHECK (!sbom_license_valid ("MIT and BSD-3-Clause"));
  CHECK (!sbom_license_valid ("MIT OR"));
  CHECK (!sbom_license_valid ("(MIT"));
  CHECK (!sbom_license_valid ("MIT)"));
  CHECK (!sbom_license_valid ("MIT WITH MIT"));
  CHECK (!sbom_license_valid (""));
  CHECK (!sbom_license_valid ("UNKNOWN"));
  CHECK (!sbom_license_valid ("(((((((((((((((((((MIT)))))))))))))))))))"));
}

static void
check_meta (const char *meta, const char *want)
{
  char *got = sbom_metadata_license (meta);
  if (want == NULL)
    {
      CHECK (got == NULL);
      if (got)
        fprintf (stderr, "  got '%s' from:\n%s\n", got, meta);
    }
  else
    CHECK_STR (got, want);
  free (got);
}

static void
test_metadata_license (void)
{
  /* PEP 639 first, then License when it is an expression, then one exact classifier */
  check_meta ("Metadata-Version: 2.4\nName: packaging\nLicense-Expression: Apache-2.0 OR BSD-2-Clause\n"
              "License: whatever\n\nbody\n",
              "Apache-2.0 OR BSD-2-Clause");
  check_meta ("Name: torch\nLicense: BSD-3-Clause\nClassifier: License :: OSI Approved :: BSD License\n\n",
              "BSD-3-Clause");
  check_meta ("Name: torch\nLicense: BSD-3\nClassifier: License :: OSI Approved :: BSD License\n\n", NULL);
  check_meta ("Name: traitlets\nLicense: BSD 3-Clause License\n\n", NULL);
  check_meta ("Name: nvidia-cudnn-cu12\nLicense: LicenseRef-NVIDIA-Proprietary\n"
              "Classifier: License :: Other/Proprietary License\n\n",
              NULL);
  check_meta ("Name: triton\nClassifier: Programming Language :: C++\nClassifier: License :: OSI Approved :: MIT License\n\n",
              "MIT");
  check_meta ("Name: nest\r\nLicense: BSD\r\nClassifier: License :: OSI Approved :: MIT License\r\n\r\n", "MIT");
  /* two license classifiers: which one is not said */
  check_meta ("Name: x\nClassifier: License :: OSI Approved :: MIT License\n"
              "Classifier: License :: OSI Approved :: Apache Software License\n\n",
              NULL);
  /* the body is not the header */
  check_meta ("Name: x\n\nLicense: MIT\n", NULL);
  check_meta ("", NULL);
}

static void
test_dpkg (void)
{
  const char *status = "Package: libc6\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
                       "Version: 2.36-9+deb12u10\nDescription: GNU C Library\n multi-line\n .\n text\n\n"
                       "Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0\n\n"
                       "Package: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 2025b-0+deb12u1\n";
  struct sbom_dpkg *d = NULL;
  size_t n = 0;
  CHECK_INT (sbom_dpkg_parse (status, &d, &n), 0);
  CHECK_INT (n, 2);
  if (n == 2)
    {
      CHECK_STR (d[0].name, "libc6");
      CHECK_STR (d[0].version, "2.36-9+deb12u10");
      CHECK_STR (d[0].arch, "amd64");
      CHECK_STR (d[1].name, "tzdata");
      CHECK_STR (d[1].arch, "all");
    }
  sbom_dpkg_free (d, n);
  CHECK_INT (sbom_dpkg_parse ("", &d, &n), 0);
  CHECK_INT (n, 0);
  sbom_dpkg_free (d, n);
}

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static json_t *
find_package (json_t *doc, const char *id)
{
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get (doc, "packages"), i, p)
  if (strcmp (json_string_value (json_object_get (p, "SPDXID")), id) == 0)
    return p;
  return NULL;
}

static const char *
str_at (json_t *o, const char *key)
{
  return json_string_value (json_object_get (o, key));
}

static void
test_document (void)
{
  struct sbom_package p[] = {
    { SBOM_BASE, "debian-bookworm", "0123456789ab", NULL, SHA_A, NULL, NULL, NULL },
    { SBOM_DPKG, "libc6", "2.36-9+deb12u10", "amd64", NULL, NULL, NULL, NULL },
    { SBOM_DPKG, "libc6", "2.36-9+deb12u10", "amd64", NULL, NULL, NULL, NULL }, /* the same id twice */
    { SBOM_DEB, "gcc-12", "12.2.0-14", "amd64", SHA_B, "http://deb.debian.org/debian/pool/main/g/gcc-12/x.deb", NULL,
      "x.deb" },
    { SBOM_WHEEL, "torch", "2.6.0+cu124", NULL, SHA_A, "https://files.pythonhosted.org/packages/cp311/t/torch/t.whl",
      "BSD-3-Clause", "t.whl" },
    { SBOM_WHEEL, "traitlets", "5.16.1", NULL, SHA_B, NULL, "BSD 3-Clause License", NULL },
    { SBOM_NVIDIA, "cuda_nvcc", "12.1.105", NULL, SHA_B, "https://developer.download.nvidia.com/compute/cuda/redist/x",
      NULL, "x" },
  };
  struct sbom_input in = { "myrepo/pytorch-cuda:2.6.0-cuda12.4-cudnn9-runtime", "2.6.0-cuda12.4-cudnn9-runtime",
                           "1970-01-01T00:00:01Z", "pcgen-0.1.0", p, ARRAY_SIZE (p) };
  struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, err = STRBUF_INIT;
  CHECK_INT (sbom_document (&in, &a, &err), 0);
  CHECK_INT (sbom_document (&in, &b, &err), 0);
  CHECK_STR (a.buf, b.buf); /* the same bytes for the same inputs */
  CHECK (a.len > 0 && a.buf[a.len - 1] == '\n');
  json_error_t je;
  json_t *doc = json_loads (a.buf, 0, &je);
  CHECK (doc != NULL);
  if (doc == NULL)
    return;
  CHECK_STR (str_at (doc, "spdxVersion"), "SPDX-2.3");
  CHECK_STR (str_at (doc, "dataLicense"), "CC0-1.0");
  CHECK_STR (str_at (doc, "SPDXID"), "SPDXRef-DOCUMENT");
  CHECK_STR (str_at (doc, "name"), "myrepo/pytorch-cuda:2.6.0-cuda12.4-cudnn9-runtime");
  cleanup_free char *ns = xstrdup (str_at (doc, "documentNamespace") ? str_at (doc, "documentNamespace") : "");
  CHECK (strncmp (ns, SBOM_NAMESPACE_PREFIX "2.6.0-cuda12.4-cudnn9-runtime-", strlen (SBOM_NAMESPACE_PREFIX) + 30) == 0);
  CHECK_STR (str_at (json_object_get (doc, "creationInfo"), "created"), "1970-01-01T00:00:01Z");
  CHECK_STR (json_string_value (json_array_get (json_object_get (json_object_get (doc, "creationInfo"), "creators"), 0)),
             "Tool: pcgen-0.1.0");
  CHECK_INT (json_array_size (json_object_get (doc, "packages")), 1 + ARRAY_SIZE (p));
  CHECK_INT (json_array_size (json_object_get (doc, "relationships")), 1 + ARRAY_SIZE (p));
  json_t *r0 = json_array_get (json_object_get (doc, "relationships"), 0);
  CHECK_STR (str_at (r0, "relationshipType"), "DESCRIBES");
  CHECK_STR (str_at (r0, "spdxElementId"), "SPDXRef-DOCUMENT");
  CHECK_STR (str_at (r0, "relatedSpdxElement"), "SPDXRef-image");
  json_t *img = find_package (doc, "SPDXRef-image");
  CHECK (img != NULL);
  CHECK_STR (str_at (img, "primaryPackagePurpose"), "CONTAINER");
  /* idstrings: letters, digits, '.', '-' only; a second libc6 gets -2 */
  CHECK (find_package (doc, "SPDXRef-dpkg-libc6-2.36-9-deb12u10-amd64") != NULL);
  CHECK (find_package (doc, "SPDXRef-dpkg-libc6-2.36-9-deb12u10-amd64-2") != NULL);
  json_t *torch = find_package (doc, "SPDXRef-pypi-torch-2.6.0-cu124");
  CHECK (torch != NULL);
  if (torch)
    {
      CHECK_STR (str_at (torch, "licenseDeclared"), "BSD-3-Clause");
      CHECK_STR (str_at (torch, "licenseConcluded"), "NOASSERTION"); /* pcgen analyses no file */
      CHECK_STR (str_at (torch, "packageFileName"), "t.whl");
      CHECK_STR (str_at (torch, "downloadLocation"), "https://files.pythonhosted.org/packages/cp311/t/torch/t.whl");
      CHECK (json_is_false (json_object_get (torch, "filesAnalyzed")));
      json_t *c = json_array_get (json_object_get (torch, "checksums"), 0);
      CHECK_STR (str_at (c, "algorithm"), "SHA256");
      CHECK_STR (str_at (c, "checksumValue"), SHA_A);
      json_t *ref = json_array_get (json_object_get (torch, "externalRefs"), 0);
      CHECK_STR (str_at (ref, "referenceType"), "purl");
      CHECK_STR (str_at (ref, "referenceLocator"), "pkg:pypi/torch@2.6.0%2Bcu124");
    }
  json_t *tl = find_package (doc, "SPDXRef-pypi-traitlets-5.16.1");
  CHECK (tl != NULL);
  if (tl) /* free text is not an SPDX expression */
    {
      CHECK_STR (str_at (tl, "licenseDeclared"), "NOASSERTION");
      CHECK_STR (str_at (tl, "downloadLocation"), "NOASSERTION");
    }
  json_t *gcc = find_package (doc, "SPDXRef-deb-gcc-12-12.2.0-14");
  CHECK (gcc != NULL);
  if (gcc)
    CHECK_STR (str_at (json_array_get (json_object_get (gcc, "externalRefs"), 0), "referenceLocator"),
               "pkg:deb/debian/gcc-12@12.2.0-14?arch=amd64");
  json_t *libc = find_package (doc, "SPDXRef-dpkg-libc6-2.36-9-deb12u10-amd64");
  if (libc) /* no checksum known: none written (SPDX 2.3 packages may have none) */
    CHECK (json_object_get (libc, "checksums") == NULL);
  json_t *nv = find_package (doc, "SPDXRef-nvidia-cuda-nvcc-12.1.105");
  CHECK (nv != NULL);
  if (nv)
    CHECK (json_object_get (nv, "externalRefs") == NULL);
  /* keys sorted: "SPDXID" (uppercase) sorts before "creationInfo" */
  CHECK (strstr (a.buf, "\"SPDXID\"") < strstr (a.buf, "\"creationInfo\""));
  json_decref (doc);

  /* another package, another namespace; another time, another `created` */
  p[5].version = "5.16.2";
  strbuf_reset (&b);
  CHECK_INT (sbom_document (&in, &b, &err), 0);
  json_t *doc2 = json_loads (b.buf, 0, &je);
  CHECK (doc2 && strcmp (str_at (doc2, "documentNamespace"), ns) != 0);
  json_decref (doc2);
  strbuf_release (&a);
  strbuf_release (&b);
  strbuf_release (&err);
}

int
main (void)
{
  test_license_valid ();
  test_metadata_license ();
  test_dpkg ();
  test_document ();
  return check_summary ("sbom");
}
