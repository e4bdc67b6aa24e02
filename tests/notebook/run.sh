#!/usr/bin/env bash
# tests/notebook/run.sh PCGEN: the notebook flavor as a person uses it (docs/notebook.md), on the
# one notebook tag of the default matrix (NOTEBOOK_TAG), built and certified here first (pcgen
# build is a no-op when it is up to date). Real Docker engine, real JupyterLab, Debian's
# chromium, the real OpenSSH client. Last line: "notebook: N passed, N failed".
#   image      runs as pytorch (uid 1000, home /workspace, its own); tini is PID 1; no
#              /etc/ssh/ssh_host_* in the image; pcgen certify passes with the sshd check
#   refusals   JUPYTER_TOKEN="" and `ssh` without a key exit non-zero, saying why
#   jupyter    /api/status 403 and /lab -> login without the token, 200 with it; chromium opens
#              /lab?token=... and renders JupyterLab's shell (DOM; the PNG is kept in
#              results/notebook/); a notebook cell run over REST + the kernel websocket prints
#              torch.__version__ and a torch.compile'd function's result
#   ssh        the key logs in as pytorch and imports torch; password auth, root and an unknown
#              key are refused; keys from /run/secrets/authorized_keys work too; two containers
#              have different host keys
set -u
PCGEN=${1:?usage: tests/notebook/run.sh PCGEN}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tag=${NOTEBOOK_TAG:-2.6.0-cuda12.4-cudnn9-notebook}
# Debian's python3, for Debian's python3-websocket (Makefile DEB_PKGS), whatever PATH prefers.
PYTHON=${PYTHON:-/usr/bin/python3}
. "$top/tests/lib/suite.sh"
out=$(mktemp -d /tmp/notebook-test.XXXXXX)
names=()
cleanup() { for n in "${names[@]}"; do docker rm -f "$n" >/dev/null 2>&1; done; rm -rf "$out"; }

cd "$top"
plan=$("$PCGEN" plan --json) || { ko "pcgen plan"; finish notebook; }
image=$(jq -r --arg t "$tag" '.tags[] | select(.tag == $t) | .image' <<<"$plan")
runtime=$(jq -r --arg t "$tag" '.tags[] | select(.tag == $t) | .from' <<<"$plan")
[ -n "$image" ] || { ko "$tag is not in the plan of matrix.yaml"; finish notebook; }
expect "pcgen build ${runtime##*:} $tag" "$PCGEN" build "${runtime##*:}" "$tag"
docker image inspect "$image" >/dev/null 2>&1 || { ko "no image $image"; finish notebook; }
id=$(docker image inspect -f '{{.Id}}' "$image"); id=${id#sha256:}
expect "pcgen certify $tag: sshd -T and the user (not root) pass" \
  sh -c "'$PCGEN' certify '$tag' && jq -e '[.checks[] | select((.name == \"sshd\" or .name == \"user\") and .status == \"pass\")] | length == 2' results/certificates/$id.json"

# --- the image
expect "runs as pytorch (uid 1000), home /workspace its own" \
  sh -c "test \"\$(docker run --rm '$image' sh -c 'id -u; id -un; id -g; echo \$HOME; stat -c %U /workspace')\" = \"\$(printf '1000\npytorch\n1000\n/workspace\npytorch')\""
expect "tini is PID 1" sh -c "docker run --rm '$image' cat /proc/1/cmdline | tr '\\0' ' ' | grep -q '^/usr/bin/tini '"
expect "no host key in the image" sh -c "! docker run --rm '$image' sh -c 'ls /etc/ssh/ssh_host_* /run/pytorch-notebook/* 2>/dev/null' | grep ."

# --- what is refused
refused() { # refused WANT_TEXT docker-run-args...: exits non-zero by itself, saying WANT_TEXT
  local want=$1 name=notebook-test-refused-$$; shift
  # A container that serves instead of refusing would never exit: stopped after a while (a
  # bound on a hang, not a timed test: the refusal itself is immediate).
  timeout 120 docker run --rm --name "$name" "$@" >"$out/ref" 2>&1; local rc=$?
  docker rm -f "$name" >/dev/null 2>&1
  [ "$rc" = 124 ] && { echo "still running after 120 s (it served instead of refusing):"; cat "$out/ref"; return 1; }
  [ "$rc" = 0 ] && { echo "exited 0:"; cat "$out/ref"; return 1; }
  grep -F "$want" "$out/ref" || { cat "$out/ref"; return 1; }
}
expect 'JUPYTER_TOKEN="" exits non-zero, saying why' refused "JUPYTER_TOKEN is empty" -e JUPYTER_TOKEN= "$image"
expect "ssh without a key exits non-zero, saying how to pass one" refused "SSH_PUBLIC_KEY" "$image" ssh

# --- Jupyter
token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
nb=notebook-test-lab-$$; names+=("$nb")
docker run -d --name "$nb" -p 127.0.0.1::8888 -e JUPYTER_TOKEN="$token" "$image" >/dev/null
port=$(docker port "$nb" 8888/tcp | head -n1 | sed 's/.*://')
url=http://127.0.0.1:$port
# Up when /api/status answers at all (403 without a token); a bounded wait, not a timed test.
for _ in $(seq 120); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/api/status")" != 000 ] && break; sleep 1
done
expect "without the token: /api/status is 403" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/api/status")" = 403
expect "without the token: /lab leads to the login page" \
  sh -c "curl -s -o /dev/null -w '%{redirect_url}' '$url/lab' | grep -q '/login?next=%2Flab' && curl -sL '$url/lab' | grep -q 'type=\"password\"'"
