"""Every SQL statement of the product, named, in one .sql file per domain beside its code
(shared/sending/sending.sql, shared/core/work.sql, ...).

A file holds statements introduced by `-- name: <name>` lines, as listmonk's queries/ do.
Names are unique across files, so a statement is found by its name alone.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
_HEADER = re.compile(r"^--\s*name:\s*([a-z0-9_-]+)\s*$", re.MULTILINE)


def parse(text: str, source: str = "<string>") -> dict[str, str]:
    parts = _HEADER.split(text)
    statements: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in statements:
            raise ValueError(f"{source}: statement {name!r} is defined twice")
        statements[name] = body.strip().rstrip(";")
    return statements


@lru_cache(maxsize=1)
def _all() -> dict[str, str]:
    statements: dict[str, str] = {}
    for path in sorted(PACKAGE_DIR.glob("**/*.sql")):
        for name, body in parse(path.read_text(encoding="utf-8"), path.name).items():
            if name in statements:
                raise ValueError(f"{path.name}: statement {name!r} is defined in another file too")
            statements[name] = body
    return statements


def sql(name: str) -> str:
    try:
        return _all()[name]
    except KeyError:
        raise KeyError(f"no SQL statement named {name!r} under {PACKAGE_DIR}") from None


def names() -> list[str]:
    return sorted(_all())
