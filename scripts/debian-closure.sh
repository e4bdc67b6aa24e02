#!/usr/bin/env bash
# scripts/debian-closure.sh BASE.tar PACKAGE...: the Debian packages (with their dependencies)
# that PACKAGE... add to the mmdebstrap base BASE.tar, as bases.yaml entries (name, version, pool
# path, sha256, size, archive), read from bookworm's Packages files by apt itself against the
# base's dpkg status, each file downloaded and its sha256 checked against the Packages file.
# EXTRA_STATUS: a second list of packages to count as installed (the toolchain, for buildtools
# and for the notebook flavor's packages). The three sets of bases.yaml:
#   toolchain      scripts/debian-closure.sh BASE.tar gcc g++ libgomp1 libc6-dev libpython3.11-dev python3.11-dev
#   buildtools     EXTRA_STATUS="gcc g++ libgomp1 libc6-dev libpython3.11-dev python3.11-dev" \
#                    scripts/debian-closure.sh BASE.tar cmake make
#   notebook       EXTRA_STATUS="gcc g++ libgomp1 libc6-dev libpython3.11-dev python3.11-dev" \
#                    scripts/debian-closure.sh BASE.tar openssh-server tini
# BASE.tar: the base's root file system tar (~/.cache/pytorch-cuda/base/<base>.tar, made by
# pcgen build; or mmdebstrap --variant=minbase --include=python3,python3-pip,ca-certificates).
set -euo pipefail
tar=${1:?usage: scripts/debian-closure.sh BASE.tar PACKAGE...}; shift
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{state/lists/partial,cache/archives/partial,debs}
printf 'deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' >"$work/sources.list"
tar -xOf "$tar" ./var/lib/dpkg/status >"$work/status"
cat >"$work/apt.conf" <<CONF
Dir::State "$work/state"; Dir::State::status "$work/status"; Dir::Cache "$work/cache";
Dir::Etc::SourceList "$work/sources.list"; Dir::Etc::SourceParts "$work/none";
Dir::Etc::Parts "$work/none"; Dir::Etc::PreferencesParts "$work/none";
Dir::Etc::TrustedParts "/usr/share/keyrings"; APT::Architecture "amd64"; APT::Install-Recommends "false";
CONF
export APT_CONFIG=$work/apt.conf
apt-get update -qq
apt-get install --print-uris -qq -y "$@" ${EXTRA_STATUS:-} >"$work/all"
if [ -n "${EXTRA_STATUS:-}" ]; then
  apt-get install --print-uris -qq -y $EXTRA_STATUS | awk '{print $2}' >"$work/skip"
  grep -v -F -f "$work/skip" "$work/all" >"$work/uris" || true
else
  cp "$work/all" "$work/uris"
fi
python3 - "$work/uris" "$work/debs" <<'PY'
import hashlib, os, subprocess, sys, urllib.parse
for line in open(sys.argv[1]):
    url, fname = line.split()[0].strip("'"), line.split()[1]
    name, ver, _ = fname.split("_")
    ver = urllib.parse.unquote(ver)
    out = subprocess.run(["apt-cache", "show", f"{name}={ver}"], capture_output=True, text=True, check=True).stdout
    s = dict(l.split(":", 1) for l in out.split("\n\n")[0].splitlines() if ":" in l and not l.startswith(" "))
    s = {k: v.strip() for k, v in s.items()}
    local = os.path.join(sys.argv[2], fname)
    subprocess.run(["curl", "-sSfo", local, url], check=True)
    h = hashlib.sha256(open(local, "rb").read()).hexdigest()
    assert h == s["SHA256"] and os.path.getsize(local) == int(s["Size"]), fname
    print(f"        - name: {name}\n          version: \"{ver}\"\n          path: {s['Filename']}\n"
          f"          sha256: {h}\n          size: {s['Size']}"
          + ("\n          archive: debian-security" if "/debian-security/" in url else ""))
PY
