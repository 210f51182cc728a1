"""send_due: claims due messages and sends each one at most once (promises 1, 2 and 6).

One run: settle rows whose sender died (reaper), cancel due rows that must never go, claim a
batch under the caps, then for each claimed row check suppression again, store its Message-ID
and send it through the transport, recording the outcome.
"""

from __future__ import annotations

import contextlib
import queue
import random
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from shared.campaigns import settings as campaign_settings
from shared.core import db
from shared.core.config import get_settings
from shared.core.logs import get_logger
from shared.mailboxes import accounts, domains
from shared.sending import assign, mailer, message, window
from shared.sending.rows import Claim, Reaped, SendContext

log = get_logger(__name__)
CAP_RETRY_SECONDS = 900
MAX_RETRY_DELAY = 6 * 3600


def run(limit: int | None = None, transport: mailer.Transport | None = None) -> dict[str, int]:
    settings = get_settings()
    limit = limit or settings.send_batch_size
    counts: Counter[str] = Counter()

    with db.transaction() as conn:
        for row in db.fetch_all(conn, "reap-expired-leases", Reaped, max_attempts=settings.send_max_attempts):
            counts["failed" if row.status == "failed" else "requeued"] += 1
    with db.transaction() as conn:
        counts["canceled"] += len(db.fetch_all(conn, "cancel-unsendable-due", scan=limit * 4))
    domains.refresh_due()  # the sending domains' SPF and DMARC checks that are due, before the claim reads them
    with db.transaction() as conn:
        db.execute(conn, "lock-claims")
        claim = db.fetch_row(
            conn,
            "claim-due-flows",
            Claim,
            limit=limit,
            scan=limit * 4,
            lease=settings.send_lease_seconds,
            spacing=settings.send_domain_spacing_seconds,
            cap_retry=CAP_RETRY_SECONDS,
        )
        ids = assign.assign(conn, claim.claimed, CAP_RETRY_SECONDS) if claim.claimed else []
        counts["deferred"] += len(claim.claimed) - len(ids)
        contexts = db.fetch_all(conn, "load-send-context", SendContext, ids=ids) if ids else []
        mailbox_urls = accounts.smtp_urls(conn, list({c.mailbox_id for c in contexts if c.mailbox_id}))
    counts["deferred"] += claim.deferred

    if contexts:
        own_transport = transport is None
        transport = transport or mailer.from_settings()
        # Each thread holds a database connection and, while it sends, an SMTP connection.
        slots = settings.smtp_pool_size if settings.mail_transport == "smtp" or not own_transport else 1
        workers = min(
            settings.db_pool_size, slots + settings.smtp_pool_size * len(mailbox_urls), len(contexts)
        )
        todo: queue.SimpleQueue[SendContext] = queue.SimpleQueue()
        for ctx in contexts:
            todo.put(ctx)
        batch = _Batch(transport, mailer.RateLimiter(settings.send_rate_per_second), todo, mailbox_urls)
        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for thread_counts in pool.map(lambda _: _Worker(batch).run(), range(workers)):
                    counts.update(thread_counts)
        finally:
            if own_transport:
                transport.close()
            batch.close_mailboxes()
    result = {key: counts.get(key, 0) for key in ("sent", "failed", "deferred", "canceled")}
    result["claimed"] = len(contexts)
    result["requeued"] = counts.get("requeued", 0)
    result["errors"] = counts.get("error", 0)
    result["lost"] = counts.get("lost", 0)  # claims another instance took over after our lease ran out
    log.info("send_due finished", extra=result)
    return result


@dataclass
class _Batch:
    """What the sending threads of one run share."""

    transport: mailer.Transport
    limiter: mailer.RateLimiter
    todo: queue.SimpleQueue[SendContext]
    mailbox_urls: dict[uuid.UUID, str] = field(default_factory=dict)
    # campaign id -> its settings, None if unreadable
    settings: dict[uuid.UUID, campaign_settings.AiSettings | None] = field(default_factory=dict)
    mailboxes: dict[uuid.UUID, mailer.Transport] = field(default_factory=dict)  # one pool each
    failing: dict[uuid.UUID, str] = field(default_factory=dict)  # mailbox id -> why it cannot send
    lock: threading.Lock = field(default_factory=threading.Lock)

    def transport_for(self, ctx: SendContext) -> mailer.Transport:
        if ctx.mailbox_id is None:
            return self.transport
        with self.lock:
            if ctx.mailbox_id not in self.mailboxes:
                self.mailboxes[ctx.mailbox_id] = accounts.smtp_transport(self.mailbox_urls[ctx.mailbox_id])
            return self.mailboxes[ctx.mailbox_id]

    def close_mailboxes(self) -> None:
        for transport in self.mailboxes.values():
            transport.close()

    def next(self) -> SendContext | None:
        try:
            return self.todo.get_nowait()
        except queue.Empty:
            return None

    def campaign_settings(self, ctx: SendContext) -> campaign_settings.AiSettings | None:
        key = ctx.campaign_id
        if key not in self.settings:
            try:
                self.settings[key] = campaign_settings.parse(ctx.ai_settings)
            except ValidationError:
                log.warning("a campaign's ai_settings are unreadable", extra={"campaign_id": str(key)})
                self.settings[key] = None
        return self.settings[key]


