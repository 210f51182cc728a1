"""Phone numbers in a page: tel links, messaging links (WhatsApp, Viber) and numbers as people
write them in text, with the false positives (dates, ids, tax and company numbers, IBANs, fax
numbers) filtered out. Each number keeps how the page gave it (KINDS), so a later channel can
tell a WhatsApp number from a landline. Patterns are linear in the page size, as in emails.py."""

from __future__ import annotations

import html as htmllib
import re
import unicodedata
from urllib.parse import parse_qs, unquote, urlsplit

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


# How the page gave a number: a tel: link, a WhatsApp or Viber link (a mobile that takes
# messages), structured data (JSON-LD, microdata, a framework's JSON), or the visible text.
LINK, WHATSAPP, VIBER, DATA, TEXT = "link", "whatsapp", "viber", "data", "text"
KINDS = (LINK, WHATSAPP, VIBER, DATA, TEXT)

# A label that names something else: tax and company ids (VAT, the German register and tax
# numbers, the Dutch chamber of commerce, the Italian VAT and REA, Latin America's tax ids), bank
# details, book and product codes, orders.
NOT_A_PHONE_LABEL = re.compile(
    r"(?i)\b(?:vat|tva|iva|ust-?id(?:nr)?|ust|mwst|uid|cif|nif|siret|siren|abn|isbn|ean|gtin|upc|sku|order|"
    r"invoice|tracking|ref|reference|ticket|pedido|factura|bestellnummer|commande|n[º°]|hrb|hra|"
    r"handelsregister|registergericht|registernummer|amtsgericht|steuer-?nr|steuernummer|st\.?-nr|kvk|btw|"
    r"rea|codice fiscale|c\.\s?f|iban|bic|swift|konto|kontonummer|blz|ruc|rut|cuit|cuil|nit|rfc|cnpj|cpf|rcs|"
    r"dvr|gln|company\s(?:no|number|reg(?:istration)?))"
    r"(?![a-zà-ÿ])[^\n\d]{0,12}$"
)
# A fax number is not a phone to call; "Tel./Fax" and "Teléfono y fax" name one that is both.
FAX_LABEL = re.compile(r"(?i)(?:(?<![a-z])(?:tele)?fax(?![a-z])|ファックス|ファクス|传真|傳真)[^\n\d]{0,12}$")
PHONE_WORD = re.compile(r"(?i)tel|phone|fon|電話")
WHATSAPP_LABEL = re.compile(r"(?i)whats ?app")
# "TEL03-1234-5678": a phone label glued to the number, as Japanese pages write it.
GLUED_LABEL = re.compile(r"(?i)(?<![a-z])tel\.?$")
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
    labelled = GLUED_LABEL.search(text, max(start - 5, 0), start)  # TEL03-…, TEL.06-…
    if not labelled and ((before.isascii() and before.isalnum()) or before in "_.=#"):
        return False
    if before == "〒":  # a Japanese postal code
        return False
    if (after.isascii() and after.isalnum()) or after in "_@":
        return False
    if before == "/" and DOI_PREFIX.search(text, max(start - 16, 0), start):
        return False  # 10.1080/01639374.2012.682254
    if NOT_A_PHONE_LABEL.search(text, max(start - 24, 0), start):
        return False  # VAT: 443 061 841, ISBN 978 3 16 148410 0, Order no. 702 555 0183
    if _fax(text, start):
        return False
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
    if not phonenumbers.is_valid_number(number) and not _mexican_mobile(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _mexican_mobile(number: phonenumbers.PhoneNumber) -> bool:
    """+52 1 55 8765 4321: Mexican mobiles were written with a "1" until 2019, and WhatsApp links
    and many pages still write it; the number is the one without it (changed in place)."""
    national = str(number.national_number)
    if number.country_code != 52 or len(national) != 11 or not national.startswith("1"):
        return False
    number.national_number = int(national[1:])
    return phonenumbers.is_valid_number(number)


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


def _fax(text: str, start: int) -> bool:
    label = FAX_LABEL.search(text, max(start - 24, 0), start)
    if label is None:
        return False
    return not PHONE_WORD.search(text, max(label.start() - 12, 0), label.start())


# Digits and punctuation written full width, as Japanese and Chinese pages write numbers (the
# digits U+FF10 to U+FF19, the hyphen U+FF0D, brackets, the colon U+FF1A, the plus U+FF0B), the
# ideographic space and the like, as their plain forms (NFKC).
def normalized(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


# German and Austrian switchboard writing: "089 / 12 34 56-0", "+49 (0) 89 / 123456-0", the
# area code, a slash, the subscriber's digits and, after a dash, the extension (-0 for the
# switchboard). It is one number, +49 89 1234560; the slash would otherwise cut it in two.
SWITCHBOARD = re.compile(
    r"[+0](?<![\w+\-./()][+0])(?:(?<=\+)\d{2,3} ?(?:\(0\) ?)?\d{1,5}|(?<=0)\d{1,5})"
    r" ?/ ?(\d(?: ?\d){2,11}+)(?: ?- ?(\d{1,5}+))?+(?![\d/])"
)


def _joined(match: re.Match) -> str:
    head = match.string[match.start() : match.start(1)].rstrip(" /")
    return f"{head} {match.group(1).replace(' ', '')}{match.group(2) or ''}"


# An IBAN (DE89 3704 0044 0532 0130 00): its groups of digits are no phone. Pages name it, so
# the pass runs only where the word is (it is a tenth of the hostile page's time otherwise).
IBAN = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}+(?: ?[A-Z0-9]{1,3})?+(?![A-Za-z0-9])")


def readable(lines: str) -> str:
    """The text as the phone pass reads it: plain digits, switchboard numbers joined, IBANs
    masked."""
    lines = normalized(lines)
    if "/" in lines:
        lines = SWITCHBOARD.sub(_joined, lines)
    if "IBAN" in lines or "Iban" in lines or "iban" in lines:  # written with its label
        lines = IBAN.sub(lambda m: "x" * len(m.group()), lines)
    return lines


def in_text(lines: str, limit: int) -> list[tuple[str, str]]:
    """Runs of digits in the page's text (readable), one line at a time, that are written as
    phones, each with its kind: text, or whatsapp where the line names WhatsApp just before."""
    written: list[tuple[str, str]] = []
    for match in PHONE.finditer(lines):
        # The pattern starts on a digit; an opening bracket just before it belongs to the number.
        start = match.start()
        if lines[max(start - 3, 0) : start].rstrip().endswith("("):
            start = lines.rindex("(", 0, start)
        if written_as_phone(lines, start, match.end()):
            label = WHATSAPP_LABEL.search(lines, max(start - 30, 0), start)
            written.append((lines[start : match.end()], WHATSAPP if label else TEXT))
        if len(written) > limit:
            break
    return written


# Messaging links carry a full international number without its plus: https://wa.me/<digits>,
# https://api.whatsapp.com/send?phone=<digits>&text=…, whatsapp://send?phone=…,
# viber://chat?number=…. Found by plain substring search (fast on any page), then read as URLs.
# In code and JSON the slashes may be escaped (https:\/\/wa.me\/34…).
MESSAGING_MARKS = {
    "wa.me/": WHATSAPP,
    "wa.me\\/": WHATSAPP,
    "whatsapp.com/send": WHATSAPP,
    "whatsapp.com\\/send": WHATSAPP,
    "whatsapp://send": WHATSAPP,
    "viber://": VIBER,
}
URL_TAIL = re.compile(r"[^\"'<>\s]{0,400}")
DIGITS = re.compile(r"\+?\d{6,15}")
MAX_LINKS = 50


def messaging_numbers(html: str) -> list[tuple[str, str]]:
    """The numbers of the page's WhatsApp and Viber links, written "+<digits>", with their kind."""
    found: list[tuple[str, str]] = []
    tried = 0
    for mark, kind in MESSAGING_MARKS.items():
        at = html.find(mark)
        while at != -1 and len(found) < MAX_LINKS and tried < 4 * MAX_LINKS:
            tried += 1
            tail_match = URL_TAIL.match(html, at + len(mark))  # matches always: it may be empty
            tail = tail_match.group() if tail_match else ""
            number = _link_number(mark, htmllib.unescape(tail))
            if number:
                found.append((number, kind))
            at = html.find(mark, at + len(mark))
    return found + plugin_numbers(html)


# WordPress's WhatsApp buttons keep their number in settings rather than a link: Joinchat (and
# WhatsApp me before it) in data-settings="{&quot;telephone&quot;:&quot;34…&quot;,…}", Click to
# Chat in data-settings and in var ht_ctc_chat_var = {"number": "34…", …}. Read only on pages that
# carry one of them.
PLUGIN_MARKS = ("joinchat", "whatsappsupport", "ht_ctc")
PLUGIN_SETTINGS = re.compile(r"""data-settings=["']([^<>]{0,3000}?)["']?[\s>]""")
PLUGIN_PHONE = re.compile(r'"(?:telephone|number)"\s*:\s*"(\+?\d{6,15})"')


def plugin_numbers(html: str) -> list[tuple[str, str]]:
    if not any(mark in html for mark in PLUGIN_MARKS):
        return []
    settings = [htmllib.unescape(s) for s in PLUGIN_SETTINGS.findall(html)[:5]]
    at = html.find("ht_ctc_chat_var")
    if at != -1:
        settings.append(html[at : at + 3000])
    found = []
    for text in settings:
        number = PLUGIN_PHONE.search(text)
        if number:
            found.append(("+" + number.group(1).lstrip("+"), WHATSAPP))
    return found


def _link_number(mark: str, tail: str) -> str | None:
    if mark.startswith("wa.me"):
        value = unquote(tail.split("?")[0].split("/")[0].split("\\")[0])
    else:
        query = parse_qs(urlsplit(tail).query)
        value = (query.get("phone") or query.get("number") or [""])[0]
    digits = DIGITS.fullmatch(value.replace(" ", "").replace("-", ""))
    return "+" + digits.group().lstrip("+") if digits else None


def clean_messaging(candidate: str, region: str | None) -> str | None:
    """A messaging link's number: international, or else national in the page's region."""
    return clean_phone(candidate, None) or clean_phone(candidate[1:], region)


def line_type(number: str) -> str | None:
    """What libphonenumber says the number is: mobile, fixed_line, fixed_line_or_mobile,
    toll_free, voip…"""
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None
    for name in dir(phonenumbers.PhoneNumberType):
        if not name.startswith("_") and getattr(phonenumbers.PhoneNumberType, name) == kind:
            return name.lower()
    return None
