/* test_template.c: the template language (docs/templates.md), construct by construct, and
   every strict-mode error with its text, line, column and span. */
#include "check.h"
#include "template.h"
#include "util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static json_t *ctx;
static char dir[] = "/tmp/pcgen-test-template.XXXXXX";

/* What the last render left: its output, and its diagnostics as "LINE:COL: MSG" (the first
   alone in err, all of them one a line in errs), with the first one's span and file. */
static struct strbuf outbuf = STRBUF_INIT;
static struct strbuf errs = STRBUF_INIT;
static char err[512];
static char err_file[512];
static int err_len;
static size_t nerr;

static void
keep_diags (struct diags *d)
{
  strbuf_reset (&errs);
  err[0] = err_file[0] = '\0';
  err_len = -1;
  nerr = d->n;
  for (size_t i = 0; i < d->n; i++)
    strbuf_addf (&errs, "%d:%d: %s\n", d->v[i].mark.line, d->v[i].mark.col, d->v[i].msg);
  if (d->n)
    {
      snprintf (err, sizeof err, "%d:%d: %s", d->v[0].mark.line, d->v[0].mark.col, d->v[0].msg);
      snprintf (err_file, sizeof err_file, "%s", d->v[0].file);
      err_len = d->v[0].mark.len;
    }
  diags_release (d);
}

/* Render src (as "t.tmpl"); returns the output, or NULL when the render failed. */
static const char *
render_opts (const char *src, size_t len, const struct template_opts *o)
{
  struct diags d = DIAGS_INIT;
  strbuf_reset (&outbuf);
  int r = template_render ("t.tmpl", src, len, ctx, o, &outbuf, &d);
  keep_diags (&d);
  return r == 0 ? outbuf.buf : NULL;
}

static const char *
render (const char *src)
{
  return render_opts (src, strlen (src), NULL);
}

static const char *
render_p (const char *src)
{
  struct template_opts o = { dir, 0 };
  return render_opts (src, strlen (src), &o);
}

static void
test_variables (void)
{
  CHECK_STR (render (""), "");
  CHECK_STR (render ("no tags at all\n"), "no tags at all\n");
  CHECK_STR (render ("hello {{name}}!"), "hello world!");
  CHECK_STR (render ("{{ name }}|{{\tname\t}}"), "world|world");
  CHECK_STR (render ("{{cuda.version}}/{{cuda.major}}"), "12.4/12");
  CHECK_STR (render ("{{deep.a.b.c}}"), "abc");
  CHECK_STR (render ("{{ratio}} {{big_real}} {{neg}} {{yes}} {{no}}"), "0.5 1e+20 -3 true false");
  CHECK_STR (render ("{{my-var}} {{under_score}}"), "dash under");
  /* No escaping at all: the output is a Dockerfile, not HTML. */
  CHECK_STR (render ("{{shell}}"), "a && b <c> \"d\" 'e' $f \\");
  CHECK_STR (render ("a {{! a comment }}b"), "a b");
  CHECK_STR (render ("a {{! spans\nlines }}b"), "a b");
  CHECK_STR (render ("{ {x} } }} {"), "{ {x} } }} {");
}

static void
test_lookup (void)
{
  /* Inside a section: the item first, then outwards. */
  CHECK_STR (render ("{{#layers}}{{name}}:{{tag}} {{/layers}}"), "cuda:t1 cudnn:t1 ");
  /* The innermost context that has the first segment wins, even if the rest is not there. */
  CHECK_STR (render ("{{#layers}}{{cuda.version}} {{/layers}}"), "12.4 12.4 ");
  CHECK (render ("{{#shadow}}{{cuda.version}}{{/shadow}}") == NULL);
  CHECK_STR (err, "1:12: unknown variable 'cuda.version'");
  /* {{.}} is the current item; a section on a scalar pushes nothing. */
  CHECK_STR (render ("{{#list}}{{.}},{{/list}}"), "a,b,");
  CHECK_STR (render ("{{#list}}{{#yes}}[{{.}}]{{/yes}}{{/list}}"), "[a][b]");
  CHECK_STR (render ("{{#name}}[{{name}}]{{/name}}"), "[world]");
  /* A segment below a scalar is unknown. */
  CHECK (render ("{{name.x}}") == NULL);
  CHECK_STR (err, "1:1: unknown variable 'name.x'");
}

