#!/usr/bin/env bash
# bench/push.sh [TAG]: `pcgen publish` of one built, certified tag (default
# 2.6.0-cuda12.4-cudnn9-runtime) to empty local registries (Debian's docker-registry on
# 127.0.0.1, temporary storage), side by side in one run:
#   writer, cold   --engine writer with an empty gzip cache (PCGEN_CACHE in the work folder:
#                  every layer compressed, two at a time on 2 CPUs, then uploaded)
#   writer, warm   --engine writer to a second empty registry, the gzip blobs cached
#   re-publish     --engine writer again to that registry (nothing to upload)
#   docker         --engine docker (docker push: the engine compresses and uploads) to a third
#                  empty registry
# Needs the tag built with the writer (build/oci/TAG) and certified. Appends to bench/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-2.6.0-cuda12.4-cudnn9-runtime}
out=bench/results.txt
log() { echo "$*" | tee -a "$out"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
make -s bin/pcgen >/dev/null
[ -e "build/oci/$tag/index.json" ] || { echo "bench/push.sh: build/oci/$tag missing: pcgen build $tag; pcgen certify $tag" >&2; exit 1; }
work=$(mktemp -d /tmp/pcgen-bench-push.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
# start_registry NAME: an empty registry; prints its port.
start_registry() {
  local port; port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$work/$1"
  printf 'version: 0.1\nlog: { level: warn }\nstorage: { filesystem: { rootdirectory: %s } }\nhttp: { addr: 127.0.0.1:%s }\n' \
    "$work/$1" "$port" >"$work/$1.yml"
  docker-registry serve "$work/$1.yml" >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.2; done
  echo "$port"
}
stored() { du -sb "$work/$1" | cut -f1; }
run() { # run LABEL NAME PORT ARGS...: one publish, timed
  local label=$1 name=$2 port=$3; shift 3
  local t0 t1; t0=$(now)
  bin/pcgen publish --to "127.0.0.1:$port" --report "$work/$label.json" "$@" "$tag" >"$work/$label.out" 2>&1 ||
    { cat "$work/$label.out"; exit 1; }
  t1=$(now)
  log "$label: $(secs "$t0" "$t1") s, registry storage $(awk -v b="$(stored "$name")" 'BEGIN { printf "%.2f", b / 1e9 }') GB," \
      "layers uploaded $(jq '.tags[0].layers_uploaded' "$work/$label.json"), digest $(jq -r '.tags[0].digest' "$work/$label.json")"
}
log "push: $tag on $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
a=$(start_registry a); b=$(start_registry b); c=$(start_registry c)
# The writer's runs share a gzip cache of their own, empty at first (the layer tars are read
# through the layout's hard links, wherever the main cache is).
export PCGEN_CACHE=$work/cache
run "writer, cold gzip cache" a "$a" --engine writer
run "writer, warm gzip cache" b "$b" --engine writer
run "writer, re-publish" b "$b" --engine writer
unset PCGEN_CACHE
run "docker push" c "$c" --engine docker
docker image ls --format '{{.Repository}}:{{.Tag}}' | grep "^127.0.0.1:$c/" | xargs -r docker rmi >/dev/null 2>&1 || true
