#!/usr/bin/env bash
# tests/workflow/run.sh PCGEN: .github/workflows/images.yml is valid YAML with the structure
# docs/publishing.md, "CI: .github/workflows/images.yml" describes, checked against the real pcgen binary:
#   - jobs plan, build, publish; build needs plan, publish needs build and runs always()
#   - the plan job runs `bin/pcgen plan --github`, writes it to $GITHUB_OUTPUT under the key its
#     `outputs:` expose, and build's strategy.matrix is fromJSON(needs.plan.outputs.<that key>)
#   - what `pcgen plan --github` prints on the repository's matrix.yaml is one line of JSON
#     {"include": [...]} whose entries have every matrix.<field> the build job uses
#   - build runs on vars.GPU_RUNNER (default ubuntu-latest), fail-fast false, uploads artifacts,
#     publishes with --to; it fetches, then runs `bin/pcgen build --lean` (flags pcgen build --help
#     documents), does not actions/cache ~/.cache/pytorch-cuda (the pinned wheels, 10.6 GB, are
#     over GitHub's 10 GB), and its timeout-minutes is 30 to 120 (one job measured, with margin)
#   - secrets appear only as values in env: blocks, never in run: scripts or elsewhere
#   - every `bin/pcgen SUB` the workflow runs exists: `pcgen SUB --help` exits 0
# .github/workflows/kb.yml: a weekly cron (and workflow_dispatch), read-only permissions, pcgen
# built before a step that runs `bin/pcgen kb update --check`; that step is run for real with a
# stand-in bin/pcgen: it must fail and list each missing release in the log and the run's summary
# when the check finds some, and pass when it finds none.
# The checks are also run on broken copies of the workflows, which must fail them.
# Last line: "workflow: N passed, N failed". Needs Python 3 with PyYAML (python3-yaml).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
PCGEN=$(realpath "${1:-${PCGEN:-bin/pcgen}}")
py=python3
"$py" -c 'import yaml' 2>/dev/null || py=/usr/bin/python3
if ! "$py" -c 'import yaml' 2>/dev/null; then
  echo "FAIL: no Python with PyYAML (make deps installs python3-yaml)"
  echo "workflow: 0 passed, 1 failed"
  exit 1
fi
PCGEN="$PCGEN" PCGEN_DATA="${PCGEN_DATA:-$top/generator/data}" exec "$py" - .github/workflows/images.yml <<'EOF'
import copy, json, os, re, subprocess, sys
import yaml

PCGEN = os.environ["PCGEN"]
path = sys.argv[1]
passed = failed = 0

def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)
    return cond

