#!/usr/bin/env bash
# tests/bake/run.sh PCGEN: the bake file `pcgen bake --no-stage` writes for the repository's
# matrix.yaml, checked against the rules `docker buildx bake` applies (no Docker needed):
#   - group "default" names only targets of the file; target names are [A-Za-z0-9_-]
#   - a target has a context and a dockerfile (joined to the context, as bake does) that is
#     the committed images/<tag>/Dockerfile, or a dockerfile-inline (the base)
#   - every "target:NAME" context names a target of the file, and there is no cycle
#   - every arg is an ARG its Dockerfile declares before FROM ${ARG}, and its value is the
#     name of one of the target's contexts, so BuildKit takes FROM from that target
#   - the tags of a target are the tag's image and its aliases (pcgen plan --json); every tag
#     with a source has a target, none without
# When `docker buildx` is installed, `docker buildx bake --print` must accept the file too
# (Debian's docker.io has no buildx: then that check is reported as skipped).
# Last line: "bake: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
PCGEN=$(realpath "${1:-${PCGEN:-bin/pcgen}}")
tmp=$(mktemp -d /tmp/pcgen-bake.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
if ! "$PCGEN" bake --no-stage -o "$tmp/docker-bake.json" >"$tmp/out" 2>"$tmp/err"; then
  echo "FAIL: pcgen bake --no-stage exited non-zero:"; cat "$tmp/err"
  echo "bake: 0 passed, 1 failed"; exit 1
fi
"$PCGEN" plan --json >"$tmp/plan.json" || { echo "FAIL: pcgen plan --json"; echo "bake: 0 passed, 1 failed"; exit 1; }
if docker buildx version >/dev/null 2>&1; then
  if docker buildx bake --print -f "$tmp/docker-bake.json" >"$tmp/print" 2>&1; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: docker buildx bake --print refuses the file:"; head -n 20 "$tmp/print"; fi
else
  echo "bake: docker buildx is not installed here: bake --print skipped, the file checked by its rules"
fi
python3 - "$tmp/docker-bake.json" "$tmp/plan.json" "$passed" "$failed" <<'EOF'
import json, os, posixpath, re, sys
bake = json.load(open(sys.argv[1]))
plan = json.load(open(sys.argv[2]))
passed, failed = int(sys.argv[3]), int(sys.argv[4])
def check(cond, what):
    global passed, failed
    if cond: passed += 1
    else:
        failed += 1; print("FAIL: " + what)
    return cond

targets = bake.get("target", {})
check(set(bake) <= {"group", "target", "variable"}, "only group, target, variable at the top: %s" % sorted(bake))
default = bake.get("group", {}).get("default", {}).get("targets", [])
check(default and all(t in targets for t in default), "group default names targets of the file")
for name, t in targets.items():
    check(re.fullmatch(r"[A-Za-z0-9_-]+", name), "target name '%s' is [A-Za-z0-9_-]" % name)
    check(isinstance(t.get("context"), str), "%s has a context" % name)
    check(("dockerfile" in t) != ("dockerfile-inline" in t), "%s has a dockerfile or a dockerfile-inline" % name)
    for k, v in t.get("contexts", {}).items():
        if v.startswith("target:"):
            check(v[7:] in targets, "%s: context %s names a target of the file (%s)" % (name, k, v))
# No cycle through target: contexts.
def deps(n):
    return [v[7:] for v in targets.get(n, {}).get("contexts", {}).values() if v.startswith("target:")]
for n in targets:
    seen, todo = set(), deps(n)
    while todo:
        d = todo.pop()
        if d in seen: continue
        seen.add(d); todo += deps(d)
    check(n not in seen, "%s does not depend on itself" % n)

tags = {t["tag"]: t for t in plan["tags"]}
made = {}
for name, t in targets.items():
    if "dockerfile" not in t:
        check("ADD rootfs.tar /" in t["dockerfile-inline"] and t["context"].startswith("build/context/base-"),
              "%s: the base is built from build/context/base-*/rootfs.tar" % name)
        continue
    df = posixpath.normpath(posixpath.join(t["context"], t["dockerfile"]))
    tag = t["context"].rsplit("/", 1)[-1]
    made[tag] = name
    check(df == "images/%s/Dockerfile" % tag and os.path.exists(df), "%s: dockerfile is images/%s/Dockerfile (%s)" % (name, tag, df))
    check(t["context"] == "build/context/" + tag, "%s: context is build/context/<tag>" % name)
    check(name == tag.replace(".", "-"), "%s is the tag with '.' as '-'" % name)
    p = tags.get(tag)
    if not check(p is not None, "%s is a tag of the plan" % tag): continue
    check(t.get("tags") == [p["image"]] + p["aliases"], "%s: tags are the image and its aliases" % name)
    text = open(df).read() if os.path.exists(df) else ""
    head = text.split("\nFROM ", 1)[0]
    for arg, val in t.get("args", {}).items():
        check(re.search(r"^ARG %s(=|$)" % re.escape(arg), head, re.M), "%s: ARG %s is declared before FROM" % (name, arg))
        check(re.search(r"^FROM \$\{%s\}" % re.escape(arg), text, re.M), "%s: FROM ${%s}" % (name, arg))
        check(val in t.get("contexts", {}), "%s: %s=%s names one of its contexts" % (name, arg, val))
    if p["flavor"] == "devel":
        rt = p["from"].rsplit(":", 1)[-1]
        check(t.get("contexts", {}).get("runtime") == "target:" + rt.replace(".", "-"),
              "%s: context runtime is the target of %s" % (name, rt))
        check(t.get("args", {}).get("RUNTIME_IMAGE") == "runtime", "%s: RUNTIME_IMAGE=runtime" % name)
for tag, p in tags.items():
    want = p["source"]["kind"] != "unavailable"
    check((tag in made) == want, "%s %s a target (source %s)" % (tag, "has" if want else "has no", p["source"]["kind"]))
    check((made.get(tag, "") in default) == want, "%s %s in group default" % (tag, "is" if want else "is not"))
print("bake: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
