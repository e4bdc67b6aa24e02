/* dockerfile.h: the instructions of a rendered Dockerfile (images/<tag>/Dockerfile), read so that
   the image writer (image_writer.h) does what `docker build` would do with them: the Dockerfile
   stays the one reviewed recipe, and the writer cannot drift from it.
   Only what a Dockerfile from templates/ uses is read: Docker's line continuation ('\' at the
   end of a line, comment lines inside one skipped), '#' comments, ENV and LABEL as KEY=VALUE
   words (double and single quotes, backslash escapes, as Docker's shell-word lexer reads them),
   CMD and ENTRYPOINT in exec (JSON) or shell form. A '$' outside single quotes is refused: the
   writer does not expand variables. Reference: docs.docker.com/reference/dockerfile
   ("Format", "Environment replacement", "ENV", "LABEL", "CMD"). */
#ifndef PCGEN_DOCKERFILE_H
#define PCGEN_DOCKERFILE_H

#include <stddef.h>

#include "strbuf.h"

enum df_kind
{
  DF_FROM,
  DF_ARG,
  DF_ADD,
  DF_COPY,
  DF_RUN,
  DF_ENV,
  DF_LABEL,
  DF_CMD,
  DF_ENTRYPOINT,
  DF_USER,
  DF_WORKDIR,
  DF_EXPOSE,
  DF_OTHER /* any other instruction: the writer refuses it */
};

struct df_pair
{
  char *key;
  char *value;
};

struct df_instr
{
  enum df_kind kind;
  char *name;  /* as written: "ENV" */
  char *args;  /* the rest, continuation lines joined as Docker joins them ('\' and newline dropped) */
  int line;    /* 1-based line of the instruction's first word */
  int col;     /* 1-based column of args on that line */
  /* ENV, LABEL: the KEY=VALUE words; CMD, ENTRYPOINT: argv (values only, key NULL) */
  struct df_pair *pairs;
  size_t npairs;
};

struct dockerfile
{
  struct df_instr *v;
  size_t n, alloc;
};

/* Read text (len bytes; name for messages). Returns 0, or -1 with err "NAME:LINE:COL: what is
   wrong, the bad value, what would be valid" (the first problem). */
int dockerfile_parse (const char *name, const char *text, size_t len, struct dockerfile *df, struct strbuf *err);
void dockerfile_release (struct dockerfile *df);

/* "ENV" for DF_ENV and so on. */
const char *df_kind_name (enum df_kind k);

#endif
