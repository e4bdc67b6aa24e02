#!/usr/bin/env bash
# tests/kb/run.sh PCGEN: `pcgen kb update [--check]` against a local replica of PyPI's simple API
# (tests/kb/replica.py: PEP 691 JSON, PEP 658/714 metadata files, RFC 9110 byte ranges, on
# 127.0.0.1) serving small synthetic torch wheels: the releases it finds missing, the entry it
# writes from each wheel's METADATA (range requests, the .metadata file, a full download from a
# server without ranges), what it refuses, and validate refusing a matrix that needs a fact the
# update marked unknown. No Docker, no network. Last line: "kb: N passed, N failed".
set -u
PCGEN=$(realpath "${1:?usage: tests/kb/run.sh PCGEN}")
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/suite.sh"

work=$(mktemp -d /tmp/pcgen-kb.XXXXXX)
server=""
stop() { if [ -n "$server" ]; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; server=""; fi; }
cleanup() { stop; }
cd "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PCGEN_PYPI_SIMPLE="http://127.0.0.1:$port/simple"
# Start the replica over ./index with the given options.
serve() {
  stop
  rm -f index/requests.log
  python3 "$top/tests/kb/replica.py" index "$port" "$@" >server.log 2>&1 &
  server=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/simple/torch/" && break; sleep 0.1; done
  rm -f index/requests.log
}
# A fresh copy of the knowledge base.
fresh() { rm -rf data; cp -r "$top/generator/data" data; export PCGEN_DATA=$work/data; }

