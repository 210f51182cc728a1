"""Test helpers: real functions-framework apps, JWTs, certificates, and small local HTTP servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import psycopg

ROOT = Path(__file__).resolve().parent.parent


def function_client(name: str):
    """A test client of the real functions-framework app for functions/<name>/main.py."""
    import functions_framework

    app = functions_framework.create_app(target=name, source=str(ROOT / "functions" / name / "main.py"))
    app.testing = True
    return app.test_client()


def self_signed_certificate(key, common_name: str, *extensions):
    """A certificate for `key`, valid from five minutes ago for a day; extensions are
    (extension, critical) pairs."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(key, hashes.SHA256())


def loopback_certificate(folder: Path, common_name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, its own CA, written to folder: (cert, key) paths.
    Clients trust it through SSL_CERT_FILE, as a private CA would be trusted."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed_certificate(
        key,
        common_name,
        (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False),
        (x509.BasicConstraints(ca=True, path_length=None), True),
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def user_token(user_id, *, secret: str | None = None, expires_in: int = 3600, **claims) -> str:
    now = int(time.time())
    payload = {
        "sub": str(user_id),
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + expires_in,
        **claims,
    }
    return jwt.encode(payload, secret or os.environ["SUPABASE_JWT_SECRET"], algorithm="HS256")


@contextmanager
def http_server(respond: Callable[[BaseHTTPRequestHandler], tuple[int, dict, bytes] | None]):
    """A threaded HTTP server on loopback; `respond` answers each request (or writes it itself)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            answer = respond(self)
            if answer is None:
                return
            status, headers, body = answer
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def json_answer(status: int, body, headers: dict | None = None) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


def new_id() -> uuid.UUID:
    return uuid.uuid4()


@contextmanager
def as_role(database_url, role: str, user_id=None):
    """A transaction run as `role` with the JWT claims PostgREST would set; rolled back after."""
    with psycopg.connect(database_url) as connection, connection.transaction(force_rollback=True):
        claims = {"role": role, "aud": role}
        if user_id:
            claims["sub"] = str(user_id)
        connection.execute("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        connection.execute(f"SET LOCAL ROLE {role}")
        yield connection


def kill_and_wait_for_sessions(
    process: subprocess.Popen, conn, application_name: str, timeout: float = 30
) -> None:
    """SIGKILL a process and wait until the database has ended its sessions.

    The client's death does not stop a statement its backend is running: until PostgreSQL notices
    the closed socket, that statement may still commit rows. A count taken right after the kill
    could miss them. The process must have connected with PGAPPNAME=application_name."""
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + timeout
    while conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application_name,)
    ).fetchone()[0]:
        if time.monotonic() > deadline:
            raise AssertionError(f"the killed process's database sessions ({application_name}) never ended")
        time.sleep(0.02)
