# tests/registry/lib.sh: what push.sh, bearer.sh, credhelpers.sh and run.sh share (sourced, not run).

# require_registry_tools SUITE: without docker-registry or htpasswd, the suite's two skip lines
# and exit 0.
require_registry_tools() {
  if ! command -v docker-registry >/dev/null || ! command -v htpasswd >/dev/null; then
    echo "$1: skipped (needs docker-registry and htpasswd: apt-get install docker-registry apache2-utils)"
    echo "$1: 0 passed, 0 failed"; exit 0
  fi
}

# wait_registry URL LOG: until the registry at URL answers (10 s), else its log's tail, 1.
wait_registry() {
  local code
  for _ in $(seq 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$1/v2/") && [ "$code" != 000 ] && return 0
    sleep 0.2
  done
  echo "registry did not answer on $1; its log:"; tail -n 20 "$2"; return 1
}

# serve_registry YML STORAGE PORT LOG [AUTH]: Debian's docker-registry on 127.0.0.1:PORT, its
# filesystem storage at STORAGE, AUTH the value of its `auth:` key (none when empty), its config
# written to YML and its output appended to LOG; its pid in reg_pid; returns once it answers.
serve_registry() {
  local yml=$1 storage=$2 port=$3 log=$4 auth=${5:-}
  { echo "version: 0.1"
    echo "log: { level: info }"
    echo "storage: { filesystem: { rootdirectory: $storage }, delete: { enabled: true } }"
    echo "http: { addr: 127.0.0.1:$port }"
    [ -z "$auth" ] || echo "auth: $auth"
  } >"$yml"
  docker-registry serve "$yml" >>"$log" 2>&1 &
  reg_pid=$!
  wait_registry "http://127.0.0.1:$port" "$log"
}

# stop_registry: the registry serve_registry started, killed (SIGKILL) and reaped.
stop_registry() { if [ -n "$reg_pid" ]; then kill -9 "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null; reg_pid=""; fi; }

# small_project DIR REPO: DIR/matrix.yaml of one runtime tag (2.6.0-cuda12.4-cudnn9-runtime)
# and its alias v2.6-prod, in repository REPO (tests/registry/mklayout.py makes its layout).
small_project() {
  mkdir -p "$1"
  cat >"$1/matrix.yaml" <<EOF2
repository: $2
base: debian-bookworm
python: "3.11"
torch: ["2.6.0"]
cuda: ["12.4"]
flavors: [runtime]
aliases:
  - { name: "v{major}.{minor}-prod", cuda: pypi, flavor: runtime }
EOF2
}

# stored_layers STORAGE PUSH-MANIFEST...: the layer blobs (hex) those push manifests name that
# the registry's filesystem storage holds, complete ones only (the filesystem driver moves an
# upload into blobs/ only once its digest is checked).
stored_layers() {
  local storage=$1 d; shift
  for d in $(jq -r '.layers[].digest | ltrimstr("sha256:")' "$@" | sort -u); do
    [ -f "$storage/docker/registry/v2/blobs/sha256/${d:0:2}/$d/data" ] && echo "$d"
  done
}

# not_sent_again REPO OUT LOG HEX...: after a re-run whose publish output is OUT and whose part of
# the registry's log is LOG, each blob HEX was found (HEAD in the log, "already there" in OUT)
# and not uploaded again (no PUT ...?digest= of it in the log).
not_sent_again() {
  local repo=$1 out=$2 log=$3 d; shift 3
  for d in "$@"; do
    grep -q "layer [0-9]*/[0-9]* sha256:${d:0:12} .* already there" "$out" || { echo "sha256:$d not skipped"; return 1; }
    grep -q "method=HEAD .*uri=\"/v2/$repo/blobs/sha256:$d\"" "$log" || { echo "no HEAD for sha256:$d"; return 1; }
    if grep "method=PUT" "$log" | grep -q "digest=sha256%3A$d\|digest=sha256:$d"; then
      echo "sha256:$d uploaded again"; return 1; fi
  done
}