def walk(node, where=()):
    """Every string in the document with the path of keys leading to it."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, where + (str(k),))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, where + (i,))
    elif isinstance(node, str):
        yield where, node

def runs(job):
    return [s.get("run", "") for s in job.get("steps", []) if isinstance(s, dict)]

def secrets_outside_env(doc):
    """Places a secret is used other than as the whole value of a key in an env: block."""
    bad = []
    for where, s in walk(doc):
        if "secrets." not in s:
            continue
        in_env = len(where) >= 2 and where[-2] == "env"
        if not in_env or not re.fullmatch(r"\$\{\{\s*secrets\.[A-Za-z0-9_]+\s*\}\}", s.strip()):
            bad.append("/".join(map(str, where)))
    return bad

def pcgen_subcommands(doc):
    subs = set()
    for where, s in walk(doc):
        if where and where[-1] == "run":
            subs.update(re.findall(r"bin/pcgen\s+([a-z-]+)", s))
    return subs

# One job's measured time with margin (bench/job.sh, BENCHMARKS.md, "One CI job"): a timeout below
# TIMEOUT_MIN would stop a normal job, one above TIMEOUT_MAX leaves a stuck one running for hours.
TIMEOUT_MIN, TIMEOUT_MAX = 30, 120

def structure(doc):
    """The structural checks; returns a list of what is wrong (empty: all good)."""
    wrong = []
    def need(cond, what):
        if not cond:
            wrong.append(what)
        return cond
    jobs = doc.get("jobs") or {}
    for j in ("plan", "build", "publish"):
        need(isinstance(jobs.get(j), dict), "job '%s' exists" % j)
    if wrong:
        return wrong
    plan, build, publish = jobs["plan"], jobs["build"], jobs["publish"]
    as_list = lambda n: n if isinstance(n, list) else [n]
    need("plan" in as_list(build.get("needs", [])), "build needs plan")
    need("build" in as_list(publish.get("needs", [])), "publish needs build")
    need("always()" in str(publish.get("if", "")), "publish runs if: always()")
    m = re.fullmatch(r"\$\{\{\s*fromJSON\(\s*needs\.plan\.outputs\.([A-Za-z0-9_-]+)\s*\)\s*\}\}",
                     str((build.get("strategy") or {}).get("matrix", "")).strip())
    if need(m, "build's strategy.matrix is ${{ fromJSON(needs.plan.outputs.KEY) }}"):
        key = m.group(1)
        out = str((plan.get("outputs") or {}).get(key, ""))
        m2 = re.fullmatch(r"\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\}\}", out.strip())
        if need(m2, "plan exposes output '%s' from a step output" % key):
            sid, skey = m2.groups()
            steps = [s for s in plan.get("steps", []) if isinstance(s, dict) and s.get("id") == sid]
            run = steps[0].get("run", "") if steps else ""
            need("bin/pcgen plan --github" in run, "plan step '%s' runs bin/pcgen plan --github" % sid)
            need(re.search(r"echo\s+\"?%s=\$\(?\S*\"?\s*>>\s*\"?\$GITHUB_OUTPUT" % re.escape(skey), run)
                 or re.search(r"%s=\$\(bin/pcgen plan --github\)" % re.escape(skey), run),
                 "plan step '%s' writes %s=<pcgen plan --github> to $GITHUB_OUTPUT" % (sid, skey))
    need((build.get("strategy") or {}).get("fail-fast") is False, "build has fail-fast: false")
    need("vars.GPU_RUNNER" in str(build.get("runs-on", "")) and "ubuntu-latest" in str(build.get("runs-on", "")),
         "build runs on ${{ vars.GPU_RUNNER || 'ubuntu-latest' }}")
    steps = [s for s in build.get("steps", []) if isinstance(s, dict)]
    uses = lambda a: [s for s in steps if str(s.get("uses", "")).startswith(a)]
    # The wheels matrix.lock pins (10.6 GB) do not fit GitHub's 10 GB cache, and build --lean
    # empties the pcgen cache: no job caches it (docs/publishing.md, "CI: .github/workflows/images.yml").
    need(not [c for c in uses("actions/cache@") if "pytorch-cuda" in str(c.get("with", {}).get("path", ""))],
         "build does not cache ~/.cache/pytorch-cuda (over GitHub's 10 GB; --lean empties it)")
    builds = [s for s in steps if re.search(r"bin/pcgen build\b", str(s.get("run", "")))]
    need(builds and all(re.search(r"bin/pcgen build\s+(\S+\s+)*--lean\b", str(s["run"])) for s in builds),
         "build runs bin/pcgen build --lean (a standard runner's 14 GB)")
    fetch_at = [i for i, s in enumerate(steps) if re.search(r"bin/pcgen fetch\b", str(s.get("run", "")))]
    build_at = [i for i, s in enumerate(steps) if s in builds]
    need(fetch_at and build_at and fetch_at[0] < build_at[0], "build fetches before it builds (one download)")
    tm = build.get("timeout-minutes")
    need(isinstance(tm, int) and TIMEOUT_MIN <= tm <= TIMEOUT_MAX,
         "build's timeout-minutes is %d to %d (BENCHMARKS.md, \"One CI job\"), not %r" % (TIMEOUT_MIN, TIMEOUT_MAX, tm))
    need(len(uses("actions/upload-artifact@")) >= 2, "build uploads results and the publish report")
    text = "\n".join(runs(build))
    for sub in ("lock", "fetch", "build", "certify"):
        need(re.search(r"bin/pcgen %s\b" % sub, text), "build runs bin/pcgen %s" % sub)
    pub = [s for s in steps if "bin/pcgen publish" in s.get("run", "")]
    if need(pub, "build publishes with bin/pcgen publish"):
        s = pub[0]
        need("--to" in s["run"], "publish gives --to")
        # build --lean leaves the layouts without layer files: only the engine's image can go.
        need("--engine docker" in s["run"], "publish after build --lean pushes the engine's image (--engine docker)")
        env = s.get("env") or {}
        need("secrets." in str(env.get("PCGEN_REGISTRY_USER", "")) and "secrets." in str(env.get("PCGEN_REGISTRY_PASSWORD", "")),
             "publish gets PCGEN_REGISTRY_USER/PASSWORD from secrets in env")
        cond = str(s.get("if", ""))
        need("refs/heads/main" in cond and "refs/tags/" in cond and "vars.REGISTRY" in cond,
             "publish only on pushes to main or tags, with vars.REGISTRY set")
    need("GITHUB_STEP_SUMMARY" in "\n".join(runs(publish)), "the publish job writes $GITHUB_STEP_SUMMARY")
    need(any(str(s.get("uses", "")).startswith("actions/download-artifact@") for s in publish.get("steps", [])),
         "the publish job downloads the reports")
    bad = secrets_outside_env(doc)
    need(not bad, "secrets only as env values: %s" % ", ".join(bad))
    return wrong

try:
    doc = yaml.safe_load(open(path))
except Exception as e:
    check(False, "%s is not valid YAML: %s" % (path, e))
    print("workflow: %d passed, %d failed" % (passed, failed))
    sys.exit(1)
check(isinstance(doc, dict) and (doc.get("on") or doc.get(True)), "%s has triggers (on:)" % path)
wrong = structure(doc)
for w in wrong:
    check(False, w)
check(not wrong, "structure")

# What `pcgen plan --github` really prints on the repository's matrix.yaml.
p = subprocess.run([PCGEN, "plan", "--github"], capture_output=True, text=True)
check(p.returncode == 0, "pcgen plan --github exits 0 (exit %d: %s)" % (p.returncode, p.stderr.strip()))
lines = p.stdout.splitlines()
check(len(lines) == 1, "pcgen plan --github prints one line (GITHUB_OUTPUT takes key=value lines)")
try:
    matrix = json.loads(p.stdout)
except ValueError:
    matrix = None
check(isinstance(matrix, dict) and list(matrix) == ["include"] and isinstance(matrix["include"], list)
      and matrix["include"], "pcgen plan --github prints {\"include\": [...]} with entries")
build = (doc.get("jobs") or {}).get("build") or {}
# matrix.X in the build job's expressions (${{ }} and if:), quoted strings left out.
exprs = [x for _, s in walk(build) for x in re.findall(r"\$\{\{(.*?)\}\}", s, re.S)]
exprs += [s for w, s in walk(build) if w and w[-1] == "if"]
fields = sorted({f for x in exprs for f in re.findall(r"\bmatrix\.([A-Za-z_][A-Za-z0-9_-]*)", re.sub(r"'[^']*'", "", x))})
entries = matrix["include"] if isinstance(matrix, dict) and isinstance(matrix.get("include"), list) else []
for f in fields:
    check(entries and all(f in e for e in entries), "every plan --github entry has '%s' (the build job uses matrix.%s)" % (f, f))
check("tag" in fields, "the build job uses matrix.tag")
names = {e.get("tag") for e in entries}
for e in entries:
    if e.get("flavor") == "devel":
        rt = re.sub(r"-devel$", "-runtime", e["tag"])
        check(rt in names, "%s: its runtime %s (built in the same job) is a tag of the plan" % (e["tag"], rt))

# Every pcgen subcommand the workflow runs exists.
subs = pcgen_subcommands(doc)
check(subs >= {"plan", "lock", "fetch", "build", "certify", "publish"}, "the workflow runs plan, lock, fetch, build, certify, publish")
for sub in sorted(subs):
    r = subprocess.run([PCGEN, sub, "--help"], capture_output=True, text=True)
    check(r.returncode == 0, "bin/pcgen %s --help exits 0 (exit %d)" % (sub, r.returncode))

# The checks catch what they are for: broken copies must fail them.
def broken(mutate, what):
    d = copy.deepcopy(doc)
    mutate(d)
    check(structure(d), "a workflow with %s is caught" % what)
def inline_secret(d):
    d["jobs"]["build"]["steps"].append({"run": "echo ${{ secrets.REGISTRY_PASSWORD }} | docker login"})
def secret_in_with(d):
    d["jobs"]["publish"]["steps"].append({"uses": "x/y@v1", "with": {"token": "${{ secrets.T }}"}})
def other_output(d):
    d["jobs"]["build"]["strategy"]["matrix"] = "${{ fromJSON(needs.plan.outputs.tags) }}"
def no_needs(d):
    d["jobs"]["publish"]["needs"] = "plan"
def not_lean(d):
    for st in d["jobs"]["build"]["steps"]:
        if "bin/pcgen build" in str(st.get("run", "")):
            st["run"] = st["run"].replace("--lean ", "")
def cached(d):
    d["jobs"]["build"]["steps"].insert(3, {"uses": "actions/cache@v4", "with": {
        "path": "~/.cache/pytorch-cuda", "key": "pcgen-${{ hashFiles('matrix.lock') }}"}})
def hours(d):
    d["jobs"]["build"]["timeout-minutes"] = 240
broken(inline_secret, "a secret inlined in run:")
broken(secret_in_with, "a secret in with:")
broken(other_output, "a matrix from an output plan does not expose")
broken(no_needs, "publish not needing build")
broken(not_lean, "a build without --lean")
broken(cached, "an actions/cache of the pcgen cache")
broken(hours, "a 240-minute timeout")
# The flags the build step passes are pcgen build's (its --help names each).
flags = set(re.findall(r"bin/pcgen build((?:\s+--[a-z-]+)*)", "\n".join(runs(build)))[0].split()) if re.search(r"bin/pcgen build", "\n".join(runs(build))) else set()
h = subprocess.run([PCGEN, "build", "--help"], capture_output=True, text=True).stdout
check(flags and all(f in h for f in flags), "pcgen build --help documents the build step's flags %s" % sorted(flags))
d = copy.deepcopy(doc)
d["jobs"]["build"]["steps"].append({"run": "bin/pcgen frobnicate"})
r = subprocess.run([PCGEN, "frobnicate", "--help"], capture_output=True, text=True)
check("frobnicate" in pcgen_subcommands(d) and r.returncode != 0, "an unknown subcommand in run: is caught")

# kb.yml: the weekly `pcgen kb update --check`, its step run for real with a stand-in bin/pcgen.
import shutil, tempfile

def cron_weekly(expr):
    """minute hour * * day-of-week: once a week."""
    f = str(expr).split()
    return (len(f) == 5 and f[0].isdigit() and f[1].isdigit() and f[2] == "*" and f[3] == "*"
            and re.fullmatch(r"[0-6]|SUN|MON|TUE|WED|THU|FRI|SAT", f[4], re.I) is not None)

def kb_check_step(d):
    for job in (d.get("jobs") or {}).values():
        for st in (job or {}).get("steps", []):
            if isinstance(st, dict) and "bin/pcgen kb update --check" in str(st.get("run", "")):
                return job, st
    return None, None

def run_step(step, rc, lines):
    """Run the step's script with bin/pcgen printing `lines` and exiting rc: (exit, stdout, summary)."""
    tmp = tempfile.mkdtemp()
    try:
        os.mkdir(os.path.join(tmp, "bin"))
        stub = os.path.join(tmp, "bin", "pcgen")
        with open(stub, "w") as f:
            f.write("#!/bin/sh\n[ \"$*\" = 'kb update --check' ] || exit 9\nprintf '%%s' '%s'\nexit %d\n"
                    % ("".join(l + "\n" for l in lines), rc))
        os.chmod(stub, 0o755)
        summary = os.path.join(tmp, "summary")
        open(summary, "w").close()
        p = subprocess.run(["bash", "-e", "-c", step.get("run", "")], cwd=tmp, capture_output=True, text=True,
                           env=dict(os.environ, GITHUB_STEP_SUMMARY=summary))
        return p.returncode, p.stdout, open(summary).read()
    finally:
        shutil.rmtree(tmp)

