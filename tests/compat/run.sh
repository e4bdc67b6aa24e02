#!/usr/bin/env bash
# tests/compat/run.sh PCGEN: `pcgen compat` end to end, with the real binary and the real
# knowledge base. The host is described by flags, or detected through the fake
# libnvidia-ml.so.1 / libcuda.so.1 of tests/fakes (found through LD_LIBRARY_PATH, as the real
# ones would be) and PCGEN_TEST_NVIDIA_PROC in place of /proc/driver/nvidia/version.
# Last line: "compat: N passed, N failed"; exit status non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
PCGEN=$(realpath "${1:-${PCGEN:-bin/pcgen}}")
WIDE=generator/tests/compat-cases/wide.yaml
CUDA12=generator/tests/compat-cases/cuda12.yaml
FAKES=build/fakes
if [ ! -e "$FAKES/libcuda.so.1" ] || [ ! -e "$FAKES/libnvidia-ml.so.1" ]; then
  make -s "$FAKES/libcuda.so.1" "$FAKES/libnvidia-ml.so.1" >/dev/null || { echo "compat: 0 passed, 1 failed"; exit 1; }
fi
tmp=$(mktemp -d /tmp/pcgen-compat.XXXXXX)
passed=0 failed=0 name=""

ok() { passed=$((passed + 1)); }
ko() {
  failed=$((failed + 1))
  printf 'FAIL: %s: %s\n' "$name" "$*"
  sed 's/^/  stdout: /' "$tmp/out" | head -n 20
  sed 's/^/  stderr: /' "$tmp/err" | head -n 20
}

# run NAME WANT_EXIT [VAR=value...] -- ARGS...: run pcgen with a clean NVIDIA environment.
run() {
  name=$1 want=$2
  shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env -u FAKE_NVIDIA_DRIVER -u FAKE_CUDA_DEVICES -u FAKE_CUDA_INIT_ERROR -u FAKE_CUDA_DRIVER_VERSION \
    LD_LIBRARY_PATH="$top/$FAKES" PCGEN_TEST_NVIDIA_PROC="$tmp/no-such-proc-file" "${envs[@]}" \
    "$PCGEN" compat "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/err"; then ko "sanitizer report"; return; fi
  if [ "$rc" -ne "$want" ]; then ko "exit $rc, want $want"; return; fi
  ok
}
# has FILE TEXT / hasnt FILE TEXT: a fixed string in the last run's out or err.
has() { if grep -qF -- "$2" "$tmp/$1"; then ok; else ko "'$2' not in $1"; fi; }
hasnt() { if grep -qF -- "$2" "$tmp/$1"; then ko "'$2' in $1"; else ok; fi; }
# row TAG VERDICT: the table row of TAG has VERDICT.
row() {
  if grep -qE "^$1 +$2 " "$tmp/out"; then ok; else ko "row $1 is not '$2'"; fi
}

# --- usage
run help 0 -- --help
has out "usage: pcgen compat"
has out "5 no requested tag runs"
run bad-option 2 -- --frobnicate
run bad-driver 2 -- --driver 535.x --matrix "$WIDE"
has err "--driver '535.x' is not a driver version"
run unknown-gpu 2 -- --driver 550.54.14 --gpu "RTX 9090" --matrix "$WIDE"
has err "unknown GPU 'RTX 9090'"
has err "X.Y, sm_XY or XY"
has err "did you mean: "
has err "RTX 5090 (sm_120)"
has err "nvidia-smi --query-gpu=name,compute_cap"
# A name with no model in it (pytorch/pytorch#75198: an RTX 3090 Ti on an old driver) is
# refused, and nothing is guessed for it.
run unknown-gpu-no-model 2 -- --driver 550.54.14 --gpu "NVIDIA Graphics Device" --matrix "$WIDE"
has err "unknown GPU 'NVIDIA Graphics Device'"
hasnt err "did you mean"
run unmatched-tag 2 -- --driver 550.54.14 --matrix "$WIDE" '3.0.0-*'
has err "no tag of the plan matches '3.0.0-*'"
printf 'repository: x\n' >"$tmp/bad.yaml"
run invalid-matrix 1 -- --driver 550.54.14 --matrix "$tmp/bad.yaml"

