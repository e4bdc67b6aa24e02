/* test_core.c: the pieces under the matrix loader: versions, edit distance, the YAML tree
   with its marks, the knowledge base, and the plan built from a matrix. */
#include "check.h"
#include "fsutil.h"
#include "kb.h"
#include "matrix.h"
#include "plan.h"
#include "schema.h"
#include "util.h"
#include "ytree.h"

#include <stdlib.h>

static void
test_version_cmp (void)
{
  CHECK (version_cmp ("12.4", "12.10") < 0);
  CHECK (version_cmp ("525.60.13", "530.30.02") < 0);
  CHECK (version_cmp ("550.54.14", "550.54.14") == 0);
  CHECK (version_cmp ("570.26", "570.26.0") == 0);
  CHECK (version_cmp ("2.10.0", "2.9.1") > 0);
  CHECK (version_cmp ("3.11", "3.9") > 0);
}

static void
test_nearest (void)
{
  static const char *const keys[] = { "repository", "flavors", "torch", "cuda", NULL };
  CHECK_STR (nearest ("flavours", keys), "flavors");
  CHECK_STR (nearest ("repo", keys) ? nearest ("repo", keys) : "(none)", "(none)");
  CHECK_STR (nearest ("cdua", keys), "cuda");
  CHECK_INT (levenshtein ("kitten", "sitting"), 3);
  CHECK_INT (levenshtein ("", "abc"), 3);
}

static void
test_ytree_marks (void)
{
  struct diags d = DIAGS_INIT;
  struct ynode *root;
  const char *y = "a: 1\nlist:\n  - \"x y\"\n  - z\nmap: {k: v}\n";
  CHECK_INT (ytree_parse ("t.yaml", y, strlen (y), &root, &d), 0);
  CHECK_INT (root->kind, Y_MAP);
  struct ynode *list = ymap_get (root, "list");
  CHECK_INT (list->kind, Y_SEQ);
  CHECK_INT (list->n, 2);
  CHECK_STR (list->kids[0]->str, "x y");
  CHECK_INT (list->kids[0]->mark.line, 3);
  CHECK_INT (list->kids[0]->mark.col, 5);
  CHECK_INT (list->kids[0]->mark.len, 5); /* the quotes included */
  CHECK_INT (list->kids[0]->plain, 0);
  CHECK_INT (list->kids[1]->plain, 1);
  CHECK_STR (ystr (ymap_get (root, "map"), "k"), "v");
  CHECK (ymap_get (root, "nosuch") == NULL);
  ynode_free (root);

  /* 12.10 stays text: never the float 12.1. */
  const char *f = "v: 12.10\n";
  CHECK_INT (ytree_parse ("t.yaml", f, strlen (f), &root, &d), 0);
  CHECK_STR (ystr (root, "v"), "12.10");
  ynode_free (root);

  const char *dup = "a: 1\nb: 2\na: 3\n";
  CHECK_INT (ytree_parse ("t.yaml", dup, strlen (dup), &root, &d), -1);
  CHECK_INT (d.n, 1);
  CHECK_STR (d.v[0].msg, "duplicate key 'a' (first at line 1, column 1)");
  CHECK_INT (d.v[0].mark.line, 3);
  diags_release (&d);

  CHECK_INT (ytree_parse ("t.yaml", "", 0, &root, &d), 0);
  CHECK (root == NULL);
}

static struct kb kb;

static int
plan_of (const char *y, struct matrix *m, struct plan *p, struct diags *d)
{
  if (matrix_load_text ("m.yaml", y, strlen (y), m, d) < 0)
    return -1;
  return plan_build (m, &kb, p, d);
}

