"""Rows as pydantic models. Extra columns are ignored, so `SELECT *` keeps working as the schema grows."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class Row(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Organization(Row):
    id: UUID
    org_name: str
    created_at: datetime


class Member(Row):
    organization_id: UUID
    user_id: UUID
    role: str


class Campaign(Row):
    id: UUID
    organization_id: UUID
    campaign_name: str
    instructions: str | None
    tone: str | None
    word_limit: int | None
    ai_settings: dict[str, Any]
    default_language: str | None
    status: str
    created_by: UUID | None
    created_at: datetime


class SearchTask(Row):
    id: UUID
    campaign_id: UUID
    search_query: str
    language: str | None
    status: str
    attempts: int
    status_reason: str | None
    created_at: datetime


class ScrapeResult(Row):
    id: UUID
    search_task_id: UUID
    website_url: str
    status: str
    extracted_emails: list[str] | None
    extracted_phone: list[str] | None
    attempts: int
    status_reason: str | None


class Contact(Row):
    id: UUID
    organization_id: UUID
    source_scrape_id: UUID | None
    email: str
    phone: str | None
    name: str | None
    language_preference: str | None
    reached_status: str
    unsubscribe_requested: bool
    unsubscribe_reason: str | None
    extra_data: dict[str, Any]


class CampaignContact(Row):
    campaign_id: UUID
    contact_id: UUID
    status: str
    attempts: int
    status_reason: str | None


class OutreachFlow(Row):
    id: UUID
    contact_id: UUID
    campaign_id: UUID
    flow_type: str
    status: str
    subject: str | None
    body: str | None
    sequence_order: int
    scheduled_send_time: datetime | None
    sent_at: datetime | None
    message_id: str | None
    attempts: int
    status_reason: str | None
    lease_expires_at: datetime | None