# --- the issue's facts, host described by flags
run driver-520-cuda-11.8 0 -- --driver 520.61.05 --matrix "$WIDE" 2.1.2-cuda11.8-cudnn8-runtime
row 2.1.2-cuda11.8-cudnn8-runtime runs
has out "1 of 1 tags run on this host: 1 runs"
run driver-530 0 -- --driver 530.30.02 --matrix "$WIDE"
row 2.4.1-cuda12.1-cudnn9-runtime runs
row 2.4.1-cuda12.4-cudnn9-runtime runs-minor-compat
has out "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"
has out "no GPU given (--gpu): architectures not checked"
run driver-470-cuda-12 5 -- --driver 470.57.02 --matrix "$WIDE" '*-cuda12.*'
row 2.4.1-cuda12.1-cudnn9-runtime driver-too-old
has out "driver 470.57.02 is older than 525.60.13, the oldest that runs CUDA 12.x (minor-version compatibility; 530.30.02 for full 12.1 support); runs on this host instead: 2.1.2-cuda11.8-cudnn8-runtime"
has out "0 of 7 tags run on this host: 7 driver-too-old"
run h100-cuda-11.8 0 -- --driver 550.54.14 --gpu H100 --matrix "$WIDE" 2.1.2-cuda11.8-cudnn8-runtime
row 2.1.2-cuda11.8-cudnn8-runtime runs
has out "H100 (sm_90) runs the 9.0 kernels of torch 2.1.2"
run rtx5090-arch-9.0 5 -- --driver 570.26 --gpu "RTX 5090" --matrix "$WIDE" 2.6.0-cuda12.6-cudnn9-runtime
row 2.6.0-cuda12.6-cudnn9-runtime arch-not-built
has out "built for RTX 5090 (sm_120): 2.7.1-cuda12.8-cudnn9-runtime, 2.9.1-cuda12.8-cudnn9-runtime, 2.9.1-cuda13.0-cudnn9-runtime"
run sm61-cuda-13 5 -- --driver 580.65.06 --gpu sm_61 --matrix "$WIDE" 2.9.1-cuda13.0-cudnn9-runtime
row 2.9.1-cuda13.0-cudnn9-runtime arch-dropped
has out "sm_61 is older than sm_75, the oldest architecture CUDA 13.0 can target"
run arch-unknown 5 -- --driver 580.65.06 --gpu 12.0 --matrix "$WIDE" 2.8.0-cuda12.9-cudnn9-runtime
row 2.8.0-cuda12.9-cudnn9-runtime arch-unknown
run two-gpus 0 -- --driver 580.65.06 --gpu "RTX 4090" --gpu "GTX 1080" --matrix "$WIDE"
row 2.7.1-cuda12.8-cudnn9-runtime arch-not-built
row 2.6.0-cuda12.6-cudnn9-runtime runs
has out "GPU RTX 4090 (sm_89), GTX 1080 (sm_61) (given)"
run alias-and-glob 0 -- --driver 550.54.14 --matrix matrix.yaml v2.6-prod '2.4.1-*-devel'
row 2.6.0-cuda12.4-cudnn9-runtime runs
row 2.4.1-cuda11.8-cudnn9-devel runs
has out "4 of 4 tags run"

