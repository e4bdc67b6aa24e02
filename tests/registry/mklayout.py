#!/usr/bin/env python3
"""mklayout.py DIR TAG N SIZE: a small image layout as pcgen's writer makes one (oci.c,
docs/image-writer.md): DIR/build/oci/TAG/{oci-layout,index.json,manifest.json,blobs/sha256/}
with N uncompressed tar layers of about SIZE bytes each (seeded random file content: the same
bytes on every run, and incompressible, so a layer's gzip blob is about as big as its tar), the
config and manifest as sorted, compact JSON with oci.c's media types, and a passing certificate
for its image ID in DIR/results/certificates/ (what `pcgen certify` writes: image_id, result,
level, and manifest_digest: the digest of the push manifest pcgen will put, computed here
independently of pcgen: each tar gzip-compressed as blob_gzip.c does it, zlib's raw deflate at
level 6, memLevel 8, fed in 1 MiB pieces, inside the RFC 1952 header MTIME 0, XFL 0, OS 255;
push_image.c's manifest as sorted, compact JSON). Prints the image ID."""
import hashlib
import io
import json
import os
import random
import struct
import sys
import tarfile
import zlib

out, tag, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
layout = os.path.join(out, "build", "oci", tag)
blobs = os.path.join(layout, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)


def dump(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def put(data):
    sha = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, sha), "wb") as f:
        f.write(data)
    return sha


rng = random.Random(16)
layers = []
for i in range(n):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        data = rng.randbytes(size)
        ti = tarfile.TarInfo(f"opt/layer{i}/data.bin")
        ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
        t.addfile(ti, io.BytesIO(data))
    tar = buf.getvalue()
    layers.append((put(tar), len(tar)))
created = "1970-01-01T00:00:01Z"
config = {
    "architecture": "amd64", "os": "linux", "created": created,
    "config": {"Cmd": ["bash"], "Env": ["PATH=/usr/bin:/bin"], "Labels": {"org.pytorch-cuda.test": "push"}},
    "rootfs": {"type": "layers", "diff_ids": [f"sha256:{s}" for s, _ in layers]},
    "history": [{"created": created, "created_by": f"ADD layers/{i}.tar /"} for i in range(n)],
}
cfg = dump(config)
cfg_sha = put(cfg)
manifest = dump({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": f"sha256:{cfg_sha}", "size": len(cfg)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": f"sha256:{s}", "size": z} for s, z in layers],
})
man_sha = put(manifest)
with open(os.path.join(layout, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(os.path.join(layout, "index.json"), "wb") as f:
    f.write(dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{man_sha}", "size": len(manifest),
        "annotations": {"io.containerd.image.name": f"pctest/pytorch-cuda:{tag}", "org.opencontainers.image.ref.name": tag}}]}))


def gzip_blob(data):
    """RFC 1952 section 2.3: ID1 ID2 CM=8 FLG=0 MTIME=0 XFL=0 OS=255, raw deflate, CRC32, ISIZE."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15, 8)
    out = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
    for i in range(0, len(data), 1 << 20):
        out += c.compress(data[i:i + (1 << 20)])
    out += c.flush()
    out += struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return bytes(out)


gz = []
for s, _ in layers:
    with open(os.path.join(blobs, s), "rb") as f:
        b = gzip_blob(f.read())
    gz.append((hashlib.sha256(b).hexdigest(), len(b)))
push_manifest = dump({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": f"sha256:{cfg_sha}", "size": len(cfg)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": f"sha256:{s}", "size": z} for s, z in gz],
})
certs = os.path.join(out, "results", "certificates")
os.makedirs(certs, exist_ok=True)
with open(os.path.join(certs, f"{cfg_sha}.json"), "w") as f:
    json.dump({"image_id": f"sha256:{cfg_sha}", "result": "certified", "level": "static", "checks": [],
               "manifest_digest": "sha256:" + hashlib.sha256(push_manifest).hexdigest()}, f)
print(f"sha256:{cfg_sha}")
