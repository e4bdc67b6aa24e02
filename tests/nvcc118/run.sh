#!/usr/bin/env bash
# tests/nvcc118/run.sh PCGEN: CUDA 11.8's nvcc for real, in a small test image built by pcgen
# (no torch): the CUDA 11.8 layers from PyPI's cu11 wheels (nvidia-cuda-runtime-cu11 and
# nvidia-cuda-nvcc-cu11 11.8.89), plus the nvcc layer cuda.yaml names for 11.8: nvcc from
# Debian bookworm's nvidia-cuda-toolkit/-dev 11.8.89 and GCC 11 from bookworm's gcc-11/g++-11,
# made nvcc's host compiler by the devel Dockerfile (NVCC_PREPEND_FLAGS=-ccbin, CUDAHOSTCXX).
# In the image: nvcc reports V11.8.89, compiles and links tests/nvcc118/saxpy.cu (a kernel and
# runtime calls) and the binary runs; without a GPU it reports no device and exits 3, as
# saxpy.cu says. Without the host compiler setting nvcc refuses bookworm's GCC 12: checked too.
# Needs the Docker engine and the network (PyPI, deb.debian.org; ~0.9 GB of packages, cached in
# the pcgen cache). Removes the images it built. Last line: "nvcc118: N passed, N failed".
set -u
PCGEN=$(realpath "${1:?usage: tests/nvcc118/run.sh PCGEN}")
top=$(cd "$(dirname "$0")/../.." && pwd)
# pcgen build reads images/<tag>/Dockerfile and bin/pytorch-cuda-verify from the project root.
cd "$top"
export PCGEN_DATA=${PCGEN_DATA:-$top/generator/data}
. "$top/tests/lib/suite.sh"

work=$(mktemp -d /tmp/pcgen-nvcc118.XXXXXX)
repo=pcgen-nvcc118/pytorch-cuda
runtime=2.4.1-cuda11.8-cudnn9-runtime devel=2.4.1-cuda11.8-cudnn9-devel
cleanup() { docker rmi -f "$repo:$devel" "$repo:$runtime" >/dev/null 2>&1; }
[ -x bin/pytorch-cuda-verify ] || make -s bin/pytorch-cuda-verify

# The cu11 wheels, from PyPI, into a wheelhouse that is the 11.8 tags' source.
python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 \
  --implementation cp -d "$work/wh" nvidia-cuda-runtime-cu11==11.8.89 nvidia-cuda-nvcc-cu11==11.8.89 >"$work/pip.out" 2>&1 \
  || { cat "$work/pip.out"; echo "nvcc118: 0 passed, 1 failed"; exit 1; }
cat > "$work/matrix.yaml" <<YAML
repository: $repo
base: debian-bookworm
python: "3.11"
torch: ["2.4.1"]
cuda: ["11.8"]
flavors: [runtime, devel]
sources:
  "11.8": { wheelhouse: "$work/wh" }
YAML
# The torch set holds the CUDA runtime wheel only (no torch: the image tests nvcc, not torch),
# the devel set nvcc's wheel; pcgen lock adds what cuda.yaml pins for 11.8's nvcc.
python3 - "$work" > "$work/matrix.lock" <<'PY'
import hashlib, json, os, sys
work = sys.argv[1]
def wheel(prefix, role):
    f = next(n for n in os.listdir(f"{work}/wh") if n.startswith(prefix))
    b = open(f"{work}/wh/{f}", "rb").read()
    name, version = f.split("-")[0].replace("_", "-"), f.split("-")[1]
    return {"name": name, "version": version, "file": f, "sha256": hashlib.sha256(b).hexdigest(),
            "size": len(b), "role": role}
src = {"kind": "wheelhouse", "where": f"{work}/wh"}
print(json.dumps({"schema": 1, "generated_by": "tests/nvcc118", "sets": [
    {"id": "torch-2.4.1-cu118-py3.11", "source": src, "wheels": [wheel("nvidia_cuda_runtime_cu11", "cuda")]},
    {"id": "cuda-devel-11.8-py3.11", "source": src, "wheels": [wheel("nvidia_cuda_nvcc_cu11", "devel")]}]}, indent=1))
PY
"$PCGEN" lock --matrix "$work/matrix.yaml" --lock "$work/matrix.lock" >"$work/lock.out" 2>&1
expect "lock pins nvcc 11.8's Debian packages and GCC 11's" jq -e '[.sets[].wheels[] | select(.role == "nvcc") | .name]
  | index("nvidia-cuda-toolkit") and index("nvidia-cuda-dev") and index("g++-11") and index("gcc-11")' "$work/matrix.lock"
t0=$(date +%s)
"$PCGEN" build --matrix "$work/matrix.yaml" --lock "$work/matrix.lock" "$runtime" "$devel" >"$work/build.out" 2>&1; rc=$?
echo "  build: $(( $(date +%s) - t0 ))s"
expect "pcgen build of the 11.8 runtime and devel images exits 0 (got $rc)" bash -c "[ $rc -eq 0 ] || { tail -n 30 '$work/build.out'; exit 1; }"
grep -E '^layer: nvcc-' "$work/build.out" | sed 's/^/  /'

img=$repo:$devel
run() { docker run --rm -v "$top/tests/nvcc118:/src:ro" "$img" bash -c "$1"; }
expect "nvcc --version reports release 11.8, V11.8.89" bash -c "$(declare -f run); img=$img top=$top; run 'nvcc --version' | tee /dev/stderr | grep -q 'release 11.8, V11.8.89'"
expect "the base's default GCC is newer than nvcc 11.8 accepts (gcc 12)" bash -c "$(declare -f run); img=$img top=$top; run 'gcc -dumpversion' | grep -qx 12"
expect "nvcc compiles and links saxpy.cu with g++-11, and it runs: no device, exit 3" bash -c "$(declare -f run); img=$img top=$top
  out=\$(run 'cd /tmp && nvcc -o saxpy /src/saxpy.cu && ./saxpy; echo exit=\$?'); echo \"\$out\"
  grep -q '^cudart 11080$' <<<\"\$out\" && grep -q '^no CUDA device: ' <<<\"\$out\" && grep -q '^exit=3$' <<<\"\$out\""
expect "without the host compiler setting nvcc refuses GCC 12 (the setting is what makes it work)" bash -c "$(declare -f run); img=$img top=$top
  out=\$(run 'cd /tmp && NVCC_PREPEND_FLAGS= nvcc -o saxpy /src/saxpy.cu 2>&1; echo exit=\$?'); echo \"\$out\"
  grep -q 'unsupported GNU version' <<<\"\$out\" && ! grep -q '^exit=0$' <<<\"\$out\""
expect "the image says which host compiler: CUDAHOSTCXX=/usr/bin/g++-11" bash -c "docker image inspect --format '{{json .Config.Env}}' $img | grep -q 'CUDAHOSTCXX=/usr/bin/g++-11'"

if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "kept $work"; fi
finish nvcc118