static void
test_sections (void)
{
  CHECK_STR (render ("{{#layers}}[{{name}}]{{/layers}}"), "[cuda][cudnn]");
  CHECK_STR (render ("{{#cuda}}{{version}}{{/cuda}}"), "12.4");
  CHECK_STR (render ("{{#emptyobj}}once{{/emptyobj}}"), "once");
  CHECK_STR (render ("{{#yes}}on{{/yes}}{{#no}}off{{/no}}"), "on");
  CHECK_STR (render ("{{#name}}s{{/name}}{{#blank}}b{{/blank}}"), "s");
  CHECK_STR (render ("{{#cuda.major}}n{{/cuda.major}}{{#zero}}z{{/zero}}{{#zeroreal}}r{{/zeroreal}}"), "n");
  CHECK_STR (render ("{{#empty}}x{{/empty}}{{#nothing}}y{{/nothing}}"), "");
  /* Nested lists, and a list of lists walked with {{#.}}. */
  CHECK_STR (render ("{{#nested}}{{#items}}{{.}}{{/items}};{{/nested}}"), "12;3;");
  CHECK_STR (render ("{{#matrix}}[{{#.}}{{.}}{{/.}}]{{/matrix}}"), "[12][34]");
  CHECK_STR (render ("{{#layers}}{{#list}}{{name}}{{.}} {{/list}}{{/layers}}"), "cudaa cudab cudnna cudnnb ");
}

static void
test_inverted (void)
{
  CHECK_STR (render ("{{^empty}}e{{/empty}}{{^nothing}}n{{/nothing}}{{^blank}}b{{/blank}}"), "enb");
  CHECK_STR (render ("{{^no}}f{{/no}}{{^zero}}0{{/zero}}{{^zeroreal}}r{{/zeroreal}}"), "f0r");
  CHECK_STR (render ("{{^yes}}x{{/yes}}{{^layers}}x{{/layers}}{{^cuda}}x{{/cuda}}{{^name}}x{{/name}}"), "");
  CHECK_STR (render ("{{#cuda.full}}{{cuda.full}}{{/cuda.full}}{{^cuda.full}}{{cuda.version}}{{/cuda.full}}"),
             "12.4");
  /* Missing is an error, not "false": {{^nosuch}} is a typo. */
  CHECK (render ("{{^missing}}x{{/missing}}") == NULL);
  CHECK_STR (err, "1:1: unknown variable 'missing'");
  CHECK (render ("{{#missing}}x{{/missing}}") == NULL);
  CHECK_STR (err, "1:1: unknown variable 'missing'");
}

static void
test_standalone (void)
{
  CHECK_STR (render ("a\n{{#layers}}\n- {{name}}\n{{/layers}}\nb\n"), "a\n- cuda\n- cudnn\nb\n");
  CHECK_STR (render ("a\n  {{#yes}}  \n x\n\t{{/yes}}\nb\n"), "a\n x\nb\n");
  CHECK_STR (render ("a\n{{^yes}}\nx\n{{/yes}}\nb\n"), "a\nb\n");
  CHECK_STR (render ("a\n  {{! comment line }}  \nb"), "a\nb");
  CHECK_STR (render ("{{! first\n    line }}\nFROM x\n"), "FROM x\n");
  CHECK_STR (render ("{{#yes}}\nx\n{{/yes}}"), "x\n"); /* last line without a newline */
  CHECK_STR (render ("a\r\n{{#yes}}\r\nx\r\n{{/yes}}\r\n"), "a\r\nx\r\n");
  /* Not standalone: other text, or a second tag, on the line. */
  CHECK_STR (render ("a {{#yes}}\nx{{/yes}} b"), "a \nx b");
  CHECK_STR (render ("{{#yes}}{{/yes}}\nx"), "\nx");
  /* A variable never makes a line standalone, even an empty one. */
  CHECK_STR (render ("{{blank}}\nx"), "\nx");
  CHECK_STR (render ("  {{blank}}  \nx"), "    \nx");
}

static void
write_file (const char *name, const char *text)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, name);
  FILE *f = fopen (path, "w");
  CHECK (f != NULL);
  if (f == NULL)
    return;
  fputs (text, f);
  fclose (f);
}