# --- GPU names as nvidia-smi, nvidia-smi -L and torch print them (issue 19's strings; more,
# with their sources, in generator/tests/unit/test_compat.c), and nvidia-smi's compute_cap.
name_runs() { # NAME CC: resolves to sm_CC and runs the 2.6.0 runtime tags
  run "name '$1'" 0 -- --driver 570.124.06 --gpu "$1" --matrix matrix.yaml v2.6-prod
  has out "sm_$2"
  has out "(given)"
  row 2.6.0-cuda12.4-cudnn9-runtime runs
}
name_runs "NVIDIA A100-PCIE-40GB" 80
name_runs "NVIDIA H100 80GB HBM3" 90
name_runs "Tesla T4" 75
name_runs "NVIDIA GeForce RTX 4090" 89
name_runs "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-2600e701-8d2f-704c-06bd-ca16a9306dfe)" 80
name_runs "NVIDIA A10G" 86
name_runs "NVIDIA RTX A6000" 86
name_runs "Quadro RTX 5000 with Max-Q Design" 75
name_runs "NVIDIA GeForce RTX 3060 Laptop GPU" 86
name_runs "9.0" 90   # nvidia-smi --query-gpu=compute_cap
name_runs "sm_86" 86

# --- an RTX 5090 (sm_120) on the default matrix: torch 2.6 is not built for it, the v2.9-prod
# tag users pull (torch 2.9.1 + CUDA 12.8, arch list up to 12.0) is, and compat points there.
run rtx5090-default 0 -- --driver 570.124.06 --gpu "NVIDIA GeForce RTX 5090" --matrix matrix.yaml v2.6-prod v2.9-prod
row 2.6.0-cuda12.4-cudnn9-runtime arch-not-built
row 2.9.1-cuda12.8-cudnn9-runtime runs
has out 'built for RTX 5090 (sm_120): 2.9.1-cuda12.8-cudnn9-runtime'
# --- advice beyond the plan: no tag of a plan that stops at torch 2.6 ($CUDA12) is built for an
# RTX 5090: the releases of the knowledge base that are, and the include to add.
run rtx5090-advice 5 -- --driver 570.124.06 --gpu "NVIDIA GeForce RTX 5090" --matrix "$CUDA12" 2.6.0-cuda12.4-cudnn9-runtime
row 2.6.0-cuda12.4-cudnn9-runtime arch-not-built
has out 'no tag of the plan is built for it; RTX 5090 (sm_120) is built by torch 2.7.0+ for CUDA 12.8 and later: add { torch: "2.10.0", cuda: "12.8" } to include'
# The advice is right: with that include, the plan has a tag that runs.
cp "$CUDA12" "$tmp/advised.yaml"
printf 'include:\n  - { torch: "2.10.0", cuda: "12.8" }\n' >>"$tmp/advised.yaml"
run rtx5090-advice-taken 0 -- --driver 570.124.06 --gpu "NVIDIA GeForce RTX 5090" --matrix "$tmp/advised.yaml" 2.10.0-cuda12.8-cudnn9-runtime
row 2.10.0-cuda12.8-cudnn9-runtime runs
# A driver too old for every tag: the newest CUDA it runs, and the releases built for it.
run driver-470-advice 5 -- --driver 470.57.02 --matrix "$CUDA12"
row 2.6.0-cuda12.4-cudnn9-runtime driver-too-old
has out 'no tag of the plan runs on this host; the newest CUDA with a torch build that driver 470.57.02 runs is 11.8 (minor-version compatibility); torch 2.1.2 to 2.7.1 are built for it: add { torch: "2.7.1", cuda: "11.8" } to include'
cp "$CUDA12" "$tmp/advised-470.yaml"
printf 'include:\n  - { torch: "2.7.1", cuda: "11.8" }\n' >>"$tmp/advised-470.yaml"
run driver-470-advice-taken 0 -- --driver 470.57.02 --matrix "$tmp/advised-470.yaml" 2.7.1-cuda11.8-cudnn9-runtime
row 2.7.1-cuda11.8-cudnn9-runtime runs-minor-compat
run driver-440-advice 5 -- --driver 440.33.01 --gpu T4 --matrix "$CUDA12"
has out "driver 440.33.01 is older than every CUDA of the knowledge base accepts (the oldest, CUDA 11.8, needs 450.80.02 or newer): upgrade the driver"
run advice-json 5 -- --driver 570.124.06 --gpu "RTX 5090" --json --matrix "$CUDA12" 2.6.0-cuda12.6-cudnn9-runtime
has out '"advice": {'
has out '"torch_from": "2.7.0"'
if command -v jq >/dev/null; then
  name=advice-json-jq
  if jq -e '.tags[0].advice.include == {"torch":"2.10.0","cuda":"12.8"} and .tags[0].advice.cuda == ["12.8","13.0","13.2"] and .tags[0].advice.needs_driver == null' "$tmp/out" >/dev/null; then ok; else ko "jq check"; fi
