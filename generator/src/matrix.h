/* matrix.h: matrix.yaml, the user's description of the images to build, loaded with every
   value's source mark so that later stages can point at the byte that is wrong.
   This stage checks the schema only; what the values mean is checked by plan.c against the
   knowledge base. See docs/matrix.md, "matrix.yaml reference". */
#ifndef PCGEN_MATRIX_H
#define PCGEN_MATRIX_H

#include <stddef.h>

#include "diag.h"
#include "strbuf.h"

struct mvalue
{
  char *s; /* NULL when absent */
  struct mark mark;
};

/* An exclude or include rule; absent fields match everything (exclude) or all flavors (include). */
struct mrule
{
  struct mvalue torch, cuda, flavor;
  struct mark mark;
};

struct malias
{
  struct mvalue name;   /* "v{major}.{minor}-prod" */
  struct mvalue cuda;   /* "12.4", or "pypi": the variant the PyPI wheel is built for */
  int cuda_pypi;        /* cuda is "pypi" */
  struct mvalue flavor; /* optional */
  struct mvalue torch;  /* optional: only this torch version */
  struct mark mark;
};

struct mlabel
{
  struct mvalue key, value;
};

/* Where the torch wheel of one CUDA variant comes from, when not from PyPI. */
struct msource
{
  struct mvalue cuda;
  struct mvalue index;      /* a PEP 503 index URL */
  struct mvalue wheelhouse; /* a local folder of wheels */
};

struct matrix
{
  char *file;
  struct strbuf text; /* kept for caret lines in later diagnostics */
  struct mvalue repository, base, python;
  struct mvalue user; /* runtime and devel images run as this user by default; NULL: root */
  struct mvalue *torch, *cuda, *flavors;
  size_t ntorch, ncuda, nflavors;
  struct mrule *exclude, *include;
  size_t nexclude, ninclude;
  struct malias *aliases;
  size_t naliases;
  struct mlabel *labels;
  size_t nlabels;
  struct msource *sources;
  size_t nsources;
};

#define MATRIX_MAX_BYTES (1u << 20)

/* Read and check path. Returns 0, or -1 with every problem recorded in d (m is still
   released with matrix_release). */
int matrix_load (const char *path, struct matrix *m, struct diags *d);
/* The same from memory (name is used in diagnostics). */
int matrix_load_text (const char *name, const char *text, size_t len, struct matrix *m,
                      struct diags *d);
void matrix_release (struct matrix *m);

/* Label keys pcgen sets itself, which a matrix may not (NULL-terminated; "io.pytorch-cuda.*"
   is that key and every key under it), and the test. */
extern const char *const matrix_reserved_labels[];
int matrix_label_reserved (const char *key);
/* Bytes in a label key; a value, like every string of the matrix, has at most SAFE_TEXT_MAX
   (schema.h): Docker refuses Dockerfile lines over 65535 bytes (moby/moby#35429). */
#define MATRIX_LABEL_KEY_MAX 128

/* The placeholders an alias name may use ({major}, ...): matrix_alias_placeholders[PLACEHOLDER_X]
   is each one's word (NULL-terminated; names_lookup reads a word back). */
enum alias_placeholder
{
  PLACEHOLDER_MAJOR,
  PLACEHOLDER_MINOR,
  PLACEHOLDER_PATCH,
  PLACEHOLDER_TORCH,
  PLACEHOLDER_CUDA,
  PLACEHOLDER_CUDNN,
  PLACEHOLDER_FLAVOR,
};
extern const char *const matrix_alias_placeholders[];

#endif
