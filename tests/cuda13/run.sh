#!/usr/bin/env bash
# tests/cuda13/run.sh PCGEN: CUDA 13's nvcc from PyPI for real, in a small test image built by
# pcgen (no torch: issue 14 allows "the CUDA 13 layers alone plus nvcc" where the disk is short;
# the full image is examples/latest.yaml, docs/nvcc.md). Layers: the toolchain (the base's GCC,
# nvcc's host compiler), the CUDA 13 runtime layer from PyPI's nvidia-cuda-runtime 13.0.96 (the
# version cuda-toolkit 13.0.2 pins), CMake from the buildtools layer, and the nvcc layer cuda.yaml
# names for 13.0: the nvidia-cuda-nvcc, -crt, nvidia-nvvm and nvidia-cuda-cccl wheels, pinned in
# cuda.yaml, locked and fetched by pcgen, unpacked under /usr/local/cuda-13.0.
# In the image: nvcc reports V13.0.88; saxpy.cu (tests/nvcc118, a kernel and runtime calls) is
# compiled, linked (static cudart, nvcc's default; then the image's shared libcudart.so.13) and
# run: without a GPU it reports no device and exits 3; Thrust/CUB from include/cccl compile;
# CMake configures and builds a CUDA project that finds the toolkit. Needs the Docker engine and
# PyPI (~110 MB of wheels, cached in the pcgen cache). Removes the images it built.
# Last line: "cuda13: N passed, N failed".
set -u
PCGEN=$(realpath "${1:?usage: tests/cuda13/run.sh PCGEN}")
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export PCGEN_DATA=${PCGEN_DATA:-$top/generator/data}
. "$top/tests/lib/suite.sh"

work=$(mktemp -d /tmp/pcgen-cuda13.XXXXXX)
repo=pcgen-cuda13/pytorch-cuda
runtime=2.14.1-cuda13.0-cudnn9-runtime devel=2.14.1-cuda13.0-cudnn9-devel
cleanup() { docker rmi -f "$repo:$devel" "$repo:$runtime" >/dev/null 2>&1; }
[ -x bin/pytorch-cuda-verify ] || make -s bin/pytorch-cuda-verify

# The CUDA 13 runtime wheel, from PyPI, into a wheelhouse that is the 13.0 tags' source. nvcc's
# wheels are not put there: pcgen lock pins them from cuda.yaml and fetch gets them from PyPI.
python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 \
  --implementation cp -d "$work/wh" nvidia-cuda-runtime==13.0.96 >"$work/pip.out" 2>&1 \
  || { cat "$work/pip.out"; echo "cuda13: 0 passed, 1 failed"; exit 1; }
cat > "$work/matrix.yaml" <<YAML
repository: $repo
base: debian-bookworm
python: "3.11"
torch: ["2.14.1"]
cuda: ["13.0"]
flavors: [runtime, devel]
sources:
  "13.0": { wheelhouse: "$work/wh" }
YAML
# The torch set holds the CUDA runtime wheel only (no torch: the image tests nvcc, not torch);
# the devel set is empty (CUDA 13 has no ptxas/nvvm devel wheels apart from nvcc's): pcgen lock
# adds what cuda.yaml pins for 13.0's nvcc.
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
print(json.dumps({"schema": 1, "generated_by": "tests/cuda13", "sets": [
    {"id": "torch-2.14.1-cu130-py3.11", "source": src, "wheels": [wheel("nvidia_cuda_runtime", "cuda")]},
    {"id": "cuda-devel-13.0-py3.11", "source": src, "wheels": []}]}, indent=1))
PY
"$PCGEN" lock --matrix "$work/matrix.yaml" --lock "$work/matrix.lock" >"$work/lock.out" 2>&1
expect "lock pins nvcc 13.0's four wheels from cuda.yaml (file, sha256, size)" jq -e '[.sets[].wheels[] | select(.role == "nvcc")]
  | (map(.name) | sort) == ["nvidia-cuda-cccl", "nvidia-cuda-crt", "nvidia-cuda-nvcc", "nvidia-nvvm"]
    and (map(.file) | index("nvidia_cuda_nvcc-13.0.88-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"))
    and all(.sha256 | length == 64)' "$work/matrix.lock"
# pcgen build reads images/<tag>/Dockerfile, bin/pytorch-cuda-verify and writes build/ and
# results/ in the folder it runs in: a project folder of its own, so the checkout's images/
# (matrix.yaml's tags, checked by render --check) is left alone.
mkdir -p "$work/proj" && ln -s "$top/bin" "$work/proj/bin"
(cd "$work/proj" && "$PCGEN" render --templates "$top/templates" --out images "$work/matrix.yaml") >"$work/render.out" 2>&1
expect "render writes the 13.0 Dockerfiles: the devel one adds the nvcc layer from PyPI's wheels" \
  grep -q "nvcc 13.0.88 from PyPI's nvidia-cuda-nvcc 13.0.88, nvidia-cuda-crt 13.0.88, nvidia-nvvm 13.0.88 and nvidia-cuda-cccl 13.0.85" "$work/proj/images/$devel/Dockerfile"