static void
test_kb (void)
{
  const struct kb_torch *t = kb_torch_find (&kb, "2.6");
  CHECK (t != NULL);
  CHECK_STR (t ? t->version : NULL, "2.6.0");
  CHECK (kb_torch_find (&kb, "2.9")->patch == 1); /* newest 2.9.x */
  CHECK (kb_torch_find (&kb, "2") == NULL);
  CHECK (kb_variant_find (kb_torch_find (&kb, "2.9.0"), "11.8") == NULL);
  CHECK_STR (kb_cuda_find (&kb, "11.8")->min_driver, "520.61.05");
  CHECK_STR (kb_cuda_find (&kb, "12.4")->compat_floor, "525.60.13");
  /* CUDA 11.8 targets sm_90 (the H100). */
  const struct kb_cuda *c118 = kb_cuda_find (&kb, "11.8");
  int has90 = 0;
  for (size_t i = 0; i < c118->narchs; i++)
    has90 |= c118->archs[i] == 90;
  CHECK (has90);
  CHECK_INT (kb_parse_cc ("sm_90"), 90);
  CHECK_INT (kb_parse_cc ("8.6"), 86);
  CHECK_INT (kb_parse_cc ("120"), 120);
  CHECK_INT (kb_parse_cc ("sm_x"), -1);
  CHECK_INT (kb_gpu_find (&kb, "rtx-4090")->cc, 89);
  /* The pins were read from the real wheel's METADATA. */
  const struct kb_variant *v = kb_variant_find (kb_torch_find (&kb, "2.6.0"), "12.4");
  CHECK_STR (kb_pin_find (v->pins, v->npins, "nvidia-cublas-cu12"), "12.4.5.8");
  CHECK_STR (kb_pin_find (v->pins, v->npins, "nvidia-cudnn-cu12"), "9.1.0.70");
  /* nvcc's sources, in order of preference (docs/nvcc.md): Debian trixie for 12.4, bookworm
     (then the redist) and GCC 11 for 11.8, NVIDIA's redist for 12.1 and 12.8, PyPI for 13.0. */
  const struct kb_cuda *c124 = kb_cuda_find (&kb, "12.4");
  CHECK (c124->nvcc == &c124->nvcc_sources[0]);
  CHECK_INT (c124->nvcc->kind, NVCC_DEBIAN);
  CHECK_INT (c124->nvcc->nfiles, 2);
  CHECK_STR (c124->nvcc->version, "12.4.131");
  CHECK_STR (c124->nvcc->source, "debian-trixie-non-free");
  CHECK_STR (c124->nvcc->files[0].name, "nvidia-cuda-toolkit");
  CHECK_STR (c124->nvcc->files[0].version, "12.4.131~12.4.1-2");
  CHECK_INT (c124->nvcc->files[0].size, 87240108);
  CHECK_STR (c124->nvcc->files[1].sha256, "d846838f914a0176948d48a8bcade5d6dbcccb5c9374343f6475f5503f173ee0");
  CHECK_INT (c124->nvcc->files[1].size, 933853452ULL);
  CHECK (c124->host_compiler == NULL);
  const struct kb_cuda *c121 = kb_cuda_find (&kb, "12.1");
  CHECK_INT (c121->nvcc->kind, NVCC_REDIST);
  CHECK_STR (c121->nvcc->release, "12.1.1");
  CHECK_STR (c121->nvcc->files[0].path, "cuda_nvcc/linux-x86_64/cuda_nvcc-linux-x86_64-12.1.105-archive.tar.xz");
  CHECK_STR (c121->nvcc->files[0].sha256, "0b85f7eee17788abbd170b0b493c74ce2e9fd5a9604461b99c2c378165e1083b");
  CHECK_INT (c121->nvcc->files[0].size, 44459684);
  CHECK_INT (c118->nnvcc_sources, 2);
  CHECK_INT (c118->nvcc->kind, NVCC_DEBIAN);
  CHECK_INT (c118->nvcc_sources[1].kind, NVCC_REDIST);
  CHECK_STR (c118->nvcc_sources[1].files[0].sha256, "7ee8450dbcc16e9fe5d2a7b567d6dec220c5894a94ac6640459e06231e3b39a5");
  CHECK_INT (c118->nvcc_sources[1].files[0].size, 43230952);
  CHECK (c118->host_compiler != NULL);
  if (c118->host_compiler)
    CHECK_STR (c118->host_compiler->ccbin, "/usr/bin/g++-11");
  CHECK_STR (kb_cuda_find (&kb, "12.8")->nvcc->files[0].sha256,
             "9961b3484b6b71314063709a4f9529654f96782ad39e72bf1e00f070db8210d3");
  /* CUDA 13's nvcc comes from PyPI's wheels, pinned like the other sources (path: the file). */
  const struct kb_cuda *c130 = kb_cuda_find (&kb, "13.0");
  CHECK_INT (c130->nnvcc_sources, 1);
  CHECK (c130->nvcc == &c130->nvcc_sources[0]);
  CHECK_INT (c130->nvcc->kind, NVCC_PYPI);
  CHECK_INT (c130->nvcc->nfiles, 4);
  CHECK_STR (c130->nvcc->files[0].name, "nvidia-cuda-nvcc");
  CHECK_STR (c130->nvcc->files[0].path, "nvidia_cuda_nvcc-13.0.88-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl");
  CHECK_STR (c130->nvcc->files[0].sha256, "56fe502eb77625a12f25172caa3cdddb4e4c8ba2c8c17dba44b164761b380f03");
  CHECK_INT (c130->nvcc->files[0].size, 37384532);
  CHECK_STR (c130->nvcc->files[3].version, "13.0.85");
  CHECK_STR (kb_cuda_find (&kb, "13.2")->nvcc->version, "13.2.86");
  CHECK (kb_cuda_find (&kb, "12.2")->nvcc == NULL);
}

