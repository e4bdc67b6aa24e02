/* cmd_validate.c: `pcgen validate [FILE]`: the schema and compatibility check. */
#include "cmd.h"
#include "exitcode.h"
#include "project.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>

static const char validate_usage[]
    = "usage: pcgen validate [-q] [FILE]\n"
      "Check FILE (default matrix.yaml) against its schema and the knowledge base.\n"
      "Every error of the file is reported as FILE:LINE:COL, with the line and a caret.\n"
      "  -q, --quiet   print nothing when the matrix is valid\n"
      "exit: 0 valid, 1 invalid, 2 usage, 3 cannot read\n";

int
cmd_validate (int argc, char **argv)
{
  static const struct option opts[] = { { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { 0 } };
  int quiet = 0, c;
  optind = 1;
  while ((c = getopt_long (argc, argv, "qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'q':
        quiet = 1;
        break;
      case 'h':
        fputs (validate_usage, stdout);
        return EXIT_OK;
      default:
        fputs (validate_usage, stderr);
        return EXIT_USAGE;
      }
  if (argc - optind > 1)
    {
      fputs (validate_usage, stderr);
      return EXIT_USAGE;
    }
  const char *path = optind < argc ? argv[optind] : DEFAULT_MATRIX;
  struct project p;
  int rc = project_open (&p, path);
  if (rc == EXIT_OK && !quiet)
    {
      size_t unavailable = 0;
      for (size_t i = 0; i < p.plan.ntags; i++)
        unavailable += p.plan.tags[i].source_kind == SOURCE_UNAVAILABLE;
      printf ("%s: valid: %zu tag%s", path, p.plan.ntags, p.plan.ntags == 1 ? "" : "s");
      if (unavailable)
        printf (" (%zu need a source other than PyPI: see 'pcgen plan')", unavailable);
      putchar ('\n');
    }
  project_close (&p);
  return rc;
}
