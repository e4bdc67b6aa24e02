#!/usr/bin/env python3
"""serve.py ROOT PORTFILE [PORT]: serve ROOT over HTTP on 127.0.0.1 (a free port unless PORT),
write the port to PORTFILE once listening, and log every request to stderr, one line each
("GET /good/packages/torch-....whl 200"): the access log tests/index/run.sh reads."""
import functools
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))
        sys.stderr.flush()

    def log_request(self, code="-", size="-"):
        method, path = (self.requestline.split(" ") + ["", ""])[:2]
        self.log_message("%s %s %s", method, path, getattr(code, "value", code))


def main():
    root, portfile = sys.argv[1], sys.argv[2]
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=root))
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    import os
    os.rename(portfile + ".tmp", portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
