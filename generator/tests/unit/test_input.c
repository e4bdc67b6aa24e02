/* test_input.c: hostile matrix.yaml input (issue 13): what 1 MiB of it costs in output, where
   carets stand on long and multibyte lines, where libyaml's reader errors are placed, keys
   with NUL bytes, terminal escapes, numbers that do not fit, and pcgen's reserved labels. */
#include "check.h"
#include "diag.h"
#include "kb.h"
#include "matrix.h"
#include "plan.h"
#include "render.h"
#include "strbuf.h"
#include "util.h"
#include "ytree.h"

#include <jansson.h>
#include <stdlib.h>

static struct kb kb;

static const char head[] = "repository: myrepo/pytorch-cuda\nbase: debian-bookworm\npython: \"3.11\"\n"
                           "cuda: [\"12.4\"]\nflavors: [runtime]\n";

/* What `pcgen validate` does with a text: load, plan, print every diagnostic. Returns the
   printed text (caller frees); *longest is its longest line. */
static char *
validate_output (const char *text, size_t len, size_t *size, size_t *longest)
{
  struct diags d = DIAGS_INIT;
  struct matrix m;
  if (matrix_load_text ("m.yaml", text, len, &m, &d) == 0)
    {
      struct plan p;
      plan_build (&m, &kb, &p, &d);
      plan_release (&p);
    }
  char *out = NULL;
  FILE *f = open_memstream (&out, size);
  diags_print_len (&d, "m.yaml", text, len, f);
  fclose (f);
  *longest = 0;
  for (const char *p = out; *p;)
    {
      size_t n = strcspn (p, "\n");
      if (n > *longest)
        *longest = n;
      p += n + (p[n] == '\n');
    }
  matrix_release (&m);
  diags_release (&d);
  return out;
}

/* A text of about 1 MiB: head, then `line` repeated (with i substituted) up to the size. */
static char *
hostile (const char *prefix, const char *item, const char *sep, const char *suffix, size_t *len)
{
  struct strbuf sb = STRBUF_INIT;
  strbuf_addstr (&sb, head);
  strbuf_addstr (&sb, prefix);
  for (size_t i = 0; sb.len < (1u << 20) - 256; i++)
    {
      if (i)
        strbuf_addstr (&sb, sep);
      strbuf_addf (&sb, item, i % 1000, i / 1000);
    }
  strbuf_addstr (&sb, suffix);
  return strbuf_detach (&sb, len);
}

/* Every 1 MiB hostile matrix prints a bounded report: 200 diagnostics at most, each message
   at most 1024 bytes before escaping (4 bytes per byte at worst), source lines cut to about
   100 columns. Before the fix, one 86,000-item line printed 204 MB in 106 s. */
