#!/usr/bin/env bash
# tests/exitcodes/run.sh PCGEN: every exit code of the table in README.md, "Exit codes", from the real
# binary, end to end (no Docker, no network): what drives each code is an input a user could
# give. 130 (build interrupted by SIGINT/SIGTERM) is driven by tests/jobs/run.sh ("SIGINT"),
# which needs its fake docker and fixture project: it is not repeated here.
#   0  validate a good matrix; --help
#   1  validate a matrix with an error; a matrix.lock that is not JSON; lock, where the torch
#      wheel's nvidia-* pins disagree with the knowledge base (a local wheelhouse, pip offline)
#   2  an unknown command; an unknown option (of every command); a TAG that matches no tag
#   3  a matrix that does not exist; a matrix.lock that is a folder; fetch --offline of a wheel
#      the cache lacks
#   4  out of memory (an allocation refused: ASan's max_allocation_size_mb; sanitized build only)
#   5  compat for a driver older than every tag needs
# And the rule behind them: modules return errors, only commands print them (a grep).
# Last line: "exitcodes: N passed, N failed"; a failure keeps the folder (path printed).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
PCGEN=$(realpath "${1:-${PCGEN:-$top/bin/pcgen}}")
tmp=$(mktemp -d /tmp/pcgen-exitcodes.XXXXXX)
export PCGEN_DATA="$top/generator/data" PCGEN_CACHE="$tmp/cache"
passed=0 failed=0
cd "$tmp" || exit 1

# expect CODE WHAT -- ARGS...: run pcgen ARGS; its exit code must be CODE. With GREP set, its
# stderr must also hold that text (the error is the one meant, not another of the same code).
expect() {
  local want=$1 what=$2; shift 3
  "$PCGEN" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -eq "$want" ] && { [ -z "${GREP:-}" ] || grep -qF -- "$GREP" "$tmp/err"; }; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL: %s: exit %s, want %s%s\n' "$what" "$rc" "$want" "${GREP:+ with '$GREP' on stderr}"
    sed 's/^/       /' "$tmp/err" | head -n 15
  fi
  GREP=""
}

cat >matrix.yaml <<'YAML'
repository: test/pytorch-cuda
base: debian-bookworm
python: "3.11"
torch: ["2.6.0"]
cuda: ["12.4"]
flavors: [runtime]
YAML
cat >bad.yaml <<'YAML'
repository: test/pytorch-cuda
base: debian-bookworm
python: "3.11"
torch: ["2.6.0"]
cuda: ["11.7"]
flavors: [runtime]
YAML
TAG=2.6.0-cuda12.4-cudnn9-runtime

# --- 0
expect 0 "validate a good matrix" -- validate matrix.yaml
expect 0 "--help" -- --help

# --- 1
GREP="bad.yaml:5:" expect 1 "validate a matrix with an error" -- validate bad.yaml
printf '{ "schema": 1, "sets": [\n' >broken.lock
GREP="broken.lock:2:" expect 1 "a matrix.lock that is not JSON" -- fetch --offline --lock broken.lock

# A wheelhouse whose torch 2.6.0 pins nvidia-cublas-cu12 12.4.5.9; the knowledge base says
# 12.4.5.8 for CUDA 12.4 (generator/data/torch.yaml). Tiny wheels, pip resolves them offline.
python3 - "$tmp/wheels" <<'PY'
import os, sys, zipfile
out = sys.argv[1]
os.makedirs(out)
def wheel(name, version, requires=()):
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(f"{out}/{dist}-{version}-py3-none-any.whl", "w") as z:
        z.writestr(f"{dist}/__init__.py", "")
        z.writestr(f"{info}/METADATA", meta)
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
wheel("torch", "2.6.0", ["nvidia-cublas-cu12==12.4.5.9; platform_system == \"Linux\" and platform_machine == \"x86_64\""])
wheel("nvidia-cublas-cu12", "12.4.5.9")
wheel("numpy", "2.1.2")
PY
cat matrix.yaml - >pins.yaml <<YAML
sources:
  "12.4": { wheelhouse: "$tmp/wheels" }
YAML
GREP="pins nvidia-cublas-cu12==12.4.5.9 but generator/data/torch.yaml says 12.4.5.8" \
  expect 1 "lock: a torch pin that disagrees with the knowledge base" -- lock --matrix pins.yaml --lock pins.lock

# --- 2
expect 2 "an unknown command" -- valdate matrix.yaml
for c in validate plan render lock fetch build certify publish bake compat kb; do
  expect 2 "$c: an unknown option" -- $c --no-such-option
done
GREP="no tag of the plan matches 'no-such-tag'" expect 2 "a TAG that matches nothing" -- lock no-such-tag

# --- 3
GREP="cannot open 'missing.yaml'" expect 3 "a matrix that does not exist" -- validate missing.yaml
sha=$(printf 'x' | sha256sum | cut -d' ' -f1)
cat >absent.lock <<JSON
{ "schema": 1, "sets": [ { "id": "torch-2.6.0-cu124-py3.11", "source": { "kind": "pypi" },
  "wheels": [ { "name": "torch", "version": "2.6.0", "role": "torch", "size": 1,
                "file": "torch-2.6.0-py3-none-any.whl", "sha256": "$sha" } ] } ] }
JSON
mkdir folder.lock
GREP="cannot read 'folder.lock': Is a directory" expect 3 "a matrix.lock that is a folder" -- fetch --offline --lock folder.lock
GREP="--offline was given" expect 3 "fetch --offline of a wheel the cache lacks" -- fetch --offline --lock absent.lock

# --- 4: a 3 MB matrix needs a buffer larger than the allocator allows
python3 -c 'import sys; sys.stdout.write("repository: x\n#" + "x" * 3000000 + "\n")' >big.yaml
# Only the sanitized build can be made to refuse one allocation reliably (ulimit -v on the plain
# one also stops its libraries from loading, within a few MB); make check runs that build.
if ldd "$PCGEN" 2>/dev/null | grep -q libasan; then
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:allocator_may_return_null=1:max_allocation_size_mb=1" \
    GREP="pcgen: fatal: out of memory" expect 4 "out of memory" -- validate big.yaml
else
  echo "SKIP: exit 4 (out of memory) needs the ASan build (build/test/pcgen)"
fi

# --- 5
GREP="" expect 5 "compat: no tag runs on driver 450.80.02" -- compat --driver 450.80.02 --gpu sm_90

# --- only commands print errors: no module (generator/src/*.c but cmd_*.c, main.c and util.c,
# which defines them) calls error() or warning(), or prints "pcgen: error" itself; a module
# returns a struct error (error.h) instead.
printers=$(cd "$top/generator/src" && ls *.c | grep -vE '^(cmd_[a-z_]+|main|util)\.c$' \
  | xargs grep -nE '(^|[^_a-z])(error|warning) \("|"pcgen: error')
if [ -z "$printers" ]; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: modules print errors:"; printf '       %s\n' "$printers"; fi

echo "exitcodes: $passed passed, $failed failed"
if [ "$failed" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
[ "$failed" -eq 0 ]
