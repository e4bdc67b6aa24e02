/* cmd_kb.c: `pcgen kb update [--check]`: the torch releases PyPI has and the knowledge base
   lacks, each one's facts read from its x86_64 wheel's METADATA and written into
   generator/data/torch.yaml (docker-library's versions.sh, for torch). */
#include "cmd.h"
#include "exitcode.h"
#include "fsutil.h"
#include "kb.h"
#include "wheel.h"
#include "pypi.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char kb_usage[]
    = "usage: pcgen kb update [--check] [--index URL]\n"
      "List the torch releases on PyPI that generator/data/torch.yaml lacks and add each one,\n"
      "read from its x86_64 wheel's METADATA (PEP 658 .metadata, else HTTP range requests, else the\n"
      "whole wheel): Python range, PyPI's CUDA variant, cuDNN and every exact CUDA pin. What the\n"
      "wheel cannot tell (arch lists, the variants on PyTorch's own index) is marked unknown.\n"
      "A release counts as missing when it is newer than every release of its line the knowledge\n"
      "base knows; lines older than its oldest release are not tracked.\n"
      "  --check      change nothing; list the missing releases\n"
      "  --index URL  the simple API (default $PCGEN_PYPI_SIMPLE, else " DEFAULT_PYPI_SIMPLE ")\n"
      "exit: 0 up to date (or updated), 1 --check found missing releases or the update was refused,\n"
      "      2 usage, 3 network or I/O\n";

/* A release on the index: its version and the files of it we may read. */
struct release
{
  char *version;
  size_t wheel;     /* index into the project's files: the x86_64 wheel read */
  int wheel_score;
  char *python_min_tag, *python_max_tag; /* "3.11", from the cpXY tags of its x86_64 wheels */
  char *upload_time;
};

static int
is_release_version (const char *v)
{
  /* Final releases only: PEP 440 pre-releases ("2.0.0rc1"), dev and local versions are not. */
  return is_version (v) && strchr (v, '.') != NULL;
}

/* "cp311" -> "3.11", else NULL. */
static char *
cp_python (const char *tag)
{
  if (!starts_with (tag, "cp") || !isdigit ((unsigned char) tag[2]) || !isdigit ((unsigned char) tag[3]))
    return NULL;
  for (const char *p = tag + 3; *p; p++)
    if (!isdigit ((unsigned char) *p))
      return NULL;
  return xasprintf ("%c.%s", tag[2], tag + 3);
}

static int
is_linux_x86_64 (const char *platform)
{
  /* manylinux1_x86_64, manylinux_2_28_x86_64, or several joined with '.' (PEP 425). */
  return strstr (platform, "linux") && strstr (platform, "x86_64");
}

/* The wheel to read: CPython 3.11's (the Python of the default base, and the file every
   existing source names), else the oldest CPython's; never a free-threaded (t) build. */
static int
wheel_score (const struct wheel_name *w, const char *py)
{
  if (ends_with (w->abi, "t"))
    return 0;
  if (streq (py, "3.11"))
    return 1000;
  return 999 - atoi (py + 2);
}

static void
releases_free (struct release *r, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (r[i].version);
      free (r[i].python_min_tag);
      free (r[i].python_max_tag);
    }
  free (r);
}

static int
cmp_release (const void *a, const void *b)
{
  return version_cmp (((const struct release *) a)->version, ((const struct release *) b)->version);
}

/* The releases of the project page that have a Linux x86_64 CPython wheel not yanked. */
static struct release *
collect_releases (const struct pypi_project *p, size_t *n)
{
  struct release *r = NULL;
  size_t alloc = 0;
  *n = 0;
  for (size_t i = 0; i < p->nfiles; i++)
    {
      const struct pypi_file *f = &p->files[i];
      struct wheel_name w;
      if (f->yanked || wheel_name_parse (f->filename, &w) < 0)
        continue;
      cleanup_free char *py = cp_python (w.python);
      if (py && is_linux_x86_64 (w.platform) && is_release_version (w.version))
        {
          size_t j = 0;
          while (j < *n && strcmp (r[j].version, w.version) != 0)
            j++;
          if (j == *n)
            {
              ARRAY_GROW (r, *n + 1, alloc);
              memset (&r[j], 0, sizeof r[j]);
              r[j].version = xstrdup (w.version);
              r[j].wheel = (size_t) -1;
              (*n)++;
            }
          int s = wheel_score (&w, py);
          if (r[j].wheel == (size_t) -1 || s > r[j].wheel_score)
            {
              r[j].wheel = i;
              r[j].wheel_score = s;
              r[j].upload_time = f->upload_time;
            }
          if (r[j].python_min_tag == NULL || version_cmp (py, r[j].python_min_tag) < 0)
            {
              free (r[j].python_min_tag);
              r[j].python_min_tag = xstrdup (py);
            }
          if (r[j].python_max_tag == NULL || version_cmp (py, r[j].python_max_tag) > 0)
            {
              free (r[j].python_max_tag);
              r[j].python_max_tag = xstrdup (py);
            }
        }
      wheel_name_release (&w);
    }
  qsort (r, *n, sizeof *r, cmp_release);
  return r;
}