static void
test_partials (void)
{
  CHECK_STR (render_p ("{{> partials/env}}"), "ENV A=world \\\n    B=2\n");
  CHECK_STR (render_p ("<{{>inline}}>"), "<in-world>");
  /* Partials see the context stack of their tag. */
  CHECK_STR (render_p ("{{#layers}}{{>item}}{{/layers}}"), "- cuda t1\n- cudnn t1\n");
  /* Standalone: the tag's line goes, every line of the partial gets its indentation. */
  CHECK_STR (render_p ("x\n  {{> partials/env}}\ny\n"), "x\n  ENV A=world \\\n      B=2\ny\n");
  CHECK_STR (render_p ("x\n\t{{>outer}}\ny\n"), "x\n\touter\n\t  ENV A=world \\\n\t      B=2\n\tend\ny\n");
  /* Only the partial's own lines are indented, not a value's line breaks. */
  CHECK_STR (render_p ("  {{>multi}}\n"), "  [one\ntwo]\n  end\n");
  /* Inside a line, a partial continues the line and is not indented. */
  CHECK_STR (render_p ("  <{{> partials/env}}>"), "  <ENV A=world \\\n    B=2\n>");
  /* Recursion is fine while the data ends it. */
  CHECK_STR (render_p ("{{#tree}}{{>node}}{{/tree}}"), "a(b()c(d()))");
}

static void
test_partial_errors (void)
{
  CHECK (render_p ("x\n {{>missing}}") == NULL);
  cleanup_free char *want = xasprintf ("2:2: cannot read partial '%s/missing.tmpl': No such file or directory", dir);
  CHECK_STR (err, want);
  CHECK_INT (err_len, 12);
  CHECK (render_p ("{{>self}}") == NULL);
  CHECK_STR (err, "1:1: partial 'self' nests more than 16 deep (does it include itself?)");
  cleanup_free char *self = xasprintf ("%s/self.tmpl", dir);
  CHECK_STR (err_file, self);
  CHECK_INT (nerr, 1);
  /* An error inside a partial is at the partial's file, line and column, once however often
     the partial is included. */
  CHECK (render_p ("{{>bad}}{{>bad}}\n{{>bad}}") == NULL);
  CHECK_STR (err, "2:3: unknown variable 'nosuch'");
  cleanup_free char *bad = xasprintf ("%s/bad.tmpl", dir);
  CHECK_STR (err_file, bad);
  CHECK_INT (nerr, 1);
  CHECK (render_p ("{{>unclosed}}") == NULL);
  CHECK_STR (err, "1:1: unclosed section 'yes'");
  CHECK (render_p ("{{>../etc/passwd}}") == NULL);
  CHECK_STR (err, "1:1: bad partial name '../etc/passwd': must not contain '..'");
  CHECK (render_p ("{{>/etc/passwd}}") == NULL);
  CHECK_STR (err, "1:1: bad partial name '/etc/passwd': must not start with '/'");
  CHECK (render_p ("{{>a//b}}") == NULL);
  CHECK_CONTAINS (err, "bad partial name 'a//b': letters, digits");
  CHECK (render ("{{>partials/env}}") == NULL);
  CHECK_STR (err, "1:1: partial 'partials/env': no partial folder is set");
}

