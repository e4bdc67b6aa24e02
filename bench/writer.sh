#!/usr/bin/env bash
# bench/writer.sh: one tag built from cached layers by `docker build` (pcgen build --engine docker)
# and by pcgen's image writer (pcgen build), side by side in one run (BENCHMARKS.md,
# "The image writer"). Each run starts with every layer tar in pcgen's cache and without the
# image in the engine:
#   docker   the tag's image removed, BuildKit's unused cache pruned (`docker builder prune -f`,
#            never -a), then pcgen build --engine docker TAG
#   writer   every image the writer wrote (IDs: the config digests in build/oci/*, so no other
#            writer image shares a layer with it) removed, build/oci/TAG removed, then
#            pcgen build TAG: write the layout (step layers cached), docker load of every layer
#   write    the same with the image still in the engine: only the layout is written
#   layers   the writer with its own step layers (ld.so.cache, COPY) made again from nothing
# Usage: bench/writer.sh [TAG] (default 2.6.0-cuda12.4-cudnn9-runtime). Appends to
# bench/results.txt, prints the lines BENCHMARKS.md quotes.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-2.6.0-cuda12.4-cudnn9-runtime}
out=bench/results.txt
log() { echo "$*" | tee -a "$out"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
scripts/ensure-docker >/dev/null
make -s bin/pcgen bin/pytorch-cuda-verify >/dev/null
ref=$(bin/pcgen plan --json | jq -r --arg t "$tag" '.tags[] | select(.tag == $t) | .image')
cache=${PCGEN_CACHE:-$HOME/.cache/pytorch-cuda}
bin/pcgen build "$tag" >/dev/null # every layer staged and cached, the writer's layout written
writer_id() { jq -r '.[0].Config' "build/oci/$tag/manifest.json" | sed 's|blobs/sha256/|sha256:|'; }
timed() { local t0; t0=$(now); "$@" >/dev/null; secs "$t0" "$(now)"; }
log "writer bench $(date -u +%FT%TZ): $tag, $(nproc) cores, engine $(docker version --format '{{.Server.Version}}')"

writer_images() { for m in build/oci/*/manifest.json; do jq -r '.[0].Config' "$m" | sed 's|blobs/sha256/|sha256:|'; done; }
for id in $(writer_images); do docker rmi -f "$id" >/dev/null 2>&1 || true; done
docker rmi "$ref" >/dev/null 2>&1 || true
docker builder prune -f >/dev/null
rm -f "results/builds/$tag.json"
log "docker build (pcgen build --engine docker): $(timed bin/pcgen build --engine docker "$tag") s"
docker rmi "$ref" >/dev/null
for id in $(writer_images); do docker rmi -f "$id" >/dev/null 2>&1 || true; done
rm -rf "build/oci/$tag" "results/builds/$tag.json"
log "writer, layout + docker load (pcgen build): $(timed bin/pcgen build "$tag") s"
rm -rf "build/oci/$tag" "results/builds/$tag.json"
log "writer, layout only (image already in the engine): $(timed bin/pcgen build "$tag") s"
for b in build/oci/"$tag"/blobs/sha256/*; do
  find "$cache/layers" -maxdepth 1 -name 'step-*.tar' -samefile "$b" -delete
done
rm -rf "build/oci/$tag" "results/builds/$tag.json"
log "writer, layout only, step layers (ldconfig, COPY) made again: $(timed bin/pcgen build "$tag") s"
log "image ID $(writer_id), size $(docker image inspect -f '{{.Size}}' "$ref") bytes"
