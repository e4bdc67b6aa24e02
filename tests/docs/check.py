#!/usr/bin/env python3
"""check.py ROOT: the documentation's cross-references resolve.

  links      every relative link [text](target) in README.md, BENCHMARKS.md, CONTRIBUTING.md, docs/*.md
             and verify/README.md names a file that exists, and its #anchor a heading of that file
             (GitHub's anchors: lowercase, punctuation dropped, spaces as '-', '-1' on a repeat);
  citations  every citation of a section, `FILE.md, "Heading"` or `[x](FILE.md), 'Heading'`
             (also the older `README, "Heading"`), in the sources, tests, templates, workflows
             and docs names a file that exists and a heading it has (backticks and runs of
             white space do not count, so a citation may wrap across lines);
  loose      a section cited without the comma (`README's "Exit codes"`, `FILE.md "Heading"`),
             which the citation check would pass over: it is reported, to be written as above;
  mentions   every other path ending in .md that those files name exists, when it looks like a
             path of ours: it has a '/' or an upper-case name (DESIGN.md); a bare lower-case
             name is an outside document's (opencontainers/image-spec's annotations.md).

A file is looked up from the repository root first, then from the citing file's folder.
Headings inside fenced code blocks are not headings. Prints one line per problem,
FILE:LINE: what, and exits 1 if there was any; 0 otherwise. Not scanned: generator/data/ (the
knowledge base cites outside documents) and tests/docs/ (this script, and the broken fixtures
tests/docs/run.sh checks it against)."""
import os
import re
import subprocess
import sys

MARKDOWN = ["README.md", "BENCHMARKS.md", "CONTRIBUTING.md", "verify/README.md"]
SCANNED = ["README.md", "BENCHMARKS.md", "CONTRIBUTING.md", "Makefile", "matrix.yaml", "docs", "generator", "verify",
           "tests", "templates", "bench", "scripts", ".github", ".ci"]
# The knowledge base cites outside documents (PyTorch's RELEASE.md, ...) by design; tests/docs/
# holds this script and its broken fixtures.
SKIP = ("generator/data/", "tests/docs/")

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# FILE.md, "X"  |  [x](FILE.md), "X"  |  README, "X"  (the quote may be ' or ")
CITE = re.compile(r"(?:\[[^\]\n]*\]\(([\w./-]+\.md)\)|(?<![\w./-])((?:[\w.-]+/)*[\w.-]+\.md|README))"
                  r",\s+([\"'])([^\"'\n]+(?:\n[^\"'\n]+)?)\3")
# FILE.md "X" | FILE.md's "X" | README "X" | README's "X": a citation without its comma
LOOSE = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w.-]+\.md|README)(?:'s)?[ \t]+\"([A-Z][^\"\n]*)\"")
MENTION = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w-]+\.md)(?![\w/-])")


def norm(text):
    return " ".join(text.replace("`", "").split())


def headings(path):
    """The headings of a markdown file, outside fenced code."""
    out, fenced = [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if FENCE.match(line):
                fenced = not fenced
                continue
            m = None if fenced else HEADING.match(line)
            if m:
                out.append(m.group(2))
    return out


def anchors(path):
    """GitHub's anchor for each heading: lowercase, only letters, digits, '-', '_' and spaces
    kept, spaces as '-'; a repeated anchor gets -1, -2, ..."""
    seen, out = {}, set()
    for h in headings(path):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", h).lower()
        a = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        n = seen.get(a, 0)
        seen[a] = n + 1
        out.add(a if n == 0 else "%s-%d" % (a, n))
    return out


def resolve(root, citing, name):
    for base in (root, os.path.dirname(os.path.join(root, citing))):
        p = os.path.normpath(os.path.join(base, name))
        if os.path.exists(p):
            return p
    return None


def files(root):
    try:
        listed = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others",
                                 "--exclude-standard", "--"] + SCANNED,
                                capture_output=True, text=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        listed = []
        for top in SCANNED:
            p = os.path.join(root, top)
            if os.path.isfile(p):
                listed.append(top)
            for d, _, names in os.walk(p):
                listed += [os.path.relpath(os.path.join(d, n), root) for n in names]
    for f in sorted(set(listed)):
        if f and not f.startswith(SKIP) and os.path.isfile(os.path.join(root, f)):
            yield f


def text_of(root, f):
    try:
        with open(os.path.join(root, f), encoding="utf-8") as fh:
            return fh.read()
    except (UnicodeDecodeError, OSError):
        return None


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def check_links(root, f, text, problems):
    fenced = False
    for n, line in enumerate(text.split("\n"), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        for m in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
            target = m.group(1)
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                continue  # http:, https:, mailto:
            name, _, anchor = target.partition("#")
            path = os.path.join(root, f) if name == "" else \
                os.path.normpath(os.path.join(os.path.dirname(os.path.join(root, f)), name))
            if not os.path.exists(path):
                problems.append("%s:%d: broken link '%s': no such file %s"
                                % (f, n, target, os.path.relpath(path, root)))
            elif anchor and path.endswith(".md") and anchor not in anchors(path):
                problems.append("%s:%d: broken link '%s': %s has no heading with anchor #%s"
                                % (f, n, target, os.path.relpath(path, root), anchor))


def check_citations(root, f, text, problems):
    cited = set()
    for m in CITE.finditer(text):
        name = m.group(1) or m.group(2)
        name = "README.md" if name == "README" else name
        cited.add(m.start(1) if m.group(1) else m.start(2))
        path = resolve(root, f, name)
        n = line_of(text, m.start())
        if path is None:
            problems.append("%s:%d: cites %s, \"%s\": no such file" % (f, n, name, norm(m.group(4))))
        elif norm(m.group(4)) not in {norm(h) for h in headings(path)}:
            problems.append("%s:%d: cites %s, \"%s\": %s has no such heading (it has: %s)"
                            % (f, n, name, norm(m.group(4)), os.path.relpath(path, root),
                               "; ".join(norm(h) for h in headings(path)[:12])))
    for m in LOOSE.finditer(text):
        problems.append("%s:%d: cites %s, \"%s\" without the comma: write it so, for this check to see it"
                        % (f, line_of(text, m.start()), m.group(1), m.group(2)))
    for m in MENTION.finditer(text):
        name = m.group(1)
        if m.start(1) in cited or "*" in name or text[max(0, m.start(1) - 2):m.start(1)] == "](":
            continue  # a citation, a glob, or a link's target (check_links' job)
        if "/" not in name and not re.match(r"^[A-Z0-9_-]+\.md$", name):
            continue
        if resolve(root, f, m.group(1)) is None:
            problems.append("%s:%d: names %s: no such file" % (f, line_of(text, m.start()), m.group(1)))


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    problems, n_links, n_files = [], 0, 0
    for f in files(root):
        text = text_of(root, f)
        if text is None:
            continue
        n_files += 1
        if f in MARKDOWN or (f.startswith("docs/") and f.endswith(".md")):
            n_links += 1
            check_links(root, f, text, problems)
        check_citations(root, f, text, problems)
    for p in problems:
        print(p)
    print("docs check: %d files scanned, links in %d markdown files, %d problems"
          % (n_files, n_links, len(problems)), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