static int
same_line (const char *a, const char *b)
{
  int am = 0, an = 0, bm = 0, bn = 0;
  sscanf (a, "%d.%d", &am, &an);
  sscanf (b, "%d.%d", &bm, &bn);
  return am == bm && an == bn;
}

/* Missing: not known, not older than the oldest known, and newer than every known release of
   its own minor line (2.2.0 is not missing when 2.2.2 is known: it was superseded). */
static int
is_missing (const struct kb *kb, const char *v)
{
  const char *oldest = NULL;
  for (size_t i = 0; i < kb->ntorch; i++)
    {
      const char *k = kb->torch[i].version;
      if (streq (k, v) || (same_line (k, v) && version_cmp (k, v) > 0))
        return 0;
      if (oldest == NULL || version_cmp (k, oldest) < 0)
        oldest = k;
    }
  return oldest == NULL || version_cmp (v, oldest) > 0;
}

/* ">=3.11" (possibly among other clauses) -> "3.11"; NULL when it has no lower bound. */
static char *
requires_python_floor (const char *spec)
{
  const char *p = spec ? strstr (spec, ">=") : NULL;
  if (p == NULL)
    return NULL;
  p += 2;
  while (*p == ' ')
    p++;
  int maj, min;
  if (sscanf (p, "%d.%d", &maj, &min) != 2)
    return NULL;
  return xasprintf ("%d.%d", maj, min);
}

/* "13.2.2" -> "13.2". */
static char *
major_minor (const char *v)
{
  int maj, min;
  if (v == NULL || sscanf (v, "%d.%d", &maj, &min) != 2)
    return NULL;
  return xasprintf ("%d.%d", maj, min);
}

static int
cmp_pin (const void *a, const void *b)
{
  return strcmp ((*(const struct requirement *const *) a)->name, (*(const struct requirement *const *) b)->name);
}

/* What the wheel says, as torch.yaml text. Returns 0, or -1 with err. */
static int
release_entry (const struct kb *kb, const struct release *r, const struct pypi_file *f, const char *meta,
               struct strbuf *entry, struct strbuf *source, struct strbuf *err)
{
  cleanup_free char *version = metadata_field (meta, "Version");
  if (version == NULL || !streq (version, r->version))
    return strbuf_addf (err, "%s: METADATA says Version '%s', expected %s", f->filename, version ? version : "",
                        r->version), -1;
  cleanup_free char *rp = metadata_field (meta, "Requires-Python");
  cleanup_free char *floor = requires_python_floor (rp);
  const char *py_min = r->python_min_tag;
  if (floor && version_cmp (floor, py_min) > 0)
    py_min = floor;
  struct requirement *req = NULL;
  size_t n = 0;
  metadata_requirements (meta, &req, &n);
  /* The CUDA libraries' exact pins: what lock cross-checks and the layers are made of. */
  const struct requirement **pins = xcalloc (n + 1, sizeof *pins);
  size_t np = 0;
  const char *toolkit = NULL, *runtime = NULL, *cudnn = NULL;
  for (size_t i = 0; i < n; i++)
    {
      if (req[i].version == NULL || !(starts_with (req[i].name, "nvidia-") || streq (req[i].name, "cuda-toolkit")))
        continue;
      pins[np++] = &req[i];
      if (streq (req[i].name, "cuda-toolkit"))
        toolkit = req[i].version;
      else if (starts_with (req[i].name, "nvidia-cuda-runtime"))
        runtime = req[i].version;
      else if (starts_with (req[i].name, "nvidia-cudnn"))
        cudnn = req[i].version;
    }
  qsort (pins, np, sizeof *pins, cmp_pin);
  int rc = 0;
  /* PyPI's CUDA: cuda-toolkit's version (CUDA 13 wheels), else the CUDA runtime's. */
  cleanup_free char *cuda = major_minor (toolkit ? toolkit : runtime);
  if (cuda == NULL)
    rc = -1, strbuf_addf (err, "%s: no exact cuda-toolkit or nvidia-cuda-runtime pin among its Requires-Dist: "
                               "cannot tell its CUDA",
                          f->filename);
  else if (kb_cuda_find (kb, cuda) == NULL)
    rc = -1, strbuf_addf (err, "torch %s's wheel needs CUDA %s (%s==%s), which generator/data/cuda.yaml does not "
                               "know: add that CUDA release first",
                          r->version, cuda, toolkit ? "cuda-toolkit" : "nvidia-cuda-runtime", toolkit ? toolkit : runtime);
  if (rc == 0)
    {
      strbuf_addf (entry,
                   "  - version: \"%s\"\n"
                   "    python: [\"%s\", \"%s\"]\n"
                   "    pypi: \"%s\"\n"
                   "    source: wheel-%s\n"
                   "    # written by `pcgen kb update`: the wheel does not tell the CUDA variants of PyTorch's own index\n"
                   "    unknown: [variants]\n"
                   "    variants:\n"
                   "      - cuda: \"%s\"\n",
                   r->version, py_min, r->python_max_tag, cuda, r->version, cuda);
      if (cudnn)
        strbuf_addf (entry, "        cudnn: \"%s\"\n", cudnn);
      strbuf_addf (entry, "        unknown: [arch_list%s]\n", cudnn ? "" : ", cudnn");
      if (np)
        {
          strbuf_addf (entry, "        pins_source: wheel-%s\n        pins:\n", r->version);
          for (size_t i = 0; i < np; i++)
            strbuf_addf (entry, "          %s: \"%s\"\n", pins[i]->name, pins[i]->version);
        }
      strbuf_addf (source, "  wheel-%s: \"METADATA of %s from PyPI (sha256 %s)\"\n", r->version, f->filename,
                   f->sha256 ? f->sha256 : "not given by the index");
    }
  free (pins);
  requirements_free (req, n);
  return rc;
}

