#!/usr/bin/env bash
# bench/nvcc-cached.sh OLD_PCGEN [TAG]: staging a devel tag whose layers are cached but whose nvcc
# packages are not (BENCHMARKS.md, "nvcc layer cached"; issue 18, part 3), with `pcgen bake TAG`
# (it stages build/context/TAG as `pcgen build` does, without an engine):
#   old  OLD_PCGEN (a pcgen from before a cached layer skipped its inputs), online: it downloads
#        the two nvcc .debs (1.02 GB) from a local mirror (python3 -m http.server over hard links
#        of the main cache's copies, so the network is loopback: a lower bound on a real mirror)
#   new  bin/pcgen, --offline: nothing may be fetched
# each from its own PCGEN_CACHE under /tmp/nvcccache/, seeded with hard links from the main
# cache (~/.cache/pytorch-cuda, PCGEN_MAIN_CACHE): the base tar, the tag's layer tars, and every
# other file of the tag's lock sets and base packages, but not the nvcc .debs. Then the new
# binary once more from a cache of the base and the layer tars only (no wheel at all).
# The main cache must hold the tag's layers and files (a `pcgen build TAG` made them).
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1")
tag=${2:-2.6.0-cuda12.4-cudnn9-devel}
main=${PCGEN_MAIN_CACHE:-$HOME/.cache/pytorch-cuda}
work=/tmp/nvcccache/bench
rm -rf "$work" && mkdir -p "$work"
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# The tag's layers (plan) and files (lock sets, base packages): sha256 and file name.
bin/pcgen plan --json | python3 -c '
import json, sys
p = json.load(sys.stdin)
t = [t for t in p["tags"] if t["tag"] == sys.argv[1]][0]
for l in t["layers"] + (t["devel_layers"] if t["flavor"] == "devel" else []):
    print(l["name"])' "$tag" >"$work/layers"  # bake stages the runtime tag a devel target builds FROM too
python3 - "$tag" >"$work/files" <<'EOF'
import json, re, sys
tag = sys.argv[1]
lock = json.load(open("matrix.lock"))
m = re.match(r"(\d+\.\d+\.\d+)-cuda(\d+\.\d+)-", tag)
torch, cuda = m.group(1), m.group(2)
cu = "cu" + cuda.replace(".", "")
for s in lock["sets"]:
    if s["id"].startswith(f"torch-{torch}-{cu}-") or s["id"].startswith(f"cuda-devel-{cuda}-"):
        for w in s["wheels"]:
            print(w["sha256"], w["file"], w["role"])
EOF
# The main cache is shared and may lose its layers any time (build --lean): take hard links first.
stash=$work/stash
mkdir -p "$stash/layers" "$stash/base"
ln "$main/base/debian-bookworm.tar" "$stash/base/"
while read -r name; do
  ls "$main"/layers/"$name"-*.tar >/dev/null 2>&1 || { echo "no layer $name in $main: build $tag first" >&2; exit 1; }
  for f in "$main"/layers/"$name"-*.tar; do ln "$f" "$stash/layers/" && cp "$f.sha256" "$stash/layers/"; done
done <"$work/layers"
while read -r sha file role; do
  mkdir -p "$stash/sha256/$sha"
  ln "$main/sha256/$sha/$file" "$stash/sha256/$sha/" || { echo "no $file in $main" >&2; exit 1; }
  cp "$main/sha256/$sha/$file.verified" "$stash/sha256/$sha/" 2>/dev/null || true
done <"$work/files"
for d in "$main"/sha256/*; do
  for f in "$d"/*.deb; do
    [ -e "$f" ] && mkdir -p "$stash/sha256/${d##*/}" && ln -f "$f" "$stash/sha256/${d##*/}/" && { cp "$f.verified" "$stash/sha256/${d##*/}/" 2>/dev/null || true; }
  done
done
main=$stash

seed() { # seed DIR [wheels]
  mkdir -p "$1/layers" "$1/base"
  ln "$main/base/debian-bookworm.tar" "$1/base/"
  while read -r name; do
    for f in "$main"/layers/"$name"-*.tar; do ln "$f" "$1/layers/" && cp "$f.sha256" "$1/layers/"; done
  done <"$work/layers"
  [ "${2:-}" = wheels ] || return 0
  # every file of the tag but nvcc's, and the base's packages (all of CACHE/sha256 that is not nvcc's)
  while read -r sha file role; do
    [ "$role" = nvcc ] && continue
    mkdir -p "$1/sha256/$sha"
    ln "$main/sha256/$sha/$file" "$1/sha256/$sha/" && cp "$main/sha256/$sha/$file.verified" "$1/sha256/$sha/" 2>/dev/null || true
  done <"$work/files"
  for d in "$main"/sha256/*; do
    for f in "$d"/*.deb; do
      [ -e "$f" ] || continue
      case "$f" in *nvidia-cuda-*) continue ;; esac
      mkdir -p "$1/sha256/${d##*/}" && ln -f "$f" "$1/sha256/${d##*/}/" && cp "$f.verified" "$1/sha256/${d##*/}/" 2>/dev/null || true
    done
  done
}
# The local mirror: the nvcc packages at their pool paths.
while read -r sha file role; do
  [ "$role" = nvcc ] || continue
  mkdir -p "$work/mirror/pool/non-free/n/nvidia-cuda-toolkit"
  ln "$main/sha256/$sha/$file" "$work/mirror/pool/non-free/n/nvidia-cuda-toolkit/"
done <"$work/files"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$work/mirror" && exec python3 -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1) &
server=$!
sleep 1

run() { # run NAME CACHE PCGEN ARGS...
  local name=$1 cache=$2 bin=$3
  shift 3
  local t0 t1 rc=0
  t0=$(now)
  PCGEN_CACHE=$cache PCGEN_DEBIAN_MIRROR="http://127.0.0.1:$port" "$bin" bake -o "$work/bake.json" "$@" "$tag" \
    >"$work/$name.out" 2>&1 || rc=$?
  t1=$(now)
  echo "$name: exit $rc, $(secs "$t0" "$t1") s; fetch lines: $(grep -c '^fetch: ' "$work/$name.out" || true); layers made: $(grep -c '^layer: .* entries' "$work/$name.out" || true); sbom warnings: $(grep -c "warning: .*: sbom: " "$work/$name.out" || true)"
  { grep -E '^fetch: |error' "$work/$name.out" || true; } | sed 's/^/    /' | head -5
}
seed "$work/c-new" wheels
run "new, --offline, nvcc .debs absent" "$work/c-new" bin/pcgen --offline
seed "$work/c-old-offline" wheels
run "old, --offline, nvcc .debs absent" "$work/c-old-offline" "$old" --offline
seed "$work/c-old" wheels
run "old, online (local mirror), nvcc .debs absent" "$work/c-old" "$old"
run "old, again (the .debs now cached)" "$work/c-old" "$old"
seed "$work/c-lean"
run "new, --offline, layers and base only" "$work/c-lean" bin/pcgen --offline
