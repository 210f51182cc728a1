"""The date an automatic reply says its author is back, in English, Spanish, German and French:
"away from 1 December, back on Monday 7 December" is back on the 7th."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

RETURN_WITHIN_DAYS = 120

MONTHS = {
    # English, Spanish, German, French; abbreviations by their first letters.
    **{
        m: i
        for i, m in enumerate(
            [
                "january",
                "february",
                "march",
                "april",
                "may",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
            ],
            1,
        )
    },
    **{
        m: i
        for i, m in enumerate(
            [
                "enero",
                "febrero",
                "marzo",
                "abril",
                "mayo",
                "junio",
                "julio",
                "agosto",
                "septiembre",
                "octubre",
                "noviembre",
                "diciembre",
            ],
            1,
        )
    },
    **{
        m: i
        for i, m in enumerate(
            [
                "januar",
                "februar",
                "märz",
                "april",
                "mai",
                "juni",
                "juli",
                "august",
                "september",
                "oktober",
                "november",
                "dezember",
            ],
            1,
        )
    },
    **{
        m: i
        for i, m in enumerate(
            [
                "janvier",
                "février",
                "mars",
                "avril",
                "mai",
                "juin",
                "juillet",
                "août",
                "septembre",
                "octobre",
                "novembre",
                "décembre",
            ],
            1,
        )
    },
    "setiembre": 9,
    "jänner": 1,
    "maerz": 3,
    "fevrier": 2,
    "aout": 8,
    "decembre": 12,
}
_MONTH_WORD = r"([a-zäéûô]{3,10})\.?"
DATE_PATTERNS = (
    # 2026-12-07
    (re.compile(r"\b(20\d\d)-(\d{1,2})-(\d{1,2})\b"), ("y", "m", "d")),
    # 7 December 2026, 7th of December, 7. Dezember, 7 de diciembre de 2026, lundi 7 décembre
    (
        re.compile(
            rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+(?:of\s+|de\s+)?{_MONTH_WORD}(?:\s+(?:de\s+)?(20\d\d))?",
            re.I,
        ),
        ("d", "M", "y"),
    ),
    # December 7, 2026 / Dec 7th
    (
        re.compile(rf"\b{_MONTH_WORD}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(20\d\d))?", re.I),
        ("M", "d", "y"),
    ),
    # 07.12.2026, 7.12., 07/12/2026, 7/12
    (re.compile(r"\b(\d{1,2})[./](\d{1,2})(?:[./](20\d\d|\d\d))?\b"), ("d", "m", "y")),
)


def return_date(text: str, sent_at: datetime | None, today: date) -> date | None:
    """The latest date in the text between the message's day and RETURN_WITHIN_DAYS after it:
    "away from 1 December, back on Monday 7 December" is back on the 7th. Numbers written
    7/12 are read day first, as most of the languages read here write them; where that is
    no date (12/25) they are read month first."""
    start = (sent_at.date() if sent_at else today) - timedelta(days=1)
    latest = None
    for pattern, order in DATE_PATTERNS:
        for match in pattern.finditer(text[:5000]):
            # Only the year is optional: the groups it matched, the year when written.
            matched = {k: v for k, v in zip(order, match.groups(), strict=True) if v is not None}
            for candidate in _candidates(matched, start):
                if start < candidate <= start + timedelta(days=RETURN_WITHIN_DAYS):
                    latest = max(latest or candidate, candidate)
    return latest


def _candidates(parts: dict[str, str], start: date) -> list[date]:
    if "M" in parts:
        month = MONTHS.get(parts["M"].lower()) or _abbreviation(parts["M"].lower())
        if month is None:
            return []
        readings = [(int(parts["d"]), month)]
    else:
        day, month = int(parts["d"]), int(parts["m"])
        readings = [(day, month)] if day <= 12 or month <= 12 else []
        if month > 12 and day <= 12:
            readings = [(month, day)]
    year = parts.get("y")
    found = []
    for day, month in readings:
        years = [int(year) + (2000 if len(year) == 2 else 0)] if year else [start.year, start.year + 1]
        for y in years:
            try:
                found.append(date(y, month, day))
            except ValueError:
                continue
    return found


def _abbreviation(word: str) -> int | None:
    if len(word) < 3:
        return None
    months = {m for name, m in MONTHS.items() if name.startswith(word)}
    return months.pop() if len(months) == 1 else None
