/* test_template.c: the template language (docs/templates.md), construct by construct, and
   every strict-mode error with its line and column. */
#include "check.h"
#include "template.h"
#include "util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static json_t *ctx;

/* Render src against ctx; returns the output (owned by a static buffer) or NULL on error,
   with the first error message in *first_err. */
static struct strbuf outbuf = STRBUF_INIT;
static char errbuf[512];

static const char *
render_opts (const char *src, const struct template_opts *o)
{
  struct diags d = DIAGS_INIT;
  strbuf_reset (&outbuf);
  errbuf[0] = '\0';
  int r = template_render ("t.tmpl", src, strlen (src), ctx, o, &outbuf, &d);
  if (d.n)
    snprintf (errbuf, sizeof errbuf, "%d:%d: %s", d.v[0].mark.line, d.v[0].mark.col, d.v[0].msg);
  diags_release (&d);
  return r == 0 ? outbuf.buf : NULL;
}

static const char *
render (const char *src)
{
  return render_opts (src, NULL);
}

static void
test_variables (void)
{
  CHECK_STR (render ("hello {{name}}!"), "hello world!");
  CHECK_STR (render ("{{ name }}"), "world");
  CHECK_STR (render ("{{cuda.version}}/{{cuda.major}}"), "12.4/12");
  CHECK_STR (render ("{{ratio}} {{yes}} {{no}}"), "0.5 true false");
  CHECK_STR (render ("no tags at all\n"), "no tags at all\n");
  CHECK_STR (render ("a {{! a comment }}b"), "a b");
  CHECK_STR (render ("{{name}}\\$x \"q\""), "world\\$x \"q\""); /* no escaping */
}

static void
test_sections (void)
{
  CHECK_STR (render ("{{#layers}}[{{name}}]{{/layers}}"), "[cuda][cudnn]");
  CHECK_STR (render ("{{#layers}}{{name}}:{{tag}} {{/layers}}"), "cuda:t1 cudnn:t1 "); /* outer lookup */
  CHECK_STR (render ("{{#cuda}}{{version}}{{/cuda}}"), "12.4");
  CHECK_STR (render ("{{#yes}}on{{/yes}}{{#no}}off{{/no}}"), "on");
  CHECK_STR (render ("{{#empty}}x{{/empty}}{{^empty}}none{{/empty}}"), "none");
  CHECK_STR (render ("{{#nothing}}x{{/nothing}}{{^nothing}}null{{/nothing}}"), "null");
  CHECK_STR (render ("{{#blank}}x{{/blank}}{{^blank}}blank{{/blank}}"), "blank");
  CHECK_STR (render ("{{#zero}}x{{/zero}}{{^zero}}0{{/zero}}"), "0");
  CHECK_STR (render ("{{#name}}[{{name}}]{{/name}}"), "[world]");
  CHECK_STR (render ("{{#list}}{{.}},{{/list}}"), "a,b,");
  CHECK_STR (render ("{{#nested}}{{#items}}{{.}}{{/items}};{{/nested}}"), "12;3;");
}

static void
test_standalone (void)
{
  CHECK_STR (render ("a\n{{#layers}}\n- {{name}}\n{{/layers}}\nb\n"), "a\n- cuda\n- cudnn\nb\n");
  CHECK_STR (render ("a\n  {{! comment line }}  \nb"), "a\nb");
  CHECK_STR (render ("{{#yes}}\nx\n{{/yes}}"), "x\n");
  /* Not standalone: other text on the line. */
  CHECK_STR (render ("a {{#yes}}\nx{{/yes}} b"), "a \nx b");
  /* A variable never makes a line standalone. */
  CHECK_STR (render ("{{blank}}\nx"), "\nx");
  CHECK_STR (render ("a\r\n{{#yes}}\r\nx\r\n{{/yes}}\r\n"), "a\r\nx\r\n");
}

static char dir[] = "/tmp/pcgen-test-template.XXXXXX";

static void
write_partial (const char *name, const char *text)
{
  cleanup_free char *path = xasprintf ("%s/%s.tmpl", dir, name);
  FILE *f = fopen (path, "w");
  fputs (text, f);
  fclose (f);
}

static void
test_partials (void)
{
  CHECK (mkdtemp (dir) != NULL);
  cleanup_free char *sub = xasprintf ("%s/partials", dir);
  mkdir (sub, 0755);
  write_partial ("partials/env", "ENV A={{name}} \\\n    B=2\n");
  write_partial ("self", "{{>self}}");
  write_partial ("bad", "x {{nosuch}}");
  struct template_opts o = { dir, 0 };
  CHECK_STR (render_opts ("{{> partials/env}}", &o), "ENV A=world \\\n    B=2\n");
  CHECK_STR (render_opts ("x\n  {{> partials/env}}\ny\n", &o), "x\n  ENV A=world \\\n      B=2\ny\n");
  CHECK (render_opts ("{{>self}}", &o) == NULL);
  CHECK_CONTAINS (errbuf, "nests too deeply");
  CHECK (render_opts ("{{>missing}}", &o) == NULL);
  CHECK_CONTAINS (errbuf, "cannot read partial");
  CHECK_CONTAINS (errbuf, "missing.tmpl");
  CHECK (render_opts ("{{>bad}}", &o) == NULL);
  CHECK_CONTAINS (errbuf, "unknown variable 'nosuch'");
  CHECK (render_opts ("{{>../etc/passwd}}", &o) == NULL);
  CHECK_CONTAINS (errbuf, "bad name");
  CHECK (render ("{{>partials/env}}") == NULL);
  CHECK_CONTAINS (errbuf, "cannot include partials");
  cleanup_free char *cmd = xasprintf ("rm -rf '%s'", dir);
  CHECK_INT (system (cmd), 0);
}

