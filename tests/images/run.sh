#!/usr/bin/env bash
# tests/images/run.sh PCGEN [TAG...]: check built images from the inside, in real containers.
# The plan is `PCGEN plan --json $MATRIX` (MATRIX: default matrix.yaml), which names the images.
# For each tag (default: every tag the plan has an image for in the engine; a tag named on the
# command line whose image is not in the engine fails, and so does a run that checks no image):
#   torch, CUDA and cuDNN versions printed by Python equal the tag's; pip check passes;
#   ldd finds every library of every ELF under the CUDA folder and torch/lib, except
#   libcuda.so.1 (the driver, mounted at run time) and the host libraries of the optional
#   plugins tests/images/optional-libs names (NVSHMEM's and cuFile's, dlopen()ed on demand); ENV and LABELs as in docs/building.md, "Templates and rendering".
# devel tags also: nvcc --version reports the tag's CUDA, nvcc compiles and links a .cu file,
#   a CMake project using find_package(Torch) configures, builds and runs a CPU matmul. These
#   three are skipped (with the reason) only for a CUDA whose plan has no nvcc layer (no source:
#   docs/nvcc.md); a tag whose plan has one and whose image lacks nvcc fails.
# Last line: "images: N passed, N failed".
set -u
PCGEN=${1:?usage: tests/images/run.sh PCGEN [TAG...]}; shift
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/suite.sh"
skipped=0

