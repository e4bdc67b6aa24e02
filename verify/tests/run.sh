#!/usr/bin/env bash
# verify/tests/run.sh BINARY: end-to-end tests of pytorch-cuda-verify.
#
# Driver verdicts run against the fake libcuda.so.1 / libnvidia-ml.so.1 (tests/fakes, built
# by `make build/fakes/libcuda.so.1 build/fakes/libnvidia-ml.so.1`). Everything else runs
# against REAL NVIDIA libraries from the nvidia-*-cu12 and torch wheels, unpacked into a
# temporary root laid out like an image (/usr/local/cuda-12.4/lib). The small wheels
# (cudart, NVRTC) are downloaded when missing; the big ones (cuBLAS ~360 MB, cuDNN ~660 MB,
# torch ~770 MB) are used when they are in the cache, and their cases say SKIP otherwise.
# Each case runs in its own folder under a temporary directory, kept when the case fails.
#
# Environment: PYTORCH_CUDA_WHEELS (default /var/cache/pytorch-cuda/wheels) and
# PYTORCH_CUDA_UNPACKED (default: unpacked/ beside it) for the caches; VERIFY_NO_DOWNLOAD=1
# to never call pip; VERIFY_DOWNLOAD_ALL=1 to fetch the big wheels too (~1.8 GB, once).
set -u

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: verify/tests/run.sh PATH-TO-pytorch-cuda-verify" >&2
  exit 2
fi
BIN=$(realpath "$1")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
FAKES=$REPO/build/fakes
WHEELS=${PYTORCH_CUDA_WHEELS:-/var/cache/pytorch-cuda/wheels}
UNPACKED=${PYTORCH_CUDA_UNPACKED:-$(dirname "$WHEELS")/unpacked}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/verify-tests.XXXXXX")
PASS=0 FAIL=0 SKIP=0

# Nothing from the caller's environment may steer the verifier or the fakes.
unset LD_LIBRARY_PATH PYTORCH_CUDA_IMAGE_ENV PYTORCH_CUDA_IMAGE_ID FAKE_CUDA_DRIVER_VERSION \
  FAKE_NVIDIA_DRIVER FAKE_CUDA_DEVICES FAKE_CUDA_INIT_ERROR FAKE_CUDA_LOAD_ERROR \
  FAKE_CUDA_WRONG_RESULT
# Real NVIDIA libraries keep allocations alive until exit by design, which LeakSanitizer
# reports as leaks: cases that load them run with REAL_ASAN; the others keep leak checks on.
REAL_ASAN=detect_leaks=0

for f in libcuda.so.1 libnvidia-ml.so.1; do
  if [ ! -e "$FAKES/$f" ]; then
    echo "verify: $FAKES/$f is missing: make build/fakes/libcuda.so.1 build/fakes/libnvidia-ml.so.1" >&2
    exit 2
  fi
done

# ---- wheels and the image-like root ----