/* The wheel file name convention (packaging.python.org, "Binary distribution format", "File
   name convention": {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform
   tag}.whl, the name's '-' written '_', a compressed tag set joined by '.'), on PyPI's real file
   names (the simple API of each project, 2026-12-02) and on what it refuses. */
static void
test_wheel_file_names (void)
{
  static const struct
  {
    const char *name, *version, *file;
    int ok;
  } cases[] = {
    /* PyPI's files. */
    { "nvidia-cuda-nvcc", "13.0.88", "nvidia_cuda_nvcc-13.0.88-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", 1 },
    { "nvidia-nvvm", "13.0.88", "nvidia_nvvm-13.0.88-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl", 1 },
    { "nvidia-cuda-cccl", "13.2.86", "nvidia_cuda_cccl-13.2.86-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", 1 },
    { "torch", "2.6.0", "torch-2.6.0-cp311-cp311-manylinux1_x86_64.whl", 1 },
    { "torch", "2.13.0", "torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl", 1 },
    /* A build tag (digits first) is allowed by the convention. */
    { "nvidia-cuda-nvcc", "13.0.88", "nvidia_cuda_nvcc-13.0.88-1-py3-none-manylinux2014_x86_64.whl", 1 },
    /* Refused: another platform (PyPI's aarch64 and Windows builds of the same release), another
       project or version, not a wheel, the name as PEP 503 spells it, a path. */
    { "nvidia-cuda-nvcc", "13.0.88", "nvidia_cuda_nvcc-13.0.88-py3-none-manylinux2014_aarch64.manylinux_2_17_aarch64.whl", 0 },
    { "nvidia-cuda-nvcc", "13.0.88", "nvidia_cuda_nvcc-13.0.88-py3-none-win_amd64.whl", 0 },
    { "nvidia-cuda-nvcc", "13.0.88", "nvidia_cuda_crt-13.0.88-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", 0 },
    { "nvidia-cuda-nvcc", "13.0.88", "nvidia_cuda_nvcc-13.0.48-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", 0 },
    { "nvidia-cuda-nvcc", "13.0.88", "nvidia_cuda_nvcc-13.0.88.tar.gz", 0 },
    { "nvidia-cuda-nvcc", "13.0.88", "nvidia-cuda-nvcc-13.0.88-py3-none-manylinux2014_x86_64.whl", 0 },
    { "nvidia-cuda-nvcc", "13.0.88", "nvidia_cuda_nvcc-13.0.88-x-py3-none-manylinux2014_x86_64.whl", 0 },
    { "nvidia-cuda-nvcc", "13.0.88", "nvidia_cuda_nvcc-13.0.88-none-manylinux2014_x86_64.whl", 0 },
    { "nvidia-cuda-nvcc", "13.0.88", "../nvidia_cuda_nvcc-13.0.88-py3-none-manylinux2014_x86_64.whl", 0 },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char *want = NULL;
      int ok = kb_wheel_file_ok (cases[i].name, cases[i].version, cases[i].file, &want);
      if (ok != cases[i].ok)
        fprintf (stderr, "kb_wheel_file_ok (%s): %d\n", cases[i].file, ok);
      CHECK_INT (ok, cases[i].ok);
      free (want);
    }
  char *want = NULL;
  kb_wheel_file_ok ("nvidia-cuda-nvcc", "13.0.88", "x.whl", &want);
  CHECK_STR (want, "nvidia_cuda_nvcc-13.0.88-PYTHON-ABI-PLATFORM.whl with a manylinux*_x86_64 or linux_x86_64 platform tag");
  free (want);
}

