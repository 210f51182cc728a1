"""How mail leaves: SMTP (pooled, reused connections), Amazon SES v2, or .eml files.

A transport answers every send with one of four outcomes (shared/sending/errors.py), and the
distinction matters for promise 1 ("never twice"): a failure before the message data went out
is safe to retry; a failure after it went out but before the server answered is `Unknown`, and
never retried.
"""

from __future__ import annotations

import functools
import queue
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from shared.core import mail_status
from shared.core.config import get_settings
from shared.sending.errors import Accepted as Accepted
from shared.sending.errors import AccountRefused as AccountRefused
from shared.sending.errors import Outcome as Outcome
from shared.sending.errors import Permanent as Permanent
from shared.sending.errors import Temporary as Temporary
from shared.sending.errors import Unknown as Unknown
from shared.sending.message import Outgoing


class Transport:
    def send(self, outgoing: Outgoing) -> Outcome:
        raise NotImplementedError

    def close(self) -> None:
        pass


class FileTransport(Transport):
    """Writes each message to <outbox>/<flow id>.eml (the local default)."""

    def __init__(self, outbox: Path):
        self.outbox = outbox
        outbox.mkdir(parents=True, exist_ok=True)

    def send(self, outgoing: Outgoing) -> Outcome:
        path = self.outbox / f"{outgoing.flow_id}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(outgoing.as_bytes())
        tmp.replace(path)
        return Accepted(str(path))


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # "starttls", "tls" (implicit) or "none"
    username: str | None
    password: str | None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        """smtp://user:pass@host:587 (STARTTLS when offered; ?starttls=require insists),
        smtps://user:pass@host:465 (implicit TLS), smtp://host:25?starttls=off (plain)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL: use smtp://[user:pass@]host[:port] or smtps://...")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if parts.scheme == "smtps":
            security = "tls"
        else:
            security = {"off": "none", "require": "starttls-required"}.get(
                options.get("starttls", ""), "starttls"
            )
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 587),
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=float(options.get("timeout", 30)),
        )


Connector = Callable[[str, int, float], socket.socket]


class _SMTP(smtplib.SMTP):
    """smtplib's client, opening its socket through `connector` when one is given (a mailbox's
    checked address); TLS still verifies the host name."""

    connector: Connector | None = None
    _host: str  # smtplib's own: the name TLS verifies
    sent_count: int = 0  # messages sent on this connection (one connection carries up to per_connection)

    # smtplib's hook for opening the socket; not in its type stubs, hence the ignore.
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        if self.connector is None:
            return super()._get_socket(host, port, timeout)  # type: ignore[misc]
        return self.connector(host, port, timeout)


class _SMTP_SSL(smtplib.SMTP_SSL, _SMTP):
    pass


# Failures of the account rather than of one message.
ACCOUNT_ERRORS = (
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPNotSupportedError,
    ssl.SSLCertVerificationError,
    AccountRefused,
)


class SmtpTransport(Transport):
    """A small pool of SMTP connections, each reused for up to `per_connection` messages.

    Thread-safe: each send borrows one connection; a connection that errs is dropped and the
    next send opens a new one.
    """

    def __init__(
        self,
        config: SmtpConfig,
        pool_size: int = 4,
        per_connection: int = 100,
        connector: Connector | None = None,
    ):
        self.config = config
        self.per_connection = per_connection
        self.connector = connector
        self._idle: queue.LifoQueue[_SMTP] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size)

    @functools.cached_property
    def _tls(self) -> ssl.SSLContext:
        # Built once: loading the CA certificates costs milliseconds, too much per connection.
        return ssl.create_default_context()

    def _open(self) -> _SMTP:
        c = self.config
        conn = (
            _SMTP_SSL(timeout=c.timeout, context=self._tls)
            if c.security == "tls"
            else _SMTP(timeout=c.timeout)
        )
        conn.connector = self.connector
        conn._host = c.host  # what TLS verifies; smtplib sets it only when the constructor connects
        code, greeting = conn.connect(c.host, c.port)
        if code != 220:
            conn.close()
            raise smtplib.SMTPConnectError(code, greeting)
        conn.ehlo()  # smtplib's mail() does not greet by itself; servers answer 503 without it
        if c.security == "starttls-required" or (c.security == "starttls" and conn.has_extn("starttls")):
            conn.starttls(context=self._tls)
            conn.ehlo()
        if c.username:
            conn.login(c.username, c.password or "")
        conn.sent_count = 0
        return conn

    def _borrow(self) -> _SMTP:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._open()

    def _discard(self, conn: smtplib.SMTP | None) -> None:
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()

    def send(self, outgoing: Outgoing) -> Outcome:
        with self._slots:
            conn = None
            try:
                conn = self._borrow()
                outcome = self._transact(conn, outgoing)
            except (smtplib.SMTPException, OSError) as exc:
                # Raised before the DATA phase began: nothing was delivered.
                self._discard(conn)
                return Temporary(
                    f"SMTP connection problem: {type(exc).__name__}: {exc}"[:300],
                    account=isinstance(exc, ACCOUNT_ERRORS),
                )
            if isinstance(outcome, (Accepted, Permanent)) and conn.sent_count < self.per_connection:
                self._idle.put(conn)
            else:
                self._discard(conn)
            return outcome

    def _transact(self, conn: _SMTP, outgoing: Outgoing) -> Outcome:
        code, reply = conn.mail(outgoing.sender)
        if code != 250:
            return _classify(code, reply, "MAIL FROM")
        code, reply = conn.rcpt(outgoing.recipient)
        if code not in (250, 251):
            conn.rset()
            return _classify(code, reply, "RCPT TO")
        code, reply = conn.docmd("data")
        if code != 354:
            conn.rset()
            return _classify(code, reply, "DATA")
        # From here on the message is on the wire: a lost answer is an unknown outcome.
        try:
            conn.send(_dot_stuffed(outgoing.as_bytes()) + b".\r\n")
            code, reply = conn.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            conn.close()
            return Unknown(f"the connection was lost after the message data was sent: {type(exc).__name__}")
        conn.sent_count += 1
        if code == 250:
            return Accepted(reply.decode(errors="replace")[:200])
        return _classify(code, reply, "end of DATA")

    def close(self) -> None:
        while True:
            try:
                self._discard(self._idle.get_nowait())
            except queue.Empty:
                return


def _dot_stuffed(data: bytes) -> bytes:
    """CRLF line ends, leading dots doubled, ending in CRLF (RFC 5321 section 4.5.2)."""
    data = re.sub(rb"\r\n|\r|\n", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _classify(code: int, reply: bytes, stage: str) -> Outcome:
    text = f"{stage}: {code} {reply.decode(errors='replace')}"[:300]
    if 400 <= code < 500 or code < 200:
        return Temporary(text)
    # A hard bounce is the address's fault: a recipient refused at RCPT, unless the enhanced
    # status says policy, or an address status (5.1.x, 5.2.1) after it. A policy refusal (5.7.x:
    # our sending IP, such as Microsoft's 5.7.606, our domain's authentication, 5.7.515 or
    # Gmail's 5.7.26, our content) and anything refused at MAIL FROM (our own address) fail the
    # message without blaming the contact.
    status = mail_status.find(reply.decode(errors="replace"))
    if status is not None and status.policy:
        return Permanent(text, policy=True)
    recipient = stage == "RCPT TO" or (stage != "MAIL FROM" and status is not None and status.address)
    return Permanent(text, recipient=recipient)


class SesTransport(Transport):
    """Amazon SES v2 SendEmail with the raw message, so our headers go out as composed.

    Exactly one HTTP request per message: botocore's own retries are off, because when SES took
    the request and the answer was lost, botocore would send the same message again (promise 1).
    send_due's backoff retries what is known not to have reached SES; a lost answer is Unknown.
    """

    TEMPORARY = {
        "TooManyRequestsException",
        "LimitExceededException",
        "ThrottlingException",
        "ServiceUnavailable",
        "InternalFailure",
        "SendingPausedException",
    }

    def __init__(self, client=None):
        self._client = client

    @property
    def client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30
            )
            # A session of its own: boto3's default session keeps the credentials it first found.
            self._client = boto3.session.Session().client("sesv2", config=config)
        return self._client

    def send(self, outgoing: Outgoing) -> Outcome:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            CredentialRetrievalError,
            NoCredentialsError,
            NoRegionError,
            ParamValidationError,
            PartialCredentialsError,
        )
        from botocore.exceptions import ConnectionError as NotConnected

        try:
            answer = self.client.send_email(
                FromEmailAddress=outgoing.sender,
                Destination={"ToAddresses": [outgoing.recipient]},
                Content={"Raw": {"Data": outgoing.as_bytes()}},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            reason = f"SES {code}: {exc.response.get('Error', {}).get('Message', '')}"[:300]
            return Temporary(reason) if code in self.TEMPORARY else Permanent(reason)
        except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, NoRegionError) as exc:
            return Temporary(f"SES is not configured: {type(exc).__name__}")
        except ParamValidationError as exc:
            return Permanent(f"SES refused the request before sending: {exc}"[:300])
        except NotConnected as exc:
            # Connecting, the TLS handshake, a proxy: all before SES had the request.
            return Temporary(f"SES unreachable: {type(exc).__name__}")
        except BotoCoreError as exc:
            # The request may have reached SES (connection closed, read timeout): never resent.
            return Unknown(f"SES request sent but its answer was lost: {type(exc).__name__}")
        return Accepted(answer.get("MessageId", ""))


def from_settings() -> Transport:
    settings = get_settings()
    if settings.mail_transport == "smtp":
        if not settings.smtp_url:
            from shared.core.config import ConfigError

            raise ConfigError("invalid configuration: SMTP_URL is required when MAIL_TRANSPORT=smtp")
        return SmtpTransport(
            SmtpConfig.from_url(settings.smtp_url.get_secret_value()),
            pool_size=settings.smtp_pool_size,
            per_connection=settings.smtp_messages_per_connection,
        )
    if settings.mail_transport == "ses":
        return SesTransport()
    return FileTransport(settings.outbox_dir)


class RateLimiter:
    """At most `rate` sends per second across the threads of one instance (SES enforces one too)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)
