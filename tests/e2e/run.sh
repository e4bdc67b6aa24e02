#!/usr/bin/env bash
# tests/e2e/run.sh PCGEN: the whole pipeline on real images, as `make images` runs it, for the
# tags in $E2E_TAGS (default: the PyPI build of torch 2.6.0 with CUDA 12.4, both flavors):
#   lock (from the committed matrix.lock: nothing to resolve) -> fetch -> build -> certify,
#   then the in-container checks of tests/images/run.sh, and a second build that must do
#   nothing. Needs the Docker engine (scripts/ensure-docker). Wheels are cached between runs
#   in the pcgen cache (PCGEN_CACHE, default ~/.cache/pytorch-cuda).
# Last line: "e2e: N passed, N failed".
set -u
PCGEN=${1:?usage: tests/e2e/run.sh PCGEN}
tags=(${E2E_TAGS:-2.6.0-cuda12.4-cudnn9-runtime 2.6.0-cuda12.4-cudnn9-devel})
. "$(dirname "$0")/../lib/suite.sh"

step "docker engine up" scripts/ensure-docker
step "pcgen lock (matrix.lock already pins these tags)" "$PCGEN" lock "${tags[@]}"
step "matrix.lock unchanged by lock" git diff --exit-code -- matrix.lock
step "pcgen fetch --verify (every cached file hashed again)" "$PCGEN" fetch --verify "${tags[@]}"
step "pcgen fetch --offline finds everything" "$PCGEN" fetch --offline "${tags[@]}"
step "pcgen build" "$PCGEN" build "${tags[@]}"
# build's summary table (stdout) has one row per tag, "TAG  ID  SIZE  TIME  STATUS": every
# tag's row must say "up to date"; a rebuilt tag ("built"), a failed one, or a tag with no row
# fails the step.
nothing_built() {
  local pcgen=$1; shift
  local out t row
  out=$("$pcgen" build "$@" 2>/tmp/e2e-build-err.$$) || { echo "$out"; cat /tmp/e2e-build-err.$$; return 1; }
  echo "$out"
  for t in "$@"; do
    row=$(awk -v t="$t" '$1 == t' <<<"$out" | tail -n 1)
    [[ $row == *" up to date" ]] || { echo "$t: ${row:-no row in the summary}: rebuilt, not up to date"; return 1; }
  done
}
step "second pcgen build builds nothing" nothing_built "$PCGEN" "${tags[@]}"
step "pcgen certify" "$PCGEN" certify "${tags[@]}"
# The verifier in a real image, as CI runs it: static level, every check that needs no GPU
# passes; "no driver" fails only under --require-gpu (exit 3); a broken image fails the check
# that names what broke (exit 1).
rt=""
for t in "${tags[@]}"; do case $t in *-runtime) rt=$t ;; esac; done
if [ -n "$rt" ]; then
  img=$("$PCGEN" plan --json | jq -r --arg t "$rt" '.tags[] | select(.tag == $t) | .image')
  cuda=$("$PCGEN" plan --json | jq -r --arg t "$rt" '.tags[] | select(.tag == $t) | .cuda.version')
  step "verifier: static certificate, driver skipped" bash -c \
    "docker run --rm '$img' pytorch-cuda-verify --json | jq -e '.level == \"static\" and .result == \"certified\" and ([.checks[] | select(.name == \"driver\")][0].status == \"skip\")'"
  step "verifier: --require-gpu without a GPU exits 3" bash -c \
    "docker run --rm '$img' pytorch-cuda-verify --require-gpu >/dev/null; test \$? -eq 3"
  step "verifier: libcudnn* removed fails the cudnn check (exit 1)" bash -c \
    "out=\$(docker run --rm '$img' bash -c 'rm -f /usr/local/cuda-$cuda/lib/libcudnn*; pytorch-cuda-verify --json'); rc=\$?; \
     test \$rc -eq 1 && jq -e '[.checks[] | select(.status == \"fail\") | .name] | index(\"cudnn\") != null' <<<\"\$out\""
  step "verifier: an image.env claiming another cuBLAS fails the cublas check (exit 1)" bash -c \
    "out=\$(docker run --rm '$img' bash -c 'sed -i s/^PC_CUBLAS=.*/PC_CUBLAS=12.1.3.1/ /etc/pytorch-cuda/image.env; pytorch-cuda-verify --json'); rc=\$?; \
     test \$rc -eq 1 && jq -e '[.checks[] | select(.status == \"fail\") | .name] == [\"cublas\"]' <<<\"\$out\""
fi
out=$(tests/images/run.sh "$PCGEN" "${tags[@]}" 2>&1); echo "$out" | sed 's/^/  /'
line=$(tail -n1 <<<"$out")
passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")))
failed=$((failed + $(sed -E 's/.*, ([0-9]+) failed.*/\1/' <<<"$line")))
rm -f /tmp/e2e-build-err.$$
finish e2e