/* Offset of the line that starts with `prefix` whose version sorts after v, or where to append. */
static size_t
entry_position (const char *text, const char *v)
{
  static const char key[] = "\n  - version: \"";
  for (const char *p = strstr (text, key); p; p = strstr (p + 1, key))
    {
      const char *q = p + sizeof key - 1;
      const char *end = strchr (q, '"');
      if (end == NULL)
        break;
      cleanup_free char *k = xstrndup (q, (size_t) (end - q));
      if (version_cmp (k, v) > 0)
        return (size_t) (p + 1 - text);
    }
  size_t len = strlen (text);
  return len;
}

/* After the last `  wheel-…:` line of `sources:`, else after the `sources:` line. */
static size_t
source_position (const char *text)
{
  const char *s = strstr (text, "\nsources:\n");
  if (s == NULL)
    return (size_t) -1;
  const char *p = s + 10, *after = p;
  while (*p == ' ' || *p == '#')
    {
      const char *end = strchr (p, '\n');
      if (end == NULL)
        break;
      if (starts_with (p, "  wheel-"))
        after = end + 1;
      p = end + 1;
    }
  if (after == s + 10)
    after = p;
  return (size_t) (after - text);
}

static void
insert (struct strbuf *text, size_t at, const char *s)
{
  struct strbuf out = STRBUF_INIT;
  strbuf_add (&out, text->buf, at);
  if (at == text->len && at && text->buf[at - 1] != '\n')
    strbuf_addch (&out, '\n');
  strbuf_addstr (&out, s);
  strbuf_add (&out, text->buf + at, text->len - at);
  strbuf_release (text);
  *text = out;
}

