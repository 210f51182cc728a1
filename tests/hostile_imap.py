"""An IMAP server that breaks the rules on purpose, for the tests of a mailbox that points at
one (any admin can point a mailbox anywhere): it greets, accepts any login, and answers EXAMINE
without the UIDVALIDITY RFC 3501 requires; or, given messages, serves them by UID and answers NO
to any FETCH naming a damaged one, as servers do for a message whose file is broken."""

from __future__ import annotations

import socketserver
import threading
from contextlib import contextmanager


def _uid_set(text: str) -> list[int]:
    uids = []
    for part in text.split(","):
        low, _, high = part.partition(":")
        uids += range(int(low), int(high) + 1) if high else [int(low)]
    return uids


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        messages: dict[int, bytes] = self.server.messages  # type: ignore[attr-defined]
        damaged: set[int] = self.server.damaged  # type: ignore[attr-defined]
        self.wfile.write(b"* OK IMAP4rev1 hostile server ready\r\n")
        while True:
            line = self.rfile.readline(10_000)
            if not line:
                return
            tag, _, rest = line.decode("ascii", "replace").strip().partition(" ")
            words = rest.split(" ")
            command = words[0].upper()
            if command == "UID" and len(words) > 1:
                command = "UID " + words[1].upper()
            if command == "CAPABILITY":
                self.wfile.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
            elif command in ("EXAMINE", "SELECT"):
                self.wfile.write(b"* %d EXISTS\r\n* FLAGS (\\Seen)\r\n" % len(messages))
                if messages:
                    self.wfile.write(b"* OK [UIDVALIDITY 7] UIDs valid\r\n")
            elif command == "UID SEARCH":
                self.wfile.write(b"* SEARCH " + " ".join(str(u) for u in sorted(messages)).encode() + b"\r\n")
            elif command == "UID FETCH":
                wanted = [u for u in _uid_set(words[2]) if u in messages]
                if damaged & set(wanted):
                    self.wfile.write(f"{tag} NO [SERVERBUG] Internal error reading the message\r\n".encode())
                    continue
                for uid in wanted:
                    body = messages[uid]
                    self.wfile.write(b"* %d FETCH (UID %d BODY[]<0> {%d}\r\n" % (uid, uid, len(body)))
                    self.wfile.write(body + b")\r\n")
            elif command == "LOGOUT":
                self.wfile.write(b"* BYE\r\n")
                self.wfile.write(f"{tag} OK done\r\n".encode())
                return
            self.wfile.write(f"{tag} OK done\r\n".encode())


@contextmanager
def hostile_imap(messages: dict[int, bytes] | None = None, damaged: set[int] | None = None):
    """A server on loopback; yields its port. Without messages, EXAMINE names no UIDVALIDITY."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.messages = messages or {}  # type: ignore[attr-defined]
    server.damaged = damaged or set()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