static void
test_errors (void)
{
  CHECK (render ("a\n  {{cuda.verison}}") == NULL);
  CHECK_STR (errbuf, "2:3: unknown variable 'cuda.verison'");
  CHECK (render ("{{#layers}}x") == NULL);
  CHECK_STR (errbuf, "1:1: unclosed section 'layers'");
  CHECK (render ("{{#a}}{{/b}}") == NULL);
  CHECK_STR (errbuf, "1:7: '{{/b}}' closes '{{#a}}' opened at line 1, column 1");
  CHECK (render ("{{#yes}}{{/no}}") == NULL);
  CHECK_STR (errbuf, "1:9: '{{/no}}' closes '{{#yes}}' opened at line 1, column 1");
  CHECK (render ("x{{/yes}}") == NULL);
  CHECK_STR (errbuf, "1:2: '{{/yes}}' closes nothing");
  CHECK (render ("ab {{name") == NULL);
  CHECK_STR (errbuf, "1:4: unterminated tag: '{{' without '}}'");
  CHECK (render ("{{}}") == NULL);
  CHECK_STR (errbuf, "1:1: empty tag");
  CHECK (render ("{{{name}}}") == NULL);
  CHECK_CONTAINS (errbuf, "is not supported");
  CHECK (render ("{{=<% %>=}}") == NULL);
  CHECK_CONTAINS (errbuf, "set-delimiter");
  CHECK (render ("{{na me}}") == NULL);
  CHECK_CONTAINS (errbuf, "bad name 'na me'");
  CHECK (render ("{{layers}}") == NULL);
  CHECK_CONTAINS (errbuf, "cannot print array 'layers'");
  CHECK (render ("{{cuda}}") == NULL);
  CHECK_CONTAINS (errbuf, "cannot print object 'cuda'");
  CHECK (render ("{{nothing}}") == NULL);
  CHECK_CONTAINS (errbuf, "cannot print 'nothing': it is null");
  CHECK (render ("{{^missing}}x{{/missing}}") == NULL);
  CHECK_CONTAINS (errbuf, "unknown variable 'missing'");
  CHECK (render ("{{#layers}}{{nosuch}}{{/layers}}") == NULL);
  CHECK_CONTAINS (errbuf, "unknown variable 'nosuch'");
}

static void
test_every_error_reported (void)
{
  struct diags d = DIAGS_INIT;
  struct strbuf out = STRBUF_INIT;
  const char *src = "{{a}}\n{{b}}\n{{#layers}}{{c}}{{/layers}}\n";
  CHECK_INT (template_render ("t.tmpl", src, strlen (src), ctx, NULL, &out, &d), -1);
  CHECK_INT (d.n, 3); /* a, b, and c once (not once per layer) */
  diags_release (&d);
  strbuf_release (&out);
}

static void
test_output_cap (void)
{
  struct template_opts o = { NULL, 16 };
  CHECK (render_opts ("0123456789", &o) != NULL);
  CHECK (render_opts ("0123456789abcdefgh", &o) == NULL);
  CHECK_CONTAINS (errbuf, "output exceeds 16 bytes");
  /* Nested sections multiply: the cap stops them. */
  o.max_output = 1000;
  CHECK (render_opts ("{{#big}}{{#big}}{{#big}}{{#big}}xxxxxxxxxx{{/big}}{{/big}}{{/big}}{{/big}}", &o) == NULL);
  CHECK_CONTAINS (errbuf, "output exceeds");
}

static void
test_file (void)
{
  struct diags d = DIAGS_INIT;
  struct strbuf out = STRBUF_INIT;
  CHECK_INT (template_render_file ("/nonexistent/x.tmpl", ctx, NULL, &out, &d), -1);
  CHECK_INT (d.n, 1);
  CHECK_CONTAINS (d.v[0].msg, "cannot read template '/nonexistent/x.tmpl'");
  diags_release (&d);
  strbuf_release (&out);
}

int
main (void)
{
  json_error_t je;
  ctx = json_loads ("{\"name\":\"world\",\"tag\":\"t1\",\"ratio\":0.5,\"yes\":true,\"no\":false,"
                    "\"empty\":[],\"nothing\":null,\"blank\":\"\",\"zero\":0,\"list\":[\"a\",\"b\"],"
                    "\"cuda\":{\"version\":\"12.4\",\"major\":12},"
                    "\"layers\":[{\"name\":\"cuda\"},{\"name\":\"cudnn\"}],"
                    "\"nested\":[{\"items\":[1,2]},{\"items\":[3]}],"
                    "\"big\":[1,2,3,4,5,6,7,8,9,10]}",
                    0, &je);
  CHECK (ctx != NULL);
  test_variables ();
  test_sections ();
  test_standalone ();
  test_partials ();
  test_errors ();
  test_every_error_reported ();
  test_output_cap ();
  test_file ();
  json_decref (ctx);
  strbuf_release (&outbuf);
  return check_summary ("template");
}
