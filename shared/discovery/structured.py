"""Contacts that pages keep as data rather than text: microdata and RDFa attributes, and
JSON-LD blocks."""

from __future__ import annotations

import html as htmllib
import json
import re

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


MAX_BLOCKS = 20


def from_attributes(html: str, emails: list[str], phones: list[str]) -> None:
    for tag in META_CONTACT.finditer(html):
        value = CONTENT.search(tag.group())
        if value:
            (phones if tag.group(1) == "telephone" else emails).append(
                htmllib.unescape(value.group(1)).removeprefix("mailto:").removeprefix("tel:")
            )


def json_ld_blocks(html: str) -> list[str]:
    return JSON_LD.findall(html)[:MAX_BLOCKS]


def from_json_ld(
    blocks: list[str], emails: list[str], phones: list[str], names: list[tuple[str, str]]
) -> None:
    """Each block's email and telephone values, and the names of the people they belong to;
    a block that does not parse is left out."""
    for block in blocks:
        try:
            _walk_json_ld(json.loads(htmllib.unescape(block.strip())), emails, phones, names)
        except (ValueError, RecursionError):
            continue


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
