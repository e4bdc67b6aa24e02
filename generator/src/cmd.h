/* cmd.h: the subcommands; each parses its own options (argv[0] is the subcommand name)
   and returns an exit code from exitcode.h. */
#ifndef PCGEN_CMD_H
#define PCGEN_CMD_H

#include <stddef.h>

int cmd_validate (int argc, char **argv);
int cmd_plan (int argc, char **argv);
int cmd_render (int argc, char **argv);
int cmd_compat (int argc, char **argv);
int cmd_lock (int argc, char **argv);
int cmd_fetch (int argc, char **argv);
int cmd_build (int argc, char **argv);
int cmd_certify (int argc, char **argv);
int cmd_publish (int argc, char **argv);
int cmd_bake (int argc, char **argv);
int cmd_kb (int argc, char **argv);

/* The command's side of errors (cmd_common.c): modules return a struct error (error.h); only
   commands print it. cmd_error prints e (its diagnostics, then "pcgen: error: ...") and returns
   its kind's exit code. */
struct error;
struct plan;
struct project;
int cmd_error (const struct error *e);
/* project_load (project.h), printing what failed; returns EXIT_OK or the error's exit code. */
int project_open (struct project *p, const char *matrix_path);
/* plan_select (plan.h), printing what failed; returns 0, or -1 (a usage error, EXIT_USAGE). */
int select_tags (const struct plan *p, char *const *patterns, size_t npatterns, int *sel);

/* --engine's argument (build_engine_parse, build.h) into *engine; a word it does not know is
   printed as a usage error naming both engines, with usage after it. Returns 0 or -1. */
int engine_option (const char *arg, const char *usage, int *engine);

/* Print `json` to stdout, indented or compact; returns EXIT_OK or EXIT_ENV. */
struct json_t;
int print_json (struct json_t *json, int compact);

#define DEFAULT_MATRIX "matrix.yaml"

#endif
