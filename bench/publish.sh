#!/usr/bin/env bash
# bench/publish.sh: bytes `pcgen publish` uploads for the default matrix's built, certified tags
# to an empty registry (Debian's docker-registry on 127.0.0.1, a temporary storage folder),
# against the sum of the images' sizes; then the bytes an immediate re-publish uploads.
# "Uploaded" is what the registry's blob store grew by (compressed layers, configs, manifests).
# Usage: bench/publish.sh [TAG...]   (default: every tag with a source; run make images first)
# Appends to bench/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results.txt
log() { echo "$*" | tee -a "$out"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

scripts/ensure-docker >/dev/null
make -s bin/pcgen >/dev/null
docker() { "${PCGEN_DOCKER:-/usr/bin/docker}" "$@"; }
tags=("$@")
[ ${#tags[@]} -gt 0 ] || mapfile -t tags < <(bin/pcgen plan --json | jq -r '.tags[] | select(.source.kind != "unavailable") | .tag')
repo=$(bin/pcgen plan --json | jq -r .repository)

work=$(mktemp -d /tmp/pcgen-bench-publish.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/config.yml" <<EOF
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $work/storage } }
http: { addr: 127.0.0.1:$port }
EOF
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
reg=$!
cleanup() {
  kill "$reg" 2>/dev/null || true
  for t in $(bin/pcgen plan --json | jq -r '.tags[] | .tag, .aliases[]'); do
    docker rmi "127.0.0.1:$port/$repo:$t" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.2; done
stored() { du -sb "$work/storage" 2>/dev/null | cut -f1 || echo 0; }

sum=0
for t in "${tags[@]}"; do sum=$((sum + $(docker image inspect --format '{{.Size}}' "$repo:$t"))); done
log "publish: tags ${tags[*]}"
b0=$(stored); t0=$(now)
bin/pcgen publish --to "127.0.0.1:$port" --report "$work/first.json" "${tags[@]}" | tee "$work/first.out"
t1=$(now); b1=$(stored)
log "first publish: $((b1 - b0)) bytes uploaded ($(awk -v b=$((b1 - b0)) 'BEGIN { printf "%.2f", b / 1e9 }') GB) in $(secs "$t0" "$t1") s; sum of the images' sizes $(awk -v b=$sum 'BEGIN { printf "%.2f", b / 1e9 }') GB"
log "first publish layers: $(jq '[.tags[] | .layers_uploaded // 0] | add' "$work/first.json") uploaded, $(jq '[.tags[] | .layers_present // 0] | add' "$work/first.json") already there"
t0=$(now)
bin/pcgen publish --to "127.0.0.1:$port" --report "$work/again.json" "${tags[@]}" >"$work/again.out"
t1=$(now); b2=$(stored)
log "re-publish: $((b2 - b1)) bytes uploaded in $(secs "$t0" "$t1") s; layers uploaded $(jq '[.tags[] | .layers_uploaded // 0] | add' "$work/again.json"); digests unchanged: $(jq -n --slurpfile a "$work/first.json" --slurpfile b "$work/again.json" '[$a[0].tags[].digest] == [$b[0].tags[].digest]')"
