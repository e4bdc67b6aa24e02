#!/usr/bin/env python3
"""replica.py DIR PORT [options]: a local replica of PyPI's simple repository API for the wheels
in DIR/files, on 127.0.0.1, for tests/kb/run.sh. The conventions it copies, and where from:

- PEP 503: the project page is /simple/<normalized name>/ (a request without the final '/' is
  redirected to it, as PyPI does).
- PEP 691: content negotiation on Accept. `application/vnd.pypi.simple.v1+json` gets JSON with
  that Content-Type; anything else gets the HTML page (text/html), PyPI's default. The JSON has
  `meta` {`api-version`}, `name`, and `files[]` with `filename`, `url` (relative to the page
  here: PEP 691 allows it, and pcgen must resolve it), `hashes` {`sha256`}, `requires-python`
  and `yanked` (false or a reason string).
- PEP 700 (api-version 1.1): `versions`, and `size` and `upload-time` per file.
- PEP 658 / PEP 714: with --core-metadata, each wheel has `core-metadata` and
  `data-dist-info-metadata` ({"sha256": ...} of the .metadata file) and its METADATA is served
  at its URL + ".metadata"; --legacy-metadata-key gives only the older `data-dist-info-metadata`
  (PEP 714 says clients fall back to it); --bad-metadata-hash gives a wrong sha256.
- RFC 9110 section 14: one byte range per request (`bytes=A-B`, `bytes=A-`, `bytes=-N`), 206
  with `Content-Range: bytes A-B/SIZE` and `Accept-Ranges: bytes`, as files.pythonhosted.org
  answers (checked with curl -r -100 against it: HTTP 206, content-range bytes A-B/SIZE).
  --no-ranges ignores Range and answers 200 with the whole file, as python3 -m http.server does.
Other options: --yank VERSION (its files get "yanked": "reason"), --wrong-sha256 (every file's
hash is wrong), --html-only (JSON never offered). Each request is logged to DIR/requests.log as
"METHOD PATH RANGE STATUS BYTES".
"""
import datetime, hashlib, html, json, os, re, sys, zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

root, port = sys.argv[1], int(sys.argv[2])
opts = set(a for a in sys.argv[3:] if a.startswith("--") and a != "--yank")
yank = sys.argv[sys.argv.index("--yank") + 1] if "--yank" in sys.argv else None
files_dir = os.path.join(root, "files")
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def wheel_metadata(path):
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        return z.read(names[0]) if names else b""


def header(meta, key):
    for line in meta.decode().split("\n"):
        if not line.strip():
            break
        if line.lower().startswith(key.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


def page(project):
    files, versions = [], set()
    for name in sorted(os.listdir(files_dir)):
        if not name.endswith(".whl") or not name.startswith(project + "-"):
            continue
        path = os.path.join(files_dir, name)
        data = open(path, "rb").read()
        meta = wheel_metadata(path)
        version = name.split("-")[1]
        versions.add(version)
        sha = hashlib.sha256(data).hexdigest()
        if "--wrong-sha256" in opts:
            sha = hashlib.sha256(b"other bytes").hexdigest()
        f = {
            "filename": name,
            "url": "../../files/" + name,
            "hashes": {"sha256": sha},
            "requires-python": header(meta, "Requires-Python"),
            "yanked": "broken build" if version == yank else False,
            "size": len(data),
            "upload-time": datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
            .strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        if "--core-metadata" in opts:
            h = {"sha256": hashlib.sha256(meta).hexdigest()}
            if "--bad-metadata-hash" in opts:
                h = {"sha256": hashlib.sha256(b"not it").hexdigest()}
            f["data-dist-info-metadata"] = h
            if "--legacy-metadata-key" not in opts:
                f["core-metadata"] = h
        files.append(f)
    return {"meta": {"api-version": "1.1"}, "name": project, "versions": sorted(versions), "files": files}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        with open(os.path.join(root, "requests.log"), "a") as log:
            log.write("%s %s %s %d %d\n" % (self.command, self.path, self.headers.get("Range") or "-", status, len(body)))

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        m = re.fullmatch(r"/simple/([a-z0-9-]+)(/?)", self.path)
        if m and not m.group(2):
            return self.answer(301, b"", "text/plain", [("Location", self.path + "/")])
        if m:
            p = page(m.group(1))
            if JSON_TYPE in (self.headers.get("Accept") or "") and "--html-only" not in opts:
                return self.answer(200, json.dumps(p).encode(), JSON_TYPE)
            links = "".join('<a href="%s#sha256=%s">%s</a><br/>\n' % (html.escape(f["url"]), f["hashes"]["sha256"],
                                                                     html.escape(f["filename"])) for f in p["files"])
            return self.answer(200, ("<!DOCTYPE html><html><body>\n%s</body></html>\n" % links).encode(), "text/html")
        m = re.fullmatch(r"/files/([A-Za-z0-9_.+-]+\.whl)(\.metadata)?", self.path)
        path = os.path.join(files_dir, m.group(1)) if m else None
        if not m or not os.path.exists(path) or (m.group(2) and "--core-metadata" not in opts):
            return self.answer(404, b"not found\n", "text/plain")
        if m.group(2):
            return self.answer(200, wheel_metadata(path), "application/octet-stream")
        data = open(path, "rb").read()
        rng = self.headers.get("Range")
        if rng is None or "--no-ranges" in opts:
            return self.answer(200, data, "application/octet-stream")
        r = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
        if not r or (not r.group(1) and not r.group(2)):
            return self.answer(416, b"", "text/plain", [("Content-Range", "bytes */%d" % len(data))])
        if r.group(1):
            first = int(r.group(1))
            last = min(int(r.group(2)), len(data) - 1) if r.group(2) else len(data) - 1
        else:
            first, last = max(0, len(data) - int(r.group(2))), len(data) - 1
        if first >= len(data) or first > last:
            return self.answer(416, b"", "text/plain", [("Content-Range", "bytes */%d" % len(data))])
        return self.answer(206, data[first:last + 1], "application/octet-stream",
                           [("Content-Range", "bytes %d-%d/%d" % (first, last, len(data))), ("Accept-Ranges", "bytes")])


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
