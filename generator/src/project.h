/* project.h: what most subcommands start from: the knowledge base, matrix.yaml and the plan
   made of them, loaded in one place so that every subcommand reports problems the same way. */
#ifndef PCGEN_PROJECT_H
#define PCGEN_PROJECT_H

#include "kb.h"
#include "matrix.h"
#include "plan.h"

struct project
{
  struct kb kb;
  struct matrix m;
  struct plan plan;
  int loaded; /* which of the three are set: 1 kb, 2 matrix, 4 plan */
};

/* Load kb, matrix_path and the plan; on failure print every diagnostic to stderr and return
   EXIT_INVALID or EXIT_ENV (the project is still released with project_close). */
int project_open (struct project *p, const char *matrix_path);
void project_close (struct project *p);

#endif
