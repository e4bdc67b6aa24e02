/* cmd_render.c: `pcgen render [--check]`: images/<tag>/ from templates/, or the drift check. */
#include "cmd.h"
#include "exitcode.h"
#include "fsutil.h"
#include "project.h"
#include "render.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char render_usage[]
    = "usage: pcgen render [--check] [--templates DIR] [--out DIR] [FILE]\n"
      "Render DIR/images/<tag>/Dockerfile and image.env for every tag of FILE (default\n"
      "matrix.yaml) from the templates (default templates/), atomically; remove the folders of\n"
      "tags that left the plan.\n"
      "  --check          change nothing; exit 1 naming every file that differs\n"
      "  --templates DIR  where <flavor>.Dockerfile.tmpl, image.env.tmpl and partials are\n"
      "  --out DIR        where the tag folders go (default images)\n"
      "exit: 0 done (or no drift), 1 invalid input or drift, 2 usage, 3 cannot read or write\n";

struct render_opts
{
  int check;
  const char *templates, *out, *matrix;
};

/* Folders of out that hold no tag of the plan: report (check) or remove what pcgen wrote
   (render_stale: only files with pcgen's header, never through a symlink). */
static int
stale_folders (const struct plan *p, const struct render_opts *o, int *drift)
{
  struct strbuf found = STRBUF_INIT, err = STRBUF_INIT;
  int n = render_stale (p, o->out, !o->check, &found, &err);
  for (char *line = found.buf, *nl; (nl = strchr (line, '\n')); line = nl + 1)
    {
      *nl = '\0';
      if (o->check)
        printf ("%s: not in the plan\n", line);
      else
        printf ("removed %s\n", line);
    }
  if (n > 0 && o->check)
    *drift += n;
  int rc = n < 0 ? error ("%s", err.buf) : 0;
  strbuf_release (&found);
  strbuf_release (&err);
  return rc;
}

static int
write_or_check (const struct render_set *s, const struct render_opts *o, int *drift, size_t *written)
{
  for (size_t i = 0; i < s->n; i++)
    {
      const struct rendered *r = &s->v[i];
      int eq = file_equals (r->path, r->content.buf, r->content.len);
      if (eq < 0)
        return error ("cannot read '%s': %s", r->path, strerror (errno));
      if (eq)
        continue;
      if (o->check)
        {
          printf ("%s: %s\n", r->path, access (r->path, F_OK) == 0 ? "differs from its templates" : "missing");
          (*drift)++;
          continue;
        }
      cleanup_free char *dir = xstrdup (r->path);
      if (mkdir_p (dirname (dir), 0755) < 0 || write_file_atomic (r->path, r->content.buf, r->content.len, 0644) < 0)
        return error ("cannot write '%s': %s", r->path, strerror (errno));
      (*written)++;
    }
  return 0;
}

static int
parse_render_options (int argc, char **argv, struct render_opts *o)
{
  static const struct option opts[] = { { "check", no_argument, NULL, 'c' },
                                        { "templates", required_argument, NULL, 't' },
                                        { "out", required_argument, NULL, 'o' },
                                        { "help", no_argument, NULL, 'h' },
                                        { 0 } };
  int c;
  optind = 1;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'c':
        o->check = 1;
        break;
      case 't':
        o->templates = optarg;
        break;
      case 'o':
        o->out = optarg;
        break;
      case 'h':
        fputs (render_usage, stdout);
        return 1;
      default:
        fputs (render_usage, stderr);
        return -1;
      }
  if (argc - optind > 1)
    {
      fputs (render_usage, stderr);
      return -1;
    }
  if (optind < argc)
    o->matrix = argv[optind];
  return 0;
}

int
cmd_render (int argc, char **argv)
{
  struct render_opts o = { 0, "templates", "images", DEFAULT_MATRIX };
  int r = parse_render_options (argc, argv, &o);
  if (r != 0)
    return r > 0 ? EXIT_OK : EXIT_USAGE;
  struct project p;
  int rc = project_open (&p, o.matrix);
  if (rc != EXIT_OK)
    {
      project_close (&p);
      return rc;
    }
  struct render_set s;
  struct diags d = DIAGS_INIT;
  int drift = 0;
  size_t written = 0;
  if (render_plan (&p.plan, o.templates, o.out, &s, &d) < 0)
    {
      diags_print_files (&d, stderr);
      rc = EXIT_INVALID;
    }
  else if (write_or_check (&s, &o, &drift, &written) < 0 || stale_folders (&p.plan, &o, &drift) < 0)
    rc = EXIT_ENV;
  else if (o.check && drift)
    {
      printf ("render --check: %d difference%s: run 'pcgen render' and commit %s/\n", drift,
              drift == 1 ? "" : "s", o.out);
      rc = EXIT_INVALID;
    }
  else if (o.check)
    printf ("render --check: %s/ matches the %zu tag%s of the plan\n", o.out, p.plan.ntags,
            p.plan.ntags == 1 ? "" : "s");
  else
    printf ("rendered %zu tag%s into %s/ (%zu files written, %zu unchanged)\n", p.plan.ntags,
            p.plan.ntags == 1 ? "" : "s", o.out, written, s.n - written);
  diags_release (&d);
  render_set_release (&s);
  project_close (&p);
  return rc;
}
