"""What a message read from a mailbox leads to, after sync has recorded it and applied its
effects (the sequence stopped, the opt-out, the bounce): its intent, and the next step, always
waiting for a person where a message would go out.

- interested, meeting_request, question: a reply draft in the same campaign and thread, from
  the mailbox that received the message, written by the drafter from the conversation so far;
- not_now naming a date: a follow-up draft scheduled for that date (9:00 in the recipient's zone);
- referral: the person named (an address at the same company) becomes a contact, enrolled in the
  campaign; their sequence is drafted for review and its first message says who referred them;
- unsubscribe: the contact is opted out everywhere, also when the words escaped the stop rule;
- not_interested, wrong_person, other: nothing more (the sequence stopped when the reply was read).

It runs in the transaction that records the message, so the intent, the step and the message
are kept together or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from psycopg.types.json import Jsonb

from shared.core import db, places
from shared.core.logs import get_logger
from shared.discovery.companies import company_of
from shared.drafting import llm, reply
from shared.inbound import classify, dates, quotes, unsubscribe
from shared.inbound.intent import EMAIL, Intent, llm_failed, llm_usable
from shared.inbound.intent import classify as classify_intent
from shared.inbound.rows import ReplyContext

log = get_logger(__name__)

ANSWERED = frozenset({"interested", "meeting_request", "question"})
FOLLOW_UP_HOUR = 9  # a not_now follow-up is due at this hour of the named day, in the recipient's zone
KIND_INTENT = {"auto_reply": "auto_reply", "bounce": "bounce"}

if TYPE_CHECKING:
    from shared.inbound.rows import MailboxToRead
    from shared.inbound.sync import Match


@dataclass(frozen=True)
class Step:
    what: str  # what was done, for a person reading the message
    flow_id: uuid.UUID | None = None
    referred: uuid.UUID | None = None


def read_intent(message: classify.Inbound, today: date) -> tuple[Intent, date | None]:
    """The intent of one recorded message, and the date a not_now reply named."""
    if message.kind in KIND_INTENT:
        return Intent(
            KIND_INTENT[message.kind], 1.0, f"{message.kind.replace('_', ' ')} by its headers"
        ), None
    text = quotes.new_text(message.body or message.snippet)
    found = classify_intent(text, message.subject, llm.from_settings())
    when = dates.follow_up_date(text, today) if found.intent == "not_now" else None
    return found, when


def after(
    conn: psycopg.Connection,
    box: MailboxToRead,
    match: Match,
    message: classify.Inbound,
    inbound_id: uuid.UUID,
) -> Intent:
    """Records the intent of a message sync has just remembered, and takes its next step."""
    if message.kind in KIND_INTENT:  # an automatic reply or a bounce: its kind is its intent
        found, when, step = read_intent(message, datetime.now(UTC).date())[0], None, Step("none")
    else:
        ctx = db.fetch_one(
            conn,
            "get-reply-context",
            ReplyContext,
            contact_id=match.contact_id,
            campaign_id=match.campaign_id,
            mailbox_id=box.id,
        )
        zone = _zone(ctx)
        found, when = read_intent(message, datetime.now(ZoneInfo(zone)).date())
        step = act(conn, box, ctx, message, found, when, zone) if ctx is not None else Step("none")
    db.execute(
        conn,
        "record-intent",
        id=inbound_id,
        intent=found.intent,
        confidence=found.confidence,
        evidence=found.evidence or None,
        by=found.by,
        needs_review=found.needs_review,
        follow_up_on=when,
        step=step.what[:300],
        flow_id=step.flow_id,
        referred=step.referred,
    )
    return found


def act(
    conn: psycopg.Connection,
    box: MailboxToRead,
    ctx: ReplyContext,
    message: classify.Inbound,
    found: Intent,
    when: date | None,
    zone: str,
) -> Step:
    if found.intent == "referral":
        return refer(conn, box, ctx, message, found)
    if message.kind == "stop_request":
        return Step("stopped: the contact asked not to be written to")
    if found.intent == "unsubscribe":
        # The rules read a request to stop that the stop words missed: the opt-out wins.
        unsubscribe.unsubscribe_everywhere(conn, ctx.contact_id, "asked in a reply")
        return Step("stopped: the contact asked not to be written to")
    if ctx.campaign_status == "completed":
        return Step("none: the campaign is completed")
    if found.intent in ANSWERED:
        return draft_reply(conn, box, ctx, message, found, datetime.now(UTC))
    if found.intent == "not_now":
        if when is None:
            return Step("none: no date named to write again")
        due = datetime.combine(when, time(FOLLOW_UP_HOUR), ZoneInfo(zone))
        return draft_reply(conn, box, ctx, message, found, due)
    return Step("none")


def draft_reply(
    conn: psycopg.Connection,
    box: MailboxToRead,
    ctx: ReplyContext,
    message: classify.Inbound,
    found: Intent,
    due: datetime,
) -> Step:
    conversation = reply.Conversation(
        org_name=ctx.org_name,
        sender_name=ctx.sender_name,
        contact_name=ctx.contact_name,
        ours=[(subject or "", body or "") for subject, body in ctx.ours],
        theirs=quotes.new_text(message.body or message.snippet),
        subject=reply.reply_subject(message.subject),
        intent=found.intent,
        language=found.language if found.language in reply.TEMPLATES else "en",
        instructions=ctx.instructions,
    )
    drafted = reply.draft(conversation, llm_usable(llm.from_settings()))
    if drafted.llm_failed:
        llm_failed()
    in_reply_to, references = threading(message)
    what = "a follow-up" if found.intent == "not_now" else "a reply"
    row = db.fetch_one(
        conn,
        "insert-reply-draft",
        campaign_id=ctx.campaign_id,
        contact_id=ctx.contact_id,
        step=ctx.next_order,
        subject=drafted.email.subject,
        body=drafted.email.body,
        when=due,
        mailbox_id=box.id,
        in_reply_to=in_reply_to,
        references=references,
        reason=f"waiting for approval: {what} to a {found.intent.replace('_', ' ')} reply, by {drafted.drafter}"[
            :300
        ],
    )
    if row is None:
        return Step("none: a draft for this step exists")
    when = f" for {due.date().isoformat()}" if found.intent == "not_now" else ""
    return Step(f"{what} drafted{when}, waiting for approval", flow_id=row["id"])


def threading(message: classify.Inbound) -> tuple[str | None, str | None]:
    """In-Reply-To (the prospect's Message-ID) and References (the thread up to it), at most
    ten Message-IDs, oldest first as RFC 5322 writes them."""
    own = message.fingerprint if message.fingerprint.startswith("<") else None
    earlier = list(reversed(message.references[:9]))  # references are kept newest first
    chain = [*earlier, own] if own else earlier
    return own or (message.references[0] if message.references else None), " ".join(chain) or None


def refer(
    conn: psycopg.Connection, box: MailboxToRead, ctx: ReplyContext, message: classify.Inbound, found: Intent
) -> Step:
    """The person the reply points to, when it gives an address at the same company."""
    text = quotes.new_text(message.body or message.snippet)
    company = company_of(ctx.email or message.sender or "")
    sender = (message.sender or ctx.email or "").lower()
    candidates = [
        a.lower().strip(".")
        for a in EMAIL.findall(text)
        if a.lower() not in (sender, (ctx.email or "").lower(), box.email.lower())
    ]
    address = next((a for a in candidates if company_of(a) == company), None)
    if address is None:
        return Step("none: the reply names no address at the contact's company")
    referral = {
        "by": ctx.email,
        "by_name": ctx.contact_name or ctx.email,
        "inbound_message_fingerprint": message.fingerprint[:300],
        "campaign_id": str(ctx.campaign_id),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    contact = db.fetch_one(
        conn,
        "upsert-referred-contact",
        organization_id=box.organization_id,
        email=address,
        name=_name_near(text, address),
        language=ctx.language_preference,
        timezone=ctx.contact_timezone,
        extra=Jsonb({"source": "referral", "referral": referral}),
    )
    if contact is None:  # an upsert answers its row; kept for the type checker
        return Step(f"none: {address} could not be recorded")
    enrolled = db.fetch_one(
        conn, "enroll-referred-contact", campaign_id=ctx.campaign_id, contact_id=contact["id"]
    )
    if enrolled is None:
        return Step(
            f"none: {address} is already in the campaign or asked not to be written to",
            referred=contact["id"],
        )
    return Step(f"referred to {address}: enrolled, its sequence drafted for approval", referred=contact["id"])


def _name_near(text: str, address: str) -> str | None:
    """The capitalised name written just before the address ("talk to Sarah Lee, sarah@…"),
    else none: the drafter writes without a name rather than with a wrong one."""
    before = text[: text.lower().find(address)][-60:]
    words = [w.strip(",:;()") for w in before.split()][-5:]
    name: list[str] = []
    for word in reversed(words):
        if word[:1].isupper() and word.isalpha() and word.casefold() not in NOT_NAMES:
            name.insert(0, word)
        elif name:
            break
    return " ".join(name[-3:]) or None


# Capitalised words near an address that are not a name.
NOT_NAMES = frozenset(
    [
        "i",
        "please",
        "the",
        "our",
        "my",
        "hi",
        "hello",
        "thanks",
        "sie",
        "ihr",
        "ihre",
        "bitte",
        "frau",
        "herr",
        "herrn",
        "mme",
        "m",
        "mr",
        "mrs",
        "ms",
        "dr",
        "por",
        "favor",
        "merci",
        "contactez",
        "écrivez",
        "escriba",
        "hable",
        "zuständig",
        "ansprechpartner",
        "ansprechpartnerin",
        "la",
        "le",
        "el",
    ]
)


def _zone(ctx: ReplyContext | None) -> str:
    """The contact's zone, UTC when unknown or not a zone (contacts.timezone is free text)."""
    if ctx is None:
        return "UTC"
    name = ctx.contact_timezone or places.contact_zone(ctx.phone, ctx.email, None, None)
    try:
        ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name or "UTC"