expect "with the token: /api/status is 200" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: token $token" "$url/api/status")" = 200
mkdir -p results/notebook
chrome() { chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$out/chrome" \
  --virtual-time-budget=30000 --window-size=1280,800 "$@" "$url/lab?token=$token" 2>/dev/null; }
expect "chromium renders JupyterLab at /lab?token=... (DOM: title, jp-LabShell)" \
  sh -c "$(declare -f chrome); out='$out' url='$url' token='$token'; chrome --dump-dom >'$out/dom.html'; grep -q '<title>.*JupyterLab' '$out/dom.html' && grep -q 'jp-LabShell' '$out/dom.html'"
expect "chromium's screenshot kept: results/notebook/lab.png" \
  sh -c "$(declare -f chrome); out='$out' url='$url' token='$token'; rm -f results/notebook/lab.png; chrome --screenshot='$top/results/notebook/lab.png' && test \$(stat -c %s results/notebook/lab.png) -gt 10000"
expect "a notebook cell over REST + the kernel websocket: torch.__version__ and a torch.compile'd result" \
  sh -c "'$PYTHON' '$here/kernel.py' '$url' '$token' >'$out/cell' 2>&1; rc=\$?; cat '$out/cell'; test \$rc = 0 && grep -q '^torch 2' '$out/cell' && grep -q '^compiled \\[1.0, 2.68' '$out/cell'"

# --- SSH
ssh-keygen -q -t ed25519 -N '' -f "$out/key" && ssh-keygen -q -t ed25519 -N '' -f "$out/other"
s1=notebook-test-ssh1-$$ s2=notebook-test-ssh2-$$; names+=("$s1" "$s2")
docker run -d --name "$s1" -p 127.0.0.1::22 -e SSH_PUBLIC_KEY="$(cat "$out/key.pub")" "$image" ssh >/dev/null
docker run -d --name "$s2" -p 127.0.0.1::22 -v "$out/key.pub:/run/secrets/authorized_keys:ro" "$image" ssh >/dev/null
p1=$(docker port "$s1" 22/tcp | head -n1 | sed 's/.*://'); p2=$(docker port "$s2" 22/tcp | head -n1 | sed 's/.*://')
for _ in $(seq 60); do
  ssh-keyscan -p "$p1" 127.0.0.1 >/dev/null 2>&1 && ssh-keyscan -p "$p2" 127.0.0.1 >/dev/null 2>&1 && break; sleep 1
done
sshc() { # sshc PORT [ssh options] USER@HOST COMMAND
  local port=$1; shift
  ssh -F /dev/null -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
      -o ConnectTimeout=20 -o LogLevel=ERROR "$@"
}
denied() { local port=$1; shift; ! sshc "$port" "$@" true >"$out/ssh" 2>&1 && grep -q 'Permission denied' "$out/ssh" || { cat "$out/ssh"; return 1; }; }
torch=$(jq -r --arg t "$tag" '.tags[] | select(.tag == $t) | .torch.version' <<<"$plan")
login() { sshc "$p1" -i "$out/key" -o IdentitiesOnly=yes pytorch@127.0.0.1 \
  'id -un; python3 -c "import torch; print(torch.__version__)"' >"$out/login" 2>&1
  cat "$out/login"; head -n1 "$out/login" | grep -qx pytorch && sed -n 2p "$out/login" | grep -q "^$torch\(+\|$\)"; }
expect "the key logs in as pytorch and imports torch $torch" login
expect "keys mounted at /run/secrets/authorized_keys log in too" \
  sh -c "$(declare -f sshc); test \"\$(sshc $p2 -i '$out/key' -o IdentitiesOnly=yes pytorch@127.0.0.1 id -un)\" = pytorch"
expect "password authentication is refused (the server offers publickey only)" \
  sh -c "$(declare -f sshc); ! sshc $p1 -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive pytorch@127.0.0.1 true 2>'$out/pw'; grep -q 'Permission denied (publickey)' '$out/pw' || { cat '$out/pw'; exit 1; }"
expect "root cannot log in, even with the key" sh -c "$(declare -f sshc denied); out='$out'; denied $p1 -i '$out/key' -o IdentitiesOnly=yes root@127.0.0.1"
expect "an unknown key is refused" sh -c "$(declare -f sshc denied); out='$out'; denied $p1 -i '$out/other' -o IdentitiesOnly=yes pytorch@127.0.0.1"
expect "two containers have different host keys" \
  sh -c "a=\$(ssh-keyscan -t ed25519 -p $p1 127.0.0.1 2>/dev/null | awk '{print \$3}'); b=\$(ssh-keyscan -t ed25519 -p $p2 127.0.0.1 2>/dev/null | awk '{print \$3}'); echo \"\$a\"; echo \"\$b\"; test -n \"\$a\" && test -n \"\$b\" && test \"\$a\" != \"\$b\""
finish notebook