fi
# Jetson and Grace come with an Arm host: these x86_64 images do not run there.
run jetson-orin 5 -- --driver 540.4.0 --gpu "Orin (nvgpu)" --matrix "$CUDA12"
row 2.6.0-cuda12.4-cudnn9-runtime wrong-platform
has out "Orin (sm_87) comes with an aarch64 host (Jetson or Grace): these images are built for x86_64 (linux/amd64) and do not run there"
run gh200 5 -- --driver 570.124.06 --gpu "NVIDIA GH200 480GB" --json --matrix "$CUDA12"
has out '"platform": "aarch64"'
has out '"verdict": "wrong-platform"'

# --- --json
run json 5 -- --driver 470.57.02 --gpu "RTX 5090" --json --matrix "$WIDE" 2.4.1-cuda12.1-cudnn9-runtime
has out '"schema": 1'
has out '"driver": "470.57.02"'
has out '"driver_source": "given"'
has out '"detected": false'
has out '"sm": "sm_120"'
has out '"verdict": "arch-not-built"'
has out '"driver_verdict": "driver-too-old"'
has out '"arch_verdict": "arch-not-built"'
has out '"alternatives": ['
if command -v jq >/dev/null; then
  name=json-jq
  if jq -e '.tags[0].alternatives == ["2.7.1-cuda12.8-cudnn9-runtime","2.9.1-cuda12.8-cudnn9-runtime","2.9.1-cuda13.0-cudnn9-runtime"] and .summary.run == 0' "$tmp/out" >/dev/null; then ok; else ko "jq check"; fi
fi

# --- auto-detection through the fake driver libraries
run detect-h100 0 FAKE_NVIDIA_DRIVER=550.54.14 FAKE_CUDA_DEVICES="NVIDIA H100 80GB HBM3:9.0" \
  -- --matrix "$WIDE"
has out "host: driver 550.54.14 (detected: NVML), GPU NVIDIA H100 80GB HBM3 (sm_90) (detected: libcuda)"
row 2.1.2-cuda11.8-cudnn8-runtime runs
row 2.6.0-cuda12.6-cudnn9-runtime runs-minor-compat
row 2.9.1-cuda13.0-cudnn9-runtime driver-too-old
run detect-530-4090 0 FAKE_NVIDIA_DRIVER=530.30.02 FAKE_CUDA_DEVICES="NVIDIA GeForce RTX 4090:8.9" \
  -- --matrix "$WIDE" 2.4.1-cuda12.1-cudnn9-runtime 2.4.1-cuda12.4-cudnn9-runtime
row 2.4.1-cuda12.1-cudnn9-runtime runs
row 2.4.1-cuda12.4-cudnn9-runtime runs-minor-compat
has out "NVIDIA GeForce RTX 4090 (sm_89) runs the 8.6 kernels"
# No build has code for both Pascal and Blackwell: every tag is refused for one of them.
run detect-two-gpus 5 FAKE_NVIDIA_DRIVER=580.82.07 FAKE_CUDA_DRIVER_VERSION=13000 \
  FAKE_CUDA_DEVICES="NVIDIA GeForce GTX 1080:6.1,NVIDIA B200:10.0" -- --matrix "$WIDE" --json
has out '"detected": true'
has out '"driver_source": "NVML"'
has out '"name": "NVIDIA GeForce GTX 1080"'
has out '"name": "NVIDIA B200"'
has out '"source": "libcuda"'
has out '"driver_cuda": "13.0"'
has out '"run": 0'
run detect-5090-old-build 5 FAKE_NVIDIA_DRIVER=575.57.08 FAKE_CUDA_DEVICES="NVIDIA GeForce RTX 5090:12.0" \
  -- --matrix "$WIDE" '2.[146].*'
