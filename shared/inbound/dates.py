"""The date a "not now" reply names: "in March", "after the summer", "Q2", "next month",
"nächsten Monat", "a partir de septiembre", "à la rentrée". The date is read against the day it
is in the recipient's time zone and is always in the future: "in March" written in April is
next March. Vague words map to the start of the period they name (the summer ends: 1 September).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from shared.inbound.return_date import MONTHS

HORIZON_DAYS = 550  # a date further away than this is not a follow-up date

_MONTH_NAMES = sorted(MONTHS, key=len, reverse=True)
_MONTH = "(" + "|".join(re.escape(m) for m in _MONTH_NAMES) + r")\b"

# (pattern, how the match becomes a date) in order: the first that matches wins.
_MONTH_AFTER = re.compile(
    r"\b(after|end of|late|finales de|despu[ée]s de|nach|ende|fin|apr[èe]s)\s+(de\s+|d'|del?\s+)?" + _MONTH,
    re.I,
)
_MONTH_IN = re.compile(
    r"\b(in|from|by|around|early|until|till|en|a partir de|desde|para|hasta|im|ab|anfang|bis|[àa] partir d[e']|d[èe]s|"
    r"vers|avant|jusqu'en|courant|d[ée]but|mi|mid)\s*[- ]?\s*(de\s+|d'|del?\s+)?" + _MONTH,
    re.I,
)
_QUARTER = re.compile(
    r"\b(q|t|quarter |trimestre |quartal )([1-4])\b|\b([1-4])(st|nd|rd|th|er|e|\.)?\s*(quarter|trimestre|quartal)\b",
    re.I,
)
_NEXT_QUARTER = re.compile(
    r"next quarter|pr[óo]ximo trimestre|n[äa]chste[sn]? quartal|prochain trimestre|trimestre prochain", re.I
)
_SUMMER_AFTER = re.compile(
    r"after (the )?summer|end of (the )?summer|despu[ée]s del verano|tras el verano|nach dem sommer|nach den sommerferien"
    r"|apr[èe]s l'[ée]t[ée]|[àa] la rentr[ée]e|apr[èe]s les vacances d'[ée]t[ée]|fin de l'[ée]t[ée]",
    re.I,
)
_SUMMER = re.compile(
    r"\b(this summer|in (the )?summer|en verano|im sommer|cet [ée]t[ée]|en [ée]t[ée])\b", re.I
)
_NEW_YEAR = re.compile(
    r"next year|new year|after (the )?(holidays|christmas)|el a[ñn]o que viene|pr[óo]ximo a[ñn]o|a[ñn]o nuevo|despu[ée]s de navidad"
    r"|n[äa]chste[sn]? jahr|nach weihnachten|neues jahr|ann[ée]e prochaine|l'an prochain|apr[èe]s no[ëe]l|apr[èe]s les f[êe]tes",
    re.I,
)
_NEXT_MONTH = re.compile(
    r"next month|pr[óo]ximo mes|mes que viene|el mes siguiente|n[äa]chste[nm]? monat|im folgemonat|mois prochain|le mois suivant",
    re.I,
)
_NEXT_WEEK = re.compile(
    r"next week|pr[óo]xima semana|semana que viene|n[äa]chste[rn]? woche|semaine prochaine", re.I
)
_IN_UNITS = re.compile(
    r"\b(in|en|dans|within|otr[oa]s)\s+(a couple of|un par de|(\d{1,2})|one|two|three|four|six|"
    r"un|una|uno|dos|tres|cuatro|seis|une|deux|trois|quatre|ein|eine|einem|einer|zwei|drei|vier|sechs)\s+"
    r"(weeks?|months?|semanas?|mes(es)?|semaines?|mois|wochen?|monaten?)\b",
    re.I,
)
_NUMBERS = {
    "a couple of": 2, "un par de": 2, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "un": 1, "una": 1,
    "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "seis": 6, "une": 1, "deux": 2, "trois": 3, "quatre": 4,
    "ein": 1, "eine": 1, "einem": 1, "einer": 1, "zwei": 2, "drei": 3, "vier": 4, "sechs": 6,
}  # fmt: skip


def follow_up_date(text: str, today: date) -> date | None:
    """The day to write again that the text names, or None. `today` is the day in the
    recipient's time zone."""
    text = text[:3000]
    found = _month(text, today) or _period(text, today)
    if found and today < found <= today + timedelta(days=HORIZON_DAYS):
        return found
    return None


def _month(text: str, today: date) -> date | None:
    match = _MONTH_AFTER.search(text)
    if match:
        month = MONTHS[match.group(3).lower()]
        return _next_first(today, month % 12 + 1)
    match = _MONTH_IN.search(text)
    if match:
        month = MONTHS[match.group(3).lower()]
        return _next_first(today, month)
    return None


def _period(text: str, today: date) -> date | None:
    if _SUMMER_AFTER.search(text):
        return _next_first(today, 9)
    match = _QUARTER.search(text)
    if match:
        quarter = int(match.group(2) or match.group(3))
        return _next_first(today, 3 * quarter - 2)
    if _NEXT_QUARTER.search(text):
        current = (today.month - 1) // 3
        return _next_first(today, (current + 1) % 4 * 3 + 1)
    if _NEW_YEAR.search(text):
        return date(today.year + 1, 1, 7) if today.month > 1 or today.day >= 7 else date(today.year, 1, 7)
    if _SUMMER.search(text):
        return _next_first(today, 6)
    if _NEXT_MONTH.search(text):
        return _next_first(today, today.month % 12 + 1)
    if _NEXT_WEEK.search(text):
        return today + timedelta(days=7 - today.weekday())
    match = _IN_UNITS.search(text)
    if match:
        amount = int(match.group(3)) if match.group(3) else _NUMBERS.get(match.group(2).lower(), 1)
        unit = match.group(4).lower()
        if unit.startswith(("week", "semana", "semaine", "woche")):
            return today + timedelta(weeks=amount)
        return _add_months(today, amount)
    return None


def _next_first(today: date, month: int) -> date:
    """The first day of the month's next occurrence after today."""
    year = today.year if month > today.month else today.year + 1
    return date(year, month, 1)


def _add_months(day: date, months: int) -> date:
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")
