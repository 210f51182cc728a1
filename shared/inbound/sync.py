"""sync_mailboxes: reads what came back to each mailbox and acts on it (promise 8 in docs/DESIGN.md).

Each mailbox's INBOX is read incrementally: the UIDVALIDITY and the last UID handled are kept on
the mailbox, advanced in the same transaction as the effects of the messages read, one batch
at a time. A crash repeats at most the batch in progress, and each message is remembered by
its Message-ID (or a digest), so repeating it changes nothing. When the server renumbers the
INBOX (a new UIDVALIDITY), it is read again from the start under the same rule.

Isolation (docs/RELIABILITY.md, promises 8 and 11): whatever goes wrong with one message is
recorded against its UID in inbound_quarantine and the cursor moves past it; whatever goes wrong
with one mailbox ends in its imap_error with a retry time, and the run goes on with the next.
Only a message's own sender (the contact, or someone at their company's domain), or a report
quoting a Message-ID we sent to the address it names, changes a contact; anything else that
names one of ours is recorded for a person, and changes nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote, unquote, urlsplit

import psycopg

from shared.campaigns import stats
from shared.core import db
from shared.core.config import get_settings
from shared.core.logs import get_logger
from shared.core.text import one_line
from shared.discovery.companies import company_of
from shared.inbound import classify, feedback, imap, next_step, unsubscribe
from shared.inbound.rows import MailboxToRead
from shared.mailboxes import accounts

log = get_logger(__name__)

KINDS = ("reply", "auto_reply", "bounce", "stop_request", "complaint")
COUNTS = ("mailboxes", "failed_mailboxes", "read", *KINDS, "ignored", "unverified", "quarantined")


def run() -> dict:
    """Every mailbox due for reading, each on its own: the counts, and a result per mailbox.
    Raises only when the database cannot be reached (the caller answers 500)."""
    settings = get_settings()
    started = datetime.now(UTC)
    deadline = time.monotonic() + settings.drain_budget_seconds
    counts: Counter[str] = Counter()
    results = []
    while time.monotonic() < deadline:
        with db.transaction() as conn:
            box = db.fetch_one(
                conn, "claim-mailbox-sync", MailboxToRead, lease=settings.work_lease_seconds, started=started
            )
        if box is None:
            break
        result = sync_mailbox(box, deadline)
        counts["mailboxes"] += 1
        counts["failed_mailboxes"] += result["error"] is not None
        counts.update({k: v for k, v in result.items() if k in COUNTS})
        results.append(result)
    stats.refresh()  # the scheduler's call that keeps campaign_stats' live part small
    answer: dict = {key: counts.get(key, 0) for key in COUNTS}
    log.info("sync_mailboxes finished", extra=answer)
    answer["results"] = results
    return answer


def sync_mailbox(box: MailboxToRead, deadline: float) -> dict:
    """One mailbox, isolated: any exception ends in its imap_error, with the time it is tried
    again, and the next mailbox is read. Only a failure to record that reaches the caller."""
    result: dict = {"mailbox_id": str(box.id), "email": box.email, "error": None, "retry_at": None}
    try:
        counts = read_mailbox(box, deadline)
    except Exception as exc:  # a hostile server or message must not end the run
        reason = str(one_line(scrubbed(f"{type(exc).__name__}: {exc}", box.url)))[:300]
        with db.transaction() as conn:
            row = db.fetch_one(
                conn,
                "mailbox-sync-failed",
                id=box.id,
                reason=reason,
                wait=get_settings().mailbox_retry_seconds,
            )
        log.warning("a mailbox could not be read", extra={"mailbox_id": str(box.id), "reason": reason})
        return {**result, "error": reason, "retry_at": row["sync_retry_at"].isoformat() if row else None}
    with db.transaction() as conn:
        db.execute(conn, "mailbox-synced", id=box.id)
    return {
        **result,
        **{key: counts.get(key, 0) for key in COUNTS if key not in ("mailboxes", "failed_mailboxes")},
    }


def scrubbed(text: str, url: str) -> str:
    """An error's text without the mailbox's password, in any spelling the URL holds it."""
    password = urlsplit(url).password or ""
    for secret in {password, unquote(password), quote(unquote(password), safe="")} - {""}:
        text = text.replace(secret, "•••")
    return text


@dataclass(frozen=True)
class Inbox:
    box: MailboxToRead
    uidvalidity: int


def read_mailbox(box: MailboxToRead, deadline: float) -> Counter[str]:
    settings = get_settings()
    counts: Counter[str] = Counter()
    client, uidvalidity = imap.open_inbox(accounts.ImapConfig.from_url(box.url))
    inbox = Inbox(box, uidvalidity)
    try:
        read_again(client, inbox, counts)
        last = box.imap_last_uid if box.imap_uidvalidity == uidvalidity else 0
        uids = imap.new_uids(client, last)
        for start in range(0, len(uids), settings.imap_batch_size):
            chunk = uids[start : start + settings.imap_batch_size]
            fetched, refused = imap.fetch_each(client, chunk)
            today = datetime.now(UTC).date()
            with db.transaction() as conn:
                for uid, raw in fetched:
                    counts[take_in(conn, inbox, uid, raw, today)] += 1
                for uid, reason in refused.items():
                    set_aside(conn, inbox, uid, "unreadable", reason, None, None)
                    counts["quarantined"] += 1
                db.execute(
                    conn,
                    "advance-mailbox-cursor",
                    id=box.id,
                    uidvalidity=uidvalidity,
                    last_uid=chunk[-1],
                    lease=settings.work_lease_seconds,
                )
            counts["read"] += len(fetched) + len(refused)
            if time.monotonic() > deadline:
                break
    finally:
        with contextlib.suppress(OSError):
            client.shutdown()
    return counts


def read_again(client: imap.Client, inbox: Inbox, counts: Counter[str]) -> None:
    """The quarantined messages a person asked to have read again (read_again), before the new
    ones: each handled like a new message, and out of the quarantine when nothing went wrong."""
    with db.transaction() as conn:
        uids = [
            r["uid"]
            for r in db.fetch_all(
                conn, "uids-to-read-again", mailbox_id=inbox.box.id, uidvalidity=inbox.uidvalidity
            )
        ]
    if not uids:
        return
    got, refused = imap.fetch_each(client, uids)
    fetched = dict(got)
    today = datetime.now(UTC).date()
    with db.transaction() as conn:
        for uid in uids:
            if uid in refused:
                set_aside(conn, inbox, uid, "unreadable", refused[uid], None, None)
                kind = "quarantined"
            elif uid in fetched:
                kind = take_in(conn, inbox, uid, fetched[uid], today)
            else:
                kind = "ignored"  # no longer in the INBOX: nothing to read again
            if kind not in ("quarantined", "unverified"):
                db.execute(
                    conn,
                    "read-again-done",
                    mailbox_id=inbox.box.id,
                    uidvalidity=inbox.uidvalidity,
                    uid=uid,
                )
            counts[kind] += 1


def take_in(conn: psycopg.Connection, inbox: Inbox, uid: int, raw: bytes, today: date) -> str:
    """One message, alone: whatever goes wrong reading or handling it (a parser's recursion, a
    database error) is undone to its savepoint and recorded against its UID, and the batch
    goes on. Returns what it was counted as."""
    message = None
    try:
        with conn.transaction():  # a savepoint: this message's effects, or none of them
            message = classify.read(raw, today)
            handled = handle(conn, inbox.box, message)
            if handled.doubt is not None:
                set_aside(conn, inbox, uid, "unverified", handled.doubt, message, handled.contact_id)
            return handled.kind
    except Exception as exc:  # one message never stops a mailbox
        if conn.broken:
            raise  # the connection is gone: the mailbox's run ends, the batch is read again
        # One line, no NUL: an error's text may quote the hostile message itself.
        reason = str(one_line(f"{type(exc).__name__}: {exc}"))[:500]
        set_aside(conn, inbox, uid, "unreadable", reason, message, None)
        log.warning(
            "a message could not be read and is set aside",
            extra={"mailbox_id": str(inbox.box.id), "uid": uid, "reason": reason},
        )
        return "quarantined"


def set_aside(
    conn: psycopg.Connection,
    inbox: Inbox,
    uid: int,
    problem: str,
    reason: str,
    message: classify.Inbound | None,
    contact_id: uuid.UUID | None,
) -> None:
    """Records a message set aside. Under a savepoint of its own: a failure here (the reason may
    quote a hostile server) is logged and never aborts the batch, whose cursor moves on."""
    reason = str(one_line(reason))[:500]  # one line, no NUL: it may quote the server or the message
    try:
        with conn.transaction():
            db.execute(
                conn,
                "quarantine-message",
                organization_id=inbox.box.organization_id,
                mailbox_id=inbox.box.id,
                uidvalidity=inbox.uidvalidity,
                uid=uid,
                problem=problem,
                reason=reason,
                kind=message.kind if message and message.kind in KINDS else None,
                contact_id=contact_id,
                sender=(message.sender or None) if message else None,
                subject=message.subject if message else None,
                snippet=message.snippet if message else None,
                fingerprint=message.fingerprint if message else None,
            )
    except psycopg.Error as exc:
        if conn.broken:
            raise
        log.error(
            "a message set aside could not be recorded",
            extra={"mailbox_id": str(inbox.box.id), "uid": uid, "error": type(exc).__name__},
        )


@dataclass(frozen=True)
class Match:
    """The message of ours an inbound message answers (or reports as failed)."""

    flow_id: uuid.UUID
    contact_id: uuid.UUID
    campaign_id: uuid.UUID
    contact_email: str | None
    address: str | None = None  # a report's failed address
    doubt: str | None = None  # why it is not believed; None: it acts on the contact

    @classmethod
    def of(cls, row: db.Row, **extra: str | None) -> Match:
        return cls(row["flow_id"], row["contact_id"], row["campaign_id"], row["contact_email"], **extra)


@dataclass(frozen=True)
class Handled:
    kind: str  # a kind of KINDS, "ignored", or "unverified" (with its doubt)
    doubt: str | None = None
    contact_id: uuid.UUID | None = None


def handle(conn: psycopg.Connection, box: MailboxToRead, message: classify.Inbound) -> Handled:
    """Acts on one message: a kind of KINDS when it changed the contact, "ignored" (not ours, or
    handled before), or "unverified" (names one of ours, not believed: set aside, no change)."""
    if message.kind not in KINDS:
        return Handled("ignored")
    if message.kind == "complaint":  # a feedback report: kept apart, matched by Message-ID only
        return Handled(feedback.record(conn, box, message))
    match = answered(conn, box, message)
    if match is None:
        return Handled("ignored")
    if match.doubt is not None:
        return Handled("unverified", match.doubt, match.contact_id)
    remembered = db.fetch_one(
        conn,
        "remember-inbound-message",
        organization_id=box.organization_id,
        mailbox_id=box.id,
        contact_id=match.contact_id,
        campaign_id=match.campaign_id,
        flow_id=match.flow_id,
        kind=message.kind,
        sender=message.sender or None,
        subject=message.subject,
        sent_at=message.sent_at,
        snippet=message.snippet,
        return_date=message.return_date,
        bounced=match.address,
        fingerprint=message.fingerprint,
    )
    if remembered is None:
        return Handled("ignored")
    inbound_id: uuid.UUID = remembered["id"]
    if message.kind == "reply":
        on_reply(conn, box, message, match, inbound_id)
    elif message.kind == "stop_request":
        unsubscribe.unsubscribe_everywhere(conn, match.contact_id, "asked in a reply")
    elif message.kind == "bounce" and message.refused_by_policy:
        # Not delivered, and not the address's fault: the message fails with the mark that feeds
        # the mailbox's circuit breaker; the contact is left alone.
        db.execute(
            conn,
            "mark-refused-by-policy",
            id=match.flow_id,
            reason=f"refused by policy: a delivery report for {match.address} (5.7.x)"[:300],
        )
    elif message.kind == "bounce":
        unsubscribe.apply_event(conn, match.contact_id, "bounce", f"bounce report for {match.address}"[:300])
    elif message.return_date:
        postpone(conn, match.contact_id, message.return_date)
    take_next_step(conn, box, match, message, inbound_id)
    return Handled(message.kind)


def take_next_step(
    conn: psycopg.Connection,
    box: MailboxToRead,
    match: Match,
    message: classify.Inbound,
    inbound_id: uuid.UUID,
) -> None:
    """The intent, and a draft or a referral, under a savepoint of their own: their failure is
    logged and leaves the message recorded and the contact stopped (an opt-out is never undone
    because a draft could not be written); the message keeps no intent, for a person to read."""
    try:
        with conn.transaction():
            next_step.after(conn, box, match, message, inbound_id)
    except Exception as exc:  # an LLM's or a drafter's failure never undoes what the reply did
        if conn.broken:
            raise
        log.warning(
            "a reply's next step failed",
            extra={"mailbox_id": str(box.id), "inbound_id": str(inbound_id), "error": type(exc).__name__},
        )


def on_reply(
    conn: psycopg.Connection,
    box: MailboxToRead,
    message: classify.Inbound,
    match: Match,
    inbound_id: uuid.UUID,
) -> None:
    """A person answered one of our messages (their own address, or their company's): the one
    place a reply is acted on. The contact is `responded` and their waiting messages in every
    campaign are canceled; what else a reply leads to belongs here."""
    unsubscribe.apply_event(conn, match.contact_id, "reply", f"replied: {message.subject}"[:300])


def postpone(conn: psycopg.Connection, contact_id: uuid.UUID, until: date) -> None:
    """An automatic reply's return date: the next message moves to that day, in the campaign's
    zone or, for "recipient", the contact's own, found as the sending path finds it."""
    from shared.core import places  # phonenumbers' data: only when an automatic reply has a date

    clues = db.fetch_one(conn, "contact-zone-clues", contact_id=contact_id) or {}  # {}: contact gone
    zone = clues.get("timezone") or places.contact_zone(clues.get("phone"), clues.get("email"), None, None)
    db.fetch_all(conn, "postpone-contact-flows", contact_id=contact_id, until=until, recipient_zone=zone)


def answered(conn: psycopg.Connection, box: MailboxToRead, message: classify.Inbound) -> Match | None:
    """The message of ours this one answers (or reports as failed), in this mailbox's
    organization only, with the doubt that keeps it from acting, if any."""
    if message.kind == "bounce":
        return reported(conn, box, message)
    org = box.organization_id
    found = None
    if message.references:
        row = db.fetch_one(conn, "find-answered-flow", references=message.references, organization_id=org)
        found = Match.of(row) if row else None
    if found is None and message.sender:
        # Without threading headers: the sender is a contact this mailbox wrote to, under the
        # subject their thread began with.
        flows = db.fetch_all(
            conn, "find-flows-to-address", organization_id=org, address=message.sender, mailbox_id=box.id
        )
        subject = message.thread_subject
        row = next(
            (f for f in flows if subject and (f["thread_subject"] or "").strip().casefold() == subject), None
        )
        found = Match.of(row) if row else None
    if found is None:
        return None
    if not speaks_for(conn, message.sender, found.contact_email):
        sender = message.sender or "no address"
        doubt = (
            f"sent by {sender}: not the contact ({found.contact_email}) nor anyone at their company's domain"
        )
        return dataclasses.replace(found, doubt=doubt)
    return found


def speaks_for(conn: psycopg.Connection, sender: str, contact_email: str | None) -> bool:
    """The sender is the contact, or writes from their company's domain (a public mail domain
    such as gmail.com is no company: there only the address itself counts)."""
    if not sender or not contact_email:
        return False
    if sender == contact_email.lower():
        return True
    if company_of(sender) != company_of(contact_email.lower()):
        return False
    return not db.fetch_row(conn, "is-public-mail-address", address=contact_email)["public"]


def reported(conn: psycopg.Connection, box: MailboxToRead, message: classify.Inbound) -> Match | None:
    """A delivery report is believed when the headers it returns quote a Message-ID we sent to
    the address it says failed: a report anyone could write (any From:, any address) cannot
    bounce a contact, or trip a circuit breaker. One that names something of ours without that
    proof is set aside; one that names nothing of ours is ignored."""
    org = box.organization_id
    for address in message.bounced:
        row = db.fetch_one(
            conn, "find-quoted-flow-to-address", quoted=message.quoted, organization_id=org, address=address
        )
        if row:
            return Match.of(row, address=address)
    for address in message.bounced:
        flows = db.fetch_all(
            conn, "find-flows-to-address", organization_id=org, address=address, mailbox_id=box.id
        )
        if flows:
            doubt = f"a delivery report for {address} that quotes no Message-ID we sent to that address"
            return Match.of(flows[0], address=address, doubt=doubt)
    if message.quoted:
        row = db.fetch_one(conn, "find-answered-flow", references=message.quoted, organization_id=org)
        if row:
            doubt = f"a delivery report for {', '.join(message.bounced)}, not the address our quoted message went to"
            return Match.of(row, address=message.bounced[0], doubt=doubt[:300])
    return None
