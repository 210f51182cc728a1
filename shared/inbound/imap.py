"""Reading a mailbox's INBOX with imapclient: connected to the checked address of its host,
TLS where the scheme asks for it, read-only (no flag of the person's mail changes), and
each message read only as far as IMAP_FETCH_BYTES."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

from imapclient import IMAPClient, imap4, tls
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from shared.core.config import get_settings
from shared.mailboxes import accounts
from shared.sending import mailer


class ServerError(Exception):
    """The IMAP server answered something the reader cannot use (no UIDVALIDITY, say)."""


class _Plain(imap4.IMAP4WithTimeout):
    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return accounts.connect(self.host, self.port, timeout or self._timeout)


class _Tls(tls.IMAP4_TLS):
    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = accounts.connect(self.host, self.port, timeout or self._timeout)
        return tls.wrap_socket(sock, self.ssl_context, self.host)


class Client(IMAPClient):
    def _create_IMAP4(self):
        timeout = getattr(self._timeout, "connect", None)
        if self.ssl:
            return _Tls(self.host, self.port, self.ssl_context, timeout)
        return _Plain(self.host, self.port, timeout)


def open_inbox(config: accounts.ImapConfig) -> tuple[Client, int]:
    """A logged-in client with the INBOX selected read-only, and the INBOX's UIDVALIDITY."""
    client = Client(
        config.host, port=config.port, ssl=config.security == "tls", timeout=get_settings().imap_timeout
    )
    try:
        if config.security != "tls":
            if b"STARTTLS" in client.capabilities():
                client.starttls()
            elif config.security == "starttls-required":
                raise mailer.AccountRefused(
                    "the IMAP server offers no STARTTLS; the password is not sent in plain text"
                )
        client.login(config.username, config.password)
        number = uidvalidity(client.select_folder("INBOX", readonly=True))
    except BaseException:
        client.shutdown()
        raise
    return client, number


def uidvalidity(status: dict[bytes, Any]) -> int:
    """The INBOX's UIDVALIDITY: without it (RFC 3501 requires it) UIDs cannot be trusted across
    sessions, so the mailbox is not read rather than read twice."""
    try:
        number = int(status.get(b"UIDVALIDITY", ""))  # missing: "" is no number either
    except (TypeError, ValueError):
        raise ServerError("the IMAP server named no UIDVALIDITY for the INBOX") from None
    if not 0 < number < 2**32:
        raise ServerError("the IMAP server named an invalid UIDVALIDITY for the INBOX")
    return number


def new_uids(client: Client, last_uid: int) -> list[int]:
    # "n:*" always names the newest message, even when its UID is below n (RFC 3501 6.4.8).
    return sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)


def fetch(client: Client, uids: list[int]) -> Iterator[tuple[int, bytes]]:
    """Each message's first IMAP_FETCH_BYTES, in UID order; a message the server no longer
    has (expunged meanwhile) is skipped."""
    part = f"BODY.PEEK[]<0.{get_settings().imap_fetch_bytes}>"
    answer = client.fetch(uids, [part])
    for uid in uids:
        data = answer.get(uid, {})
        body = next((v for k, v in data.items() if k.startswith(b"BODY[")), None)
        if isinstance(body, bytes):
            yield uid, body


def fetch_each(client: Client, uids: list[int]) -> tuple[list[tuple[int, bytes]], dict[int, str]]:
    """The messages' bytes, and why for each UID the server would not give. A server refusing
    a batch (NO, as for a message whose file is damaged) is asked for each message alone, so one
    unreadable message costs only itself. A broken connection ends the mailbox's run."""
    try:
        return list(fetch(client, uids)), {}
    except IMAPClientAbortError:
        raise
    except IMAPClientError:
        pass
    got: list[tuple[int, bytes]] = []
    refused: dict[int, str] = {}
    for uid in uids:
        try:
            got += fetch(client, [uid])
        except IMAPClientAbortError:
            raise
        except IMAPClientError as exc:
            refused[uid] = f"the IMAP server would not give the message: {exc}"[:500]
    return got, refused
