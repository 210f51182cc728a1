"""Contact details from a page's raw HTML: emails (mailto, visible text, Cloudflare's
encodings, [at]/[dot] obfuscations, JSON-LD) and phones (tel links, JSON-LD, text), with the
false positives filtered out. Footers hold contacts, so this reads the whole page, not the
main text.

Every pattern is linear in the page size: a match can only start where the preceding
character could not belong to it (lookbehind), and quantifiers are possessive, so a run of
'@', dots or digits is scanned once. Where it can, a pattern begins with a plain character set
(the lookbehind comes after it, and case is spelled out rather than ignored): Python's regex
engine then skips ahead to the next position that could start a match in C instead of trying
a match at every position, which made the scan of a 5 MB page about twice as fast.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from lxml import etree
from lxml import html as lxml_html
from tld import get_tld

from shared.core import places

LOCAL = r"A-Za-z0-9._%+\-"
# A domain label is alphanumeric runs joined by hyphens, possessive so it never backtracks
# into itself; the labels may give back at most eight steps, so "write to a@b.com." still
# finds a@b.com before the sentence's full stop.
LABEL = r"[A-Za-z0-9]++(?:-++[A-Za-z0-9]++){0,20}+"
EMAIL = re.compile(
    rf"(?<![{LOCAL}])[{LOCAL}]{{1,64}}+@(?:{LABEL}\.){{1,8}}[A-Za-z]{{2,24}}+(?![A-Za-z0-9]|-[A-Za-z0-9])"
)
MAILTO = re.compile(r"""[Mm][Aa][Ii][Ll][Tt][Oo]:([^"'<>\s?]{3,320})""")
# tel:, tel:/, tel://, phone:, telephone:, callto: in any case; the value may be percent- or
# entity-encoded (tel:%2B…, WordPress's antispambot() writes mailto:&#105;&#110;…).
TEL = re.compile(
    r"""[TtPpCc](?i:(?<=[Tt])el(?:ephone)?|(?<=[Pp])hone|(?<=[Cc])allto):/{0,2}((?:[+0-9().\-\s]|%[0-9A-Fa-f]{2}|&#[xX]?[0-9A-Fa-f]{1,6};){5,40})"""
)
CFEMAIL = re.compile(
    r"""data-cfemail=["']([0-9a-fA-F]{4,400})["']|/cdn-cgi/l/email-protection#([0-9a-fA-F]{4,400})"""
)
# "name [at] domain [dot] com", "name (at) domain", "name <at> domain <dot> com", Spanish
# "(arroba)" and "(punto)", "name at domain [dot] com", read in the lower-cased text with its white
# space collapsed to single spaces. A bracketed word may have a space before it, which goes too;
# the match starts on the space or the bracket, whichever comes first (BRACKETED), so that the
# pattern begins with a character set.
BRACKETED = r"[ \[({<](?:(?<= )[\[({<]|(?<=[\[({<]))"
AT = re.compile(BRACKETED + r" ?(?:at|arroba) ?[\])}>] ?")
AT_WORD = re.compile(r" at (?=[a-z0-9-]{1,63} ?[\[(<] ?dot ?[\])>]) ?")
DOT = re.compile(BRACKETED + r" ?(?:dot|punto) ?[\])}>] ?")
# All in plain words, "sam at greenleaf-landscaping dot com": taken only where the words before it
# speak of writing or mail, and only for a top-level domain that exists (clean_email).
PLAIN = re.compile(
    r" at ([a-z0-9][a-z0-9-]{0,62}(?: dot [a-z0-9][a-z0-9-]{0,62}){0,3}) dot ([a-z]{2,24})(?![a-z0-9])"
)
MAIL_CUE = re.compile(r"e-?mail|mail|write|contact|reach|correo|escr[ií]b|kontakt|courriel")
# A plus must be followed by a digit; a number may not start inside a longer one.
PHONE = re.compile(r"[+\d](?<![\d+].)(?:(?<=\+)\d|(?<=\d))(?:[ ().\-]{0,3}+\d){6,14}+(?!\d)")
# White space other than the line breaks between blocks, read as plain spaces (str.translate is
# some twenty times faster than a regular expression on a 5 MB page).
SPACES = str.maketrans(dict.fromkeys("\t\x0b\x0c\r\xa0\u2007\u2009\u200a\u202f", " "))
# Microdata and RDFa values kept in attributes: <meta itemprop="telephone" content="+34…">,
# <div property="email" content="…">.
META_CONTACT = re.compile(
    r"""<[A-Za-z][A-Za-z0-9]{0,9}\s[^>]{0,400}?(?:itemprop|property)=["'](?:schema:|https?://schema\.org/)?"""
    r"""(telephone|email)["'][^>]{0,400}>"""
)
CONTENT = re.compile(r"""content=["']([^"'<>]{3,200})["']""")
JSON_LD = re.compile(
    r"""<script[^>]{0,200}?type=["']application/ld\+json["'][^>]{0,200}>(.*?)</script>""",
    re.IGNORECASE | re.DOTALL,
)

MAX_CANDIDATES = 200
PLACEHOLDER_DOMAINS = {
    "example.com",
    "example.org",
    "example.net",
    "domain.com",
    "yourdomain.com",
    "email.com",
    "company.com",
    "yourcompany.com",
    "mysite.com",
    "website.com",
    "sentry.io",
    "wixpress.com",
    "sentry-next.wixpress.com",
    "sentry.wixpress.com",
    "localhost",
}
PLACEHOLDER_LOCALS = {
    "you",
    "your",
    "yourname",
    "your.name",
    "name",
    "email",
    "user",
    "username",
    "firstname",
    "first.last",
    "john.doe",
    "jane.doe",
    "johndoe",
    "test",
    "example",
    "someone",
}
TRACKING_DOMAIN_PARTS = ("sentry", "wixpress", "mixpanel", "segment.io", "intercom", "hubspot-", "cloudflare")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".ico", ".bmp", ".tif", ".tiff")
HEXISH = re.compile(r"^[0-9a-f]{16,}$")


