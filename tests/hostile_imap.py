"""An IMAP server that breaks the protocol on purpose, for the tests of a mailbox that points
at one: it greets, accepts any login, and answers EXAMINE without the UIDVALIDITY RFC 3501
requires (or with what `examine` returns). Any admin can point a mailbox at such a server."""

from __future__ import annotations

import socketserver
import threading
from contextlib import contextmanager


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(b"* OK IMAP4rev1 hostile server ready\r\n")
        while True:
            line = self.rfile.readline(10_000)
            if not line:
                return
            tag, _, rest = line.decode("ascii", "replace").strip().partition(" ")
            command = rest.split(" ", 1)[0].upper()
            if command == "CAPABILITY":
                self.wfile.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
            elif command in ("EXAMINE", "SELECT"):
                self.wfile.write(self.server.examine)  # type: ignore[attr-defined]
            elif command == "LOGOUT":
                self.wfile.write(b"* BYE\r\n")
                self.wfile.write(f"{tag} OK done\r\n".encode())
                return
            self.wfile.write(f"{tag} OK done\r\n".encode())


@contextmanager
def hostile_imap(examine: bytes = b"* 3 EXISTS\r\n* FLAGS (\\Seen)\r\n"):
    """A server on loopback; yields its port."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.examine = examine  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
