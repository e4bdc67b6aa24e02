#!/usr/bin/env bash
# tests/registry/run.sh PCGEN: `pcgen publish` against a real registry: Debian's docker-registry
# (distribution 2.8) on 127.0.0.1 with a temporary storage folder, first with htpasswd basic
# auth, then without, on the same storage. Needs the certified images the e2e suite builds
# (torch 2.6.0 + CUDA 12.4, runtime and devel); they are published under a test repository
# (pctest/pytorch-cuda) with an uncertified image and an unbuilt tag beside them.
# publish's default engine (the writer: build/oci/<tag> pushed with the registry API); the image
# docker build made is refused there (no layout) and by --engine docker (no certificate).
#   auth:    no credentials and a wrong password fail (exit 3); the registry is killed (SIGKILL)
#            once the first layer blob is in its storage (exit 3, no tag points at incomplete
#            content), restarted on the same storage, and the re-run completes, sending none of
#            the blobs stored before the kill (HEAD finds them; the registry's log);
#            the password appears in no output, report or leftover file
#   no auth: re-publish uploads no blob byte and moves no tag; the tags resolve to complete
#            content whose layers uncompress to the image's diff IDs, at the digests the
#            certificates name and pcgen's push manifests have (HEAD manifest); the images, removed from
#            the engine and pulled back, have the IDs they had
# Last line: "registry: N passed, N failed".
set -u
PCGEN=${1:?usage: tests/registry/run.sh PCGEN}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
regcheck=$top/tests/registry/regcheck.py
. "$top/tests/registry/lib.sh"
# The engine's client from docker.io, as pcgen uses it (PCGEN_DOCKER overrides both): it has
# BuildKit built in, where another client on PATH may lack buildx.
docker() { "${PCGEN_DOCKER:-/usr/bin/docker}" "$@"; }
export -f docker
passed=0 failed=0
work=$(mktemp -d /tmp/pcgen-registry.XXXXXX)
# Private configs already in /tmp before this run (another process's, or one a SIGKILL left:
# no handler runs then) are not this run's: only new ones fail the check below.
configs_before=$(ls -d /tmp/pcgen-docker-config.* 2>/dev/null | sort)
out=$work/out

step() { local what=$1; shift; local t0=$SECONDS
  if "$@" >"$out" 2>&1; then passed=$((passed + 1)); echo "  ok   $what ($((SECONDS - t0))s)"
  else failed=$((failed + 1)); echo "  FAIL $what ($((SECONDS - t0))s)"; tail -n 30 "$out" | sed 's/^/       /'; fi
  cat "$out" >>"$work/all-output"; }

src=myrepo/pytorch-cuda repo=pctest/pytorch-cuda
rt=2.6.0-cuda12.4-cudnn9-runtime dv=2.6.0-cuda12.4-cudnn9-devel
uncert=2.4.1-cuda12.1-cudnn9-runtime unbuilt=2.4.1-cuda12.1-cudnn9-devel
user=pctest password="pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
reg_pid=""

