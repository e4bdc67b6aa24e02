#!/usr/bin/env bash
# tests/index/run.sh PCGEN: the `sources` of matrix.yaml against a local PEP 503 index on
# 127.0.0.1 (tests/index/serve.py, a free port) serving the REAL wheels of torch 2.6.0 + CUDA 12.4
# (torch, its nvidia-*-cu12 pins, triton, the pure-Python dependencies, and nvcc and the CCCL
# headers of the devel set), linked with
# #sha256= fragments as real indexes do. The wheels are the ones the committed matrix.lock pins
# from PyPI, taken from the pcgen cache (`pcgen fetch` of that tag first, a no-op when cached) and
# hard-linked (else symlinked) into the served folders: nothing of GBs is copied but one torch
# wheel with one byte changed. pip's own index (PIP_INDEX_URL) points at a dead port, so a wheel
# that did not come through the configured source fails the test. Each step has its own
# temporary cache (PCGEN_CACHE): the shared cache is only read.
#   index:      plan shows the runtime and devel tags from the index; lock locks the torch and
#               devel sets PyPI gave again (their source changed), pins the same files, sizes and
#               sha256 as PyPI did and records the source; the access log has every wheel; fetch into an
#               empty cache downloads every wheel through the index and verifies it
#   wheelhouse: lock and fetch the same from a folder holding torch, triton and the nvidia-*
#               wheels only: the rest come from pip's index (here the local index), said on stderr
#   corrupt:    torch with one byte changed under the same name: listed with the true sha256,
#               pip refuses it (lock: one line, exit 3); listed with its own sha256, fetch refuses
#               it against matrix.lock (one line, exit 3); no corrupt byte enters either cache
#   down:       server stopped: lock reports each 12.4 tag in one line naming the setting, exit 3,
#               and the other tag still locks; fetch says the same; fetch --offline (and fetch)
#               after a complete fetch need no server
# Last line: "index: N passed, N failed".
set -u
PCGEN=$(realpath "${1:?usage: tests/index/run.sh PCGEN}")
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export PCGEN_DATA="$top/generator/data"
shared=${PCGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pytorch-cuda}
unset PCGEN_CACHE
rt=2.6.0-cuda12.4-cudnn9-runtime dv=2.6.0-cuda12.4-cudnn9-devel
set=torch-2.6.0-cu124-py3.11 dset=cuda-devel-12.4-py3.11
passed=0 failed=0
work=$(mktemp -d /tmp/pcgen-index.XXXXXX)
out=$work/out
srv_pid=""

step() { local what=$1; shift; local t0=$SECONDS
  if "$@" >"$out" 2>&1; then passed=$((passed + 1)); echo "  ok   $what ($((SECONDS - t0))s)"
  else failed=$((failed + 1)); echo "  FAIL $what ($((SECONDS - t0))s)"; tail -n 30 "$out" | sed 's/^/       /'; fi; }

stop_server() { if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; srv_pid=""; fi; }
cleanup() { stop_server; if [ "$failed" -eq 0 ] && [ -z "${INDEX_KEEP:-}" ]; then rm -rf "$work"; else echo "  kept $work"; fi; }
# The error lines pcgen printed, shown under the step that checked them.
show() { grep -h '^pcgen: error: ' "$@" | sed 's/^/       > /'; }
trap cleanup EXIT

# pip: no HTTP cache (every wheel is really requested), no version check, and its own index dead.
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_INDEX_URL=http://127.0.0.1:$dead/simple
unset PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_NO_INDEX

