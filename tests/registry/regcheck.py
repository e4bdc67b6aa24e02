#!/usr/bin/env python3
"""regcheck.py: look at a registry through its HTTP API (distribution v2), not through the
engine, so the publish tests see what the registry really holds.

  regcheck.py tags URL REPO                 the repository's tags, one per line (none: empty)
  regcheck.py verify URL REPO TAG [DIFFIDS] the tag's manifest digest; exit 1 unless every blob
                                            it names is there, complete, with its digest; with
                                            DIFFIDS (a JSON array: docker inspect .RootFS.Layers)
                                            each layer, uncompressed, must also hash to its diff ID
Basic auth from REG_USER / REG_PASSWORD when set.
"""
import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
import zlib

MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
])


def request(url, accept=None):
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    user, password = os.environ.get("REG_USER"), os.environ.get("REG_PASSWORD")
    if user and password:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    return urllib.request.urlopen(req, timeout=60)


def tags(url, repo):
    try:
        with request(f"{url}/v2/{repo}/tags/list") as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return []
        raise
    return sorted(body.get("tags") or [])


def check_blob(url, repo, desc, diff_id=None):
    """Stream the blob: its sha256 and size must match the descriptor, and, given a diff ID,
    its gunzipped bytes must hash to it."""
    digest, size = desc["digest"], desc["size"]
    h, u, n = hashlib.sha256(), hashlib.sha256(), 0
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if diff_id else None
    with request(f"{url}/v2/{repo}/blobs/{digest}") as r:
        while True:
            chunk = r.read(1 << 20)
            if not chunk:
                break
            n += len(chunk)
            h.update(chunk)
            if inflate:
                u.update(inflate.decompress(chunk))
    problems = []
    if n != size:
        problems.append(f"{digest}: {n} bytes, manifest says {size}")
    if "sha256:" + h.hexdigest() != digest:
        problems.append(f"{digest}: content hashes to sha256:{h.hexdigest()}")
    if inflate:
        u.update(inflate.flush())
        if "sha256:" + u.hexdigest() != diff_id:
            problems.append(f"{digest}: uncompressed sha256:{u.hexdigest()}, image says {diff_id}")
    return problems


def verify(url, repo, tag, diff_ids=None):
    with request(f"{url}/v2/{repo}/manifests/{tag}", MANIFEST_TYPES) as r:
        raw = r.read()
        header = r.headers.get("Docker-Content-Digest")
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    manifest = json.loads(raw)
    problems = [] if header in (None, digest) else [f"manifest digest header {header} != {digest}"]
    layers = manifest.get("layers", [])
    if diff_ids is not None and len(diff_ids) != len(layers):
        problems.append(f"{len(layers)} layers in the registry, {len(diff_ids)} in the image")
        diff_ids = None
    problems += check_blob(url, repo, manifest["config"])
    for i, layer in enumerate(layers):
        problems += check_blob(url, repo, layer, diff_ids[i] if diff_ids else None)
    for p in problems:
        print(f"regcheck: {repo}:{tag}: {p}", file=sys.stderr)
    print(digest)
    return 1 if problems else 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "tags":
        print("\n".join(tags(argv[2], argv[3])))
        return 0
    if len(argv) in (5, 6) and argv[1] == "verify":
        diff_ids = json.loads(argv[5]) if len(argv) == 6 else None
        return verify(argv[2], argv[3], argv[4], diff_ids)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