static int
kb_update (const char *index, int check)
{
  const char *dir = kb_default_dir (NULL);
  struct kb kb = { 0 };
  struct diags d = DIAGS_INIT;
  int rc = EXIT_OK;
  struct pypi_project p = { 0 };
  struct release *rel = NULL;
  size_t nrel = 0;
  struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
  cleanup_free char *yaml = NULL;
  if (kb_load (dir, &kb, &d) < 0)
    {
      diags_print_files (&d, stderr);
      error ("the knowledge base in '%s' is broken", dir);
      rc = EXIT_INVALID;
      goto out;
    }
  fprintf (stderr, "kb: reading %s/torch/\n", index);
  if (pypi_project_get (index, "torch", &p, &err) < 0)
    {
      error ("%s", err.buf);
      rc = EXIT_ENV;
      goto out;
    }
  rel = collect_releases (&p, &nrel);
  size_t missing = 0;
  for (size_t i = 0; i < nrel; i++)
    if (is_missing (&kb, rel[i].version))
      {
        missing++;
        if (check)
          printf ("torch %s: on PyPI (uploaded %.10s), not in %s/torch.yaml\n", rel[i].version,
                  rel[i].upload_time ? rel[i].upload_time : "?", dir);
      }
  fprintf (stderr, "kb: %zu torch release%s on the index, %zu missing from the knowledge base\n", nrel,
           nrel == 1 ? "" : "s", missing);
  if (check || missing == 0)
    {
      rc = missing ? EXIT_INVALID : EXIT_OK;
      goto out;
    }
  yaml = xasprintf ("%s/torch.yaml", dir);
  if (strbuf_read_file (&text, yaml, 16u << 20) < 0)
    {
      error ("cannot read '%s': %s", yaml, strerror (errno));
      rc = EXIT_ENV;
      goto out;
    }
  struct strbuf before = STRBUF_INIT;
  strbuf_addstr (&before, text.buf);
  /* One release that cannot be read does not hold back the others (docker-library's
     versions.sh goes on too); the exit status still says something was refused. */
  struct strbuf added = STRBUF_INIT;
  int failed = EXIT_OK;
  for (size_t i = 0; i < nrel; i++)
    {
      if (!is_missing (&kb, rel[i].version))
        continue;
      const struct pypi_file *f = &p.files[rel[i].wheel];
      struct strbuf meta = STRBUF_INIT, entry = STRBUF_INIT, source = STRBUF_INIT;
      struct metadata_fetch how;
      strbuf_reset (&err);
      fprintf (stderr, "kb: torch %s: reading the METADATA of %s\n", rel[i].version, f->filename);
      if (pypi_wheel_metadata (f, &meta, &how, &err) < 0)
        {
          error ("torch %s: %s", rel[i].version, err.buf);
          failed = EXIT_ENV;
        }
      else
        {
          fprintf (stderr, "kb: torch %s: %s, %u request%s, %llu bytes\n", rel[i].version, how.how, how.requests,
                   how.requests == 1 ? "" : "s", (unsigned long long) how.bytes);
          if (release_entry (&kb, &rel[i], f, meta.buf, &entry, &source, &err) < 0)
            {
              error ("%s", err.buf);
              if (failed == EXIT_OK)
                failed = EXIT_INVALID;
            }
          else
            {
              insert (&text, entry_position (text.buf, rel[i].version), entry.buf);
              size_t at = source_position (text.buf);
              if (at != (size_t) -1)
                insert (&text, at, source.buf);
              strbuf_addf (&added, "torch %s: added from %s\n", rel[i].version, f->filename);
            }
        }
      strbuf_release (&meta);
      strbuf_release (&entry);
      strbuf_release (&source);
    }
  if (rc == EXIT_OK)
    {
      if (write_file_atomic (yaml, text.buf, text.len, 0644) < 0)
        {
          error ("cannot write '%s': %s", yaml, strerror (errno));
          rc = EXIT_ENV;
        }
      else
        {
          /* What was written must load: else put the file back as it was. */
          struct kb check_kb = { 0 };
          struct diags cd = DIAGS_INIT;
          if (kb_load (dir, &check_kb, &cd) < 0)
            {
              diags_print_files (&cd, stderr);
              error ("the updated '%s' does not load; left as it was", yaml);
              write_file_atomic (yaml, before.buf, before.len, 0644);
              rc = EXIT_INVALID;
            }
          else
            fputs (added.buf, stdout);
          kb_release (&check_kb);
          diags_release (&cd);
        }
    }
  if (rc == EXIT_OK)
    rc = failed;
  strbuf_release (&added);
  strbuf_release (&err);
  strbuf_release (&before);
out:
  releases_free (rel, nrel);
  pypi_project_release (&p);
  kb_release (&kb);
  diags_release (&d);
  strbuf_release (&err);
  strbuf_release (&text);
  return rc;
}

int
cmd_kb (int argc, char **argv)
{
  static const struct option opts[] = { { "check", no_argument, NULL, 'c' },
                                        { "index", required_argument, NULL, 'i' },
                                        { "help", no_argument, NULL, 'h' },
                                        { 0 } };
  if (argc >= 2 && (streq (argv[1], "--help") || streq (argv[1], "-h")))
    {
      fputs (kb_usage, stdout);
      return EXIT_OK;
    }
  if (argc < 2 || !streq (argv[1], "update"))
    {
      if (argc >= 2)
        error ("unknown kb command '%s'; the one there is: update", argv[1]);
      fputs (kb_usage, stderr);
      return EXIT_USAGE;
    }
  int check = 0, c;
  const char *index_opt = NULL;
  optind = 1;
  while ((c = getopt_long (argc - 1, argv + 1, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'c':
        check = 1;
        break;
      case 'i':
        index_opt = optarg;
        break;
      case 'h':
        fputs (kb_usage, stdout);
        return EXIT_OK;
      default:
        fputs (kb_usage, stderr);
        return EXIT_USAGE;
      }
  if (optind < argc - 1)
    {
      error ("pcgen kb update takes no operands ('%s')", argv[optind + 1]);
      return EXIT_USAGE;
    }
  cleanup_free char *index = pypi_simple_index (index_opt);
  return kb_update (index, check);
}
