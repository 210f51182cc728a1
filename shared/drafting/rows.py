"""drafting's rows, as the statements of drafting.sql return them (built by db.fetch_one with
the class). A field added here is a column to add to the statement's select list: a mismatch
fails at the first row (TypeError)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DraftContext:
    """A row of get-draft-context: one campaign contact, what the campaign asks, and what the
    prospect's site says (the scrape the contact was found by)."""

    campaign_id: uuid.UUID
    contact_id: uuid.UUID
    public_name: str | None  # the offer's name a prospect may read (never the campaign's own)
    instructions: str | None
    tone: str | None
    word_limit: int | None
    ai_settings: Any  # the campaign's JSON, parsed by shared/campaigns/settings.py
    default_language: str | None
    campaign_status: str
    org_name: str
    email: str | None  # None: a business reached through its contact form
    contact_name: str | None
    language_preference: str | None
    extra_data: Any
    phone: str | None
    contact_timezone: str | None
    contact_form_id: uuid.UUID | None
    form_fields: list[dict[str, Any]] | None  # the form's fields, as the form reader stored them
    form_roles: dict[str, str] | None  # role ("message", "email", ...) -> field name
    website_url: str | None
    page_title: str | None
    page_description: str | None
    site_name: str | None
    site_text: str | None
    existing_steps: int