class _Worker:
    """One sending thread. It holds one database connection in autocommit for its share of the
    batch, so each statement is a single round trip, and records an accepted message together
    with the begin-send of its next one (or at the end): one statement per message.

    That record is deferred by at most one message: a crash in between leaves that row
    'sending' with its Message-ID, and the reaper fails it as "outcome unknown", as it would if
    the crash had come a moment before the record."""

    def __init__(self, batch: _Batch):
        self.batch = batch
        self.accepted: tuple[uuid.UUID, str, datetime] | None = None
        self.counts: Counter[str] = Counter()

    def run(self) -> Counter[str]:
        ctx = self.batch.next()
        while ctx is not None:
            progressed = False
            try:
                with db.session() as conn:
                    while ctx is not None:
                        self.counts[self.deliver(conn, ctx)] += 1
                        progressed = True
                        ctx = self.batch.next()
                    self.record_accepted(conn)
            except psycopg.OperationalError:
                # A lost connection ends the session and the next message gets a new one; if a
                # new one fails at once, the rest of the batch is left for the lease reaper.
                if ctx is None:
                    break
                self.counts["error"] += 1
                if not progressed:
                    log.exception("database unreachable; this thread leaves its rows to the lease reaper")
                    break
                log.exception("database connection lost while sending; reconnecting")
                ctx = self.batch.next()
        if self.accepted is not None:
            with contextlib.suppress(psycopg.OperationalError), db.session() as conn:
                self.record_accepted(conn)
        return self.counts

    def deliver(self, conn: psycopg.Connection, ctx: SendContext) -> str:
        flow_id: uuid.UUID = ctx.id
        try:
            now = datetime.now(UTC)
            settings = self.batch.campaign_settings(ctx)
            if settings is None:
                # One campaign's broken settings hold its own messages, nobody else's.
                when = now + timedelta(seconds=CAP_RETRY_SECONDS)
                _release(
                    conn, ctx, when, "deferred: the campaign's ai_settings are invalid; fix them to send"
                )
                return "deferred"
            opens = window.next_send_time(now, settings.sending_window, _recipient_zone(ctx))
            if opens > now + timedelta(minutes=1):
                _release(conn, ctx, opens, "deferred: outside the sending window")
                return "deferred"

            if ctx.flow_type == "form_submission":
                return self.submit_form(conn, ctx)
            if ctx.mailbox_id in self.batch.failing:
                retry = now + timedelta(seconds=get_settings().mailbox_retry_seconds)
                _release(conn, ctx, retry, self.batch.failing[ctx.mailbox_id])
                return "deferred"
            message_id = message.new_message_id(message.sender_address(ctx))
            try:
                outgoing = message.compose(ctx, message_id)
            except message.Unsendable as exc:
                db.fetch_one(
                    conn,
                    "mark-failed",
                    id=flow_id,
                    attempts=ctx.attempts,
                    reason=f"not sendable: {exc}"[:300],
                    policy=False,
                )
                return "failed"
            self.batch.limiter.wait()
            if not self.begin(conn, ctx, message_id):
                return _not_sendable(conn, ctx)
            outcome = self.batch.transport_for(ctx).send(outgoing)
            if isinstance(outcome, mailer.Accepted):
                self.accepted = (flow_id, message_id, datetime.now(UTC))
                return "sent"
            if isinstance(outcome, mailer.Temporary) and outcome.account and ctx.mailbox_id:
                return self.mailbox_failed(conn, ctx, ctx.mailbox_id, outcome.reason)
            return _record(conn, ctx, outcome)
        except psycopg.OperationalError:
            raise
        except Exception:
            # The row stays 'sending' and the lease reaper settles it: requeued if its Message-ID
            # was never stored, failed as "outcome unknown" if it was.
            log.exception("sending failed unexpectedly", extra={"flow_id": str(flow_id)})
            return "error"

    def mailbox_failed(
        self, conn: psycopg.Connection, ctx: SendContext, mailbox_id: uuid.UUID, reason: str
    ) -> str:
        """The mailbox refused the login (or its server broke a rule): nothing was sent. The
        mailbox is marked failing and waits; its messages go back to the queue, no attempt
        counted, and the other mailboxes go on."""
        waiting = f"deferred: the sequence's mailbox {ctx.mailbox_email} is failing: {reason}"[:300]
        self.batch.failing[mailbox_id] = waiting
        accounts.send_failed(conn, mailbox_id, reason)
        retry = datetime.now(UTC) + timedelta(seconds=get_settings().mailbox_retry_seconds)
        _release(conn, ctx, retry, waiting)
        log.warning("a mailbox cannot send", extra={"mailbox_id": str(mailbox_id), "reason": reason})
        return "deferred"

    def submit_form(self, conn: psycopg.Connection, ctx: SendContext) -> str:
        """A form message: begun like an email (its marker stored first, so a crash is "outcome
        unknown", never a second post), posted, and ended with what the site answered."""
        # Imported here: the form path brings the fetcher and the form reader (httpx, lxml), about
        # 25 ms of every send_due cold start that sends no form message.
        from shared.sending import submit

        marker = f"<form.{uuid.uuid4().hex}@{ctx.form_site or 'form'}>"
        if not self.begin(conn, ctx, marker):
            return _not_sendable(conn, ctx)
        done = submit.submit(ctx)
        if isinstance(done.outcome, mailer.Temporary):
            return _record(conn, ctx, done.outcome)
        sent = isinstance(done.outcome, mailer.Accepted)
        reason = None if sent else _failure(done.outcome)
        db.fetch_one(
            conn,
            "mark-form-outcome",
            id=ctx.id,
            message_id=marker,
            status="sent" if sent else "failed",
            reason=reason,
            evidence=Jsonb(done.evidence),
        )
        return "sent" if sent else "failed"

    def begin(self, conn: psycopg.Connection, ctx: SendContext, message_id: str) -> bool:
        sent_id, sent_message_id, sent_at = self.accepted or (None, None, None)
        row = db.fetch_one(
            conn,
            "begin-send",
            id=ctx.id,
            attempts=ctx.attempts,
            message_id=message_id,
            lease=get_settings().send_lease_seconds,
            sent_id=sent_id,
            sent_message_id=sent_message_id,
            sent_at=sent_at,
        )
        self.accepted = None
        return row is not None

    def record_accepted(self, conn: psycopg.Connection) -> None:
        if self.accepted is not None:
            sent_id, sent_message_id, sent_at = self.accepted
            db.fetch_one(conn, "mark-sent", id=sent_id, message_id=sent_message_id, sent_at=sent_at)
            self.accepted = None


