#!/usr/bin/env bash
# tests/registry/bearer.sh PCGEN: `pcgen publish` (--engine writer) through Bearer token auth
# against a real registry: Debian's docker-registry (distribution 2.8) on 127.0.0.1 with
# `auth: token` (realm, service, issuer, rootcertbundle), and tests/registry/token_server.py, a
# test double of the token service written from distribution's "Token Authentication
# Specification" and "Token Authentication Implementation" (ES256 JWTs; its key's certificate is
# the registry's rootcertbundle). No Docker engine: a small layout (tests/registry/mklayout.py).
#   challenge   the registry answers 401 "WWW-Authenticate: Bearer realm=…,service=…"
#   refused     no credentials and a wrong password: exit 3 naming the token service's 401
#   kid         tokens naming their key by its libtrust fingerprint: the push completes with
#               PCGEN_REGISTRY_USER/PASSWORD, the token request carried service and the scope
#               repository:<repo>:pull,push, and the registry's digest is the certificate's
#   x5c         tokens carrying the certificate: a push to another repository mounts the blobs
#               (the token covers the source repository's pull)
#   untrusted   tokens signed by a key the bundle does not hold: the registry refuses, exit 3
#   secrets     the password appears in no output, report or log
# Skipped (exit 0, one line) without docker-registry or python3's cryptography.
# Last line: "bearer: N passed, N failed".
set -u
PCGEN=$(realpath "${1:?usage: tests/registry/bearer.sh PCGEN}")
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/registry/lib.sh"
if ! command -v docker-registry >/dev/null || ! python3 -c 'import cryptography' 2>/dev/null; then
  echo "bearer: skipped (needs docker-registry and python3-cryptography: make deps)"
  echo "bearer: 0 passed, 0 failed"; exit 0
fi
work=$(mktemp -d /tmp/pcgen-bearer.XXXXXX)
passed=0 failed=0 reg_pid="" tok_pid=""
out=$work/out
step() { local what=$1; shift; local t0=$SECONDS
  if "$@" >"$out" 2>&1; then passed=$((passed + 1)); echo "  ok   $what ($((SECONDS - t0))s)"
  else failed=$((failed + 1)); echo "  FAIL $what ($((SECONDS - t0))s)"; tail -n 30 "$out" | sed 's/^/       /'; fi
  cat "$out" >>"$work/all-output"; }
