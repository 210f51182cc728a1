"""A real SMTP server (aiosmtpd) on loopback that records what arrives and can misbehave on cue."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections import Counter
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from local.run import free_port


@dataclass
class Behaviour:
    """Scripted answers: each list is consumed one entry per command; empty means '250'."""

    mail_from: str = ""  # the reply to every MAIL FROM when set, else 250
    rcpt: dict[str, str] = field(default_factory=dict)  # address -> reply for that recipient
    data_replies: list[str] = field(default_factory=list)
    drop_after_data: int = 0  # drop the connection instead of answering DATA this many times
    latency: float = 0.0  # seconds added before every reply


class Recorder:
    def __init__(self, behaviour: Behaviour):
        self.behaviour = behaviour
        self.messages: list[bytes] = []
        self.senders: list[str] = []  # the envelope's MAIL FROM of each message
        self.lock = threading.Lock()

    async def _pause(self):
        if self.behaviour.latency:
            await asyncio.sleep(self.behaviour.latency)

    async def handle_MAIL(self, server, session, envelope, address, options):
        await self._pause()
        if self.behaviour.mail_from:
            return self.behaviour.mail_from
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        await self._pause()
        reply = self.behaviour.rcpt.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await self._pause()
        with self.lock:
            if self.behaviour.data_replies:
                reply = self.behaviour.data_replies.pop(0)
                if not reply.startswith("250"):
                    return reply
            self.messages.append(envelope.original_content or envelope.content)
            self.senders.append(envelope.mail_from)
            if self.behaviour.drop_after_data:
                self.behaviour.drop_after_data -= 1
                server.transport.abort()
                return "250 OK"
        return "250 OK"

    def parsed(self) -> list[email.message.EmailMessage]:
        with self.lock:
            return [email.message_from_bytes(m, policy=email.policy.default) for m in self.messages]

    def message_ids(self) -> Counter:
        return Counter(m["Message-ID"] for m in self.parsed())


class Logins:
    """An aiosmtpd authenticator that accepts one user and records every attempt."""

    def __init__(self, user: str = "mailer", password: str = "s3cret pass"):  # noqa: S107 (a test server)
        self.user, self.password = user.encode(), password.encode()
        self.attempts: list[tuple[str, bool]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.user,
            self.password,
        )
        self.attempts.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


class MailServer:
    def __init__(self, behaviour: Behaviour | None = None, port: int | None = None, **options):
        """options go to aiosmtpd's Controller: tls_context and require_starttls (STARTTLS),
        ssl_context (implicit TLS), authenticator and auth_require_tls (AUTH)."""
        self.behaviour = behaviour or Behaviour()
        self.recorder = Recorder(self.behaviour)
        self.port = port or free_port()
        self.controller = Controller(
            self.recorder,
            hostname="127.0.0.1",
            port=self.port,
            data_size_limit=10_000_000,
            ready_timeout=10,
            **options,
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=off&timeout=10"

    def __enter__(self) -> MailServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