def _recipient_zone(ctx: SendContext) -> str:
    """The contact's zone: stored when it was found, else inferred now from what is known."""
    if ctx.contact_timezone:
        return ctx.contact_timezone
    from shared.core import places  # phonenumbers' data: only for contacts found without a zone

    return places.contact_zone(ctx.phone, ctx.email, None, None)


def _not_sendable(conn: psycopg.Connection, ctx: SendContext) -> str:
    """begin-send refused: the contact is suppressed or the campaign completed (canceled), the
    campaign or the mailbox is paused (released), or the claim is no longer ours (left alone)."""
    if db.fetch_one(conn, "cancel-claimed", id=ctx.id, attempts=ctx.attempts):
        return "canceled"
    if _release(conn, ctx, datetime.now(UTC), "released: the campaign or its mailbox is paused"):
        return "deferred"
    return "lost"


def _release(conn: psycopg.Connection, ctx: SendContext, when: datetime, reason: str) -> bool:
    row = db.fetch_one(conn, "release-claimed", id=ctx.id, attempts=ctx.attempts, when=when, reason=reason)
    return row is not None


def retry_delay(attempt: int) -> int:
    """Exponential backoff with jitter: base, 2x base, 4x base... capped at six hours."""
    base = get_settings().send_retry_base_seconds * 2 ** max(attempt - 1, 0)
    return int(min(base, MAX_RETRY_DELAY) * random.uniform(0.8, 1.2))


def _failure(outcome: mailer.Outcome, attempts: int = 0) -> str:
    match outcome:
        case mailer.Temporary(reason=reason):
            return f"gave up after {attempts} attempts: {reason}"
        case mailer.Permanent(reason=reason, recipient=True):
            return f"hard bounce: {reason}"
        case mailer.Permanent(reason=reason, policy=True):
            return f"refused by policy: {reason}"
        case mailer.Permanent(reason=reason):
            return f"refused: {reason}"
        case mailer.Unknown(reason=reason):
            return f"outcome unknown: {reason}; not sent again"
    raise AssertionError(f"unhandled outcome {outcome!r}")


def _record(conn: psycopg.Connection, ctx: SendContext, outcome: mailer.Outcome) -> str:
    """A send that was not accepted: retried later, or failed with the reason. A hard bounce
    also marks the contact and cancels their waiting messages, in one transaction."""
    flow_id, attempts = ctx.id, ctx.attempts
    if isinstance(outcome, mailer.Temporary) and attempts < get_settings().send_max_attempts:
        db.fetch_one(
            conn,
            "mark-retry",
            id=flow_id,
            attempts=attempts,
            delay=retry_delay(attempts),
            reason=f"retrying after a temporary failure: {outcome.reason}",
        )
        return "deferred"
    failure = _failure(outcome, attempts)
    with conn.transaction():
        policy = isinstance(outcome, mailer.Permanent) and outcome.policy
        db.fetch_one(conn, "mark-failed", id=flow_id, attempts=attempts, reason=failure, policy=policy)
        if isinstance(outcome, mailer.Permanent) and outcome.recipient:
            db.fetch_one(conn, "mark-contact-bounced", id=flow_id, reason=failure)
            db.fetch_all(
                conn,
                "cancel-contact-flows",
                contact_id=ctx.contact_id,
                campaign_id=None,
                reason="canceled: the address bounced",
            )
    return "failed"
