#!/usr/bin/env bash
# tests/jobs/run.sh PCGEN: `pcgen build -j N` end to end with the real binary and no Docker
# engine (the scheduler around `docker build`: every build here runs with --engine docker):
# tests/fakes/fake-docker (through PCGEN_DOCKER) keeps images as files, records every
# call with a timestamp and takes FAKE_DOCKER_SLEEP seconds per build. The project is a fixture:
# two torch x CUDA pairs (runtime + devel each), rendered from the repository's templates, with
# tiny wheels and their lock from tests/jobs/fixture.py, so staging makes real layers offline.
# Checks: two runtime builds overlap, a devel build starts after its runtime ended, -j is a
# limit, a failed build tags nothing and its devel is skipped, logs in results/logs, plain
# lines off a terminal and a live block on one, Ctrl-C stops the builds, exit codes.
# Last line: "jobs: N passed, N failed"; a failure keeps the folder (path printed).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
PCGEN=$(realpath "${1:-${PCGEN:-$top/bin/pcgen}}")
tmp=$(mktemp -d /tmp/pcgen-jobs.XXXXXX)
passed=0 failed=0 name=""
export PCGEN_DATA="$tmp/data" PCGEN_CACHE="$tmp/cache" PCGEN_DOCKER="$top/tests/fakes/fake-docker"
# The knowledge base with tiny stand-ins for nvcc (fixture.py): redist-layout archives of a few
# bytes, not 1 GB of Debian packages; a devel tag without an nvcc source would be unavailable.
cp -r "$top/generator/data" "$tmp/data"
# Nor the base's Debian packages (toolchain, buildtools: 100 MB): images without those layers.
python3 - "$tmp/data/bases.yaml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text, n = re.subn(r"\n    (toolchain|buildtools):\n((      |        |          ).*\n)*", "\n", text)
assert n == 2, "no toolchain and buildtools in bases.yaml"
open(sys.argv[1], "w").write(text)
PY
unset FAKE_DOCKER_FAIL FAKE_DOCKER_SLEEP
RT1=2.4.1-cuda12.1-cudnn9-runtime DV1=2.4.1-cuda12.1-cudnn9-devel
RT2=2.6.0-cuda12.4-cudnn9-runtime DV2=2.6.0-cuda12.4-cudnn9-devel
REPO=test/pytorch-cuda

ok() { passed=$((passed + 1)); }
ko() {
  failed=$((failed + 1))
  printf 'FAIL: %s: %s\n' "$name" "$*"
  sed 's/^/  stdout: /' "$tmp/out" 2>/dev/null | head -n 30
  sed 's/^/  stderr: /' "$tmp/err" 2>/dev/null | head -n 20
}
check() { local what=$1; shift; if "$@"; then ok; else ko "$what"; fi; }
has() { if grep -qF -- "$2" "$1"; then ok; else ko "'$2' not in $(basename "$1")"; fi; }
hasnt() { if grep -qF -- "$2" "$1"; then ko "'$2' in $(basename "$1")"; else ok; fi; }

# --- the fixture project
mkdir -p "$tmp/proj/bin" "$tmp/cache/base"
cp -r "$top/templates" "$tmp/proj/"
cat >"$tmp/proj/matrix.yaml" <<'EOF'
repository: test/pytorch-cuda
base: debian-bookworm
python: "3.11"
torch: ["2.4.1", "2.6.0"]
cuda: ["12.1", "12.4"]
flavors: [runtime, devel]
exclude:
  - { torch: "2.6.0", cuda: "12.1" }
  - { torch: "2.4.1", cuda: "12.4" }
aliases:
  - { name: "v{major}.{minor}-prod", cuda: pypi, flavor: runtime }
EOF
python3 "$top/tests/jobs/fixture.py" "$tmp/cache" "$tmp/proj/matrix.lock" "$tmp/data/cuda.yaml" || { echo "jobs: 0 passed, 1 failed"; exit 1; }
echo "not the verifier" >"$tmp/proj/bin/pytorch-cuda-verify"
# The base: a tar with the one file pcgen reads from it here, dpkg's status (the SBOM, sbom.c).
mkdir -p "$tmp/rootfs/var/lib/dpkg"
printf 'Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4\n' >"$tmp/rootfs/var/lib/dpkg/status"
tar -C "$tmp/rootfs" -cf "$tmp/cache/base/debian-bookworm.tar" ./var
cd "$tmp/proj"
"$PCGEN" render >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; echo "jobs: 0 passed, 1 failed"; exit 1; }