static void
test_output_bounded (void)
{
  struct
  {
    const char *name, *prefix, *item, *sep, *suffix;
  } inputs[] = {
    { "one line of duplicates", "torch: [", "\"2.6.0\"", ", ", "]\n" },
    { "one line of distinct versions", "torch: [", "%zu.%zu", ", ", "]\n" },
    { "a mapping of unknown keys", "", "x%zu_%zu: 1", "\n", "\n" },
    { "one line of unknown keys", "labels: {", "Bad%zu.%zu: 1", ", ", "}\n" },
    { "keys with terminal escapes", "", "\"\\e[2J\\e]0;%zu\\a%zu\": 1", "\n", "\n" },
    { "one huge label value", "labels:\n  org.example.x: \"", "%zu%zu", "", "\"\n" },
    { "long unknown versions", "torch: [", "%zu.0000000000000000000000000000000000000000000000000000000000000000000"
                                          "00000000000000000000000000000000000000000000000000000000000000000000"
                                          "00000000000000000000000000000000000000000000000000000000000000000000"
                                          "0000000000000000000000000000000000000000000000000000000000000.%zu",
      ", ", "]\n" },
    { "one line of multibyte characters", "labels: {org.example.x: \"", "\xc3\xa9\xe2\x80\x94%zu%zu", "",
      "\"}\n" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (inputs); i++)
    {
      size_t len, size, longest;
      cleanup_free char *text = hostile (inputs[i].prefix, inputs[i].item, inputs[i].sep, inputs[i].suffix, &len);
      cleanup_free char *out = validate_output (text, len, &size, &longest);
      if (size > 512 * 1024 || longest > 4 * 1024 + 200)
        fprintf (stderr, "%s: %zu bytes in, %zu bytes out, longest line %zu\n", inputs[i].name, len, size, longest);
      CHECK (len >= (1u << 20) - 256);
      CHECK (size > 0);
      CHECK (size <= 512 * 1024);
      CHECK (longest <= 4 * 1024 + 200);
    }
}

/* The caret line under a source line: the column (in characters) of '^' and the character of
   the source line printed above it at that column. */
static void
caret_of (const char *out, size_t *col, char *under, size_t under_size)
{
  const char *src = strstr (out, " | ");
  const char *caret = src ? strstr (src + 3, " | ") : NULL;
  *col = 0;
  under[0] = '\0';
  if (!caret)
    return;
  const char *c = strchr (caret + 3, '^');
  if (!c)
    return;
  *col = (size_t) (c - (caret + 3));
  /* Walk the source line by characters. */
  const char *p = src + 3;
  for (size_t i = 0; i < *col && *p && *p != '\n'; i++)
    {
      unsigned cp;
      size_t n = utf8_decode (p, strlen (p), &cp);
      p += n ? n : 1;
    }
  unsigned cp;
  size_t n = utf8_decode (p, strlen (p), &cp);
  snprintf (under, under_size, "%.*s", (int) (n ? n : 1), p);
}

static char *
print_one (const char *src, int line, int col, int len)
{
  struct diags d = DIAGS_INIT;
  diag_add (&d, "t.yaml", (struct mark) { line, col, len }, "here");
  char *out = NULL;
  size_t size;
  FILE *f = open_memstream (&out, &size);
  diags_print_len (&d, "t.yaml", src, strlen (src), f);
  fclose (f);
  diags_release (&d);
  return out;
}

static void
test_carets (void)
{
  size_t col;
  char under[8];

  /* A short line is shown whole, as before. */
  cleanup_free char *a = print_one ("key: value\n", 1, 6, 5);
  CHECK_STR (a, "t.yaml:1:6: error: here\n    1 | key: value\n      |      ^~~~~\n");

  /* A wide line: a window of about 100 columns with '…' at both cuts, the caret under the
     character libyaml's column names (columns count characters, not bytes). */
  struct strbuf sb = STRBUF_INIT;
  for (int i = 0; i < 3000; i++)
    strbuf_addstr (&sb, "\xc3\xa9"); /* é */
  strbuf_addch (&sb, 'X');
  for (int i = 0; i < 3000; i++)
    strbuf_addstr (&sb, "\xe2\x80\x94"); /* — */
  strbuf_addch (&sb, '\n');
  cleanup_free char *b = print_one (sb.buf, 1, 3001, 1);
  caret_of (b, &col, under, sizeof under);
  CHECK_STR (under, "X");
  CHECK (strstr (b, "    1 | \xe2\x80\xa6") != NULL); /* cut before */
  CHECK (strstr (b, "\xe2\x80\xa6\n") != NULL);         /* cut after */
  CHECK (strlen (b) < 600);

  /* Near the start of a wide line: no cut before, the caret under its character. */
  cleanup_free char *c = print_one (sb.buf, 1, 3, 1);
  caret_of (c, &col, under, sizeof under);
  CHECK_INT (col, 2);
  CHECK_STR (under, "\xc3\xa9");
  CHECK (strstr (c, "    1 | \xc3\xa9") != NULL);

  /* At the very end of a wide line (a missing value): one past the last character. */
  cleanup_free char *e = print_one (sb.buf, 1, 6002, 1);
  CHECK (strstr (e, "\xe2\x80\x94\n      |") != NULL);
  strbuf_release (&sb);

  /* libyaml counts columns in characters, which is what the caret walks. */
  struct diags yd = DIAGS_INIT;
  struct ynode *root = NULL;
  const char *y = "a: [\xc3\xa9\xc3\xa9, y]\n";
  CHECK_INT (ytree_parse ("t.yaml", y, strlen (y), &root, &yd), 0);
  const struct ynode *list = ymap_get (root, "a");
  CHECK_INT (list && list->n == 2 ? list->kids[1]->mark.col : 0, 9);
  ynode_free (root);
  diags_release (&yd);

  /* And lines as diag.c splits them: CR, NEL and LS each end one. */
  const char *breaks[] = { "a: 1\rb: [x, y]\n", "a: 1\xc2\x85" "b: [x, y]\n", "a: 1\xe2\x80\xa8" "b: [x, y]\n",
                           "a: 1\r\nb: [x, y]\n" };
  for (size_t i = 0; i < ARRAY_SIZE (breaks); i++)
    {
      root = NULL;
      CHECK_INT (ytree_parse ("t.yaml", breaks[i], strlen (breaks[i]), &root, &yd), 0);
      list = ymap_get (root, "b");
      CHECK_INT (list && list->n == 2 ? list->kids[1]->mark.line : 0, 2);
      CHECK_INT (list && list->n == 2 ? list->kids[1]->mark.col : 0, 8);
      ynode_free (root);
      diags_release (&yd);
    }

  /* Control characters are escaped in the line, and the caret and its span cover the escape. */
  cleanup_free char *f = print_one ("a\x1b" "b\n", 1, 2, 1);
  CHECK_STR (f, "t.yaml:1:2: error: here\n    1 | a\\x1bb\n      |  ^~~~\n");

  /* Lines split where libyaml splits them: CR alone, NEL and LS are line breaks to it. */
  cleanup_free char *g = print_one ("one\rtwo\xc2\x85three\xe2\x80\xa8" "four\n", 4, 1, 4);
  CHECK (strstr (g, "    4 | four\n") != NULL);
  /* A NUL byte does not end the text: the line after it is found. */
  const char nul[] = "a: 1\0b\nc: 2\n";
  struct diags d = DIAGS_INIT;
  diag_add (&d, "t.yaml", (struct mark) { 2, 1, 1 }, "here");
  char *out = NULL;
  size_t size;
  FILE *fp = open_memstream (&out, &size);
  diags_print_len (&d, "t.yaml", nul, sizeof nul - 1, fp);
  fclose (fp);
  CHECK_CONTAINS (out, "    2 | c: 2\n");
  free (out);
  diags_release (&d);
}

/* Messages are escaped and kept short: an unknown key with terminal escapes reaches stderr as
   text, never as an escape sequence, and C1 controls (U+009B is CSI) and bidi controls too. */
static void
test_escaped_messages (void)
{
  const char *y = "\"\\e]0;owned\\a\\u009b2J\\u202e\": 1\n";
  struct diags d = DIAGS_INIT;
  struct matrix m;
  CHECK_INT (matrix_load_text ("m.yaml", y, strlen (y), &m, &d), -1);
  char *out = NULL;
  size_t size;
  FILE *f = open_memstream (&out, &size);
  diags_print_len (&d, "m.yaml", y, strlen (y), f);
  fclose (f);
  CHECK_CONTAINS (out, "unknown key '\\x1b]0;owned\\x07\\u{9b}2J\\u{202e}' in the matrix");
  CHECK (strchr (out, 0x1b) == NULL);
  CHECK (strstr (out, "\xc2\x9b") == NULL);
  free (out);
  matrix_release (&m);
  diags_release (&d);

  /* A long message keeps its head and its tail. */
  struct strbuf big = STRBUF_INIT;
  for (int i = 0; i < 5000; i++)
    strbuf_addch (&big, 'v');
  diag_add (&d, "t", (struct mark) { 0, 0, 0 }, "head '%s' tail", big.buf);
  CHECK (strlen (d.v[0].msg) <= 1024 + 3);
  CHECK (strncmp (d.v[0].msg, "head 'vvv", 9) == 0);
  CHECK (ends_with (d.v[0].msg, "vvv' tail"));
  CHECK_CONTAINS (d.v[0].msg, "\xe2\x80\xa6");
  strbuf_release (&big);
  diags_release (&d);
}

/* libyaml's reader refuses NUL, control characters and bad UTF-8 with a byte offset, no mark:
   the error stands at that byte, not at 1:1. */
static void
test_reader_errors (void)
{
  struct
  {
    const char *text;
    size_t len;
    int line, col;
  } cases[] = {
    { "a: 1\nb: x\0y\n", 12, 2, 5 },
    { "a: 1\nbb: caf\xe9\n", 13, 2, 8 },
    { "a: 1\nb: \xc3\xa9\xc3\xa9\xff\n", 14, 2, 6 },
    { "a: 1\rb: 2\r\nc: \x01\n", 16, 3, 4 },
    { "\xef\xbb\xbf" "a: \x02\n", 8, 1, 4 },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      struct diags d = DIAGS_INIT;
      struct ynode *root;
      CHECK_INT (ytree_parse ("t.yaml", cases[i].text, cases[i].len, &root, &d), -1);
      CHECK_INT (d.n, 1);
      if (d.n == 0)
        continue;
      CHECK_INT (d.v[0].mark.line, cases[i].line);
      CHECK_INT (d.v[0].mark.col, cases[i].col);
      if (d.v[0].mark.line != cases[i].line || d.v[0].mark.col != cases[i].col)
        fprintf (stderr, "reader error %zu: %s at %d:%d\n", i, d.v[0].msg, d.v[0].mark.line, d.v[0].mark.col);
      diags_release (&d);
    }
}

/* "repository\0" is not a second spelling of "repository". */
static void
test_nul_in_key (void)
{
  const char *y = "repository: a/b\n\"repository\\0\": c/d\n";
  struct diags d = DIAGS_INIT;
  struct ynode *root;
  root = NULL;
  CHECK_INT (ytree_parse ("t.yaml", y, strlen (y), &root, &d), -1);
  ynode_free (root);
  CHECK_INT (d.n, 1);
  CHECK_STR (d.n ? d.v[0].msg : NULL, "a key contains a NUL byte (byte 11): not allowed");
  CHECK_INT (d.n ? d.v[0].mark.line : 0, 2);
  diags_release (&d);

  /* Duplicates are compared as bytes, in linear time, keeping the first's place. */
  const char *dup = "a: 1\nb: 2\nc: 3\nb: 4\n";
  CHECK_INT (ytree_parse ("t.yaml", dup, strlen (dup), &root, &d), -1);
  CHECK_STR (d.n ? d.v[0].msg : NULL, "duplicate key 'b' (first at line 2, column 1)");
  diags_release (&d);
}

static void
test_numbers (void)
{
  /* No wrap-around: 2^64 + 1 is not 1, 2^64 + 535 is not 535. */
  CHECK (version_cmp ("18446744073709551617", "520.61.05") > 0);
  CHECK (version_cmp ("18446744073709552151", "550.54.14") > 0);
  CHECK (version_cmp ("535.0018446744073709552151", "535.104.05") > 0);
  CHECK (version_cmp ("0550.054.14", "550.54.14") == 0);
  CHECK (version_cmp ("12.4", "12.10") < 0);
  size_t n;
  CHECK (version_too_big ("535.104.05", &n) == NULL);
  CHECK (version_too_big ("4294967295.0", &n) == NULL);
  CHECK (version_too_big ("00000000004294967295", &n) == NULL);
  const char *v = "535.4294967296.1";
  CHECK (version_too_big (v, &n) == v + 4);
  CHECK_INT (n, 10);
  v = "18446744073709551617";
  CHECK (version_too_big (v, &n) == v);

  /* In matrix.yaml: refused at the value. */
  cleanup_free char *y = xasprintf ("%storch: [\"2.18446744073709551622\"]\n", head);
  struct diags d = DIAGS_INIT;
  struct matrix m;
  CHECK_INT (matrix_load_text ("m.yaml", y, strlen (y), &m, &d), -1);
  CHECK_STR (d.n ? d.v[0].msg : NULL, "torch version '2.18446744073709551622' has the number 18446744073709551622, "
                                      "larger than 4294967295: expected digits and dots, like 12.4");
  matrix_release (&m);
  diags_release (&d);
}

static void
test_strset_and_tags (void)
{
  struct strset s = STRSET_INIT;
  char names[2000][8];
  for (int i = 0; i < 2000; i++)
    {
      snprintf (names[i], sizeof names[i], "n%d", i);
      CHECK (strset_add (&s, names[i], strlen (names[i]), (size_t) i) == (size_t) -1);
    }
  CHECK_INT (strset_add (&s, "n1234", 5, 7), 1234);
  CHECK_INT (strset_add (&s, "n1234\0", 6, 7), -1); /* bytes, not C strings */
  CHECK_INT (s.n, 2001);
  strset_release (&s);

  CHECK (is_docker_tag ("v2.6-prod"));
  CHECK (is_docker_tag ("_x"));
  CHECK (!is_docker_tag ("v}1"));
  CHECK (!is_docker_tag ("-x"));
  CHECK (!is_docker_tag (".x"));
  CHECK (!is_docker_tag (""));
  char t[130];
  memset (t, 'a', 129);
  t[129] = '\0';
  CHECK (!is_docker_tag (t));
  t[128] = '\0';
  CHECK (is_docker_tag (t));
}

/* Every label pcgen writes is reserved, so no matrix label can replace it: the reserved list
   in matrix.c and the labels of render.c cannot drift apart unnoticed. */
static void
test_reserved_labels (void)
{
  cleanup_free char *y = xasprintf ("repository: myrepo/pytorch-cuda\nbase: debian-bookworm\npython: \"3.11\"\n"
                                    "torch: [\"2.6.0\"]\ncuda: [\"12.4\"]\nflavors: [runtime, devel]\n"
                                    "labels:\n  org.example.team: ml\n");
  struct diags d = DIAGS_INIT;
  struct matrix m;
  struct plan p;
  CHECK_INT (matrix_load_text ("m.yaml", y, strlen (y), &m, &d), 0);
  CHECK_INT (plan_build (&m, &kb, &p, &d), 0);
  size_t seen = 0;
  for (size_t i = 0; i < p.ntags; i++)
    {
      json_t *ctx = render_context (&p, &p.tags[i]);
      json_t *labels = json_object_get (ctx, "labels"), *l;
      size_t k;
      json_array_foreach (labels, k, l)
        {
          const char *key = json_string_value (json_object_get (l, "key"));
          if (strcmp (key, "org.example.team") == 0)
            continue;
          seen++;
          if (!matrix_label_reserved (key))
            fprintf (stderr, "label '%s' is set by pcgen but not reserved\n", key);
          CHECK (matrix_label_reserved (key));
        }
      json_decref (ctx);
    }
  CHECK (seen > 10);
  /* The generator label of the template too. */
  CHECK (matrix_label_reserved ("io.pytorch-cuda.generator"));
  CHECK (matrix_label_reserved ("io.pytorch-cuda"));
  CHECK (!matrix_label_reserved ("io.pytorch-cudax"));
  CHECK (!matrix_label_reserved ("org.opencontainers.image.vendor"));
  plan_release (&p);
  matrix_release (&m);
  diags_release (&d);
}

int
main (void)
{
  struct diags d = DIAGS_INIT;
  const char *dir = getenv ("PCGEN_DATA");
  CHECK_INT (kb_load (dir ? dir : "generator/data", &kb, &d), 0);
  diags_print (&d, NULL, NULL, stderr);
  diags_release (&d);
  test_output_bounded ();
  test_carets ();
  test_escaped_messages ();
  test_reader_errors ();
  test_nul_in_key ();
  test_numbers ();
  test_strset_and_tags ();
  test_reserved_labels ();
  kb_release (&kb);
  return check_summary ("input");
}