/* A knowledge base whose 12.4 nvcc entry is broken twice: both problems reported. */
static void
test_kb_nvcc_errors (void)
{
  char tmp[] = "/tmp/pcgen-test-kb.XXXXXX";
  CHECK (mkdtemp (tmp) != NULL);
  cleanup_free char *cp = xasprintf ("cp generator/data/*.yaml '%s'/", tmp);
  CHECK_INT (system (cp), 0);
  cleanup_free char *path = xasprintf ("%s/cuda.yaml", tmp);
  struct strbuf y = STRBUF_INIT;
  CHECK_INT (strbuf_read_file (&y, path, 1 << 20), 0);
  struct strbuf b = STRBUF_INIT;
  const char *at = strstr (y.buf, "            sha256: cd5fe85a");
  CHECK (at != NULL);
  if (at)
    {
      /* A sha256 cut short, and (below) a source the file does not define. */
      strbuf_add (&b, y.buf, (size_t) (at - y.buf));
      strbuf_addstr (&b, "            sha256: cd5fe85a\n");
      const char *rest = strchr (at, '\n') + 1;
      strbuf_addstr (&b, rest);
    }
  cleanup_free char *text = strbuf_detach (&b, NULL);
  strbuf_release (&y);
  struct strbuf t2 = STRBUF_INIT;
  const char *src = strstr (text, "source: debian-trixie-non-free");
  CHECK (src != NULL);
  if (src)
    {
      strbuf_add (&t2, text, (size_t) (src - text));
      strbuf_addstr (&t2, "source: debian-sid");
      strbuf_addstr (&t2, src + strlen ("source: debian-trixie-non-free"));
    }
  CHECK_INT (write_file_atomic (path, t2.buf, t2.len, 0644), 0);
  strbuf_release (&t2);
  struct kb k2;
  struct diags d = DIAGS_INIT;
  CHECK_INT (kb_load (tmp, &k2, &d), -1);
  int saw_sha = 0, saw_source = 0;
  for (size_t i = 0; i < d.n; i++)
    {
      saw_sha |= strcmp (d.v[i].msg, "sha256 must be 64 lowercase hex digits") == 0;
      saw_source |= strstr (d.v[i].msg, "cites source 'debian-sid'") != NULL;
    }
  CHECK (saw_sha);
  CHECK (saw_source);
  diags_release (&d);
  kb_release (&k2);
  cleanup_free char *rm = xasprintf ("rm -rf '%s'", tmp);
  CHECK_INT (system (rm), 0);
}

