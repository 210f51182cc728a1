"""Which country a page's national phone numbers belong to: what the page says (its language
tag, og:locale, its own hreflang, a JSON-LD address), then the site's domain, the campaign's
language and its sending time zone."""

from __future__ import annotations

import html as htmllib
import re
from urllib.parse import urljoin, urlsplit

import phonenumbers

from shared.core import places

HTML_LANG = re.compile(
    r"""<[Hh][Tt][Mm][Ll]\s[^>]{0,300}?\blang=["']?[A-Za-z]{2,3}[-_]([A-Za-z]{2})(?![A-Za-z])"""
)
OG_LOCALE = re.compile(r"""og:locale["'][^>]{0,100}?content=["'][A-Za-z]{2,3}_([A-Za-z]{2})(?![A-Za-z])""")
LINK_TAG = re.compile(r"<link\b[^>]{0,600}>", re.IGNORECASE)
HREFLANG = re.compile(r"""\bhreflang\s*=\s*["']?[A-Za-z]{2,3}[-_]([A-Za-z]{2})(?![A-Za-z])""", re.IGNORECASE)
HREF = re.compile(r"""\bhref\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
ADDRESS_COUNTRY = re.compile(r""""addressCountry"\s*:\s*(?:\{[^{}]{0,200}?"name"\s*:\s*)?"([A-Za-z]{2})\"""")
HEAD_CHARS = 64 * 1024
# <html lang="ja">: a language spoken as a first language in one country only says where the
# page is from even without a region (Japanese pages rarely give one).
BARE_LANG = re.compile(r"""<[Hh][Tt][Mm][Ll]\s[^>]{0,300}?\blang=["']?([A-Za-z]{2})(?![A-Za-z_-])""")
ONE_COUNTRY_LANGUAGES = {"ja": "JP", "ko": "KR"}


def page_region(html: str, json_ld: list[str], url: str = "") -> str | None:
    """The country the page says it is from: <html lang="en-GB">, og:locale, the hreflang of the
    alternate that is this very page, a JSON-LD address; then a language of one country."""
    head = html[:HEAD_CHARS]
    found = (HTML_LANG.search(head), OG_LOCALE.search(head), _own_hreflang(head, url))
    for match in (*found, *map(ADDRESS_COUNTRY.search, json_ld)):
        if match and (region := _region(match.group(1))):
            return region
    bare = BARE_LANG.search(head)
    return ONE_COUNTRY_LANGUAGES.get(bare.group(1).lower()) if bare else None


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
