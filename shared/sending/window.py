"""Sending-window arithmetic: the first moment a campaign may send, in its own time zone.

All comparisons are made in UTC: Python compares two datetimes of the same zone by wall
time, which is wrong across a daylight-saving change.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.campaigns.settings import WEEKDAYS, SendingWindow


def _bounds(day, window: SendingWindow, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(window.start_hour), zone)
    if window.end_hour == 24:
        end = datetime.combine(day + timedelta(days=1), time(0), zone)
    else:
        end = datetime.combine(day, time(window.end_hour), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def next_send_time(after: datetime, window: SendingWindow) -> datetime:
    """The first moment at or after `after` inside the window (UTC)."""
    zone = ZoneInfo(window.timezone)
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


def in_window(moment: datetime, window: SendingWindow) -> bool:
    return next_send_time(moment, window) == moment.astimezone(UTC)


def sequence_times(start: datetime, delays_days: list[int], window: SendingWindow) -> list[datetime]:
    """When each step goes: the first at the first open moment after `start`, each follow-up
    at the first open moment after `delay_days` from that first one, and never before the step
    before it."""
    first = next_send_time(start, window)
    times = []
    for delay in delays_days:
        moment = next_send_time(first + timedelta(days=delay), window)
        if times and moment <= times[-1]:
            moment = next_send_time(times[-1] + timedelta(minutes=1), window)
        times.append(moment)
    return times
