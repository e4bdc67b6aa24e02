#!/usr/bin/env python3
"""tests/writer/tree.py: the file tree of a `docker export` tar (stdin), one line per entry,
sorted: path, type, mode, uid, gid, size and sha256 of a file's content, a symlink's target,
a hard link's target. mtimes are left out: the image writer's layers carry SOURCE_DATE_EPOCH,
docker build's RUN and COPY layers the time they ran. Paths given as arguments are left out
(with the reason in tests/writer/run.sh)."""
import hashlib
import sys
import tarfile

skip = set(sys.argv[1:])
rows = []
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as tar:
    for m in tar:
        path = "/" + m.name.lstrip("./").rstrip("/") if m.name not in (".", "./") else "/"
        if path in skip:
            continue
        kind = "d" if m.isdir() else "l" if m.issym() else "h" if m.islnk() else "f" if m.isfile() else "o"
        what = ""
        if m.isfile():
            h = hashlib.sha256()
            f = tar.extractfile(m)
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
            what = "%d %s" % (m.size, h.hexdigest())
        elif m.issym() or m.islnk():
            what = "-> " + m.linkname
        rows.append("%s %s %04o %d %d %s" % (path, kind, m.mode & 0o7777, m.uid, m.gid, what))
rows.sort()
sys.stdout.write("\n".join(rows) + "\n")
