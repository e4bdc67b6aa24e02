#!/usr/bin/env bash
# tests/docs/run.sh: the documentation's cross-references resolve (tests/docs/check.py):
# relative links in README.md and docs/*.md, and citations `FILE.md, "Heading"` anywhere in the
# sources, tests, templates and workflows. First the real tree, then the broken fixture of
# tests/docs/fixtures/broken/, where each broken reference must be reported and the good ones
# must not (so the checker can fail). Ends with "docs: N passed, N failed". No Docker.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
check="$top/tests/docs/check.py"
. "$top/tests/lib/suite.sh"

out=$(python3 "$check" "$top" 2>&1); rc=$?
if [ "$rc" -eq 0 ]; then ok "README.md, docs/*.md and every citation resolve"; else
  ko "broken links or citations in the tree (exit $rc):"; printf '%s\n' "$out" | sed 's/^/       /'; fi

# The README stays short (issue 15: at most 200 lines, the reference lives in docs/) and its
# "Set-up: the two commands" section keeps both commands.
n=$(wc -l < "$top/README.md")
if [ "$n" -le 200 ]; then ok "README.md: $n lines (at most 200)"; else
  ko "README.md: $n lines, at most 200: move reference text to a docs/*.md file and link it"; fi
setup=$(awk '/^## /{on = ($0 == "## Set-up: the two commands")} on' "$top/README.md")
for cmd in "make images" "make test"; do
  if grep -q "^$cmd  *#" <<<"$setup"; then ok "README.md, \"Set-up: the two commands\": $cmd"; else
    ko "README.md, \"Set-up: the two commands\" lacks the line '$cmd   # ...'"; fi
done

# docs/architecture.md, "Which file does what" names every source file of generator/src, and only those (issue 15:
# a newcomer finds where a thing happens from it), as `FILE` in its table.
table=$(awk '/^## /{on = ($0 == "## Which file does what")} on' "$top/docs/architecture.md")
missing=""
for f in "$top"/generator/src/*.c "$top"/generator/src/*.h; do
  f=$(basename "$f")
  grep -qF "\`$f\`" <<<"$table" || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "docs/architecture.md, \"Which file does what\": every generator/src file"; else
  ko "docs/architecture.md, \"Which file does what\" does not name:$missing"; fi
gone=""
for f in $(grep -oE '`[a-z_0-9]+\.[ch]`' <<<"$table" | tr -d '`' | sort -u); do
  [ -e "$top/generator/src/$f" ] || gone="$gone $f"
done
if [ -z "$gone" ]; then ok "docs/architecture.md, \"Which file does what\": every file it names exists"; else
  ko "docs/architecture.md, \"Which file does what\" names files generator/src does not have:$gone"; fi

tmp=$(mktemp -d /tmp/pcgen-docs.XXXXXX)
cleanup() { rm -rf "$tmp"; }
cp -r "$top/tests/docs/fixtures/broken/." "$tmp/"
out=$(python3 "$check" "$tmp" 2>/dev/null); rc=$?
if [ "$rc" -eq 1 ]; then ok "broken fixture: exit 1"; else ko "broken fixture: exit $rc, want 1"; fi
expect() {  # $1: what, $2: a line the checker must print (fixed string)
  if grep -qF -- "$2" <<<"$out"; then ok "reported: $1"; else
    ko "not reported: $1 (want a line with: $2)"; printf '%s\n' "$out" | sed 's/^/       /'; fi
}
refuse() {  # $1: what, $2: a string no line may hold
  if grep -qF -- "$2" <<<"$out"; then ko "reported though good: $1"; printf '%s\n' "$out" | sed 's/^/       /'
  else ok "not reported: $1"; fi
}
expect "a link to a missing file"     "README.md:3: broken link 'docs/gone.md': no such file docs/gone.md"
expect "a link to a missing anchor"   "README.md:4: broken link 'docs/guide.md#no-such-part': docs/guide.md has no heading with anchor #no-such-part"
expect "a heading inside a code fence" 'generator/src/a.h:1: cites docs/guide.md, "Not a heading: inside a fenced block": docs/guide.md has no such heading (it has: Guide; The part you want)'
expect "a README section that is not there" 'generator/src/a.h:2: cites README.md, "Missing": README.md has no such heading'
expect "a file that does not exist"   'generator/src/a.h:2: cites DESIGN.md, "Images": no such file'
expect "a citation without its comma" 'generator/src/a.h:3: cites README, "Exit codes" without the comma'
expect "a path that does not exist"   "generator/src/a.h:3: names docs/absent.md: no such file"
refuse "a good link and a good anchor" "#the-part-you-want"
refuse "a citation of a heading that is there" '"The part you want"'
refuse "a link in inline code"        "nowhere.md"
refuse "an http link"                 "example.com"
[ "$(printf '%s\n' "$out" | grep -c .)" -eq 7 ] && ok "broken fixture: exactly 7 problems" \
  || ko "broken fixture: $(printf '%s\n' "$out" | grep -c .) problems, want 7"

finish docs
