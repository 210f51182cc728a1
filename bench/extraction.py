"""Extraction (emails, phones, trafilatura) on a 200 KB business page, a 5 MB hostile page and
a 2 MB page of hostile script data (what the frameworks' JSON pass reads), against a bare
re.findall email scan of the same text in the same run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

from bench.common import ROOT, peak_rss_mb, progress, run_child

BARE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def business_page() -> str:
    """A realistic page of about 200 KB: the fixture studio's page with a long schedule and blog."""
    base = (ROOT / "local" / "fixture_site" / "sunrise-yoga.html").read_text()
    head, _, tail = base.partition("</main>")
    posts = []
    for i in range(700):
        posts.append(
            f"<section><h2>Class {i}: vinyasa flow</h2><p>Join teacher Ana on day {i % 7} at {7 + i % 12}:00 "
            f"for a {45 + i % 4 * 15}-minute class. Mats provided; arrive ten minutes early. Call "
            f"(305) 674-{1200 + i:04d} to book or write to classes{i}@sunriseyoga.studio.</p>"
            f"<a href='/class/{i}'>More</a> <img src='/img/class{i}@2x.png'></section>"
        )
    page = head + "".join(posts) + "</main>" + tail
    return page


def hostile_page() -> str:
    """About 5 MB of what makes naive patterns backtrack: runs of @, dots, digits and near-addresses."""
    parts = [
        "@" * 500_000,
        "." * 500_000,
        "1" * 500_000,
        "a@" * 250_000,
        "a." * 250_000,
        "1-" * 250_000,
        ("x" * 60 + "@" + "y" * 60 + ".") * 8_000,
        " 5" * 250_000,
        "[at] [dot] " * 45_000,
        "-" * 500_000,
    ]
    return "<html><body><p>" + "".join(parts) + "</p></body></html>"


def hostile_data_page() -> str:
    """About 2 MB (the fetcher's cap) of script data made to cost: JSON that breaks after its
    first object (so it is read again as code), deep nesting, framework state full of keyed
    values and quotes, and WhatsApp links with no number."""
    parts = [
        "<html><head><script type='application/json'>" + '{"phone": "1"},' * 40_000 + "</script>",
        "<script type='application/json'>" + "[" * 20_000 + "</script>",
        "<script>window.__NUXT__=(function(a){return {"
        + 'k:"+1 (555) 000-0000",e:"a@b",' * 15_000
        + "}}())</script>",
        "<script>self.__next_f.push([1," + '"\\"' * 50_000 + "])</script>",
        "</head><body>" + "<a href='https://wa.me/x'>w</a>" * 10_000,
        "<p>" + "'\"" * 100_000 + "</p></body></html>",
    ]
    return "".join(parts)


BARE_LIMIT = 30.0


def measure(kind: str, page_kind: str, repeat: int, limit: float | None = None) -> dict:
    """Best time over `repeat` runs (wall and CPU: on a shared machine the CPU time is closer to
    what the code costs), and the growth of peak RSS (C allocations by lxml included), measured
    in a child process so one measurement does not inherit another's peak. A run past `limit`
    seconds is stopped and reported as such."""
    try:
        out = run_child(["-m", "bench.extraction", kind, page_kind, str(repeat)], timeout=limit)
    except subprocess.TimeoutExpired:
        return {"ms": None, "mb": None}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(kind: str, page_kind: str, repeat: int) -> None:
    from shared.discovery import contacts, summary

    page = {
        "business": business_page,
        "hostile": hostile_page,
        "hostile-100k": lambda: hostile_page()[:100_000],
        "data": hostile_data_page,
    }[page_kind]()
    operation = {
        "contacts": lambda: contacts.extract(page, "https://sunriseyoga.studio/"),
        "summary": lambda: summary.page_summary(page, "https://sunriseyoga.studio/"),
        "bare": lambda: BARE.findall(page),
    }[kind]
    before = peak_rss_mb()
    best = cpu = float("inf")
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = operation()
        best = min(best, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    grown = peak_rss_mb() - before
    found = {"emails": len(result.emails), "phones": len(result.phones)} if kind == "contacts" else {}
    print(json.dumps({"ms": best * 1000, "cpu_ms": cpu * 1000, "mb": grown, **found}))


def run() -> dict:
    rows = []
    pages = {"business": business_page, "hostile": hostile_page, "data": hostile_data_page}
    for label, page_kind, repeat in (
        ("business page", "business", 5),
        ("hostile page", "hostile", 3),
        ("hostile script data", "data", 3),
    ):
        page = pages[page_kind]()
        size_kb = len(page.encode()) / 1024
        progress(f"extraction: {label}, {size_kb:,.0f} KB")
        contacts = measure("contacts", page_kind, repeat)
        summary = measure("summary", page_kind, repeat)
        bare = measure("bare", page_kind, 1, limit=BARE_LIMIT)
        bare_100k = measure("bare", "hostile-100k", 1, limit=BARE_LIMIT) if page_kind == "hostile" else None
        rows.append(
            {
                "page": label,
                "size_kb": size_kb,
                "contacts_ms": contacts["ms"],
                "contacts_cpu_ms": contacts["cpu_ms"],
                "contacts_mb": contacts["mb"],
                "summary_ms": summary["ms"],
                "summary_mb": summary["mb"],
                "bare_ms": bare["ms"],
                "total_ms": contacts["ms"] + summary["ms"],
                "bare_100k_ms": bare_100k["ms"] if bare_100k else None,
                "emails": contacts["emails"],
                "phones": contacts["phones"],
            }
        )
    return {"rows": rows}


def bare(r: dict) -> str:
    if r["bare_ms"] is None:
        first = f"; {r['bare_100k_ms']:,.0f} ms on its first 100 KB" if r.get("bare_100k_ms") else ""
        return f"did not finish in {BARE_LIMIT:.0f} s{first}"
    return f"{r['bare_ms']:,.1f} ms"


def ratio(r: dict) -> str:
    if r["bare_ms"] is None:
        return f"bare is over {BARE_LIMIT * 1000 / r['contacts_ms']:,.0f}x slower"
    return f"{r['contacts_ms'] / max(r['bare_ms'], 0.001):.1f}x"


def table(result: dict) -> str:
    lines = [
        "| page | size | contacts (emails + phones) | trafilatura main text | extraction in all "
        "| bare `re.findall` email scan | contacts / bare | found |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['page']} | {r['size_kb']:,.0f} KB | {r['contacts_ms']:,.0f} ms ({r['contacts_cpu_ms']:,.0f} ms CPU), {r['contacts_mb']:.0f} MB peak "
            f"| {r['summary_ms']:,.0f} ms, {r['summary_mb']:.0f} MB peak | **{r['total_ms']:,.0f} ms** "
            f"| {bare(r)} | {ratio(r)} | {r['emails']} emails, {r['phones']} phones |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], int(sys.argv[3]))
