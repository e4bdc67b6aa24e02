/* cmd.h: the subcommands; each parses its own options (argv[0] is the subcommand name)
   and returns an exit code from exitcode.h. */
#ifndef PCGEN_CMD_H
#define PCGEN_CMD_H

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

/* Print `json` to stdout, indented or compact; returns EXIT_OK or EXIT_ENV. */
struct json_t;
int print_json (struct json_t *json, int compact);

#define DEFAULT_MATRIX "matrix.yaml"

#endif