t0=$(date +%s)
cd "$work/proj"
"$PCGEN" build --matrix "$work/matrix.yaml" --lock "$work/matrix.lock" "$runtime" "$devel" >"$work/build.out" 2>&1; rc=$?
echo "  build: $(( $(date +%s) - t0 ))s"
expect "pcgen build of the 13.0 runtime and devel images exits 0 (got $rc)" bash -c "[ $rc -eq 0 ] || { tail -n 30 '$work/build.out'; exit 1; }"
grep -E '^(fetch: nvidia_|layer: nvcc-)' "$work/build.out" | sed 's/^/  /'
cd "$top"
docker image ls --format '  {{.Repository}}:{{.Tag}} {{.Size}}' "$repo" 2>/dev/null

img=$repo:$devel
run() { docker run --rm -v "$top/tests:/src:ro" "$img" bash -c "$1"; }
check() { # check WHAT SCRIPT GREP...: run SCRIPT in the image; every GREP must match a line of its output
  local what=$1 script=$2; shift 2
  local out; out=$(run "$script" 2>&1); echo "$out" >"$work/check.out"
  local pat; for pat in "$@"; do grep -qE -- "$pat" <<<"$out" || { ko "$what"; echo "       missing: $pat"; sed 's/^/       /' "$work/check.out" | tail -n 15; return; }; done
  ok "$what"
  grep -E '^(cudart|no CUDA device|cub|-- CUDAToolkit|Cuda compilation tools)' <<<"$out" | sed 's/^/       /'
}
check "nvcc --version reports release 13.0, V13.0.88" 'nvcc --version' 'release 13\.0, V13\.0\.88'
check "nvcc is the wheel's, under /usr/local/cuda-13.0 with its profile, cicc and the crt headers" \
  'command -v nvcc; ls /usr/local/cuda-13.0/nvvm/bin/cicc /usr/local/cuda-13.0/include/crt/host_config.h /usr/local/cuda-13.0/lib64/libcudart_static.a; grep -c cccl /usr/local/cuda-13.0/bin/nvcc.profile' \
  '^/usr/local/cuda-13\.0/bin/nvcc$' 'nvvm/bin/cicc$' 'crt/host_config\.h$' 'lib64/libcudart_static\.a$' '^1$'
check "nvcc compiles and links saxpy.cu (static cudart), and it runs: no device, exit 3" \
  'cd /tmp && nvcc -o saxpy /src/nvcc118/saxpy.cu && ./saxpy; echo exit=$?' '^cudart 13000$' '^no CUDA device: ' '^exit=3$'
check "nvcc -cudart shared links the image's libcudart.so.13 (runtime layer), and it runs: exit 3" \
  'cd /tmp && nvcc -cudart shared -o saxpy /src/nvcc118/saxpy.cu && ldd saxpy && ./saxpy; echo exit=$?' \
  'libcudart\.so\.13 => /usr/local/cuda-13\.0/lib/libcudart\.so\.13' '^no CUDA device: ' '^exit=3$'
check "nvcc -rdc=true for sm_75 and sm_120 (separate compilation: cicc, ptxas, fatbinary, a device link by nvlink), and it runs: exit 3" \
  'cd /tmp && nvcc -rdc=true -gencode arch=compute_75,code=sm_75 -gencode arch=compute_120,code=sm_120 -o rdc /src/nvcc118/saxpy.cu && ./rdc; echo exit=$?' \
  '^exit=3$'
check "Thrust and CUB from the cccl wheel (include/cccl) compile, link and run: exit 3" \
  'cd /tmp && nvcc -o sum /src/cuda13/thrust_sum.cu && ./sum; echo exit=$?' '^cub [0-9]+$' '^exit=3$'
check "CMake builds a CUDA project with the image's nvcc (FindCUDAToolkit, shared cudart), and it runs: exit 3" \
  'cmake -S /src/cuda13/cmake -B /tmp/b -DCMAKE_CUDA_ARCHITECTURES=75 && cmake --build /tmp/b && ldd /tmp/b/saxpy && /tmp/b/saxpy; echo exit=$?' \
  'CUDAToolkit 13\.0\.88 in /usr/local/cuda-13\.0/' 'libcudart\.so\.13 => /usr/local/cuda-13\.0/lib/' '^exit=3$'

if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "kept $work"; fi
finish cuda13
