#!/usr/bin/env bash
# tests/fetch/run.sh PCGEN: `pcgen lock` and `pcgen fetch` of the Debian packages nvcc comes from,
# against a local mirror (python3 -m http.server on 127.0.0.1) serving a small fixture package
# under the pool path the lock names: pinned from the knowledge base, downloaded with libcurl,
# verified before it enters the cache, a wrong digest refused naming both, a missing file, the
# offline check, a second fetch downloading nothing; and a set's wheels fetched by ONE pip
# download from a wheelhouse, what it lacks from pip's index but torch (a wrapper on PATH counts
# the pip runs). No Docker. Last line: "fetch: N passed, N failed".
set -u
PCGEN=$(realpath "${1:?usage: tests/fetch/run.sh PCGEN}")
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/suite.sh"

work=$(mktemp -d /tmp/pcgen-fetch.XXXXXX)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; }
cd "$work"
export PCGEN_CACHE="$work/cache"

pool=pool/non-free/n/nvidia-cuda-toolkit
file=nvidia-cuda-toolkit_12.4.131~12.4.1-2_amd64.deb
mkdir -p "mirror/debian/$pool"
# Any bytes do: fetch checks digests, not contents.
head -c 300000 /dev/urandom > "mirror/debian/$pool/$file"
sha=$(sha256sum "mirror/debian/$pool/$file" | cut -d' ' -f1)
size=$(stat -c %s "mirror/debian/$pool/$file")
# The base's packages (bases.yaml: toolchain, buildtools) as one fixture package each: the
# toolchain's from bookworm-security's pool/updates/ (archive: debian-security, from
# PCGEN_DEBIAN_SECURITY_MIRROR), buildtools' from the main archive.
tpool=pool/updates/main/p/python3.11 tfile=libpython3.11-dev_3.11.2-6+deb12u9_amd64.deb
bpool=pool/main/m/make-dfsg bfile=make_4.3-4.1_amd64.deb
mkdir -p "mirror/debian-security/$tpool" "mirror/debian/$bpool"
head -c 2000 /dev/urandom > "mirror/debian-security/$tpool/$tfile"
head -c 3000 /dev/urandom > "mirror/debian/$bpool/$bfile"
cp -r "${PCGEN_DATA:-$top/generator/data}" data
python3 - data/bases.yaml "mirror/debian-security/$tpool/$tfile" "mirror/debian/$bpool/$bfile" <<'PY'
import hashlib, os, re, sys
text = open(sys.argv[1]).read()
def entry(path, archive):
    data = open(path, "rb").read()
    pool = path.split("/", 2)[2]
    return ("      debs:\n        - name: %s\n          version: \"1\"\n          path: %s\n          sha256: %s\n"
            "          size: %d\n%s" % (os.path.basename(path).split("_")[0], pool, hashlib.sha256(data).hexdigest(),
                                    len(data), "          archive: %s\n" % archive if archive else ""))
for key, path, archive in (("toolchain", sys.argv[2], "debian-security"), ("buildtools", sys.argv[3], None)):
    text, n = re.subn(r"(\n    %s:\n      source: .*\n)      debs:\n((        |          ).*\n)*" % key,
                      lambda m: m.group(1) + entry(path, archive), text)
    assert n == 1, key
open(sys.argv[1], "w").write(text)
PY
export PCGEN_DATA=$work/data

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory mirror "$port" >server.log 2>&1 &
server=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
export PCGEN_DEBIAN_MIRROR="http://127.0.0.1:$port/debian/"
export PCGEN_DEBIAN_SECURITY_MIRROR="http://127.0.0.1:$port/debian-security"

cat > matrix.yaml <<'YAML'
repository: fetchtest/pytorch-cuda
base: debian-bookworm
python: "3.11"
torch: ["2.6.0"]
cuda: ["12.4"]
flavors: [runtime, devel]
YAML
# A lock whose torch and devel sets are already resolved (no wheels: nothing for pip to do), so
# that `pcgen lock` only pins the packages of the knowledge base.
cat > matrix.lock <<'JSON'
{"schema": 1, "generated_by": "test", "sets": [
 {"id": "torch-2.6.0-cu124-py3.11", "source": {"kind": "pypi"}, "wheels": []},
 {"id": "cuda-devel-12.4-py3.11", "source": {"kind": "pypi"}, "wheels": []}]}
