#!/usr/bin/env bash
# bench/job.sh TAG...: one build job of .github/workflows/images.yml, as the workflow runs it,
# from an empty pcgen cache and an empty engine; its peak disk use and the time of each step.
#   steps     lock check (pcgen lock TAGS; git diff --exit-code matrix.lock), fetch, build (with
#             the flags the workflow's build step passes: read from images.yml, JOB_BUILD_FLAGS
#             overrides them), certify (the last TAG, the job's own), publish (the last TAG, with
#             the workflow's publish flags, JOB_PUBLISH_FLAGS overrides them) to
#             Debian's docker-registry on 127.0.0.1 (as tests/registry/run.sh starts it)
#   cache     PCGEN_CACHE=$JOB_DIR/cache (default JOB_DIR=/tmp/cidisk-job), made empty first;
#             never the shared ~/.cache/pytorch-cuda
#   engine    a private dockerd (its own --data-root, exec-root and socket under JOB_DIR, its own
#             bridge pcgenjob0, no iptables), so the job starts from an empty engine as a runner
#             does, and every image it makes goes away with it; the machine's engine, its images
#             and its docker0 are not touched
#   sampled   every 2 s: `df` of the file system holding the cache and the private data root
#             (other processes on the same disk move it: noise), and the undisturbed per-path
#             sizes: du of the cache, of build/oci + build/context (hard links counted once),
#             of the engine's data root; the registry's storage is left out of both (on a
#             runner the registry is another machine)
#   reported  each step's seconds, the bytes it added to the cache (what it downloaded: wheels,
#             .debs, the base) and the bytes the network interfaces received meanwhile (the
#             machine's, so other processes count too), the peak of each measure above the start
# JOB_UNTIL=build stops after the build step (the peak is there; certify and publish add little).
# Appends to bench/results.txt. Needs root (dockerd), docker.io, docker-registry, curl, jq.
# Usage: bench/job.sh 2.6.0-cuda12.4-cudnn9-runtime 2.6.0-cuda12.4-cudnn9-devel
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
[ $# -gt 0 ] || { echo "usage: bench/job.sh TAG..." >&2; exit 2; }
tags=("$@")
tag=${tags[$((${#tags[@]} - 1))]}
work=${JOB_DIR:-/tmp/cidisk-job}
out=bench/results.txt
PCGEN=$top/bin/pcgen

# The build step's flags, as the workflow passes them: "run: bin/pcgen build --lean $TAGS" -> --lean
if [ -z "${JOB_BUILD_FLAGS+x}" ]; then
  JOB_BUILD_FLAGS=$(sed -n 's/^ *run: bin\/pcgen build \(.*\)\$TAGS.*/\1/p' .github/workflows/images.yml | head -n 1)
fi
# The publish step's, likewise: "run: bin/pcgen publish --engine docker --to ..." -> --engine docker
if [ -z "${JOB_PUBLISH_FLAGS+x}" ]; then
  JOB_PUBLISH_FLAGS=$(sed -n 's/^ *run: bin\/pcgen publish \(.*\)--to .*/\1/p' .github/workflows/images.yml | head -n 1)
fi

make -s bin/pcgen bin/pytorch-cuda-verify >/dev/null
scripts/ensure-docker >/dev/null

# a private engine an interrupted run left (its pidfile), then its folder
if [ -f "$work/dockerd.pid" ] && kill "$(cat "$work/dockerd.pid")" 2>/dev/null; then sleep 5; fi
grep -o " $work/[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
rm -rf "$work"
mkdir -p "$work/cache" "$work/registry"
cp bin/pcgen "$work/pcgen" # a rebuild of bin/pcgen meanwhile does not change this run
PCGEN=$work/pcgen
export PCGEN_CACHE=$work/cache
export DOCKER_HOST=unix://$work/docker.sock
dockerd_pid="" reg_pid="" sampler_pid=""
cleanup() {
  [ -z "$sampler_pid" ] || kill "$sampler_pid" 2>/dev/null || true
  [ -z "$reg_pid" ] || kill "$reg_pid" 2>/dev/null || true
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
  fi
  # the private engine's overlay mounts, if any survived it
  grep -o " $work/[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  cp "$work/samples" "${JOB_SAMPLES:-/tmp/job-samples.$$}" 2>/dev/null || true  # kept: a failed run's too
  [ -n "${JOB_KEEP:-}" ] || rm -rf "$work"
  ip link del pcgenjob0 2>/dev/null || true
  rm -rf build/oci build/context
}
trap cleanup EXIT

# --- the private engine
# Its own bridge: with --bridge=none dockerd deletes docker0 (moby daemon_unix.go,
# removeDefaultBridgeInterface), the machine engine's bridge, and every `docker run` there fails.
bridge=pcgenjob0
ip link show "$bridge" >/dev/null 2>&1 || { ip link add "$bridge" type bridge && ip addr add 10.213.0.1/24 dev "$bridge" && ip link set "$bridge" up; }
dockerd --data-root "$work/docker" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" \
  -H "$DOCKER_HOST" --bridge="$bridge" --iptables=false --ip-masq=false \
  --containerd-namespace cidisk-job --containerd-plugins-namespace cidisk-job-plugins \
  >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
docker info >/dev/null 2>&1 || { echo "job: the private dockerd did not start:"; tail -n 5 "$work/dockerd.log"; exit 3; }

# --- the registry (tests/registry/run.sh's way)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<EOF
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $work/registry } }
http: { addr: 127.0.0.1:$port }
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 50); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/")" = 200 ] && break; sleep 0.2; done

# --- the sampler: "epoch df_used cache_bytes build_bytes engine_bytes registry_bytes"
rm -rf build/oci build/context results/builds results/certificates
mkdir -p build/oci build/context
used() { df -B1 --output=used "$work" | tail -n 1 | tr -d ' '; }
dub() { du -scb "$@" 2>/dev/null | tail -n 1 | cut -f1; }
# one du for all paths (-x: not into a running container's overlay mount): a file hard-linked
# from two of them (a layout's blob, the cache's tar) is
# counted once, under the first (the cache)
sample() {
  local c b1 b2 e r
  read -r c b1 b2 e r < <(du -sbx "$work/cache" build/oci build/context "$work/docker" "$work/registry" 2>/dev/null |
    awk '{ print $1 }' | tr '\n' ' '; echo)
  echo "$(date +%s.%N) $(used) $c $((b1 + b2)) $e $r"
}
sample >"$work/samples"
# set +e: one failed sample (a folder vanishing under du while --lean evicts) must not end the
# sampler; a run once lost its samples from the build step on that way
( set +e; while :; do sleep 2; sample; done >>"$work/samples" ) &
sampler_pid=$!
rx() { awk -F'[: ]+' 'NR > 2 && $2 != "lo" { s += $3 } END { printf "%.0f", s }' /proc/net/dev; }

steps=()
step() {
  local name=$1; shift
  local c0 r0 t0 t1 rc=0
  c0=$(dub "$work/cache"); r0=$(rx); t0=$(date +%s.%N)
  echo "job: $name: $*"
  "$@" >"$work/$name.log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  local line
  line=$(awk -v n="$name" -v a="$t0" -v b="$t1" -v c0="$c0" -v c1="$(dub "$work/cache")" -v r0="$r0" -v r1="$(rx)" -v rc=$rc \
    'BEGIN { printf "  %-8s %7.1f s  cache %+7.2f GB  network %6.2f GB  exit %d", n, b - a, (c1 - c0) / 1e9, (r1 - r0) / 1e9, rc }')
  steps+=("$line")
  echo "$line"
  if [ $rc != 0 ]; then tail -n 20 "$work/$name.log"; exit $rc; fi
}
lock_check() { "$PCGEN" lock "${tags[@]}" && git diff --exit-code matrix.lock; }
t_start=$(date +%s.%N)
step lock lock_check
step fetch "$PCGEN" fetch "${tags[@]}"
# shellcheck disable=SC2086  # the flags are words
step build "$PCGEN" build $JOB_BUILD_FLAGS "${tags[@]}"
if [ "${JOB_UNTIL:-}" != build ]; then
  step certify "$PCGEN" certify "$tag"
  # shellcheck disable=SC2086  # the flags are words
  step publish "$PCGEN" publish $JOB_PUBLISH_FLAGS --to "127.0.0.1:$port" --report "$work/publish.json" "$tag"
fi
t_end=$(date +%s.%N)
sample >>"$work/samples"
kill "$sampler_pid" 2>/dev/null || echo "bench/job.sh: the sampler had stopped: the peak covers $(wc -l <"$work/samples") samples only" >&2
sampler_pid=""
[ ! -f "$work/publish.json" ] || jq -r '.tags[] | "  published \(.tag): \(.status) \(.digest // .why // "")"' "$work/publish.json"

{
  echo "job $(date -u +%Y-%m-%dT%H:%MZ) $(hostname): ${tags[*]}, pcgen build ${JOB_BUILD_FLAGS:-(no flags)}, publish ${JOB_PUBLISH_FLAGS:-(no flags)}; $(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.0f", b - a }') s in all"
  printf '%s\n' "${steps[@]}"
  # Peaks above the first sample. df: the whole disk less the registry; sum: cache + build + engine.
  awk 'NR == 1 { d0 = $2 - $6; s0 = $3 + $4 + $5 }
       { d = $2 - $6 - d0; s = $3 + $4 + $5 - s0
         if (d > dp) { dp = d; dt = $1 } if (s > sp) { sp = s; st = $1; c = $3; b = $4; e = $5 } n++ }
       END { printf "  peak above start: df %.2f GB (noisy: other processes share the disk); cache+build+engine %.2f GB (cache %.2f, build/oci+context %.2f, engine %.2f at that moment); %d samples\n",
               dp / 1e9, sp / 1e9, c / 1e9, b / 1e9, e / 1e9, n }' "$work/samples"
  awk 'END { printf "  at the end: cache %.2f GB, build/oci+context %.2f GB, engine %.2f GB, registry %.2f GB\n", $3 / 1e9, $4 / 1e9, $5 / 1e9, $6 / 1e9 }' "$work/samples"
  echo "  engine: $(docker system df --format '{{.Type}} {{.Size}}' | tr '\n' ' ')"
} | tee -a "$out"
