#!/usr/bin/env python3
"""replica.py: build the test double of PyTorch's own package index (tests/index/run.sh).

  replica.py torch OUT VERSION PLATFORM REAL_TORCH_WHEEL
      write OUT/torch-VERSION+cu118-cp311-cp311-PLATFORM.whl, a small synthetic torch wheel: a
      stub `torch` package (never a build of torch; it exists so that pcgen can lock it) whose
      METADATA has the Requires-Dist of the real PyPI torch wheel of that release with the
      nvidia-*-cu12 pins replaced by PyTorch's CUDA 11.8 list (CU118 below)
  replica.py extra OUT NAME VERSION [REQUIRES...]
      write a tiny pure-Python wheel NAME-VERSION-py3-none-any.whl (tests of the resolver)
  replica.py index ROOT PREFIX LIST
      lay out ROOT as PyTorch's index is laid out, from LIST (lines "project path-of-wheel"):
        ROOT/whl/cu118/<project>/index.html   PEP 503 project pages ("Links for torch")
        ROOT/whl/cu118/torch-...whl           torch's wheels under the CUDA folder
        ROOT/whl/<file>.whl                   every other wheel (nvidia-*-cu11, triton, filelock, ...)
        <wheel>.metadata                      its METADATA beside it (PEP 658)
      hrefs are absolute (PREFIX/whl/...), encode '+' as %2B and carry #sha256=, and
      data-dist-info-metadata and data-core-metadata (PEP 658, PEP 714) give the .metadata's
      sha256. A wheel's sha256 is read from its path when that is a pcgen cache entry
      (sha256/<hex>/<file>), else computed.

Conventions, from what users' pip logs and lock files show of https://download.pytorch.org:
  "Downloading https://download.pytorch.org/whl/cu118/torch-2.0.1%2Bcu118-cp310-cp310-linux_x86_64.whl",
  "Downloading https://download.pytorch.org/whl/filelock-3.19.1-py3-none-any.whl.metadata",
  "torch-2.2.2%2Bcu118-cp311-cp311-linux_x86_64.whl#sha256=..." (hrefs with %2B and #sha256=),
  and torch-2.4.1+cu118 / 2.6.0+cu118 wheels tagged linux_x86_64 (manylinux_2_28_x86_64 later).
"""
import base64
import hashlib
import html
import os
import re
import sys
import urllib.parse
import zipfile

# PyTorch's .github/scripts/generate_binary_build_matrix.py, PYTORCH_EXTRA_INSTALL_REQUIREMENTS
# ["11.8"] of the 2.3-2.6 release branches: the same nvidia-*-cu11 list, cuDNN 9.1.0.70 from 2.4,
# nccl-cu11 2.20.5 (2.3, 2.4) and 2.21.5 (2.5, 2.6). Written here from that source, not from
# generator/data/torch.yaml, so that a wrong knowledge base fails the lock.
CU118_COMMON = [
    "nvidia-cuda-nvrtc-cu11==11.8.89", "nvidia-cuda-runtime-cu11==11.8.89", "nvidia-cuda-cupti-cu11==11.8.87",
    "nvidia-cudnn-cu11==9.1.0.70", "nvidia-cublas-cu11==11.11.3.6", "nvidia-cufft-cu11==10.9.0.58",
    "nvidia-curand-cu11==10.3.0.86", "nvidia-cusolver-cu11==11.4.1.48", "nvidia-cusparse-cu11==11.7.5.86",
]
CU118 = {
    "2.4": CU118_COMMON + ["nvidia-nccl-cu11==2.20.5", "nvidia-nvtx-cu11==11.8.86"],
    "2.6": CU118_COMMON + ["nvidia-nccl-cu11==2.21.5", "nvidia-nvtx-cu11==11.8.86"],
}
MARKER = "platform_system == \"Linux\" and platform_machine == \"x86_64\""


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (name, digest, len(data))


def write_wheel(path, files, dist_info, metadata, tag):
    wheel = "Wheel-Version: 1.0\nGenerator: pcgen tests/index replica.py\nRoot-Is-Purelib: %s\nTag: %s\n" % (
        "true" if tag == "py3-none-any" else "false", tag)
    files = dict(files)
    files[dist_info + "/METADATA"] = metadata.encode()
    files[dist_info + "/WHEEL"] = wheel.encode()
    record = [record_line(n, d) for n, d in sorted(files.items())] + [dist_info + "/RECORD,,"]
    files[dist_info + "/RECORD"] = ("\n".join(record) + "\n").encode()
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for n in sorted(files):
            info = zipfile.ZipInfo(n, date_time=(2023, 11, 14, 22, 13, 20))
            info.external_attr = 0o644 << 16
            z.writestr(info, files[n])
    os.rename(tmp, path)


