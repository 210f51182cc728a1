"""Sending-window arithmetic: the first moment a campaign may send, in its own time zone or,
with `timezone: "recipient"`, in each contact's.

All comparisons are made in UTC: Python compares two datetimes of the same zone by wall
time, which is wrong across a daylight-saving change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.campaigns.settings import WEEKDAYS, SendingWindow


def _bounds(day: date, window: SendingWindow, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(window.start_hour), zone)
    if window.end_hour == 24:
        end = datetime.combine(day + timedelta(days=1), time(0), zone)
    else:
        end = datetime.combine(day, time(window.end_hour), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def zone_of(window: SendingWindow, recipient_zone: str | None) -> ZoneInfo:
    """The window's zone; for "recipient", the contact's (UTC when it is not known)."""
    name = window.timezone if window.timezone != "recipient" else recipient_zone
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_send_time(after: datetime, window: SendingWindow, recipient_zone: str | None = None) -> datetime:
    """The first moment at or after `after` inside the window (UTC)."""
    zone = zone_of(window, recipient_zone)
    after = after.astimezone(UTC)
    local_day = after.astimezone(zone).date()
    for offset in range(8):
        day = local_day + timedelta(days=offset)
        if WEEKDAYS[day.weekday()] not in window.days:
            continue
        start, end = _bounds(day, window, zone)
        candidate = max(after, start)
        if candidate < end:
            return candidate
    raise ValueError("the sending window has no open hour")  # unreachable: days is never empty


def in_window(moment: datetime, window: SendingWindow, recipient_zone: str | None = None) -> bool:
    return next_send_time(moment, window, recipient_zone) == moment.astimezone(UTC)


def sequence_times(
    start: datetime, delays_days: list[int], window: SendingWindow, recipient_zone: str | None = None
) -> list[datetime]:
    """When each step goes: the first at the first open moment after `start`, each follow-up
    at the first open moment after `delay_days` from that first one, and never before the step
    before it."""
    first = next_send_time(start, window, recipient_zone)
    times: list[datetime] = []
    for delay in delays_days:
        moment = next_send_time(first + timedelta(days=delay), window, recipient_zone)
        if times and moment <= times[-1]:
            moment = next_send_time(times[-1] + timedelta(minutes=1), window, recipient_zone)
        times.append(moment)
    return times
