#!/usr/bin/env python3
"""tests/notebook/kernel.py URL TOKEN: run a notebook cell the way JupyterLab does, through the
server's REST API and a kernel's websocket, and print what the cell printed.

The conventions copied from the real protocol (each from its documentation):
- REST: PUT /api/contents/PATH with {"type": "notebook", "content": nbformat 4} creates a
  notebook; POST /api/sessions with {"path", "type": "notebook", "kernel": {"name"}} starts its
  kernel (jupyter_server's REST API, jupyter-server.readthedocs.io "REST API"); the token goes in
  the header "Authorization: token TOKEN" (jupyter-server docs, "Security in the Jupyter Server").
- Websocket: /api/kernels/ID/channels, JSON messages with header, parent_header, metadata,
  content and "channel" (jupyter_server's default websocket protocol when no subprotocol is
  asked; jupyter-client docs, "Messaging in Jupyter", message protocol 5.3: execute_request on
  shell; stream/error/status on iopub, execute_reply on shell, matched by parent_header.msg_id).
Exit 0 when the cell ran without an error, 1 otherwise (the error's traceback on stderr)."""
import json
import sys
import urllib.request
import uuid

import websocket  # Debian's python3-websocket (websocket-client)

CELL = """import torch
print("torch", torch.__version__)
f = torch.compile(lambda x: torch.sin(x) * 2 + 1)
x = torch.arange(4, dtype=torch.float32)
y = f(x)
assert torch.allclose(y, torch.sin(x) * 2 + 1)
print("compiled", [round(v, 4) for v in y.tolist()])
"""


def api(base, token, method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "token " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read() or b"null")


def main():
    base, token = sys.argv[1].rstrip("/"), sys.argv[2]
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": CELL}]}
    api(base, token, "PUT", "/api/contents/compile-check.ipynb", {"type": "notebook", "format": "json", "content": nb})
    saved = api(base, token, "GET", "/api/contents/compile-check.ipynb?content=1")
    code = saved["content"]["cells"][0]["source"]
    session = api(base, token, "POST", "/api/sessions",
                  {"path": "compile-check.ipynb", "type": "notebook", "name": "", "kernel": {"name": "python3"}})
    kid = session["kernel"]["id"]
    ws = websocket.create_connection(base.replace("http", "ws", 1) + "/api/kernels/%s/channels" % kid,
                                     header=["Authorization: token " + token], timeout=600)
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({
        "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex, "msg_type": "execute_request",
                   "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    failed, replied, idle = False, False, False
    while not (replied and idle):
        m = json.loads(ws.recv())
        if m.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        t = m["header"]["msg_type"]
        if t == "stream":
            sys.stdout.write(m["content"]["text"])
        elif t == "error":
            failed = True
            sys.stderr.write("\n".join(m["content"]["traceback"]) + "\n")
        elif t == "execute_reply":
            replied = True
            failed |= m["content"]["status"] != "ok"
        elif t == "status" and m["content"]["execution_state"] == "idle":
            idle = True
    ws.close()
    api(base, token, "DELETE", "/api/sessions/" + session["id"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
