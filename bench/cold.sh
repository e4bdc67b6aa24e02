#!/usr/bin/env bash
# bench/cold.sh: a cold build of one tag, pcgen against the naive baseline, in one run
# (BENCHMARKS.md, "Cold build"; issue 18).
#   naive  `docker build --no-cache --network host` of bench/naive (pip install torch inside, downloads included;
#          pip keeps no cache there), FROM the base image pcgen's images start from
#   pcgen  `pcgen build TAG` with an empty PCGEN_CACHE of its own (wheels downloaded by pip
#          without its HTTP cache, layers staged, the image written and loaded); only the base
#          rootfs is kept (hard links from the cache of a first, untimed build), as the naive
#          build keeps its FROM image
# ROUNDS rounds (default 3), alternating which of the two goes first; before each run the
# images of this benchmark (repository coldbench/, its own) are removed and the cache emptied.
# Prints each run's time, pcgen's phases (from its "TAG: phase" lines), the ratio per round and
# the median ratio; then a no-op build of the tag, and the layer digests of every round against
# a serial re-staging (PCGEN_STAGE_JOBS=1, libarchive's zip reader): they must all be equal.
# Usage: bench/cold.sh [TAG] [ROUNDS]      (writes bench/cold-results.txt)
# Other images in the engine that hold the same layers make docker load skip them: the script
# says when the engine has one.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-2.6.0-cuda12.4-cudnn9-runtime}
rounds=${2:-3}
out=bench/cold-results.txt
: > "$out"
log() { echo "$*" | tee -a "$out"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

scripts/ensure-docker >/dev/null
make -s bin/pcgen bin/pytorch-cuda-verify >/dev/null
work=$(mktemp -d /tmp/pcgen-cold.XXXXXX)
sed 's#^repository: .*#repository: coldbench/pytorch-cuda#' matrix.yaml > "$work/matrix.yaml"
pcgen() { PIP_NO_CACHE_DIR=1 bin/pcgen "$@" --matrix "$work/matrix.yaml" --lock matrix.lock; }
rm_images() {
  docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^coldbench/' | xargs -r docker rmi -f >/dev/null 2>&1 || true
}
# At the end: this benchmark's folder and images (the tag and its aliases), nothing else.
trap 'rm -rf "$work"; rm_images' EXIT

log "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(docker version --format '{{.Server.Version}}') engine, load $(cut -d' ' -f1-3 /proc/loadavg)"
log "tag: $tag, $rounds rounds; stage workers: ${PCGEN_STAGE_JOBS:-$(nproc)}"

# The base rootfs and image, made by a first build of the tag, untimed: both builds start from
# them. That build takes the shared cache's base and wheels when it has them (hard links).
export PCGEN_CACHE=$work/seed
mkdir -p "$PCGEN_CACHE"
shared=${XDG_CACHE_HOME:-$HOME/.cache}/pytorch-cuda
for d in base sha256; do [ -z "$(ls "$shared/$d" 2>/dev/null)" ] || cp -al "$shared/$d" "$PCGEN_CACHE/$d"; done
pcgen build "$tag" >"$work/seed.log" 2>&1 || { tail -20 "$work/seed.log"; exit 1; }
rm -rf "$PCGEN_CACHE/layers" # GBs; only the base is needed from here
base=$(bin/pcgen plan --json "$work/matrix.yaml" | jq -r --arg t "$tag" '.tags[] | select(.tag == $t) | .base')
base_ref=pytorch-cuda/base:$base-$(sha256sum "$PCGEN_CACHE/base/$base.tar" | cut -c1-12)
docker image inspect "$base_ref" >/dev/null
id=$(docker image inspect --format '{{.Id}}' "coldbench/pytorch-cuda:$tag")
others=$(docker images --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | awk -v id="$id" '$1 == id && $2 !~ /^coldbench\// { print $2 }' | head -n3 | tr '\n' ' ')
[ -z "$others" ] || log "note: the engine holds this image under other names too ($others): docker load finds its layers present"
cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" bench/naive/ca.crt

run_naive() {
  local t0 t1
  t0=$(now)
  docker build -q --no-cache --network host --build-arg BASE_IMAGE="$base_ref" --build-arg TORCH="${tag%%-cuda*}" \
    -t "coldbench/naive:$tag" bench/naive >"$work/naive.log" 2>&1 || { tail -20 "$work/naive.log"; exit 1; }
  t1=$(now)
  naive=$(secs "$t0" "$t1")
  log "  naive: $naive s"
}

# pcgen's stderr, each line stamped with the seconds since the start.
stamp() { local t0=$1; while IFS= read -r l; do printf '%s %s\n' "$(secs "$t0" "$(now)")" "$l"; done; }
phase() { awk -v p="$tag: $1" 'index($0, p) == length($1) + 2 { print $1; exit }' "$work/pcgen.log"; }
run_pcgen() {
  local t0 t1
  export PCGEN_CACHE=$work/cache
  rm -rf "$PCGEN_CACHE"
  mkdir -p "$PCGEN_CACHE"
  cp -al "$work/seed/base" "$PCGEN_CACHE/base"
  t0=$(now)
  pcgen build "$tag" 2>&1 | stamp "$t0" >"$work/pcgen.log" || true
  t1=$(now)
  grep -q "  built" "$work/pcgen.log" || { cp "$work/pcgen.log" /tmp/pcgen-cold-failed.log; tail -20 "$work/pcgen.log"; exit 1; }
  fast=$(secs "$t0" "$t1")
  log "  pcgen: $fast s (fetch+stage $(phase queued) s, writing from $(phase writing), loading from $(phase loading), tagging from $(phase tagging))"
  grep -E '^[0-9.]+ layer: .*(entries|\.\.\.)' "$work/pcgen.log" | sed 's/^/    /' | tee -a "$out" >/dev/null
  for f in "$PCGEN_CACHE"/layers/*.sha256; do echo "$(basename "$f" .tar.sha256) $(cat "$f")"; done > "$work/digests.$r"
}

ratios=()
for r in $(seq 1 "$rounds"); do
  log "round $r:"
  rm_images
  if [ $((r % 2)) = 1 ]; then run_naive; rm_images; run_pcgen; else run_pcgen; rm_images; run_naive; fi
  ratio=$(awk -v a="$fast" -v b="$naive" 'BEGIN { printf "%.2f", a / b }')
  ratios+=("$ratio")
  log "  ratio pcgen/naive: $ratio"
done
log "median ratio: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') (goal <= 0.75)"

# A no-op build right after: the tag is up to date.
t0=$(now); pcgen build "$tag" >/dev/null 2>&1; t1=$(now)
log "no-op pcgen build: $(secs "$t0" "$t1") s"

# The same layers, one after the other with libarchive's zip reader (the path before issue 18).
rm -f "$PCGEN_CACHE"/layers/*
PCGEN_STAGE_JOBS=1 PCGEN_WHEEL_READER=libarchive pcgen build --offline "$tag" >/dev/null 2>&1 || true
for f in "$PCGEN_CACHE"/layers/*.sha256; do echo "$(basename "$f" .tar.sha256) $(cat "$f")"; done > "$work/digests.serial"
same=1
for r in $(seq 1 "$rounds"); do cmp -s "$work/digests.$r" "$work/digests.serial" || same=0; done
if [ $same = 1 ] && [ -s "$work/digests.serial" ]; then
  log "layer digests: the $(wc -l < "$work/digests.serial") layer tars of every round equal the serial libarchive path's"
else
  log "layer digests: DIFFER"; cat "$work"/digests.* | tee -a "$out"; exit 1
fi
