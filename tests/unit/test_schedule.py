"""Sending-window arithmetic across time zones and daylight-saving changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.campaigns.settings import SendingWindow
from shared.sending.window import in_window, next_send_time, sequence_times

WEEKDAYS = SendingWindow(
    days=["mon", "tue", "wed", "thu", "fri"], start_hour=9, end_hour=17, timezone="America/New_York"
)


def local(tz, *args):
    return datetime(*args, tzinfo=ZoneInfo(tz))


def test_inside_the_window_is_now():
    moment = local("America/New_York", 2026, 11, 25, 10, 30).astimezone(UTC)
    assert next_send_time(moment, WEEKDAYS) == moment and in_window(moment, WEEKDAYS)


def test_after_hours_moves_to_next_morning():
    moment = local("America/New_York", 2026, 11, 25, 18, 0)
    assert next_send_time(moment, WEEKDAYS) == local("America/New_York", 2026, 11, 26, 9, 0).astimezone(UTC)


def test_friday_evening_moves_to_monday():
    moment = local("America/New_York", 2026, 11, 27, 17, 0)  # a Friday, at closing time
    assert next_send_time(moment, WEEKDAYS) == local("America/New_York", 2026, 11, 30, 9, 0).astimezone(UTC)


def test_the_zone_decides_the_day():
    window = SendingWindow(days=["mon"], start_hour=9, end_hour=17, timezone="Asia/Tokyo")
    moment = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # Sunday in UTC, Monday 08:30 in Tokyo
    assert next_send_time(moment, window) == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "day", "utc_hour"),
    [
        ("America/New_York", (2026, 3, 6), 14),  # EST: 09:00 is 14:00 UTC (Friday before the change)
        ("America/New_York", (2026, 3, 9), 13),  # EDT after 8 March: 09:00 is 13:00 UTC
        ("Europe/Madrid", (2026, 10, 23), 7),  # CEST: 09:00 is 07:00 UTC
        ("Europe/Madrid", (2026, 10, 26), 8),  # CET after 25 October: 09:00 is 08:00 UTC
    ],
)
def test_opening_hour_is_local_across_daylight_saving(tz, day, utc_hour):
    window = SendingWindow(days=["mon", "tue", "wed", "thu", "fri"], start_hour=9, end_hour=17, timezone=tz)
    before_opening = datetime(*day, 3, 0, tzinfo=UTC)
    assert next_send_time(before_opening, window) == datetime(*day, utc_hour, 0, tzinfo=UTC)


def test_window_over_the_spring_forward_gap():
    window = SendingWindow(days=["sun"], start_hour=2, end_hour=4, timezone="America/New_York")
    # 8 March 2026, 02:00 does not exist in New York; the window opens at 03:00 EDT (07:00 UTC).
    opens = next_send_time(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), window)
    assert opens == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert opens.astimezone(ZoneInfo("America/New_York")).hour == 3


def test_sequence_keeps_delays_and_order():
    start = local("America/New_York", 2026, 11, 25, 16, 59)
    times = sequence_times(start, [0, 3, 7], WEEKDAYS)
    assert times[0] == start.astimezone(UTC)
    assert times[1] >= times[0] + timedelta(days=3) and times[2] >= times[0] + timedelta(days=7)
    assert all(in_window(t, WEEKDAYS) for t in times)
    assert times == sorted(times)


def test_same_day_steps_stay_in_order():
    start = local("America/New_York", 2026, 11, 25, 10, 0)
    times = sequence_times(start, [0, 1, 2], WEEKDAYS)
    assert times[0] < times[1] < times[2]
