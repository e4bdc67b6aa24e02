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
passed=0 failed=0
step() { local what=$1; shift; local t0=$SECONDS
  if "$@" >/tmp/e2e-step.$$ 2>&1; then passed=$((passed + 1)); echo "  ok   $what ($((SECONDS - t0))s)"
  else failed=$((failed + 1)); echo "  FAIL $what ($((SECONDS - t0))s)"; tail -n 30 /tmp/e2e-step.$$ | sed 's/^/       /'; fi; }

step "docker engine up" scripts/ensure-docker
step "pcgen lock (matrix.lock already pins these tags)" "$PCGEN" lock "${tags[@]}"
step "matrix.lock unchanged by lock" git diff --exit-code -- matrix.lock
step "pcgen fetch" "$PCGEN" fetch "${tags[@]}"
step "pcgen fetch --offline finds everything" "$PCGEN" fetch --offline "${tags[@]}"
step "pcgen build" "$PCGEN" build "${tags[@]}"
step "second pcgen build builds nothing" bash -c '"$0" build "$@" 2>&1 | tee /dev/stderr | grep -q "up to date" && ! "$0" build "$@" 2>&1 | grep -q "docker build"' "$PCGEN" "${tags[@]}"
step "pcgen certify" "$PCGEN" certify "${tags[@]}"
out=$(tests/images/run.sh "$PCGEN" "${tags[@]}" 2>&1); echo "$out" | sed 's/^/  /'
line=$(tail -n1 <<<"$out")
passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")))
failed=$((failed + $(sed -E 's/.*, ([0-9]+) failed.*/\1/' <<<"$line")))
rm -f /tmp/e2e-step.$$
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