# --- the real wheels, as PyPI gave them (matrix.lock), in the shared cache
set_wheels() { # set_wheels LOCK ID: the set's wheels, sorted (not nvcc's Debian packages: those
  # come from the Debian mirror whatever the source, tests/fetch/run.sh)
  jq -c --arg id "$2" '.sets[] | select(.id == $id) | .wheels | map(select(.role != "nvcc"))
    | map({name, version, file, size, sha256}) | sort_by(.name)' "$1"; }
seed_debs() { # seed_debs CACHE: nvcc's Debian packages (1 GB) linked in from the shared cache
  local sha file
  while read -r file sha; do
    mkdir -p "$1/sha256/$sha" && ln -f "$shared/sha256/$sha/$file" "$1/sha256/$sha/$file" 2>/dev/null \
      || cp "$shared/sha256/$sha/$file" "$1/sha256/$sha/$file"
  done < <(jq -r '.sets[].wheels[] | select(.role == "nvcc") | "\(.file) \(.sha256)"' matrix.lock | sort -u)
}
step "the $rt and $dv wheels are in the pcgen cache (pcgen fetch from PyPI)" env -u PIP_INDEX_URL "$PCGEN" fetch "$rt" "$dv"
set_wheels matrix.lock "$set" >"$work/pypi.json"
set_wheels matrix.lock "$dset" >"$work/pypi-devel.json"
jq -s 'add' "$work/pypi.json" "$work/pypi-devel.json" >"$work/pypi-all.json"
step "matrix.lock pins the $set and $dset sets from PyPI" jq -e 'length > 22' "$work/pypi-all.json"

# --- the served folders: good/, corrupt/ (torch one byte off, listed with the true sha256),
#     relisted/ (the same corrupt torch, listed with its own sha256)
link() { ln "$1" "$2" 2>/dev/null || ln -s "$1" "$2"; }
mkdir -p "$work/srv"/{good,corrupt,relisted}/packages "$work/wheelhouse"
while read -r name file sha; do
  link "$shared/sha256/$sha/$file" "$work/srv/good/packages/$file"
  case $name in torch) ;; *) link "$shared/sha256/$sha/$file" "$work/srv/corrupt/packages/$file" ;; esac
  case $name in torch|triton|nvidia-*) link "$shared/sha256/$sha/$file" "$work/wheelhouse/$file" ;; esac
