#!/usr/bin/env bash
# tests/index/run.sh PCGEN: the `sources` of matrix.yaml against a replica of PyTorch's own index
# (https://download.pytorch.org/whl/cu118) on 127.0.0.1 (tests/index/serve.py, a free port, an
# access log), built by tests/index/replica.py to that index's conventions: torch wheels named
# torch-2.4.1+cu118-cp311-cp311-linux_x86_64.whl under whl/cu118/, everything else under whl/,
# absolute hrefs with %2B and #sha256=, data-dist-info-metadata and data-core-metadata with a
# .metadata file beside each wheel (PEP 658/714), and the index's own copies of the
# nvidia-*-cu11 wheels, triton and torch's pure-Python dependencies.
# The torch wheels are small synthetic stand-ins (a stub package; Requires-Dist: the real PyPI
# wheel's, with PyTorch's CUDA 11.8 pins): they live in this test's temporary caches only and
# are never built into an image. Every other wheel is real: the nvidia-*-cu11 wheels are
# downloaded from PyPI once (into the shared pcgen cache), the rest are the ones matrix.lock pins.
# pip's own index (PIP_INDEX_URL) is a second local index serving only nvcc's wheel (which
# PyTorch's index does not serve): anything else that did not come through the configured source
# fails the test. Each step has its own temporary cache (PCGEN_CACHE).
#   index:      plan shows the CUDA 11.8 tags from the index; lock of every CUDA 11.8 tag of the
#               default matrix succeeds: torch 2.4.1+cu118 / 2.6.0+cu118 (linux_x86_64), their
#               cu11 pins (nvidia-nccl-cu11 included), numpy; the aarch64 wheel beside them is
#               never taken; the devel set's nvcc wheel comes from pip's index (said on stderr);
#               fetch into an empty cache gets every wheel through the index, verified; the
#               CUDA 11.8 and cuDNN layers are made from the cu11 wheels (pcgen bake --offline)
#   resolver:   a wheelhouse whose torch (tagged manylinux_2_28_x86_64) needs a chain of 20
#               packages and two constraints on one package: every one locked, both met
#   wheelhouse: lock from a folder holding torch, triton and the nvidia-* wheels only: the rest
#               from pip's index (here the local index), said on stderr
#   corrupt:    torch with one byte changed under the same name: listed with the true sha256,
#               pip refuses it (lock: one line, exit 3); listed with its own sha256, fetch refuses
#               it against matrix.lock (one line, exit 3); no corrupt byte enters either cache
#   down:       server stopped: lock reports each 11.8 tag in one line naming the setting, exit 3;
#               fetch --offline after a complete fetch needs no server
# Last line: "index: N passed, N failed".
set -u
PCGEN=$(realpath "${1:?usage: tests/index/run.sh PCGEN}")
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export PCGEN_DATA="$top/generator/data"
shared=${PCGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pytorch-cuda}
unset PCGEN_CACHE
. "$top/tests/lib/suite.sh"
work=$(mktemp -d /tmp/pcgen-index.XXXXXX)
srv_pid=""
R="python3 tests/index/replica.py"

stop_server() { if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; srv_pid=""; fi; }
cleanup() { stop_server; if [ "$failed" -eq 0 ] && [ -z "${INDEX_KEEP:-}" ]; then rm -rf "$work"; else echo "  kept $work"; fi; }
show() { grep -h '^pcgen: error: ' "$@" | sed 's/^/       > /'; }

# --- the real wheels: torch's dependencies as matrix.lock pins them from PyPI (shared cache)
step "the 2.4.1 and 2.6.0 sets' wheels are in the pcgen cache (pcgen fetch from PyPI)" \
  env -u PIP_INDEX_URL -u PIP_FIND_LINKS "$PCGEN" fetch 2.4.1-cuda12.1-cudnn9-runtime 2.6.0-cuda12.4-cudnn9-runtime
