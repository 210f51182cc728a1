"""Contact details from a page's raw HTML: emails (emails.py), phones (phones.py), both also
from structured data (structured.py), read in the country the page is from (region.py); and
the links to a site's contact, about and team pages. Footers hold contacts, so this reads the
whole page, not the main text."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from lxml import etree
from lxml import html as lxml_html

from shared.discovery import emails, phones, region, structured

MAX_CANDIDATES = 200


@dataclass
class Contacts:
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # email -> a person's name the page gives
    region: str | None = None  # the country the page says it is from, or its domain's
    phone_kinds: dict[str, str] = field(default_factory=dict)  # phone -> how it was given (phones.KINDS)
    # Nothing to read in the HTML: the page's content appears only once its scripts run.
    rendered_by_javascript: bool = False


# A page whose visible text is shorter than this, and which has scripts, is drawn by them.
SCRIPTED_TEXT_CHARS = 200


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


def extract(html: str, url: str, language: str | None = None, zone: str | None = None) -> Contacts:
    """The emails, phones and named people of one page; national numbers read in the country the
    page is from (region.region_for)."""
    raw_emails: list[str] = []
    raw_phones: list[tuple[str, str]] = []  # (candidate, kind)
    named: list[tuple[str, str]] = []
    _from_links(html, raw_emails, raw_phones)
    attribute_phones: list[str] = []
    structured.from_attributes(html, raw_emails, attribute_phones)
    blocks = structured.json_ld_blocks(html)
    json_ld_phones: list[str] = []
    structured.from_json_ld(blocks, raw_emails, json_ld_phones, named)
    raw_phones += [(p, phones.DATA) for p in attribute_phones + json_ld_phones]
    data = structured.from_data_blocks(html)
    _from_data(data, raw_emails, raw_phones)
    raw_phones += phones.messaging_numbers(html)  # after the numbers to call, as a second choice

    lines = phones.normalized(visible_text(with_line_breaks(html)))
    text = " ".join(lines.split())
    raw_emails += emails.in_text(text, 4 * MAX_CANDIDATES - len(raw_emails))
    written = phones.in_text(phones.readable(lines.translate(phones.SPACES)), MAX_CANDIDATES)

    page_region = region.region_for(url, language, region.page_region(html, blocks, url), zone)
    found = _cleaned(raw_emails, raw_phones, written, data.loose_phones, named, page_region)
    found.rendered_by_javascript = len(text) < SCRIPTED_TEXT_CHARS and bool(
        structured.SCRIPT_OPEN.search(html)
    )
    return found


def _from_links(html: str, raw_emails: list[str], raw_phones: list[tuple[str, str]]) -> None:
    """mailto: and tel: links, and Cloudflare's encoded addresses."""
    raw_emails += [
        unquote(htmllib.unescape(m))
        for m in emails.MAILTO.findall(html)[:MAX_CANDIDATES]
        for m in m.split(",")
    ]
    raw_phones += [(htmllib.unescape(m), phones.LINK) for m in phones.TEL.findall(html)[:MAX_CANDIDATES]]
    for a, b in emails.CFEMAIL.findall(html)[:MAX_CANDIDATES]:
        decoded = emails.decode_cfemail(a or b)
        if decoded:
            raw_emails.append(decoded)


def _from_data(data: structured.Found, raw_emails: list[str], raw_phones: list[tuple[str, str]]) -> None:
    """What a framework's JSON holds; its mailto:, tel: and messaging links read as links."""
    raw_emails += data.emails[:MAX_CANDIDATES]
    raw_phones += [(p, phones.DATA) for p in data.phones[:MAX_CANDIDATES]]
    for link in data.links[:MAX_CANDIDATES]:
        if link.startswith("mailto:"):
            raw_emails.append(unquote(link.removeprefix("mailto:").split("?")[0]))
        elif link.startswith("tel:"):
            raw_phones.append((link.removeprefix("tel:"), phones.LINK))
        else:
            raw_phones += phones.messaging_numbers(link)


def _cleaned(
    raw_emails: list[str],
    raw_phones: list[tuple[str, str]],
    written: list[tuple[str, str]],
    loose: list[str],
    named: list[tuple[str, str]],
    page_region: str | None,
) -> Contacts:
    """The candidates in canonical form, false positives dropped, each once in page order."""
    found = Contacts(region=page_region)
    for candidate in raw_emails:
        email = emails.clean_email(candidate)
        if email and email not in found.emails:
            found.emails.append(email)
    # A candidate repeated (a number in every product's data) is cleaned once: libphonenumber
    # takes a millisecond or two a number.
    numbers = [(_clean_given(c, kind, page_region), kind) for c, kind in dict.fromkeys(raw_phones)]
    numbers += [(phones.clean_written_phone(c, page_region), kind) for c, kind in dict.fromkeys(written)]
    numbers += [(phones.grouped(c, page_region), phones.DATA) for c in dict.fromkeys(loose[:MAX_CANDIDATES])]
    for phone, kind in numbers:
        if phone and phone not in found.phones:
            found.phones.append(phone)
            found.phone_kinds[phone] = kind
        elif phone and kind in (phones.WHATSAPP, phones.VIBER):
            found.phone_kinds[phone] = kind  # a number the page also links to a messenger
    for email, name in named:
        cleaned = emails.clean_email(email)
        if cleaned:
            found.names[cleaned] = name.strip()[:100]
    return found


def _clean_given(candidate: str, kind: str, page_region: str | None) -> str | None:
    if kind in (phones.WHATSAPP, phones.VIBER):
        return phones.clean_messaging(candidate, page_region)
    return phones.clean_phone(phones.normalized(candidate), page_region)


CONTACT_LINK = re.compile(
    r"contact|cont[áa]ct|about|team|impressum|kontakt|nosotros|equipo|staff|people|"
    r"お問い合わせ|問い合わせ|問合せ|会社概要|联系|聯絡|聯繫|关于我们|關於我們",
    re.I,
)


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
