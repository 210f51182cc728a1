"""discovery's rows, as the statements of discovery.sql return them (built by db.fetch_one with
the class). A field added here is a column to add to the statement's select list: a mismatch
fails at the first row (TypeError)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScrapeContext:
    """A row of get-scrape-context: the page to crawl and what its campaign asks of it."""

    id: uuid.UUID
    website_url: str
    language: str | None  # the search task's, else the campaign's default_language
    campaign_id: uuid.UUID
    organization_id: uuid.UUID
    default_language: str | None
    timezone: str | None  # the campaign's sending window's zone, or "recipient"
    per_company: int  # how many people of one company are written to
    form_channel: bool  # the campaign may reach a business through its contact form