# cached FILE: the path of FILE in the shared cache, if there
cached() { find "$shared/sha256" -mindepth 2 -maxdepth 2 -name "$1" 2>/dev/null | head -n 1; }
deps_of() { # deps_of SET-ID: "name path" of the set's wheels but torch and nvidia-*
  jq -r --arg id "$1" '.sets[] | select(.id == $id) | .wheels[] | select(.name != "torch")
    | select(.name | startswith("nvidia-") | not) | "\(.name) \(.sha256)/\(.file)"' matrix.lock \
    | while read -r name p; do echo "$name $shared/sha256/$p"; done; }
# The nvidia-*-cu11 wheels (and nvcc's), fetched for real from PyPI once into the shared cache.
cu11="nvidia-cublas-cu11==11.11.3.6 nvidia-cuda-cupti-cu11==11.8.87 nvidia-cuda-nvrtc-cu11==11.8.89
 nvidia-cuda-runtime-cu11==11.8.89 nvidia-cudnn-cu11==9.1.0.70 nvidia-cufft-cu11==10.9.0.58
 nvidia-curand-cu11==10.3.0.86 nvidia-cusolver-cu11==11.4.1.48 nvidia-cusparse-cu11==11.7.5.86
 nvidia-nccl-cu11==2.20.5 nvidia-nccl-cu11==2.21.5 nvidia-nvtx-cu11==11.8.86 nvidia-cuda-nvcc-cu11==11.8.89"
get_cu11() {
  local spec name ver file f sha
  for spec in $cu11; do
    name=${spec%%==*} ver=${spec##*==}
    file="${name//-/_}-$ver-py3-none-manylinux*_x86_64.whl"
    [ -n "$(cached "$file")" ] && continue
    mkdir -p "$work/dl"
    env -u PIP_INDEX_URL -u PIP_FIND_LINKS python3 -m pip download -q --no-deps --only-binary=:all: \
      --implementation cp --python-version 3.11 --platform manylinux2014_x86_64 -d "$work/dl" "$spec" || return 1
    for f in "$work/dl"/*.whl; do
      sha=$(sha256sum "$f" | cut -d' ' -f1)
      mkdir -p "$shared/sha256/$sha" && mv "$f" "$shared/sha256/$sha/$(basename "$f")"
    done
  done
}
step "the nvidia-*-cu11 wheels are in the pcgen cache (pip download from PyPI)" get_cu11
cu11_path() { cached "${1//-/_}-$2-py3-none-manylinux*_x86_64.whl"; }

# --- the synthetic torch wheels and the replica
mkdir -p "$work/torch" "$work/extra" "$work/srv"
real_torch() { jq -r --arg id "$1" '.sets[] | select(.id == $id) | .wheels[] | select(.name == "torch")
  | "'"$shared"'/sha256/\(.sha256)/\(.file)"' matrix.lock; }
t241=$($R torch "$work/torch" 2.4.1 linux_x86_64 "$(real_torch torch-2.4.1-cu121-py3.11)")
t260=$($R torch "$work/torch" 2.6.0 linux_x86_64 "$(real_torch torch-2.6.0-cu124-py3.11)")
# An aarch64 wheel of the same release beside it, as PyTorch's index has for later releases:
# never to be taken for an x86_64 image.
mkdir -p "$work/arm" && t260arm=$($R torch "$work/arm" 2.6.0 manylinux_2_28_aarch64 "$(real_torch torch-2.6.0-cu124-py3.11)")
{ echo "torch $t241"; echo "torch $t260"; echo "torch $t260arm"
  deps_of torch-2.4.1-cu121-py3.11; deps_of torch-2.6.0-cu124-py3.11
  for spec in $cu11; do n=${spec%%==*}; [ "$n" = nvidia-cuda-nvcc-cu11 ] || echo "$n $(cu11_path "$n" "${spec##*==}")"; done
} | sort -u >"$work/list"
step "the replica lists real files only (every path exists)" bash -c "cut -d' ' -f2 '$work/list' | xargs ls >/dev/null"
# The tampered torch: the same name, one byte of its package changed (a valid wheel, other bytes).
python3 - "$t260" "$work/torch-corrupt.whl" <<'EOF'
import sys, zipfile
sys.path.insert(0, "tests/index")
import replica
with zipfile.ZipFile(sys.argv[1]) as z:
    files = {n: z.read(n) for n in z.namelist() if not n.endswith(("/RECORD", "/WHEEL", "/METADATA"))}
    meta = z.read("torch-2.6.0+cu118.dist-info/METADATA").decode()
files["torch/__init__.py"] = files["torch/__init__.py"].replace(b"stand-in", b"stand_in")
replica.write_wheel(sys.argv[2], files, "torch-2.6.0+cu118.dist-info", meta, "cp311-cp311-linux_x86_64")
EOF
mkdir -p "$work/corrupt-torch" && cp "$work/torch-corrupt.whl" "$work/corrupt-torch/$(basename "$t260")"
torch_sha=$(sha256sum "$t260" | cut -d' ' -f1)
bad_sha=$(sha256sum "$work/torch-corrupt.whl" | cut -d' ' -f1)
t260_file=$(basename "$t260")
start_server() {
  rm -f "$work/port"
  python3 tests/index/serve.py "$work/srv" "$work/port" ${1:+"$1"} 2>>"$work/access.log" &
  srv_pid=$!
  for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
  port=$(cat "$work/port")
}
start_server
$R index "$work/srv/good" "/good" "$work/list"
# corrupt/: torch 2.6.0 one byte off, listed with the true sha256; relisted/: listed with its own.
grep -v "$t260_file" "$work/list" >"$work/list-corrupt"
$R index "$work/srv/corrupt" "/corrupt" "$work/list-corrupt"
cp "$work/corrupt-torch/$t260_file" "$work/srv/corrupt/whl/cu118/$t260_file"
python3 - "$work/srv/corrupt/whl/cu118/torch/index.html" "$torch_sha" <<'EOF'
import sys, urllib.parse
p, sha = sys.argv[1], sys.argv[2]
s = open(p).read()
name = "torch-2.6.0+cu118-cp311-cp311-linux_x86_64.whl"
link = '<a href="/corrupt/whl/cu118/%s#sha256=%s">%s</a><br/>\n  </body>' % (urllib.parse.quote(name), sha, name)
open(p, "w").write(s.replace("  </body>", link, 1))
EOF
{ cat "$work/list-corrupt"; echo "torch $work/corrupt-torch/$t260_file"; } >"$work/list-relisted"
$R index "$work/srv/relisted" "/relisted" "$work/list-relisted"
# pip's own index in this test: nvcc's wheel only (PyTorch's index does not serve it).
echo "nvidia-cuda-nvcc-cu11 $(cu11_path nvidia-cuda-nvcc-cu11 11.8.89)" >"$work/list-pypi"
$R index "$work/srv/pypi" "/pypi" "$work/list-pypi"
good=http://127.0.0.1:$port/good/whl/cu118
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_INDEX_URL=http://127.0.0.1:$port/pypi/whl/cu118
unset PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_NO_INDEX
step "the replica answers on 127.0.0.1:$port (torch's page: %2B hrefs, #sha256, PEP 658/714 metadata beside)" bash -c \
  "curl -fsS '$good/torch/' | grep -F 'href=\"/good/whl/cu118/torch-2.4.1%2Bcu118-cp311-cp311-linux_x86_64.whl#sha256=' \
   | grep -F 'data-dist-info-metadata=\"sha256=' | grep -qF 'data-core-metadata=\"sha256=' \
   && curl -fsS 'http://127.0.0.1:$port/good/whl/cu118/torch-2.4.1%2Bcu118-cp311-cp311-linux_x86_64.whl.metadata' | grep -qx 'Version: 2.4.1+cu118'"

# project DIR SOURCE-YAML [TORCH]: a folder with a matrix.yaml of CUDA 11.8 tags.
project() {
  mkdir -p "$1"
  cat >"$1/matrix.yaml" <<EOF
repository: pctest/pytorch-cuda
base: debian-bookworm
python: "3.11"
torch: [${3:-"2.4.1", "2.6.0"}]
cuda: ["11.8"]
flavors: [${FLAVORS:-runtime, devel}]
sources:
  "11.8": $2
EOF
}
wheels() { # wheels LOCK ID: "name==version file" of the set, sorted
  jq -r --arg id "$2" '.sets[] | select(.id == $id) | .wheels[] | "\(.name)==\(.version) \(.file)"' "$1" | sort; }
export -f wheels
one_line() { # one_line FILE PATTERN...: error lines have every pattern, no line of pip's own report
  local f=$1; shift
  [ "$(grep -c '^pcgen: error: ' "$f")" -ge 1 ] || return 1
  ! grep -qE '^(ERROR|WARNING):|^ +(Expected|Got)|Traceback' "$f" || return 1
  for p in "$@"; do grep '^pcgen: error: ' "$f" | grep -qF -- "$p" || { echo "no error line has: $p"; return 1; }; done
}
clean_cache() { [ ! -e "$1/sha256/$bad_sha" ]; }
seed_debs() { # seed_debs LOCK CACHE: nvcc's Debian packages linked in from the shared cache where there
  local sha file
  while read -r file sha; do
    [ -e "$shared/sha256/$sha/$file" ] || continue
    mkdir -p "$2/sha256/$sha" && { ln -f "$shared/sha256/$sha/$file" "$2/sha256/$sha/$file" 2>/dev/null \
      || cp "$shared/sha256/$sha/$file" "$2/sha256/$sha/$file"; }
  done < <(jq -r '.sets[].wheels[] | select(.role == "nvcc") | "\(.file) \(.sha256)"' "$1" | sort -u)
}

# --- index: every CUDA 11.8 tag of the default matrix
p=$work/p-index
project "$p" "{ index: \"$good\" }"
step "plan: the four CUDA 11.8 tags come from the index" bash -c \
  "cd '$p' && '$PCGEN' plan --json | jq -e --arg u '$good' '[.tags[] | .source] | length == 4 and all(.kind == \"index\" and .where == \$u)'"
# The lock's cache starts with the wheels over 50 MB (cudnn, cublas, ..., from the shared cache):
# the lock downloads the rest through the index; the fetch below downloads every wheel.
: >"$work/seeded"
while read -r name path; do
  case $path in "$shared"/sha256/*) ;; *) continue ;; esac
  [ "$(stat -L -c %s "$path")" -gt 50000000 ] || continue
  sha=$(basename "$(dirname "$path")")
  mkdir -p "$work/c-lock/sha256/$sha" && { ln -f "$path" "$work/c-lock/sha256/$sha/" 2>/dev/null \
    || cp "$path" "$work/c-lock/sha256/$sha/"; }
  # its hash memo too (same inode, size and mtime: still valid), so the lock does not hash GBs
  [ -e "$path.verified" ] && ln -f "$path.verified" "$work/c-lock/sha256/$sha/" 2>/dev/null
  basename "$path" >>"$work/seeded"
done <"$work/list"
: >"$work/access.log"
step "lock every CUDA 11.8 tag through the index" env PCGEN_CACHE="$work/c-lock" bash -c \
  "cd '$p' && '$PCGEN' lock 2>'$work/lock.err'; rc=\$?; cat '$work/lock.err'; test \$rc -eq 0"
L=$p/matrix.lock
step "  ... torch 2.4.1+cu118 and 2.6.0+cu118 (linux_x86_64) are pinned" bash -c \
  "jq -e '[.sets[].wheels[] | select(.name == \"torch\") | .version + \" \" + .file] | sort == [
    \"2.4.1+cu118 torch-2.4.1+cu118-cp311-cp311-linux_x86_64.whl\", \"2.6.0+cu118 torch-2.6.0+cu118-cp311-cp311-linux_x86_64.whl\"]' '$L'"
step "  ... with PyTorch's cu11 pins: nccl-cu11 2.20.5 (2.4.1) and 2.21.5 (2.6.0), cudnn-cu11 9.1.0.70, numpy 2.1.2" bash -c \
  "jq -e '(.sets[] | select(.id == \"torch-2.4.1-cu118-py3.11\") | [.wheels[] | .name + \"==\" + .version]) as \$a
    | (.sets[] | select(.id == \"torch-2.6.0-cu118-py3.11\") | [.wheels[] | .name + \"==\" + .version]) as \$b
    | (\$a | index(\"nvidia-nccl-cu11==2.20.5\")) and (\$b | index(\"nvidia-nccl-cu11==2.21.5\"))
      and (\$a | index(\"nvidia-cudnn-cu11==9.1.0.70\")) and (\$b | index(\"nvidia-cublas-cu11==11.11.3.6\"))
      and (\$a | index(\"numpy==2.1.2\")) and (\$b | index(\"numpy==2.1.2\")) and (\$a | index(\"triton==3.0.0\"))
      and ([\$a[], \$b[]] | map(select(test(\"cu12\"))) | length == 0)' '$L'"
step "  ... the tags keep the plain version (2.4.1-cuda11.8-cudnn9-runtime)" bash -c \
  "cd '$p' && '$PCGEN' plan --json | jq -e '[.tags[].tag] | sort == [\"2.4.1-cuda11.8-cudnn9-devel\", \"2.4.1-cuda11.8-cudnn9-runtime\", \"2.6.0-cuda11.8-cudnn9-devel\", \"2.6.0-cuda11.8-cudnn9-runtime\"]'"
step "  ... roles: cu11 wheels 'cuda', cudnn 'cudnn', numpy 'torch'" bash -c \
  "jq -e '[.sets[] | select(.id == \"torch-2.4.1-cu118-py3.11\") | .wheels[] | select(.name == \"nvidia-nccl-cu11\" or .name == \"nvidia-cudnn-cu11\" or .name == \"numpy\") | .role] == [\"torch\", \"cudnn\", \"cuda\"]' '$L'"
step "  ... the devel set's nvcc wheel came from pip's index, said on stderr" bash -c \
  "grep -qF 'lock: cuda-devel-11.8-py3.11: nvidia-cuda-nvcc-cu11==11.8.89 is not at $good: resolving with pip' '$work/lock.err' \
   && jq -e '.sets[] | select(.id == \"cuda-devel-11.8-py3.11\") | .wheels[] | select(.name == \"nvidia-cuda-nvcc-cu11\")' '$L'"
step "  ... the aarch64 wheel was never requested; torch's .metadata was (PEP 658)" bash -c \
  "! grep -q 'aarch64' '$work/access.log' && grep -qF 'GET /good/whl/cu118/torch-2.4.1%2Bcu118-cp311-cp311-linux_x86_64.whl.metadata 200' '$work/access.log'"
got_from_server() { # got_from_server LOCK [SKIP]: every torch-set wheel (but those in SKIP) was GET 200 from the index (as pip asks: %2B)
  local f
  for f in $(jq -r '.sets[] | select(.id | startswith("torch-")) | .wheels[].file' "$1" | sort -u); do
    grep -qxF "$f" "${2:-/dev/null}" && continue
    grep -qE "GET /good/whl/(cu118/)?${f//+/%2B} 200" "$work/access.log" || { echo "not requested: $f"; return 1; }
  done
}
step "  ... every torch-set wheel not in its cache was downloaded from the index" got_from_server "$L" "$work/seeded"
step "lock again: nothing to do (the sets are current)" env PCGEN_CACHE="$work/c-lock" bash -c \
  "cd '$p' && cp matrix.lock before.lock && '$PCGEN' lock 2>/dev/null && cmp before.lock matrix.lock"
: >"$work/access.log"
seed_debs "$L" "$work/c-fetch"
step "fetch into an empty cache (but nvcc's packages) through the index, verified" env PCGEN_CACHE="$work/c-fetch" bash -c "cd '$p' && '$PCGEN' fetch"
step "  ... every torch-set wheel was downloaded from the index" got_from_server "$L"
step "fetch left every wheel verified in its cache" env PCGEN_CACHE="$work/c-fetch" bash -c "cd '$p' && '$PCGEN' fetch --offline"
# The CUDA 11.8 and cuDNN layers, made from the cu11 wheels by pcgen's stage code (bake stages
# the build contexts without Docker; the base OS tar comes from the shared cache).
layers_ok() {
  local c=$work/c-fetch
  [ -e "$shared/base/debian-bookworm.tar" ] || { echo "no base tar in $shared/base (make images first)"; return 1; }
  mkdir -p "$c/base" && ln -f "$shared/base/debian-bookworm.tar" "$c/base/" 2>/dev/null || cp "$shared/base/debian-bookworm.tar" "$c/base/"
  # bake copies the verifier into each context: the built one, else a stand-in (no image is built here)
  mkdir -p "$p/bin"
  cp "$top/bin/pytorch-cuda-verify" "$p/bin/" 2>/dev/null || cp "$top/build/test/pytorch-cuda-verify" "$p/bin/" 2>/dev/null \
    || printf '#!/bin/sh\nexit 1\n' >"$p/bin/pytorch-cuda-verify"
  (cd "$p" && "$PCGEN" render --templates "$top/templates" >/dev/null && PCGEN_CACHE="$c" "$PCGEN" bake --offline -o bake.json 2.4.1-cuda11.8-cudnn9-runtime) || return 1
  local cuda cudnn
  cuda=$(ls "$p"/build/context/2.4.1-cuda11.8-cudnn9-runtime/layers/cuda-11.8*.tar) || return 1
  cudnn=$(ls "$p"/build/context/2.4.1-cuda11.8-cudnn9-runtime/layers/cudnn-9.1.0.70-cuda11.8*.tar) || return 1
  tar -tf "$cuda" >"$work/cuda.list" && tar -tf "$cudnn" >"$work/cudnn.list"
  for f in usr/local/cuda-11.8/lib/libcudart.so.11.0 usr/local/cuda-11.8/lib/libcublas.so.11 usr/local/cuda-11.8/lib/libnccl.so.2; do
    grep -qE "^(\./)?$f\$" "$work/cuda.list" || { echo "$f not in $cuda"; return 1; }; done
  grep -qE '^(\./)?usr/local/cuda-11.8/lib/libcudnn.so.9$' "$work/cudnn.list" || { echo "libcudnn.so.9 not in $cudnn"; return 1; }
  grep -qE 'nvidia_nccl_cu11-2.20.5.dist-info/' "$work/cuda.list" || { echo "nccl-cu11 2.20.5's dist-info not in $cuda"; return 1; }
}
step "the CUDA 11.8 and cuDNN layers are made from the cu11 wheels (libcudart.so.11.0, libnccl.so.2, libcudnn.so.9)" layers_ok

# --- resolver: a chain deeper than 16 and two constraints on one package (the hand-written loop
#     stopped after 16 rounds and kept only the first constraint)
wh=$work/deep
mkdir -p "$wh"
for i in $(seq 1 20); do
  n=$(printf 'pcgen-deep-%02d' "$i"); nx=$(printf 'pcgen-deep-%02d' $((i + 1)))
  if [ "$i" -lt 20 ]; then $R extra "$wh" "$n" 1.0 "$nx" >/dev/null; else $R extra "$wh" "$n" 1.0 >/dev/null; fi
done
$R extra "$wh" pcgen-shared 1.0 >/dev/null
$R extra "$wh" pcgen-shared 2.0 >/dev/null
$R extra "$wh" pcgen-pin-low 1.0 "pcgen-shared<2" >/dev/null
python3 - "$t260" "$wh" <<'EOF'
import os, sys, zipfile
# torch 2.6.0+cu118 tagged manylinux_2_28_x86_64 (as later releases are), needing the chain and
# pcgen-shared>=1 (first) and pcgen-pin-low, which needs pcgen-shared<2.
src, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, "tests/index")
import replica
with zipfile.ZipFile(src) as z:
    files = {n: z.read(n) for n in z.namelist() if not n.endswith(("/RECORD", "/WHEEL", "/METADATA"))}
    meta = z.read("torch-2.6.0+cu118.dist-info/METADATA").decode()
meta += "Requires-Dist: pcgen-shared>=1\nRequires-Dist: pcgen-deep-01\nRequires-Dist: pcgen-pin-low\n"
replica.write_wheel(os.path.join(out, "torch-2.6.0+cu118-cp311-cp311-manylinux_2_28_x86_64.whl"), files,
                    "torch-2.6.0+cu118.dist-info", meta, "cp311-cp311-manylinux_2_28_x86_64")
EOF
while read -r name path; do case $name in torch) ;; *) ln -f "$path" "$wh/" 2>/dev/null || ln -s "$path" "$wh/" ;; esac
done < <(grep -v aarch64 "$work/list")
p=$work/p-deep
FLAVORS=runtime project "$p" "{ wheelhouse: \"$wh\" }" '"2.6.0"'
# Every wheel but the synthetic ones is in the fetch cache already: the lock downloads nothing big.
cp -al "$work/c-fetch" "$work/c-deep"
step "resolver: lock from a wheelhouse with a 20-deep chain and two constraints on one package" env PCGEN_CACHE="$work/c-deep" bash -c \
  "cd '$p' && '$PCGEN' lock 2>'$work/deep.err'; rc=\$?; cat '$work/deep.err'; test \$rc -eq 0"
step "  ... all 20 of the chain are pinned, and pcgen-shared 1.0 (>=1 and <2)" bash -c \
  "jq -e '[.sets[0].wheels[] | select(.name | startswith(\"pcgen-deep-\"))] | length == 20' '$p/matrix.lock' \
   && jq -e '[.sets[0].wheels[] | select(.name == \"pcgen-shared\") | .version] == [\"1.0\"]' '$p/matrix.lock' \
   && jq -e '[.sets[0].wheels[] | select(.name == \"torch\") | .file] == [\"torch-2.6.0+cu118-cp311-cp311-manylinux_2_28_x86_64.whl\"]' '$p/matrix.lock'"
rm -rf "$work/c-deep"
# A requirement nothing serves: one line naming it and what required it.
$R extra "$wh" pcgen-pin-low 1.0 "pcgen-shared<2" "pcgen-missing==3.0" >/dev/null
rm -f "$p/matrix.lock"
step "resolver: a requirement nothing serves fails naming it and what required it (exit 3)" env PCGEN_CACHE="$work/c-none" bash -c \
  "cd '$p'; '$PCGEN' lock 2>'$work/miss.err'; rc=\$?; cat '$work/miss.err'; test \$rc -eq 3"
step "  ... one line: the package, what required it, the setting" one_line "$work/miss.err" \
  "no wheel of pcgen-missing==3.0 (required by pcgen-pin-low)" "sources: {\"11.8\": {wheelhouse: \"$wh\"}}"
show "$work/miss.err"

# --- wheelhouse: torch, triton and nvidia-* only; the rest from pip's index (the replica)
wh2=$work/wheelhouse
mkdir -p "$wh2"
while read -r name path; do case $name in torch|triton|nvidia-*) ln -f "$path" "$wh2/" 2>/dev/null || ln -s "$path" "$wh2/" ;; esac
done < <(grep -v aarch64 "$work/list")
p=$work/p-wheelhouse
FLAVORS=runtime project "$p" "{ wheelhouse: \"$wh2\" }"
cp -al "$work/c-fetch" "$work/c-wh"
: >"$work/access.log"
step "lock from a wheelhouse, the rest from pip's index" env PCGEN_CACHE="$work/c-wh" PIP_INDEX_URL="$good" \
  bash -c "cd '$p' && '$PCGEN' lock 2>'$work/wh.err'; rc=\$?; cat '$work/wh.err'; test \$rc -eq 0 && \
           grep -qE 'is not at $wh2: resolving with pip.s index too' '$work/wh.err'"
step "  ... the same wheels as through the index" bash -c \
  "diff <(wheels '$work/p-index/matrix.lock' torch-2.6.0-cu118-py3.11) <(wheels '$p/matrix.lock' torch-2.6.0-cu118-py3.11)"
# (pip, resolving with both, may read metadata or whole wheels from the index where it holds the
# same files as the wheelhouse: the pins are the same bytes, and lock and fetch download them from
# the wheelhouse.)
rm -rf "$work/c-wh"

# --- a corrupt torch wheel, same name
p=$work/p-corrupt
FLAVORS=runtime project "$p" "{ index: \"http://127.0.0.1:$port/corrupt/whl/cu118\" }" '"2.6.0"'
step "lock: pip refuses bytes that do not match the index's sha256 (exit 3, one line)" env PCGEN_CACHE="$work/c-bad" bash -c \
  "cd '$p'; '$PCGEN' lock >'$work/bad.out' 2>'$work/bad.err'; rc=\$?; cat '$work/bad.err'; test \$rc -eq 3"
step "  ... the error names the tag, the digests and the setting" one_line "$work/bad.err" \
  "2.6.0-cuda11.8-cudnn9-runtime: cannot lock torch-2.6.0-cu118-py3.11" "has sha256 $bad_sha, but the index lists $torch_sha: refused" \
  "sources: {\"11.8\": {index: \"http://127.0.0.1:$port/corrupt/whl/cu118\"}}"
show "$work/bad.err"
step "  ... nothing corrupt entered the cache" clean_cache "$work/c-bad"
p=$work/p-relisted
FLAVORS=runtime project "$p" "{ index: \"http://127.0.0.1:$port/relisted/whl/cu118\" }" '"2.6.0"'
jq --arg u "http://127.0.0.1:$port/relisted/whl/cu118" '.sets |= map(select(.id == "torch-2.6.0-cu118-py3.11") | .source.where = $u)' \
  "$work/p-index/matrix.lock" >"$p/matrix.lock"
cp -al "$work/c-fetch" "$work/c-relisted" && rm -rf "$work/c-relisted/sha256/$torch_sha"
step "fetch: bytes other than matrix.lock pins are refused (exit 3, one line)" env PCGEN_CACHE="$work/c-relisted" bash -c \
  "cd '$p'; '$PCGEN' fetch >'$work/rel.out' 2>'$work/rel.err'; rc=\$?; cat '$work/rel.err'; test \$rc -eq 3"
step "  ... the error names the tag, the digests and the setting" one_line "$work/rel.err" \
  "2.6.0-cuda11.8-cudnn9-runtime: $t260_file has sha256 $bad_sha, not $torch_sha: refused, not cached" \
  "sources: {\"11.8\": {index: \"http://127.0.0.1:$port/relisted/whl/cu118\"}}"
show "$work/rel.err"
step "  ... nothing corrupt entered the cache" clean_cache "$work/c-relisted"
rm -rf "$work/c-bad" "$work/c-relisted"

# --- the index down
stop_server
p=$work/p-down
FLAVORS=runtime project "$p" "{ index: \"$good\" }"
step "lock with the index down: exit 3, one line per CUDA 11.8 tag naming the setting" bash -c \
  "cd '$p'; '$PCGEN' lock >'$work/down.out' 2>'$work/down.err'; rc=\$?; cat '$work/down.out' '$work/down.err'; test \$rc -eq 3 \
   && test \$(grep -c '^pcgen: error: .*: cannot lock .*cannot reach the index: connection refused.*the setting: sources: {\"11.8\": {index: \"$good\"}} in matrix.yaml' '$work/down.err') -eq 2 \
   && ! grep -qE '^(ERROR|WARNING):' '$work/down.err' && grep -qxF 'lock: 0 tags locked, 2 failed, 0 skipped (no source)' '$work/down.out'"
show "$work/down.err"
p=$work/p-index
step "fetch --offline after a complete fetch needs no server" env PCGEN_CACHE="$work/c-fetch" bash -c "cd '$p' && '$PCGEN' fetch --offline"

finish index
