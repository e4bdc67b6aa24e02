#!/usr/bin/env python3
"""tests/jobs/fixture.py CACHE LOCK CUDA_YAML: tiny stand-ins for the wheels of two torch x CUDA
pairs (torch 2.4.1 + CUDA 12.1, torch 2.6.0 + CUDA 12.4: a torch wheel, the CUDA runtime, cuDNN and
nvcc for devel), written into the pcgen cache (CACHE/sha256/<hex>/<file>) with the matrix.lock
that pins them (same schema as pcgen lock writes), so `pcgen build --offline` stages real
layers from them without a network. nvcc itself: tiny archives in the layout of NVIDIA's redist
(cuda_nvcc, cuda_cudart), pinned in the lock and made the only nvcc source of both CUDAs in
CUDA_YAML (a copy of the knowledge base's cuda.yaml), instead of 1 GB of Debian packages.
Deterministic: fixed member times."""
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import zipfile

PAIRS = [("2.4.1", "cu121", "12.1", "12.1.105", "12.1.105"), ("2.6.0", "cu124", "12.4", "12.4.127", "12.4.131")]


def wheel(name, version, members):
    dist = name.replace("-", "_")
    fname = f"{dist}-{version}-py3-none-manylinux2014_x86_64.whl"
    info = f"{dist}-{version}.dist-info"
    members = dict(members)
    # torch's license, as its METADATA says it: the SBOM reads it (sbom.c), tests/jobs checks it
    lic = "License-Expression: BSD-3-Clause\n" if name == "torch" else ""
    members[f"{info}/METADATA"] = f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n{lic}"
    members[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: py3-none-manylinux2014_x86_64\n"
    members[f"{info}/RECORD"] = "".join(f"{m},,\n" for m in members) + f"{info}/RECORD,,\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for m, text in sorted(members.items()):
            zi = zipfile.ZipInfo(m, date_time=(2024, 1, 1, 0, 0, 0))
            zi.external_attr = (0o755 if "/bin/" in m else 0o644) << 16
            z.writestr(zi, text)
    return fname, buf.getvalue()


def put(cache, name, version, role, members):
    fname, data = wheel(name, version, members)
    sha = hashlib.sha256(data).hexdigest()
    d = os.path.join(cache, "sha256", sha)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data)
    return {"name": name, "version": version, "role": role, "file": fname, "size": len(data), "sha256": sha}


def redist(cache, comp, version, members):
    """An archive as NVIDIA's redist has them: one folder, <comp>-linux-x86_64-<version>-archive/."""
    top = f"{comp}-linux-x86_64-{version}-archive"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as t:
        for m, text in sorted(members.items()):
            ti = tarfile.TarInfo(f"{top}/{m}")
            ti.size, ti.mtime, ti.mode = len(text), 1704067200, 0o755 if m.startswith("bin/") else 0o644
            t.addfile(ti, io.BytesIO(text.encode()))
    data = buf.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(cache, "sha256", sha), exist_ok=True)
    with open(os.path.join(cache, "sha256", sha, f"{top}.tar.xz"), "wb") as f:
        f.write(data)
    return {"name": comp, "version": version, "role": "nvcc", "file": f"{top}.tar.xz", "size": len(data),
            "sha256": sha, "path": f"{comp}/linux-x86_64/{top}.tar.xz"}


def nvcc_source(w):
    files = "".join(f"""          - name: {f['name']}
            version: "{f['version']}"
            path: {f['path']}
            sha256: {f['sha256']}
            size: {f['size']}
""" for f in w)
    return f"""    nvcc:
      - kind: redist
        version: "{w[0]['version']}"
        release: "{w[0]['version']}"
        source: driver-table
        files:
{files}"""


def main():
    cache, lock, cuda_yaml = sys.argv[1], sys.argv[2], sys.argv[3]
    kb = open(cuda_yaml).read()
    # Every nvcc source and host compiler of the real knowledge base out; the fixture's in.
    kb = re.sub(r"\n    (nvcc|host_compiler):\n(?: {6,}.*\n)*", "\n", kb)
    sets = []
    for torch, cu, cuda, rt, nvcc in PAIRS:
        major = cuda.split(".")[0]
        wheels = [
            put(cache, "torch", torch, "torch",
                {"torch/__init__.py": f"__version__ = '{torch}+{cu}'\n", "torch/lib/libtorch.so": "fake\n"}),
            put(cache, f"nvidia-cuda-runtime-cu{major}", rt, "cuda",
                {"nvidia/__init__.py": "", "nvidia/cuda_runtime/__init__.py": "",
                 "nvidia/cuda_runtime/lib/libcudart.so.12": "fake\n",
                 "nvidia/cuda_runtime/include/cuda_runtime_api.h": "/* fake */\n"}),
            put(cache, f"nvidia-cudnn-cu{major}", "9.1.0.70", "cudnn",
                {"nvidia/__init__.py": "", "nvidia/cudnn/__init__.py": "", "nvidia/cudnn/lib/libcudnn.so.9": "fake\n",
                 "nvidia/cudnn/include/cudnn.h": "/* fake */\n"}),
        ]
        sets.append({"id": f"torch-{torch}-{cu}-py3.11", "source": {"kind": "pypi", "where": None},
                     "wheels": sorted(wheels, key=lambda w: w["name"])})
        devel = [put(cache, f"nvidia-cuda-nvcc-cu{major}", nvcc, "devel",
                     {"nvidia/__init__.py": "", "nvidia/cuda_nvcc/__init__.py": "",
                      "nvidia/cuda_nvcc/bin/nvcc": "#!/bin/sh\necho fake nvcc\n",
                      "nvidia/cuda_nvcc/include/crt/host_config.h": "/* fake */\n"})]
        nvcc_files = [redist(cache, "cuda_nvcc", nvcc, {"bin/nvcc": "#!/bin/sh\necho fake nvcc\n", "nvvm/bin/cicc": "fake\n"}),
                      redist(cache, "cuda_cudart", rt, {"lib/libcudart_static.a": "fake\n"})]
        devel += nvcc_files
        at = kb.index(f'  - version: "{cuda}"\n')
        at = kb.index("    source: driver-table\n", at)
        kb = kb[:at] + nvcc_source(nvcc_files) + kb[at:]
        sets.append({"id": f"cuda-devel-{cuda}-py3.11", "source": {"kind": "pypi", "where": None}, "wheels": devel})
    with open(cuda_yaml, "w") as f:
        f.write(kb)
    sets.sort(key=lambda s: s["id"])
    with open(lock, "w") as f:
        json.dump({"schema": 1, "generated_by": "pcgen lock; do not edit", "sets": sets}, f, indent=2)
        f.write("\n")


main()
