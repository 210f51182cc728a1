"""send_due: claims due messages and sends each one at most once (promises 1, 2 and 6).

One run: settle rows whose sender died (reaper), cancel due rows that must never go, claim a
batch under the caps, then for each claimed row check suppression again, store its Message-ID
and send it through the transport, recording the outcome.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from shared import campaign_settings, db, mailer, message, schedule
from shared.config import get_settings
from shared.logs import get_logger

log = get_logger(__name__)
CAP_RETRY_SECONDS = 900
MAX_RETRY_DELAY = 6 * 3600


def run(limit: int | None = None, transport: mailer.Transport | None = None) -> dict[str, int]:
    settings = get_settings()
    limit = limit or settings.send_batch_size
    counts: Counter[str] = Counter()

    with db.transaction() as conn:
        for row in db.fetch_all(conn, "reap-expired-leases", max_attempts=settings.send_max_attempts):
            counts["failed" if row["status"] == "failed" else "requeued"] += 1
    with db.transaction() as conn:
        counts["canceled"] += len(db.fetch_all(conn, "cancel-unsendable-due", scan=limit * 4))
    with db.transaction() as conn:
        db.execute(conn, "lock-claims")
        claim = db.fetch_one(
            conn,
            "claim-due-flows",
            limit=limit,
            scan=limit * 4,
            lease=settings.send_lease_seconds,
            spacing=settings.send_domain_spacing_seconds,
            cap_retry=CAP_RETRY_SECONDS,
        )
        contexts = db.fetch_all(conn, "load-send-context", ids=claim["claimed"]) if claim["claimed"] else []
    counts["deferred"] += claim["deferred"]

    if contexts:
        own_transport = transport is None
        transport = transport or mailer.from_settings()
        limiter = mailer.RateLimiter(settings.send_rate_per_second)
        workers = settings.smtp_pool_size if settings.mail_transport == "smtp" or not own_transport else 1
        try:
            with ThreadPoolExecutor(max_workers=min(workers, len(contexts))) as pool:
                for outcome in pool.map(lambda ctx: _deliver(ctx, transport, limiter), contexts):
                    counts[outcome] += 1
        finally:
            if own_transport:
                transport.close()
    result = {key: counts.get(key, 0) for key in ("sent", "failed", "deferred", "canceled")}
    result["claimed"] = len(contexts)
    result["requeued"] = counts.get("requeued", 0)
    result["errors"] = counts.get("error", 0)
    log.info("send_due finished", extra=result)
    return result


def _window(ctx: dict) -> campaign_settings.SendingWindow:
    try:
        return campaign_settings.parse(ctx["ai_settings"]).sending_window
    except ValidationError:
        return campaign_settings.SendingWindow()


def _deliver(ctx: dict, transport: mailer.Transport, limiter: mailer.RateLimiter) -> str:
    flow_id: uuid.UUID = ctx["id"]
    try:
        now = datetime.now(UTC)
        opens = schedule.next_send_time(now, _window(ctx))
        if opens > now + timedelta(minutes=1):
            _release(flow_id, opens, "deferred: outside the campaign's sending window")
            return "deferred"

        sender = message.sender_address(ctx["ai_settings"])
        message_id = message.new_message_id(sender.domain or "localhost")
        outgoing = message.compose(ctx, message_id)
        limiter.wait()
        if not _begin(flow_id, message_id):
            return _not_sendable(flow_id)
        outcome = transport.send(outgoing)
        return _record(ctx, message_id, outcome)
    except Exception:
        # The row stays 'sending' and the lease reaper settles it: requeued if its Message-ID
        # was never stored, failed as "outcome unknown" if it was.
        log.exception("sending failed unexpectedly", extra={"flow_id": str(flow_id)})
        return "error"


def _begin(flow_id: uuid.UUID, message_id: str) -> bool:
    with db.transaction() as conn:
        return (
            db.fetch_one(
                conn, "begin-send", id=flow_id, message_id=message_id, lease=get_settings().send_lease_seconds
            )
            is not None
        )


def _not_sendable(flow_id: uuid.UUID) -> str:
    with db.transaction() as conn:
        if db.fetch_one(conn, "cancel-claimed", id=flow_id):
            return "canceled"
    _release(flow_id, datetime.now(UTC), "released: the campaign is paused or the lease ran out")
    return "deferred"


def _release(flow_id: uuid.UUID, when: datetime, reason: str) -> None:
    with db.transaction() as conn:
        db.fetch_one(conn, "release-claimed", id=flow_id, when=when, reason=reason)


def retry_delay(attempt: int) -> int:
    """Exponential backoff with jitter: base, 2x base, 4x base... capped at six hours."""
    base = get_settings().send_retry_base_seconds * 2 ** max(attempt - 1, 0)
    return int(min(base, MAX_RETRY_DELAY) * random.uniform(0.8, 1.2))


def _record(ctx: dict, message_id: str, outcome: mailer.Outcome) -> str:
    settings = get_settings()
    flow_id = ctx["id"]
    with db.transaction() as conn:
        match outcome:
            case mailer.Accepted():
                # Safe without waiting for the disk: if a crash loses this commit, the row is
                # still 'sending' with its Message-ID stored, and the reaper fails it as
                # "outcome unknown" rather than sending it again. (begin-send stays durable.)
                db.execute(conn, "async-commit")
                db.fetch_one(conn, "mark-sent", id=flow_id, message_id=message_id)
                return "sent"
            case mailer.Temporary(reason=reason) if ctx["attempts"] < settings.send_max_attempts:
                db.fetch_one(
                    conn,
                    "mark-retry",
                    id=flow_id,
                    delay=retry_delay(ctx["attempts"]),
                    reason=f"retrying after a temporary failure: {reason}",
                )
                return "deferred"
            case mailer.Temporary(reason=reason):
                db.fetch_one(
                    conn,
                    "mark-failed",
                    id=flow_id,
                    reason=f"gave up after {ctx['attempts']} attempts: {reason}",
                )
                return "failed"
            case mailer.Permanent(reason=reason, recipient=True):
                db.fetch_one(conn, "mark-failed", id=flow_id, reason=f"hard bounce: {reason}")
                db.fetch_one(conn, "mark-contact-bounced", id=flow_id, reason=f"hard bounce: {reason}")
                db.fetch_all(
                    conn,
                    "cancel-contact-flows",
                    contact_id=ctx["contact_id"],
                    campaign_id=None,
                    reason="canceled: the address bounced",
                )
                return "failed"
            case mailer.Permanent(reason=reason):
                db.fetch_one(conn, "mark-failed", id=flow_id, reason=f"refused: {reason}")
                return "failed"
            case mailer.Unknown(reason=reason):
                db.fetch_one(
                    conn, "mark-failed", id=flow_id, reason=f"outcome unknown: {reason}; not sent again"
                )
                return "failed"
    raise AssertionError(f"unhandled outcome {outcome!r}")
