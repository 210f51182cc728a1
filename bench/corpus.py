"""Contact extraction measured against other projects' own test cases (crawlee, ekstrakt,
cloudscraper, linkify, schema.org's examples, libphonenumber-js), read from a corpus kept
outside this repository, beside the checkout (CORPUS_DIR to point elsewhere); nothing of the
corpus is copied here. Recall and precision per source, emails and phones apart, in two
runs: as written, and with `example.*` rewritten to `acmeco.*` (extract drops example.* on
purpose, as placeholders). The misses and false positives of the second run are listed.

The peers' suites have no case of WhatsApp links, frameworks' JSON, full-width digits or
switchboard numbers, so a last row measures the project's own pages in those layouts
(`local/fixture_site/layouts/`, with what each holds in its `expected.json`)."""

from __future__ import annotations

import html
import json
import os
import re
import time
from collections import Counter
from pathlib import Path

import phonenumbers

from bench.common import ROOT, progress
from shared.discovery import contacts

CORPUS = Path(os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "corpus" / "extraction"))
LAYOUTS = ROOT / "local" / "fixture_site" / "layouts"
OWN = "own layouts"
SOURCES = (
    "crawlee",
    "crawlee-derived",
    "ekstrakt",
    "cloudscraper",
    "linkify",
    "schemaorg",
    "libphonenumber-js",
)
LISTED = 8  # misses and false positives listed per source and kind
# example before .com/.org/.net, however the dot is written; and spelled out letter by letter.
EXAMPLE = re.compile(
    r"example(?=\s*(?:\.|\[dot\]|\(dot\)|<dot>|&lt;dot&gt;|\{dot\}| dot )\s*(?:com|org|net)\b)", re.IGNORECASE
)
SPACED = re.compile(r"e x a m p l e", re.IGNORECASE)


def rewrite(text: str) -> str:
    return SPACED.sub("a c m e c o", EXAMPLE.sub("acmeco", text))


def page(case: dict, rewritten: bool) -> str:
    source = rewrite(case["input"]) if rewritten else case["input"]
    if case["kind"] == "text":
        return f"<html><body><p>{html.escape(source)}</p></body></html>"
    if case["kind"] == "html-fragment":
        return f"<html><body>{source}</body></html>"
    return source


def expected(case: dict, rewritten: bool) -> tuple[set[str], set[str], set[str]]:
    fix = rewrite if rewritten else (lambda s: s)
    emails = {fix(e).lower() for e in case["expected_emails"]}
    if case.get("expected_phones_e164") is not None:
        phones = set(case["expected_phones_e164"])
    else:
        phones = set()
        for written in case["expected_phones"]:
            try:
                number = phonenumbers.parse(written, case.get("region") or "US")
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                phones.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    neutral = {fix(n["item"] if isinstance(n, dict) else n).lower() for n in case.get("neutral") or []}
    for n in list(neutral):
        try:
            number = phonenumbers.parse(n, case.get("region") or "US")
            neutral.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        except phonenumbers.NumberParseException:
            pass
    return emails, phones, neutral


def measure(source: str, rewritten: bool) -> dict:
    data = json.loads((CORPUS / f"{source}.json").read_text())
    counts: Counter[str] = Counter()
    listed: dict[str, list[str]] = {"email miss": [], "email false": [], "phone miss": [], "phone false": []}
    started = time.perf_counter()
    for case in data["cases"]:
        found = contacts.extract(page(case, rewritten), case["url"], case.get("language"))
        emails, phones, neutral = expected(case, rewritten)
        for kind, want, got in (
            ("email", emails, {e.lower() for e in found.emails}),
            ("phone", phones, set(found.phones)),
        ):
            got -= neutral
            counts[f"{kind} tp"] += len(want & got)
            counts[f"{kind} fn"] += len(want - got)
            counts[f"{kind} fp"] += len(got - want)
            if case["negative"]:
                counts["negative fp"] += len(got)
            for label, values in ((f"{kind} miss", want - got), (f"{kind} false", got - want)):
                for value in sorted(values):
                    if len(listed[label]) < LISTED:
                        listed[label].append(f"{case['id']}: {value}")
        counts["cases"] += 1
        counts["negative"] += bool(case["negative"])
    return {"counts": dict(counts), "listed": listed, "seconds": time.perf_counter() - started}


