"""Complaint feedback reports (ARF, RFC 5965), as Yahoo's and Microsoft's feedback loops send
them to a mailbox: a multipart/report; report-type=feedback-report whose second part
(message/feedback-report) says what kind of report it is and whose third part returns the
message complained about (message/rfc822, or only its headers as text/rfc822-headers).

A report is matched to what we sent by the returned message's own Message-ID, in the mailbox's
organization only: never by its To, which anyone can write. A report that quotes no Message-ID
of ours is kept and changes nothing. A matched complaint marks the contact `complained`, which
cancels their waiting messages and feeds the complaint breaker (the contacts trigger).
"""

from __future__ import annotations

import email.message
import re
from dataclasses import dataclass
from datetime import datetime
from email.parser import HeaderParser
from email.utils import parseaddr, parsedate_to_datetime
from typing import TYPE_CHECKING

import psycopg

from shared.core import db
from shared.core.logs import get_logger
from shared.core.text import one_line

if TYPE_CHECKING:
    from shared.inbound.classify import Inbound
    from shared.inbound.rows import MailboxToRead

log = get_logger(__name__)

MESSAGE_ID = re.compile(r"<[^<>\s\x00-\x1f\x7f]{1,250}>")
# The registered feedback types that mean someone objected to the message: abuse and fraud
# (RFC 5965). auth-failure (RFC 6591), not-spam (RFC 6430), virus and other are kept, no complaint.
COMPLAINT_TYPES = {"abuse", "fraud"}


@dataclass(frozen=True)
class Report:
    feedback_type: str  # abuse, fraud, auth-failure, not-spam, virus, other
    reported_message_id: str | None  # the returned message's Message-ID
    user_agent: str = ""
    original_recipient: str = ""
    arrival_date: datetime | None = None

    @property
    def is_complaint(self) -> bool:
        return self.feedback_type in COMPLAINT_TYPES


def read(msg: email.message.Message) -> Report | None:
    """The feedback report this message is, or None. Hostile MIME never raises."""
    try:
        if msg.get_content_type() != "multipart/report":
            return None
        if str(msg.get_param("report-type") or "").lower() != "feedback-report":
            return None
        payload = msg.get_payload()
        if not isinstance(payload, list):
            return None
        parts = [p for p in payload if isinstance(p, email.message.Message)]
        fields = next((_headers(p) for p in parts if p.get_content_type() == "message/feedback-report"), None)
        if fields is None:
            return None
        returned = next(
            (_headers(p) for p in parts if p.get_content_type() in ("message/rfc822", "text/rfc822-headers")),
            None,
        )
    except Exception:  # a report broken past reading is no report
        log.info("an unreadable multipart/report was ignored")
        return None
    ids = MESSAGE_ID.findall(str(returned.get("Message-ID", ""))) if returned is not None else []
    return Report(
        feedback_type=one_line(str(fields.get("Feedback-Type", ""))).strip().lower()[:40] or "unknown",
        reported_message_id=ids[0] if ids else None,
        user_agent=one_line(str(fields.get("User-Agent", "")))[:200],
        original_recipient=parseaddr(one_line(str(fields.get("Original-Rcpt-To", ""))))[1][:254],
        arrival_date=_date(str(fields.get("Arrival-Date", ""))),
    )


def _headers(part: email.message.Message) -> email.message.Message | None:
    """The header block a part carries: a parsed message (message/*) or text (text/rfc822-headers)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload[0] if payload and isinstance(payload[0], email.message.Message) else None
    if isinstance(payload, str):
        text = part.get_payload(decode=True)
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else payload
        return HeaderParser().parsestr(text.lstrip("\r\n"), headersonly=True)
    return None


def _date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else None


def record(conn: psycopg.Connection, box: MailboxToRead, message: Inbound) -> str:
    """Keeps a report read from this mailbox and, when it is a complaint about a message this
    organization sent, marks the contact complained. Returns the count it falls under."""
    from shared.inbound import unsubscribe

    report = message.feedback
    if report is None:  # classify calls a message a complaint only when it read a report
        return "ignored"
    found = None
    if report.reported_message_id:
        found = db.fetch_one(
            conn,
            "find-reported-flow",
            message_id=report.reported_message_id,
            organization_id=box.organization_id,
        )
    kept = db.fetch_one(
        conn,
        "remember-feedback-report",
        organization_id=box.organization_id,
        mailbox_id=box.id,
        flow_id=found["flow_id"] if found else None,
        contact_id=found["contact_id"] if found else None,
        feedback_type=report.feedback_type,
        reporter=report.user_agent or message.sender or None,
        reported_message_id=report.reported_message_id,
        original_recipient=report.original_recipient or None,
        arrival_date=report.arrival_date,
        fingerprint=message.fingerprint,
    )
    if kept is None or found is None or not report.is_complaint:
        return "ignored"  # handled before, not about our mail, or not a complaint
    detail = f"complaint feedback report ({report.user_agent or 'a feedback loop'})"[:300]
    outcome = unsubscribe.apply_event(conn, found["contact_id"], "complaint", detail)
    # Counted when the contact's state changed: a second loop reporting the same message is kept
    # above, and the contact complained once.
    return "complaint" if outcome.changed else "ignored"