static void
test_errors (void)
{
  CHECK (render ("a\n  {{cuda.verison}}") == NULL);
  CHECK_STR (err, "2:3: unknown variable 'cuda.verison'");
  CHECK_INT (err_len, 16);
  CHECK_STR (err_file, "t.tmpl");
  CHECK (render ("FROM x\n{{#layers}}x") == NULL);
  CHECK_STR (err, "2:1: unclosed section 'layers'");
  CHECK_INT (err_len, 11);
  CHECK (render ("{{#a}}\n  {{/b}}") == NULL);
  CHECK_STR (err, "2:3: '{{/b}}' closes '{{#a}}' opened at line 1, column 1");
  CHECK_INT (err_len, 6);
  CHECK (render ("{{^yes}}{{/no}}") == NULL);
  CHECK_STR (err, "1:9: '{{/no}}' closes '{{^yes}}' opened at line 1, column 1");
  CHECK (render ("x{{/yes}}") == NULL);
  CHECK_STR (err, "1:2: '{{/yes}}' closes nothing");
  CHECK (render ("ab {{name\nnext") == NULL);
  CHECK_STR (err, "1:4: unterminated tag: '{{' without '}}'");
  CHECK_INT (err_len, 6);
  CHECK (render ("x{{") == NULL);
  CHECK_STR (err, "1:2: unterminated tag: '{{' without '}}'");
  CHECK (render ("{{}}") == NULL);
  CHECK_STR (err, "1:1: empty tag");
  CHECK (render ("{{ # }}") == NULL);
  CHECK_STR (err, "1:1: '{{#' without a name");
  CHECK (render ("x {{{name}}}") == NULL);
  CHECK_STR (err, "1:3: '{{{' is not supported: values are never escaped, write '{{name}}'");
  CHECK_INT (err_len, 10);
  CHECK (render ("{{&name}}") == NULL);
  CHECK_STR (err, "1:1: '{{&' is not supported: values are never escaped, write '{{name}}'");
  CHECK (render ("{{=<% %>=}}") == NULL);
  CHECK_STR (err, "1:1: set-delimiter tags '{{=' are not supported");
  CHECK (render ("{{na me}}") == NULL);
  CHECK_STR (err, "1:1: bad name 'na me': letters, digits, '_' and '-', joined by '.'");
  CHECK (render ("{{a..b}} {{.a}} {{a.}} {{a/b}}") == NULL);
  CHECK_INT (nerr, 4);
  CHECK (render_opts ("{{a\0b}}", 7, NULL) == NULL);
  CHECK_STR (err, "1:1: bad name 'a?b': letters, digits, '_' and '-', joined by '.'");
  CHECK (render_opts ("{{\0name}}", 10, NULL) == NULL);
  CHECK_STR (err, "1:1: bad name '?name': letters, digits, '_' and '-', joined by '.'");
  CHECK (render ("{{#yes}}{{ 0123456789012345678901234567890123456789 xyz }}{{/yes}}") == NULL);
  CHECK_CONTAINS (err, "bad name '0123456789012345678901234567890123456789...'");
  CHECK (render ("{{layers}}") == NULL);
  CHECK_STR (err, "1:1: cannot print array 'layers': iterate it with a section");
  CHECK (render ("{{cuda}}") == NULL);
  CHECK_STR (err, "1:1: cannot print object 'cuda': name one of its fields");
  CHECK (render ("{{nothing}}") == NULL);
  CHECK_STR (err, "1:1: cannot print null 'nothing': guard it with a section");
  CHECK (render ("{{#layers}}{{nosuch}}{{/layers}}") == NULL);
  CHECK_STR (err, "1:12: unknown variable 'nosuch'");
}

static void
test_nesting_limit (void)
{
  struct strbuf sb = STRBUF_INIT;
  for (int i = 0; i < 65; i++)
    strbuf_addstr (&sb, "{{#yes}}");
  CHECK (render (sb.buf) == NULL);
  CHECK_STR (err, "1:513: sections nested more than 64 deep");
  CHECK_INT (nerr, 1);
  strbuf_release (&sb);
}

static void
test_every_error_reported (void)
{
  /* a, b, and c once (not once per layer). */
  CHECK (render ("{{a}}\n{{b}}\n{{#layers}}{{c}}{{/layers}}\n") == NULL);
  CHECK_STR (errs.buf, "1:1: unknown variable 'a'\n2:1: unknown variable 'b'\n3:12: unknown variable 'c'\n");
  /* A bad tag does not hide the unknown variables. */
  CHECK (render ("{{{x}}}\n{{typo}}") == NULL);
  CHECK_INT (nerr, 2);
  CHECK_CONTAINS (errs.buf, "2:1: unknown variable 'typo'");
  /* In the order of the file, although bad tags are found before unknown variables. */
  CHECK (render ("{{x}} {{ # }}\n{{a..b}} {{y}}") == NULL);
  CHECK_STR (errs.buf, "1:1: unknown variable 'x'\n1:7: '{{#' without a name\n"
                       "2:1: bad name 'a..b': letters, digits, '_' and '-', joined by '.'\n"
                       "2:10: unknown variable 'y'\n");
  /* Sections closed out of order: one error, then the nesting is taken up again, and the
     tree, which means nothing now, is not rendered. */
  CHECK (render ("{{#yes}}{{#cuda}}{{/yes}}{{nosuch}}") == NULL);
  CHECK_STR (errs.buf, "1:18: '{{/yes}}' closes '{{#cuda}}' opened at line 1, column 9\n");
  CHECK (render ("{{#yes}}{{/oops}}{{/yes}}") == NULL); /* a stray close */
  CHECK_INT (nerr, 1);
  CHECK (render ("{{#yes}}{{#layers}}{{/layres}}{{/yes}}") == NULL); /* a misspelt one */
  CHECK_INT (nerr, 1);
  CHECK (render ("{{#yes}}{{#layers}}{{/layres}}{{#no}}{{/no}}{{/yes}}") == NULL);
  CHECK_INT (nerr, 1);
  /* Several sections left open: each, outermost first. */
  CHECK (render ("{{#yes}}\n{{^no}}\n") == NULL);
  CHECK_STR (errs.buf, "1:1: unclosed section 'yes'\n2:1: unclosed section 'no'\n");
}