JSON
"$PCGEN" lock >lock.out 2>&1; rc=$?
expect "lock exits 0 (got $rc: $(tail -n 3 lock.out))" [ "$rc" -eq 0 ]
expect "lock says it pinned the packages" grep -q 'nvcc packages pinned from generator/data/cuda.yaml' lock.out
n=$(jq '[.sets[] | select(.id == "cuda-devel-12.4-py3.11") | .wheels[] | select(.role == "nvcc")] | length' matrix.lock)
expect "lock pins the 2 packages of CUDA 12.4 (got $n)" [ "$n" = 2 ]
expect "the toolkit is pinned with its pool path" jq -e --arg f "$file" \
  '.sets[].wheels[] | select(.file == $f) | .path == "pool/non-free/n/nvidia-cuda-toolkit/" + $f and .size == 87240108' matrix.lock >/dev/null
cp matrix.lock pinned.lock
"$PCGEN" lock >/dev/null 2>&1
expect "a second lock changes nothing" cmp -s matrix.lock pinned.lock

# Keep only the toolkit and pin the fixture's digest: a real download, then a refused one.
jq --arg sha "$sha" --argjson size "$size" --arg f "$file" \
  '.sets |= map(.wheels |= map(select(.role != "nvcc" or .file == $f) | if .role == "nvcc" then .sha256 = $sha | .size = $size else . end))' \
  pinned.lock > good.lock
"$PCGEN" fetch --offline --lock good.lock >offline.out 2>&1; rc=$?
expect "fetch --offline with an empty cache exits 3 (got $rc)" [ "$rc" -eq 3 ]
expect "fetch --offline names the package" grep -q "$tfile is not in the cache" offline.out

"$PCGEN" fetch --lock good.lock >fetch.out 2>&1; rc=$?
expect "fetch exits 0 (got $rc: $(tail -n 3 fetch.out))" [ "$rc" -eq 0 ]
expect "fetch names the mirror without its trailing /" grep -qF "from http://127.0.0.1:$port/debian" fetch.out
expect "the package is in the cache under its digest" cmp -s "cache/sha256/$sha/$file" "mirror/debian/$pool/$file"
expect "plain progress off a terminal: no carriage return" bash -c "! grep -q $'\r' fetch.out"
expect "no temporary file left" bash -c "[ -z \"\$(find cache/tmp -type f 2>/dev/null)\" ]"
# The base's packages come with the tags: the toolchain from the security mirror, buildtools.
tsha=$(sha256sum "mirror/debian-security/$tpool/$tfile" | cut -d' ' -f1)
bsha=$(sha256sum "mirror/debian/$bpool/$bfile" | cut -d' ' -f1)
expect "the toolchain package comes from the security mirror" grep -qF "$tfile (0.0 MB) from http://127.0.0.1:$port/debian-security" fetch.out
expect "the toolchain package is in the cache under its digest" cmp -s "cache/sha256/$tsha/$tfile" "mirror/debian-security/$tpool/$tfile"
expect "the buildtools package is in the cache under its digest" cmp -s "cache/sha256/$bsha/$bfile" "mirror/debian/$bpool/$bfile"
requests=$(grep -c "GET /debian/$pool/" server.log)
"$PCGEN" fetch --lock good.lock >again.out 2>&1; rc=$?
expect "a second fetch exits 0" [ "$rc" -eq 0 ]
expect "a second fetch downloads nothing" [ "$(grep -c "GET /debian/$pool/" server.log)" = "$requests" ]
expect "a second fetch downloads no base package" [ "$(grep -c "GET /debian-security/$tpool/" server.log)" = 1 ]

# The security mirror serves other bytes than bases.yaml pins: refused, nothing cached.
rm -rf "cache/sha256/$tsha"
mv "mirror/debian-security/$tpool/$tfile" pinned.deb
head -c 2000 /dev/urandom > "mirror/debian-security/$tpool/$tfile"
"$PCGEN" fetch --lock good.lock >tbad.out 2>&1; rc=$?
mv pinned.deb "mirror/debian-security/$tpool/$tfile"
expect "a toolchain package with other bytes exits 3 (got $rc)" [ "$rc" -eq 3 ]
expect "the refusal names bases.yaml's pin" bash -c "grep -q 'but bases.yaml pins $tsha' tbad.out && grep -q refused tbad.out"
expect "nothing entered the cache under the toolchain's digest" [ ! -e "cache/sha256/$tsha" ]

