"""Amazon SES bounce and complaint notifications, delivered through SNS: what an SNS message
says (parsed here, without a request or a database, so it is tested directly), and what it
changes (a permanent bounce or a complaint stops every message to the contact).

Only a permanent bounce counts: a transient one (mailbox full, greylisting) is the receiving
server's passing trouble, and send_due already retries what SMTP refused for a while.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from shared.core.http import HttpError
from shared.core.logs import get_logger
from shared.inbound import unsubscribe

log = get_logger(__name__)

SnsKind = Literal["SubscriptionConfirmation", "Notification", "UnsubscribeConfirmation"]


@dataclass(frozen=True)
class SesEvent:
    """A notification that changes a contact: `event` is what is recorded, `message_id` the
    Message-ID of the message it is about (None when SES did not say)."""

    event: Literal["bounce", "complaint"]
    message_id: str | None


@dataclass(frozen=True)
class Ignored:
    """A notification that changes nothing (a delivery, a transient bounce); `kind` says which."""

    kind: str


def notification_of(message: dict[str, Any]) -> dict[str, Any]:
    """The SES notification an SNS Notification carries in its Message field, as JSON text."""
    try:
        notification = json.loads(message["Message"])
    except (ValueError, RecursionError, TypeError, KeyError):
        notification = None
    if not isinstance(notification, dict):
        raise HttpError(400, "invalid_sns_message", "the notification is not an SES JSON object")
    return notification


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse(notification: dict[str, Any]) -> SesEvent | Ignored:
    """What a notification (SES's own notifications or an event destination's events) means.
    Every field is checked for its type: a notification is input from the network."""
    kind = notification.get("notificationType") or notification.get("eventType")
    event: Literal["bounce", "complaint"]
    if kind == "Bounce" and _object(notification.get("bounce")).get("bounceType") == "Permanent":
        event = "bounce"
    elif kind == "Complaint":
        event = "complaint"
    else:
        return Ignored(kind if isinstance(kind, str) and kind else "unknown")
    return SesEvent(event, message_id(_object(notification.get("mail"))))


def message_id(mail: dict[str, Any]) -> str | None:
    """The Message-ID of the message: the raw header when SES lists the headers (it is the one
    we wrote), else the parsed commonHeaders."""
    found = _object(mail.get("commonHeaders")).get("messageId")
    headers = mail.get("headers")
    for header in map(_object, headers if isinstance(headers, list) else []):
        if str(header.get("name", "")).lower() == "message-id":
            found = header.get("value")
    return found if isinstance(found, str) and found else None


def record(parsed: SesEvent | Ignored) -> dict[str, Any]:
    """Applies an event to the contact whose message it names; the answer for SNS."""
    if isinstance(parsed, Ignored):
        return {"ignored": parsed.kind}
    contact_id = unsubscribe.contact_by_message_id(parsed.message_id) if parsed.message_id else None
    if contact_id is None:
        log.warning("SES notification for a message we did not send", extra={"event": parsed.event})
        return {"matched": False}
    outcome = unsubscribe.record_event(contact_id, parsed.event, f"{parsed.event} reported by SES")
    return {"matched": True, "event": parsed.event, "changed": outcome.changed, "canceled": outcome.canceled}


def handle(message: object) -> dict[str, Any]:
    """One SNS message (already parsed as JSON): verified, then a subscription confirmed or a
    notification recorded once (SNS redelivers; a replay is ignored)."""
    # Imported here: cryptography and httpx cost the public page's cold start ~120 ms otherwise.
    from shared.inbound import sns

    if not isinstance(message, dict):
        raise HttpError(400, "invalid_sns_message", "the SNS message is not a JSON object")
    sns.verify(message)
    kind = message["Type"]
    if kind == "SubscriptionConfirmation":
        sns.confirm_subscription(message)
        return {"confirmed": True}
    if kind != "Notification":
        return {"ignored": kind}
    parsed = parse(notification_of(message))
    if not sns.first_delivery(message["MessageId"]):
        return {"ignored": "duplicate"}
    try:
        return record(parsed)
    except Exception:
        sns.forget(message["MessageId"])  # SNS delivers it again; it must not count as seen
        raise
