"""Countries and time zones: the country of a zone, a country's main zone, and a contact's zone
from what is known of them (zone.tab through pytz; phone numbers through phonenumbers)."""

from __future__ import annotations

import functools
from zoneinfo import available_timezones

import phonenumbers
import pytz
from phonenumbers import timezone as phone_zones


@functools.cache
def _zone_countries() -> dict[str, str]:
    return {zone: country for country, zones in pytz.country_timezones.items() for zone in zones}


def zone_country(zone: str | None) -> str | None:
    """ "Europe/Madrid" -> "ES"; None for UTC, Etc/* and "recipient"."""
    return _zone_countries().get(zone or "")


def country_zone(country: str | None) -> str | None:
    """A country's main zone, the first zone.tab lists (its most populous): ES -> Europe/Madrid."""
    zones = pytz.country_timezones.get((country or "").upper())
    return zones[0] if zones else None


def phone_zone(phone: str | None) -> str | None:
    """The zone of a number: its area's where the number says (US and Canadian area codes, ...),
    else its country's main zone."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    zones = [z for z in phone_zones.time_zones_for_number(number) if z in _known()]
    main = country_zone(phonenumbers.region_code_for_number(number))
    if main in zones or (not zones and main):
        return main
    return zones[0] if zones else None


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def contact_zone(phone: str | None, email: str | None, country: str | None, fallback: str | None) -> str:
    """A contact's zone: their phone's, else the country of their site or of their address's
    domain (.es, .co.uk), else the campaign's own zone, else UTC."""
    suffix = (email or "").rsplit(".", 1)[-1].upper()
    suffix = "GB" if suffix == "UK" else suffix
    for zone in (
        phone_zone(phone),
        country_zone(country),
        country_zone(suffix if len(suffix) == 2 else None),
    ):
        if zone:
            return zone
    return fallback if fallback and fallback in _known() else "UTC"
