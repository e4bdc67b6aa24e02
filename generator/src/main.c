/* main.c: pcgen's front: global options, then dispatch to cmd_<name>() (cmd_*.c).
   Only this file decides how pcgen ends: it checks that stdout was really written. */
#include "cmd.h"
#include "exitcode.h"
#include "http.h"
#include "schema.h"
#include "util.h"
#include "version.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

struct command
{
  const char *name;
  int (*fn) (int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
  { "validate", cmd_validate, "check matrix.yaml: schema and compatibility, file:line:col errors" },
  { "plan", cmd_plan, "list the tags, aliases and pinned components (--json, --github)" },
  { "render", cmd_render, "write images/<tag>/Dockerfile from templates/ (--check: drift only)" },
  { "lock", cmd_lock, "pin every input wheel in matrix.lock (name, version, file, sha256)" },
  { "fetch", cmd_fetch, "download the pinned wheels into the cache, verified (--offline)" },
  { "build", cmd_build, "layers, the image (written by pcgen; --engine docker: docker build), tags" },
  { "certify", cmd_certify, "run pytorch-cuda-verify in each image, keep its certificate" },
  { "publish", cmd_publish, "push certified tags and their aliases to a registry (--to)" },
  { "bake", cmd_bake, "write docker-bake.json for docker buildx bake, contexts staged" },
  { "compat", cmd_compat, "which tags run on this host (or --driver/--gpu), and why not" },
  { "kb", cmd_kb, "kb update: add the torch releases PyPI has and the knowledge base lacks (--check)" },
};

static void
usage (FILE *out)
{
  fprintf (out, "usage: pcgen [--help] [--version] <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    fprintf (out, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\n`pcgen <command> --help` describes a command.\n\n"
                "exit codes:\n"
                "  0  success (for checks: everything passed)\n"
                "  1  invalid input (matrix.yaml, templates, knowledge base) or drift found\n"
                "  2  usage error\n"
                "  3  environment error (I/O, missing program, engine, network)\n"
                "  4  internal error (out of memory)\n"
                "  5  compat: no tag runs on the host described\n"
                "  130 build: interrupted (SIGINT or SIGTERM); nothing was left half-tagged\n\n"
                "environment:\n"
                "  PCGEN_DATA  folder of the knowledge base (default: generator/data)\n"
                "  PCGEN_CACHE  download and layer cache (default: ~/.cache/pytorch-cuda)\n"
                "  PCGEN_DEBIAN_MIRROR  where fetch downloads nvcc's Debian packages\n"
                "                       (default: http://deb.debian.org/debian)\n"
                "  PCGEN_PYPI_SIMPLE  the simple API kb update reads (default: https://pypi.org/simple)\n"
                "  PCGEN_CUDA_REDIST  where fetch downloads NVIDIA's redist archives of nvcc\n"
                "                     (default: https://developer.download.nvidia.com/compute/cuda/redist)\n");
}

/* git's run_builtin(): a full disk or a closed pipe on stdout is an error, not silence. */
static int
finish_stdout (int rc)
{
  if (fflush (stdout) != 0 || ferror (stdout) || fclose (stdout) != 0)
    {
      if (errno == EPIPE)
        return rc;
      error ("cannot write to standard output: %s", strerror (errno));
      return rc ? rc : EXIT_ENV;
    }
  return rc;
}

int
main (int argc, char **argv)
{
  /* libarchive writes pax names through the locale's charset: a UTF-8 member name in the C
     locale can fail. Only the character type is set; messages and numbers stay as they are. */
  setlocale (LC_CTYPE, "C.UTF-8");
  if (argc < 2)
    {
      usage (stderr);
      return EXIT_USAGE;
    }
  const char *name = argv[1];
  if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0 || strcmp (name, "help") == 0)
    {
      usage (stdout);
      return finish_stdout (EXIT_OK);
    }
  if (strcmp (name, "--version") == 0)
    {
      printf ("pcgen %s\n", PCGEN_VERSION);
      return finish_stdout (EXIT_OK);
    }
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      {
        /* Process-wide setup, once, before the command starts any thread. */
        if (http_global_init () < 0)
          {
            error ("cannot initialize libcurl");
            return EXIT_ENV;
          }
        int rc = commands[i].fn (argc - 1, argv + 1);
        http_global_cleanup ();
        return finish_stdout (rc);
      }
  const char *names[ARRAY_SIZE (commands) + 1];
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    names[i] = commands[i].name;
  names[ARRAY_SIZE (commands)] = NULL;
  const char *near = nearest (name, names);
  if (near)
    error ("unknown command '%s'; did you mean '%s'?", name, near);
  else
    error ("unknown command '%s'; see 'pcgen --help'", name);
  return EXIT_USAGE;
}
