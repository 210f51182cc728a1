"""The console's request bodies and cursors: checked at the boundary, 400 on anything else."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.core.http import HttpError

LATEST = (datetime(9999, 1, 1, tzinfo=UTC), UUID(int=(1 << 128) - 1))
EARLIEST = (datetime(1, 1, 1, tzinfo=UTC), UUID(int=0))


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CampaignStatus(Body):
    status: Literal["active", "paused", "completed"]


class DraftEdit(Body):
    subject: str = Field(max_length=998)  # RFC 5322's line limit
    body: str = Field(min_length=1, max_length=50_000)


class Decision(Body):
    ids: list[UUID] = Field(min_length=1, max_length=500)
    decision: Literal["approve", "reject"]


class MailboxActive(Body):
    active: bool


class MailboxAdd(Body):
    organization_id: UUID
    email: str = Field(max_length=254)
    smtp_url: str = Field(max_length=2000)
    imap_url: str | None = Field(default=None, max_length=2000)
    daily_cap: int = Field(default=40, ge=1, le=10_000)


class Unsubscribe(Body):
    reason: str = Field(default="asked the team to stop", min_length=1, max_length=500)


def cursor(value: str | None, default: tuple[datetime, UUID]) -> tuple[datetime, UUID]:
    """A keyset cursor 'timestamp|uuid' as the previous page's last row gave it."""
    if not value:
        return default
    at, _, row_id = value.partition("|")
    try:
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("no time zone")
        return moment, UUID(row_id)
    except ValueError:
        raise HttpError(400, "invalid_cursor", "the cursor is not one this console gave") from None


def next_cursor(rows: list[dict], at: str, limit: int) -> str | None:
    if len(rows) < limit:
        return None
    last = rows[-1]
    # UTC with a Z: nothing in it needs escaping in a query string.
    moment = last[at].astimezone(UTC).isoformat().replace("+00:00", "Z")
    return f"{moment}|{last['id']}"


def uuid_arg(value: str | None, name: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise HttpError(400, "invalid_argument", f"{name} must be a UUID") from None
