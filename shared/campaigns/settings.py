"""The campaign's `ai_settings`: its sequence, sending window, limits and sender.

Defaults apply to every key left out; unknown keys are refused so a typo never goes unnoticed.
"""

from __future__ import annotations

import unicodedata
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(Strict):
    """One message of the sequence, sent `delay_days` after the first one was scheduled."""

    delay_days: StrictInt = Field(ge=0, le=90)


class SendingWindow(Strict):
    days: list[Weekday] = Field(default=["mon", "tue", "wed", "thu", "fri"], min_length=1, max_length=7)
    start_hour: StrictInt = Field(default=9, ge=0, le=23)
    end_hour: StrictInt = Field(default=17, ge=1, le=24)
    # An IANA zone, or "recipient": the days and hours apply in each contact's own zone.
    timezone: str = "recipient"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value == "recipient":
            return value
        if value not in available_timezones() and value != "UTC":
            raise ValueError("an IANA time zone such as 'Europe/Madrid' or 'America/New_York'")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone such as 'Europe/Madrid'") from None
        return value

    @field_validator("days")
    @classmethod
    def _unique_days(cls, value: list[str]) -> list[str]:
        return sorted(set(value), key=WEEKDAYS.index)

    @model_validator(mode="after")
    def _hours_in_order(self) -> SendingWindow:
        if self.end_hour <= self.start_hour:
            raise ValueError("end_hour must be after start_hour")
        return self


class Breaker(Strict):
    """The circuit breakers: over the last 7 days' delivery attempts, once at least `min_sent`
    went out, a share of hard bounces or complaints at these rates pauses the campaign; so does
    a share of negative replies and unsubscribes per first message sent."""

    bounce_rate: StrictFloat = Field(default=0.05, ge=0, le=1)
    complaint_rate: StrictFloat = Field(default=0.001, ge=0, le=1)
    min_sent: StrictInt = Field(default=20, ge=1, le=100_000)
    # The negative-reply breaker: "not interested" replies plus unsubscribes per first message
    # sent (once min_sent first messages went out) at which the campaign pauses.
    negative_reply_rate: StrictFloat = Field(default=0.1, ge=0, le=1)


class AiSettings(Strict):
    steps: list[Step] = Field(
        default=[Step(delay_days=0), Step(delay_days=3), Step(delay_days=7)], min_length=1, max_length=10
    )
    sending_window: SendingWindow = SendingWindow()
    daily_cap: StrictInt = Field(default=200, ge=1, le=10_000)
    review_before_send: StrictBool = False
    # "text": plain-text messages only, the norm in one-to-one outreach; "html": text and HTML.
    format: Literal["html", "text"] = "html"
    sender_name: str | None = Field(default=None, min_length=1, max_length=100)
    sender_email: EmailStr | None = None
    # What the unsubscribe page shows recipients; the internal campaign name never reaches them.
    public_name: str | None = Field(default=None, min_length=1, max_length=100)
    # The organization's mailboxes this campaign sends from, by address; unset: every one.
    mailboxes: list[EmailStr] | None = Field(default=None, min_length=1, max_length=100)
    # Contacts enrolled per company (per domain of their address; public mail domains apart).
    per_company: StrictInt = Field(default=1, ge=1, le=50)
    # "form": businesses with a contact form and no address get one form message, reviewed first.
    channels: list[Literal["email", "form"]] = Field(default=["email"], min_length=1, max_length=2)
    breaker: Breaker = Breaker()

    @field_validator("steps")
    @classmethod
    def _delays_increase(cls, steps: list[Step]) -> list[Step]:
        delays = [s.delay_days for s in steps]
        if delays != sorted(set(delays)):
            raise ValueError("step delays must increase: the first message, then each follow-up later")
        return steps

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each channel once")
        return value

    @field_validator("sender_name", "public_name")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and (
            any(c in '<>"' or unicodedata.category(c) == "Cc" for c in value) or not value.strip()
        ):
            raise ValueError("a plain name on one line, without <, >, quotes or control characters")
        return value.strip() if value else value

    @field_validator("sender_email")
    @classmethod
    def _ascii_local_part(cls, value: str | None) -> str | None:
        # SMTP carries a non-ASCII domain as IDNA, a non-ASCII local part only with SMTPUTF8.
        if value is not None and not value.rpartition("@")[0].isascii():
            raise ValueError("the part before the @ must be plain ASCII")
        return value


def parse(raw: dict | None) -> AiSettings:
    return AiSettings.model_validate(raw or {})