# build NAME WANT_EXIT STATE [VAR=value...] -- ARGS...: pcgen build with the fake engine keeping
# its images and calls in $tmp/STATE.
build() {
  name=$1 want=$2 state=$tmp/$3
  shift 3
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env FAKE_DOCKER_STATE="$state" "${envs[@]}" "$PCGEN" build --engine docker "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$tmp/err"; then ko "sanitizer report"; return; fi
  if [ "$rc" -ne "$want" ]; then ko "exit $rc, want $want"; return; fi
  ok
}
# when STATE start|end TAG: the time the fake engine began or ended building TAG ("" if never)
when() { awk -v ev="build-$2" -v ref="$REPO:$3" '$3 == ev && $4 == ref { print $1; exit }' "$tmp/$1/calls.log"; }
before() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
# most STATE: the most builds that ran at once
most() {
  awk '$3 == "build-start" { print $1, 1 } $3 == "build-end" { print $1, -1 }' "$tmp/$1/calls.log" | sort -n |
    awk '{ n += $2; if (n > m) m = n } END { print m + 0 }'
}
builds() { grep -c ' build-start ' "$tmp/$1/calls.log"; }
image() { local r="$REPO:$2"; r=${r//\//_}; [ -e "$tmp/$1/images/${r//:/_}" ]; }
row() { if grep -qE "^$1 .* $2\$" "$tmp/out"; then ok; else ko "summary row $1 is not '$2'"; fi; }

# --- usage
for bad in 0 65 x 2x -1 ''; do
  build "-j '$bad'" 2 s-usage -- -j "$bad"
  has "$tmp/err" "--jobs '$bad' is not a number from 1 to 64"
done
build "--jobs=64 --help" 0 s-usage -- --jobs=64 --help
has "$tmp/out" "-j, --jobs N"

# --- -j 2: runtimes in parallel, each devel after its runtime
build "-j 2" 0 s-par FAKE_DOCKER_SLEEP=1 -- -j 2 --offline
check "two runtime builds overlap" before "$(when s-par start $RT2)" "$(when s-par end $RT1)"
check "two runtime builds overlap (2)" before "$(when s-par start $RT1)" "$(when s-par end $RT2)"
check "$DV1 starts after $RT1 ended" before "$(when s-par end $RT1)" "$(when s-par start $DV1)"
check "$DV2 starts after $RT2 ended" before "$(when s-par end $RT2)" "$(when s-par start $DV2)"
check "at most 2 builds at once (saw $(most s-par))" test "$(most s-par)" -eq 2
check "4 builds" test "$(builds s-par)" -eq 4
for t in $RT1 $DV1 $RT2 $DV2; do
  row "$t" built
  has "$tmp/out" "$t: building"
  has "$tmp/out" "$t: done "
  check "log of $t" test -s "results/logs/$t.build.log"
  has "results/logs/$t.build.log" "#8 naming to $REPO:$t done"
  has "results/logs/$t.build.log" "# pcgen: docker build exited 0"
  check "$t tagged" image s-par "$t"
done
check "no .part log left" test -z "$(ls results/logs | grep -v '\.build\.log$')"
has "$tmp/out" "$RT1: staging"
has "$tmp/out" "$RT1: sending context"
has "$tmp/out" "$RT1: tagging"
check "no terminal control sequences off a terminal" test "$(grep -c $'\033' "$tmp/out")" -eq 0
check "aliases tagged" grep -qF "tag $REPO:$RT2 $REPO:v2.6-prod" "$tmp/s-par/calls.log"

# --- again: nothing to build
build "-j 2, second run" 0 s-par -- -j 2 --offline
check "no new build" test "$(builds s-par)" -eq 4
for t in $RT1 $DV1 $RT2 $DV2; do row "$t" "up to date"; has "$tmp/out" "$t: up to date"; done

# --- a failing runtime: no tag, its devel skipped, the other pair built
build "failing runtime" 3 s-fail FAKE_DOCKER_SLEEP=1 "FAKE_DOCKER_FAIL=*:$RT1" -- -j 2 --offline
check "one error line" test "$(grep -c 'error' "$tmp/err")" -eq 1
has "$tmp/err" "pcgen: error: $RT1: docker build failed (exit 1): ERROR: failed to solve: fake failure building $REPO:$RT1 (log: results/logs/$RT1.build.log)"
has "results/logs/$RT1.build.log" "#7 ERROR: process"
has "results/logs/$RT1.build.log" "# pcgen: docker build exited 1"
if image s-fail "$RT1"; then ko "$RT1 has an image"; else ok; fi
hasnt "$tmp/s-fail/calls.log" "tag $REPO:$RT1"
hasnt "$tmp/s-fail/calls.log" "build-start $REPO:$DV1"
has "$tmp/out" "$DV1: skipped: runtime $RT1 failed"
row "$RT1" failed
row "$DV1" "skipped: runtime failed"
row "$RT2" built
row "$DV2" built

# --- -j 1: one at a time, each devel after its runtime
build "-j 1" 0 s-ser FAKE_DOCKER_SLEEP=0.2 -- -j 1 --offline
check "one build at a time (saw $(most s-ser))" test "$(most s-ser)" -eq 1
check "$DV1 after $RT1" before "$(when s-ser end $RT1)" "$(when s-ser start $DV1)"
check "plan order" before "$(when s-ser end $DV1)" "$(when s-ser start $RT2)"
build "default -j is 1" 0 s-def FAKE_DOCKER_SLEEP=0.2 -- --offline
check "default: one build at a time" test "$(most s-def)" -eq 1

# --- every layer cached, their inputs gone from the cache: nothing fetched or read (build.c), the
# SBOM's licenses from the cache's notes (sbom.c)
name="cached layers, no inputs"
cp "build/sbom/$DV1.spdx.json" "$tmp/sbom-wheels.json"
mv "$tmp/cache/sha256" "$tmp/sha256.away"
build "$name" 0 s-cached -- -j 2 --offline
check "4 builds" test "$(builds s-cached)" -eq 4
hasnt "$tmp/err" "layer: "
hasnt "$tmp/err" "warning"
check "the SBOM of $DV1 is the same as with the wheels" cmp -s "build/sbom/$DV1.spdx.json" "$tmp/sbom-wheels.json"
has "build/sbom/$DV1.spdx.json" '"licenseDeclared": "BSD-3-Clause"'
# ... and without the notes: NOASSERTION, one warning per tag
mv "$tmp/cache/licenses" "$tmp/licenses.away"
build "cached layers, no inputs, no license notes" 0 s-nonote -- -j 2 --offline
has "$tmp/err" "pcgen: warning: $RT1: sbom: 3 wheels are (nvidia_cuda_runtime_cu12-12.1.105-py3-none-manylinux2014_x86_64.whl, …) not in the cache ($tmp/cache) and never read: license NOASSERTION (pcgen fetch gets them)"
has "$tmp/err" "pcgen: warning: $DV1: sbom: 4 wheels are"
hasnt "build/sbom/$DV1.spdx.json" "BSD-3-Clause"
rm -rf "$tmp/cache/licenses"
mv "$tmp/licenses.away" "$tmp/cache/licenses"
# the nvcc layer gone: its archives are fetched (--offline: refused, naming the first), then made
nvcc=$(cd "$tmp/cache/layers" && ls nvcc-12.1.105-*.tar)
rm -f "$tmp/cache/layers/$nvcc" "$tmp/cache/layers/$nvcc.sha256"
build "nvcc layer gone, no inputs" 3 s-nvcc -- -j 2 --offline
has "$tmp/err" "pcgen: error: $DV1: cuda_nvcc-linux-x86_64-12.1.105-archive.tar.xz is not in the cache ($tmp/cache) and --offline was given"
check "only $DV1 failed" test "$(grep -c 'pcgen: error' "$tmp/err")" -eq 1
mv "$tmp/sha256.away" "$tmp/cache/sha256"
build "nvcc layer gone, inputs back" 0 s-nvcc -- -j 2 --offline
has "$tmp/err" "layer: nvcc-12.1.105-"
check "the nvcc layer made again" test -s "$tmp/cache/layers/$nvcc.sha256"
check "no other layer made" test "$(grep -c '^layer: .* entries' "$tmp/err")" -eq 1

# --- Ctrl-C while two builds run: they stop, nothing more starts, nothing is tagged
name="SIGINT"
rm -rf results/builds
FAKE_DOCKER_STATE="$tmp/s-int" FAKE_DOCKER_SLEEP=30 "$PCGEN" build --engine docker -j 2 --offline >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do [ -e "$tmp/s-int/calls.log" ] && [ "$(builds s-int)" -ge 2 ] && break; sleep 0.1; done
t0=$SECONDS
kill -INT "$pid"
wait "$pid"
rc=$?
check "exit 130 (got $rc)" test "$rc" -eq 130
check "stopped at once ($((SECONDS - t0))s)" test $((SECONDS - t0)) -lt 10
check "no devel build started" test "$(builds s-int)" -eq 2
for t in $RT1 $RT2; do
  if image s-int "$t"; then ko "$t has an image"; else ok; fi
  row "$t" interrupted
  has "results/logs/$t.build.log" "# pcgen: docker build exited 143"
done
for t in $DV1 $DV2; do row "$t" cancelled; done
hasnt "$tmp/s-int/calls.log" " tag "
has "$tmp/err" "pcgen: interrupted: starting no more builds, stopping 2 running"
sleep 0.3
left=$(awk '$3 == "build-start" { print $2 }' "$tmp/s-int/calls.log" | while read -r p; do kill -0 "$p" 2>/dev/null && echo "$p"; done)
check "no fake docker left running ($left)" test -z "$left"

# --- builds that ignore SIGTERM: a second Ctrl-C kills them
name="SIGINT twice"
FAKE_DOCKER_STATE="$tmp/s-kill" FAKE_DOCKER_SLEEP=30 FAKE_DOCKER_IGNORE_TERM=1 "$PCGEN" build --engine docker -j 2 --offline >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do [ -e "$tmp/s-kill/calls.log" ] && [ "$(builds s-kill)" -ge 2 ] && break; sleep 0.1; done
kill -INT "$pid"
sleep 1
check "still waiting for builds that ignore SIGTERM" kill -0 "$pid"
t0=$SECONDS
kill -INT "$pid"
wait "$pid"
rc=$?
check "exit 130 (got $rc)" test "$rc" -eq 130
check "killed at once ($((SECONDS - t0))s)" test $((SECONDS - t0)) -lt 5
for t in $RT1 $RT2; do
  if image s-kill "$t"; then ko "$t has an image"; else ok; fi
  has "results/logs/$t.build.log" "# pcgen: docker build exited 137"
done
sleep 0.3
left=$(awk '$3 == "build-start" { print $2 }' "$tmp/s-kill/calls.log" | while read -r p; do kill -0 "$p" 2>/dev/null && echo "$p"; done)
check "no fake docker left running ($left)" test -z "$left"

# --- on a terminal: the live block (script(1) gives pcgen a pseudo-terminal)
if command -v script >/dev/null; then
  name="terminal"
  FAKE_DOCKER_STATE="$tmp/s-tty" FAKE_DOCKER_SLEEP=0.5 \
    script -qefc "'$PCGEN' build --engine docker -j 2 --offline" /dev/null >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  check "exit 0 (got $rc)" test "$rc" -eq 0
  has "$tmp/out" $'\033[2K'
  check "cursor moved up over the block" grep -qE $'\033\\[4A' "$tmp/out"
  has "$tmp/out" "$RT1: staging"
  hasnt "$tmp/out" "$RT1: building"
  check "a row says building" grep -qE "$RT1 +building" "$tmp/out"
  check "the summary after the block" grep -qE "^$DV2 .* built" "$tmp/out"
else
  echo "jobs: script(1) not found: the terminal check is skipped"
fi

cd "$top"
if [ "$failed" -eq 0 ]; then rm -rf "$tmp"; else echo "jobs: kept $tmp"; fi
echo "jobs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