static void
test_output_cap (void)
{
  struct template_opts o = { NULL, 16 };
  CHECK_STR (render_opts ("0123456789abcdef", 16, &o), "0123456789abcdef");
  CHECK (render_opts ("0123456789\n{{name}}xx", 20, &o) == NULL);
  CHECK_STR (err, "2:9: output exceeds 16 bytes"); /* at "xx": 16 bytes fit */
  /* The cap counts what this render adds, not what the buffer held before; a failed render
     leaves the buffer as it was. */
  struct diags d = DIAGS_INIT;
  struct strbuf out = STRBUF_INIT;
  strbuf_addstr (&out, "# a header longer than sixteen bytes\n");
  size_t before = out.len;
  CHECK_INT (template_render ("t.tmpl", "0123456789", 10, ctx, &o, &out, &d), 0);
  CHECK_INT (out.len, before + 10);
  CHECK_INT (template_render ("t.tmpl", "{{nosuch}}x", 11, ctx, &o, &out, &d), -1);
  CHECK_INT (out.len, before + 10);
  CHECK_INT (strlen (out.buf), before + 10);
  diags_release (&d);
  strbuf_release (&out);
  /* Nested sections multiply: the cap stops them. */
  o.max_output = 1000;
  const char *blowup = "{{#big}}{{#big}}{{#big}}{{#big}}xxxxxxxxxx{{/big}}{{/big}}{{/big}}{{/big}}";
  CHECK (render_opts (blowup, strlen (blowup), &o) == NULL);
  CHECK_STR (err, "1:33: output exceeds 1000 bytes");
  CHECK_INT (nerr, 1);
  /* 0: the default cap, 1 MiB. */
  o.max_output = 0;
  struct strbuf sb = STRBUF_INIT;
  strbuf_addstr (&sb, "{{#big}}{{#big}}{{#big}}{{#big}}");
  for (int i = 0; i < 11; i++)
    strbuf_addstr (&sb, "0123456789");
  strbuf_addstr (&sb, "{{/big}}{{/big}}{{/big}}{{/big}}");
  CHECK (render_opts (sb.buf, sb.len, &o) == NULL);
  CHECK_CONTAINS (err, "output exceeds 1048576 bytes");
  strbuf_release (&sb);
}

static void
test_step_bound (void)
{
  /* Seven lists of ten, nested, print nothing: ten million turns, over the bound. */
  const char *src = "{{#big}}{{#big}}{{#big}}{{#big}}{{#big}}{{#big}}{{#big}}"
                    "{{/big}}{{/big}}{{/big}}{{/big}}{{/big}}{{/big}}{{/big}}";
  CHECK (render (src) == NULL);
  CHECK_CONTAINS (err, "rendering takes more than 2000000 steps");
  CHECK_INT (nerr, 1);
}

static void
test_file (void)
{
  struct diags d = DIAGS_INIT;
  struct strbuf out = STRBUF_INIT;
  CHECK_INT (template_render_file ("/nonexistent/x.tmpl", ctx, NULL, &out, &d), -1);
  CHECK_INT (d.n, 1);
  CHECK_INT (d.v[0].mark.line, 0);
  CHECK_STR (d.v[0].msg, "cannot read template '/nonexistent/x.tmpl': No such file or directory");
  diags_release (&d);

  cleanup_free char *path = xasprintf ("%s/runtime.Dockerfile.tmpl", dir);
  CHECK_INT (template_render_file (path, ctx, NULL, &out, &d), 0);
  CHECK_STR (out.buf, "FROM base\nADD cuda\nADD cudnn\n");
  strbuf_reset (&out);
  cleanup_free char *typo = xasprintf ("%s/typo.tmpl", dir);
  CHECK_INT (template_render_file (typo, ctx, NULL, &out, &d), -1);
  CHECK_INT (d.n, 1);
  CHECK_STR (d.v[0].file, typo);
  CHECK_STR (d.v[0].msg, "unknown variable 'cuda.verison'");
  CHECK_INT (d.v[0].mark.line, 2);
  CHECK_INT (d.v[0].mark.col, 10);
  diags_release (&d);

  cleanup_free char *huge = xasprintf ("%s/huge.tmpl", dir);
  FILE *f = fopen (huge, "w");
  CHECK (f != NULL);
  for (int i = 0; f && i < (1 << 20) / 64 + 1; i++)
    fputs ("0123456789012345678901234567890123456789012345678901234567890123", f);
  if (f)
    fclose (f);
  CHECK_INT (template_render_file (huge, ctx, NULL, &out, &d), -1);
  CHECK_CONTAINS (d.n ? d.v[0].msg : NULL, "larger than 1 MiB");
  diags_release (&d);
  strbuf_release (&out);
}