def measure_layouts() -> dict:
    """The own layout pages: every page is a case; a page expected to hold nothing is negative."""
    pages = json.loads((LAYOUTS / "expected.json").read_text())["pages"]
    counts: Counter[str] = Counter()
    listed: dict[str, list[str]] = {"email miss": [], "email false": [], "phone miss": [], "phone false": []}
    started = time.perf_counter()
    for page in pages:
        found = contacts.extract((LAYOUTS / page["file"]).read_text(), page["url"])
        negative = not page["emails"] and not page["phones"]
        for kind, want, got in (
            ("email", set(page["emails"]), set(found.emails)),
            ("phone", set(page["phones"] + page.get("not_read", [])), set(found.phones)),
        ):
            counts[f"{kind} tp"] += len(want & got)
            counts[f"{kind} fn"] += len(want - got)
            counts[f"{kind} fp"] += len(got - want)
            counts["negative fp"] += len(got) if negative else 0
            for label, values in ((f"{kind} miss", want - got), (f"{kind} false", got - want)):
                listed[label] += [f"{page['file']}: {value}" for value in sorted(values)][:LISTED]
        counts["cases"] += 1
        counts["negative"] += negative
    return {"counts": dict(counts), "listed": listed, "seconds": time.perf_counter() - started}


def run() -> dict:
    if not CORPUS.is_dir():
        raise SystemExit(f"the corpus is not at {CORPUS} (set CORPUS_DIR)")
    results = {}
    for source in SOURCES:
        progress(f"corpus: {source}")
        results[source] = {"as written": measure(source, False), "example rewritten": measure(source, True)}
    progress(f"corpus: {OWN}")
    own = measure_layouts()
    results[OWN] = {"as written": own, "example rewritten": own}
    return results


def ratio(tp: int, other: int) -> str:
    return f"{tp / (tp + other):.2f}" if tp + other else "n/a"


def table(r: dict) -> str:
    lines = [
        "| source | cases (negative) | emails: recall / precision | same, example.* rewritten | phones: recall / precision | false finds on negative cases |",
        "|---|---:|---|---|---|---:|",
    ]
    for source, runs in r.items():
        plain, fixed = runs["as written"]["counts"], runs["example rewritten"]["counts"]
        lines.append(
            f"| {source} | {fixed['cases']:,} ({fixed['negative']:,})"
            f" | {ratio(plain.get('email tp', 0), plain.get('email fn', 0))} / {ratio(plain.get('email tp', 0), plain.get('email fp', 0))}"
            f" | **{ratio(fixed.get('email tp', 0), fixed.get('email fn', 0))} / {ratio(fixed.get('email tp', 0), fixed.get('email fp', 0))}**"
            f" ({fixed.get('email tp', 0)} found, {fixed.get('email fn', 0)} missed, {fixed.get('email fp', 0)} false)"
            f" | **{ratio(fixed.get('phone tp', 0), fixed.get('phone fn', 0))} / {ratio(fixed.get('phone tp', 0), fixed.get('phone fp', 0))}**"
            f" ({fixed.get('phone tp', 0)} found, {fixed.get('phone fn', 0)} missed, {fixed.get('phone fp', 0)} false)"
            f" | {fixed.get('negative fp', 0)} |"
        )
    lines += ["", "Misses and false finds (example.* rewritten; at most eight of each per source):", ""]
    for source, runs in r.items():
        listed = runs["example rewritten"]["listed"]
        items = [f"{label}: `{value}`" for label, values in listed.items() for value in values]
        if items:
            lines.append(f"- **{source}**: " + "; ".join(items))
    return "\n".join(lines)
