#!/usr/bin/env bash
# bench/jobs.sh: `pcgen build -j N` wall time for the default matrix's reachable tags, from the
# staged layers (the pcgen cache is kept: this measures docker build, not downloads) with none
# of the images in the engine and its build cache pruned, for each N given (default: 1 2).
# Usage: bench/jobs.sh [N...]   (run make images first). Appends to bench/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results.txt
log() { echo "$*" | tee -a "$out"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

scripts/ensure-docker >/dev/null
make -s bin/pcgen bin/pytorch-cuda-verify >/dev/null
levels=("$@")
[ ${#levels[@]} -gt 0 ] || levels=(1 2)
mapfile -t tags < <(bin/pcgen plan --json | jq -r '.tags[] | select(.source.kind != "unavailable") | .tag')
repo=$(bin/pcgen plan --json | jq -r .repository)
aliases=$(bin/pcgen plan --json | jq -r '.tags[] | select(.source.kind != "unavailable") | .aliases[]?' | sort -u)
for n in "${levels[@]}"; do
  for t in "${tags[@]}" $aliases; do docker rmi -f "$repo:$t" >/dev/null 2>&1 || true; done
  docker image prune -f >/dev/null; docker builder prune -af >/dev/null
  rm -rf results/builds
  t0=$(now); bin/pcgen build -j "$n" >/tmp/bench-jobs-$n.log 2>&1; t1=$(now)
  built=$(grep -c ' built$' /tmp/bench-jobs-$n.log || true)
  log "build -j $n (${#tags[@]} tags, layers cached, engine empty): $(secs "$t0" "$t1") s, $built built"
done
