"""send_due's rows, as the statements of sending.sql return them (built by db.fetch_one/
fetch_all with the class). Dataclasses, not pydantic models: building one is a plain
constructor call, which keeps send_due's per-message cost where docs/PERFORMANCE.md has it;
the database's types are already the fields' types.

A field added here is a column to add to the statement's select list, and the other way round:
a mismatch fails at the first row (TypeError), which every send test reaches."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

FlowType = Literal["email", "form_submission", "reply"]


@dataclass(frozen=True, slots=True)
class Reaped:
    """A row of reap-expired-leases: a claim whose sender died, settled."""

    id: uuid.UUID
    status: Literal["scheduled", "failed"]


@dataclass(frozen=True, slots=True)
class Claim:
    """The row of claim-due-flows: the rows claimed, and how many were pushed back (caps, spacing)."""

    claimed: list[uuid.UUID]
    deferred: int


@dataclass(slots=True)
class SendContext:
    """A row of load-send-context: one claimed message and everything its sending needs.
    Not frozen: a frozen dataclass's constructor sets each of its 28 fields through
    object.__setattr__, about 3 us more a message on send_due's path; nothing assigns to it."""

    id: uuid.UUID
    campaign_id: uuid.UUID
    contact_id: uuid.UUID
    sequence_order: int
    subject: str | None
    body: str | None
    attempts: int  # the claim's attempt number: every statement before the send requires it
    email: str | None  # None for a business reached through its contact form
    contact_name: str | None
    language_preference: str | None
    phone: str | None
    contact_timezone: str | None
    source_url: str | None  # the page the address was found on (named in the first message)
    found_at: datetime | None
    campaign_name: str
    ai_settings: Any  # the campaign's JSON, parsed by shared/campaigns/settings.py
    default_language: str | None
    org_name: str
    organization_id: uuid.UUID
    thread_message_id: str | None  # the first message's, for In-Reply-To and References
    thread_subject: str | None
    mailbox_id: uuid.UUID | None  # None: the deployment's own transport (MAIL_TRANSPORT)
    mailbox_email: str | None
    mailbox_name: str | None
    flow_type: FlowType
    form_site: str | None
    form_page_url: str | None
    form_action: str | None
    form_roles: Any  # the approved form's field roles (JSON), checked again on the fresh page
    in_reply_to: str | None  # a reply draft's: the prospect's Message-ID it answers
    reply_references: str | None  # a reply draft's References (their thread)

    @property
    def ai(self) -> dict[str, Any]:
        """ai_settings when it is an object (the database's check makes it one), else empty."""
        return self.ai_settings if isinstance(self.ai_settings, dict) else {}
