/* project.h: what most subcommands start from: the knowledge base, matrix.yaml and the plan
   made of them, loaded in one place so that every subcommand reports problems the same way. */
#ifndef PCGEN_PROJECT_H
#define PCGEN_PROJECT_H

#include "error.h"
#include "kb.h"
#include "matrix.h"
#include "plan.h"

/* The parts of a project project_load has set (struct project's loaded, or-ed). */
enum project_part
{
  PROJECT_KB = 1,
  PROJECT_MATRIX = 2,
  PROJECT_PLAN = 4,
};

struct project
{
  struct kb kb;
  struct matrix m;
  struct plan plan;
  int loaded; /* enum project_part: which of the three are set */
};

/* Load kb, matrix_path and the plan. Returns 0, or -1 with err: ERR_INVALID with every
   problem in err->diags (the knowledge base's, or matrix_path's: then msg is "N errors"), or
   ERR_ENV. The project is released with project_close either way. Commands call project_open
   (cmd.h), which prints. */
int project_load (struct project *p, const char *matrix_path, struct error *err);
void project_close (struct project *p);

#endif
