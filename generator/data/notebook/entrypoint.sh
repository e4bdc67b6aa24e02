#!/bin/sh
# pytorch-notebook: the notebook image's entrypoint, run by tini as PID 1's child, as the user
# pytorch (uid 1000). Written by pcgen (generator/data/notebook/entrypoint.sh; docs/notebook.md).
#   lab (the default)  JupyterLab on 0.0.0.0:8888; token from JUPYTER_TOKEN or JUPYTER_TOKEN_FILE,
#                      else a random one printed once with the URL; an empty token is refused
#   ssh                sshd on port 22, keys from SSH_PUBLIC_KEY or /run/secrets/authorized_keys
#                      only; host keys made at the container's first start
#   anything else      run as is (as pytorch)
set -eu
state=/run/pytorch-notebook

die () {
  echo "pytorch-notebook: $*" >&2
  exit 64
}

not_root () {
  [ "$(id -u)" != 0 ] || die "refusing to run $1 as root: drop '--user root' (the image runs as pytorch, uid 1000)"
}

lab () {
  not_root JupyterLab
  generated=
  if [ -n "${JUPYTER_TOKEN_FILE:-}" ]; then
    [ -r "$JUPYTER_TOKEN_FILE" ] || die "JUPYTER_TOKEN_FILE '$JUPYTER_TOKEN_FILE' cannot be read"
    token=$(cat "$JUPYTER_TOKEN_FILE")
    [ -n "$token" ] || die "JUPYTER_TOKEN_FILE '$JUPYTER_TOKEN_FILE' is empty: an empty token would let anyone who reaches port 8888 run code; put a token in it, or unset it for a random one"
  elif [ "${JUPYTER_TOKEN+set}" = set ]; then
    token=$JUPYTER_TOKEN
    [ -n "$token" ] || die "JUPYTER_TOKEN is empty: an empty token would let anyone who reaches port 8888 run code; set a token, or leave JUPYTER_TOKEN unset for a random one"
  else
    # 32 random bytes, 64 hex characters.
    token=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
    generated=1
  fi
  unset JUPYTER_TOKEN_FILE
  # jupyter_server reads its token from JUPYTER_TOKEN: never on a command line (ps shows those).
  export JUPYTER_TOKEN="$token"
  if [ -n "$generated" ]; then
    echo "pytorch-notebook: JupyterLab token (made now, printed once): http://127.0.0.1:8888/lab?token=$token"
  fi
  cd "$HOME"
  exec python3 -m jupyterlab --no-browser --ServerApp.ip=0.0.0.0 --ServerApp.port=8888 \
    --ServerApp.root_dir="$HOME" --ServerApp.allow_root=False
}

ssh_mode () {
  not_root sshd
  [ -d "$state" ] && [ -w "$state" ] || die "$state is not a folder pytorch can write: do not mount over /run"
  keys=$state/authorized_keys
  if [ -n "${SSH_PUBLIC_KEY:-}" ]; then
    printf '%s\n' "$SSH_PUBLIC_KEY" >"$keys.new"
  elif [ -r /run/secrets/authorized_keys ]; then
    cat /run/secrets/authorized_keys >"$keys.new"
  else
    die "no SSH key given, so sshd would let nobody in: pass one with -e SSH_PUBLIC_KEY=\"\$(cat ~/.ssh/id_ed25519.pub)\" or mount a file of keys at /run/secrets/authorized_keys (-v ~/.ssh/id_ed25519.pub:/run/secrets/authorized_keys:ro)"
  fi
  unset SSH_PUBLIC_KEY
  chmod 600 "$keys.new"
  ssh-keygen -l -f "$keys.new" >/dev/null 2>&1 || { rm -f "$keys.new"; die "the SSH key given is not an OpenSSH public key (ssh-ed25519 AAAA..., ssh-rsa AAAA...)"; }
  mv "$keys.new" "$keys"
  # Host keys: made at this container's first start, kept while it lives, never in the image.
  for type in ed25519 rsa; do
    [ -s "$state/ssh_host_${type}_key" ] || ssh-keygen -q -t "$type" -N '' -C "pytorch-notebook host key" -f "$state/ssh_host_${type}_key"
  done
  echo "pytorch-notebook: sshd on port 22: log in as pytorch with your key; this container's host keys:" >&2
  for type in ed25519 rsa; do ssh-keygen -l -f "$state/ssh_host_${type}_key.pub" >&2; done
  exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config
}

case "${1:-lab}" in
lab)
  [ $# -le 1 ] || die "'lab' takes no arguments (JupyterLab's settings: docs/notebook.md)"
  lab
  ;;
ssh)
  [ $# -le 1 ] || die "'ssh' takes no arguments"
  ssh_mode
  ;;
*)
  exec "$@"
  ;;
esac
