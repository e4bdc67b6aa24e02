#!/usr/bin/env bash
# bench/images.sh: the numbers of BENCHMARKS.md, measured in one run on this machine.
#   cold     `make images` from an empty pcgen cache and an engine without our images
#            (wheels still come from PyPI: only pip's own HTTP cache is kept, as a user has it)
#   no-op    `make images` right after, twice
#   sizes    each image's size; the bytes the engine stores for the whole matrix (shared
#            layers once) against the sum of the image sizes
#   naive    one plain `docker build` per tag that pip-installs torch inside (bench/naive/),
#            its sizes and stored bytes, in the same run
# Usage: bench/images.sh [--skip-cold | --naive-only] [TAG...]
#   (default: the tags make images builds; --naive-only appends the baseline to results.txt)
# Writes bench/results.txt; prints the table BENCHMARKS.md quotes.
set -euo pipefail
cd "$(dirname "$0")/.."
skip_cold=0
[ "${1:-}" = --skip-cold ] && { skip_cold=1; shift; }
[ "${1:-}" = --naive-only ] && { skip_cold=2; shift; }
out=bench/results.txt
[ $skip_cold = 2 ] || : > "$out"
log() { echo "$*" | tee -a "$out"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

scripts/ensure-docker >/dev/null
make -s bin/pcgen bin/pytorch-cuda-verify >/dev/null
tags=("$@")
[ ${#tags[@]} -gt 0 ] || mapfile -t tags < <(bin/pcgen plan --json | jq -r '.tags[] | select(.source.kind != "unavailable") | .tag')
repo=$(bin/pcgen plan --json | jq -r .repository)
log "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(docker version --format '{{.Server.Version}}') engine"
log "tags: ${tags[*]}"

if [ $skip_cold = 0 ]; then
  for t in "${tags[@]}"; do docker rmi -f "$repo:$t" >/dev/null 2>&1 || true; done
  docker image prune -f >/dev/null; docker builder prune -af >/dev/null
  # The layer digests of the previous build, to compare with a build from nothing: each layer
  # tar (by name, which holds the key of its inputs) made by both builds must have one digest.
  layer_digests() { for f in results/builds/*.json; do [ -e "$f" ] && jq -r '.layers | to_entries[] | "\(.key) \(.value)"' "$f"; done | sort -u; }
  before=$(layer_digests)
  rm -rf "${PCGEN_CACHE:-$HOME/.cache/pytorch-cuda}" results/builds results/certificates
  t0=$(now); make images >/tmp/bench-cold.log 2>&1; t1=$(now)
  log "cold make images: $(secs "$t0" "$t1") s"
  after=$(layer_digests)
  both=$(join <(echo "$before") <(echo "$after") || true)
  differ=$(awk '$2 != $3' <<<"$both")
  if [ -z "$before" ] || [ -z "$both" ]; then log "layer digests: no earlier build of these layers to compare with"
  elif [ -z "$differ" ]; then log "layer digests: $(wc -l <<<"$both") layer tars made by the previous build and by this one from an empty cache and engine: identical sha256 ($(wc -l <<<"$after") made now)"
  else log "layer digests: DIFFER from the previous build's:"; log "$differ"; fi
fi
[ $skip_cold = 2 ] || for i in 1 2; do t0=$(now); make images >/tmp/bench-noop.log 2>&1; t1=$(now); log "no-op make images #$i: $(secs "$t0" "$t1") s"; done

# Bytes stored for the matrix: `docker save` of all the images at once writes each layer once
# (what the engine and a registry keep); compared with the sum of the images' own sizes.
sum=0; images=()
for t in "${tags[@]}"; do
  s=$(docker image inspect --format '{{.Size}}' "$repo:$t"); sum=$((sum + s)); images+=("$repo:$t")
  log "size $t: $(awk -v s="$s" 'BEGIN { printf "%.2f GB", s / 1e9 }')"
done
log "sum of image sizes: $(awk -v s="$sum" 'BEGIN { printf "%.2f GB", s / 1e9 }')"
st=$(docker save "${images[@]}" | wc -c)
log "stored for the matrix (docker save of all, layers once): $(awk -v s="$st" 'BEGIN { printf "%.2f GB", s / 1e9 }')"

# The naive baseline: pip install torch inside a plain Debian image, one build per tag.
if [ -d bench/naive ]; then
  cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" bench/naive/ca.crt
  base_ref=$(docker images --format '{{.Repository}}:{{.Tag}}' pytorch-cuda/base | head -n1)
  nsum=0; nimages=()
  for t in "${tags[@]}"; do
    case $t in *-devel) continue ;; esac
    torch=${t%%-cuda*}
    t0=$(now)
    docker build -q --build-arg BASE_IMAGE="$base_ref" \
      --build-arg TORCH="$torch" -t "naive/pytorch:$t" bench/naive >/dev/null
    t1=$(now)
    s=$(docker image inspect --format '{{.Size}}' "naive/pytorch:$t"); nsum=$((nsum + s)); nimages+=("naive/pytorch:$t")
    log "naive $t: $(awk -v s="$s" 'BEGIN { printf "%.2f GB", s / 1e9 }') in $(secs "$t0" "$t1") s"
  done
  log "naive sum of sizes: $(awk -v s="$nsum" 'BEGIN { printf "%.2f GB", s / 1e9 }')"
  # Each naive image is the base plus its own layers: stored = base + sum(size - base).
  # (A docker save of these would need their size again in free disk.)
  bsize=$(docker image inspect --format '{{.Size}}' "$base_ref")
  nst=$(( bsize + nsum - ${#nimages[@]} * bsize ))
  log "naive stored (base once + each image's own layers): $(awk -v s="$nst" 'BEGIN { printf "%.2f GB", s / 1e9 }')"
fi
