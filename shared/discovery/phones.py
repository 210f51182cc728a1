"""Phone numbers in a page: tel links and numbers as people write them in text, with the
false positives (dates, ids, tax and company numbers) filtered out. Patterns are linear in
the page size, as in emails.py."""

from __future__ import annotations

import re
from urllib.parse import unquote

import phonenumbers

# tel:, tel:/, tel://, phone:, telephone:, callto: in any case; the value may be percent- or
# entity-encoded (tel:%2B…, WordPress's antispambot() writes mailto:&#105;&#110;…).
TEL = re.compile(
    r"""[TtPpCc](?i:(?<=[Tt])el(?:ephone)?|(?<=[Pp])hone|(?<=[Cc])allto):/{0,2}((?:[+0-9().\-\s]|%[0-9A-Fa-f]{2}|&#[xX]?[0-9A-Fa-f]{1,6};){5,40})"""
)
# A plus must be followed by a digit; a number may not start inside a longer one.
PHONE = re.compile(r"[+\d](?<![\d+].)(?:(?<=\+)\d|(?<=\d))(?:[ ().\-]{0,3}+\d){6,14}+(?!\d)")
# White space other than the line breaks between blocks, read as plain spaces (str.translate is
# some twenty times faster than a regular expression on a 5 MB page).
SPACES = str.maketrans(dict.fromkeys("\t\x0b\x0c\r\xa0\u2007\u2009\u200a\u202f", " "))


# A label that names something else: tax and company ids, book and product codes, orders.
NOT_A_PHONE_LABEL = re.compile(
    r"(?i)\b(?:vat|tva|iva|ust-?id(?:nr)?|cif|nif|siret|siren|abn|isbn|ean|gtin|upc|sku|order|invoice|"
    r"tracking|ref|reference|ticket|pedido|factura|bestellnummer|commande|n[º°])(?![a-zà-ÿ])[^\n\d]{0,12}$"
)
DOI_PREFIX = re.compile(r"10\.\d{4,9}/$")
DATE_START = re.compile(r"(?:19|20)\d\d[-/.][01]?\d[-/.][0-3]?\d(?!\d)")


def written_as_phone(text: str, start: int, end: int) -> bool:
    """A run of digits in visible text that could be a phone as written, not a piece of
    something else: not glued to letters or to a path or identifier (a DOI, a hex id, an order
    number like AB-2133734253), not a date or a date and time (2012-01-02 08:00), and with its
    brackets closed. libphonenumber accepts the digits of all of these."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    # ASCII letters only: a number written right before a word in Arabic script still counts.
    if (before.isascii() and before.isalnum()) or before in "_.=#":
        return False
    if (after.isascii() and after.isalnum()) or after in "_@":
        return False
    if before == "/" and DOI_PREFIX.search(text, max(start - 16, 0), start):
        return False  # 10.1080/01639374.2012.682254
    if NOT_A_PHONE_LABEL.search(text, max(start - 24, 0), start):
        return False  # VAT: 443 061 841, ISBN 978 3 16 148410 0, Order no. 702 555 0183
    if after in ".:," and end + 1 < len(text) and text[end + 1].isdigit():
        return False  # continues as a decimal, a time or a list of numbers
    candidate = text[start:end]
    if candidate.count("(") != candidate.count(")"):
        return False  # "213(3734253": a bracket left open is not how a phone is written
    return not DATE_START.match(candidate)


def clean_phone(candidate: str, region: str | None) -> str | None:
    candidate = unquote(candidate).strip()
    try:
        number = phonenumbers.parse(candidate, region or "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def grouped(candidate: str, region: str | None) -> str | None:
    """The number, if the candidate is written whole as its region groups numbers
    (libphonenumber's strict grouping): "(305) 674-1234" and "912 34 56 78", not "(800) 555-55-55"
    in the US."""
    for match in phonenumbers.PhoneNumberMatcher(
        candidate, region or "US", phonenumbers.Leniency.STRICT_GROUPING
    ):
        if match.start == 0 and match.end == len(candidate):
            return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return None


def clean_written_phone(candidate: str, region: str | None) -> str | None:
    """A number from the text; when the run is not one, a number it ends with after a space,
    grouped as its region writes numbers: on one line "CA 94086 (408) 714-1489" is a postal code,
    then the phone, but "8 (800) 555-55-55" holds no US "(800) 555-55-55"."""
    phone = clean_phone(candidate, region)
    start = candidate.find(" ")
    while phone is None and start != -1:
        rest = candidate[start + 1 :]
        if sum(c.isdigit() for c in rest) < 7:
            break
        phone = grouped(rest, region)
        start = candidate.find(" ", start + 1)
    return phone


def in_text(lines: str, limit: int) -> list[str]:
    """Runs of digits in the page's text, one line at a time, that are written as phones."""
    written: list[str] = []
    for match in PHONE.finditer(lines):
        # The pattern starts on a digit; an opening bracket just before it belongs to the number.
        start = match.start()
        if lines[max(start - 3, 0) : start].rstrip().endswith("("):
            start = lines.rindex("(", 0, start)
        if written_as_phone(lines, start, match.end()):
            written.append(lines[start : match.end()])
        if len(written) > limit:
            break
    return written
