#!/usr/bin/env bash
# bench/fetch.sh OLD NEW [TAG] [ROUNDS]: `pcgen fetch TAG` into an empty cache, binary OLD against
# NEW, alternating (OLD first in odd rounds), ROUNDS rounds (default 2); issue 18, recorded in
# BENCHMARKS.md, "Cold build". Each run starts from an empty PCGEN_CACHE, $WORK/cache (WORK
# default /tmp/fetchbench), and pip keeps no HTTP cache (PIP_NO_CACHE_DIR=1): every byte comes
# from the network, the base's Debian packages included. Then, with PIP=1, pip alone on the
# wheels of the set SET (default torch-2.6.0-cu124-py3.11, Python 3.11) with the options pcgen
# gives it: one `pip download` of every wheel against two at once (torch's wheel alone, and the
# rest). Writes bench/fetch-results.txt; removes $WORK at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "${1:?usage: bench/fetch.sh OLD NEW [TAG] [ROUNDS]}")
new=$(realpath "${2:?usage: bench/fetch.sh OLD NEW [TAG] [ROUNDS]}")
tag=${3:-2.6.0-cuda12.4-cudnn9-runtime}
rounds=${4:-2}
out=bench/fetch-results.txt
work=${WORK:-/tmp/fetchbench}
trap 'rm -rf "$work"' EXIT
: > "$out"
log() { echo "$*" | tee -a "$out"; }
log "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); tag $tag, $rounds rounds; $(python3 -m pip --version | cut -d' ' -f1-2)"

fetch() { # fetch NAME BINARY
  rm -rf "$work" && mkdir -p "$work"
  local t0 t1
  t0=$(date +%s.%N)
  PCGEN_CACHE=$work/cache PIP_NO_CACHE_DIR=1 "$2" fetch "$tag" >"$work/out" 2>&1 || { tail -n 20 "$work/out"; exit 1; }
  t1=$(date +%s.%N)
  log "$(awk -v a="$t0" -v b="$t1" -v n="$1" 'BEGIN { printf "%-4s %6.1f s", n, b - a }')  ($(du -sm "$work/cache/sha256" | cut -f1) MB fetched; load $(cut -d' ' -f1 /proc/loadavg))"
}
for r in $(seq "$rounds"); do
  if [ $((r % 2)) = 1 ]; then fetch old "$old"; fetch new "$new"; else fetch new "$new"; fetch old "$old"; fi
done

[ -n "${PIP:-}" ] || exit 0
# The set's pins and pcgen's pip options (pip.c: add_common, add_platforms).
pins=$(jq -r --arg id "${SET:-torch-2.6.0-cu124-py3.11}" '.sets[] | select(.id == $id) | .wheels[] | "\(.name)==\(.version)"' matrix.lock)
opts=(--no-deps --quiet --only-binary=:all: --implementation cp --python-version 3.11)
for p in linux_x86_64 manylinux1_x86_64 manylinux2010_x86_64 manylinux2014_x86_64 $(seq -f 'manylinux_2_%g_x86_64' 5 36); do
  opts+=(--platform "$p")
done
pipdl() { PIP_NO_CACHE_DIR=1 python3 -m pip download "${opts[@]}" --dest "$@"; }
one() {
  rm -rf "$work" && mkdir -p "$work"
  local t0; t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  pipdl "$work/a" $pins
  log "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "pip, one process:            %6.1f s", b - a }')"
}
two() {
  rm -rf "$work" && mkdir -p "$work"
  local t0; t0=$(date +%s.%N)
  pipdl "$work/a" torch==2.6.0 &
  # shellcheck disable=SC2086
  pipdl "$work/b" $(grep -v '^torch==' <<<"$pins")
  wait
  log "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "pip, torch alone + the rest: %6.1f s", b - a }')"
}
for r in $(seq "$rounds"); do
  if [ $((r % 2)) = 1 ]; then one; two; else two; one; fi
done