# The mirror serves other bytes than were pinned: refused, both digests named, nothing cached.
bad=$(printf '%064d' 0 | tr 0 a)
jq --arg bad "$bad" '.sets |= map(.wheels |= map(if .role == "nvcc" then .sha256 = $bad else . end))' good.lock > bad.lock
"$PCGEN" fetch --lock bad.lock >bad.out 2>&1; rc=$?
expect "a wrong digest exits 3 (got $rc)" [ "$rc" -eq 3 ]
expect "the refusal names both digests" bash -c "grep -q 'sha256 $sha' bad.out && grep -q 'pins $bad' bad.out && grep -q refused bad.out"
expect "nothing entered the cache under the pinned digest" [ ! -e "cache/sha256/$bad" ]
expect "no temporary file left after a refusal" bash -c "[ -z \"\$(find cache/tmp -type f 2>/dev/null)\" ]"

# A path the mirror does not have.
jq '.sets |= map(.wheels |= map(if .role == "nvcc" then .path = "pool/non-free/n/nvidia-cuda-toolkit/missing_1_amd64.deb" | .file = "missing_1_amd64.deb" | .sha256 = "'"$bad"'" else . end))' \
  good.lock > missing.lock
"$PCGEN" fetch --lock missing.lock >missing.out 2>&1; rc=$?
expect "a missing file exits 3 (got $rc)" [ "$rc" -eq 3 ]
expect "a missing file says the URL and the status" grep -q "cannot download http://127.0.0.1:$port/debian/pool/.*missing_1_amd64.deb: .*404" missing.out

# A lock whose package entry has no pool path is refused when read.
jq '.sets |= map(.wheels |= map(if .role == "nvcc" then del(.path) else . end))' good.lock > nopath.lock
"$PCGEN" fetch --lock nopath.lock >nopath.out 2>&1; rc=$?
expect "a package without a pool path is refused (exit 1, got $rc)" [ "$rc" -eq 1 ]
expect "the refusal says what is missing" grep -q 'lacks a pool path' nopath.out

# --- NVIDIA's redist: a local replica, and a test knowledge base pinning its archives ---------
# The replica copies NVIDIA's conventions, as the copies of redistrib_<X.Y.Z>.json in nixpkgs
# (pkgs/development/cuda-modules/cuda/manifests/redistrib_12.1.1.json) show them:
#   - the manifest is redistrib_<release>.json at the top: "release_date", then one object per
#     component with "name", "license", "version" and, per platform ("linux-x86_64"),
#     "relative_path", "sha256", "md5" and "size" (a string of digits);
#   - relative_path is <component>/linux-x86_64/<component>-linux-x86_64-<version>-archive.tar.xz;
#   - each archive holds one folder, <component>-linux-x86_64-<version>-archive/, with bin/,
#     include/, lib/, nvvm/ and LICENSE as NVIDIA's (the contents here are synthetic).
rel=12.1.1
mk_archive() { # component version file... (files are created with placeholder bytes)
  local comp=$1 ver=$2 top; shift 2
  top=$comp-linux-x86_64-$ver-archive
  mkdir -p "src/$top" "mirror/redist/$comp/linux-x86_64"
  for f in "$@"; do mkdir -p "src/$top/$(dirname "$f")"; printf '%s %s\n' "$comp" "$f" > "src/$top/$f"; done
  case " $* " in *" bin/nvcc "*) chmod 755 "src/$top/bin/nvcc";; esac
  tar -C src --owner=0 --group=0 -cJf "mirror/redist/$comp/linux-x86_64/$top.tar.xz" "$top"
}
mk_archive cuda_nvcc 12.1.105 LICENSE bin/nvcc bin/nvcc.profile bin/ptxas bin/cudafe++ bin/fatbinary bin/nvlink \
  bin/bin2c bin/crt/link.stub bin/crt/prelink.stub include/crt/host_config.h nvvm/bin/cicc nvvm/lib64/libnvvm.so \
  nvvm/libdevice/libdevice.10.bc
mk_archive cuda_cudart 12.1.105 LICENSE include/cuda_runtime.h lib/libcudart.so.12 lib/libcudart_static.a \
  lib/libcudadevrt.a lib/libculibos.a lib/stubs/libcuda.so