stop_registry() { if [ -n "$reg_pid" ]; then kill -9 "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null; reg_pid=""; fi; }
cleanup() {
  stop_registry
  for r in $repo "127.0.0.1:$port/$repo"; do
    for t in $rt $dv $uncert v2.6-prod v2.6-devel v2.4-prod; do docker rmi "$r:$t" >/dev/null 2>&1; done
  done
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
mkdir -p "$work/storage"
# start_registry auth|noauth: one registry process on the shared storage folder.
start_registry() {
  local auth=""
  [ "$1" = auth ] && auth="{ htpasswd: { realm: pctest, path: $work/htpasswd } }"
  serve_registry "$work/registry-$1.yml" "$work/storage" "$port" "$work/registry.log" "$auth"
}
blob_bytes() { du -sb "$work/storage/docker/registry/v2/blobs" | cut -f1; }

# --- the test repository: the certified images, an uncertified one, an unbuilt tag
cat >"$work/matrix.yaml" <<EOF
repository: $repo
base: debian-bookworm
python: "3.11"
torch: ["2.4.1", "2.6.0"]
cuda: ["12.1", "12.4"]
flavors: [runtime, devel]
exclude:
  - { torch: "2.6.0", cuda: "12.1" }
  - { torch: "2.4.1", cuda: "12.4" }
aliases:
  - { name: "v{major}.{minor}-prod", cuda: pypi, flavor: runtime }
  - { name: "v{major}.{minor}-devel", cuda: pypi, flavor: devel }
EOF
rt_id=$(docker image inspect --format '{{.Id}}' "$src:$rt" 2>/dev/null)
dv_id=$(docker image inspect --format '{{.Id}}' "$src:$dv" 2>/dev/null)
certified() { jq -e --arg id "$1" '.result == "certified" and .image_id == $id' "results/certificates/${1#sha256:}.json"; }
images_certified() { [ -n "$rt_id" ] && [ -n "$dv_id" ] && certified "$rt_id" && certified "$dv_id"; }
step "the e2e images are built and certified" images_certified
if [ "$failed" -ne 0 ]; then echo "registry: $passed passed, $failed failed (run tests/e2e/run.sh first)"; exit 1; fi
# A kept certificate names the push manifest's digest when the image's layers are compressed
# already (an earlier publish on this machine), else none: certify compresses nothing, and the
# first publish records it (the registry's digest is checked against it below).
cert_digest() { jq -r '.manifest_digest // empty' "results/certificates/${1#sha256:}.json"; }
certs_kept() {
  "$PCGEN" certify $rt $dv || return 1
  echo "runtime $(cert_digest "$rt_id"), devel $(cert_digest "$dv_id")"
  local id; for id in "$rt_id" "$dv_id"; do
    jq -e '.manifest_digest == null or (.manifest_digest | test("^sha256:[0-9a-f]{64}$"))' \
      "results/certificates/${id#sha256:}.json" || return 1
  done
}
step "pcgen certify keeps the certificates (a manifest digest, or none before the first publish)" certs_kept
docker tag "$rt_id" "$repo:$rt" && docker tag "$dv_id" "$repo:$dv"
docker rmi "$repo:$unbuilt" >/dev/null 2>&1
printf 'FROM %s\nLABEL org.pytorch-cuda.test=uncertified\n' "$src:$rt" |
  DOCKER_BUILDKIT=1 docker build -q -t "$repo:$uncert" - >/dev/null
publish() { "$PCGEN" publish --matrix "$work/matrix.yaml" --to "127.0.0.1:$port" --report "$work/report.json" "$@"; }

# --- with htpasswd basic auth, empty storage
htpasswd -Bbn "$user" "$password" >"$work/htpasswd" 2>/dev/null
with_creds() { PCGEN_REGISTRY_USER=$user PCGEN_REGISTRY_PASSWORD=$password "$@"; }
reg() { REG_USER=$user REG_PASSWORD=$password "$regcheck" "$@"; }
step "registry with htpasswd starts on 127.0.0.1:$port" start_registry auth

dry_run() {
  local o rc; o=$(publish --dry-run); rc=$?; echo "$o"; [ $rc -eq 1 ] &&
  grep -q "^would push $rt .* with v2.6-prod" <<<"$o" &&
  grep -q "^would push $dv .* with v2.6-devel" <<<"$o" &&
  grep -q "^refused $uncert .*not built: no image layout build/oci/$uncert.*aliases not pushed: v2.4-prod" <<<"$o" &&
  grep -q "^refused $unbuilt .*not built" <<<"$o"
}
step "dry run: certified tags would be pushed, docker build's image and the unbuilt refused (exit 1)" dry_run
# docker build's image, through the engine's path (--engine docker): refused for its certificate.
dry_run_docker() {
  local o rc; o=$(publish --engine docker --dry-run $rt $uncert); rc=$?; echo "$o"; [ $rc -eq 1 ] &&
  grep -q "^would push $rt .* with v2.6-prod" <<<"$o" &&
  grep -q "^refused $uncert .*has no certificate.*aliases not pushed: v2.4-prod" <<<"$o"
}
step "dry run --engine docker: the uncertified image docker build made is refused (exit 1)" dry_run_docker
step "the dry run pushed nothing" bash -c '! REG_USER=$1 REG_PASSWORD=$2 "$3" tags "$4" "$5" | grep -q .' \
  _ "$user" "$password" "$regcheck" "$url" "$repo"
no_creds() { publish $rt; [ $? -eq 3 ] && grep -qiE "unauthorized|no basic auth|authentication required" "$out"; }
step "no credentials: the registry refuses, exit 3 naming the missing authentication" no_creds
wrong_password() { PCGEN_REGISTRY_USER=$user PCGEN_REGISTRY_PASSWORD=wrong-$password publish $rt; [ $? -eq 3 ]; }
step "a wrong password: exit 3" wrong_password
half_creds() { PCGEN_REGISTRY_USER=$user publish $rt; [ $? -eq 3 ] && grep -q "PCGEN_REGISTRY_PASSWORD is not" "$out"; }
step "PCGEN_REGISTRY_USER without the password: exit 3 naming both" half_creds

# The layer blobs of both tags' push manifests (the dry run wrote them) the registry's storage holds.
stored() { stored_layers "$work/storage" "build/oci/$rt/push-manifest.json" "build/oci/$dv/push-manifest.json"; }
# Kill the registry (SIGKILL) once the first layer blob is in its storage, wait for publish to
# give up.
midpush() {
  with_creds publish >"$work/midpush.out" 2>&1 &
  local pub=$!
  for _ in $(seq 3000); do
    [ -n "$(stored)" ] && break
    kill -0 $pub 2>/dev/null || break
    sleep 0.1
  done
  stop_registry
  stored_before=$(stored)
  echo "killed the registry with $(du -sb "$work/storage" | cut -f1) bytes stored, layers: $stored_before"
  wait $pub; local rc=$?
  cat "$work/midpush.out"; echo "publish exit $rc"
  [ -n "$stored_before" ] && [ $rc -eq 3 ] && grep -q "error: $rt: " "$work/midpush.out"
}
step "registry killed mid-push: publish fails (exit 3) naming the tag" midpush
step "registry restarts on the same storage" start_registry auth
# Whatever tags exist now must resolve to complete content: none may point at a partial upload.
tags_complete() {
  local t n=0
  for t in $(reg tags "$url" "$repo"); do reg verify "$url" "$repo" "$t" || return 1; n=$((n + 1)); done
  echo "$n tags, all complete"
}
step "after the kill, every tag in the registry resolves to complete content" tags_complete
# The re-run asks for each blob (HEAD) and sends none of those stored before the kill: each is
# "already there", and the registry's log has no upload of it (PUT ...?digest=).
rerun() {
  local mark; mark=$(wc -l <"$work/registry.log")
  with_creds publish >"$work/rerun.out" 2>&1; local rc=$?; cat "$work/rerun.out"; [ $rc -eq 1 ] || return 1
  tail -n +"$((mark + 1))" "$work/registry.log" >"$work/rerun.log"
  # shellcheck disable=SC2086
  not_sent_again "$repo" "$work/rerun.out" "$work/rerun.log" $stored_before || return 1
  jq -e --arg rt $rt --arg dv $dv '
     [.tags[] | select(.status == "pushed") | .tag] == [$rt, $dv]
     and ([.tags[] | select(.status == "refused")] | length) == 2
     and ([.tags[] | select(.status == "refused") | .aliases[].status] | unique) == ["not pushed"]
     and ([.tags[] | select(.status == "pushed") | . as $t | .aliases[] | select(.digest == $t.digest)] | length) == 2' \
    "$work/report.json"
}
step "re-run completes: 2 tags and their 2 aliases pushed, 2 refused (exit 1); the blobs stored before the kill found (HEAD), not sent" rerun
cp "$work/report.json" "$work/first.json"
exact_tags() {
  local got; got=$(reg tags "$url" "$repo" | tr '\n' ' '); echo "$got"
  [ "$got" = "$dv $rt v2.6-devel v2.6-prod " ]
}
step "the registry holds exactly the certified tags and their aliases" exact_tags
step "every tag resolves to complete content" tags_complete
no_secret() {
  ! grep -rqF -- "$password" "$work/all-output" "$work/midpush.out" "$work/report.json" "$work/registry.log" results/ &&
  [ "$(ls -d /tmp/pcgen-docker-config.* 2>/dev/null | sort)" = "$configs_before" ] &&
  ! grep -qF "127.0.0.1:$port" "${DOCKER_CONFIG:-$HOME/.docker}/config.json" 2>/dev/null
}
step "the password appears in no output, report or registry log, and no private config is left" no_secret
stop_registry

# --- the same storage without auth
step "registry without auth starts on the same storage" start_registry noauth
before=$(blob_bytes)
republish() {
  publish; [ $? -eq 1 ] || return 1
  after=$(blob_bytes); echo "blob bytes before re-publish $before, after $after"
  [ "$before" = "$after" ] &&
  jq -e --slurpfile a "$work/first.json" '[.tags[] | select(.status == "pushed") | [.tag, .digest, .layers_uploaded]]
     == [$a[0].tags[] | select(.status == "pushed") | [.tag, .digest, 0]]' "$work/report.json"
}
step "re-publish uploads no blob byte and moves no tag" republish
runtime_digest() {
  local d; d=$("$regcheck" verify "$url" "$repo" $rt) || return 1
  jq -e --arg d "$d" --arg rt $rt '[.tags[] | select(.tag == $rt) | .digest] == [$d]' "$work/report.json"
}
step "the runtime tag's digest is the one publish reported" runtime_digest
# The registry's digest is the certificate's and pcgen's: HEAD manifest's Docker-Content-Digest
# against the certificate's manifest_digest and the sha256 of build/oci/<tag>/push-manifest.json,
# for both tags; the manifest's config is the certified image ID.
local_digest() {
  local t a l c cfg id
  for t in $rt $dv; do
    a=$(curl -sf -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$url/v2/$repo/manifests/$t" |
        tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
    l=sha256:$(sha256sum "build/oci/$t/push-manifest.json" | cut -d' ' -f1)
    id=$rt_id; [ $t = $dv ] && id=$dv_id
    c=$(cert_digest "$id")
    cfg=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$url/v2/$repo/manifests/$t" | jq -r .config.digest)
    echo "$t: registry $a, certificate $c, local $l; config $cfg, certified image $id"
    [ -n "$a" ] && [ "$a" = "$l" ] && [ "$a" = "$c" ] && [ "$cfg" = "$id" ] || return 1
  done
}
step "the registry's digests (HEAD manifest) are the certificates' and pcgen's push manifests'" local_digest
step "the devel tag's layers uncompress to the image's diff IDs" bash -c \
  '"$1" verify "$2" "$3" "$4" "$(docker image inspect --format "{{json .RootFS.Layers}}" "$5")"' \
  _ "$regcheck" "$url" "$repo" $dv "$dv_id"

# Remove both images from the engine (every name they have), pull them back, compare IDs. The
# engine may keep layers its build cache holds, so the bytes themselves are proven above, through
# the registry API (blob digests and diff IDs).
roundtrip() {
  local rt_names dv_names n
  rt_names=$(docker image inspect --format '{{join .RepoTags " "}}' "$rt_id")
  dv_names=$(docker image inspect --format '{{join .RepoTags " "}}' "$dv_id")
  docker rmi "$repo:$uncert" >/dev/null || return 1
  for n in $rt_names $dv_names; do docker rmi "$n" >/dev/null || return 1; done
  if docker image inspect "$rt_id" >/dev/null 2>&1 || docker image inspect "$dv_id" >/dev/null 2>&1; then
    echo "the images are still in the engine"; return 1; fi
  docker pull -q "127.0.0.1:$port/$repo:$rt" && docker pull -q "127.0.0.1:$port/$repo:$dv" || return 1
  local got_rt got_dv
  got_rt=$(docker image inspect --format '{{.Id}}' "127.0.0.1:$port/$repo:$rt")
  got_dv=$(docker image inspect --format '{{.Id}}' "127.0.0.1:$port/$repo:$dv")
  # Give the images back their names (the e2e tags and their certificates stay valid).
  for n in $rt_names; do docker tag "$got_rt" "$n"; done
  for n in $dv_names; do docker tag "$got_dv" "$n"; done
  echo "runtime $got_rt (was $rt_id), devel $got_dv (was $dv_id)"
  [ "$got_rt" = "$rt_id" ] && [ "$got_dv" = "$dv_id" ]
}
step "removed from the engine and pulled back, the images have their IDs" roundtrip
step "the pulled images are still certified: publish --dry-run accepts them" publish --dry-run $rt $dv
stop_registry

echo "registry: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