def kb_structure(d):
    wrong = []
    on = d.get("on") or d.get(True) or {}
    crons = [c.get("cron") for c in (on.get("schedule") or []) if isinstance(c, dict)] if isinstance(on, dict) else []
    if not (crons and all(cron_weekly(c) for c in crons)):
        wrong.append("kb.yml runs on a weekly schedule (cron 'M H * * D')")
    if not (isinstance(on, dict) and "workflow_dispatch" in on):
        wrong.append("kb.yml can be run by hand (workflow_dispatch)")
    if (d.get("permissions") or {}) != {"contents": "read"}:
        wrong.append("kb.yml only reads the repository (permissions: contents: read)")
    job, step = kb_check_step(d)
    if step is None:
        return wrong + ["a step runs bin/pcgen kb update --check"]
    steps = [s for s in job.get("steps", []) if isinstance(s, dict)]
    before = steps[:steps.index(step)]
    if not any(re.search(r"\bmake\b", str(s.get("run", ""))) for s in before):
        wrong.append("pcgen is built (make) before the check")
    if step.get("continue-on-error") or job.get("continue-on-error"):
        wrong.append("the check step may not continue on error")
    missing = ["torch 2.16.0: on PyPI (uploaded 2026-12-01), not in generator/data/torch.yaml",
               "torch 2.16.1: on PyPI (uploaded 2026-12-02), not in generator/data/torch.yaml"]
    rc, out, summary = run_step(step, 1, missing)
    if rc == 0:
        wrong.append("the check step fails when pcgen kb update --check finds missing releases")
    if not all(m in out and m in summary for m in missing):
        wrong.append("the check step lists every missing release in its log and the run's summary")
    rc, out, summary = run_step(step, 0, [])
    if rc != 0:
        wrong.append("the check step passes when nothing is missing (exit %d)" % rc)
    return wrong

