/* render.h: the files of images/<tag>/ for every tag of the plan, rendered in memory from
   templates/ (writing and drift checking are cmd_render.c's). */
#ifndef PCGEN_RENDER_H
#define PCGEN_RENDER_H

#include "diag.h"
#include "plan.h"
#include "strbuf.h"

struct rendered
{
  char *path; /* out_dir/<tag>/Dockerfile */
  struct strbuf content;
};

struct render_set
{
  struct rendered *v;
  size_t n, alloc;
};

/* The files each tag folder holds, for drift checks and clean-up. */
extern const char *const render_file_names[];

/* Render every tag of p from template_dir into memory. Returns 0, or -1 with every template
   error (file:line:col) in d. */
int render_plan (const struct plan *p, const char *template_dir, const char *out_dir,
                 struct render_set *out, struct diags *d);
void render_set_release (struct render_set *s);

/* The template context of one tag: plan_tag_json plus labels; exposed for tests. */
json_t *render_context (const struct plan *p, const struct ptag *t);

#endif
