/* project.c: see project.h. */
#include "project.h"
#include "exitcode.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
project_open (struct project *p, const char *matrix_path)
{
  memset (p, 0, sizeof *p);
  struct diags d = DIAGS_INIT;
  int rc = EXIT_OK;
  if (kb_load (kb_default_dir (NULL), &p->kb, &d) < 0)
    {
      diags_print_files (&d, stderr);
      fprintf (stderr, "pcgen: error: the knowledge base in '%s' is broken\n", p->kb.dir);
      rc = EXIT_INVALID;
      goto out;
    }
  p->loaded |= 1;
  if (access (matrix_path, F_OK) != 0)
    {
      fprintf (stderr, "pcgen: error: cannot open '%s': no such file (give a matrix file, or run in the project's top folder)\n",
               matrix_path);
      rc = EXIT_ENV;
      goto out;
    }
  int bad = matrix_load (matrix_path, &p->m, &d) < 0;
  p->loaded |= 2;
  if (!bad)
    {
      bad = plan_build (&p->m, &p->kb, &p->plan, &d) < 0;
      p->loaded |= 4;
    }
  if (bad)
    {
      diags_print_len (&d, p->m.file, p->m.text.buf, p->m.text.len, stderr);
      fprintf (stderr, "%s: %zu error%s\n", matrix_path, d.n + d.dropped, d.n + d.dropped == 1 ? "" : "s");
      rc = EXIT_INVALID;
    }
out:
  diags_release (&d);
  return rc;
}

void
project_close (struct project *p)
{
  if (p->loaded & 4)
    plan_release (&p->plan);
  if (p->loaded & 2)
    matrix_release (&p->m);
  kb_release (&p->kb); /* safe on a partly loaded or zeroed kb */
  p->loaded = 0;
}