row 2.1.2-cuda12.1-cudnn8-runtime arch-not-built
has out "built for NVIDIA GeForce RTX 5090 (sm_120): 2.7.1-cuda12.8-cudnn9-runtime"
# A Jetson found by libcuda (its CUDA name is the SoC's, NVIDIA/nvbandwidth#55): the
# knowledge base says it is an Arm host.
run detect-jetson 5 FAKE_NVIDIA_DRIVER=540.4.0 FAKE_CUDA_DEVICES="Orin:8.7" -- --matrix "$CUDA12"
has out "GPU Orin (sm_87) (detected: libcuda)"
row 2.6.0-cuda12.6-cudnn9-runtime wrong-platform
run detect-gpu-given 0 FAKE_NVIDIA_DRIVER=560.35.03 FAKE_CUDA_DEVICES="NVIDIA H100 80GB HBM3:9.0" \
  -- --gpu T4 --matrix "$WIDE" 2.9.1-cuda12.8-cudnn9-runtime
has out "host: driver 560.35.03 (detected: NVML), GPU T4 (sm_75) (given)"
row 2.9.1-cuda12.8-cudnn9-runtime runs-minor-compat
run detect-no-device 0 FAKE_NVIDIA_DRIVER=550.54.14 -- --matrix "$WIDE" 2.4.1-cuda12.4-cudnn9-runtime
has out "no GPU found (libcuda.so.1: cuInit returned 100 (no CUDA-capable device is detected)): architectures not checked"
row 2.4.1-cuda12.4-cudnn9-runtime runs
run detect-no-device-json 0 FAKE_NVIDIA_DRIVER=550.54.14 -- --json --matrix "$WIDE" 2.4.1-cuda12.4-cudnn9-runtime
has out '"gpus": []'
has out '"gpu_error": "libcuda.so.1: cuInit returned 100 (no CUDA-capable device is detected)"'
has out '"arch_verdict": null'
printf 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build  (dvs-builder@U16-I3-B03-4-3)  Thu Jan 30 21:12:24 UTC 2025\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n' >"$tmp/proc-version"
run detect-proc-fallback 0 PCGEN_TEST_NVIDIA_PROC="$tmp/proc-version" FAKE_CUDA_DEVICES="NVIDIA A100-SXM4-80GB:8.0" \
  -- --matrix "$WIDE" 2.7.1-cuda12.8-cudnn9-runtime
has out "host: driver 570.86.15 (detected: $tmp/proc-version), GPU NVIDIA A100-SXM4-80GB (sm_80) (detected: libcuda)"
row 2.7.1-cuda12.8-cudnn9-runtime runs
run detect-no-driver 3 -- --matrix "$WIDE"
has err "no NVIDIA driver found"
has err "nvmlInit failed"
has err "no-such-proc-file: No such file or directory"
has err "--driver VERSION"
# Without the fakes the real libraries would be found on a host that has them: only elsewhere.
if ! ldconfig -p 2>/dev/null | grep -q 'libnvidia-ml\.so\.1 '; then
  run detect-no-libraries 3 LD_LIBRARY_PATH="$tmp" -- --matrix "$WIDE"
  has err "libnvidia-ml.so.1: cannot open shared object file"
fi
run detect-driver-given 0 FAKE_NVIDIA_DRIVER=470.57.02 FAKE_CUDA_DEVICES="NVIDIA H100 80GB HBM3:9.0" \
  -- --driver 580.65.06 --matrix "$WIDE" 2.9.1-cuda13.0-cudnn9-runtime
has out "host: driver 580.65.06 (given), no GPU given (--gpu)"
row 2.9.1-cuda13.0-cudnn9-runtime runs

rm -rf "$tmp"
echo "compat: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