stop_registry() { if [ -n "$reg_pid" ]; then kill -9 "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null; reg_pid=""; fi; }
stop_tokens() { if [ -n "$tok_pid" ]; then kill "$tok_pid" 2>/dev/null; wait "$tok_pid" 2>/dev/null; tok_pid=""; fi; }
cleanup() { stop_registry; stop_tokens; if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "bearer: kept $work"; fi; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
repo=pctest/pytorch-cuda rt=2.6.0-cuda12.4-cudnn9-runtime
user=pctest password="pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export TOKEN_SERVICE=pctest-registry TOKEN_ISSUER=pctest-token-service
mkdir -p "$work/storage" "$work/proj" "$work/tokens"

# start MODE: the token service (kid, x5c or untrusted: token_server.py), then the registry
# trusting its new certificate (read at start), on the same storage.
start() {
  stop_registry; stop_tokens
  rm -f "$work/tokens/port"
  TOKEN_USER=$user TOKEN_PASSWORD=$password python3 "$top/tests/registry/token_server.py" "$work/tokens" "$1" \
    >"$work/tokens/port" 2>>"$work/tokens/server.log" &
  tok_pid=$!
  for _ in $(seq 100); do [ -s "$work/tokens/port" ] && break; sleep 0.1; done
  tport=$(cat "$work/tokens/port"); [ -n "$tport" ] || { echo "the token service did not start:"; cat "$work/tokens/server.log"; return 1; }
  realm=http://127.0.0.1:$tport/token
  serve_registry "$work/registry.yml" "$work/storage" "$port" "$work/registry.log" \
    "{ token: { realm: \"$realm\", service: $TOKEN_SERVICE, issuer: $TOKEN_ISSUER, rootcertbundle: $work/tokens/rootcertbundle.pem } }"
}
# A token as a client gets one (the token spec, "Requesting a Token"), for the checks below.
bearer() {
  curl -sf -u "$user:$password" "$realm?service=$TOKEN_SERVICE&scope=repository:$1:pull" | jq -r .token
}
head_digest() {
  curl -sf -I -H "Authorization: Bearer $(bearer "$repo")" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "$url/v2/$repo/manifests/$1" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}

small_project "$work/proj" "$repo"
cd "$work/proj"
export PCGEN_DATA=$top/generator/data PCGEN_CACHE=$work/cache DOCKER_CONFIG=$work/docker-config
mkdir -p "$DOCKER_CONFIG"
image_id=$(python3 "$top/tests/registry/mklayout.py" "$work/proj" $rt 2 1000000)
cert_digest=$(jq -r .manifest_digest "$work/proj/results/certificates/${image_id#sha256:}.json")
publish() { "$PCGEN" publish --report "$work/report.json" "$@"; }
with_creds() { PCGEN_REGISTRY_USER=$user PCGEN_REGISTRY_PASSWORD=$password "$@"; }

step "token service (kid) and registry with auth: token start" start kid
challenge() {
  local h; h=$(curl -s -D - -o /dev/null "$url/v2/" | tr -d '\r' | grep -i '^www-authenticate:'); echo "$h"
  grep -q "Bearer realm=\"$realm\",service=\"$TOKEN_SERVICE\"" <<<"$h"
}
step "the registry's 401 challenge: Bearer realm and service (token spec, 'How to authenticate')" challenge
no_creds() {
  publish --to "127.0.0.1:$port"; [ $? -eq 3 ] &&
  grep -q "error: $rt: 127.0.0.1:$port needs credentials (the token service $realm answered 401): set PCGEN_REGISTRY_USER" "$out"
}
step "no credentials: the token service answers 401, exit 3 naming it" no_creds
wrong_password() {
  PCGEN_REGISTRY_USER=$user PCGEN_REGISTRY_PASSWORD=wrong-$password publish --to "127.0.0.1:$port"; [ $? -eq 3 ] &&
  grep -q "error: $rt: 127.0.0.1:$port refused the credentials from PCGEN_REGISTRY_USER/PCGEN_REGISTRY_PASSWORD (user '$user'): the token service $realm answered 401" "$out"
}
step "a wrong password: exit 3, 'refused the credentials' naming the token service" wrong_password
push_kid() {
  : >"$work/tokens/requests.log"
  with_creds publish --to "127.0.0.1:$port" || return 1
  cat "$work/tokens/requests.log"
  jq -e --arg s "$TOKEN_SERVICE" --arg r "repository:$repo:pull,push" -s \
    'map(select(.status == 200)) | length >= 1 and all(.service == $s and (.scopes | index($r)) != null)' \
    "$work/tokens/requests.log" &&
  jq -e --arg d "$cert_digest" '.tags[0].status == "pushed" and .tags[0].digest == $d
    and .tags[0].aliases[0].status == "pushed"' "$work/report.json"
}
step "push with tokens naming their key by kid: done, the token asked for service and repository:$repo:pull,push" push_kid
same_digest() {
  local a b; a=$(head_digest $rt); b=$(head_digest v2.6-prod)
  echo "registry $a (alias $b), certificate $cert_digest"; [ -n "$a" ] && [ "$a" = "$cert_digest" ] && [ "$b" = "$a" ]
}
step "the registry's digest (HEAD manifest, with a token) is the certificate's" same_digest

step "token service (x5c) and registry restart on the same storage" start x5c
push_x5c() {
  : >"$work/tokens/requests.log"
  with_creds publish --to "127.0.0.1:$port/pctest/mounted" || return 1
  cat "$work/tokens/requests.log"
  jq -e -s 'map(select(.status == 200 and (.scopes | index("repository:pctest/pytorch-cuda:pull")) != null)) | length >= 1' \
    "$work/tokens/requests.log" &&
  jq -e --arg d "$cert_digest" '.tags[0].status == "pushed" and .tags[0].digest == $d
    and .tags[0].layers_mounted == 2 and .tags[0].bytes_uploaded == 0' "$work/report.json"
}
step "push with tokens carrying the certificate (x5c) to another repository: the layers are mounted" push_x5c

step "token service (a key the bundle lacks) and registry restart" start untrusted
untrusted() {
  with_creds publish --to "127.0.0.1:$port/pctest/untrusted"; local rc=$?
  grep -q "token signed by untrusted key" "$work/registry.log" || { echo "the registry did not refuse the key"; return 1; }
  [ $rc -eq 3 ] && grep -q "error: $rt: 127.0.0.1:$port refused the token its token service $realm issued (invalid_token)" "$out"
}
step "tokens signed by a key the registry does not trust: refused, exit 3" untrusted
no_secret() {
  ! grep -rqF -- "$password" "$work/all-output" "$work/report.json" "$work/registry.log" "$work/tokens/requests.log" \
      "$work/tokens/server.log" "$work/proj" "$work/cache"
}
step "the password appears in no output, report, log or project file" no_secret
stop_registry; stop_tokens
echo "bearer: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
