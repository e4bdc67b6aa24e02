#!/usr/bin/env bash
# tests/registry/credhelpers.sh PCGEN: `pcgen publish` (--engine writer) taking its credentials
# from a docker credential helper, as `docker push` does (docs/publishing.md, "Credentials"),
# against a real registry: Debian's docker-registry on 127.0.0.1 with htpasswd basic auth, a small
# layout (tests/registry/mklayout.py), no Docker engine. The helper is the test double
# tests/registry/docker-credential-pcgentest on PATH (docker-credential-helpers' protocol:
# argument "get", the server URL on stdin, {"ServerURL","Username","Secret"} on stdout, "credentials
# not found in native keychain" and exit 1 when it has none). config.json never has "auths".
#   credHelpers  only {"credHelpers": {"127.0.0.1:PORT": "pcgentest"}}: the push authenticates
#                (exit 0, the registry holds the tag); the helper was run with "get" and exactly
#                the host on stdin
#   credsStore   only {"credsStore": "pcgentest"}: the same, to another repository
#   precedence   credHelpers' helper is used over a credsStore naming a helper that is not installed
#   not found    the helper has nothing for the host: exit 3, the registry's 401 naming the helper
#                and the host
#   hang         a helper that never answers: killed after PCGEN_CREDENTIAL_HELPER_TIMEOUT (1 s),
#                exit 3 naming it, the host and the timeout; the helper process is gone
#   token        an identity token (Username "<token>"): exit 3, refused in one line
#   secrets      the password appears in no output, report, log or project file
# Skipped (exit 0, one line) without docker-registry or htpasswd.
# Last line: "credhelpers: N passed, N failed".
set -u
PCGEN=$(realpath "${1:?usage: tests/registry/credhelpers.sh PCGEN}")
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/registry/lib.sh"
require_registry_tools credhelpers
. "$top/tests/lib/suite.sh"
work=$(mktemp -d /tmp/pcgen-credhelpers.XXXXXX)
reg_pid=""
out=$suite_out # what the step running now printed (tests/lib/suite.sh)
cleanup() { stop_registry; if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "credhelpers: kept $work"; fi; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port host=127.0.0.1:$port
repo=pctest/pytorch-cuda rt=2.6.0-cuda12.4-cudnn9-runtime
user=pctest password="pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$work/storage" "$work/proj"
htpasswd -Bbn "$user" "$password" >"$work/htpasswd" 2>/dev/null

small_project "$work/proj" "$repo"
cd "$work/proj"
export PCGEN_DATA=$top/generator/data PCGEN_CACHE=$work/cache DOCKER_CONFIG=$work/docker-config
export PATH=$top/tests/registry:$PATH
# The helper's store (its keychain) and its call log (tests/registry/docker-credential-pcgentest).
export PCGEN_TEST_CREDS=$work/keychain.json PCGEN_TEST_HELPER_LOG=$work/helper.log
unset PCGEN_REGISTRY_USER PCGEN_REGISTRY_PASSWORD PCGEN_CREDENTIAL_HELPER_TIMEOUT PCGEN_TEST_HELPER_HANG
mkdir -p "$DOCKER_CONFIG"
python3 "$top/tests/registry/mklayout.py" "$work/proj" $rt 2 300000 >/dev/null
# Everything pcgen prints also goes to all-output, for the check that no secret shows; 60 s at
# most (a binary that waits on a hung helper forever fails instead of hanging the suite).
publish() {
  timeout 60 "$PCGEN" publish --report "$work/report.json" --to "$host${1:+/$1}" "${@:2}" 2>&1 | tee -a "$work/all-output"
  return "${PIPESTATUS[0]}"
}
keychain() { jq -n --arg h "$host" --arg u "$1" --arg s "$2" '{($h): {Username: $u, Secret: $s}}' >"$PCGEN_TEST_CREDS"; }
config() { printf '%s\n' "$1" >"$DOCKER_CONFIG/config.json"; }
reg() { REG_USER=$user REG_PASSWORD=$password python3 "$top/tests/registry/regcheck.py" "$@"; }

step "registry with htpasswd starts on $host" serve_registry "$work/registry.yml" "$work/storage" "$port" \
  "$work/registry.log" "{ htpasswd: { realm: pctest, path: $work/htpasswd } }"

cred_helpers() {
  keychain "$user" "$password"; config "{\"credHelpers\": {\"$host\": \"pcgentest\"}}"; : >"$PCGEN_TEST_HELPER_LOG"
  publish "$repo"; local rc=$?; echo "publish exit $rc"; cat "$PCGEN_TEST_HELPER_LOG"
  [ $rc -eq 0 ] && [ "$(reg tags "$url" "$repo" | sort | tr '\n' ' ')" = "$rt v2.6-prod " ] &&
  jq -e '.tags[0].status == "pushed"' "$work/report.json" &&
  # exactly one call: the argument get, the host on stdin without a newline (client.Get)
  jq -se --arg h "$host" 'length == 1 and .[0].argv == ["get"] and .[0].stdin == $h' "$PCGEN_TEST_HELPER_LOG"
}
step "config.json with only credHelpers for the host: the push authenticates through the helper" cred_helpers

creds_store() {
  config '{"credsStore": "pcgentest"}'
  publish pctest/store; local rc=$?; echo "publish exit $rc"
  [ $rc -eq 0 ] && [ -n "$(reg tags "$url" pctest/store)" ] && jq -e '.tags[0].status == "pushed"' "$work/report.json"
}
step "config.json with only credsStore: the push authenticates through the helper" creds_store

precedence() {
  config "{\"credsStore\": \"pcgen-not-installed\", \"credHelpers\": {\"$host\": \"pcgentest\"}}"
  publish pctest/precedence; local rc=$?; echo "publish exit $rc"
  [ $rc -eq 0 ] && [ -n "$(reg tags "$url" pctest/precedence)" ]
}
step "the host's credHelpers entry wins over credsStore" precedence

not_found() {
  echo '{}' >"$PCGEN_TEST_CREDS"; config "{\"credHelpers\": {\"$host\": \"pcgentest\"}}"
  publish pctest/notfound; local rc=$?; echo "publish exit $rc"
  [ $rc -eq 3 ] &&
  grep -q "error: $rt: $host answered 401 unauthorized: it needs a user and password (Basic realm \"pctest\"): docker-credential-pcgentest has no credentials for $host; docker login $host, or set PCGEN_REGISTRY_USER and PCGEN_REGISTRY_PASSWORD$" "$out"
}
step "a helper with no credentials for the host: exit 3, the 401 naming the helper and the host" not_found

hang() {
  keychain "$user" "$password"; rm -f "$PCGEN_TEST_HELPER_LOG.pid"
  local t0=$SECONDS
  PCGEN_TEST_HELPER_HANG=1 PCGEN_CREDENTIAL_HELPER_TIMEOUT=1 publish pctest/hang
  local rc=$? took=$((SECONDS - t0)) pid; pid=$(cat "$PCGEN_TEST_HELPER_LOG.pid" 2>/dev/null)
  echo "publish exit $rc after ${took}s, helper pid ${pid:-none}"
  [ $rc -eq 3 ] && [ "$took" -le 10 ] && [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null &&
  grep -q "^pcgen: error: credential helper docker-credential-pcgentest (credHelpers in $DOCKER_CONFIG/config.json) for $host: no answer within 1 s (PCGEN_CREDENTIAL_HELPER_TIMEOUT), killed$" "$out"
}
step "a helper that hangs: killed after PCGEN_CREDENTIAL_HELPER_TIMEOUT, exit 3 naming it and the host" hang

identity_token() {
  keychain '<token>' "$password"; config '{"credsStore": "pcgentest"}'
  publish pctest/token; local rc=$?; echo "publish exit $rc"
  [ $rc -eq 3 ] &&
  grep -q "^pcgen: error: credential helper docker-credential-pcgentest (credsStore in $DOCKER_CONFIG/config.json) holds an identity token for $host, not a user and password: pcgen does not exchange identity tokens" "$out"
}
step "an identity token (Username <token>): exit 3, refused in one line" identity_token

no_secret() {
  ! grep -rqF -- "$password" "$work/all-output" "$work/report.json" "$work/registry.log" "$work/helper.log" \
      "$work/proj" "$work/cache"
}
step "the password appears in no output, report, log, cache or project file" no_secret
finish credhelpers
