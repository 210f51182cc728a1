"""sync_mailboxes: reads what came back to each mailbox and acts on it (promise 8 in docs/DESIGN.md).

Each mailbox's INBOX is read incrementally: the UIDVALIDITY and the last UID handled are kept on
the mailbox, advanced in the same transaction as the effects of the messages read, one batch
at a time. A crash repeats at most the batch in progress, and each message is remembered by
its Message-ID (or a digest), so repeating it changes nothing. When the server renumbers the
INBOX (a new UIDVALIDITY), it is read again from the start under the same rule.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import psycopg
from imapclient.exceptions import IMAPClientError

from shared.campaigns import stats
from shared.core import db
from shared.core.config import get_settings
from shared.core.logs import get_logger
from shared.inbound import classify, imap, unsubscribe
from shared.mailboxes import accounts
from shared.sending import mailer

log = get_logger(__name__)

KINDS = ("reply", "auto_reply", "bounce", "stop_request")
FAILURES = (IMAPClientError, OSError, mailer.AccountRefused, ValueError)


def run() -> dict[str, int]:
    settings = get_settings()
    started = datetime.now(UTC)
    deadline = time.monotonic() + settings.drain_budget_seconds
    counts: Counter[str] = Counter()
    while time.monotonic() < deadline:
        with db.transaction() as conn:
            box = db.fetch_one(conn, "claim-mailbox-sync", lease=settings.work_lease_seconds, started=started)
        if box is None:
            break
        counts["mailboxes"] += 1
        try:
            counts.update(read_mailbox(box, deadline))
        except FAILURES as exc:
            counts["failed_mailboxes"] += 1
            reason = f"{type(exc).__name__}: {exc}"[:300]
            with db.transaction() as conn:
                db.execute(conn, "mailbox-sync-failed", id=box["id"], reason=reason)
            log.warning("a mailbox could not be read", extra={"mailbox_id": str(box["id"]), "reason": reason})
            continue
        with db.transaction() as conn:
            db.execute(conn, "mailbox-synced", id=box["id"])
    stats.refresh()  # the scheduler's call that keeps campaign_stats' live part small
    result = {key: counts.get(key, 0) for key in ("mailboxes", "failed_mailboxes", "read", *KINDS, "ignored")}
    log.info("sync_mailboxes finished", extra=result)
    return result


def read_mailbox(box: dict, deadline: float) -> Counter[str]:
    settings = get_settings()
    counts: Counter[str] = Counter()
    client, uidvalidity = imap.open_inbox(accounts.ImapConfig.from_url(box["url"]))
    try:
        last = box["imap_last_uid"] if box["imap_uidvalidity"] == uidvalidity else 0
        uids = imap.new_uids(client, last)
        for start in range(0, len(uids), settings.imap_batch_size):
            chunk = uids[start : start + settings.imap_batch_size]
            today = datetime.now(UTC).date()
            read = [(uid, classify.read(raw, today)) for uid, raw in imap.fetch(client, chunk)]
            with db.transaction() as conn:
                for _, message in read:
                    counts[handle(conn, box, message)] += 1
                db.execute(
                    conn,
                    "advance-mailbox-cursor",
                    id=box["id"],
                    uidvalidity=uidvalidity,
                    last_uid=chunk[-1],
                    lease=settings.work_lease_seconds,
                )
            counts["read"] += len(read)
            if time.monotonic() > deadline:
                break
    finally:
        client.shutdown()
    return counts


def handle(conn: psycopg.Connection, box: dict, message: classify.Inbound) -> str:
    """Acts on one message; returns its kind, or "ignored" (not ours, or handled before)."""
    if message.kind not in KINDS:
        return "ignored"
    match = answered(conn, box, message)
    if match is None:
        return "ignored"
    remembered = db.fetch_one(
        conn,
        "remember-inbound-message",
        organization_id=box["organization_id"],
        mailbox_id=box["id"],
        contact_id=match["contact_id"],
        campaign_id=match["campaign_id"],
        flow_id=match["flow_id"],
        kind=message.kind,
        sender=message.sender or None,
        subject=message.subject,
        sent_at=message.sent_at,
        snippet=message.snippet,
        return_date=message.return_date,
        bounced=match.get("address"),
        fingerprint=message.fingerprint,
    )
    if remembered is None:
        return "ignored"
    contact: uuid.UUID = match["contact_id"]
    if message.kind == "reply":
        unsubscribe.apply_event(conn, contact, "reply", f"replied: {message.subject}"[:300])
    elif message.kind == "stop_request":
        unsubscribe.unsubscribe_everywhere(conn, contact, "asked in a reply")
    elif message.kind == "bounce":
        unsubscribe.apply_event(conn, contact, "bounce", f"bounce report for {match['address']}"[:300])
    elif message.return_date:
        db.fetch_all(conn, "postpone-contact-flows", contact_id=contact, until=message.return_date)
    return message.kind


def answered(conn: psycopg.Connection, box: dict, message: classify.Inbound) -> dict | None:
    """The message of ours this one answers (or reports as failed), in this mailbox's
    organization only: by the Message-IDs it names; else, for a bounce, the failed address
    this mailbox wrote to; else the sender, if this mailbox wrote to them under that subject."""
    if message.kind == "bounce":
        for address in message.bounced:
            flows = db.fetch_all(
                conn,
                "find-flows-to-address",
                organization_id=box["organization_id"],
                address=address,
                mailbox_id=box["id"],
            )
            if flows:
                return {**flows[0], "address": address}
        # Forwarded mail fails at an address we never wrote to: the report still quotes our Message-ID.
        found = db.fetch_one(
            conn, "find-answered-flow", references=message.references, organization_id=box["organization_id"]
        )
        return {**found, "address": message.bounced[0]} if found else None
    if message.references:
        found = db.fetch_one(
            conn, "find-answered-flow", references=message.references, organization_id=box["organization_id"]
        )
        if found:
            return found
    if not message.sender:
        return None
    flows = db.fetch_all(
        conn,
        "find-flows-to-address",
        organization_id=box["organization_id"],
        address=message.sender,
        mailbox_id=box["id"],
    )
    subject = message.thread_subject
    return next(
        (f for f in flows if subject and (f["thread_subject"] or "").strip().casefold() == subject), None
    )
