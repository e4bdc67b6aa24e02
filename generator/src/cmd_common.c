/* cmd_common.c: what every command does with an error a module returned: print it, and end
   with its kind's exit code (error.h). Modules never print errors; commands do, through here. */
#include "cmd.h"
#include "build.h"
#include "error.h"
#include "exitcode.h"
#include "project.h"
#include "util.h"

#include <stdio.h>

int
cmd_error (const struct error *e)
{
  if (e->diags.n || e->diags.dropped)
    diags_print_files (&e->diags, stderr);
  if (e->file)
    fprintf (stderr, "pcgen: error: %s:%d:%d: %s\n", e->file, e->where.line, e->where.col, e->msg.buf);
  else
    fprintf (stderr, "pcgen: error: %s\n", e->msg.buf);
  /* An error that forgot its kind is still a failure. */
  return err_exit_code (e->kind == ERR_NONE ? ERR_INTERNAL : e->kind);
}

int
project_open (struct project *p, const char *matrix_path)
{
  struct error err = ERROR_INIT;
  int rc = EXIT_OK;
  if (project_load (p, matrix_path, &err) < 0)
    {
      if (p->loaded & PROJECT_MATRIX)
        {
          /* The matrix's own problems, shown against the text read (NUL bytes and all), then
             their count under the file's name. */
          diags_print_len (&err.diags, p->m.file, p->m.text.buf, p->m.text.len, stderr);
          fprintf (stderr, "%s: %s\n", matrix_path, err.msg.buf);
          rc = err_exit_code (err.kind);
        }
      else
        rc = cmd_error (&err);
    }
  err_release (&err);
  return rc;
}

int
select_tags (const struct plan *p, char *const *patterns, size_t npatterns, int *sel)
{
  struct error err = ERROR_INIT;
  int rc = plan_select (p, patterns, npatterns, sel, &err);
  if (rc < 0)
    cmd_error (&err);
  err_release (&err);
  return rc;
}

int
engine_option (const char *arg, const char *usage, int *engine)
{
  int e = build_engine_parse (arg);
  if (e < 0)
    {
      error ("--engine '%s': give writer (the image pcgen writes) or docker (docker build, docker push)", arg);
      fputs (usage, stderr);
      return -1;
    }
  *engine = e;
  return 0;
}