plan=$("$PCGEN" plan --json ${MATRIX:+"$MATRIX"}) || { echo "images: 0 passed, 1 failed"; exit 1; }
tags=("$@")
named=$#
if [ ${#tags[@]} -eq 0 ]; then
  mapfile -t tags < <(jq -r '.tags[].tag' <<<"$plan")
fi

for tag in "${tags[@]}"; do
  t=$(jq -c --arg t "$tag" '.tags[] | select(.tag == $t)' <<<"$plan")
  [ -n "$t" ] || { ko "$tag: not in the plan"; continue; }
  image=$(jq -r .image <<<"$t")
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    if [ "$named" -gt 0 ]; then ko "$tag: no image $image in the engine (pcgen build $tag first)"
    else skipped=$((skipped + 1)); echo "skip $tag: no image in the engine"; fi
    continue
  fi
  echo "$image"
  torch=$(jq -r .torch.version <<<"$t"); cuda=$(jq -r .cuda.version <<<"$t")
  cudnn=$(jq -r .cudnn.version <<<"$t"); flavor=$(jq -r .flavor <<<"$t")
  # cuDNN's version as torch reports it: 9.1.0.70 -> 90100 (cuDNN 9), 8.9.2.26 -> 8902 (cuDNN 8)
  want_cudnn=$(awk -F. '{ if ($1 >= 9) print $1*10000+$2*100+$3; else print $1*1000+$2*100+$3 }' <<<"$cudnn")
  expect "python: torch $torch, CUDA $cuda, cuDNN $want_cudnn" \
    docker run --rm "$image" python3 -c "
import torch, sys
got = (torch.__version__.split('+')[0], torch.version.cuda, torch.backends.cudnn.version())
want = ('$torch', '$cuda', $want_cudnn)
print('got', got, 'want', want)
sys.exit(0 if got == want else 1)"
  expect "pip check" docker run --rm "$image" python3 -m pip check
  # What users run first (issue 12): torch.compile on CPU (inductor needs g++, libgomp and
  # Python.h in the image), NumPy interop, and the toolchain's Python headers of the image's own
  # Python (libpython3.11-dev's version is libpython3.11-stdlib's).
  expect "torch.compile (inductor) on CPU equals eager" docker run --rm "$image" python3 -c "
import torch
f = torch.compile(lambda x: torch.sin(x) * 2 + 1)
x = torch.randn(8)
assert torch.allclose(f(x), torch.sin(x) * 2 + 1, atol=1e-5); print(f(x))"
  expect "NumPy: torch.randn(2).numpy()" docker run --rm "$image" python3 -W error::UserWarning -c "
import torch; print(torch.randn(2).numpy())"
  py_dev=$(jq -r '.components[] | select(.role == "toolchain" and (.name | test("^libpython3[.0-9]+-dev$"))) | .version' <<<"$t")
  expect "Python headers ${py_dev:-?} match the image's Python" docker run --rm "$image" bash -c \
    "v=\$(dpkg-query -W -f '\${Version}' libpython\$(python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])')-stdlib) \
     && echo \"python \$v, headers $py_dev\" && [ \"\$v\" = '$py_dev' ] && test -f /usr/include/python3.11/Python.h"
  site=$(jq -r .site_packages <<<"$t")
  # ldd in the container prints "FILE SONAME" per missing library; optional-libs passes the
  # driver and the named optional plugins' host libraries (its header says which and why).
  read -r -d '' ldd_list <<'SH' || true
n=0
for f in $(find "/usr/local/cuda-$1/lib" "$2/torch/lib" -name "*.so*" -type f); do
  n=$((n + 1))
  ldd "$f" 2>/dev/null | awk -v f="$f" '/not found/ { print f, $1 }'
done
echo "$n libraries checked" >&2
[ "$n" -gt 20 ]
SH
  expect "ldd: every library found but libcuda.so.1 and optional plugins' host libraries" bash -c \
    'set -o pipefail; docker run --rm "$1" bash -c "$2" _ "$3" "$4" | "$5"' \
    _ "$image" "$ldd_list" "$cuda" "$site" "$here/optional-libs"
  env=$(docker image inspect --format '{{json .Config.Env}}' "$image")
  labels=$(docker image inspect --format '{{json .Config.Labels}}' "$image")
  expect "ENV: CUDA_VERSION, NVIDIA_* and NVIDIA_REQUIRE_CUDA" bash -c '
    for want in "NVIDIA_VISIBLE_DEVICES=all" "NVIDIA_DRIVER_CAPABILITIES=compute,utility" \
                "NVIDIA_REQUIRE_CUDA='"$(jq -r .cuda.require <<<"$t")"'" "PYTORCH_VERSION='"$torch"'" \
                "CUDNN_VERSION='"$cudnn"'" "CUDA_HOME=/usr/local/cuda-'"$cuda"'"; do
      grep -qF "\"$want\"" <<<'"'$env'"' || { echo "missing ENV $want in $env"; exit 1; }
    done'
  expect "LABELs: OCI and component versions" bash -c '
    jq -e --arg tag "'"$tag"'" --arg torch "'"$torch"'" --arg cudnn "'"$cudnn"'" \
      ".[\"org.opencontainers.image.version\"] == \$tag and .[\"io.pytorch-cuda.torch\"] == \$torch
       and .[\"io.pytorch-cuda.cudnn\"] == \$cudnn" <<<'"'$labels'"''
  if [ "$flavor" = runtime ]; then
    # Certification proves it (issue 12): the same image without g++, or without Python.h, fails
    # the verifier's python-compile check, by name. Built FROM the image, removed afterwards.
    # Each: what is removed, the cause the check's detail must name, how.
    for broken in "g++|No working C\+\+ compiler found|rm -f /usr/bin/g++ /usr/bin/c++ /usr/bin/g++-12 /usr/bin/x86_64-linux-gnu-g++-12" \
                  "Python.h|fatal error: Python.h: No such file or directory|rm -f /usr/include/python3*/Python.h"; do
      what=${broken%%|*} cmd=${broken##*|} cause=${broken#*|}; cause=${cause%%|*}
      bimg=pytorch-cuda-test/broken:$$
      if printf 'FROM %s\nRUN %s\n' "$image" "$cmd" | docker build -q -t "$bimg" - >/dev/null 2>&1; then
        expect "certify fails python-compile without $what" bash -c \
          "out=\$(docker run --rm '$bimg' pytorch-cuda-verify --only python-compile); rc=\$?; echo \"\$out\" | grep python-compile;
           [ \$rc -eq 1 ] && echo \"\$out\" | grep -qE '^python-compile +\| FAIL +\| .*$cause'"
        docker rmi -f "$bimg" >/dev/null 2>&1
      else
        ko "cannot build the image without $what"
      fi
    done
  fi
  if [ "$flavor" = devel ]; then
    expect "devel: CUDA headers, ptxas and libdevice under /usr/local/cuda-$cuda" docker run --rm "$image" bash -c \
      "test -f /usr/local/cuda-$cuda/include/cuda_runtime.h && test -f /usr/local/cuda-$cuda/include/cublas_v2.h \
       && test -f /usr/local/cuda-$cuda/include/cudnn.h && /usr/local/cuda-$cuda/bin/ptxas --version | grep -q 'release $cuda' \
       && ls /usr/local/cuda-$cuda/nvvm/libdevice/libdevice.10.bc && test -L /usr/local/cuda-$cuda/lib/libcudart.so"
    has_nvcc_layer=$(jq -r '[.devel_layers[] | select(.role == "nvcc")] | length' <<<"$t")
    if [ "$has_nvcc_layer" -gt 0 ] || docker run --rm "$image" sh -c 'command -v nvcc' >/dev/null 2>&1; then
      # release X.Y is the tag's CUDA; VX.Y.Z the build the image's io.pytorch-cuda.nvcc label names.
      nvcc_label=$(jq -r '.["io.pytorch-cuda.nvcc"] // ""' <<<"$labels")
      expect "nvcc --version reports CUDA $cuda${nvcc_label:+ (V$nvcc_label)}" bash -c \
        "v=\$(docker run --rm '$image' nvcc --version) && echo \"\$v\" && grep -q 'release $cuda,' <<<\"\$v\" && grep -q 'V$nvcc_label' <<<\"\$v\""
      expect "nvcc compiles and links a .cu file" \
        docker run --rm -v "$here:/src:ro" "$image" bash -c 'cd /tmp && nvcc -o saxpy /src/saxpy.cu && ./saxpy'
      expect "CMake find_package(Torch) builds and runs a CPU matmul" \
        docker run --rm -v "$here/cmake-torch:/src:ro" "$image" bash -c \
          'cmake -S /src -B /tmp/b -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build /tmp/b -j2 >/dev/null && /tmp/b/matmul'
    else
      # No nvcc source for this CUDA: no nvidia-cuda-nvcc-cu1x wheel carries the nvcc driver
      # (only ptxas, nvvm and headers) and generator/data/cuda.yaml names no Debian package.
      skipped=$((skipped + 3))
      echo "  SKIP nvcc --version, nvcc compile, CMake find_package(Torch): no nvcc source for CUDA $cuda (docs/nvcc.md)"
    fi
  fi
done
# Nothing checked is not a pass: "0 passed, 0 failed" means no image was there to check.
[ $((passed + failed)) -gt 0 ] || ko "no image checked (no tag of the plan has an image in the engine)"
echo "images: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
