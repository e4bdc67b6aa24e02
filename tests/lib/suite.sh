# suite.sh: the prelude of tests/*/run.sh, sourced after `set -u` (CONTRIBUTING.md).
#   ok WHAT            count a check that passed; prints "  ok   WHAT"
#   ko WHAT            count a check that failed; prints "  FAIL WHAT" (run-tests shows it, and
#                      the lines indented under it, in CI's log)
#   expect WHAT CMD..  run CMD, what it prints kept aside; its exit status is the check. When it
#                      fails, the last 15 lines it printed, indented under the FAIL line
#   step WHAT CMD..    the same for a long step of a pipeline: the seconds it took after WHAT,
#                      and the last 30 lines when it fails
#   cleanup            defined by a suite that needs it (servers, folders, images): runs at exit,
#                      however the suite ends
#   finish NAME        the last line run-tests reads, "NAME: N passed, N failed", then exit: 0
#                      when nothing failed
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "  ok   $*"; }
ko() { failed=$((failed + 1)); echo "  FAIL $*"; }
suite_out=$(mktemp /tmp/pcgen-suite.XXXXXX)
expect() {
  local what=$1; shift
  if "$@" >"$suite_out" 2>&1; then ok "$what"; else ko "$what"; tail -n 15 "$suite_out" | sed 's/^/       /'; fi
}
step() {
  local what=$1 t0=$SECONDS; shift
  if "$@" >"$suite_out" 2>&1; then ok "$what ($((SECONDS - t0))s)"; else
    ko "$what ($((SECONDS - t0))s)"; tail -n 30 "$suite_out" | sed 's/^/       /'; fi
}
suite_exit() { if declare -F cleanup >/dev/null; then cleanup; fi; rm -f "$suite_out"; }
trap suite_exit EXIT
finish() { echo "$1: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }
