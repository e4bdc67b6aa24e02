/* template.h: a small, strict mustache-like template language (see docs/templates.md).
     {{name}} {{a.b}} {{.}}        a value from the context (a jansson JSON tree)
     {{#name}}...{{/name}}         section: once per array element / once if truthy
     {{^name}}...{{/name}}         inverted section: once if falsy or missing-is-error
     {{>name}}                     partial: the file DIR/name.tmpl
     {{! comment }}                nothing
   Strict: an unknown variable, an unclosed or mismatched section, a missing partial, an
   unterminated tag, output over the cap: an error at template file:line:col. */
#ifndef PCGEN_TEMPLATE_H
#define PCGEN_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

#include "diag.h"
#include "strbuf.h"

struct template_opts
{
  const char *partial_dir; /* where {{>name}} finds name.tmpl; NULL: partials are an error */
  size_t max_output;       /* bytes; 0 means TEMPLATE_MAX_OUTPUT */
};
#define TEMPLATE_MAX_OUTPUT (1u << 20)

/* Render `text` (len bytes, named `name` in diagnostics) against ctx, appending to out.
   Returns 0, or -1 with every error found recorded in d (out then holds nothing useful). */
int template_render (const char *name, const char *text, size_t len, json_t *ctx,
                     const struct template_opts *opts, struct strbuf *out, struct diags *d);

/* Same, reading the template from path. */
int template_render_file (const char *path, json_t *ctx, const struct template_opts *opts,
                          struct strbuf *out, struct diags *d);

#endif