python3 - "$rel" mirror/redist <<'PY'
import hashlib, json, os, sys
rel, top = sys.argv[1], sys.argv[2]
names = {"cuda_nvcc": "CUDA NVCC", "cuda_cudart": "CUDA Runtime (cudart)"}
m = {"release_date": "2023-04-19"}
for comp, name in names.items():
    d = os.path.join(top, comp, "linux-x86_64")
    f = sorted(os.listdir(d))[0]
    b = open(os.path.join(d, f), "rb").read()
    m[comp] = {"name": name, "license": "CUDA Toolkit", "version": f.split("-")[3],
               "linux-x86_64": {"relative_path": f"{comp}/linux-x86_64/{f}",
                                "sha256": hashlib.sha256(b).hexdigest(),
                                "md5": hashlib.md5(b).hexdigest(), "size": str(len(b))}}
json.dump(m, open(os.path.join(top, f"redistrib_{rel}.json"), "w"), indent=4)
PY
manifest=mirror/redist/redistrib_$rel.json
nvcc_sha=$(jq -r '.cuda_nvcc["linux-x86_64"].sha256' "$manifest")
nvcc_size=$(jq -r '.cuda_nvcc["linux-x86_64"].size' "$manifest")
nvcc_path=$(jq -r '.cuda_nvcc["linux-x86_64"].relative_path' "$manifest")
rt_sha=$(jq -r '.cuda_cudart["linux-x86_64"].sha256' "$manifest")
rt_size=$(jq -r '.cuda_cudart["linux-x86_64"].size' "$manifest")
# CUDA 12.4's Debian packages: small fixtures on the local Debian mirror, as above.
deb124=pool/non-free/n/nvidia-cuda-toolkit/nvidia-cuda-dev_12.4.127~12.4.1-2_amd64.deb
head -c 200000 /dev/urandom > "mirror/debian/$deb124"
dev_sha=$(sha256sum "mirror/debian/$deb124" | cut -d' ' -f1)
dev_size=$(stat -c %s "mirror/debian/$deb124")
# The test knowledge base: generator/data with the replica's digests and sizes in place of the
# real archives' and packages' (same paths: the layout is NVIDIA's and Debian's).
mkdir kb && cp "$PCGEN_DATA"/*.yaml kb/
sed -i -e "s/0b85f7eee17788abbd170b0b493c74ce2e9fd5a9604461b99c2c378165e1083b/$nvcc_sha/; s/size: 44459684\$/size: $nvcc_size/" \
  -e "s/6096ec878c8c443258d39c6e9cf2decef127f8aa8da594fdc5a336d047ab6bd9/$rt_sha/; s/size: 984372\$/size: $rt_size/" \
  -e "s/cd5fe85aee38d108b315f408a688641478f2402622a10c677478eb7a6c4e5319/$sha/; s/size: 87240108\$/size: $size/" \
  -e "s/d846838f914a0176948d48a8bcade5d6dbcccb5c9374343f6475f5503f173ee0/$dev_sha/; s/size: 933853452\$/size: $dev_size/" kb/cuda.yaml
cat > redist.yaml <<'YAML'
repository: fetchtest/pytorch-cuda
base: debian-bookworm
python: "3.11"
torch: ["2.4.1", "2.6.0"]
cuda: ["12.1", "12.4"]
flavors: [runtime, devel]
exclude:
  - { torch: "2.6.0", cuda: "12.1" }
  - { torch: "2.4.1", cuda: "12.4" }
YAML
cat > redist.lock <<'JSON'
{"schema": 1, "generated_by": "test", "sets": [
 {"id": "torch-2.4.1-cu121-py3.11", "source": {"kind": "pypi"}, "wheels": []},
 {"id": "cuda-devel-12.1-py3.11", "source": {"kind": "pypi"}, "wheels": []},
 {"id": "torch-2.6.0-cu124-py3.11", "source": {"kind": "pypi"}, "wheels": []},
 {"id": "cuda-devel-12.4-py3.11", "source": {"kind": "pypi"}, "wheels": []}]}
JSON
export PCGEN_CUDA_REDIST="http://127.0.0.1:$port/redist/"
PCGEN_DATA=$work/kb "$PCGEN" plan --json redist.yaml >plan.json 2>plan.out
expect "plan --json names the 12.1 devel tag's nvcc: cuda_nvcc from the redist, with the manifest's sha256" jq -e --arg s "$nvcc_sha" \
  '[.tags[] | select(.tag == "2.4.1-cuda12.1-cudnn9-devel") | .components[] | select(.role == "nvcc" and .kind == "redist" and .name == "cuda_nvcc" and .sha256 == $s)] | length == 1' plan.json >/dev/null
PCGEN_DATA=$work/kb "$PCGEN" lock --matrix redist.yaml --lock redist.lock >rlock.out 2>&1; rc=$?
expect "lock with the redist exits 0 (got $rc: $(tail -n 3 rlock.out))" [ "$rc" -eq 0 ]
expect "lock pins cuda_nvcc at NVIDIA's relative_path, with the manifest's digest and size" jq -e --arg s "$nvcc_sha" \
  --arg p "$nvcc_path" --argjson n "$nvcc_size" '[.sets[] | select(.id == "cuda-devel-12.1-py3.11") | .wheels[]
  | select(.role == "nvcc" and .name == "cuda_nvcc" and .path == $p and .sha256 == $s and .size == $n)] | length == 1' redist.lock >/dev/null
expect "lock pins cuda_cudart too" jq -e --arg s "$rt_sha" '[.sets[].wheels[] | select(.name == "cuda_cudart" and .sha256 == $s)] | length == 1' redist.lock >/dev/null

PCGEN_DATA=$work/kb PCGEN_CACHE=$work/rcache "$PCGEN" fetch --matrix redist.yaml --lock redist.lock >rfetch.out 2>&1; rc=$?
expect "fetch from the redist replica exits 0 (got $rc: $(tail -n 3 rfetch.out))" [ "$rc" -eq 0 ]
expect "fetch names the redist without its trailing /" grep -qF "from http://127.0.0.1:$port/redist" rfetch.out
expect "the nvcc archive is in the cache under its digest" cmp -s "rcache/sha256/$nvcc_sha/$(basename "$nvcc_path")" "mirror/redist/$nvcc_path"
expect "the request went to NVIDIA's path under the redist" grep -q "GET /redist/$nvcc_path " server.log

# A tampered archive: refused, naming both digests; nothing cached under the pinned one.
printf 'x' >> "mirror/redist/$nvcc_path"
tampered=$(sha256sum "mirror/redist/$nvcc_path" | cut -d' ' -f1)
PCGEN_DATA=$work/kb PCGEN_CACHE=$work/tcache "$PCGEN" fetch --matrix redist.yaml --lock redist.lock >tampered.out 2>&1; rc=$?
expect "a tampered archive exits 3 (got $rc)" [ "$rc" -eq 3 ]
expect "the refusal names both digests" bash -c "grep -q 'sha256 $tampered' tampered.out && grep -q 'pins $nvcc_sha' tampered.out && grep -q refused tampered.out"
expect "the tampered archive is not in the cache" [ ! -e "tcache/sha256/$nvcc_sha" ]
expect "the refusal does not blame the torch source" bash -c "! grep -q PIP_INDEX_URL tampered.out"

# The redist down: one line naming it and its setting; the other tags are fetched.
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PCGEN_DATA=$work/kb PCGEN_CACHE=$work/dcache PCGEN_CUDA_REDIST="http://127.0.0.1:$closed/redist" \
  "$PCGEN" fetch --matrix redist.yaml --lock redist.lock >down.out 2>&1; rc=$?
# The tag is unavailable there, not a failure: make images goes on to build the others.
expect "the redist down exits 0: the devel tag is unavailable (got $rc)" [ "$rc" -eq 0 ]
expect "one line, for the 12.1 devel tag, naming the setting" \
  bash -c "[ \$(grep -c 'unavailable: ' down.out) = 1 ] && ! grep -q 'error' down.out && grep 'unavailable: ' down.out | grep -q '^2.4.1-cuda12.1-cudnn9-devel: unavailable: nvcc unavailable: .*PCGEN_CUDA_REDIST'"
expect "the other tags are fetched (3 present, 1 unavailable)" grep -q '^fetch: 3 tags present and verified, 0 failed, 0 skipped (no source), 1 unavailable' down.out
expect "CUDA 12.4's packages are in the cache" [ -e "dcache/sha256/$dev_sha/$(basename "$deb124")" ]

# --- wheels: ONE pip process per source, whatever the number of wheels -----------------------
# A wheelhouse of tiny wheels (py3-none-any: every platform pcgen asks for) and pip's own index
# (PIP_INDEX_URL: the http.server above, whose folder listings are PEP 503 pages) holding one
# more. python3 on PATH is a wrapper that logs each `pip download` and runs the real python3.
mkdir -p wh mirror/simple/pcgen-extra mirror/simple/nvidia-cuda-cccl-cu12 pybin
# (and, for the lock below, cuda.yaml's devel wheels of CUDA 12.4: nvcc's here, cccl's in pip's index)
python3 - <<'PY'
import zipfile
def wheel(out, name, version, tag="py3-none-any"):
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    with zipfile.ZipFile(f"{out}/{dist}-{version}-{tag}.whl", "w") as z:
        z.writestr(f"{dist}/__init__.py", "")
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n")
        z.writestr(f"{info}/RECORD", "")
for n in ("torch", "pcgen-a", "pcgen-b", "pcgen-c"):
    wheel("wh", n, "2.6.0" if n == "torch" else "1.0")
wheel("mirror/simple/pcgen-extra", "pcgen-extra", "1.0")
wheel("wh", "nvidia-cuda-nvcc-cu12", "12.4.131", "py3-none-manylinux2014_x86_64")
wheel("mirror/simple/nvidia-cuda-cccl-cu12", "nvidia-cuda-cccl-cu12", "12.4.127", "py3-none-manylinux2014_x86_64")
PY
realpy=$(command -v python3)
cat > pybin/python3 <<SH
#!/bin/sh
case "\$*" in *"-m pip download"*) echo "\$*" >> "$work/pip.log" ;; esac
exec "$realpy" "\$@"
SH
chmod 755 pybin/python3
cat matrix.yaml - > whmatrix.yaml <<YAML
sources:
  "12.4": { wheelhouse: "$work/wh" }
YAML
wheel_lock() { # wheel_lock OUT WHEEL...: a lock of the torch set from the wheelhouse pinning these files
  local out=$1 f; shift
  for f in "$@"; do
    jq -n --arg f "$(basename "$f")" --arg sha "$(sha256sum "$f" | cut -d' ' -f1)" --argjson size "$(stat -c %s "$f")" \
      '{name: ($f | split("-")[0] | gsub("_"; "-")), version: ($f | split("-")[1]), role: "torch", size: $size, file: $f, sha256: $sha}'
  done | jq -s --arg wh "$work/wh" '{schema: 1, generated_by: "test", sets: [{id: "torch-2.6.0-cu124-py3.11",
    source: {kind: "wheelhouse", where: $wh}, wheels: .}]}' > "$out"
}
wfetch() { # wfetch LOCK CACHE OUT: pcgen fetch through the wrapper, pip's index the local one
  : > pip.log
  PATH="$work/pybin:$PATH" PIP_INDEX_URL="http://127.0.0.1:$port/simple/" PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 PCGEN_CACHE="$work/$2" "$PCGEN" fetch --matrix whmatrix.yaml --lock "$1" 2.6.0-cuda12.4-cudnn9-runtime >"$3" 2>&1
}
wheel_lock wh.lock wh/*-py3-none-any.whl
wfetch wh.lock wcache wh.out; rc=$?
expect "fetch of 4 wheels from a wheelhouse exits 0 (got $rc: $(tail -n 3 wh.out))" [ "$rc" -eq 0 ]
expect "the 4 wheels come in ONE pip download (got $(wc -l < pip.log))" [ "$(wc -l < pip.log)" = 1 ]
expect "  ... asking for all 4 from the wheelhouse alone" bash -c \
  "grep -- '--no-index --find-links $work/wh ' pip.log | grep -c '==' | grep -qx 1 && [ \$(grep -o '[a-z-]*==[0-9.]*' pip.log | wc -l) = 4 ]"
expect "every wheel is in the cache under its digest" bash -c \
  'for f in wh/*-py3-none-any.whl; do cmp -s "$f" "wcache/sha256/$(sha256sum "$f" | cut -d" " -f1)/$(basename "$f")" || exit 1; done'
wfetch wh.lock wcache again.out
expect "a second fetch starts no pip" [ ! -s pip.log ]
# pcgen-extra is not in the wheelhouse: from pip's index, one more pip download for it alone.
wheel_lock extra.lock wh/*-py3-none-any.whl mirror/simple/pcgen-extra/*.whl
wfetch extra.lock xcache extra.out; rc=$?
expect "a wheel the wheelhouse lacks comes from pip's index (exit 0, got $rc: $(tail -n 3 extra.out))" [ "$rc" -eq 0 ]
expect "  ... said on stderr" grep -qF "fetch: pcgen-extra==1.0 is not at $work/wh: from pip's index" extra.out
expect "  ... pip's index was asked once, for that wheel alone" bash -c \
  "[ \$(grep -vc -- '--find-links' pip.log) = 1 ] && grep -v -- '--find-links' pip.log | grep -q ' pcgen-extra==1.0\$'"
expect "  ... the wheelhouse's 4 still in one download (after the run that named the missing one)" bash -c \
  "[ \$(grep -c -- '--find-links' pip.log) = 2 ] && [ \$(grep -- '--find-links' pip.log | tail -n 1 | grep -o '[a-z-]*==[0-9.]*' | wc -l) = 4 ]"
expect "  ... and it is in the cache" bash -c "ls xcache/sha256/*/pcgen_extra-1.0-py3-none-any.whl"
# torch must be the source's: never from pip's index.
mv wh/torch-2.6.0-py3-none-any.whl mirror/simple/pcgen-extra/
mkdir -p mirror/simple/torch && cp mirror/simple/pcgen-extra/torch-2.6.0-py3-none-any.whl mirror/simple/torch/
wheel_lock notorch.lock wh/*-py3-none-any.whl mirror/simple/torch/*.whl
wfetch notorch.lock ncache notorch.out; rc=$?
mv mirror/simple/pcgen-extra/torch-2.6.0-py3-none-any.whl wh/
expect "torch missing from the wheelhouse fails (exit 3, got $rc)" [ "$rc" -eq 3 ]
expect "  ... naming torch and the wheelhouse" grep -q "error: .* from $work/wh failed (exit 1): no wheel of torch==2.6.0" notorch.out
expect "  ... pip's index was never asked" bash -c "! grep -v -- '--find-links' pip.log | grep -q ."

# pcgen lock downloads through the same path: the devel set of CUDA 12.4 (cuda.yaml: nvcc and
# cccl wheels), nvcc's wheel in the wheelhouse, cccl's in pip's index only.
jq --arg wh "$work/wh" '.sets[0].wheels = [] | .sets[0].source = {kind: "wheelhouse", where: $wh}' wh.lock > dv.lock
: > pip.log
PATH="$work/pybin:$PATH" PIP_INDEX_URL="http://127.0.0.1:$port/simple/" PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
  PCGEN_CACHE="$work/lcache" "$PCGEN" lock --matrix whmatrix.yaml --lock dv.lock 2.6.0-cuda12.4-cudnn9-devel >dv.out 2>&1; rc=$?
expect "lock of the devel set from the wheelhouse and pip's index exits 0 (got $rc: $(tail -n 3 dv.out))" [ "$rc" -eq 0 ]
nvcc_whl=wh/nvidia_cuda_nvcc_cu12-12.4.131-py3-none-manylinux2014_x86_64.whl
cccl_whl=mirror/simple/nvidia-cuda-cccl-cu12/nvidia_cuda_cccl_cu12-12.4.127-py3-none-manylinux2014_x86_64.whl
expect "  ... both wheels pinned with their own sha256 and size, and in the cache" bash -c '
  for f in '"$nvcc_whl $cccl_whl"'; do sha=$(sha256sum "$f" | cut -d" " -f1)
    jq -e --arg f "$(basename "$f")" --arg s "$sha" --argjson n "$(stat -c %s "$f")" \
      "[.sets[].wheels[] | select(.file == \$f and .sha256 == \$s and .size == \$n and .role == \"devel\")] | length == 1" dv.lock >/dev/null \
      && cmp -s "$f" "lcache/sha256/$sha/$(basename "$f")" || exit 1; done'
expect "  ... cccl said to come from pip's index" grep -qF "lock: cuda-devel-12.4-py3.11: nvidia-cuda-cccl-cu12==12.4.127 is not at $work/wh: from pip's index" dv.out
expect "  ... pip's index asked once, for cccl alone; the wheelhouse for nvcc (after the run naming cccl)" bash -c \
  "[ \$(wc -l < pip.log) = 3 ] && [ \$(grep -vc -- '--find-links' pip.log) = 1 ] && grep -v -- '--find-links' pip.log | grep -q ' -r ' \
   && grep -- '--find-links' pip.log | tail -n 1 | grep -q -- '--no-index'"

grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' ./*.out && ko "sanitizer report in $(grep -lE 'Sanitizer|runtime error:' ./*.out)"
if [ "$failed" -eq 0 ] && [ -z "${KEEP:-}" ]; then cd / && rm -rf "$work"; else echo "kept $work"; fi
finish fetch
