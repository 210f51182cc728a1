"""Contacts that pages keep as data rather than text: microdata and RDFa attributes, JSON-LD
blocks, and the JSON that JavaScript frameworks carry in script blocks."""

from __future__ import annotations

import html as htmllib
import json
import re
from dataclasses import dataclass, field

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


def _walk_json_ld(
    node: object, emails: list[str], phones: list[str], names: list[tuple[str, str]], depth: int = 0
) -> None:
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


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value[:20] if isinstance(v, str)]
    return []


# Sites built with Next.js, Nuxt and the like render little HTML and carry their data in script
# blocks: <script id="__NEXT_DATA__" type="application/json">, Nuxt 3's __NUXT_DATA__, any other
# application/json block, and state assigned in code (window.__NUXT__=…, __INITIAL_STATE__,
# self.__next_f.push(…) of the app router). These are read as the JSON-LD pass reads its values:
# values under keys that name an email or a phone, and values that are whole addresses or
# numbers; never free text cut out of code. Bounded by size, depth and count.
SCRIPT_OPEN = re.compile(r"<[Ss][Cc][Rr][Ii][Pp][Tt](?![A-Za-z0-9-])([^>]{0,400})>")
SCRIPT_CLOSE = re.compile(r"</[Ss][Cc][Rr][Ii][Pp][Tt]")
JSON_TYPE = re.compile(r"""type\s*=\s*["']?application/json""", re.IGNORECASE)
STATE_MARKS = (
    "__NUXT__",
    "__NEXT_DATA__",
    "__INITIAL_STATE__",
    "__PRELOADED_STATE__",
    "__APOLLO_STATE__",
    "__INITIAL_PROPS__",
    "self.__next_f.push(",
)
DATA_CHARS = 2_000_000  # of all the page's data blocks together
MAX_DATA_BLOCKS = 40
MAX_NODES = 20_000  # values visited in all
MAX_DEPTH = 30
MAX_LITERALS = 5_000  # string literals read in code
CODE_CHARS = 512 * 1024  # of code read by its literals (JSON, parsed in C, may have all of DATA_CHARS)
WHATSAPP_KEY = re.compile(r"(?i)whats ?app")
PHONE_KEY = re.compile(r"(?i)phone|tel[eé]f|^tel(?:[_-]|$)|mobile|^m[oó]vil|celular|whats ?app|^handy$|^fon$")
EMAIL_KEY = re.compile(r"(?i)e-?mail|correo|^mail$")
# In code: key: "value" (the key bare or quoted), and every double- or single-quoted literal.
# The keyed pattern starts at the colon (a plain character the engine skips to in C) and the key
# is read back from there.
KEYED = re.compile(r""":\s*(?:"((?:[^"\\\n]|\\.){3,120}+)"|'((?:[^'\\\n]|\\.){3,120}+)')""")
KEY_BEFORE = re.compile(r"""(?<![\w$])([A-Za-z_$][\w$-]{0,40})["']?\s{0,3}$""")
LITERAL = re.compile(r""""((?:[^"\\\n]|\\.){5,120}+)"|'((?:[^'\\\n]|\\.){5,120}+)'""")
ASSIGNED = re.compile(r"\s*=\s*")


@dataclass
class Found:
    """What the data blocks hold: addresses, phones written as data (read in the page's
    region), and strings that only look like numbers (taken only when grouped as the
    region writes numbers)."""

    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    loose_phones: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # mailto:, tel:, wa.me… values, read as links
    blocks: int = 0
    nodes: int = 0


def script_blocks(html: str) -> list[tuple[str, str]]:
    """Each <script>'s attributes and body. Found with one forward scan: a script left open
    ends the search (nothing after it can close another), so the scan stays linear."""
    blocks: list[tuple[str, str]] = []
    position = 0
    while len(blocks) < 200:
        opened = SCRIPT_OPEN.search(html, position)
        if not opened:
            break
        closed = SCRIPT_CLOSE.search(html, opened.end())
        if not closed:
            break
        blocks.append((opened.group(1), html[opened.end() : closed.start()]))
        position = closed.end()
    return blocks


def from_data_blocks(html: str) -> Found:
    found = Found()
    if "<script" not in html and "<SCRIPT" not in html:
        return found
    budget = DATA_CHARS
    for attributes, body in script_blocks(html):
        if found.blocks >= MAX_DATA_BLOCKS or budget <= 0:
            break
        if "ld+json" in attributes.lower():
            continue  # the JSON-LD pass reads these
        if JSON_TYPE.search(attributes):
            body = body[:budget]
            budget -= len(body)
            found.blocks += 1
            _read_json(htmllib.unescape(body.strip()) if body.lstrip().startswith("&") else body, found)
        elif any(mark in body for mark in STATE_MARKS):
            body = body[:budget]
            budget -= len(body)
            found.blocks += 1
            _read_code(body, found)
    return found