# mkwheel VERSION TAGS CUDA_PIN [REQUIRES_PYTHON]: torch-VERSION-TAG.whl for each TAG ("cp311-cp311-
# manylinux_2_28_x86_64"), METADATA as torch's (Requires-Dist with markers, extras, ranges), with
# 300 kB of incompressible data before the .dist-info, so a full download shows in the byte counts.
mkwheel() {
  python3 - "$@" <<'PY'
import os, sys, zipfile
version, tags, cuda = sys.argv[1], sys.argv[2].split(), sys.argv[3]
rp = sys.argv[4] if len(sys.argv) > 4 else ">=3.11"
meta = """Metadata-Version: 2.4
Name: torch
Version: %s
Summary: Tensors and Dynamic neural networks in Python with strong GPU acceleration
Requires-Python: %s
License-File: LICENSE
Requires-Dist: filelock
Requires-Dist: typing-extensions>=4.13.0
Requires-Dist: cuda-toolkit[cublas,cudart,cufft,nvrtc]==%s; platform_system == "Linux"
Requires-Dist: cuda-bindings<14,>=13.0.3; platform_system == "Linux" and python_version < "3.15"
Requires-Dist: nvidia-cublas<=13.1.1.3,>=13.1.0.3; platform_system == "Linux"
Requires-Dist: nvidia-cudnn-cu13==9.30.0.1; platform_system == "Linux"
Requires-Dist: nvidia-nccl-cu13==2.31.1; platform_system == "Linux"
Requires-Dist: triton~=3.9.0; platform_system == "Linux" and python_version < "3.16"
Provides-Extra: optree
Requires-Dist: optree>=0.13.0; extra == "optree"
Requires-Dist: nvidia-fake-extra==1.0; extra == "optree"

Description text: Requires-Dist: nvidia-not-a-header==0.0
""" % (version, rp, cuda)
os.makedirs("index/files", exist_ok=True)
for tag in tags:
    with zipfile.ZipFile("index/files/torch-%s-%s.whl" % (version, tag), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("torch/__init__.py", "")
        z.writestr("torch/lib/libtorch_cuda.so", os.urandom(300000))
        z.writestr("torch-%s.dist-info/METADATA" % version, meta)
        z.writestr("torch-%s.dist-info/WHEEL" % version, "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n")
        z.writestr("torch-%s.dist-info/RECORD" % version, "")
PY
}

# The releases the knowledge base knows, and two it does not track: a superseded patch release
# of a known line (2.1.0; 2.1.2 is known) and a line older than its oldest (1.13.1).
mkwheel 2.15.0 "cp311-cp311-manylinux_2_28_x86_64 cp312-cp312-manylinux_2_28_x86_64" 13.2.2
mkwheel 2.1.0 "cp311-cp311-manylinux1_x86_64" 12.1.0
mkwheel 1.13.1 "cp310-cp310-manylinux1_x86_64" 11.7.0
fresh
serve

"$PCGEN" kb update --check >out 2>err; rc=$?
expect "--check exits 0 when the index has nothing new (got $rc: $(cat err))" [ "$rc" -eq 0 ]
expect "--check prints nothing on stdout when up to date" [ ! -s out ]
expect "--check reads the page with the PEP 691 Accept header" grep -q '^GET /simple/torch/ - 200' index/requests.log
expect "--check says what it read (stderr)" grep -q "kb: 3 torch releases on the index, 0 missing" err

# One more release: 2.16.0, wheels for 3.11 ... 3.14, a free-threaded one, and others that do not
# count (aarch64, macOS); the oldest CPython tag is older than Requires-Python.
mkwheel 2.16.0 "cp310-cp310-manylinux_2_28_x86_64 cp311-cp311-manylinux_2_28_x86_64 cp314-cp314-manylinux_2_28_x86_64 cp314-cp314t-manylinux_2_28_x86_64 cp315-cp315-manylinux_2_28_aarch64 cp315-cp315-macosx_14_0_arm64" 13.0.2
# and a yanked one, which is not a release to add.
mkwheel 2.17.0 "cp311-cp311-manylinux_2_28_x86_64" 13.0.2
serve --yank 2.17.0
cp data/torch.yaml torch.before
"$PCGEN" kb update --check >out 2>err; rc=$?
expect "--check exits 1 when PyPI has a release the knowledge base lacks (got $rc)" [ "$rc" -eq 1 ]
expect "--check names the missing release" grep -q '^torch 2.16.0: on PyPI (uploaded 20[0-9-]*), not in .*/torch.yaml$' out
expect "--check lists only it (not 2.1.0, 1.13.1, yanked 2.17.0): $(cat out)" [ "$(wc -l <out)" -eq 1 ]
expect "--check changes nothing" cmp -s torch.before data/torch.yaml

# The update through range requests (the replica offers no .metadata, as PyPI for torch today).
"$PCGEN" kb update >out 2>err; rc=$?
expect "update exits 0 (got $rc: $(cat err))" [ "$rc" -eq 0 ]
expect "update says what it added" grep -qx 'torch 2.16.0: added from torch-2.16.0-cp311-cp311-manylinux_2_28_x86_64.whl' out
expect "update reads the cp311 wheel by range requests (stderr: $(grep "kb: torch 2.16.0: [a-z]" err))" grep -q "kb: torch 2.16.0: range requests, [1-3] requests\?," err
wheel=index/files/torch-2.16.0-cp311-cp311-manylinux_2_28_x86_64.whl
size=$(stat -c %s "$wheel")
expect "every request for the wheel is a range request" \
  bash -c "! grep -E '^GET /files/.*\.whl - ' index/requests.log"
got=$(awk '$2 ~ /\.whl$/ { n += $5 } END { print n + 0 }' index/requests.log)
expect "the range requests read less than half the wheel ($got of $size bytes)" [ "$got" -lt $((size / 2)) ]
expect "the range requests answered 206" bash -c "grep '\.whl bytes=' index/requests.log | awk '\$4 != 206 { exit 1 }'"
sha=$(sha256sum "$wheel" | cut -d' ' -f1)
cat > expected.entry <<YAML
  - version: "2.16.0"
    python: ["3.11", "3.14"]
    pypi: "13.0"
    source: wheel-2.16.0
    # written by \`pcgen kb update\`: the wheel does not tell the CUDA variants of PyTorch's own index
    unknown: [variants]
    variants:
      - cuda: "13.0"
        cudnn: "9.30.0.1"
        unknown: [arch_list]
        pins_source: wheel-2.16.0
        pins:
          cuda-toolkit: "13.0.2"
          nvidia-cudnn-cu13: "9.30.0.1"
          nvidia-nccl-cu13: "2.31.1"
YAML
tail -n "$(wc -l <expected.entry)" data/torch.yaml >got.entry
expect "the entry is appended at the end, as expected.entry: $(diff expected.entry got.entry | head -20)" cmp -s expected.entry got.entry
expect "the sources map names the wheel and its sha256" \
  grep -qx "  wheel-2.16.0: \"METADATA of torch-2.16.0-cp311-cp311-manylinux_2_28_x86_64.whl from PyPI (sha256 $sha)\"" data/torch.yaml
expect "the update only adds lines (comments and entries kept)" \
  bash -c "diff torch.before data/torch.yaml | grep -q '^<' && exit 1 || exit 0"
expect "the source line sits with the other wheel- sources" \
  bash -c "grep -n '^  wheel-' data/torch.yaml | tail -n 2 | head -n 1 | grep -q 'wheel-2.15.0'"
cp data/torch.yaml range.yaml
"$PCGEN" kb update --check >out 2>err; rc=$?
expect "--check exits 0 after the update (got $rc: $(cat out))" [ "$rc" -eq 0 ]
"$PCGEN" kb update >out 2>err; rc=$?
expect "a second update exits 0 and changes nothing" bash -c "[ $rc -eq 0 ] && cmp -s range.yaml data/torch.yaml"

# validate: a matrix that needs what the update marked unknown is refused, naming it.
cat > m1.yaml <<'YAML'
repository: kbtest/pytorch-cuda
base: debian-bookworm
python: "3.11"
torch: ["2.16.0"]
cuda: ["13.0"]
flavors: [runtime]
YAML
"$PCGEN" validate m1.yaml >out 2>err; rc=$?
expect "validate refuses torch 2.16.0 with its unknown arch_list (exit $rc)" [ "$rc" -eq 1 ]
expect "validate names the unknown fact: $(head -n 3 err)" grep -q 'torch 2.16.0 with CUDA 13.0: the knowledge base marks its arch_list unknown' err
sed 's/cuda: \["13.0"\]/cuda: ["12.8"]/' m1.yaml > m2.yaml
"$PCGEN" validate m2.yaml >out 2>err; rc=$?
expect "validate refuses torch 2.16.0 with CUDA 12.8 (exit $rc)" [ "$rc" -eq 1 ]
expect "validate says the other variants are unknown, not unpublished: $(head -n 3 err)" \
  grep -q 'torch 2.16.0 with CUDA 12.8: unknown; the knowledge base marks the variants of torch 2.16.0 other than 13.0 unknown' err
# Filled in by hand (arch_list and its source): accepted.
python3 - data/torch.yaml <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
s = s.replace('        unknown: [arch_list]\n        pins_source: wheel-2.16.0', '        arch_list: "7.5;8.0;8.6;9.0;10.0;12.0+PTX"\n        arch_source: manywheel\n        pins_source: wheel-2.16.0')
open(p, "w").write(s)
PY
"$PCGEN" validate m1.yaml >out 2>err; rc=$?
expect "validate accepts it once arch_list is filled in (exit $rc: $(head -n 3 err))" [ "$rc" -eq 0 ]
# 'unknown' names only facts it knows, and not one that is also given.
sed 's/        arch_source: manywheel\n//' data/torch.yaml >/dev/null
python3 - data/torch.yaml <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
s = s.replace('    unknown: [variants]\n    variants:\n      - cuda: "13.0"\n        cudnn: "9.30.0.1"\n        arch_list:', '    unknown: [variants]\n    variants:\n      - cuda: "13.0"\n        cudnn: "9.30.0.1"\n        unknown: [arch_list, colour]\n        arch_list:')
open(p, "w").write(s)
PY
"$PCGEN" validate m1.yaml >out 2>err; rc=$?
expect "a broken 'unknown' list is an error of the knowledge base (exit $rc)" [ "$rc" -eq 1 ]
expect "it names the bad entry: $(grep -m2 unknown err)" grep -q "'unknown' lists 'colour'; valid: arch_list, cudnn" err
expect "it names a fact both given and unknown" grep -q "'arch_list' is both given and listed as unknown" err

# PEP 658: the index offers the METADATA file: the wheel is not touched.
rm index/files/torch-2.17.0-*
fresh
serve --core-metadata
"$PCGEN" kb update >out 2>err; rc=$?
expect "update with core-metadata exits 0 (got $rc: $(cat err))" [ "$rc" -eq 0 ]
expect "it reads the .metadata file (stderr)" grep -q 'kb: torch 2.16.0: PEP 658 .metadata, 1 request' err
expect "it fetched the .metadata file" grep -q "^GET /files/torch-2.16.0-cp311-cp311-manylinux_2_28_x86_64.whl.metadata - 200" index/requests.log
expect "it did not touch a wheel" bash -c "! grep -qE '\.whl ' index/requests.log"
expect "the same entry as through ranges: $(diff range.yaml data/torch.yaml | head -n 8)" cmp -s range.yaml data/torch.yaml
# PEP 714: an index older than it names the key data-dist-info-metadata only.
fresh
serve --core-metadata --legacy-metadata-key
"$PCGEN" kb update >out 2>err; rc=$?
expect "update with data-dist-info-metadata only exits 0 (got $rc)" [ "$rc" -eq 0 ]
expect "it reads the .metadata file all the same" grep -q 'PEP 658 .metadata' err
# A .metadata file whose sha256 is not the index's: refused.
fresh
serve --core-metadata --bad-metadata-hash
"$PCGEN" kb update >out 2>err; rc=$?
expect "a .metadata file with another sha256 is refused (exit $rc)" [ "$rc" -eq 3 ]
expect "the error names the URL and both hashes: $(cat err | tail -n 1)" \
  grep -q "pcgen: error: torch 2.16.0: http://127.0.0.1:$port/files/torch-2.16.0-cp311-cp311-manylinux_2_28_x86_64.whl.metadata: sha256 [0-9a-f]\{64\}, but the index says core-metadata sha256 [0-9a-f]\{64\}" err
expect "nothing written when the only release is refused" cmp -s torch.before data/torch.yaml

# A server without range support (python3 -m http.server's kind): the whole wheel, checked.
fresh
serve --no-ranges
"$PCGEN" kb update >out 2>err; rc=$?
expect "update from a server without ranges exits 0 (got $rc: $(cat err))" [ "$rc" -eq 0 ]
expect "it falls back to a full download (stderr)" grep -q 'kb: torch 2.16.0: full download, [0-9]* requests' err
expect "the full download is one plain GET" grep -q "^GET /files/torch-2.16.0-cp311-cp311-manylinux_2_28_x86_64.whl - 200 $size" index/requests.log
expect "the same entry as through ranges: $(diff range.yaml data/torch.yaml | head -n 8)" cmp -s range.yaml data/torch.yaml
expect "no temporary wheel left behind" bash -c "! ls /tmp/pcgen-wheel-* 2>/dev/null | grep -q ."
fresh
serve --no-ranges --wrong-sha256
"$PCGEN" kb update >out 2>err; rc=$?
expect "a downloaded wheel with another sha256 than the index's is refused (exit $rc)" [ "$rc" -eq 3 ]
expect "the error names the URL and both hashes: $(tail -n 1 err)" \
  grep -q "torch-2.16.0-cp311-cp311-manylinux_2_28_x86_64.whl: sha256 $sha, but the index says [0-9a-f]\{64\}" err
expect "nothing written" cmp -s torch.before data/torch.yaml

# An index that answers HTML (PEP 503 only).
serve --html-only
"$PCGEN" kb update --check >out 2>err; rc=$?
expect "an HTML answer is an error (exit $rc)" [ "$rc" -eq 3 ]
expect "the error names the URL and the type expected: $(cat err)" \
  grep -q "pcgen: error: http://127.0.0.1:$port/simple/torch/: expected Content-Type application/vnd.pypi.simple.v1+json, got 'text/html'" err
# --index overrides the environment; an index nobody answers.
stop
"$PCGEN" kb update --check --index "http://127.0.0.1:$port/simple/" >out 2>err; rc=$?
expect "an unreachable index exits 3 (got $rc)" [ "$rc" -eq 3 ]
expect "the error names the URL: $(cat err)" grep -q "cannot read http://127.0.0.1:$port/simple/torch/" err

# A patch release of an older line comes after the last release of its line, not at the end;
# a CUDA that cuda.yaml does not know is refused, the other release still written.
rm index/files/torch-2.16.0-*
mkwheel 2.11.1 "cp39-cp39-manylinux_2_28_x86_64 cp310-cp310-manylinux_2_28_x86_64 cp311-cp311-manylinux_2_28_x86_64" 13.0.2 ">=3.10"
mkwheel 2.16.0 "cp311-cp311-manylinux_2_28_x86_64" 14.1.0
fresh
serve
"$PCGEN" kb update >out 2>err; rc=$?
expect "a release needing an unknown CUDA: exit 1 (got $rc)" [ "$rc" -eq 1 ]
expect "it says cuda.yaml lacks CUDA 14.1: $(tail -n 1 err)" \
  grep -q "pcgen: error: torch 2.16.0's wheel needs CUDA 14.1 (cuda-toolkit==14.1.0), which generator/data/cuda.yaml does not know" err
expect "2.11.1 written all the same" grep -qx 'torch 2.11.1: added from torch-2.11.1-cp311-cp311-manylinux_2_28_x86_64.whl' out
expect "2.11.1 comes right before 2.12.0" \
  bash -c "grep -A1 -B0 '^  - version: \"2.11.1\"' data/torch.yaml >/dev/null && awk '/^  - version:/ { print \$3 }' data/torch.yaml | grep -A1 '\"2.11.1\"' | tail -n 1 | grep -qx '\"2.12.0\"'"
expect "its python range comes from Requires-Python and the tags" \
  bash -c "grep -A1 '^  - version: \"2.11.1\"' data/torch.yaml | grep -qx '    python: \[\"3.10\", \"3.11\"\]'"

# Usage.
"$PCGEN" kb >out 2>err; rc=$?
expect "pcgen kb without a command: exit 2 (got $rc)" [ "$rc" -eq 2 ]
"$PCGEN" kb upgrade >out 2>err; rc=$?
expect "an unknown kb command is named (exit $rc)" bash -c "[ $rc -eq 2 ] && grep -q \"unknown kb command 'upgrade'\" err"
"$PCGEN" kb update now >out 2>err; rc=$?
expect "kb update takes no operand (exit $rc)" [ "$rc" -eq 2 ]
"$PCGEN" kb update --help >out 2>err; rc=$?
expect "kb update --help exits 0 and documents --check" bash -c "[ $rc -eq 0 ] && grep -q -- '--check' out"
"$PCGEN" --help | grep -q '^  kb ' && ok || ko "pcgen --help lists kb"

stop
if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "kept: $work"; fi
finish kb
