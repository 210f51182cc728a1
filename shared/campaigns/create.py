"""Creating a campaign: the request's rules, the membership check and the one transaction."""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

from shared.campaigns.models import Campaign, SearchTask
from shared.campaigns.settings import AiSettings
from shared.core import db
from shared.core.http import HttpError

TONES = ("friendly", "formal", "casual", "professional", "warm", "direct", "enthusiastic", "concise")
TONE_MAX = 60
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2}|-[0-9]{3})?$")

Query = Annotated[StrictStr, Field(min_length=1, max_length=400)]


class CampaignRequest(BaseModel):
    """The body of POST create_campaign. Every rule is listed in the README."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organization_id: UUID
    campaign_name: StrictStr = Field(min_length=1, max_length=200)
    instructions: StrictStr | None = Field(default=None, max_length=5000)
    tone: StrictStr | None = Field(default=None, min_length=1, max_length=TONE_MAX)
    word_limit: StrictInt | None = Field(default=None, ge=20, le=1000)
    ai_settings: AiSettings = AiSettings()
    default_language: StrictStr | None = None
    search_queries: list[Query] = Field(min_length=1, max_length=50)

    @field_validator("tone")
    @classmethod
    def _tone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.lower() if value.lower() in TONES else value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        primary, _, region = value.replace("_", "-").partition("-")
        normalized = primary.lower() + (f"-{region.upper()}" if region else "")
        if not LANGUAGE.match(normalized):
            raise ValueError("a language code such as 'en', 'es' or 'pt-BR'")
        return normalized

    @field_validator("search_queries")
    @classmethod
    def _dedupe(cls, queries: list[str]) -> list[str]:
        seen: set[str] = set()
        unique = []
        for query in queries:
            key = " ".join(query.split()).casefold()
            if key and key not in seen:
                seen.add(key)
                unique.append(" ".join(query.split()))
        if not unique:
            raise ValueError("at least one non-blank search query")
        return unique


def campaign(user_id: UUID, request: CampaignRequest) -> dict[str, Any]:
    """Create the campaign and its search tasks in one transaction, for a member of the organization."""
    try:
        return _create(user_id, request)
    except psycopg.errors.CheckViolation as exc:
        # The database's own rules on settings (for one, sender_email's domain must be one of the
        # organization's sending domains) answer as the request's mistake.
        problem = exc.diag.message_primary or "the campaign breaks a rule of the database"
        raise HttpError(400, "invalid_body", problem) from None


def _create(user_id: UUID, request: CampaignRequest) -> dict[str, Any]:
    with db.transaction() as conn:
        membership = db.fetch_one(
            conn, "get-membership", organization_id=request.organization_id, user_id=user_id
        )
        if membership is None:
            # The same answer whether the organization exists or not, so existence does not leak.
            raise HttpError(403, "forbidden", "you are not a member of this organization")
        if membership["role"] != "admin":
            # One rule with row level security: admins run campaigns; members review and add contacts.
            raise HttpError(403, "forbidden", "only an admin of the organization creates campaigns")
        campaign = db.fetch_row(
            conn,
            "insert-campaign",
            Campaign,
            organization_id=request.organization_id,
            campaign_name=request.campaign_name,
            instructions=request.instructions,
            tone=request.tone,
            word_limit=request.word_limit,
            ai_settings=Jsonb(request.ai_settings.model_dump(mode="json")),
            default_language=request.default_language,
            created_by=user_id,
        )
        tasks = [
            db.fetch_row(
                conn,
                "insert-search-task",
                SearchTask,
                campaign_id=campaign.id,
                search_query=query,
                language=request.default_language,
            )
            for query in request.search_queries
        ]
    return {
        "campaign": campaign.model_dump(mode="json"),
        "search_tasks": [t.model_dump(mode="json") for t in tasks],
    }
