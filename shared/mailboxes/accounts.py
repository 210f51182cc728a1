"""A mailbox's servers as the functions reach them.

The URLs come from Vault and stay in memory. Which security a scheme means: smtps:// and
imaps:// are TLS from the first byte; smtp:// and imap:// are STARTTLS, required unless the host
is loopback, so a password never crosses a network in plain text. Hosts follow the fetcher's
address rules (public addresses only, unless ALLOW_PRIVATE_NETWORK), and the connection is made
to the very address that was checked.
"""

from __future__ import annotations

import ipaddress
import socket
import uuid
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

import psycopg

from shared.core import db
from shared.core.config import get_settings
from shared.sending import mailer


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def connect(host: str, port: int, timeout: float) -> socket.socket:
    """A connection to the mailbox host's first address, after every address was checked."""
    from shared.discovery import fetch  # the fetcher's address rules; httpx only when a mailbox connects

    try:
        address = fetch.resolve_checked(host, port)
    except fetch.Blocked as exc:
        raise mailer.AccountRefused(f"the mailbox host {host!r}: {exc}") from None
    except fetch.FetchError as exc:
        raise OSError(str(exc)) from None
    return socket.create_connection((address, port), timeout)


def smtp_config(url: str) -> mailer.SmtpConfig:
    config = mailer.SmtpConfig.from_url(url)
    if config.security != "tls" and not is_loopback(config.host):
        config = replace(config, security="starttls-required")
    return config


def smtp_transport(url: str) -> mailer.SmtpTransport:
    settings = get_settings()
    return mailer.SmtpTransport(
        smtp_config(url),
        pool_size=settings.smtp_pool_size,
        per_connection=settings.smtp_messages_per_connection,
        connector=connect,
    )


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    security: str  # "tls", "starttls" (when offered, loopback only) or "starttls-required"
    username: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> ImapConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise ValueError("an IMAP URL is imap://user:password@host:143 or imaps://user:password@host:993")
        if parts.scheme == "imaps":
            security = "tls"
        else:
            security = "starttls" if is_loopback(parts.hostname) else "starttls-required"
        return cls(
            host=parts.hostname,
            port=parts.port or (993 if parts.scheme == "imaps" else 143),
            security=security,
            username=unquote(parts.username),
            password=unquote(parts.password or ""),
        )


def smtp_urls(conn: psycopg.Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The SMTP URLs of these mailboxes, read from Vault."""
    if not ids:
        return {}
    return {r["id"]: r["url"] for r in db.fetch_all(conn, "mailbox-smtp-urls", ids=ids)}


def send_failed(conn: psycopg.Connection, mailbox_id: uuid.UUID, reason: str) -> None:
    """The mailbox could not send (login refused, TLS missing): it waits MAILBOX_RETRY_SECONDS."""
    db.execute(
        conn,
        "mailbox-send-failed",
        id=mailbox_id,
        reason=reason[:300],
        wait=get_settings().mailbox_retry_seconds,
    )
