#!/usr/bin/env bash
# tests/registry/signals.sh PCGEN: no signal that can end `pcgen publish --engine docker` leaves the private
# docker config (base64 of user:password) on disk. No Docker engine and no registry: a fake
# docker (PCGEN_DOCKER) answers `version` and then takes FAKE_SLEEP seconds over `image inspect`,
# the first engine call after publish has written /tmp/pcgen-docker-config.*/config.json, so the
# signal arrives while publish is in progress with the credentials on disk. For each of HUP INT
# QUIT ALRM TERM USR1 USR2 the process must end by that signal and its folder must be gone; for
# PIPE (`pcgen publish | true`) pcgen must carry on to its own end (exit 1: the tag is refused,
# not built) and remove the folder too.
# Last line: "signals: N passed, N failed"; a failure keeps the folder (path printed).
set -u
PCGEN=$(realpath "${1:?usage: tests/registry/signals.sh PCGEN}")
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/pcgen-signals.XXXXXX)
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "  ok   $*"; }
ko() { failed=$((failed + 1)); echo "  FAIL $*"; }
# Job control: a background job gets SIGINT and SIGQUIT as a foreground one would (without it,
# bash starts background jobs with them ignored, and an ignored signal ends nothing).
set -m

# The fake engine. `docker version --format {{.Server.Version}}` prints a version as the CLI
# does; `docker image inspect` writes its pid (so this script can end its sleep) and then says
# "No such image" with exit 1, as the CLI does for a missing image.
cat >"$tmp/docker" <<'EOF'
#!/usr/bin/env bash
case $1 in
  version) echo "20.10.24-fake" ;;
  image) echo $$ >"$FAKE_STATE/inspect.pid"; sleep "${FAKE_SLEEP:-0}"
         echo "Error: No such image: ${!#}" >&2; exit 1 ;;
  *) echo "fake docker: $1: not supported" >&2; exit 2 ;;
esac
EOF
chmod +x "$tmp/docker"
mkdir -p "$tmp/proj"
cat >"$tmp/proj/matrix.yaml" <<'EOF'
repository: myrepo/pytorch-cuda
base: debian-bookworm
python: "3.11"
torch: ["2.6.0"]
cuda: ["12.4"]
flavors: [runtime]
EOF
export PCGEN_DOCKER=$tmp/docker PCGEN_DATA=$top/generator/data FAKE_STATE=$tmp
export PCGEN_REGISTRY_USER=ci PCGEN_REGISTRY_PASSWORD=s3cret-signals
tag=2.6.0-cuda12.4-cudnn9-runtime
cd "$tmp/proj"

configs() { ls -d /tmp/pcgen-docker-config.* 2>/dev/null | sort; }
# The folders that appeared since `before` (this run's: others' are left alone).
new_configs() { comm -13 <(printf '%s\n' "$before") <(configs); }
end_fake() { [ -s "$tmp/inspect.pid" ] && kill "$(cat "$tmp/inspect.pid")" 2>/dev/null; rm -f "$tmp/inspect.pid"; }

for sig in HUP INT QUIT ALRM TERM USR1 USR2; do
  before=$(configs)
  rm -f "$tmp/inspect.pid"
  # env --default-signal: pcgen starts with every signal at its default, whatever this script
  # inherited (run under nohup, or as a background job of a shell without job control, HUP, INT
  # and QUIT arrive ignored, and pcgen rightly leaves an ignored signal ignored: it cannot end it)
  FAKE_SLEEP=30 env --default-signal "$PCGEN" publish --engine docker --to localhost:5000 --report "$tmp/report.json" "$tag" >"$tmp/out.$sig" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -s "$tmp/inspect.pid" ] && break; sleep 0.1; done
  mine=$(new_configs)
  if [ -z "$mine" ] || [ ! -e "$mine/config.json" ]; then
    ko "$sig: no private config on disk while publish runs (${mine:-none})"; kill -KILL "$pid"; wait "$pid"; end_fake; continue
  fi
  kill -s "$sig" "$pid"
  wait "$pid"; rc=$?
  end_fake
  want=$((128 + $(kill -l "$sig")))
  [ "$rc" -eq "$want" ] && ok "$sig ends publish by that signal (exit $rc)" || ko "$sig: exit $rc, want $want"
  if [ -e "$mine" ]; then ko "$sig left $mine behind"; rm -rf "$mine"; else ok "$sig: $mine removed"; fi
done

# SIGPIPE: stdout is a pipe whose reader has gone; publish's summary line gets EPIPE.
before=$(configs)
FAKE_SLEEP=1 "$PCGEN" publish --engine docker --to localhost:5000 --report "$tmp/report.json" "$tag" 2>"$tmp/err.PIPE" | true
rc=${PIPESTATUS[0]}
end_fake
mine=$(new_configs)
[ "$rc" -eq 1 ] && ok "PIPE: publish ends on its own (exit 1, the tag refused)" || ko "PIPE: exit $rc, want 1 (141 is death by SIGPIPE)"
if [ -n "$mine" ]; then ko "PIPE left $mine behind"; rm -rf "$mine"; else ok "PIPE: no private config left"; fi

grep -l 's3cret-signals' "$tmp"/out.* "$tmp/err.PIPE" 2>/dev/null && ko "the password in publish's output"
grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp"/out.* "$tmp/err.PIPE" && ko "sanitizer report"
if [ "$failed" -eq 0 ]; then cd / && rm -rf "$tmp"; else echo "kept $tmp"; fi
echo "signals: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
