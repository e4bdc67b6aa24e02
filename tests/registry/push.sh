#!/usr/bin/env bash
# tests/registry/push.sh PCGEN: `pcgen publish` (--engine writer, the default) pushing with the
# registry API (docs/publishing.md) against a real registry, Debian's docker-registry
# (distribution 2.8) on 127.0.0.1 with htpasswd basic auth and a temporary storage folder. No
# Docker engine: the image is a small layout as the writer makes one (tests/registry/mklayout.py:
# 3 incompressible layers, a certificate for its ID naming the push manifest's digest, computed
# by mklayout.py on its own), published with an isolated PCGEN_CACHE.
#   dry run   compresses, writes build/oci/<tag>/push-manifest.json, prints its digest, pushes
#             nothing; that digest is the certificate's
#   gate      a certificate naming another manifest digest, or none, is refused (exit 1, one
#             line) before anything is sent
#   auth      no credentials (exit 3, "401 unauthorized"), a wrong password (exit 3, "refused the
#             credentials"), the docker config's auths entry works, a credsStore helper that is
#             not installed is named (helpers that are: credhelpers.sh); the password appears in
#             no output, report or file left behind
#   resume    the registry killed (SIGKILL) once the first layer blob is in its storage (uploads
#             slowed by PCGEN_PUSH_RATE_LIMIT): exit 3 naming the tag, no tag stored; restarted
#             on the same storage, the re-run completes, asks for each blob (HEAD) and sends none
#             of those stored before the kill (the registry's log)
#   digests   the registry's Docker-Content-Digest (HEAD manifest) for the tag and its alias is
#             the certificate's manifest digest, the sha256 of build/oci/<tag>/push-manifest.json
#             and the digest publish reported;
#             every layer blob gunzips to the config's diff_id
#   re-push   uploads no blob byte; to another repository, the layers are mounted, not sent
# Skipped (exit 0, one line) without docker-registry or htpasswd.
# Last line: "push: N passed, N failed".
set -u
PCGEN=$(realpath "${1:?usage: tests/registry/push.sh PCGEN}")
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/registry/lib.sh"
require_registry_tools push
regcheck=$top/tests/registry/regcheck.py
work=$(mktemp -d /tmp/pcgen-push.XXXXXX)
configs_before=$(ls -d /tmp/pcgen-docker-config.* 2>/dev/null | sort)
passed=0 failed=0 reg_pid=""
out=$work/out
step() { local what=$1; shift; local t0=$SECONDS
  if "$@" >"$out" 2>&1; then passed=$((passed + 1)); echo "  ok   $what ($((SECONDS - t0))s)"
  else failed=$((failed + 1)); echo "  FAIL $what ($((SECONDS - t0))s)"; tail -n 30 "$out" | sed 's/^/       /'; fi
  cat "$out" >>"$work/all-output"; }
stop_registry() { if [ -n "$reg_pid" ]; then kill -9 "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null; reg_pid=""; fi; }
cleanup() { stop_registry; if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "push: kept $work"; fi; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
repo=pctest/pytorch-cuda rt=2.6.0-cuda12.4-cudnn9-runtime
user=pctest password="pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$work/storage" "$work/proj"
htpasswd -Bbn "$user" "$password" >"$work/htpasswd" 2>/dev/null
start_registry() {
  serve_registry "$work/registry.yml" "$work/storage" "$port" "$work/registry.log" \
    "{ htpasswd: { realm: pctest, path: $work/htpasswd } }"
}
blob_bytes() { du -sb "$work/storage/docker/registry/v2/blobs" 2>/dev/null | cut -f1; }

small_project "$work/proj" "$repo"
cd "$work/proj"
export PCGEN_DATA=$top/generator/data PCGEN_CACHE=$work/cache DOCKER_CONFIG=$work/docker-config
mkdir -p "$DOCKER_CONFIG"
image_id=$(python3 "$top/tests/registry/mklayout.py" "$work/proj" $rt 3 3000000)
publish() { "$PCGEN" publish --to "127.0.0.1:$port" --report "$work/report.json" "$@"; }
with_creds() { PCGEN_REGISTRY_USER=$user PCGEN_REGISTRY_PASSWORD=$password "$@"; }
reg() { REG_USER=$user REG_PASSWORD=$password "$regcheck" "$@"; }

step "registry with htpasswd starts on 127.0.0.1:$port" start_registry
dry_run() {
  local o d; o=$(publish --dry-run) || return 1; echo "$o"
  d=sha256:$(sha256sum "$work/proj/build/oci/$rt/push-manifest.json" | cut -d' ' -f1)
  grep -q "^would push $rt .*(image ${image_id:0:19}, certified static, manifest ${d:0:19}) with v2.6-prod" <<<"$o" &&
  jq -e --arg d "$d" '.tags[0].manifest_digest == $d' "$work/report.json" &&
  [ -z "$(reg tags "$url" "$repo")" ]
}
step "dry run: the push manifest written and its digest printed, nothing pushed" dry_run
cert=$work/proj/results/certificates/${image_id#sha256:}.json
cert_digest() { jq -r '.manifest_digest // empty' "$cert"; }
# mklayout.py computed the certificate's manifest digest on its own (Python's zlib, the same
# gzip header and manifest bytes): it is the digest pcgen computes for the push manifest.
cert_names_local() {
  local l; l=sha256:$(sha256sum "$work/proj/build/oci/$rt/push-manifest.json" | cut -d' ' -f1)
  echo "certificate $(cert_digest), push-manifest.json $l"; [ "$(cert_digest)" = "$l" ]
}
step "the certificate's manifest digest is the one pcgen computes for the push manifest" cert_names_local
# publish pushes only the manifest the certificate names: another digest is refused in one line
# (exit 1) before any byte is sent (none named: below, after the pushes).
cp "$cert" "$work/cert.json"
refused_digest() {
  jq '.manifest_digest = "sha256:'"$(printf '0%.0s' $(seq 64))"'"' "$work/cert.json" >"$cert"
  with_creds publish; local rc=$?; cp "$work/cert.json" "$cert"
  [ $rc -eq 1 ] && grep -q "^refused $rt .*its certificate .* names manifest sha256:0000000000000000000000000000000000000000000000000000000000000000, but the manifest to push is $(cert_digest) (run 'pcgen certify --force $rt'); aliases not pushed: v2.6-prod$" "$out" &&
  [ -z "$(reg tags "$url" "$repo")" ] && [ "$(blob_bytes)" = "${empty_bytes:-}" ]
}
empty_bytes=$(blob_bytes)
step "a certificate naming another manifest digest: refused (exit 1), nothing sent" refused_digest
no_creds() { publish; [ $? -eq 3 ] && grep -q "error: $rt: 127.0.0.1:$port answered 401 unauthorized: it needs a user and password" "$out"; }
step "no credentials: exit 3, the registry's 401 named and what to set" no_creds
wrong_password() {
  PCGEN_REGISTRY_USER=$user PCGEN_REGISTRY_PASSWORD=wrong-$password publish; [ $? -eq 3 ] &&
  grep -q "error: $rt: 127.0.0.1:$port refused the credentials from PCGEN_REGISTRY_USER/PCGEN_REGISTRY_PASSWORD (user '$user')" "$out"
}
step "a wrong password: exit 3, 'refused the credentials' naming where they came from" wrong_password
# credsStore wins over auths (docker/cli GetAuthConfig); a helper that is not installed is named.
helper() {
  local auth; auth=$(printf '%s:%s' "$user" "$password" | base64 -w0)
  printf '{"credsStore":"pcgen-not-installed","auths":{"127.0.0.1:%s":{"auth":"%s"}}}' "$port" "$auth" \
    >"$DOCKER_CONFIG/config.json"
  publish; local rc=$?; rm -f "$DOCKER_CONFIG/config.json"
  [ $rc -eq 3 ] && grep -q "^pcgen: error: credential helper docker-credential-pcgen-not-installed (credsStore in $DOCKER_CONFIG/config.json) for 127.0.0.1:$port: docker-credential-pcgen-not-installed is not on PATH$" "$out"
}
step "a credsStore helper not on PATH: exit 3 naming it and the host (auths not used)" helper

stored() { stored_layers "$work/storage" "$work/proj/build/oci/$rt/push-manifest.json"; }
# Kill the registry (SIGKILL) once the first layer is stored, while the second one is uploading.
midpush() {
  PCGEN_PUSH_RATE_LIMIT=1500000 with_creds publish >"$work/midpush.out" 2>&1 &
  local pub=$! size=0
  for _ in $(seq 400); do
    [ -n "$(stored)" ] && break
    kill -0 $pub 2>/dev/null || break
    sleep 0.05
  done
  stop_registry
  stored_before=$(stored); size=$(blob_bytes)
  echo "killed the registry with $size blob bytes stored, layers: $stored_before"
  [ -n "$stored_before" ] || { echo "no layer was stored before the kill"; return 1; }
  wait $pub; local rc=$?
  cat "$work/midpush.out"; echo "publish exit $rc"
  [ $rc -eq 3 ] && grep -q "error: $rt: " "$work/midpush.out" && grep -q "layer 1/3 .* uploaded" "$work/midpush.out"
}
step "registry killed mid-push: publish fails (exit 3) naming the tag" midpush
step "registry restarts on the same storage" start_registry
no_tags() { local t; t=$(reg tags "$url" "$repo"); echo "tags: $t"; [ -z "$t" ]; }
step "after the kill, no tag points at incomplete content (none stored)" no_tags
# The re-run asks for each blob (HEAD) and sends none of those stored before the kill: no upload
# of them in the registry's log (PUT .../blobs/uploads/...?digest=), each named "already there".
rerun() {
  local mark n; mark=$(wc -l <"$work/registry.log")
  with_creds publish >"$work/rerun.out" 2>&1; local rc=$?; cat "$work/rerun.out"; [ $rc -eq 0 ] || return 1
  tail -n +"$((mark + 1))" "$work/registry.log" >"$work/rerun.log"
  # shellcheck disable=SC2086
  not_sent_again "$repo" "$work/rerun.out" "$work/rerun.log" $stored_before || return 1
  n=$(wc -w <<<"$stored_before")
  jq -e --argjson n "$n" '.tags[0].status == "pushed" and .tags[0].layers_present == $n
         and .tags[0].layers_uploaded == 3 - $n and .tags[0].aliases[0].status == "pushed"' "$work/report.json"
}
step "re-run completes: the layers stored before the kill are found (HEAD) and not sent again" rerun
local_digest=sha256:$(sha256sum "$work/proj/build/oci/$rt/push-manifest.json" | cut -d' ' -f1)
head_digest() {
  curl -sf -I -u "$user:$password" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "$url/v2/$repo/manifests/$1" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}
same_digest() {
  local a b r; a=$(head_digest $rt); b=$(head_digest v2.6-prod)
  r=$(jq -r '.tags[0].digest' "$work/report.json")
  echo "registry $a (alias $b), reported $r, local $local_digest, certificate $(cert_digest)"
  [ "$a" = "$local_digest" ] && [ "$b" = "$local_digest" ] && [ "$r" = "$local_digest" ] && [ "$a" = "$(cert_digest)" ]
}
step "HEAD manifest: the registry's Docker-Content-Digest is the certificate's and push-manifest.json's" same_digest
diff_ids=$(jq -c '.rootfs.diff_ids' "$work/proj/build/oci/$rt/blobs/sha256/${image_id#sha256:}")
step "every layer blob is complete and gunzips to the config's diff_id" reg verify "$url" "$repo" $rt "$diff_ids"
before=$(blob_bytes)
republish() {
  with_creds publish || return 1
  local after; after=$(blob_bytes); echo "blob bytes before $before, after $after"
  [ "$before" = "$after" ] &&
  jq -e --arg d "$local_digest" '.tags[0] | .digest == $d and .layers_uploaded == 0 and .bytes_uploaded == 0 and .layers_present == 3' \
    "$work/report.json"
}
step "re-publish uploads no blob byte and stores the same digest" republish
mount() {
  with_creds "$PCGEN" publish --to "127.0.0.1:$port/pctest/mounted" --report "$work/report.json" || return 1
  local after; after=$(blob_bytes); echo "blob bytes before $before, after $after"
  [ "$before" = "$after" ] && jq -e '.tags[0].layers_mounted == 3 and .tags[0].bytes_uploaded == 0' "$work/report.json"
}
step "to another repository of the registry: the layers are mounted, not uploaded" mount
docker_login_auths() {
  local auth; auth=$(printf '%s:%s' "$user" "$password" | base64 -w0)
  printf '{"auths":{"127.0.0.1:%s":{"auth":"%s"}}}' "$port" "$auth" >"$DOCKER_CONFIG/config.json"
  publish; local rc=$?; rm -f "$DOCKER_CONFIG/config.json"; [ $rc -eq 0 ]
}
step "credentials from the docker config's auths entry (docker login)" docker_login_auths
# A certificate naming no manifest digest (certify compresses nothing when a layer is not
# compressed yet): publish records the push manifest's digest in it before pushing.
no_digest() {
  jq 'del(.manifest_digest)' "$work/cert.json" >"$cert"
  with_creds publish; local rc=$?
  [ $rc -eq 0 ] && grep -q "^publish: $rt: its certificate now names manifest $local_digest$" "$out" &&
  [ "$(cert_digest)" = "$local_digest" ] && [ "$(head_digest $rt)" = "$local_digest" ]
}
step "a certificate naming no manifest digest: publish records it, then pushes (exit 0)" no_digest
no_secret() {
  ! grep -rqF -- "$password" "$work/all-output" "$work/midpush.out" "$work/report.json" "$work/registry.log" \
      "$work/proj" "$work/cache" &&
  [ "$(ls -d /tmp/pcgen-docker-config.* 2>/dev/null | sort)" = "$configs_before" ]
}
step "the password appears in no output, report, cache or project file, and no docker config is made" no_secret
stop_registry
echo "push: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