def real_requires(wheel):
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = z.read(name).decode()
    return [l[len("Requires-Dist: "):] for l in meta.splitlines() if l.startswith("Requires-Dist: ")]


def cmd_torch(out, version, platform, real):
    release = ".".join(version.split(".")[:2])
    requires = [r for r in real_requires(real) if not r.startswith("nvidia-")]
    requires += ["%s; %s" % (p, MARKER) for p in CU118[release]]
    full = version + "+cu118"
    meta = "Metadata-Version: 2.1\nName: torch\nVersion: %s\nSummary: synthetic test double of torch %s " \
           "(pcgen tests/index); not a build of torch\nRequires-Python: >=3.8.0\n" % (full, full)
    meta += "".join("Requires-Dist: %s\n" % r for r in requires)
    init = ("# pcgen tests/index: a stand-in, never a build of torch\n__version__ = %r\n" % full).encode()
    path = os.path.join(out, "torch-%s-cp311-cp311-%s.whl" % (full, platform))
    write_wheel(path, {"torch/__init__.py": init}, "torch-%s.dist-info" % full, meta, "cp311-cp311-" + platform)
    print(path)


def cmd_extra(out, name, version, requires):
    meta = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
    meta += "".join("Requires-Dist: %s\n" % r for r in requires)
    mod = name.replace("-", "_")
    path = os.path.join(out, "%s-%s-py3-none-any.whl" % (mod, version))
    write_wheel(path, {mod + "/__init__.py": b""}, "%s-%s.dist-info" % (mod, version), meta, "py3-none-any")
    print(path)


def sha256_of(path):
    m = re.search(r"/sha256/([0-9a-f]{64})/[^/]+$", os.path.realpath(path))
    if m:
        return m.group(1)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def link(src, dst):
    if os.path.lexists(dst):
        os.unlink(dst)
    try:
        os.link(src, dst)
    except OSError:
        os.symlink(os.path.realpath(src), dst)


def cmd_index(root, prefix, listing):
    projects = {}
    for line in open(listing):
        if not line.strip():
            continue
        project, path = line.split(None, 1)
        path = path.strip()
        file = os.path.basename(path)
        folder = "whl/cu118" if project == "torch" else "whl"
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        served = os.path.join(root, folder, file)
        link(path, served)
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist() if re.match(r"[^/]+\.dist-info/METADATA$", n))
            meta = z.read(name)
        with open(served + ".metadata", "wb") as f:
            f.write(meta)
        href = "%s/%s/%s#sha256=%s" % (prefix, folder, urllib.parse.quote(file), sha256_of(path))
        msha = hashlib.sha256(meta).hexdigest()
        projects.setdefault(project, []).append(
            '    <a href="%s" data-dist-info-metadata="sha256=%s" data-core-metadata="sha256=%s">%s</a><br/>\n'
            % (html.escape(href), msha, msha, html.escape(file)))
    top = os.path.join(root, "whl", "cu118")
    os.makedirs(top, exist_ok=True)
    with open(os.path.join(top, "index.html"), "w") as f:
        f.write("<!DOCTYPE html>\n<html>\n  <body>\n")
        for p in sorted(projects):
            f.write('    <a href="/%s/">%s</a><br/>\n' % (p, p))
        f.write("  </body>\n</html>\n")
    for p, links in projects.items():
        d = os.path.join(top, p)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "index.html"), "w") as f:
            f.write("<!DOCTYPE html>\n<html>\n  <body>\n    <h1>Links for %s</h1>\n%s  </body>\n</html>\n"
                    % (p, "".join(sorted(links))))


def main():
    what, args = sys.argv[1], sys.argv[2:]
    if what == "torch":
        cmd_torch(*args)
    elif what == "extra":
        cmd_extra(args[0], args[1], args[2], args[3:])
    elif what == "index":
        cmd_index(*args)
    else:
        sys.exit("usage: replica.py torch|extra|index ...")


if __name__ == "__main__":
    main()
