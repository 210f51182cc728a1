"""Rows as pydantic models. Extra columns are ignored, so `SELECT *` keeps working as the schema grows."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class Row(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


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
