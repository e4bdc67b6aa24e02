#!/usr/bin/env bash
# bench/writer.sh: the default tags built from cached layers by `docker build` (pcgen build
# --engine docker) and by pcgen's image writer (pcgen build: OCI layout + docker load), side by
# side in one run (BENCHMARKS.md, "The image writer (issue 16)"; issue 16's goal: the writer
# in at most a fifth of docker build's time).
#
# Fairness on an engine other builds share: the run gets its own pcgen cache (hard links of the
# shared cache's wheels and layers, so "from cached layers" holds) whose base OS tar carries one
# extra file naming this run, so no image in the engine shares a single layer (ChainID) with the
# images measured, whatever else is loaded; and its own repository (pcgen-bench-writer/...).
#   warm-up  pcgen build of the tags (makes the writer's step layers, ldconfig and COPY, in the
#            run's cache, and imports the run's base image, which both paths then find)
#   docker   every image of the run removed (the base kept), `docker builder prune -af` (the
#            run's base is new, so no BuildKit cache can hit), pcgen build --engine docker TAG
#   writer   every image of the run removed (the base kept), pcgen build TAG
# Printed for each tag and path: the time of `pcgen build TAG` (in brackets the build step alone,
# results/builds/<tag>.json "seconds": write + docker load + tag, or docker build + tag); the
# ratio writer / docker; the writer's two parts (writing the layout, then `docker load` until the
# tags are set, from the seconds at which pcgen prints each phase); the sums.
# Usage: bench/writer.sh [TAG...] (default: the tags make images builds, every tag with a wheel
# source). Needs the tags' wheels in the cache (pcgen fetch). Appends to bench/results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results.txt
log() { echo "$*" | tee -a "$out"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
scripts/ensure-docker >/dev/null
make -s bin/pcgen bin/pytorch-cuda-verify >/dev/null
tags=("$@")
[ ${#tags[@]} -gt 0 ] || mapfile -t tags < <(bin/pcgen plan --json | jq -r '.tags[] | select(.source.kind != "unavailable") | .tag')
shared=${PCGEN_CACHE:-$HOME/.cache/pytorch-cuda}
work=$(mktemp -d /tmp/pcgen-bench-writer.XXXXXX)
repo=pcgen-bench-writer/pytorch-cuda
base_ref=
cleanup() {
  for t in "${tags[@]}"; do rm -rf "build/oci/$t" "results/builds/$t.json"; done
  remove_images
  [ -z "$base_ref" ] || docker rmi "$base_ref" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# Images of the run: every tag and alias in its repository, by ID (both paths tag the same names)
remove_images() {
  local ids
  ids=$(docker image ls -q --no-trunc "$repo" 2>/dev/null | sort -u)
  [ -z "$ids" ] || docker rmi -f $ids >/dev/null
}

# The layers, in the shared cache (staged if missing; the timed runs stage nothing)
bin/pcgen bake --offline -o "$work/bake.json" "${tags[@]}" >/dev/null
# The run's cache: hard links, and a base tar of its own
mkdir -p "$work/cache/base" "$work/mark/etc"
cp -al "$shared/sha256" "$shared/layers" "$work/cache/"
cp "$shared/base/debian-bookworm.tar" "$work/cache/base/"
echo "bench/writer.sh $(date -u +%FT%TZ) $$" >"$work/mark/etc/pcgen-bench-writer"
tar -rf "$work/cache/base/debian-bookworm.tar" -C "$work/mark" --owner=0 --group=0 --mtime=@1700000000 ./etc/pcgen-bench-writer
sed "s|^repository: .*|repository: $repo|" matrix.yaml >"$work/matrix.yaml"
pc() { PCGEN_CACHE="$work/cache" bin/pcgen build --offline --matrix "$work/matrix.yaml" "$@"; }
fresh() { for t in "${tags[@]}"; do rm -rf "results/builds/$t.json"; done; remove_images; }

log "writer bench $(date -u +%FT%TZ): ${#tags[@]} tags (${tags[*]}), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), engine $(docker version --format '{{.Server.Version}}') $(docker info --format '{{.Driver}}')"
pc "${tags[@]}" >"$work/warm.log" 2>&1 || { cat "$work/warm.log"; exit 1; }
base_ref=$(cat "results/builds/"*.json | jq -r 'select(.image | startswith($r)) | .base // empty' --arg r "$repo:" | head -n 1)
declare -A ids
for t in "${tags[@]}"; do ids[$t]=$(jq -r .image_id "results/builds/$t.json"); done

# One tag after another (a devel or notebook image FROM the runtime image made just before, as
# pcgen build orders them); BuildKit's unused cache (the build context it was sent) is pruned
# after each docker build, untimed, so that the run fits on the disk.
# pcgen's output lines, each prefixed with the seconds since t0 (the phases it prints: "TAG: writing",
# "TAG: loading", "TAG: tagging")
stamped() { local t0=$1 line; while IFS= read -r line; do echo "$(secs "$t0" "$(now)") $line"; done; }
# seconds between the phase lines "TAG: $2" and the first "TAG: $3" after it (regexes) in stamped
# output $1 (0 when absent: docker build's path prints neither)
phase() { awk -v a="$2" -v b="$3" '$0 ~ ": "a"$" { s = $1 } $0 ~ ": "b"$" && s != "" && e == "" { e = $1 } END { printf "%.1f", (e == "" ? 0 : e - s) }' "$1"; }
path() { # path NAME [OPTION...]: build every tag; "TAG wall step layout load" lines in $work/NAME.times
  local name=$1 t t0 rc
  shift
  : >"$work/$name.times"
  for t in "${tags[@]}"; do
    t0=$(now)
    rc=0
    pc "$@" "$t" 2>&1 | stamped "$t0" >"$work/$name.$t.log" || rc=$?
    cat "$work/$name.$t.log" >>"$work/$name.log"
    [ "$rc" = 0 ] || { cat "$work/$name.log"; exit 1; }
    echo "$t $(secs "$t0" "$(now)") $(jq -r .seconds "results/builds/$t.json")" \
      "$(phase "$work/$name.$t.log" writing loading) $(phase "$work/$name.$t.log" loading '(tagging|done .*)')" >>"$work/$name.times"
    # -a: BuildKit keeps the context snapshots as "in use" otherwise (18 GB after five tags)
    [ "$name" = writer ] || docker builder prune -af >/dev/null 2>&1
  done
}
fresh
docker builder prune -af >/dev/null 2>&1
path docker --engine docker
fresh
path writer
same=yes
for t in "${tags[@]}"; do [ "$(jq -r .image_id "results/builds/$t.json")" = "${ids[$t]}" ] || same=no; done

log "$(printf '%-34s %9s %9s %6s   %s' tag 'docker s' 'writer s' ratio '(pcgen build TAG wall; in brackets the build step alone; the writer'"'"'s layout, then docker load)')"
paste -d ' ' "$work/docker.times" <(cut -d ' ' -f 2- "$work/writer.times") | while read -r t d dstep _ _ w wstep wlay wload; do
  log "$(awk -v t="$t" -v d="$d" -v w="$w" -v ds="$dstep" -v ws="$wstep" -v wl="$wlay" -v wd="$wload" 'BEGIN { printf "%-34s %9.1f %9.1f %6.2f   (%.1f, %.1f: layout %.1f, load %.1f)", t, d, w, w / d, ds, ws, wl, wd }')"
done
log "$(paste -d ' ' "$work/docker.times" "$work/writer.times" | awk '{ d += $2; w += $7; l += $9; k += $10 } END { printf "%-34s %9.1f %9.1f %6.2f   (layout %.1f, load %.1f)", "all tags", d, w, w / d, l, k }')"
log "writer image IDs the same as the warm-up's: $same; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
