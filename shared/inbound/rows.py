"""inbound's rows, as the statements of replies.sql, next_step.sql and unsubscribes.sql return
them (built by db.fetch_one with the class). A field added here is a column to add to the
statement's select list: a mismatch fails at the first row (TypeError)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MailboxToRead:
    """A row of claim-mailbox-sync: the mailbox leased for this run and where its INBOX is."""

    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    imap_uidvalidity: int | None  # None until the INBOX was first read
    imap_last_uid: int  # the last UID handled under imap_uidvalidity
    url: str = field(repr=False)  # imaps://user:password@host: a secret, never in a repr or a log


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """A row of get-reply-context: who answered, in which campaign, from which organization, and
    what we wrote them so far."""

    contact_id: uuid.UUID
    email: str | None  # None for a contact reached through a form only
    contact_name: str | None
    contact_timezone: str | None  # free text: not always a zone
    phone: str | None
    language_preference: str | None
    campaign_id: uuid.UUID
    instructions: str | None
    campaign_status: str
    org_name: str
    sender_name: str
    next_order: int  # the step a reply drafted now takes
    ours: list[list[str | None]]  # (subject, body) of each message sent, oldest first


@dataclass(frozen=True, slots=True)
class UnsubscribeContext:
    """A row of get-unsubscribe-context: the message an unsubscribe link names, with its contact,
    campaign and organization, as its page shows them."""

    flow_id: uuid.UUID
    campaign_id: uuid.UUID
    contact_id: uuid.UUID
    email: str | None  # None for a contact reached through a form
    form_site: str | None
    language_preference: str | None
    public_name: str | None  # the campaign's public name, when it has one
    default_language: str | None
    org_name: str