static const char *const head = "repository: r/p\nbase: debian-bookworm\npython: \"3.11\"\n";

static void
test_plan (void)
{
  struct diags d = DIAGS_INIT;
  struct matrix m;
  struct plan p;
  cleanup_free char *y = xasprintf ("%storch: [\"2.4.1\", \"2.6.0\"]\ncuda: [\"12.1\", \"12.4\"]\n"
                                    "flavors: [runtime, devel]\nexclude:\n  - {torch: \"2.6.0\", cuda: \"12.1\"}\n"
                                    "aliases:\n  - {name: \"v{major}.{minor}-prod\", cuda: pypi, flavor: runtime}\n",
                                    head);
  CHECK_INT (plan_of (y, &m, &p, &d), 0);
  CHECK_INT (p.ntags, 6);
  CHECK_STR (p.tags[0].name, "2.4.1-cuda12.1-cudnn9-runtime");
  CHECK_STR (p.tags[1].name, "2.4.1-cuda12.1-cudnn9-devel");
  CHECK_STR (p.tags[0].aliases[0], "v2.4-prod");
  CHECK_STR (p.tags[1].runtime->name, "2.4.1-cuda12.1-cudnn9-runtime");
  CHECK_STR (source_kind_name (p.tags[2].source_kind), "unavailable"); /* 2.4.1 + 12.4: not the PyPI build */
  const struct ptag *t = plan_find (&p, "2.6.0-cuda12.4-cudnn9-runtime");
  CHECK_STR (t->aliases[0], "v2.6-prod");
  CHECK_STR (t->require_cuda, "cuda>=12.0,driver>=525.60.13");
  CHECK_STR (plan_cuda_full (t), "12.4.127");
  CHECK_STR (plan_cublas (t), "12.4.5.8");
  plan_release (&p);
  matrix_release (&m);
  CHECK_INT (d.n, 0);

  /* Refused, naming the published variants. */
  cleanup_free char *bad = xasprintf ("%storch: [\"2.9\"]\ncuda: [\"11.8\"]\nflavors: [runtime]\n", head);
  CHECK_INT (plan_of (bad, &m, &p, &d), -1);
  CHECK_INT (d.n, 1);
  CHECK_STR (d.v[0].msg, "torch 2.9 has no CUDA 11.8 build (published: 12.6, 12.8, 13.0)");
  CHECK_INT (d.v[0].mark.line, 4);
  CHECK_INT (d.v[0].mark.col, 9);
  plan_release (&p);
  matrix_release (&m);
  diags_release (&d);
}

/* A knowledge base whose redist pin is not at NVIDIA's relative_path, whose source kind is
   unknown, and whose redist source has no release: each reported, naming what is valid. */