@dataclass
class Contacts:
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # email -> a person's name the page gives
    region: str | None = None  # the country the page says it is from, or its domain's


def decode_cfemail(hexstr: str) -> str | None:
    try:
        data = bytes.fromhex(hexstr)
    except ValueError:
        return None
    if len(data) < 2:
        return None
    key = data[0]
    try:
        return bytes(b ^ key for b in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None


def clean_email(candidate: str) -> str | None:
    """The address in canonical form, or None for a false positive or an invalid address."""
    candidate = unquote(candidate).strip().strip(".,;:").lower()
    local, _, domain = candidate.rpartition("@")
    if not local or not domain or len(candidate) > 254:
        return None
    if domain.endswith(IMAGE_SUFFIXES) or local.endswith(IMAGE_SUFFIXES) or re.search(r"@\d+x\.", candidate):
        return None
    if domain in PLACEHOLDER_DOMAINS or domain.endswith((".example", ".invalid", ".test", ".localhost")):
        return None
    if local in PLACEHOLDER_LOCALS or HEXISH.match(local):
        return None
    if any(part in domain for part in TRACKING_DOMAIN_PARTS):
        return None
    if registered_domain(domain) is None:
        return None
    try:
        valid = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        return None
    return valid.normalized.lower()


def registered_domain(domain: str) -> str | None:
    """The domain someone registered (studio.co.uk for mail.studio.co.uk), by the public suffix
    list; None for a public suffix itself (co.uk) or an unknown top-level domain."""
    found = get_tld(domain, fix_protocol=True, as_object=True, fail_silently=True)
    if found is None or found.fld == found.tld:
        return None
    return found.fld


def deobfuscate(text: str) -> str:
    """[at], (at) and [dot] written out, in text whose white space is single spaces; lower-cased."""
    text = text.lower()
    if "at" not in text and "arroba" not in text:
        return text
    text = PLAIN.sub(_plain_address, DOT.sub(".", AT_WORD.sub("@", AT.sub("@", text))))
    return text + _spaced_out(text)


# "m a i l@e x a m p l e.c o m", once [at] and [dot] are read: letters spaced out around an @.
SPACED_AT = re.compile(r"@(?<= [a-z0-9]@)")
SPACED_RUN = re.compile(r"[a-z0-9](?<![a-z0-9].)(?: [a-z0-9]){1,63}(?![a-z0-9])")


def _spaced_out(text: str) -> str:
    """The neighbourhood of each @ that follows a lone letter, with runs of lone letters joined,
    appended to the text (only there: joining them everywhere costs a pass over the whole page
    and would glue unrelated initials together)."""
    windows = []
    for match in SPACED_AT.finditer(text):
        window = text[max(match.start() - 130, 0) : match.end() + 130]
        windows.append(SPACED_RUN.sub(lambda run: run.group().replace(" ", ""), window))
        if len(windows) >= 20:
            break
    return "".join(" " + w for w in windows)


def _plain_address(match: re.Match) -> str:
    if not MAIL_CUE.search(match.string, max(match.start() - 60, 0), match.start() + 1):
        return match.group()
    return "@" + match.group(1).replace(" dot ", ".") + "." + match.group(2)


# Elements that start a new line on the page. A phone is read within one line, so the postal code
# ending one paragraph never runs into the number that starts the next (US footers), nor one
# list item or table cell into the next.
BLOCK_TAG = re.compile(
    r"<(?=/?(?:[Pp]|[Dd][Ii][Vv]|[Ll][Ii]|[Tt][DdHhRr]|[Bb][Rr]|[Hh][1-6]|[Uu][Ll]|[Oo][Ll]|[Dd][DdTt]|"
    r"[Tt][Aa][Bb][Ll][Ee]|[Ss][Ee][Cc][Tt][Ii][Oo][Nn]|[Aa][Dd][Dd][Rr][Ee][Ss][Ss]|[Ff][Oo][Oo][Tt][Ee][Rr])[\s/>])"
)


def with_line_breaks(html: str) -> str:
    """The page with its own line breaks made spaces (as a browser shows them) and a line break
    before every block element's tags."""
    return BLOCK_TAG.sub("\n<", html.replace("\r", " ").replace("\n", " "))


def visible_text(html: str) -> str:
    try:
        root = lxml_html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return ""
    for bad in root.iter("script", "style", "noscript", "template"):
        bad.text = ""
    return " ".join(root.itertext())


def _walk_json_ld(node, emails: list[str], phones: list[str], names: list[tuple[str, str]], depth=0) -> None:
    if depth > 20:
        return
    if isinstance(node, list):
        for item in node[:200]:
            _walk_json_ld(item, emails, phones, names, depth + 1)
    elif isinstance(node, dict):
        # A value may be one string or a list of them ("telephone": ["+34…", "+34…"]).
        addresses = [e.removeprefix("mailto:") for e in _strings(node.get("email"))]
        emails += addresses
        person = node.get("name")
        if node.get("@type") == "Person" and isinstance(person, str):
            names += [(address, person) for address in addresses]
        phones += [p.removeprefix("tel:") for p in _strings(node.get("telephone"))]
        for key, value in node.items():
            if key not in ("email", "telephone") and isinstance(value, (dict, list)):
                _walk_json_ld(value, emails, phones, names, depth + 1)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value[:20] if isinstance(v, str)]
    return []


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