def _read_json(text: str, found: Found) -> None:
    try:
        _walk_data(json.loads(text), found, None, 0)
    except (ValueError, RecursionError):
        _read_code(text, found)  # not JSON after all: read it as code, by its literals


def _read_code(code: str, found: Found) -> None:
    """State assigned in code: JSON after the '=' where it is JSON (often), else the code's
    keyed values and whole literals; the app router's pushed strings are read the same way."""
    for mark in STATE_MARKS:
        at = code.find(mark)
        if at == -1:
            continue
        start = at + len(mark)
        if mark.endswith("("):
            _read_pushed(code, start, found)
            return
        assigned = ASSIGNED.match(code, start)
        if assigned:
            try:
                value, _ = json.JSONDecoder().raw_decode(code, assigned.end())
            except (ValueError, RecursionError):
                break
            _walk_data(value, found, None, 0)
            return
    _read_literals(code, found)


def _read_pushed(code: str, start: int, found: Found) -> None:
    """self.__next_f.push([1, "…"]): each pushed string is the page's data, itself read as code."""
    decoder = json.JSONDecoder()
    at = start
    for _ in range(MAX_DATA_BLOCKS):
        try:
            value, _end = decoder.raw_decode(code, at)
        except (ValueError, RecursionError):
            break
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    _read_literals(item, found)
        at = code.find("self.__next_f.push(", at)
        if at == -1:
            break
        at += len("self.__next_f.push(")


def _read_literals(code: str, found: Found) -> None:
    """Keyed values first; then the literals no key claimed (a fax number under its key is not
    taken again as a whole number)."""
    code = code[:CODE_CHARS]
    claimed = set()
    for count, match in enumerate(KEYED.finditer(code)):
        if count >= MAX_LITERALS:
            break
        key = KEY_BEFORE.search(code, max(match.start() - 45, 0), match.start())
        if key:
            group = 1 if match.group(1) is not None else 2
            claimed.add(match.start(group))
            _take(key.group(1), _unescaped(match.group(group)), found)
    for count, match in enumerate(LITERAL.finditer(code)):
        if count >= MAX_LITERALS:
            break
        group = 1 if match.group(1) is not None else 2
        if match.start(group) not in claimed:
            _take(None, _unescaped(match.group(group)), found)


def _unescaped(literal: str) -> str:
    """A literal's escapes (\\u0040, \\/) read as JSON reads them."""
    if "\\" not in literal:
        return literal
    try:
        return json.loads(f'"{literal}"')
    except ValueError:
        return literal


def _walk_data(node: object, found: Found, key: str | None, depth: int) -> None:
    found.nodes += 1
    if depth > MAX_DEPTH or found.nodes > MAX_NODES:
        return
    if isinstance(node, dict):
        for name, value in node.items():
            _walk_data(value, found, str(name), depth + 1)
    elif isinstance(node, list):
        for item in node:
            _walk_data(item, found, key, depth + 1)
            if found.nodes > MAX_NODES:
                return
    elif isinstance(node, str):
        _take(key, node, found)
    elif isinstance(node, int) and not isinstance(node, bool) and key and PHONE_KEY.search(key):
        found.phones.append(str(node))


WHOLE_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,253}\.[A-Za-z]{2,24}")
# A whole value written as a phone: digits with a plus, brackets, dashes, dots or spaces.
# A bare run of digits is an id as often as a number, so a separator or a plus is required.
WHOLE_PHONE = re.compile(r"(?=.*[ ()./+\-])\+?\(?\d[\d ()./\-]{5,22}\d")
LINK_PREFIXES = ("mailto:", "tel:", "https://wa.me/", "https://api.whatsapp.com/", "whatsapp://", "viber://")


def _take(key: str | None, value: str, found: Found) -> None:
    value = value.strip()
    if len(value) > 200 or (key and "fax" in key.lower()):
        return
    if value.startswith(LINK_PREFIXES):
        found.links.append(value)
    elif key and EMAIL_KEY.search(key):
        found.emails.append(value)
    elif key and WHATSAPP_KEY.search(key):
        found.links.append(f"https://wa.me/{value}")  # read as the messaging link it stands for
    elif key and PHONE_KEY.search(key):
        found.phones.append(value)
    elif WHOLE_EMAIL.fullmatch(value):
        found.emails.append(value)
    elif WHOLE_PHONE.fullmatch(value):
        (found.phones if value.startswith("+") else found.loose_phones).append(value)
