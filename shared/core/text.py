"""Text from outside (a model's answer, inbound mail, a site's page) made safe to store and show:
control characters (NUL among them, which PostgreSQL text cannot hold) and direction overrides
dropped."""

from __future__ import annotations

import unicodedata
from typing import TypeVar, overload

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Anything else (a None, a number from a model's JSON) passes through as it came.
T = TypeVar("T")


def _visible(c: str) -> bool:
    return unicodedata.category(c) != "Cc" and c not in BIDI_CONTROLS


@overload
def one_line(text: str) -> str: ...
@overload
def one_line(text: T) -> T: ...
def one_line(text: object) -> object:
    """A subject as a model may write it: control characters (NUL, VT, FF, FS…) and direction
    overrides dropped, every kind of line break and space folded into one space."""
    if not isinstance(text, str):
        return text
    return " ".join("".join(c if _visible(c) else " " for c in text).split())


@overload
def plain_text(text: str) -> str: ...
@overload
def plain_text(text: T) -> T: ...
def plain_text(text: object) -> object:
    """A body: lines kept (any line break becomes \\n), tabs kept, other control characters dropped."""
    if not isinstance(text, str):
        return text
    lines = text.replace("\r\n", "\n").splitlines()
    return "\n".join("".join(c for c in line if c == "\t" or _visible(c)) for line in lines).strip()