kb_path = os.path.join(os.path.dirname(path), "kb.yml")
try:
    kb = yaml.safe_load(open(kb_path))
except Exception as e:
    kb = None
    check(False, "%s is valid YAML: %s" % (kb_path, e))
if kb is not None:
    wrong = kb_structure(kb)
    for w in wrong:
        check(False, w)
    check(not wrong, "kb.yml structure")
    for sub in sorted(pcgen_subcommands(kb)):
        r = subprocess.run([PCGEN, sub, "--help"], capture_output=True, text=True)
        check(r.returncode == 0, "kb.yml: bin/pcgen %s --help exits 0 (exit %d)" % (sub, r.returncode))
    r = subprocess.run([PCGEN, "kb", "update", "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and "--check" in r.stdout, "pcgen kb update --help documents --check")
    def kb_broken(mutate, what):
        d = copy.deepcopy(kb)
        mutate(d)
        check(kb_structure(d), "a kb.yml with %s is caught" % what)
    def swallow(d):
        _, st = kb_check_step(d)
        st["run"] = "bin/pcgen kb update --check || true"
    def daily(d):
        (d.get("on") or d.get(True))["schedule"] = [{"cron": "17 6 * * *"}]
    def tolerant(d):
        _, st = kb_check_step(d)
        st["continue-on-error"] = True
    def silent(d):
        _, st = kb_check_step(d)
        st["run"] = "bin/pcgen kb update --check > /dev/null"
    def writer(d):
        d["permissions"] = {"contents": "write"}
    kb_broken(swallow, "the check's failure swallowed (|| true)")
    kb_broken(daily, "a daily schedule")
    kb_broken(tolerant, "continue-on-error")
    kb_broken(silent, "the missing releases not listed")
    kb_broken(writer, "write permission")

print("workflow: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
