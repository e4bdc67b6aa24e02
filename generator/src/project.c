/* project.c: see project.h. */
#include "project.h"

#include <string.h>
#include <unistd.h>

int
project_load (struct project *p, const char *matrix_path, struct error *err)
{
  memset (p, 0, sizeof *p);
  if (kb_load (kb_default_dir (NULL), &p->kb, &err->diags) < 0)
    return err_set (err, ERR_INVALID, "the knowledge base in '%s' is broken", p->kb.dir);
  p->loaded |= PROJECT_KB;
  if (access (matrix_path, F_OK) != 0)
    return err_set (err, ERR_ENV,
                    "cannot open '%s': no such file (give a matrix file, or run in the project's top folder)",
                    matrix_path);
  int bad = matrix_load (matrix_path, &p->m, &err->diags) < 0;
  p->loaded |= PROJECT_MATRIX;
  if (!bad)
    {
      bad = plan_build (&p->m, &p->kb, &p->plan, &err->diags) < 0;
      p->loaded |= PROJECT_PLAN;
    }
  if (bad)
    {
      size_t n = err->diags.n + err->diags.dropped;
      return err_set (err, ERR_INVALID, "%zu error%s", n, n == 1 ? "" : "s");
    }
  return 0;
}

void
project_close (struct project *p)
{
  if (p->loaded & PROJECT_PLAN)
    plan_release (&p->plan);
  if (p->loaded & PROJECT_MATRIX)
    matrix_release (&p->m);
  kb_release (&p->kb); /* safe on a partly loaded or zeroed kb */
  p->loaded = 0;
}