static void
make_fixtures (void)
{
  CHECK (mkdtemp (dir) != NULL);
  cleanup_free char *sub = xasprintf ("%s/partials", dir);
  CHECK_INT (mkdir (sub, 0755), 0);
  write_file ("partials/env.tmpl", "ENV A={{name}} \\\n    B=2\n");
  write_file ("inline.tmpl", "in-{{name}}");
  write_file ("item.tmpl", "- {{name}} {{tag}}\n");
  write_file ("outer.tmpl", "outer\n  {{> partials/env}}\nend\n");
  write_file ("multi.tmpl", "[{{twolines}}]\nend\n");
  write_file ("node.tmpl", "{{name}}({{#kids}}{{>node}}{{/kids}})");
  write_file ("self.tmpl", "{{>self}}");
  write_file ("bad.tmpl", "x\n  {{nosuch}}\n");
  write_file ("unclosed.tmpl", "{{#yes}}");
  write_file ("runtime.Dockerfile.tmpl", "FROM base\n{{#layers}}\nADD {{name}}\n{{/layers}}\n");
  write_file ("typo.tmpl", "FROM base\nENV CUDA={{cuda.verison}}\n");
}

int
main (void)
{
  json_error_t je;
  ctx = json_loads ("{\"name\":\"world\",\"tag\":\"t1\",\"ratio\":0.5,\"big_real\":1e20,\"neg\":-3,"
                    "\"yes\":true,\"no\":false,\"my-var\":\"dash\",\"under_score\":\"under\","
                    "\"shell\":\"a && b <c> \\\"d\\\" 'e' $f \\\\\",\"twolines\":\"one\\ntwo\","
                    "\"empty\":[],\"emptyobj\":{},\"nothing\":null,\"blank\":\"\",\"zero\":0,"
                    "\"zeroreal\":0.0,\"list\":[\"a\",\"b\"],\"deep\":{\"a\":{\"b\":{\"c\":\"abc\"}}},"
                    "\"cuda\":{\"version\":\"12.4\",\"major\":12,\"full\":null},"
                    "\"shadow\":[{\"cuda\":{\"other\":1}}],"
                    "\"layers\":[{\"name\":\"cuda\"},{\"name\":\"cudnn\"}],"
                    "\"nested\":[{\"items\":[1,2]},{\"items\":[3]}],\"matrix\":[[1,2],[3,4]],"
                    "\"tree\":{\"name\":\"a\",\"kids\":[{\"name\":\"b\",\"kids\":[]},"
                    "{\"name\":\"c\",\"kids\":[{\"name\":\"d\",\"kids\":[]}]}]},"
                    "\"big\":[1,2,3,4,5,6,7,8,9,10]}",
                    0, &je);
  CHECK (ctx != NULL);
  if (ctx == NULL)
    {
      fprintf (stderr, "context: %s\n", je.text);
      return check_summary ("template");
    }
  make_fixtures ();
  test_variables ();
  test_lookup ();
  test_sections ();
  test_inverted ();
  test_standalone ();
  test_partials ();
  test_partial_errors ();
  test_errors ();
  test_nesting_limit ();
  test_every_error_reported ();
  test_output_cap ();
  test_step_bound ();
  test_file ();
  cleanup_free char *cmd = xasprintf ("rm -rf '%s'", dir);
  CHECK_INT (system (cmd), 0);
  json_decref (ctx);
  strbuf_release (&outbuf);
  strbuf_release (&errs);
  return check_summary ("template");
}