HTML_LANG = re.compile(
    r"""<[Hh][Tt][Mm][Ll]\s[^>]{0,300}?\blang=["']?[A-Za-z]{2,3}[-_]([A-Za-z]{2})(?![A-Za-z])"""
)
OG_LOCALE = re.compile(r"""og:locale["'][^>]{0,100}?content=["'][A-Za-z]{2,3}_([A-Za-z]{2})(?![A-Za-z])""")
LINK_TAG = re.compile(r"<link\b[^>]{0,600}>", re.IGNORECASE)
HREFLANG = re.compile(r"""\bhreflang\s*=\s*["']?[A-Za-z]{2,3}[-_]([A-Za-z]{2})(?![A-Za-z])""", re.IGNORECASE)
HREF = re.compile(r"""\bhref\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
ADDRESS_COUNTRY = re.compile(r""""addressCountry"\s*:\s*(?:\{[^{}]{0,200}?"name"\s*:\s*)?"([A-Za-z]{2})\"""")
HEAD_CHARS = 64 * 1024


def page_region(html: str, json_ld: list[str], url: str = "") -> str | None:
    """The country the page says it is from: <html lang="en-GB">, og:locale, the hreflang of the
    alternate that is this very page, a JSON-LD address."""
    head = html[:HEAD_CHARS]
    found = (HTML_LANG.search(head), OG_LOCALE.search(head), _own_hreflang(head, url))
    for match in (*found, *map(ADDRESS_COUNTRY.search, json_ld)):
        if match and (region := _region(match.group(1))):
            return region
    return None


def _own_hreflang(head: str, url: str) -> re.Match | None:
    """<link rel="alternate" hreflang="en-GB" href="…"> naming this page: a site lists every
    language's version, and only the page's own says where it is from."""
    if not url:
        return None
    here = url.split("#")[0].rstrip("/")
    for tag in LINK_TAG.findall(head):
        lang, href = HREFLANG.search(tag), HREF.search(tag)
        if lang and href and urljoin(url, htmllib.unescape(href.group(1))).split("#")[0].rstrip("/") == here:
            return lang
    return None


def _region(code: str) -> str | None:
    code = "GB" if code.upper() == "UK" else code.upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


def region_for(
    url: str, language: str | None, page: str | None = None, zone: str | None = None
) -> str | None:
    """The phone region for national numbers: the page's own (page_region), then the site's
    country-code domain, then the campaign's language (es-MX, or es for Spain), then the country
    of the campaign's sending time zone."""
    if page:
        return page
    suffix = (urlsplit(url).hostname or "").rsplit(".", 1)[-1]
    if len(suffix) == 2 and (region := _region(suffix)):
        return region
    if language and "-" in language and (region := _region(language.split("-")[1])):
        return region
    by_language = {"es": "ES", "de": "DE", "fr": "FR", "it": "IT", "pt": "PT", "nl": "NL"}.get(
        (language or "")[:2]
    )
    return by_language or _region(places.zone_country(zone) or "")


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


def extract(html: str, url: str, language: str | None = None, zone: str | None = None) -> Contacts:
    raw_emails: list[str] = []
    raw_phones: list[str] = []
    named: list[tuple[str, str]] = []

    raw_emails += [
        unquote(htmllib.unescape(m)) for m in MAILTO.findall(html)[:MAX_CANDIDATES] for m in m.split(",")
    ]
    raw_phones += [htmllib.unescape(m) for m in TEL.findall(html)[:MAX_CANDIDATES]]
    for a, b in CFEMAIL.findall(html)[:MAX_CANDIDATES]:
        decoded = decode_cfemail(a or b)
        if decoded:
            raw_emails.append(decoded)
    for tag in META_CONTACT.finditer(html):
        value = CONTENT.search(tag.group())
        if value:
            (raw_phones if tag.group(1) == "telephone" else raw_emails).append(
                htmllib.unescape(value.group(1)).removeprefix("mailto:").removeprefix("tel:")
            )
    blocks = JSON_LD.findall(html)[:20]
    for block in blocks:
        try:
            _walk_json_ld(json.loads(htmllib.unescape(block.strip())), raw_emails, raw_phones, named)
        except (ValueError, RecursionError):
            continue

    lines = visible_text(with_line_breaks(html))
    text = " ".join(lines.split())
    for match in EMAIL.finditer(deobfuscate(text)):
        raw_emails.append(match.group())
        if len(raw_emails) > 4 * MAX_CANDIDATES:
            break
    lines = lines.translate(SPACES)
    written: list[str] = []
    for match in PHONE.finditer(lines):
        # The pattern starts on a digit; an opening bracket just before it belongs to the number.
        start = match.start()
        if lines[max(start - 3, 0) : start].rstrip().endswith("("):
            start = lines.rindex("(", 0, start)
        if written_as_phone(lines, start, match.end()):
            written.append(lines[start : match.end()])
        if len(written) > MAX_CANDIDATES:
            break

    region = region_for(url, language, page_region(html, blocks, url), zone)
    found = Contacts(region=region)
    for candidate in raw_emails:
        email = clean_email(candidate)
        if email and email not in found.emails:
            found.emails.append(email)
    phones = [clean_phone(c, region) for c in raw_phones] + [clean_written_phone(c, region) for c in written]
    for phone in phones:
        if phone and phone not in found.phones:
            found.phones.append(phone)
    for email, name in named:
        cleaned = clean_email(email)
        if cleaned:
            found.names[cleaned] = name.strip()[:100]
    return found


SUMMARY_HTML_MAX = 512 * 1024


def page_summary(html: str, url: str, max_chars: int = 4000) -> dict:
    """Main text and metadata (trafilatura), bounded, for the drafting stage.

    trafilatura reads the first 512 KB of the page: a business page's main text lies well
    within it, and trafilatura's time grows faster than the page on hostile input. Contacts
    are extracted from the whole page, footers included. The publication date is not used, so
    htmldate's search of the whole text for one is turned off (on a large page it took half of
    trafilatura's time).
    """
    import trafilatura  # only scrape_url loads it: it is heavy for a cold start

    html = html[:SUMMARY_HTML_MAX]
    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=False, favor_precision=True
    )
    meta = trafilatura.extract_metadata(
        html, default_url=url, date_config={"extensive_search": False, "original_date": False}
    )
    return {
        "title": meta.title or None,
        "description": meta.description or None,
        "site_name": meta.sitename or None,
        "text": (text or "")[:max_chars],
    }


NO_SUMMARY = {"title": None, "description": None, "site_name": None, "text": ""}


CONTACT_LINK = re.compile(r"contact|about|team|impressum|kontakt|contacto|nosotros|equipo|staff|people", re.I)


def contact_links(html: str, page_url: str, limit: int) -> list[str]:
    """Same-site links that look like contact, about, team or impressum pages."""
    try:
        root = lxml_html.document_fromstring(html, base_url=page_url)
    except (etree.ParserError, ValueError):
        return []
    root.make_links_absolute(page_url, resolve_base_href=True)
    site = urlsplit(page_url).netloc.lower()
    found: list[str] = []
    for anchor in root.iter("a"):
        href = anchor.get("href") or ""
        parts = urlsplit(href)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != site:
            continue
        label = f"{parts.path} {anchor.text_content()[:100]}"
        target = href.split("#")[0]
        if CONTACT_LINK.search(label) and target not in found and target.rstrip("/") != page_url.rstrip("/"):
            found.append(target)
            if len(found) >= limit:
                break
    return found