# The cached wheel NAME==VERSION (pip's file name); downloaded when missing if "small".
wheel() { # NAME VERSION small|big
  local file=${1//-/_}-$2-
  local found
  found=$(ls "$WHEELS"/"$file"*.whl 2>/dev/null | head -n1)
  if [ -z "$found" ] && { [ "$3" = small ] || [ -n "${VERIFY_DOWNLOAD_ALL:-}" ]; } \
    && [ -z "${VERIFY_NO_DOWNLOAD:-}" ]; then
    mkdir -p "$WHEELS"
    python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
      --python-version 3.11 -d "$WHEELS" "$1==$2" >&2 || return 1
    found=$(ls "$WHEELS"/"$file"*.whl 2>/dev/null | head -n1)
  fi
  [ -n "$found" ] && echo "$found"
}

# Unpack the members of WHEEL under PREFIX once into the cache; prints the folder.
unpack() { # WHEEL PREFIX...
  local w=$1 dest
  shift
  dest=$UNPACKED/$(basename "$w" .whl)
  if [ ! -e "$dest/.done" ]; then
    mkdir -p "$UNPACKED"
    rm -rf "$dest.tmp.$$"
    python3 - "$w" "$dest.tmp.$$" "$@" <<'EOF' || return 1
import sys, zipfile
wheel, dest, prefixes = sys.argv[1], sys.argv[2], tuple(sys.argv[3:])
with zipfile.ZipFile(wheel) as z:
    z.extractall(dest, [m for m in z.namelist() if m.startswith(prefixes)])
EOF
    touch "$dest.tmp.$$/.done"
    rm -rf "$dest"
    mv "$dest.tmp.$$" "$dest"
  fi
  echo "$dest"
}

CUDART='' CUDART121='' NVRTC='' CUBLAS='' CUDNN='' CUPTI='' TORCH=''
prepare() {
  local w
  w=$(wheel nvidia-cuda-runtime-cu12 12.4.127 small) && CUDART=$(unpack "$w" nvidia/)
  w=$(wheel nvidia-cuda-nvrtc-cu12 12.4.127 small) && NVRTC=$(unpack "$w" nvidia/)
  w=$(wheel nvidia-cuda-runtime-cu12 12.1.105 small) && CUDART121=$(unpack "$w" nvidia/)
  w=$(wheel nvidia-cublas-cu12 12.4.5.8 big) && CUBLAS=$(unpack "$w" nvidia/)
  w=$(wheel nvidia-cudnn-cu12 9.1.0.70 big) && CUDNN=$(unpack "$w" nvidia/)
  # libtorch_cpu.so of the cu124 wheel needs libcudart.so.12 and libcupti.so.12
  if w=$(wheel torch 2.6.0 big); then
    TORCH=$(unpack "$w" torch/lib/ torch/version.py)
    w=$(wheel nvidia-cuda-cupti-cu12 12.4.127 small) && CUPTI=$(unpack "$w" nvidia/)
  fi
}

# An image-like root in DIR: /usr/local/cuda-12.4/lib holds links to the real libraries of
# the components named; torch/lib holds links to torch's, with a copy of its version.py.
mkroot() { # DIR COMPONENT...
  local dir=$1 lib=$1/usr/local/cuda-12.4/lib c src
  shift
  mkdir -p "$lib"
  for c in "$@"; do
    case $c in
      cudart) src=$CUDART ;; nvrtc) src=$NVRTC ;; cublas) src=$CUBLAS ;;
      cudnn) src=$CUDNN ;; cupti) src=$CUPTI ;;
      torch)
        mkdir -p "$dir/torch/lib"
        ln -s "$TORCH"/torch/lib/* "$dir/torch/lib/"
        cp "$TORCH/torch/version.py" "$dir/torch/version.py"
        continue ;;
    esac
    ln -sf "$src"/nvidia/*/lib/*.so* "$lib/"
  done
}

# DIR/image.env for the torch 2.6.0 cu124 image, with KEY=VALUE overrides.
write_env() { # DIR [KEY=VALUE...]
  local dir=$1 kv
  shift
  {
    echo "# written by verify/tests/run.sh"
    echo "PC_TAG=2.6.0-cuda12.4-cudnn9-runtime"
    echo "PC_FLAVOR=runtime"
    echo "PC_TORCH=2.6.0"
    echo "PC_CUDA=12.4"
    echo "PC_CUDA_FULL=12.4.127"
    echo "PC_CUDNN=9.1.0.70"
    echo "PC_CUBLAS=12.4.5.8"
    echo "PC_MIN_DRIVER=550.54.14"
    echo "PC_COMPAT_FLOOR=525.60.13"
    echo "PC_ARCHS=5.0;6.0;7.0;7.5;8.0;8.6;9.0"
    echo "PC_CUDA_HOME=$dir/usr/local/cuda-12.4"
    echo "PC_TORCH_LIB=$dir/torch/lib"
    echo "PC_PYTHON="
  } >"$dir/image.env.base"
  cp "$dir/image.env.base" "$dir/image.env"
  for kv in "$@"; do
    if grep -q "^${kv%%=*}=" "$dir/image.env"; then
      grep -v "^${kv%%=*}=" "$dir/image.env" >"$dir/image.env.tmp"
      mv "$dir/image.env.tmp" "$dir/image.env"
    fi
    echo "$kv" >>"$dir/image.env"
  done
}

# ---- cases and assertions ----

CASE='' DIR=''
begin() { # NAME
  CASE=$1
  DIR=$TMP/$1
  mkdir -p "$DIR"
  : >"$DIR/failures"
}

skip_case() { # NAME REASON
  echo "SKIP $1: $2"
  SKIP=$((SKIP + 1))
}

end() {
  if [ -s "$DIR/failures" ]; then
    echo "not ok $CASE (kept in $DIR)"
    sed 's/^/    /' "$DIR/failures"
    FAIL=$((FAIL + 1))
  else
    echo "ok $CASE"
    PASS=$((PASS + 1))
    rm -rf "$DIR"
  fi
}

# Run the verifier in the case's folder: VAR=VALUE... -- ARGS...
v() {
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    envs+=("$1")
    shift
  done
  [ $# -gt 0 ] && shift
  # The image's SBOM (sbom.c): a small valid one naming image.env's tag, unless the case wrote one.
  if [ ! -e "$DIR/sbom.spdx.json" ] && [ -e "$DIR/image.env" ]; then
    printf '{\n  "SPDXID": "SPDXRef-DOCUMENT",\n  "name": "myrepo/pytorch-cuda:%s",\n  "packages": [{"SPDXID": "SPDXRef-image", "name": "x\\"y", "filesAnalyzed": false}],\n  "spdxVersion": "SPDX-2.3"\n}\n' \
      "$(sed -n 's/^PC_TAG=//p' "$DIR/image.env" | tail -n 1)" >"$DIR/sbom.spdx.json"
  fi
  (cd "$DIR" && env PYTORCH_CUDA_IMAGE_ENV="$DIR/image.env" PYTORCH_CUDA_SBOM="$DIR/sbom.spdx.json" "${envs[@]}" "$BIN" "$@" \
    >"$DIR/out" 2>"$DIR/err")
  echo $? >"$DIR/rc"
}

flunk() { echo "$*" >>"$DIR/failures"; }

expect_rc() {
  local rc
  rc=$(cat "$DIR/rc")
  [ "$rc" = "$1" ] || flunk "exit code $rc, expected $1; stdout: $(tail -n 12 "$DIR/out"); stderr: $(tail -n 5 "$DIR/err")"
}

# The table row of CHECK has STATUS and its detail matches the extended regex PATTERN.
expect_row() { # CHECK STATUS [PATTERN]
  local row
  row=$(grep -E "^$1 +\| " "$DIR/out")
  if ! printf '%s\n' "$row" | grep -qE "^$1 +\| $2 +\| "; then
    flunk "row $1: expected $2, got: ${row:-nothing}"
  elif [ -n "${3:-}" ] && ! printf '%s\n' "$row" | grep -qE -- "$3"; then
    flunk "row $1: detail does not match /$3/: $row"
  fi
}

expect_out() { grep -qE -- "$1" "$DIR/out" || flunk "stdout lacks /$1/: $(head -c 600 "$DIR/out")"; }
expect_err() { grep -qE -- "$1" "$DIR/err" || flunk "stderr lacks /$1/: $(head -c 600 "$DIR/err")"; }

# Exactly the checks named fail; every other check passes or skips.
expect_only_failing() { # CHECK...
  local failing
  local want=''
  failing=$(grep -E '^[a-z-]+ +\| FAIL' "$DIR/out" | awk '{print $1}' | sort | tr '\n' ' ')
  [ $# -eq 0 ] || want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  [ "$failing" = "$want" ] \
    || flunk "failing checks: '${failing}', expected '$*'"
}

# A JSON assertion: python3 evaluates EXPR with the certificate as c.
expect_json() { # EXPR
  python3 - "$DIR/out" "$1" <<'EOF' || flunk "certificate: $1 does not hold"
import json, sys
c = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}

FAKE=LD_LIBRARY_PATH=$FAKES

# ---- usage ----

begin usage-help
v -- --help
expect_rc 0
expect_out 'exit codes'
expect_out '4  the driver is too old'
end

begin usage-version
v -- --version
expect_rc 0
expect_out '^pytorch-cuda-verify [0-9]+\.[0-9]+\.[0-9]+'
end

begin usage-bad-option
write_env "$DIR"
v -- --frobnicate
expect_rc 2
expect_err "unknown option '--frobnicate'"
end

begin usage-bad-only
write_env "$DIR"
v -- --only driver,cudaa
expect_rc 2
expect_err "unknown check 'cudaa'"
end

begin usage-missing-env
v PYTORCH_CUDA_IMAGE_ENV="$DIR/nowhere.env" -- --only driver
expect_rc 2
expect_err "cannot read image metadata '$DIR/nowhere.env'"
end

begin usage-invalid-env
write_env "$DIR" PC_CUDA=12
v -- --only driver
expect_rc 2
expect_err "image.env:14: PC_CUDA: '12' is not MAJOR.MINOR"
write_env "$DIR" 'PC_TORCH="2.6.0"'
v -- --only driver
expect_rc 2
expect_err 'image.env:14: PC_TORCH: values take no quotes'
write_env "$DIR" PC_ARCHS='8.0;Hopper'
v -- --only driver
expect_rc 2
expect_err "PC_ARCHS: 'Hopper' is not an architecture"
write_env "$DIR" PC_TROCH=2.6.0
v -- --only driver
expect_rc 2
expect_err "image.env:15: unknown key 'PC_TROCH'"
write_env "$DIR"
echo PC_TAG=again >>"$DIR/image.env"
v -- --only driver
expect_rc 2
expect_err 'PC_TAG is set twice \(first on line 2\)'
grep -v '^PC_CUBLAS=' "$DIR/image.env.base" >"$DIR/image.env"
v -- --only driver
expect_rc 2
expect_err 'PC_CUBLAS is missing'
end

# Garbage must give a usage error that names the line, never a crash (ASan build too).
begin usage-garbage-env
write_env "$DIR"
{ cat "$DIR/image.env.base"; printf 'PC_X\001\377%*s=1\n' 70000 ''; } >"$DIR/image.env"
v -- --only driver
expect_rc 2
expect_err 'image.env:15: unknown key'
printf '\000\000=\n' >"$DIR/image.env"
v -- --only driver
expect_rc 2
expect_err 'image.env:1: '
write_env "$DIR" PC_MIN_DRIVER=550..54 'PC_ARCHS=8.0;;9.0;;'
v -- --only driver
expect_rc 2
expect_err "PC_MIN_DRIVER: '550..54' is not a dotted version"
end

begin usage-stdout-full
write_env "$DIR"
(cd "$DIR" && "$BIN" --help >/dev/full 2>"$DIR/err")
[ $? -ne 0 ] || flunk "writing to a full disk exited 0"
expect_err 'cannot write to standard output'
end

# ---- driver verdicts, with the fake driver ----

begin driver-too-old
write_env "$DIR" PC_TAG=2.9.0-cuda13.0-cudnn9-runtime PC_CUDA=13.0 PC_MIN_DRIVER=580.65.06 \
  PC_COMPAT_FLOOR=580 'PC_ARCHS=7.5;8.0;8.6;9.0;10.0;12.0+PTX'
v $FAKE FAKE_NVIDIA_DRIVER=530.30.02 FAKE_CUDA_DRIVER_VERSION=12010 -- --only driver
expect_rc 4
expect_row driver FAIL 'driver 530.30.02 \(CUDA 12.1\) is older than 580.65.06, which CUDA 13.0 needs: upgrade the driver, or use a -cuda12.1 tag$'
expect_out '^result: driver-too-old \(exit 4\)'
end

begin driver-too-old-compat-remedy
write_env "$DIR"
v $FAKE FAKE_NVIDIA_DRIVER=515.65.01 FAKE_CUDA_DRIVER_VERSION=11070 -- --only driver
expect_rc 4
expect_row driver FAIL 'older than 550.54.14, which CUDA 12.4 needs: upgrade the driver, or use a -cuda11.8 tag \(minor-version compatibility\)'
v $FAKE FAKE_NVIDIA_DRIVER=440.33.01 FAKE_CUDA_DRIVER_VERSION=10020 -- --only driver
expect_rc 4
expect_row driver FAIL 'which CUDA 12.4 needs: upgrade the driver$'
end

begin driver-minor-version-compatible
write_env "$DIR"
v $FAKE FAKE_NVIDIA_DRIVER=535.104.05 FAKE_CUDA_DRIVER_VERSION=12020 -- --only driver
expect_rc 0
expect_row driver PASS 'driver 535.104.05 \(CUDA 12.2\) is older than 550.54.14 for CUDA 12.4: minor-version compatibility \(>= 525.60.13\), PTX JIT unavailable'
end

begin driver-new-enough
write_env "$DIR"
v $FAKE FAKE_NVIDIA_DRIVER=550.54.14 FAKE_CUDA_DRIVER_VERSION=12040 -- --only driver
expect_rc 0
expect_row driver PASS 'driver 550.54.14 \(CUDA 12.4\) >= 550.54.14 for CUDA 12.4; no usable device'
v $FAKE FAKE_NVIDIA_DRIVER=580.95.05 FAKE_CUDA_DRIVER_VERSION=13000 -- --only driver
expect_rc 0
expect_row driver PASS 'driver 580.95.05 \(CUDA 13.0\) >= 550.54.14'
end

begin driver-without-nvml
write_env "$DIR"
v $FAKE FAKE_CUDA_DRIVER_VERSION=12040 -- --only driver
expect_rc 0
expect_row driver PASS 'driver for CUDA 12.4 \(no version string from NVML\)'
v $FAKE FAKE_CUDA_DRIVER_VERSION=11080 -- --only driver
expect_rc 4
expect_row driver FAIL 'driver for CUDA 11.8 .* is older than 550.54.14'
end

begin driver-absent
write_env "$DIR"
v -- --only driver
expect_rc 0
expect_row driver SKIP 'no driver \(static certification\)'
expect_out '^level: static '
v -- --only driver --require-gpu
expect_rc 3
expect_row driver FAIL 'no driver .* --require-gpu'
expect_out '^result: no-gpu \(exit 3\)'
end

begin driver-no-device-require-gpu
write_env "$DIR"
v $FAKE FAKE_NVIDIA_DRIVER=550.54.14 -- --only driver --require-gpu
expect_rc 3
expect_row driver FAIL 'no usable device \(cuInit: CUDA_ERROR_NO_DEVICE'
v $FAKE FAKE_NVIDIA_DRIVER=550.54.14 FAKE_CUDA_DEVICES='NVIDIA A100-SXM4-80GB:8.0' -- --only driver --require-gpu
expect_rc 0
expect_row driver PASS 'NVIDIA A100-SXM4-80GB, sm_80'
expect_out '^level: gpu   device: NVIDIA A100-SXM4-80GB \(sm_80\)   driver: 550.54.14 \(CUDA 12.4\)'
end

begin driver-too-old-beats-no-gpu
write_env "$DIR"
v $FAKE FAKE_NVIDIA_DRIVER=470.57.02 FAKE_CUDA_DRIVER_VERSION=11040 -- --only driver --require-gpu
expect_rc 4
end

begin driver-json
write_env "$DIR"
v $FAKE FAKE_NVIDIA_DRIVER=535.104.05 FAKE_CUDA_DRIVER_VERSION=12020 \
  FAKE_CUDA_DEVICES='NVIDIA H100 80GB HBM3:9.0' PYTORCH_CUDA_IMAGE_ID=sha256:0123abcd -- --only driver --json
expect_rc 0
expect_json 'c["schema_version"] == 1 and c["tool"]["name"] == "pytorch-cuda-verify"'
expect_json 'c["level"] == "gpu" and c["device"] == {"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0"}'
expect_json 'c["driver"] == {"version": "535.104.05", "cuda": "12.2", "minor_version_compatibility": True}'
expect_json 'c["image"]["tag"] == "2.6.0-cuda12.4-cudnn9-runtime" and c["image"]["id"] == "sha256:0123abcd"'
expect_json '[k["name"] for k in c["checks"]] == ["driver", "runtime", "kernel", "cublas", "cudnn", "libtorch", "python", "python-train", "python-numpy", "python-compile", "python-archs", "python-gpu", "python-command", "user", "sshd", "sbom"]'
expect_json 'c["checks"][0]["status"] == "pass" and c["checks"][1]["detail"] == "not selected (--only)"'
expect_json 'c["result"] == "certified" and c["exit_code"] == 0 and c["started"].endswith("Z")'
end

begin json-escaping
write_env "$DIR"
v PYTORCH_CUDA_IMAGE_ID=$'q"b\\s\x01t\tn\nu\xc3\xa9bad\xff\xc0end' -- --only driver --json
expect_rc 0
expect_json 'c["image"]["id"] == "q\"b\\s\x01t\tn\nu\u00e9bad\ufffd\ufffdend"'
end

# ---- real libraries ----

prepare
echo "verify: wheels from $WHEELS, unpacked in $UNPACKED"

# The static certificate of a whole image: every library real.
have_all() { [ -n "$CUDART" ] && [ -n "$NVRTC" ] && [ -n "$CUBLAS" ] && [ -n "$CUDNN" ] && [ -n "$TORCH" ] && [ -n "$CUPTI" ]; }
REAL="ASAN_OPTIONS=$REAL_ASAN"

if [ -z "$CUDART" ] || [ -z "$NVRTC" ]; then
  begin real-small-wheels
  flunk "cannot get nvidia-cuda-runtime-cu12 / nvidia-cuda-nvrtc-cu12 12.4.127 into $WHEELS"
  end
else
  begin real-runtime-kernel
  mkroot "$DIR" cudart nvrtc
  write_env "$DIR"
  v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" -- --only runtime,kernel
  expect_rc 0
  expect_row runtime PASS "^runtime +\| PASS +\| cudart 12.4 \($DIR/usr/local/cuda-12.4/lib/libcudart.so.12\)"
  expect_row kernel PASS 'nvrtc 12.4: CUBIN for sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90; no GPU'
  end

  # No loader path: the verifier falls back to PC_CUDA_HOME/lib.
  begin real-cuda-home-fallback
  mkroot "$DIR" cudart nvrtc
  write_env "$DIR" 'PC_ARCHS=8.0;9.0a;9.0+PTX'
  v "$REAL" -- --only runtime,kernel
  expect_rc 0
  expect_row runtime PASS "$DIR/usr/local/cuda-12.4/lib/libcudart.so.12"
  expect_row kernel PASS 'CUBIN for sm_80 sm_90a sm_90\+PTX'
  end

  begin real-kernel-unsupported-arch
  mkroot "$DIR" cudart nvrtc
  write_env "$DIR" 'PC_ARCHS=8.0;9.0;10.0;12.0+PTX'
  v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" -- --only runtime,kernel
  expect_rc 1
  expect_only_failing kernel
  expect_row kernel FAIL 'nvrtc 12.4 cannot target sm_100, which PC_ARCHS claims \(it targets sm_50..sm_90\)'
  end

  begin break-remove-nvrtc-builtins
  mkroot "$DIR" cudart nvrtc
  rm "$DIR"/usr/local/cuda-12.4/lib/libnvrtc-builtins*
  write_env "$DIR"
  v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" -- --only runtime,kernel
  expect_rc 1
  expect_only_failing kernel
  expect_row kernel FAIL 'nvrtcCompileProgram for sm_50'
  end

  begin break-swap-cudart
  if [ -z "$CUDART121" ]; then
    flunk "cannot get nvidia-cuda-runtime-cu12 12.1.105"
  else
    mkroot "$DIR" cudart nvrtc
    ln -sf "$CUDART121"/nvidia/cuda_runtime/lib/libcudart.so.12 "$DIR/usr/local/cuda-12.4/lib/"
    write_env "$DIR"
    v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" -- --only runtime,kernel
    expect_rc 1
    expect_only_failing runtime
    expect_row runtime FAIL 'cudart 12.1 at .*, but the image claims CUDA 12.4: the wrong libcudart.so.12'
  fi
  end

  # The GPU path of the kernel check, on the fake driver: real NVRTC builds the CUBIN.
  begin real-kernel-launch-fake-gpu
  mkroot "$DIR" cudart nvrtc
  write_env "$DIR"
  gpu=(FAKE_NVIDIA_DRIVER=550.54.14 FAKE_CUDA_DRIVER_VERSION=12040 "FAKE_CUDA_DEVICES=NVIDIA H100 80GB HBM3:9.0")
  v "$REAL" LD_LIBRARY_PATH="$FAKES:$DIR/usr/local/cuda-12.4/lib" "${gpu[@]}" -- --only driver,kernel --require-gpu
  expect_rc 0
  expect_row kernel PASS 'CUBIN sm_90 on NVIDIA H100 80GB HBM3: 1048576 elements equal the CPU.s exactly \(seed 0x[0-9a-f]+\)'
  expect_out '^level: gpu '
  v "$REAL" LD_LIBRARY_PATH="$FAKES:$DIR/usr/local/cuda-12.4/lib" "${gpu[@]}" FAKE_CUDA_WRONG_RESULT=1 -- --only driver,kernel
  expect_rc 1
  expect_row kernel FAIL 'y\[12345\] = .* on the GPU, .* on the CPU'
  v "$REAL" LD_LIBRARY_PATH="$FAKES:$DIR/usr/local/cuda-12.4/lib" "${gpu[@]}" FAKE_CUDA_LOAD_ERROR=209 -- --only driver,kernel
  expect_rc 1
  expect_row kernel FAIL 'cuModuleLoadData \(CUBIN sm_90\): CUDA_ERROR_NO_BINARY_FOR_GPU 209'
  v "$REAL" LD_LIBRARY_PATH="$FAKES:$DIR/usr/local/cuda-12.4/lib" FAKE_NVIDIA_DRIVER=570.124.06 \
    FAKE_CUDA_DRIVER_VERSION=12080 'FAKE_CUDA_DEVICES=NVIDIA RTX PRO 6000:12.0' -- --only driver,kernel
  expect_rc 1
  expect_row kernel FAIL 'no kernel image for sm_120 .*: use a tag whose CUDA targets sm_120 \(12.8 or newer\)'
  # A device newer than NVRTC 12.4 knows, but covered by PTX: the driver JITs compute_90.
  write_env "$DIR" 'PC_ARCHS=8.0;9.0+PTX'
  v "$REAL" LD_LIBRARY_PATH="$FAKES:$DIR/usr/local/cuda-12.4/lib" FAKE_NVIDIA_DRIVER=570.124.06 \
    FAKE_CUDA_DRIVER_VERSION=12080 'FAKE_CUDA_DEVICES=NVIDIA B200:10.0' -- --only driver,kernel
  expect_rc 0
  expect_row kernel PASS 'PTX compute_90 JIT on NVIDIA B200'
  end
fi

if ! have_all; then
  skip_case real-static-certificate "cuBLAS, cuDNN or torch wheel not in $WHEELS"
  skip_case break-cublas-version "nvidia-cublas-cu12 12.4.5.8 not in $WHEELS"
  skip_case break-cudnn "nvidia-cudnn-cu12 9.1.0.70 not in $WHEELS"
  skip_case break-libtorch-version "torch 2.6.0 not in $WHEELS"
else
  ALL=(cudart nvrtc cublas cudnn cupti torch)
  begin real-static-certificate
  mkroot "$DIR" "${ALL[@]}"
  write_env "$DIR"
  v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" --
  expect_rc 0
  expect_only_failing
  expect_row driver SKIP 'no driver \(static certification\)'
  expect_row runtime PASS 'cudart 12.4'
  expect_row kernel PASS 'nvrtc 12.4: CUBIN for sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90'
  expect_row cublas PASS '^cublas +\| PASS +\| cublas 12.4.5 '
  expect_row cudnn PASS 'cudnn 9.1.0 for CUDA 12'
  expect_row libtorch PASS 'torch 2.6.0\+cu124: CPU matmul 64x64 within [0-9.e-]+ of the float32 bound \(aoti_torch_cpu_mm_out\)'
  expect_row python SKIP 'PC_PYTHON is empty'
  expect_out '^result: certified \(exit 0\): 5 passed, 0 failed, 2 skipped'
  v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" -- --json
  expect_rc 0
  expect_json 'c["level"] == "static" and c["device"] is None and c["driver"] is None'
  expect_json 'c["versions"]["cudart"] == "12.4" and c["versions"]["nvrtc"] == "12.4" and c["versions"]["cublas"] == "12.4.5"'
  expect_json 'c["versions"]["cudnn"] == "9.1.0" and c["versions"]["torch"] == "2.6.0+cu124" and c["versions"]["torch_cuda"] == "12.4"'
  expect_json 'c["result"] == "certified" and [k["status"] for k in c["checks"]].count("pass") == 5'
  end

  begin break-cublas-version
  mkroot "$DIR" "${ALL[@]}"
  write_env "$DIR" PC_CUBLAS=12.4.2.65
  v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" --
  expect_rc 1
  expect_only_failing cublas
  expect_row cublas FAIL 'cublas 12.4.5 at .*libcublas.so.12, but the image pins 12.4.2.65'
  expect_out '^result: failed \(exit 1\)'
  end

  begin break-cudnn
  mkroot "$DIR" "${ALL[@]}"
  write_env "$DIR" PC_CUDNN=9.5.1.17
  v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" --
  expect_rc 1
  expect_only_failing cudnn
  expect_row cudnn FAIL 'cudnn 9.1.0 at .*libcudnn.so.9, but the image pins 9.5.1.17'
  # One sub-library gone: cuDNN would fail only at the first convolution.
  write_env "$DIR"
  rm "$DIR/usr/local/cuda-12.4/lib/libcudnn_ops.so.9"
  v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" --
  expect_rc 1
  expect_only_failing cudnn
  expect_row cudnn FAIL 'libcudnn_ops.so.9 is missing beside'
  # All of libcudnn* gone. A host that has a cuDNN of its own in the loader cache (a CUDA
  # toolkit install) lends it: then the version is wrong instead of the library missing.
  rm "$DIR"/usr/local/cuda-12.4/lib/libcudnn*
  v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" --
  expect_rc 1
  expect_only_failing cudnn
  if ldconfig -p 2>/dev/null | grep -q 'libcudnn.so.9 '; then
    expect_row cudnn FAIL 'but the image pins 9.1.0.70|is missing beside|built for CUDA'
  else
    expect_row cudnn FAIL 'libcudnn.so.9: cannot open shared object file'
  fi
  end

  begin break-libtorch-version
  mkroot "$DIR" "${ALL[@]}"
  write_env "$DIR" PC_TORCH=2.5.1
  v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" -- --only libtorch
  expect_rc 1
  expect_row libtorch FAIL 'torch 2.6.0\+cu124, but the image claims 2.5.1'
  write_env "$DIR"
  sed -i "s/^cuda: Optional\[str\] = '12.4'/cuda: Optional[str] = None/" "$DIR/torch/version.py"
  v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" -- --only libtorch
  expect_rc 1
  expect_row libtorch FAIL 'CPU-only build'
  # libtorch_cpu.so of a CUDA build needs libcudart.so.12: without it, torch does not load.
  rm "$DIR/usr/local/cuda-12.4/lib/libcudart.so.12"
  cp "$TORCH/torch/version.py" "$DIR/torch/version.py"
  v "$REAL" LD_LIBRARY_PATH="$DIR/usr/local/cuda-12.4/lib" -- --only libtorch
  expect_rc 1
  expect_row libtorch FAIL 'libcudart.so.12: cannot open shared object file'
  end
fi

# ---- python, with stand-in interpreters (a real `import torch` needs every nvidia wheel) ----

# A stand-in interpreter that prints what the verifier's script would print.
fake_python() { # DIR TORCH CUDA CUDNN AVAILABLE
  cat >"$1/python3" <<EOF
#!/bin/sh
[ "\$1" = -c ] || exit 9
printf 'torch %s\ncuda %s\ncudnn %s\navailable %s\n' '$2' '$3' '$4' '$5'
EOF
  chmod +x "$1/python3"
}

begin python-stand-in
write_env "$DIR" PC_PYTHON="$DIR/python3"
fake_python "$DIR" 2.6.0+cu124 12.4 90100 False
v -- --only python
expect_rc 0
expect_row python PASS 'torch 2.6.0\+cu124, CUDA 12.4, cuDNN 9.1.0, cuda.is_available\(\) False'
fake_python "$DIR" 2.6.0+cu124 12.1 90100 False
v -- --only python
expect_rc 1
expect_row python FAIL 'torch.version.cuda is 12.1, but the image claims CUDA 12.4'
fake_python "$DIR" 2.6.0+cu124 12.4 8907 False
v -- --only python
expect_rc 1
expect_row python FAIL 'torch.backends.cudnn.version\(\) is 8.9.7, but the image pins 9.1.0.70'
# With a GPU, "CUDA available: False" is the failure users meet.
fake_python "$DIR" 2.6.0+cu124 12.4 90100 False
v $FAKE FAKE_NVIDIA_DRIVER=550.54.14 FAKE_CUDA_DEVICES='NVIDIA L4:8.9' -- --only python
expect_rc 1
expect_row python FAIL 'torch.cuda.is_available\(\) is False although the driver offers NVIDIA L4'
end

begin python-no-torch
printf '#!/bin/sh\necho "Traceback (most recent call last):" >&2\necho "ModuleNotFoundError: No module named '"'"'torch'"'"'" >&2\nexit 1\n' >"$DIR/python3"
chmod +x "$DIR/python3"
write_env "$DIR" PC_PYTHON="$DIR/python3"
v -- --only python
expect_rc 1
expect_row python FAIL "failed: ModuleNotFoundError: No module named 'torch'"
write_env "$DIR" PC_PYTHON="$DIR/no-such-python"
v -- --only python
expect_rc 1
expect_row python FAIL "cannot run '$DIR/no-such-python' \(PC_PYTHON\)"
end

# `python` on PATH (command.c): what users type is the image's Python (PC_PYTHON); Debian's
# python3 installs only `python3`, python-is-python3 adds /usr/bin/python -> python3.
begin python-command
mkdir -p "$DIR/bin"
fake_python "$DIR/bin" 2.6.0+cu124 12.4 90100 False
write_env "$DIR" PC_PYTHON="$DIR/bin/python3"
v PATH="$DIR/bin" -- --only python-command
expect_rc 1
expect_row python-command FAIL "no \`python\` on PATH \($DIR/bin\).*python-is-python3"
ln -s python3 "$DIR/bin/python"
v PATH="$DIR/bin" -- --only python-command
expect_rc 0
expect_row python-command PASS "\`python\` on PATH is the image's Python, $DIR/bin/python3"
# a bare PC_PYTHON is looked up on PATH, as the image's CMD is
write_env "$DIR" PC_PYTHON=python3
v PATH="$DIR/bin" -- --only python-command
expect_rc 0
expect_row python-command PASS "is the image's Python, $DIR/bin/python3"
# another interpreter first on PATH
mkdir -p "$DIR/other"
printf '#!/bin/sh\nexit 0\n' >"$DIR/other/python2.7" && chmod +x "$DIR/other/python2.7"
ln -s python2.7 "$DIR/other/python"
v PATH="$DIR/other:$DIR/bin" -- --only python-command
expect_rc 1
expect_row python-command FAIL "is $DIR/other/python2.7, not the image's Python $DIR/bin/python3"
write_env "$DIR"
v PATH="$DIR/bin" -- --only python-command
expect_rc 0
expect_row python-command SKIP 'PC_PYTHON is empty'
end

# The stages after `import torch`: a stand-in that prints, for each stage the verifier names
# after the script (python.c's argv), the line of that stage in $DIR/stages ("@ NAME STATUS
# DETAIL", as the script prints it), and records the arguments it got.
fake_stages() { # DIR
  cat >"$1/python3" <<EOF
#!/bin/sh
[ "\$1" = -c ] || exit 9
shift 2
echo "\$*" >'$1/args'
printf 'torch 2.6.0+cu124\ncuda 12.4\ncudnn 90100\navailable False\n'
for s in "\$@"; do grep "^@ \$s " '$1/stages'; done
exit 0
EOF
  chmod +x "$1/python3"
}

begin python-stages-pass
write_env "$DIR" PC_PYTHON="$DIR/python3" PC_ARCHS='5.0;6.0;7.0;7.5;8.0;8.6;9.0'
fake_stages "$DIR"
cat >"$DIR/stages" <<'EOF'
@ python-train ok loss 1.2000 -> 0.9000 on cpu
@ python-numpy ok numpy 2.1.3
@ python-compile ok torch.compile (inductor) on cpu equals eager
@ python-archs ok sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90
@ python-gpu fail must not run without a GPU
EOF
v -- --only python,python-train,python-numpy,python-compile,python-archs,python-gpu
expect_rc 0
expect_row python-train PASS 'loss 1.2000 -> 0.9000 on cpu'
expect_row python-numpy PASS 'numpy 2.1.3'
expect_row python-compile PASS 'inductor'
expect_row python-archs PASS "is 'sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90', as PC_ARCHS"
expect_row python-gpu SKIP 'no usable GPU'
# Without a GPU the script is not asked to run the GPU stage.
grep -qx 'python-train python-numpy python-compile python-archs' "$DIR/args" || flunk "stages asked: $(cat "$DIR/args")"
end

# What users met on the 2.6.0 images (issue 12): each failure fails its own check, by name.
begin python-stages-fail
write_env "$DIR" PC_PYTHON="$DIR/python3" PC_ARCHS='5.0;6.0;7.0;7.5;8.0;8.6;9.0'
fake_stages "$DIR"
cat >"$DIR/stages" <<'EOF'
@ python-train ok loss 1.2000 -> 0.9000 on cpu
@ python-numpy fail RuntimeError: Numpy is not available
@ python-compile fail CppCompileError: /tmp/torchinductor_root/x.cpp:1:10: fatal error: Python.h: No such file or directory
@ python-archs ok sm_50 sm_60 sm_70 sm_75 sm_80 sm_86
EOF
v -- --only python,python-train,python-numpy,python-compile,python-archs,python-gpu
expect_rc 1
expect_only_failing python-numpy python-compile python-archs
expect_row python-numpy FAIL 'RuntimeError: Numpy is not available'
expect_row python-compile FAIL 'fatal error: Python.h: No such file or directory'
expect_row python-archs FAIL "is 'sm_50 sm_60 sm_70 sm_75 sm_80 sm_86', but image.env claims PC_ARCHS=5.0;6.0;7.0;7.5;8.0;8.6;9.0"
# +PTX and 'a' archs as torch spells them; a stage the script never reached fails too.
write_env "$DIR" PC_PYTHON="$DIR/python3" PC_ARCHS='9.0a;12.0+PTX'
cat >"$DIR/stages" <<'EOF'
@ python-archs ok sm_90a sm_120 compute_120
EOF
v -- --only python-archs,python-compile
expect_rc 1
expect_row python-archs PASS
expect_row python-compile FAIL 'not reached: the script printed no result'
end

begin python-stages-gpu
write_env "$DIR" PC_PYTHON="$DIR/python3"
fake_stages "$DIR"
cat >"$DIR/stages" <<'EOF'
@ python-gpu fail InvalidCxxCompiler: No working C++ compiler found in torch._inductor.config.cpp.cxx: (None, 'g++')
EOF
v $FAKE FAKE_NVIDIA_DRIVER=550.54.14 FAKE_CUDA_DEVICES='NVIDIA L4:8.9' -- --only python-gpu
expect_rc 1
expect_row python-gpu FAIL "InvalidCxxCompiler: No working C\+\+ compiler found"
grep -qx 'python-gpu' "$DIR/args" || flunk "stages asked: $(cat "$DIR/args")"
end

# matrix.yaml `user` (PC_USER): the verifier runs as the image's default user; root fails.
begin user
write_env "$DIR" PC_USER=nobody
v -- --only user
if [ "$(id -u)" -eq 0 ]; then
  expect_rc 1
  expect_row user FAIL 'runs as root \(uid 0\), but the image claims user nobody'
  # As nobody (setpriv, util-linux): the claim holds.
  chmod 755 "$TMP" "$DIR" && chmod 644 "$DIR/image.env"
  (cd "$DIR" && setpriv --reuid=nobody --regid=nogroup --clear-groups env PYTORCH_CUDA_IMAGE_ENV="$DIR/image.env" \
    ASAN_OPTIONS=detect_leaks=0 "$BIN" --only user >"$DIR/out" 2>"$DIR/err"); echo $? >"$DIR/rc"
  expect_rc 0
  expect_row user PASS 'runs as uid [0-9]+ \(nobody\), not root'
fi
write_env "$DIR"
v -- --only user
expect_rc 0
expect_row user SKIP 'names no user \(PC_USER\)'
write_env "$DIR" PC_USER=root
v -- --only user
expect_rc 2
expect_err 'PC_USER: root is what an image without PC_USER runs as'
end

# Notebook images' sshd check (sshd.c): other flavors skip it; a notebook image must name its
# user. The real sshd -T pass and fail are tests/notebook's (certify of the built image, and
# the image with PasswordAuthentication yes fails it).
begin sshd
write_env "$DIR"
v -- --only sshd
expect_rc 0
expect_row sshd SKIP 'a runtime image has no SSH mode'
write_env "$DIR" PC_FLAVOR=notebook PC_TAG=2.6.0-cuda12.4-cudnn9-notebook
v -- --only sshd
expect_rc 1
expect_row sshd FAIL 'names no user \(PC_USER\)'
if [ ! -e /usr/sbin/sshd ]; then
  write_env "$DIR" PC_FLAVOR=notebook PC_TAG=2.6.0-cuda12.4-cudnn9-notebook PC_USER=nobody
  v -- --only sshd
  expect_rc 1
  expect_row sshd FAIL '/usr/sbin/sshd cannot be run'
fi
end

# The image's SBOM (sbom.c, docs/sbom.md): there, JSON, SPDX-2.3, this tag's.
begin sbom
write_env "$DIR"
v -- --only sbom
expect_rc 0
expect_row sbom PASS 'SPDX-2.3, 1 packages'
v PYTORCH_CUDA_SBOM="$DIR/nowhere.json" -- --only sbom
expect_rc 1
expect_row sbom FAIL 'no SBOM: cannot open .*nowhere.json: No such file or directory'
head -c 100 "$DIR/sbom.spdx.json" >"$DIR/cut.json"
v PYTORCH_CUDA_SBOM="$DIR/cut.json" -- --only sbom
expect_rc 1
expect_row sbom FAIL 'is not a JSON object \(truncated or broken\)'
sed 's/SPDX-2.3/SPDX-2.2/' "$DIR/sbom.spdx.json" >"$DIR/old.json"
v PYTORCH_CUDA_SBOM="$DIR/old.json" -- --only sbom
expect_rc 1
expect_row sbom FAIL 'has no "spdxVersion": "SPDX-2.3"'
write_env "$DIR" PC_TAG=2.6.0-cuda12.4-cudnn9-devel PC_FLAVOR=devel
v -- --only sbom
expect_rc 1
expect_row sbom FAIL 'does not name this tag \(2.6.0-cuda12.4-cudnn9-devel\)'
end

echo "verify: $SKIP skipped"
echo "verify: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ] && rm -rf "$TMP"
[ "$FAIL" -eq 0 ]