static void
test_kb_redist_errors (void)
{
  char tmp[] = "/tmp/pcgen-test-kb.XXXXXX";
  CHECK (mkdtemp (tmp) != NULL);
  cleanup_free char *cp = xasprintf ("cp generator/data/*.yaml '%s'/", tmp);
  CHECK_INT (system (cp), 0);
  cleanup_free char *path = xasprintf ("%s/cuda.yaml", tmp);
  struct strbuf y = STRBUF_INIT;
  CHECK_INT (strbuf_read_file (&y, path, 1 << 20), 0);
  static const char *const edits[][2] = {
    { "path: cuda_nvcc/linux-x86_64/cuda_nvcc-linux-x86_64-12.1.105-archive.tar.xz", "path: cuda_nvcc/cuda_nvcc-12.1.105.tar.xz" },
    { "      - kind: redist\n        version: \"11.8.89\"", "      - kind: runfile\n        version: \"11.8.89\"" },
    { "        release: \"12.8.1\"\n", "" },
    /* PyPI's aarch64 build of the same wheel: not one pcgen can unpack into an x86_64 image. */
    { "file: nvidia_cuda_nvcc-13.0.88-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
      "file: nvidia_cuda_nvcc-13.0.88-py3-none-manylinux2014_aarch64.manylinux_2_17_aarch64.whl" },
    /* CUDA 13.0's cuBLAS table without its source; 13.2's with a version that is not one. */
    { "    toolkit_source: cuda-toolkit-cublas\n    source: driver-table\n", "    source: driver-table\n" },
    { "\"13.2.2\": \"13.4.1.3\"", "\"13.2.2\": \"newest\"" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (edits); i++)
    {
      const char *at = strstr (y.buf, edits[i][0]);
      CHECK (at != NULL);
      if (at == NULL)
        continue;
      struct strbuf b = STRBUF_INIT;
      strbuf_add (&b, y.buf, (size_t) (at - y.buf));
      strbuf_addstr (&b, edits[i][1]);
      strbuf_addstr (&b, at + strlen (edits[i][0]));
      strbuf_release (&y);
      y = b;
    }
  CHECK_INT (write_file_atomic (path, y.buf, y.len, 0644), 0);
  strbuf_release (&y);
  struct kb k2;
  struct diags d = DIAGS_INIT;
  CHECK_INT (kb_load (tmp, &k2, &d), -1);
  int saw_path = 0, saw_kind = 0, saw_release = 0, saw_wheel = 0, saw_toolkit = 0, saw_cublas = 0;
  for (size_t i = 0; i < d.n; i++)
    {
      saw_toolkit |= strcmp (d.v[i].msg, "CUDA 13.0: 'toolkit_cublas' needs a 'toolkit_source'") == 0;
      saw_cublas |= strcmp (d.v[i].msg, "pin of '13.2.2' must be an exact version") == 0;
      saw_path |= strcmp (d.v[i].msg, "path of cuda_nvcc 12.1.105 must be NVIDIA's relative_path "
                                       "'cuda_nvcc/linux-x86_64/cuda_nvcc-linux-x86_64-12.1.105-archive.tar.xz'") == 0;
      saw_kind |= strcmp (d.v[i].msg, "unknown nvcc source kind 'runfile' (debian, pypi or redist)") == 0;
      saw_release |= strstr (d.v[i].msg, "a redist source needs 'release'") != NULL;
      saw_wheel |= strcmp (d.v[i].msg, "'nvidia_cuda_nvcc-13.0.88-py3-none-manylinux2014_aarch64.manylinux_2_17_aarch64.whl' "
                                       "is not a Linux x86_64 wheel of nvidia-cuda-nvcc 13.0.88 "
                                       "(nvidia_cuda_nvcc-13.0.88-PYTHON-ABI-PLATFORM.whl with a manylinux*_x86_64 or "
                                       "linux_x86_64 platform tag)") == 0
                   && d.v[i].mark.line > 0 && d.v[i].mark.col == 19;
    }
  CHECK (saw_path);
  CHECK (saw_toolkit);
  CHECK (saw_cublas);
  CHECK (saw_kind);
  CHECK (saw_release);
  CHECK (saw_wheel);
  diags_release (&d);
  kb_release (&k2);
  cleanup_free char *rm = xasprintf ("rm -rf '%s'", tmp);
  CHECK_INT (system (rm), 0);
}

int
main (void)
{
  struct diags d = DIAGS_INIT;
  const char *dir = getenv ("PCGEN_DATA");
  CHECK_INT (kb_load (dir ? dir : "generator/data", &kb, &d), 0);
  diags_print (&d, NULL, NULL, stderr);
  diags_release (&d);
  test_version_cmp ();
  test_nearest ();
  test_ytree_marks ();
  test_kb ();
  test_kb_nvcc_errors ();
  test_kb_redist_errors ();
  test_wheel_file_names ();
  test_plan ();
  kb_release (&kb);
  return check_summary ("core");
}
