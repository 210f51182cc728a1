"""Time of the main command from start to summary, and when each stage finished."""

from __future__ import annotations

import re
import tempfile
import time

from bench.common import fresh_database, progress, run_child


def run() -> dict:
    with fresh_database() as url, tempfile.TemporaryDirectory() as data:
        progress("local run: python -m local.run")
        started = time.perf_counter()
        out = run_child(["-m", "local.run", "--tick", "2"], DATABASE_URL=url, DATA_DIR=data).stdout
        total = time.perf_counter() - started
    stages = {
        m[1].strip(): float(m[2])
        for m in re.finditer(r"^(search tasks|sites|contacts|sent)\s+\d+\s+([\d.]+)s", out, re.MULTILINE)
    }
    counts = {
        m[1].strip(): int(m[2])
        for m in re.finditer(
            r"^(search tasks|sites|contacts|drafts \(emails\)|sent)\s+(\d+)", out, re.MULTILINE
        )
    }
    return {"total_s": total, "stages": stages, "counts": counts}


def table(r: dict) -> str:
    lines = ["| stage | rows | finished after |", "|---|---:|---:|"]
    names = {
        "search tasks": "search (run_search)",
        "sites": "scrape (scrape_url)",
        "contacts": "draft (draft_message)",
        "sent": "send (send_due, first step)",
    }
    for key, label in names.items():
        lines.append(f"| {label} | {r['counts'].get(key, 0)} | {r['stages'].get(key, 0):.1f} s |")
    lines.append(f"| whole command, process start to summary | | **{r['total_s']:.1f} s** |")
    return "\n".join(lines)