done < <(jq -r '.[] | "\(.name) \(.file) \(.sha256)"' "$work/pypi-all.json")
torch_file=$(jq -r '.[] | select(.name == "torch") | .file' "$work/pypi.json")
torch_sha=$(jq -r '.[] | select(.name == "torch") | .sha256' "$work/pypi.json")
cp "$work/srv/good/packages/$torch_file" "$work/srv/corrupt/packages/$torch_file"
# One byte in the middle of the file (compressed data of some member: the zip still opens).
python3 - "$work/srv/corrupt/packages/$torch_file" <<'EOF'
import os, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(os.path.getsize(sys.argv[1]) // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0xFF]))
EOF
bad_sha=$(sha256sum "$work/srv/corrupt/packages/$torch_file" | cut -d' ' -f1)
for f in "$work/srv/corrupt/packages/"*; do link "$f" "$work/srv/relisted/packages/$(basename "$f")"; done
# simple/<project>/index.html with the links and their sha256, as PEP 503 indexes list them.
write_index() { # write_index NAME TORCH_SHA
  local root=$work/srv/$1 name file sha
  mkdir -p "$root/simple"
  echo '<!DOCTYPE html><html><body>' >"$root/simple/index.html"
  while read -r name file sha; do
    [ "$name" = torch ] && sha=$2
    mkdir -p "$root/simple/$name"
    printf '<!DOCTYPE html><html><body>\n<a href="../../packages/%s#sha256=%s">%s</a>\n</body></html>\n' \
      "$file" "$sha" "$file" >"$root/simple/$name/index.html"
    printf '<a href="%s/">%s</a>\n' "$name" "$name" >>"$root/simple/index.html"
  done < <(jq -r '.[] | "\(.name) \(.file) \(.sha256)"' "$work/pypi-all.json")
  echo '</body></html>' >>"$root/simple/index.html"
}
write_index good "$torch_sha"
write_index corrupt "$torch_sha"
write_index relisted "$bad_sha"

start_server() { # start_server [PORT]
  rm -f "$work/port"
  python3 tests/index/serve.py "$work/srv" "$work/port" ${1:+"$1"} 2>>"$work/access.log" &
  srv_pid=$!
  for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
  port=$(cat "$work/port")
}
start_server
step "the index answers on 127.0.0.1:$port" curl -fsS -o /dev/null "http://127.0.0.1:$port/good/simple/torch/"
good=http://127.0.0.1:$port/good/simple

# project DIR SOURCE-YAML [TORCH CUDA]: a folder with a matrix.yaml of the tag's runtime flavor.
project() {
  mkdir -p "$1"
  cat >"$1/matrix.yaml" <<EOF
repository: pctest/pytorch-cuda
base: debian-bookworm
python: "3.11"
torch: [${3:-"2.6.0"}]
cuda: [${4:-"12.4"}]
flavors: [${FLAVORS:-runtime}]
sources:
  "12.4": $2
${5:-}
EOF
}
# The set's wheels as a lock recorded them, and its source.
locked_source() { jq -c --arg id "${2:-$set}" '.sets[] | select(.id == $id) | .source' "$1/matrix.lock"; }
# One error line from pcgen and no line of pip's own report.
one_line() { # one_line FILE PATTERN...
  local f=$1; shift
  [ "$(grep -c '^pcgen: error: ' "$f")" -ge 1 ] || return 1
  ! grep -qE '^(ERROR|WARNING):|^ +(Expected|Got)|Traceback' "$f" || return 1
  for p in "$@"; do grep '^pcgen: error: ' "$f" | grep -qF -- "$p" || { echo "no error line has: $p"; return 1; }; done
}
# Nothing corrupt in a cache: no entry under the corrupt digest, no torch wheel but the true one.
clean_cache() { # clean_cache CACHE
  [ ! -e "$1/sha256/$bad_sha" ] || return 1
  ! find "$1" -name "$torch_file" -not -path "*/sha256/$torch_sha/*" | grep -q .
}
got_from_server() { # got_from_server PATH-PREFIX [WHEELS-JSON]: every wheel listed was GET 200 under it
  local file
  for file in $(jq -r '.[].file' "${2:-$work/pypi.json}"); do
    grep -qF "GET $1/$file 200" "$work/access.log" || { echo "not requested: $1/$file"; return 1; }
  done
}

# --- index
p=$work/p-index
FLAVORS="runtime, devel" project "$p" "{ index: \"$good\" }"
step "plan: the 12.4 tags (runtime, devel) come from the index" bash -c \
  "cd '$p' && '$PCGEN' plan --json | jq -e --arg u '$good' '[.tags[] | select(.cuda.version == \"12.4\") | .source] | length == 2 and all(.kind == \"index\" and .where == \$u)' \
   && '$PCGEN' plan | grep -qxF 'source: CUDA 12.4: index $good (2 tags)'"
cp matrix.lock "$p/matrix.lock" # the set as PyPI gave it: the changed source locks it again
: >"$work/access.log"
step "lock through the index (the sets locked from PyPI before are locked again)" env PCGEN_CACHE="$work/c-lock" bash -c \
  "cd '$p' && '$PCGEN' lock 2>'$work/lock.err'; rc=\$?; cat '$work/lock.err'; test \$rc -eq 0 && \
   grep -qxF 'lock: $set: locked from pypi before; matrix.yaml'\''s source changed: locking again' '$work/lock.err' && \
   grep -qxF 'lock: $dset: locked from pypi before; matrix.yaml'\''s source changed: locking again' '$work/lock.err'"
set_wheels "$p/matrix.lock" "$set" >"$work/index.json"
set_wheels "$p/matrix.lock" "$dset" >"$work/index-devel.json"
step "lock pins the same files, sizes and sha256 as PyPI did (torch set)" cmp "$work/pypi.json" "$work/index.json"
step "lock pins the same files, sizes and sha256 as PyPI did (devel set)" cmp "$work/pypi-devel.json" "$work/index-devel.json"
step "lock records the index as the source of both sets" test "$(locked_source "$p") $(locked_source "$p" "$dset")" = \
  "{\"kind\":\"index\",\"where\":\"$good\"} {\"kind\":\"index\",\"where\":\"$good\"}"
step "every wheel was requested from the index (access log)" got_from_server /good/packages "$work/pypi-all.json"
step "the index's project pages were read" grep -qF "GET /good/simple/nvidia-cublas-cu12/ 200" "$work/access.log"
rm -rf "$work/c-lock"
: >"$work/access.log"
seed_debs "$work/c-fetch"
step "fetch into an empty cache (but nvcc's packages) through the index, verified" env PCGEN_CACHE="$work/c-fetch" bash -c "cd '$p' && '$PCGEN' fetch"
step "fetch requested every wheel from the index" got_from_server /good/packages "$work/pypi-all.json"
step "fetch left every wheel verified in its cache" env PCGEN_CACHE="$work/c-fetch" bash -c "cd '$p' && '$PCGEN' fetch --offline"

# --- wheelhouse: torch, triton and nvidia-* only; the rest from pip's index (the local one)
p=$work/p-wheelhouse
project "$p" "{ wheelhouse: \"$work/wheelhouse\" }"
: >"$work/access.log"
step "lock from a wheelhouse, the rest from pip's index" env PCGEN_CACHE="$work/c-wh" PIP_INDEX_URL="$good" \
  bash -c "cd '$p' && '$PCGEN' lock 2>'$work/wh.err'; rc=\$?; cat '$work/wh.err'; test \$rc -eq 0 && \
           grep -qF 'filelock is not at $work/wheelhouse: from pip'\''s index' '$work/wh.err'"
set_wheels "$p/matrix.lock" "$set" >"$work/wheelhouse.json"
step "wheelhouse lock pins the same files, sizes and sha256 as PyPI did" cmp "$work/pypi.json" "$work/wheelhouse.json"
step "lock records the wheelhouse as the set's source" test "$(locked_source "$p")" = "{\"kind\":\"wheelhouse\",\"where\":\"$work/wheelhouse\"}"
step "only what the wheelhouse lacks came from the index" bash -c \
  "grep -qF 'GET /good/packages/filelock-' '$work/access.log' && ! grep -qE 'GET /good/packages/(torch|triton|nvidia)' '$work/access.log'"
step "fetch --offline finds the wheelhouse's wheels" env PCGEN_CACHE="$work/c-wh" bash -c "cd '$p' && '$PCGEN' fetch --offline"
rm -rf "$work/c-wh"
# fetch: torch from the wheelhouse, what it lacks from pip's index (nvidia-* already cached).
while read -r name file sha; do
  case $name in nvidia-*|triton) mkdir -p "$work/c-wh2/sha256/$sha" && link "$shared/sha256/$sha/$file" "$work/c-wh2/sha256/$sha/$file" ;; esac
