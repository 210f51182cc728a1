"""Stopping mail: unsubscribes from a link or a mail client's one-click POST, bounces,
complaints and replies (promise 2). Every change cancels the contact's waiting messages in
the same transaction, and repeating it changes nothing more."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

import psycopg

from shared.core import db
from shared.core.http import HttpError
from shared.inbound import tokens
from shared.inbound.rows import UnsubscribeContext

Scope = Literal["campaign", "all"]
Event = Literal["reply", "bounce", "complaint"]

EVENT_STATUS = {"reply": "responded", "bounce": "bounced", "complaint": "complained"}
EVENT_REASON = {
    "reply": "canceled: the contact replied",
    "bounce": "canceled: the address bounced",
    "complaint": "canceled: the contact complained",
}


@dataclass(frozen=True)
class Outcome:
    changed: bool
    canceled: int


def context_for(token: str) -> UnsubscribeContext:
    """The message a token names, with its contact, campaign and organization; 400 otherwise."""
    try:
        flow_id = tokens.verify(token)
    except tokens.InvalidToken:
        raise HttpError(400, "invalid_token", "this unsubscribe link is not valid") from None
    with db.transaction() as conn:
        ctx = db.fetch_one(conn, "get-unsubscribe-context", UnsubscribeContext, flow_id=flow_id)
    if ctx is None:
        raise HttpError(400, "invalid_token", "this unsubscribe link names no message")
    return ctx


def unsubscribe(ctx: UnsubscribeContext, scope: Scope, source: str) -> Outcome:
    with db.transaction() as conn:
        if scope == "campaign":
            changed = db.fetch_one(
                conn,
                "unsubscribe-from-campaign",
                campaign_id=ctx.campaign_id,
                contact_id=ctx.contact_id,
                reason=f"unsubscribed from this campaign ({source})",
            )
            canceled = db.fetch_all(
                conn,
                "cancel-contact-flows",
                contact_id=ctx.contact_id,
                campaign_id=ctx.campaign_id,
                reason="canceled: the contact unsubscribed from this campaign",
            )
        else:
            return unsubscribe_everywhere(conn, ctx.contact_id, source)
    return Outcome(changed is not None, len(canceled))


def unsubscribe_everywhere(conn: psycopg.Connection, contact_id: uuid.UUID, source: str) -> Outcome:
    changed = db.fetch_one(
        conn, "unsubscribe-globally", contact_id=contact_id, reason=f"unsubscribed from everything ({source})"
    )
    canceled = db.fetch_all(
        conn,
        "cancel-contact-flows",
        contact_id=contact_id,
        campaign_id=None,
        reason="canceled: the contact unsubscribed from everything the organization sends",
    )
    return Outcome(changed is not None, len(canceled))


def record_event(contact_id: uuid.UUID, event: Event, detail: str) -> Outcome:
    with db.transaction() as conn:
        return apply_event(conn, contact_id, event, detail)


def apply_event(conn: psycopg.Connection, contact_id: uuid.UUID, event: Event, detail: str) -> Outcome:
    """A reply, bounce or complaint: the contact's status, and every waiting message canceled."""
    changed = db.fetch_one(
        conn, "mark-contact-status", contact_id=contact_id, status=EVENT_STATUS[event], reason=detail
    )
    canceled = db.fetch_all(
        conn, "cancel-contact-flows", contact_id=contact_id, campaign_id=None, reason=EVENT_REASON[event]
    )
    return Outcome(changed is not None, len(canceled))


def contact_by_email(organization_id: uuid.UUID, email: str) -> uuid.UUID | None:
    with db.transaction() as conn:
        row = db.fetch_one(conn, "find-contact-by-email", organization_id=organization_id, email=email)
    return row["contact_id"] if row else None


def contact_by_message_id(message_id: str) -> uuid.UUID | None:
    with db.transaction() as conn:
        row = db.fetch_one(conn, "find-flow-by-message-id", message_id=message_id)
    return row["contact_id"] if row else None


def mask(address: str) -> str:
    """j•••@e•••.com: enough for a person to recognize, too little to harvest."""
    local, _, domain = address.partition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        name, tld = domain, ""
    return f"{local[:1]}•••@{name[:1]}•••{dot}{tld}"
