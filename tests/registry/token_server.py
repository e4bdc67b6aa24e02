#!/usr/bin/env python3
"""token_server.py DIR MODE: a test double of a registry's token service, written from
distribution's documents (distribution 2.8, the registry Debian ships as docker-registry), cited
below by section: "token spec" is its docs/spec/auth/token page, "Token Authentication
Specification"; "JWT spec" its docs/spec/auth/jwt page, "Token Authentication Implementation";
"scope spec" its docs/spec/auth/scope page, "Docker Registry Token Scope and Access".

On start it makes, in DIR, an ECDSA P-256 key and a self-signed certificate for it,
DIR/rootcertbundle.pem (the registry's auth.token.rootcertbundle), binds 127.0.0.1 on a free
port and prints that port on stdout, one line. MODE says how a token names its signing key, the
two ways registry 2.8 accepts (registry/auth/token/token.go, VerifySigningKey):
  kid        the "kid" header: the libtrust fingerprint of the key (JWT spec, "Getting a Bearer
             Token", 1. Headers)
  x5c        the "x5c" header: the certificate, which the registry verifies against the bundle
  untrusted  "kid" of a second key that the bundle does not hold: the registry must refuse
Credentials: TOKEN_USER and TOKEN_PASSWORD (environment). Service and issuer: TOKEN_SERVICE and
TOKEN_ISSUER (the registry's auth.token.service and issuer). Every request is logged in
DIR/requests.log as one JSON line: path, service, scopes, user (never the password), status.
"""
import base64
import datetime
import hashlib
import json
import os
import secrets
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

DIR, MODE = sys.argv[1], sys.argv[2]
USER, PASSWORD = os.environ["TOKEN_USER"], os.environ["TOKEN_PASSWORD"]
SERVICE, ISSUER = os.environ["TOKEN_SERVICE"], os.environ["TOKEN_ISSUER"]
LIFETIME = 300  # seconds; token spec, "Token Response Fields": expires_in (default 60)


def b64url(data):
    """JWS (RFC 7515 section 2): base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_kid(public_key):
    """JWT spec, "Getting a Bearer Token", 1. Headers: the DER-encoded public key (PKIX
    SubjectPublicKeyInfo), its SHA-256 truncated to 240 bits, base32, in 12 groups of 4 joined
    by ':'."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


def self_signed(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


key = ec.generate_private_key(ec.SECP256R1())
cert = self_signed(key)
with open(os.path.join(DIR, "rootcertbundle.pem"), "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
# The key that signs: the bundle's, or (untrusted) another one the registry never saw.
signer = ec.generate_private_key(ec.SECP256R1()) if MODE == "untrusted" else key


def header():
    """JWT spec, "Getting a Bearer Token", 1. Headers: typ JWT, alg ES256 (ECDSA P-256 SHA-256),
    and the key: kid, or x5c (RFC 7515 section 4.1.6: base64 DER, leaf first)."""
    h = {"typ": "JWT", "alg": "ES256"}
    if MODE == "x5c":
        h["x5c"] = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    else:
        h["kid"] = libtrust_kid(signer.public_key())
    return h


def granted(scopes, user):
    """JWT spec, "Getting a Bearer Token": the intersection of the requested actions with those
    the client holds (here: an authenticated user may pull and push every repository); a scope
    is resourcetype:resourcename:action[,action] (scope spec, "Resource Scope Grammar")."""
    access = []
    for scope in scopes:
        for one in scope.split(" "):
            parts = one.split(":")
            if len(parts) < 3 or parts[0] != "repository":
                continue
            name, actions = ":".join(parts[1:-1]), parts[-1].split(",")
            allowed = [a for a in actions if user and a in ("pull", "push")]
            access.append({"type": "repository", "name": name, "actions": allowed})
    return access


def token(user, access):
    """JWT spec, "Getting a Bearer Token", 2. Claim Set and 3. Signature: a JWS in compact form,
    signed with ES256 (RFC 7518 section 3.4: R || S, 32 bytes each)."""
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": user or "", "aud": SERVICE, "exp": now + LIFETIME, "nbf": now - 10, "iat": now,
              "jti": secrets.token_hex(16), "access": access}
    signing_input = b64url(json.dumps(header()).encode()) + "." + b64url(json.dumps(claims).encode())
    r, s = decode_dss_signature(signer.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, entry):
        entry["status"] = status
        with open(os.path.join(DIR, "requests.log"), "a") as f:
            f.write(json.dumps(entry) + "\n")
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="pctest-token"')
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        entry = {"path": url.path, "service": q.get("service", [""])[0], "scopes": q.get("scope", [])}
        # token spec, "Requesting a Token": GET realm?service=...&scope=... (scope repeatable).
        if url.path != "/token":
            return self.answer(404, {"errors": [{"code": "NOT_FOUND"}]}, entry)
        if entry["service"] != SERVICE:
            return self.answer(400, {"errors": [{"code": "UNSUPPORTED", "message": "unknown service"}]}, entry)
        # JWT spec, "Getting a Bearer Token": authenticate with what the request carries (Basic);
        # failed credentials are a 401. This service gives nothing to anonymous clients.
        user = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                u, p = "", ""
            entry["user"] = u
            if u == USER and secrets.compare_digest(p, PASSWORD):
                user = u
        if user is None:
            return self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                               entry)
        # token spec, "Token Response Fields": token, expires_in, issued_at.
        issued = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        access = granted(entry["scopes"], user)
        entry["access"] = access
        self.answer(200, {"token": token(user, access), "expires_in": LIFETIME, "issued_at": issued}, entry)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