done < <(jq -r '.[] | "\(.name) \(.file) \(.sha256)"' "$work/pypi.json")
: >"$work/access.log"
step "fetch from the wheelhouse, what it lacks from pip's index" env PCGEN_CACHE="$work/c-wh2" PIP_INDEX_URL="$good" \
  bash -c "cd '$p' && '$PCGEN' fetch 2>'$work/wh2.err'; rc=\$?; cat '$work/wh2.err'; test \$rc -eq 0 && \
           grep -qF 'fetch: filelock-4.2.11-py3-none-any.whl is not at $work/wheelhouse: from pip'\''s index' '$work/wh2.err' && \
           grep -qF 'GET /good/packages/filelock-' '$work/access.log' && ! grep -qE 'GET /good/packages/(torch|triton|nvidia)' '$work/access.log' && \
           test -e '$work/c-wh2/sha256/$torch_sha/$torch_file'"
rm -rf "$work/c-wh2"

# --- a corrupt torch wheel, same name
p=$work/p-corrupt
project "$p" "{ index: \"http://127.0.0.1:$port/corrupt/simple\" }"
step "lock: pip refuses bytes that do not match the index's sha256 (exit 3, one line)" env PCGEN_CACHE="$work/c-bad" bash -c \
  "cd '$p'; '$PCGEN' lock >'$work/bad.out' 2>'$work/bad.err'; rc=\$?; cat '$work/bad.err'; test \$rc -eq 3"
step "  ... the error names the tag, the digests and the setting" one_line "$work/bad.err" \
  "$rt: cannot lock $set" "has sha256 $bad_sha, but the index lists $torch_sha: refused" \
  "sources: {\"12.4\": {index: \"http://127.0.0.1:$port/corrupt/simple\"}}"
show "$work/bad.err"
step "  ... nothing corrupt entered the cache" clean_cache "$work/c-bad"
p=$work/p-relisted
project "$p" "{ index: \"http://127.0.0.1:$port/relisted/simple\" }"
# The lock of the index run, as if this index had served it; every wheel but torch already cached.
jq --arg u "http://127.0.0.1:$port/relisted/simple" --arg id "$set" \
  '(.sets[] | select(.id == $id) | .source.where) = $u' "$work/p-index/matrix.lock" >"$p/matrix.lock"
while read -r name file sha; do
  [ "$name" = torch ] && continue
  mkdir -p "$work/c-relisted/sha256/$sha" && link "$shared/sha256/$sha/$file" "$work/c-relisted/sha256/$sha/$file"
done < <(jq -r '.[] | "\(.name) \(.file) \(.sha256)"' "$work/pypi.json")
step "fetch: bytes other than matrix.lock pins are refused (exit 3, one line)" env PCGEN_CACHE="$work/c-relisted" bash -c \
  "cd '$p'; '$PCGEN' fetch >'$work/rel.out' 2>'$work/rel.err'; rc=\$?; cat '$work/rel.err'; test \$rc -eq 3"
step "  ... the error names the tag, the digests and the setting" one_line "$work/rel.err" \
  "$rt: $torch_file has sha256 $bad_sha, not $torch_sha: refused, not cached" \
  "sources: {\"12.4\": {index: \"http://127.0.0.1:$port/relisted/simple\"}}"
show "$work/rel.err"
step "  ... nothing corrupt entered the cache" clean_cache "$work/c-relisted"
rm -rf "$work/c-bad" "$work/c-relisted"

# --- the index down
stop_server
p=$work/p-down
project "$p" "{ index: \"$good\" }" '"2.4.1", "2.6.0"' '"12.1", "12.4"' 'exclude: [{ torch: "2.6.0", cuda: "12.1" }]'
cp matrix.lock "$p/matrix.lock" # the other tag, 2.4.1 + CUDA 12.1 from PyPI, is pinned there
step "lock with the index down: exit 3" bash -c \
  "cd '$p'; '$PCGEN' lock >'$work/down.out' 2>'$work/down.err'; rc=\$?; cat '$work/down.out' '$work/down.err'; test \$rc -eq 3"
step "  ... one line per 12.4 tag, naming it and the setting" bash -c "
  one() { grep '^pcgen: error: '\"\$1\"': cannot lock ' '$work/down.err' | grep -F 'cannot reach the index: connection refused' \
          | grep -qF 'the setting: sources: {\"12.4\": {index: \"$good\"}} in matrix.yaml'; }
  one 2.4.1-cuda12.4-cudnn9-runtime && one $rt && test \$(grep -c '^pcgen: error: ' '$work/down.err') -eq 2 \
  && ! grep -qE '^(ERROR|WARNING):' '$work/down.err'"
step "  ... the other tag still locks" grep -qxF "lock: 1 tag locked, 2 failed, 0 skipped (no source)" "$work/down.out"
show "$work/down.err"
step "  ... matrix.lock still pins it" bash -c "jq -e '.sets[] | select(.id == \"torch-2.4.1-cu121-py3.11\")' '$p/matrix.lock' >/dev/null"
p=$work/p-index
step "fetch --offline after a complete fetch needs no server" env PCGEN_CACHE="$work/c-fetch" bash -c "cd '$p' && '$PCGEN' fetch --offline"
step "fetch (online) with everything cached needs no server" env PCGEN_CACHE="$work/c-fetch" bash -c "cd '$p' && '$PCGEN' fetch"
step "fetch into an empty cache with the index down: exit 3, one line naming the setting" env PCGEN_CACHE="$work/c-empty" bash -c \
  "cd '$p'; '$PCGEN' fetch 2>'$work/fd.err'; rc=\$?; cat '$work/fd.err'; test \$rc -eq 3 && \
   grep '^pcgen: error: $rt: ' '$work/fd.err' | grep -F 'cannot reach the index' | grep -qF 'sources: {\"12.4\": {index: \"$good\"}}' \
   && ! grep -qE '^(ERROR|WARNING):' '$work/fd.err'"

show "$work/fd.err"
echo "index: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
